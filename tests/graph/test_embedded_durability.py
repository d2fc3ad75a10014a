"""What an acknowledged write survives on the embedded server (issue 20, durability window).

The embedded FalkorDB appends every write to its append-only file. With `appendfsync
everysec` Redis answers a write before the file is written when a background fsync is
still running (a busy disk), for up to 2 s, so a crash in that window loses writes that
were acknowledged. Baton runs `appendfsync always` by default (`BATON_GRAPH_FSYNC`): the file
is written and fsynced before the answer goes out. Here: the setting reaches the server, and
writers that keep going while the server is SIGKILLed and restarted lose no acknowledged
write and leave the Event log gap-free."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import redis

from app.core import tasks
from app.core.events import BOOTSTRAP
from app.graph import GraphError, StatementLimits
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.models import TaskIn
from tests.support.procs import redis_pids_for

pytestmark = pytest.mark.falkordb_only("the embedded FalkorDB server's append-only file")


def _appendfsync(server: EmbeddedServer) -> str:
    conn = redis.Redis(unix_socket_path=server.socket_path)
    try:
        return str(conn.config_get("appendfsync")["appendfsync"])
    finally:
        conn.close()


def test_fsync_mode_reaches_the_server(tmp_path: Path) -> None:
    for mode in ("always", "everysec"):
        server = EmbeddedServer(tmp_path / mode, fsync=mode)
        server.start()
        try:
            assert _appendfsync(server) == mode
        finally:
            server.stop(force=True)
    default = EmbeddedServer(tmp_path / "default")
    default.start()
    try:
        assert _appendfsync(default) == "always"
        conn = redis.Redis(unix_socket_path=default.socket_path)
        rewrite = conn.config_get("auto-aof-rewrite-*")
        conn.close()
        assert rewrite == {
            "auto-aof-rewrite-percentage": "100",
            "auto-aof-rewrite-min-size": str(16 * 1024 * 1024),
        }
    finally:
        default.stop(force=True)


async def test_acknowledged_writes_survive_sigkill_of_the_server(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    server = EmbeddedServer(data)
    info = server.start(detached=True)
    store = FalkorStore.at(info.uri, "baton", 16, limits=StatementLimits(timeout_ms=5_000))
    acked: set[str] = set()
    stop = asyncio.Event()
    try:
        await store.apply_schema()
        await store.write(BOOTSTRAP, secret="s" * 64)

        async def writer(w: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    t = await tasks.submit(
                        store,
                        TaskIn(kind="k", capability="work", payload={"w": w, "n": n}),
                        actor="test",
                        now=int(time.time() * 1000),
                    )
                    acked.add(t.id)
                except (GraphError, OSError, redis.RedisError):
                    await asyncio.sleep(0.05)  # down: the kill is the point

        writers = [asyncio.create_task(writer(i)) for i in range(6)]
        for _ in range(3):
            await asyncio.sleep(1.0)
            for pid in redis_pids_for(data):
                os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.1)
            await asyncio.to_thread(server.start, True)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*writers)
        present = {r["id"] for r in await store.execute_text("MATCH (t:Task) RETURN t.id AS id")}
        seqs = [
            r["s"] for r in await store.execute_text("MATCH (e:Event) RETURN e.seq AS s ORDER BY s")
        ]
    finally:
        await store.close()
        server.stop(force=True)
    assert len(acked) > 20, "the writers barely ran"
    assert acked <= present, f"{len(acked - present)} acknowledged writes lost"
    assert seqs == list(range(1, len(seqs) + 1)), "the Event log has a gap or a repeat"
