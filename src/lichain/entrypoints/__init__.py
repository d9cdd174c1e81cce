"""lichain.entrypoints"""
