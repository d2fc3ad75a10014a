"""Neo4j 5 over the official async driver: managed transactions with the driver's retries."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import neo4j
from neo4j import AsyncGraphDatabase, RoutingControl
from neo4j.exceptions import ConstraintError, Neo4jError, ServiceUnavailable, SessionExpired

from app.graph.queries import Queries, load, schema_statements
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

# The name in `CREATE CONSTRAINT name IF NOT EXISTS …` / `CREATE [VECTOR|…] INDEX name …`;
# a constraint's backing index carries the constraint's name.
_SCHEMA_NAME = re.compile(r"CREATE\s+(?:\w+\s+)?(?:CONSTRAINT|INDEX)\s+(\w+)\s+IF NOT EXISTS", re.I)


# Every node, in batches, so no transaction holds the whole graph (tests and `db reset`).
DROP_ALL = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"


class Neo4jStore:
    """A :class:`~app.graph.store.GraphStore` on one Neo4j database (routing-aware URIs work
    against clusters and Aura)."""

    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        pool_size: int = 32,
        queries: Queries | None = None,
        limits: StatementLimits | None = None,
        embedding_dim: int = DEFAULT_EMBEDDING_DIM,
    ) -> None:
        self.database = database
        self.embedding_dim = embedding_dim  # the vector indexes' dimension (schema)
        self.limits = limits or StatementLimits()
        deadline = self.limits.client_timeout_s
        self._driver = AsyncGraphDatabase.driver(
            uri,
            auth=(user, password),
            max_connection_pool_size=pool_size,
            connection_acquisition_timeout=deadline,
            connection_timeout=min(5.0, deadline),
            max_transaction_retry_time=deadline,
            # Statements are reviewed and planned in tests; per-call planner notices (an
            # unknown property on an empty graph) would only flood the log.
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )
        self.queries = queries or load(self.backend)
        self.on_close: list[Any] = []
        self.on_write: list[Any] = []  # called after each write (event hub nudge)

    def _query(self, name: str) -> neo4j.Query:
        # Audited: statement text comes only from our own cypher/ files, never from input
        # (mypy treats LiteralString as str, so no cast is needed to satisfy it).
        # The server aborts the transaction after ``timeout`` seconds (Neo4j's own
        # db.transaction.timeout still applies when it is lower).
        return neo4j.Query(
            self.queries[name],
            metadata={"query": name},
            timeout=self.limits.timeout_ms / 1000,
        )

    async def _run(self, name: str, params: dict[str, Any], routing: RoutingControl) -> list[Row]:
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.limits.client_timeout_s):
                records, _, keys = await self._driver.execute_query(
                    self._query(name), params, routing_=routing, database_=self.database
                )
            reraise_lost_cancel(task, cancels)
        except ConstraintError as exc:
            raise ConstraintViolation(f"{name}: {exc.message}") from exc
        except TimeoutError as exc:
            raise GraphTimeout(f"{name}: no answer within {self.limits.client_timeout_s}s") from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            raise GraphUnavailable(f"{name}: Neo4j unreachable: {exc}") from exc
        except Neo4jError as exc:
            code = exc.code or ""
            # A transaction the server ended at its deadline reports either code (a lock
            # wait past the deadline: "Terminated", "LockClientStopped"): a TIMEOUT.
            if any(k in code for k in ("Timeout", "TimedOut", "Terminated", "LockClientStopped")):
                raise GraphTimeout(f"{name}: {exc.message}") from exc
            if "Memory" in code:
                raise GraphLimitExceeded(f"{name}: {exc.message}") from exc
            raise GraphError(f"{name}: {exc.message}") from exc
        finally:
            kind = "read" if routing == RoutingControl.READ else "write"
            metrics.graph_query(kind, time.perf_counter() - start)
        return [{k: plain(r[k]) for k in keys} for r in records]

    async def read(self, name: str, /, **params: Any) -> list[Row]:
        """Run a read statement on a reader (retried by the driver)."""
        return await self._run(name, params, RoutingControl.READ)

    async def read_heavy(self, name: str, /, **params: Any) -> list[Row]:
        """A read that may be expensive: one of ``limits.heavy_concurrency`` slots at a time."""
        async with self.limits.heavy():
            return await self._run(name, params, RoutingControl.READ)

    async def write(self, name: str, /, **params: Any) -> list[Row]:
        """Run a write statement in one managed transaction (retried by the driver)."""
        rows = await self._run(name, params, RoutingControl.WRITE)
        for hook in self.on_write:
            hook()
        return rows

    async def execute_text(self, text: str, /, **params: Any) -> list[Row]:
        """Run ad-hoc text: for schema DDL, tests and admin tools only, never user input."""
        records, _, keys = await self._driver.execute_query(text, params, database_=self.database)
        return [{k: plain(r[k]) for k in keys} for r in records]

    async def apply_schema(self) -> None:
        """Named ``IF NOT EXISTS`` DDL: idempotent by construction. Only the statements whose
        index or constraint is missing run (one read when the schema is already there, as on
        every start after the first). The vector indexes take ``$embeddingDim``; one that
        exists keeps the dimension it was created with."""
        rows = await self.execute_text("SHOW INDEXES YIELD name RETURN collect(name) AS names")
        present = set(rows[0]["names"]) if rows else set()
        missing = [
            stmt
            for stmt in schema_statements(self.backend)
            if (m := _SCHEMA_NAME.search(stmt)) is None or m.group(1) not in present
        ]
        for stmt in missing:
            try:
                await self.execute_text(stmt, embeddingDim=self.embedding_dim)
            except neo4j.exceptions.ClientError as exc:
                # another replica starting at the same moment created it first
                if "AlreadyExists" not in (exc.code or ""):
                    raise
        if missing:
            await self.execute_text("CALL db.awaitIndexes(300)")

    async def health(self) -> dict[str, Any]:
        """Reachability and size; used by ``GET /health``."""
        rows = await self.read("graph/counts")
        return {"backend": self.backend, "ok": True, **(rows[0] if rows else {})}

    async def drop_all(self) -> None:
        """Delete every node (tests only), in batches so no transaction holds the whole graph.
        Writers still running (a scheduler stopping) can deadlock a batch: each batch
        commits on its own, so trying again finishes the job."""
        for attempt in range(5):
            try:
                async with self._driver.session(database=self.database) as session:
                    result = await session.run(DROP_ALL)
                    await result.consume()
                return
            except neo4j.exceptions.TransientError:
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    async def close(self) -> None:
        """Close the driver."""
        await self._driver.close()
        for hook in self.on_close:
            hook()
