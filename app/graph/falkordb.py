"""FalkorDB over its native protocol (the ``falkordb`` asyncio client on a redis pool)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import unquote, urlparse

import redis.asyncio as aioredis
from falkordb.asyncio import FalkorDB
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.graph.embedded import EmbeddedServer
from app.graph.queries import Queries, load, property_keys, q, schema_statements
from app.graph.store import (
    DEFAULT_EMBEDDING_DIM,
    ConstraintViolation,
    GraphError,
    GraphLimitExceeded,
    GraphTimeout,
    GraphUnavailable,
    Row,
    StatementLimits,
    reraise_lost_cancel,
)
from app.graph.values import plain
from app.observability import metrics

INTERN_KEYS = q("graph/intern_keys")
CONSTRAINTS = "graph/constraints"  # FalkorDB only (graph/constraints.falkordb.cypher)


class FalkorStore:
    """A :class:`~app.graph.store.GraphStore` on one FalkorDB graph key."""

    backend = "falkordb"

    def __init__(
        self,
        host: str,
        port: int,
        graph: str = "baton",
        pool_size: int = 32,
        queries: Queries | None = None,
        limits: StatementLimits | None = None,
        *,
        unix_socket_path: str | None = None,
        embedding_dim: int = DEFAULT_EMBEDDING_DIM,
    ) -> None:
        self.host, self.port, self.graph_name = host, port, graph
        self.embedding_dim = embedding_dim  # the vector indexes' dimension (schema)
        self.limits = limits or StatementLimits()
        # Explicit socket deadlines, just above the server-side statement timeout, so the
        # client library's default (5 s since redis-py 8) never decides them; a reply later
        # than this is a lost or hung server (GraphTimeout), never a raw redis TimeoutError.
        deadlines: dict[str, Any] = {
            "max_connections": pool_size,
            "timeout": None,
            "socket_timeout": self.limits.client_timeout_s,
            "socket_connect_timeout": min(5.0, self.limits.client_timeout_s),
        }
        if unix_socket_path:  # the embedded server: no TCP listener, a socket in a 0700 dir
            self.address = unix_socket_path
            self._pool = aioredis.BlockingConnectionPool(
                connection_class=aioredis.UnixDomainSocketConnection,
                path=unix_socket_path,
                **deadlines,
            )
        else:
            self.address = f"{host}:{port}"
            self._pool = aioredis.BlockingConnectionPool(host=host, port=port, **deadlines)
        self._db = FalkorDB(connection_pool=self._pool)
        self._graph = self._db.select_graph(graph)
        self.queries = queries or load(self.backend)
        self.on_close: list[Any] = []
        self.embedded: EmbeddedServer | None = None  # the server this app started, if any
        self.on_write: list[Any] = []  # called after each write (event hub nudge)

    @classmethod
    def at(
        cls,
        uri: str,
        graph: str = "baton",
        pool_size: int = 32,
        queries: Queries | None = None,
        limits: StatementLimits | None = None,
        embedding_dim: int = DEFAULT_EMBEDDING_DIM,
    ) -> FalkorStore:
        """A store on ``falkordb://host:port`` or ``falkordb+unix:///path/to/socket``."""
        parsed = urlparse(uri)
        if parsed.scheme == "falkordb+unix":
            path = unquote(parsed.path)
            if not path:
                raise ValueError(f"no socket path in {uri!r}: falkordb+unix:///path/to/sock")
            return cls(
                "",
                0,
                graph,
                pool_size,
                queries,
                limits,
                unix_socket_path=path,
                embedding_dim=embedding_dim,
            )
        if parsed.scheme != "falkordb":
            raise ValueError(f"not a FalkorDB URI: {uri!r}")
        return cls(
            parsed.hostname or "127.0.0.1",
            parsed.port or 6379,
            graph,
            pool_size,
            queries,
            limits,
            embedding_dim=embedding_dim,
        )

    async def _run(self, name: str, params: dict[str, Any], read_only: bool) -> list[Row]:
        text = self.queries[name]
        timeout_ms = self.limits.timeout_ms
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.limits.client_timeout_s):
                if read_only:
                    result = await self._graph.ro_query(text, params or None, timeout=timeout_ms)
                else:
                    result = await self._graph.query(text, params or None, timeout=timeout_ms)
            reraise_lost_cancel(task, cancels)
        except ResponseError as exc:
            raise _mapped(name, exc) from exc
        except (RedisTimeoutError, TimeoutError) as exc:
            raise GraphTimeout(f"{name}: no answer within {self.limits.client_timeout_s}s") from exc
        except (RedisConnectionError, OSError) as exc:
            raise GraphUnavailable(f"{name}: graph unreachable at {self.address}: {exc}") from exc
        finally:
            metrics.graph_query("read" if read_only else "write", time.perf_counter() - start)
        header = [h[1].decode() if isinstance(h[1], bytes) else str(h[1]) for h in result.header]
        return [
            dict(zip(header, (plain(v) for v in row), strict=True)) for row in result.result_set
        ]

    async def read(self, name: str, /, **params: Any) -> list[Row]:
        """Run a read-only statement (``GRAPH.RO_QUERY``)."""
        return await self._run(name, params, read_only=True)

    async def read_heavy(self, name: str, /, **params: Any) -> list[Row]:
        """A read that may be expensive: one of ``limits.heavy_concurrency`` slots at a time."""
        async with self.limits.heavy():
            return await self._run(name, params, read_only=True)

    async def write(self, name: str, /, **params: Any) -> list[Row]:
        """Run a statement; FalkorDB executes each one atomically under the graph write lock."""
        rows = await self._run(name, params, read_only=False)
        for hook in self.on_write:
            hook()
        return rows

    async def execute_text(self, text: str, /, **params: Any) -> list[Row]:
        """Run ad-hoc text: for schema DDL, tests and admin tools only, never user input."""
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        try:
            result = await self._graph.query(text, params or None)
            reraise_lost_cancel(task, cancels)
        except ResponseError as exc:
            raise _mapped("text", exc) from exc
        except RedisTimeoutError as exc:
            raise GraphTimeout(f"no answer within {self.limits.client_timeout_s}s") from exc
        except (RedisConnectionError, OSError) as exc:
            raise GraphUnavailable(f"graph unreachable at {self.address}: {exc}") from exc
        header = [h[1].decode() if isinstance(h[1], bytes) else str(h[1]) for h in result.header]
        return [
            dict(zip(header, (plain(v) for v in row), strict=True)) for row in result.result_set
        ]

    async def apply_schema(self) -> None:
        """Create indexes/constraints; FalkorDB has no ``IF NOT EXISTS``, so 'already' errors
        are expected on every start after the first and swallowed (a vector index keeps the
        dimension it was created with). Then register every property name in one logged
        write (cypher/graph/intern_keys.cypher says why)."""
        have: set[tuple[Any, ...]] | None = None  # read once the indexes made the graph
        for stmt in schema_statements(self.backend):
            try:
                if stmt.upper().startswith("GRAPH.CONSTRAINT"):
                    if have is None:
                        have = {
                            (r["type"], r["entitytype"], r["label"], tuple(r["properties"]))
                            for r in await self.read(CONSTRAINTS)
                        }
                    args = _constraint_args(stmt, self.graph_name)
                    # CREATE g UNIQUE NODE Label PROPERTIES n p1..pn
                    if (args[3], args[4], args[5], tuple(args[8:])) not in have:
                        await self._db.connection.execute_command(*args)
                elif "$embeddingDim" in stmt:  # the vector indexes
                    await self._graph.query(stmt, {"embeddingDim": self.embedding_dim})
                else:
                    await self._graph.query(stmt)
            except ResponseError as exc:
                if "already" not in str(exc).lower():
                    raise GraphError(f"schema: {stmt}: {exc}") from exc
        await self.write(INTERN_KEYS, keys=dict.fromkeys(property_keys(), 0))

    async def health(self) -> dict[str, Any]:
        """Reachability and size; used by ``GET /health``."""
        rows = await self.read("graph/counts")
        return {"backend": self.backend, "ok": True, **(rows[0] if rows else {})}

    async def drop_all(self) -> None:
        """Delete the whole graph (tests and ``baton db reset`` only)."""
        try:
            await self._graph.delete()
        except ResponseError:
            pass

    async def close(self) -> None:
        """Close the pool, then run owner hooks (stopping an embedded server)."""
        await self._pool.aclose()
        for hook in self.on_close:
            hook()


def _mapped(name: str, exc: ResponseError) -> GraphError:
    msg = str(exc)
    low = msg.lower()
    if "unique constraint" in low:
        return ConstraintViolation(f"{name}: {msg}")
    if "timed out" in low or "timeout" in low:
        return GraphTimeout(f"{name}: {msg}")
    if "mem consumption exceeded" in low:
        return GraphLimitExceeded(f"{name}: {msg}")
    return GraphError(f"{name}: {msg}")


def _constraint_args(stmt: str, graph: str) -> list[str]:
    """``GRAPH.CONSTRAINT CREATE {g} UNIQUE NODE Label PROPERTIES 1 id`` -> command args."""
    return [part.replace("{g}", graph) for part in stmt.split()]
