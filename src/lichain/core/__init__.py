"""lichain.core"""
