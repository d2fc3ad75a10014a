"""Connectors: build the org graph from what enterprises already keep (Backstage, ...)."""
