"""Carrier connectors: rates, labels, refunds and tracking from one carrier API each."""
