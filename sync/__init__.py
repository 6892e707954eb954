"""Connectors to sales channels and carriers, and the engine that runs them; no GUI toolkit here."""
