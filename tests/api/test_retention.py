"""Retention on a real graph: what old history leaves, what always stays (a live fact's
lineage, a legal hold's target), events leave only once archived, the archive's chain catches
a changed, missing or rewritten file, a dry run changes nothing, and a second run with
nothing to do writes nothing."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.core import archive, events, retention, seed
from app.core.clock import ManualClock
from app.resources import SEEDS_DIR
from tests.conftest import ADMIN_TOKEN, App, fresh_name, start_app, stop_app
from tests.support.coord import CLAIM, COMPLETE, agent, submit
from tests.support.digest import graph_digest
from tests.support.gql import GQL, subscribe
from tests.support.graphs import GraphTarget

REPO = Path(__file__).resolve().parents[2]
DAY = 86_400_000
ASSERT = """mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } superseded } }"""
HOLD = """mutation($t: String!, $r: String!, $u: Long) {
  placeLegalHold(targetId: $t, reason: $r, until: $u) { id targetKind until placedBy } }"""
RELEASE = """mutation($id: ID!) { releaseLegalHold(id: $id, reason: "case closed") {
  id releasedAt } }"""
ARCHIVE = """{ auditLog(first: 1) { archive { location throughSeq prunedThrough files
  chainHead retainDays } } }"""
TASK = "query($id: ID!) { task(id: $id) { id status } }"
FACT = "query($id: ID!) { fact(id: $id) { id } }"


async def _done(api: App, w: GQL, agent_id: str, entities: list[str]) -> str:
    """A task submitted, claimed and completed by ``agent_id``: its id."""
    t = await submit(api.admin, capability="diagnose", entities=entities)
    got = (await w(CLAIM, a=agent_id))["claimTask"]
    assert got["id"] == t["id"]
    await w(COMPLETE, t=t["id"], a=agent_id, f=got["fence"], r={"ok": True})
    return str(t["id"])


async def _all_events(store: Any) -> list[dict[str, Any]]:
    page = await events.query(
        store, after=0, types=None, actor=None, subject=None, from_=None, to=None, limit=100_000
    )
    return [json.loads(events.dumps(e.__dict__)) for e in page]


def _archived(root: Path) -> list[dict[str, Any]]:
    out = []
    for e in archive.read_chain(root):
        out += [json.loads(x) for x in gzip.decompress((root / e.file).read_bytes()).splitlines()]
    return out


def _policy(root: Path, batch: int = 2) -> retention.Policy:
    return retention.Policy(
        tasks_days=30, facts_days=30, events_days=90, archive_dir=root, batch=batch
    )


async def test_retention_prunes_history_and_keeps_what_is_still_needed(
    api_clock: tuple[App, ManualClock], tmp_path: Path
) -> None:
    api, clock = api_clock
    await seed.load(api.store, SEEDS_DIR, now=clock.now())
    sre = await agent(api, "agent-rootcause", ["diagnose"], 4, team="sre")
    # day 1: three finished tasks
    gone = await _done(api, sre, "agent-rootcause", ["svc-web"])
    held = await _done(api, sre, "agent-rootcause", ["svc-payments"])
    source = await _done(api, sre, "agent-rootcause", ["svc-web"])
    clock.advance(DAY)
    # day 2: a fact superseded, and a current one derived from `source`
    old = await sre(
        ASSERT,
        i={
            "agentId": "agent-rootcause",
            "entityId": "svc-web",
            "key": "cause",
            "value": "db",
            "confidence": 0.9,
        },
    )
    new = await sre(
        ASSERT,
        i={
            "agentId": "agent-rootcause",
            "entityId": "svc-web",
            "key": "cause",
            "value": "db pool",
            "confidence": 0.9,
            "derivedFrom": [source],
        },
    )
    old_id, new_id = old["assertFact"]["fact"]["id"], new["assertFact"]["fact"]["id"]
    assert new["assertFact"]["superseded"] == old_id
    # a legal hold on the entity the `held` task touched, by an auditor; agents may not
    dan = api.client(
        (await api.admin('mutation { rotateToken(principalId: "dan") }'))["rotateToken"]
    )
    assert await sre.fails(HOLD, t="svc-payments", r="x") == ["FORBIDDEN"]
    assert await dan.fails(HOLD, t="no-such-thing", r="x") == ["NOT_FOUND"]
    assert await dan.fails(HOLD, t="svc-payments", r="x", u=clock.now() - 1) == ["BAD_INPUT"]
    hold = (await dan(HOLD, t="svc-payments", r="litigation 2026-17"))["placeLegalHold"]
    assert hold["targetKind"] == "Entity" and hold["until"] is None and hold["placedBy"] == "dan"
    before = await _all_events(api.store)

    clock.advance(100 * DAY)  # everything above is past every window
    root = tmp_path / "archive"
    digest = await graph_digest(api.store)
    dry = await retention.run(api.store, _policy(root), holder="t", clock=clock.now, dry=True)
    assert dry.counts["tasks"] == 1 and dry.counts["facts"] == 1 and dry.archived == []
    assert await graph_digest(api.store) == digest and not root.exists()  # dry: no change

    report = await retention.run(api.store, _policy(root), holder="t", clock=clock.now)
    assert [e.day for e in report.archived] == ["2023-11-14", "2023-11-15"]
    assert report.counts["tasks"] == 1 and report.counts["facts"] == 1
    assert report.counts["decisions"] >= 1  # the pruned task's completion span

    async def exists(query: str, id_: str, field: str) -> bool:
        return (await api.admin(query, id=id_))[field] is not None

    assert not await exists(TASK, gone, "task")
    assert await exists(TASK, held, "task")  # legal hold on an entity it touched
    assert await exists(TASK, source, "task")  # a current fact was derived from it
    assert not await exists(FACT, old_id, "fact") and await exists(FACT, new_id, "fact")

    # Every event that was in the graph is in the archive, unchanged, seqs gap-free from 1;
    # what stays in the graph from before is what the hold and the live lineage need.
    archived = _archived(root)
    assert archived == before[: len(archived)]
    assert [e["seq"] for e in archived] == list(range(1, len(archived) + 1))
    assert len(archived) == len(before)
    left = {e["seq"]: e for e in await _all_events(api.store) if e["seq"] <= len(before)}
    assert {e["subject"] for e in left.values()} >= {held}
    assert gone not in {e["subject"] for e in left.values()}
    info = (await dan(ARCHIVE))["auditLog"]["archive"]
    assert info["throughSeq"] == len(before) and info["files"] == 2
    assert info["location"] == str(root.resolve()) and info["retainDays"] == 90
    assert info["prunedThrough"] >= max(s for s in range(1, len(before) + 1) if s not in left)
    chain, problems = archive.verify(root, info["chainHead"])
    assert problems == [] and len(chain) == 2

    # A subscriber resuming from a cursor below what was pruned is told so (it would
    # otherwise miss events silently); from the floor on, or from 0, it resumes.
    floor = info["prunedThrough"]
    events_q = "query($a: Long) { events(after: $a, first: 500) { nodes { seq } } }"
    assert await dan.fails(events_q, a=1) == ["CURSOR_EXPIRED"]
    assert (await dan(events_q, a=floor))["events"]["nodes"][0]["seq"] > floor
    async with subscribe(
        api.url,
        ADMIN_TOKEN,
        "subscription($a: Long) { graphChanges(after: $a) { seq } }",
        {"a": floor - 1},
    ) as q:
        payload = await asyncio.wait_for(q.get(), 5)
        assert payload["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"

    pruned = [e for e in await _all_events(api.store) if e["type"] == "retention.pruned"]
    assert [p["payload"]["counts"] for p in pruned] == [report.counts]

    # Nothing left to do: a second run deletes nothing and writes nothing.
    digest = await graph_digest(api.store)
    again = await retention.run(api.store, _policy(root), holder="t", clock=clock.now)
    assert again.total == 0 and again.archived == []
    assert await graph_digest(api.store) == digest

    # Released, the hold keeps nothing: its task goes (the hold's own record stays).
    await dan(RELEASE, id=hold["id"])
    clock.advance(DAY)
    await retention.run(api.store, _policy(root), holder="t", clock=clock.now)
    assert not await exists(TASK, held, "task")
    holds = (await dan("{ legalHolds(active: false) { id releasedAt } }"))["legalHolds"]
    assert [h["id"] for h in holds] == [hold["id"]] and holds[0]["releasedAt"] is not None
    assert (await dan("{ legalHolds { id } }"))["legalHolds"] == []
    assert archive.verify(root, (await dan(ARCHIVE))["auditLog"]["archive"]["chainHead"])[1] == []


async def test_the_archive_chain_catches_tampering(
    api_clock: tuple[App, ManualClock], tmp_path: Path
) -> None:
    api, clock = api_clock
    for day in range(3):
        await events.emit(
            api.store,
            "deploy.done",
            now=clock.now(),
            actor="ci",
            subject=f"d{day}",
            payload={"n": day},
        )
        clock.advance(DAY)
    root = tmp_path / "a"
    await archive.archive(api.store, root, now=clock.now())
    head = (await archive.state(api.store)).head
    chain, problems = archive.verify(root, head)
    assert problems == [] and [e.events for e in chain][1:] == [1, 1]  # day 1: start-up too

    # A changed line (same length), a missing file, an added file, a rewritten chain.
    mid = root / chain[1].file
    original = mid.read_bytes()
    body = gzip.decompress(original).replace(b'"n":1', b'"n":7')
    mid.write_bytes(gzip.compress(body, mtime=0))
    assert any("SHA-256 differs" in p for p in archive.verify(root, head)[1])
    mid.unlink()
    assert any("missing" in p for p in archive.verify(root, head)[1])
    mid.write_bytes(original)
    (root / "events-2001-01-01.jsonl.gz").write_bytes(gzip.compress(b"{}\n"))
    assert any("not in chain.jsonl" in p for p in archive.verify(root, head)[1])
    (root / "events-2001-01-01.jsonl.gz").unlink()
    lines = (root / archive.CHAIN).read_text().splitlines()
    (root / archive.CHAIN).write_text("\n".join(lines[:2]) + "\n")  # the newest file dropped
    newest = (root / chain[2].file).read_bytes()
    (root / chain[2].file).unlink()
    assert archive.verify(root)[1] == []  # consistent in itself...
    assert any("does not end at the graph's head" in p for p in archive.verify(root, head)[1])
    (root / chain[2].file).write_bytes(newest)
    (root / archive.CHAIN).write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert any("chain broken" in p for p in archive.verify(root)[1])


async def test_prune_and_verify_from_the_command_line(api: App, tmp_path: Path) -> None:
    """`baton db prune --dry-run` reports and changes nothing; `baton db prune` archives
    (nothing is a whole day old here) ; `baton audit verify` exits 0 on an intact archive
    and 1 on a broken one."""
    root = tmp_path / "archive"
    env = {
        **os.environ,
        "BATON_GRAPH_URI": api.settings.graph_uri,
        "BATON_GRAPH_NAME": api.settings.graph_name,
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_ARCHIVE_DIR": str(root),
        "BATON_DATA_DIR": str(tmp_path),
    }

    def baton(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    digest = await graph_digest(api.store)
    dry = baton("db", "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would be deleted now" in dry.stdout and "tasks" in dry.stdout
    assert await graph_digest(api.store) == digest
    assert baton("db", "prune").returncode == 0
    (root / archive.CHAIN).write_text("")  # an empty archive is intact
    ok = baton("audit", "verify", str(root))
    assert ok.returncode == 0 and "archive intact: 0 files" in ok.stdout
    (root / "events-2001-01-01.jsonl.gz").write_bytes(gzip.compress(b"{}\n"))
    bad = baton("audit", "verify", str(root))
    assert bad.returncode == 1 and "not in chain.jsonl" in bad.stdout


async def test_the_retention_job_archives_and_prunes_on_its_own(
    graph: GraphTarget, tmp_path: Path
) -> None:
    """The scheduler's `retention` job applies the configured policy (here 1 day for
    everything) under the retention lease, with the configured archive directory."""
    from app import scheduler

    clock = ManualClock()
    app = await start_app(
        graph,
        fresh_name(),
        clock=clock,
        scheduler=False,
        archive_dir=tmp_path / "arch",
        retain_tasks_days=1,
        retain_facts_days=1,
        retain_events_days=1,
    )
    try:
        assert "retention" in {j.name for j in scheduler.JOBS}
        sre = await agent(app, "a1", ["diagnose"])
        done = await _done(app, sre, "a1", [])
        clock.advance(3 * DAY)
        assert await scheduler.prune(app.rt) > 0
        assert (await app.admin(TASK, id=done))["task"] is None
        chain, problems = archive.verify(tmp_path / "arch")
        assert problems == [] and chain and chain[0].first_seq == 1
        assert await scheduler.prune(app.rt) == 0  # nothing left: nothing written
    finally:
        await app.store.drop_all()
        await stop_app(app)
