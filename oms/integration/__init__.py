"""Integration: what sync keeps in the database about the outside world.

Connectors' settings and state (online, last error, counts), cursors, quarantined payloads
that could not be read, stock levels told to channels, and the overview the Sync screen
and status bar show. Secrets are never here: they live in the OS keyring."""
