"""benchseal.bench"""
