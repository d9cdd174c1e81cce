"""lichain: the data side of the lithium-battery materials chain."""
__version__ = "0.1.0"
