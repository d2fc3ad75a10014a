"""Graph access: the :class:`GraphStore` port and its FalkorDB / Neo4j adapters."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from app.config import Settings
from app.graph.embedded import EmbeddedError, EmbeddedServer
from app.graph.store import ConstraintViolation, GraphError, GraphStore, Row

__all__ = [
    "ConstraintViolation",
    "EmbeddedError",
    "EmbeddedServer",
    "GraphError",
    "GraphStore",
    "Row",
    "open_store",
]


def open_store(settings: Settings) -> GraphStore:
    """Build the store named by ``BATON_GRAPH_URI`` (starting the embedded server if asked)."""
    uri = settings.graph_uri
    scheme = urlparse(uri).scheme
    if scheme == "embedded":
        from app.graph.falkordb import FalkorStore

        raw = uri[len("embedded://") :] or str(settings.data_dir / "graph")
        server = EmbeddedServer(Path(raw))
        info = server.start()
        store = FalkorStore.at(info.uri, settings.graph_name, settings.pool_size)
        store.on_close.append(server.stop)
        return store
    if scheme in {"falkordb", "falkordb+unix"}:
        from app.graph.falkordb import FalkorStore

        return FalkorStore.at(uri, settings.graph_name, settings.pool_size)
    if scheme in {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}:
        from app.graph.neo4j import Neo4jStore

        database = settings.graph_name if settings.graph_name != "baton" else "neo4j"
        return Neo4jStore(
            uri, settings.neo4j_user, settings.neo4j_password, database, settings.pool_size
        )
    raise ValueError(f"BATON_GRAPH_URI scheme {scheme!r} not supported: {uri}")
