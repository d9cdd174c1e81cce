"""lichain.services"""
