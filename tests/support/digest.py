"""A digest of a whole graph, to prove a rejected request changed nothing."""

from __future__ import annotations

import hashlib
import json

from app.graph import GraphStore


async def graph_digest(store: GraphStore) -> str:
    """Hash of every node's labels and properties and every edge (order-independent).

    ``_lk`` is lock plumbing (a conditional statement bumps it to take the write lock before
    re-checking, then may write nothing else), not state, so it is left out."""
    nodes = await store.execute_text("MATCH (n) RETURN labels(n) AS l, properties(n) AS p")
    for n in nodes:
        n["p"] = {k: v for k, v in (n["p"] or {}).items() if k != "_lk"}
    edges = await store.execute_text(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, a.id AS a, b.id AS b"
    )
    items = sorted(json.dumps(x, sort_keys=True, default=str) for x in nodes + edges)
    return hashlib.sha256("\n".join(items).encode()).hexdigest()
