"""The GraphStore port: the only way core code talks to the graph.

Both backends take *named* statements from ``cypher/`` and return plain ``dict`` rows whose
values are Python primitives, lists and dicts (nodes and relationships are flattened to their
property maps), so no backend type ever leaks past ``app/graph``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]

DEFAULT_EMBEDDING_DIM = 256  # the local embedder's; Settings.vector_dim
"""Length of the Fact/Entity embedding vectors when the settings name none (``embedding_dim``);
the schema's vector indexes take it as ``$embeddingDim``."""


class GraphError(Exception):
    """A statement failed in the database (syntax, constraint, connection)."""


class ConstraintViolation(GraphError):
    """A uniqueness constraint rejected the write; nothing was written."""


class GraphTimeout(GraphError):
    """A statement ran past its deadline (the server's statement timeout, the client's socket
    deadline, or the wait for a heavy-read slot); the API answers with code ``TIMEOUT``."""


class GraphLimitExceeded(GraphError):
    """A statement hit a server resource cap (FalkorDB ``QUERY_MEM_CAPACITY``, Neo4j
    ``db.memory.transaction.max``); the API answers with code ``COST_LIMIT``."""


class GraphUnavailable(GraphError):
    """The graph cannot be reached (connection refused or lost); code ``UNAVAILABLE``."""


@dataclass
class StatementLimits:
    """Bounds every statement of one store: the server-side timeout, the client deadline just
    above it, and how many heavy reads (lineage, traces, log pages, subscription replay) may
    run at once, so they cannot take every graph connection or database thread."""

    timeout_ms: int = 5_000
    client_margin_ms: int = 1_000
    heavy_concurrency: int = 1
    _gate: asyncio.Semaphore | None = field(default=None, repr=False)

    @property
    def client_timeout_s(self) -> float:
        """The app's own deadline per statement: slightly above the server's."""
        return (self.timeout_ms + self.client_margin_ms) / 1000

    @asynccontextmanager
    async def heavy(self) -> AsyncIterator[None]:
        """Hold one heavy-read slot; waiting longer than the client deadline is a timeout."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(max(1, self.heavy_concurrency))
        try:
            async with asyncio.timeout(self.client_timeout_s):
                await self._gate.acquire()
        except TimeoutError:
            raise GraphTimeout("graph busy: no heavy-read slot within the deadline") from None
        try:
            yield
        finally:
            self._gate.release()


@runtime_checkable
class GraphStore(Protocol):
    """Async access to the graph through named Cypher statements."""

    backend: str
    on_write: list[Any]
    on_close: list[Any]
    limits: StatementLimits

    async def read(self, name: str, /, **params: Any) -> list[Row]:
        """Run a read-only statement and return its rows."""
        ...

    async def read_heavy(self, name: str, /, **params: Any) -> list[Row]:
        """Run a read that may be expensive, holding one of the few heavy-read slots."""
        ...

    async def write(self, name: str, /, **params: Any) -> list[Row]:
        """Run a write statement atomically and return its rows."""
        ...

    async def health(self) -> dict[str, Any]:
        """Backend name, reachability and node/edge counts."""
        ...

    async def apply_schema(self) -> None:
        """Create indexes and constraints idempotently."""
        ...

    async def close(self) -> None:
        """Release connections (and stop an embedded server this process owns)."""
        ...

    async def execute_text(self, text: str, /, **params: Any) -> list[Row]:
        """Run ad-hoc text: schema DDL, tests and admin tools only, never user input."""
        ...

    async def drop_all(self) -> None:
        """Delete everything (tests only)."""
        ...


def reraise_lost_cancel(task: asyncio.Task[Any] | None, cancels: int) -> None:
    """Raise a cancellation the database client lost; call it right after a statement
    returned, with ``cancels`` = ``task.cancelling()`` from before it started.

    redis-py writes each command under ``asyncio.wait_for`` (whenever a socket timeout is
    set, as the FalkorDB store does and redis-py 8 does by default), and on Python 3.11
    ``wait_for`` returns and drops a ``cancel()`` that lands as the write completes. The
    caller then ran on as if never cancelled: a WebSocket's session watcher kept tailing the
    log after its socket closed, and the app could never shut down. A cancel request still
    counted on the task is honoured here (on either backend: a driver may do the same)."""
    if task is not None and task.cancelling() > cancels:
        raise asyncio.CancelledError
