"""Quayside's domain: orders, inventory and fulfilment, free of any GUI toolkit."""

__version__ = "0.1.0"
