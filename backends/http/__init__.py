"""The HTTP adapter pair: ``driftdeck serve`` (server) and ``HttpSource`` (client)."""
