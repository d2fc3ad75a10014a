"""A restarted embedded server gives back exactly the graph it had.

FalkorDB 4.16 numbers a property name when it first *plans* a write that mentions it, even
when that write then changes nothing; and a write that changes nothing is not logged to the
append-only file. After such a write, replaying the file numbers names differently from the
server that wrote it, and the logged effects of later writes land on the wrong property
(found as a Run without its workflowId after a crash, then a SIGSEGV in ``properties()``).
Baton's idle statements end before writing ("no work, no write"), so it meets this often;
``cypher/graph/intern_keys.cypher`` registers every name up front, in a logged write."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from app.core import agents, tasks
from app.core.events import BOOTSTRAP
from app.graph import StatementLimits
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.graph.queries import CYPHER_DIR, load
from app.models import AgentIn, TaskIn
from tests.support.procs import redis_pids_for

pytestmark = pytest.mark.falkordb_only("the embedded FalkorDB server's append-only file")


def _keys(server: EmbeddedServer, graph: str) -> list[str]:
    conn = redis.Redis(unix_socket_path=server.socket_path)
    try:
        rows = conn.execute_command("GRAPH.RO_QUERY", graph, "CALL db.propertyKeys()")[1]
        return [r[0].decode() for r in rows]
    finally:
        conn.close()


def _statements() -> dict[str, str]:
    queries = load("falkordb")
    out = {name: queries[name] for name in queries.names()}
    for path in sorted((CYPHER_DIR / "browser").glob("*.cypher")):
        out[f"browser/{path.stem}"] = path.read_text()
    return out


def _plans(conn: redis.Redis, text: str) -> bool:
    """Plan ``text`` with its parameters null, except counts (``LIMIT $n``, ``SKIP $n``)."""
    counts = set(re.findall(r"(?:LIMIT|SKIP)\s+\$(\w+)", text))
    params = " ".join(
        f"{p}={1 if p in counts else 'null'}" for p in sorted(set(re.findall(r"\$(\w+)", text)))
    )
    try:
        conn.execute_command("GRAPH.EXPLAIN", "baton", f"CYPHER {params} {text}")
    except redis.ResponseError:
        return False
    return True


async def test_no_statement_can_add_a_property_name_after_start_up(tmp_path: Path) -> None:
    """Planning every statement (``GRAPH.EXPLAIN`` plans, and numbers names, as a write
    does) after ``apply_schema`` adds no property name: none can be added unlogged."""
    server = EmbeddedServer(tmp_path / "graph")
    info = server.start(detached=True)
    store = FalkorStore.at(info.uri, "baton", 2, limits=StatementLimits(timeout_ms=5_000))
    try:
        await store.apply_schema()
        before = _keys(server, "baton")
        conn = redis.Redis(unix_socket_path=server.socket_path)
        try:
            unplanned = [name for name, text in _statements().items() if not _plans(conn, text)]
            conn.execute_command("GRAPH.EXPLAIN", "baton", "MATCH (x) CREATE (:Y {brandNew: 1})")
        finally:
            conn.close()
        after = _keys(server, "baton")
    finally:
        await store.close()
        server.stop(force=True)
    assert not unplanned, f"GRAPH.EXPLAIN refused {unplanned}"
    assert len(before) > 100, "apply_schema registered no property names"
    assert after[: len(before)] == before
    # the probe: a name no statement uses is numbered by planning alone (so the check can fail)
    assert after[len(before) :] == ["brandNew"], after[len(before) :]


async def _digest(store: FalkorStore) -> list[Any]:
    rows = await store.execute_text(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY id(n)"
    )
    return [(r["l"], sorted(r["p"].items())) for r in rows]


async def test_idle_writes_then_a_crash_replay_to_the_same_graph(tmp_path: Path) -> None:
    """Idle scheduler work and an empty claim (plans that change nothing), then real writes,
    a rewrite of the append-only file, more writes, then SIGKILL: the replayed graph equals
    the one acknowledged, property by property."""
    data = tmp_path / "graph"
    server = EmbeddedServer(data)
    info = server.start(detached=True)
    store = FalkorStore.at(info.uri, "baton", 2, limits=StatementLimits(timeout_ms=5_000))
    now = int(time.time() * 1000)
    try:
        await store.apply_schema()
        await store.write(BOOTSTRAP, secret="s" * 64)
        agent = AgentIn(id="a1", name="a1", capabilities=["work"])
        await agents.register(store, agent, actor="admin", now=now, admin=True)
        assert await tasks.claim(store, "a1", lease_ms=1_000, now=now) == []
        assert await tasks.expire_leases(store, now=now) == 0
        await tasks.route_all(store, batch=10, lease_ms=1_000, clock=lambda: now)
        task = await tasks.submit(
            store, TaskIn(kind="k", capability="work", payload={"x": 1}), actor="t", now=now
        )
        server.rewrite_aof()  # what came before is now the file's base snapshot, the rest replays
        claimed = await tasks.claim(store, "a1", lease_ms=60_000, now=now + 1)
        assert [t.id for t in claimed] == [task.id]
        before = await _digest(store)
        for pid in redis_pids_for(data):
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.1)
        await asyncio.to_thread(server.start, True)
        after = await _digest(store)
    finally:
        await store.close()
        server.stop(force=True)
    assert len(before) > 5
    assert after == before


async def test_a_restart_logs_no_schema_command_again(tmp_path: Path) -> None:
    """Re-applying the schema (every start) creates nothing that exists: a refused
    ``GRAPH.CONSTRAINT CREATE`` is still appended to the file, and replay logged each as a
    CRITICAL error, one more per start."""
    server = EmbeddedServer(tmp_path / "graph")
    info = server.start(detached=True)
    store = FalkorStore.at(info.uri, "baton", 2, limits=StatementLimits(timeout_ms=5_000))
    aof = tmp_path / "graph" / "appendonlydir"
    try:
        await store.apply_schema()
        first = b"".join(p.read_bytes() for p in sorted(aof.glob("*.incr.aof")))
        await store.apply_schema()
        again = b"".join(p.read_bytes() for p in sorted(aof.glob("*.incr.aof")))
    finally:
        await store.close()
        server.stop(force=True)
    assert first.count(b"GRAPH.CONSTRAINT") > 0
    assert again.count(b"GRAPH.CONSTRAINT") == first.count(b"GRAPH.CONSTRAINT")
