"""Schema versions: forward migrations in ``cypher/migrations/NNNN_name.cypher``, applied in
order at start-up, each one recorded in the graph (``graph/schema_migrated``).

Version 1 is the model the folder started from; a file's number is the version it brings
the graph to. A graph recorded at a higher version than this code knows is refused (an older
Baton must not write to a newer model); so is a backup from one (app/backup.py).
"""

from __future__ import annotations

import logging
import re

from app.graph.queries import Queries, load, q
from app.graph.store import GraphError, GraphStore

log = logging.getLogger("baton.migrations")

VERSION = q("graph/schema_version")
RECORDED = q("graph/schema_recorded")
MIGRATED = q("graph/schema_migrated")
_FILE = re.compile(r"^migrations/(\d{4})_\w+$")


class SchemaTooNew(GraphError):
    """The graph was written by a newer Baton (a higher schema version)."""


def steps(queries: Queries) -> list[tuple[int, str]]:
    """(version, statement name) of every migration, in order."""
    found = [(int(m.group(1)), name) for name in queries.names() if (m := _FILE.match(name))]
    return sorted(found)


def target(queries: Queries) -> int:
    """The schema version this code writes: 1, or the highest migration's number."""
    return max([1] + [v for v, _ in steps(queries)])


async def version(store: GraphStore) -> int | None:
    """The graph's model version; None for a new graph (no event counter yet)."""
    rows = await store.read(VERSION)
    if not rows or (rows[0]["version"] is None and not rows[0]["counters"]):
        return None
    return int(rows[0]["version"] or 1)  # no record on a used graph: from before versions


async def migrate(store: GraphStore, now: int, queries: Queries | None = None) -> int | None:
    """Bring the graph to this code's version; returns the version it had (None: a new
    graph, which is recorded at this version). Run before the event counter is created.
    Migrations are idempotent: replicas starting together may both run one."""
    queries = queries or load(store.backend)
    current, goal = await version(store), target(queries)
    if current is None:
        await store.write(RECORDED, version=goal, now=now)
        return None
    if current > goal:
        raise SchemaTooNew(
            f"the graph is at schema version {current}; this Baton writes "
            f"version {goal}: upgrade Baton"
        )
    for step, name in steps(queries):
        if step > current:
            log.info("migrating the graph to schema version %s (%s)", step, name)
            await store.write(name, now=now)
            await store.write(MIGRATED, version=step, now=now)
    return current
