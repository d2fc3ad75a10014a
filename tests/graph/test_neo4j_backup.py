"""Backup and restore on Neo4j with Neo4j's own tool, as README "Operating Baton" says: stop
Neo4j, `neo4j-admin database dump`, and later `neo4j-admin database load
--overwrite-destination=true` into a stopped Neo4j (`baton neo4j-admin` runs the real tool on
the `baton neo4j` home). The round trip gives back the same graph (digest) and Event head,
work done after the dump is gone, and a subscriber resuming with its cursor gets exactly the
events it had not seen."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core import events, tasks
from app.graph.neo4j import Neo4jStore
from app.graph.neo4j_launcher import DEFAULT_PASSWORD, Neo4jServer
from app.graph.store import StatementLimits
from app.models import TaskIn
from app.runtime import prepare_graph
from tests.support.digest import graph_digest

pytestmark = [pytest.mark.neo4j_only("Neo4j's dump and load"), pytest.mark.timeout(600)]
REPO = Path(__file__).resolve().parents[2]
COLD = StatementLimits(timeout_ms=60_000)  # a just-started JVM plans every statement anew


def _admin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`baton neo4j-admin --home HOME ARGS…`: the documented command, a real process."""
    return subprocess.run(
        [sys.executable, "-m", "app", "neo4j-admin", "--home", str(home), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def _submit(server: Neo4jServer, n: int) -> tuple[str, int]:
    """Submit ``n`` tasks on the running server; the graph's digest and Event head after."""
    store = Neo4jStore(server.uri, "neo4j", DEFAULT_PASSWORD, limits=COLD)
    try:
        await prepare_graph(store)
        now = int(time.time() * 1000)
        for i in range(n):
            await tasks.submit(
                store, TaskIn(kind="b", capability="c", payload={"i": i}), actor="t", now=now
            )
        return await graph_digest(store), await events.head(store)
    finally:
        await store.close()


async def _state(server: Neo4jServer, cursor: int) -> tuple[str, int, list[int]]:
    store = Neo4jStore(server.uri, "neo4j", DEFAULT_PASSWORD, limits=COLD)
    try:
        missed = [e.seq for e in await events.events_after(store, cursor)]
        return await graph_digest(store), await events.head(store), missed
    finally:
        await store.close()


async def test_dump_wipe_load_round_trip_with_neo4j_admin(tmp_path: Path) -> None:
    home, dump = tmp_path / "neo4j", tmp_path / "dump"
    dump.mkdir()
    server = Neo4jServer(home).start()
    try:
        digest, head = await _submit(server, 12)
        refused = _admin(home, "database", "dump", "neo4j", f"--to-path={dump}")
        assert refused.returncode != 0  # Community dumps a stopped database only
        server.stop()
        made = _admin(home, "database", "dump", "neo4j", f"--to-path={dump}")
        assert made.returncode == 0, made.stderr[-2000:]
        assert (dump / "neo4j.dump").stat().st_size > 0
        server.start()
        _, later = await _submit(server, 4)  # work after the backup: the load takes it away
        assert later > head
        server.stop()
        loaded = _admin(
            home, "database", "load", "neo4j", f"--from-path={dump}", "--overwrite-destination=true"
        )
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        server.start()
        got_digest, got_head, missed = await _state(server, head - 3)
        assert (got_digest, got_head) == (digest, head)
        assert missed == [head - 2, head - 1, head]  # exactly what the subscriber had not seen
    finally:
        server.stop()
