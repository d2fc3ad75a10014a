"""The GraphStore port: the only way core code talks to the graph.

Both backends take *named* statements from ``cypher/`` and return plain ``dict`` rows whose
values are Python primitives, lists and dicts (nodes and relationships are flattened to their
property maps), so no backend type ever leaks past ``app/graph``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Row = dict[str, Any]


class GraphError(Exception):
    """A statement failed in the database (syntax, constraint, connection)."""


class ConstraintViolation(GraphError):
    """A uniqueness constraint rejected the write; nothing was written."""


@runtime_checkable
class GraphStore(Protocol):
    """Async access to the graph through named Cypher statements."""

    backend: str
    on_write: list[Any]
    on_close: list[Any]

    async def read(self, name: str, /, **params: Any) -> list[Row]:
        """Run a read-only statement and return its rows."""
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
