"""Normalise driver values into plain Python so no backend type escapes ``app/graph``."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """Turn nodes/relationships/paths of either driver into dicts and lists, recursively."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    props = getattr(value, "properties", None)  # FalkorDB Node / Edge
    if isinstance(props, dict):
        return {k: plain(v) for k, v in props.items()}
    items = getattr(value, "items", None)  # neo4j Node / Relationship
    if callable(items):
        return {k: plain(v) for k, v in items()}
    nodes = getattr(value, "nodes", None)  # paths
    if nodes is not None:
        return [plain(n) for n in (nodes() if callable(nodes) else nodes)]
    return value
