"""``baton db backup`` and ``baton db restore`` on the embedded graph, as real processes: a
backup taken while the server serves, more work after it, the data wiped, the backup
restored: the graph and its Event head are the backup's, and a reader resuming from a
cursor gets exactly the events after it. Refusals (a newer schema, a damaged snapshot, a
running server) change nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.backup import MANIFEST, SNAPSHOT, known_version
from app.core import events, tasks
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.models import TaskIn
from app.runtime import prepare_graph
from tests.conftest import ADMIN_TOKEN
from tests.support.digest import graph_digest

pytestmark = pytest.mark.falkordb_only("backup and restore of the embedded server")


def _db(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATON_GRAPH_URI": f"embedded://{data}", "BATON_ADMIN_TOKEN": ADMIN_TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "app", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _submit(store: FalkorStore, n: int) -> None:
    for i in range(n):
        data = TaskIn(kind="k", capability="work", payload={"i": i})
        await tasks.submit(store, data, actor="t", now=int(time.time() * 1000))


async def _state(data: Path) -> tuple[str, int]:
    store = FalkorStore.at(EmbeddedServer(data).uri, "baton", 2)
    try:
        return await graph_digest(store), await events.head(store)
    finally:
        await store.close()


async def _started(data: Path, tasks_n: int) -> FalkorStore:
    """A detached server (``baton db start``) with a prepared graph holding ``tasks_n``."""
    assert _db(data, "start").returncode == 0
    store = FalkorStore.at(EmbeddedServer(data).uri, "baton", 2)
    await prepare_graph(store)  # schema, version record, event counter
    await _submit(store, tasks_n)
    return store


async def test_backup_wipe_restore_round_trip(tmp_path: Path) -> None:
    data, backup = tmp_path / "graph", tmp_path / "backup"
    store = await _started(data, 20)
    try:
        digest, head = await graph_digest(store), await events.head(store)
        made = _db(data, "backup", str(backup))  # while the server serves
        assert made.returncode == 0, made.stderr
        manifest = json.loads((backup / MANIFEST).read_text())
        assert manifest["eventHead"] == head and manifest["schemaVersion"] == known_version()
        await _submit(store, 5)  # work after the backup: the restore takes it away
        assert await events.head(store) > head
    finally:
        await store.close()

    refused = _db(data, "restore", str(backup))
    assert refused.returncode == 2 and "running" in refused.stderr, refused.stderr
    assert "stopped" in _db(data, "stop").stdout
    shutil.rmtree(data / "appendonlydir")  # the data is gone

    restored = _db(data, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert _db(data, "start").returncode == 0
    try:
        assert await _state(data) == (digest, head)
        store = FalkorStore.at(EmbeddedServer(data).uri, "baton", 2)
        try:  # a subscriber that had seen up to head - 7 resumes: exactly the 7 it missed
            missed = await events.events_after(store, head - 7)
            assert [e.seq for e in missed] == list(range(head - 6, head + 1))
        finally:
            await store.close()
    finally:
        _db(data, "stop")


async def test_restore_refuses_a_newer_schema_or_a_damaged_snapshot(tmp_path: Path) -> None:
    data, backup = tmp_path / "graph", tmp_path / "backup"
    await (await _started(data, 3)).close()
    assert _db(data, "backup", str(backup)).returncode == 0
    again = _db(data, "backup", str(backup))
    assert again.returncode == 2 and "not empty" in again.stderr  # never over an old backup
    await _submit_after_stop(data)
    before = await _state_stopped(data)

    newer = tmp_path / "newer"
    shutil.copytree(backup, newer)
    manifest = json.loads((newer / MANIFEST).read_text())
    (newer / MANIFEST).write_text(json.dumps({**manifest, "schemaVersion": known_version() + 1}))
    got = _db(data, "restore", str(newer))
    assert got.returncode == 2 and "upgrade Baton" in got.stderr, got.stderr

    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with open(damaged / SNAPSHOT, "r+b") as f:
        f.truncate((damaged / SNAPSHOT).stat().st_size // 2)
    got = _db(data, "restore", str(damaged))
    assert got.returncode == 2 and "SHA-256" in got.stderr, got.stderr

    assert await _state_stopped(data) == before  # refusals changed nothing


async def _submit_after_stop(data: Path) -> None:
    store = FalkorStore.at(EmbeddedServer(data).uri, "baton", 2)
    try:
        await _submit(store, 2)
    finally:
        await store.close()
    assert "stopped" in _db(data, "stop").stdout


async def _state_stopped(data: Path) -> tuple[str, int]:
    assert _db(data, "start").returncode == 0
    try:
        return await _state(data)
    finally:
        _db(data, "stop")
