"""benchseal.reports"""
