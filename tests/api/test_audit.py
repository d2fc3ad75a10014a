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
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    steps = [(x["type"], x["actor"]) for x in lines if x["subject"] == t["id"]]
    assert steps == [
        ("task.queued", "admin"),
        ("task.assigned", "router"),
        ("task.completed", "p-auditee"),
    ]


EVENT_VAR = re.compile(r"\((\w+):Event\b")
CLAUSE = re.compile(
    r"\b(SET|REMOVE|DELETE|MATCH|OPTIONAL|WITH|RETURN|CREATE|MERGE|UNWIND|FOREACH|CALL|WHERE"
    r"|ORDER|LIMIT|SKIP|UNION|ON|DETACH)\b|[|)]",
    re.I,
)


def _items(clause: str) -> list[str]:
    """A clause's comma-separated items (commas inside {}, (), [] or strings do not split)."""
    out, depth, cur, quote = [], 0, "", ""
    for ch in clause:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += ch
    return [*out, cur]


def edits(text: str, var: str) -> bool:
    """Whether a statement SETs, REMOVEs or DELETEs ``var`` in any form: ``SET e.p = …``,
    ``SET e = {…}``, ``SET e += {…}``, ``SET e:Label``, ``REMOVE e.p``, ``DELETE x, e``."""
    text = re.sub(r"//[^\n]*", "", text)
    marks = list(CLAUSE.finditer(text))
    for i, m in enumerate(marks):
        if (m.group(1) or "").upper() not in ("SET", "REMOVE", "DELETE"):
            continue
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        for item in _items(text[m.end() : end]):
            if re.match(rf"\s*{re.escape(var)}\s*(\.|:|=|\+=|$)", item):
                return True
    return False


def test_the_edit_check_catches_every_form() -> None:
    bad = [
        "MATCH (e:Event) SET e.x = 1",
        "MATCH (e:Event) SET e = {x: 1}",
        "MATCH (e:Event) SET e += {x: 1}",
        "MATCH (e:Event) SET e:Gone",
        "MATCH (e:Event) REMOVE e.payload",
        "MATCH (e:Event) REMOVE e:Event",
        "MATCH (x:T), (e:Event) DELETE x, e",
        "MATCH (e:Event) DETACH DELETE e",
        "MATCH (t:T), (e:Event) SET t.a = 1, e.b = 2",
        "MATCH (e:Event) FOREACH (_ IN [1] | SET e.x = 1)",
        "MATCH (e:Event) WITH e SET\n  e.x = 1 RETURN e",
    ]
    good = [
        "MATCH (c:Counter), (e:Event) SET c.seq = e.seq RETURN e",
        "MATCH (t:T) SET t.note = 'e.x = 1, DELETE e' CREATE (e:Event {seq: 1})",
        "CREATE (e:Event {seq: 1}) WITH e MATCH (t:T) SET t.last = e.seq",
        "MATCH (e:Event) // SET e.x = 1\nRETURN e",
        "MATCH (ev:Event) SET c.e = ev.seq",
    ]
    assert [b for b in bad if not edits(b, "e")] == []
    assert [g for g in good if edits(g, "e")] == []


def test_no_statement_edits_or_deletes_an_event() -> None:
    """Events are append-only: no Cypher file binds an Event and then SETs, REMOVEs or
    DELETEs it (conformance fixtures aside), and no mutation is named to do so."""
    offenders = []
    for path in (REPO / "cypher").rglob("*.cypher"):
        if "conformance" in path.parts:
            continue
        text = path.read_text()
        for var in set(EVENT_VAR.findall(text)):
            if edits(text, var):
                offenders.append(f"{path.relative_to(REPO)}: {var}")
    assert offenders == []
    schema = (REPO / "schema.graphql").read_text()
    mutations = schema.split("type Mutation {")[1].split("}")[0]
    assert not re.search(r"\b(delete|update|edit|remove)\w*Event", mutations, re.I)


def test_only_retention_deletes_events_and_only_archived_ones() -> None:
    """The one statement that matches Events and deletes anything is retention's, and it
    deletes only events at or below the archive's end (``ar.through``) and the caller's
    bound: an event leaves the graph only once the audit archive holds it."""
    matches_events = re.compile(r"MATCH\s*\(\w+:Event\b")
    deleting = sorted(
        str(p.relative_to(REPO / "cypher"))
        for p in (REPO / "cypher").rglob("*.cypher")
        if "conformance" not in p.parts
        and matches_events.search(re.sub(r"//[^\n]*", "", p.read_text()))
        and re.search(r"\bDELETE\b", re.sub(r"//[^\n]*", "", p.read_text()))
    )
    assert deleting == ["retention/events.cypher"]
    text = (REPO / "cypher" / "retention" / "events.cypher").read_text()
    assert "e.seq <= coalesce(ar.through, 0)" in text and "e.seq <= $through" in text
