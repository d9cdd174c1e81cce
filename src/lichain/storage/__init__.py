"""lichain.storage"""
