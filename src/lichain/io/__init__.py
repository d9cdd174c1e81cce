"""lichain.io"""
