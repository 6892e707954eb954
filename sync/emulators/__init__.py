"""Loopback stand-ins for the remote APIs, for tests and for the demo mode."""
