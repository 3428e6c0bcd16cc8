"""benchseal.evaluators"""
