"""Schema versions on both backends: a new graph is recorded at this code's version without
an event; a graph written by an older model (a fixture, with a migration that only a newer
code has) is upgraded once, with one ``schema.migrated`` event, and idempotently; code that
is older than the graph refuses it (and ``baton serve`` says so and exits)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core import events
from app.graph import migrations
from app.graph.queries import CYPHER_DIR, load
from app.runtime import prepare_graph
from tests.conftest import ADMIN_TOKEN, fresh_name
from tests.support.graphs import GraphTarget

MIGRATION = """// v4: every note has a title (the v1 model had text only)
MATCH (n:Note)
WHERE n.title IS NULL
SET n.title = n.text
"""


def _newer_code(tmp: Path) -> Path:
    """The statements of a Baton one schema version ahead: this tree's plus a migration."""
    root = tmp / "cypher"
    shutil.copytree(CYPHER_DIR, root)
    (root / "migrations" / "0004_notes_have_titles.cypher").write_text(MIGRATION)
    return root


async def test_a_new_graph_is_recorded_at_this_version_without_an_event(
    graph: GraphTarget,
) -> None:
    store = graph.store(fresh_name())
    try:
        await prepare_graph(store)
        await prepare_graph(store)  # a restart
        assert await migrations.version(store) == migrations.target(load(graph.backend)) == 3
        assert await events.head(store) == 0
    finally:
        await store.close()


async def test_an_older_graph_is_migrated_once_and_newer_ones_are_refused(
    graph: GraphTarget, tmp_path: Path
) -> None:
    name = fresh_name()
    old = graph.store(name)  # this tree's code: schema version 3
    code = load(graph.backend, _newer_code(tmp_path))
    newer = graph.store(name, queries=code)
    try:
        await prepare_graph(old)
        await old.execute_text("CREATE (:Note {id: 'n1', text: 'disk full'})")  # v1 data
        head = await events.head(old)
        now = int(time.time() * 1000)
        assert await migrations.migrate(newer, now, code) == 3
        assert await migrations.migrate(newer, now, code) == 4  # idempotent
        rows = await newer.execute_text("MATCH (n:Note) RETURN n.title AS title")
        assert rows == [{"title": "disk full"}]
        assert await migrations.version(newer) == 4
        got = await events.events_after(newer, head)
        assert [(e.type, e.payload) for e in got] == [("schema.migrated", {"from": 3, "to": 4})]
        with pytest.raises(migrations.SchemaTooNew, match="upgrade Baton"):
            await prepare_graph(old)  # this tree's code on the upgraded graph
    finally:
        await old.close()
        await newer.close()
    env = {
        **os.environ,
        **graph.env(name),
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_PORT": "0",
        "BATON_SCHEDULER": "false",
    }
    served = subprocess.run(
        [sys.executable, "-m", "app", "serve"], env=env, capture_output=True, text=True, timeout=120
    )
    assert served.returncode != 0
    assert "schema version 4" in served.stderr and "upgrade Baton" in served.stderr
    assert "Traceback" not in served.stderr, served.stderr[-2000:]


async def test_a_version_1_graph_gets_end_times_for_its_merged_tasks(graph: GraphTarget) -> None:
    """The first real migration (0002): a graph written by the version 1 model, where a task
    merged at submission had no ``endedAt``, is upgraded at start-up; retention then finds
    those tasks by their end like every other finished one."""
    store = graph.store(fresh_name())
    try:
        await prepare_graph(store)
        await store.execute_text(  # what version 1 wrote, and its recorded version
            "MATCH (s:Schema {id: 'graph'}) SET s.version = 1 "
            "CREATE (:Task {id: 'm1', status: 'merged', createdAt: 1000}), "
            "(:Task {id: 'd1', status: 'done', createdAt: 1000, endedAt: 5000})"
        )
        assert await migrations.version(store) == 1
        await prepare_graph(store)
        assert await migrations.version(store) == 3
        rows = await store.execute_text(
            "MATCH (t:Task) RETURN t.id AS id, t.endedAt AS endedAt ORDER BY id"
        )
        assert rows == [{"id": "d1", "endedAt": 5000}, {"id": "m1", "endedAt": 1000}]
    finally:
        await store.drop_all()
        await store.close()


async def test_a_version_2_graph_gets_its_readers_grant_lists(graph: GraphTarget) -> None:
    """Migration 0003: on a graph written by the version 2 model, readers had no
    ``readDomains`` / ``readLabels`` (every read walked their teams); at start-up each agent
    and principal gets them from its teams' edges, so reads that now filter by them answer as
    before: a member reads its teams' domains and labels, a teamless reader nothing."""
    store = graph.store(fresh_name())
    try:
        await prepare_graph(store)
        await store.execute_text(  # what version 2 wrote, and its recorded version
            "MATCH (s:Schema {id: 'graph'}) SET s.version = 2 "
            "CREATE (d1:Domain {id: 'd1'}), (d2:Domain {id: 'd2'}), (:Domain {id: 'd3'}), "
            "(pii:Label {name: 'pii'}), (t1:Team {id: 't1'}), (t2:Team {id: 't2'}), "
            "(t1)-[:CAN_READ]->(d1), (t2)-[:CAN_READ]->(d1), (t2)-[:CAN_READ]->(d2), "
            "(t2)-[:CLEARED_FOR]->(pii), "
            "(:Agent {id: 'a1'})-[:MEMBER_OF]->(t1), (:Agent {id: 'a0'}), "
            "(p:Principal {id: 'p1', kind: 'human'})-[:MEMBER_OF]->(t1), (p)-[:MEMBER_OF]->(t2), "
            "(:Principal {id: 'svc', kind: 'service'})"
        )
        assert await migrations.version(store) == 2
        await prepare_graph(store)
        assert await migrations.version(store) == 3
        rows = await store.execute_text(
            "MATCH (n) WHERE n:Agent OR n:Principal "
            "RETURN n.id AS id, n.readDomains AS d, n.readLabels AS l ORDER BY id"
        )
        got = {r["id"]: (sorted(r["d"]), sorted(r["l"])) for r in rows}
        assert got == {
            "a0": ([], []),
            "a1": (["d1"], []),
            "p1": (["d1", "d2"], ["pii"]),
            "svc": ([], []),
        }
    finally:
        await store.drop_all()
        await store.close()
