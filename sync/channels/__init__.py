"""Sales-channel connectors: each turns one channel's API into NormalizedOrder pages and takes outbox messages back."""
