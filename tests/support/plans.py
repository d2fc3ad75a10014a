"""A statement's plan on the embedded FalkorDB server (`GRAPH.EXPLAIN`), one operator per line,
for tests that check which indexes a statement uses."""

from __future__ import annotations

import redis

from app.graph.embedded import SCHEME
from app.graph.falkordb import FalkorStore
from tests.support.graphs import GraphTarget


def falkordb_plan(graph: GraphTarget, store: FalkorStore, text: str, params: str = "") -> list[str]:
    """The plan of ``text`` on ``store``'s graph; ``params`` is a ``CYPHER a=1 b='x'`` prefix
    (literals: only the planner sees them)."""
    conn = redis.Redis(unix_socket_path=graph.uri.removeprefix(SCHEME))  # the embedded server
    try:
        plan = conn.execute_command("GRAPH.EXPLAIN", store.graph_name, f"{params} {text}".strip())
    finally:
        conn.close()
    return [line.decode().strip() for line in plan]
