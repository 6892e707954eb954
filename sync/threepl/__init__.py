"""3PL connections: a third-party warehouse that ships our orders from one of our locations.

Each module here with a ``SPEC`` is a kind of 3PL connection in the connector registry (role ``threepl``)."""
