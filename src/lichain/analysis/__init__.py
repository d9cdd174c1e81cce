"""lichain.analysis"""
