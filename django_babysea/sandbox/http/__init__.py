"""The HTTP layer: the listener, the route tables, envelopes and per-account rate limits."""
