"""The audit trail: filtered queries, a JSON Lines export that replays a run in order, and
proof that nothing can edit or delete an Event."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_TOKEN, App
from tests.support.coord import CLAIM, COMPLETE, agent, route, submit

REPO = Path(__file__).resolve().parents[2]
AUDIT = """query($actor: String, $subject: String, $types: [String!], $from: Long) {
  auditLog(actor: $actor, subject: $subject, types: $types, from: $from, first: 100) {
    nodes { seq type actor subject payload } } }"""


async def test_audit_log_filters_and_export_reconstructs_the_run(api: App, tmp_path: Path) -> None:
    w = await agent(api, "auditee", ["diagnose"])
    t = await submit(api.admin, payload={"alert": "5xx"})
    await route(api)
    await w(CLAIM, a="auditee")  # nothing left to claim: it was pushed
    task = await api.admin("query($id: ID!) { task(id: $id) { fence } }", id=t["id"])
    await w(COMPLETE, t=t["id"], a="auditee", f=task["task"]["fence"], r={"cause": "db"})
    log = (await api.admin(AUDIT, subject=t["id"]))["auditLog"]["nodes"]
    assert [e["type"] for e in log] == ["task.queued", "task.assigned", "task.completed"]
    # the actor is the principal (one audit identity); the agent it acted as is beside it
    assert [e["actor"] for e in log] == ["admin", "router", "p-auditee"]
    only = (await api.admin(AUDIT, actor="p-auditee", types=["task.completed"]))["auditLog"]
    assert [e["subject"] for e in only["nodes"]] == [t["id"]]
    assert await w.fails(AUDIT) == ["FORBIDDEN"]  # agents do not read the audit trail

    out = tmp_path / "audit.jsonl"
    env = {
        **os.environ,
        "BATON_GRAPH_URI": api.settings.graph_uri,
        "BATON_GRAPH_NAME": api.settings.graph_name,
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    subprocess.run(
        [sys.executable, "-m", "app", "audit", "export", "--out", str(out)],
        cwd=REPO, env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    steps = [(x["type"], x["actor"]) for x in lines if x["subject"] == t["id"]]
    assert steps == [("task.queued", "admin"), ("task.assigned", "router"),
                     ("task.completed", "p-auditee")]  # fmt: skip


EVENT_VAR = re.compile(r"\((\w+):Event\b")


def test_no_statement_edits_or_deletes_an_event() -> None:
    """Events are append-only: no Cypher file binds an Event and then SETs, REMOVEs or
    DELETEs it (conformance fixtures aside), and no mutation is named to do so."""
    offenders = []
    for path in (REPO / "cypher").rglob("*.cypher"):
        if "conformance" in path.parts:
            continue
        text = path.read_text()
        for var in set(EVENT_VAR.findall(text)):
            pattern = rf"\b(SET|REMOVE)\s+{var}\.|DELETE\s+{var}\b|,\s*{var}\.\w+\s*=|\b{var}\s*\+="
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(REPO)}: {var}")
    assert offenders == []
    schema = (REPO / "schema.graphql").read_text()
    mutations = schema.split("type Mutation {")[1].split("}")[0]
    assert not re.search(r"\b(delete|update|edit|remove)\w*Event", mutations, re.I)
