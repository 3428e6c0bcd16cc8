"""benchseal.claims"""
