"""benchseal.hw"""
