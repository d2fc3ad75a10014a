"""Graph access: the :class:`GraphStore` port and its FalkorDB / Neo4j adapters."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from app.config import Settings
from app.graph.embedded import EmbeddedError, EmbeddedServer
from app.graph.store import (
    ConstraintViolation,
    GraphError,
    GraphLimitExceeded,
    GraphStore,
    GraphTimeout,
    GraphUnavailable,
    Row,
    StatementLimits,
)

__all__ = [
    "ConstraintViolation",
    "EmbeddedError",
    "EmbeddedServer",
    "GraphError",
    "GraphLimitExceeded",
    "GraphStore",
    "GraphTimeout",
    "GraphUnavailable",
    "Row",
    "StatementLimits",
    "embedded_server",
    "open_store",
]


def limits_of(settings: Settings) -> StatementLimits:
    """The per-statement bounds named by the settings."""
    return StatementLimits(
        timeout_ms=settings.graph_timeout_ms, heavy_concurrency=settings.graph_heavy_concurrency
    )


def embedded_server(settings: Settings) -> EmbeddedServer:
    """The embedded server named by an ``embedded://DIR`` graph URI (not started)."""
    raw = settings.graph_uri[len("embedded://") :] or str(settings.data_dir / "graph")
    return EmbeddedServer(
        Path(raw),
        timeout_ms=settings.graph_timeout_ms,
        query_mem_bytes=settings.graph_query_memory_mb * 1024 * 1024,
        fsync=settings.graph_fsync,
    )


def open_store(settings: Settings) -> GraphStore:
    """Build the store named by ``BATON_GRAPH_URI`` (starting the embedded server if asked)."""
    uri = settings.graph_uri
    scheme = urlparse(uri).scheme
    if scheme == "embedded":
        from app.graph.falkordb import FalkorStore

        server = embedded_server(settings)
        info = server.start()
        store = FalkorStore.at(
            info.uri,
            settings.graph_name,
            settings.pool_size,
            limits=limits_of(settings),
            embedding_dim=settings.vector_dim,
        )
        store.embedded = server
        store.on_close.append(server.stop)
        return store
    if scheme in {"falkordb", "falkordb+unix"}:
        from app.graph.falkordb import FalkorStore

        return FalkorStore.at(
            uri,
            settings.graph_name,
            settings.pool_size,
            limits=limits_of(settings),
            embedding_dim=settings.vector_dim,
        )
    if scheme in {"neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"}:
        from app.graph.neo4j import Neo4jStore

        database = settings.graph_name if settings.graph_name != "baton" else "neo4j"
        return Neo4jStore(
            uri,
            settings.neo4j_user,
            settings.neo4j_password,
            database,
            settings.pool_size,
            limits=limits_of(settings),
            embedding_dim=settings.vector_dim,
        )
    raise ValueError(f"BATON_GRAPH_URI scheme {scheme!r} not supported: {uri}")
