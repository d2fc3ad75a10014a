"""Finding 4, property test: over random grant layouts, every object-level read path returns
exactly the readable set (soundness AND completeness), for agents, humans in teams, a
teamless integration and an auditor: ``task``/``tasks`` payloads, ``proposal`` payloads,
``events``/``auditLog`` payloads (the statement ``graphChanges`` uses per event), and lineage
nodes through tasks and facts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import context, events, proposals, tasks, teams
from app.core.context import Reader
from app.graph import GraphStore

DOMAINS = ["d0", "d1", "d2"]
TEAMS = ["t0", "t1", "t2"]

Layout = st.fixed_dictionaries(
    {
        "grants": st.lists(st.tuples(st.sampled_from(TEAMS), st.sampled_from(DOMAINS)), max_size=9),
        "cleared": st.lists(st.sampled_from(TEAMS), max_size=3),
        "entity_domains": st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=5),
        # (owner team or None, submitter team or None, touched entity indexes)
        "tasks": st.lists(
            st.tuples(
                st.one_of(st.none(), st.sampled_from(TEAMS)),
                st.one_of(st.none(), st.sampled_from(TEAMS)),
                st.lists(st.integers(0, 4), max_size=2),
            ),
            min_size=1,
            max_size=5,
        ),
        # (task index, approver team or None)
        "proposals": st.lists(
            st.tuples(st.integers(0, 4), st.one_of(st.none(), st.sampled_from(TEAMS))),
            max_size=3,
        ),
        # (entity index, secret, derived from task index or None)
        "facts": st.lists(
            st.tuples(st.integers(0, 4), st.booleans(), st.one_of(st.none(), st.integers(0, 4))),
            max_size=4,
        ),
    }
)


def readers() -> dict[str, tuple[Reader, str | None]]:
    """name -> (reader, team); the auditor has team None and reads everything."""
    out: dict[str, tuple[Reader, str | None]] = {}
    for t in TEAMS:
        out[f"agent-{t}"] = (Reader(agent_id=f"ag-{t}", caller=f"p-ag-{t}"), t)
        out[f"human-{t}"] = (Reader(principal_id=f"h-{t}", caller=f"h-{t}"), t)
    out["integration"] = (Reader(principal_id="integ", caller="integ"), None)
    out["auditor"] = (Reader(principal_id="aud", caller="aud", everything=True), None)
    return out


async def build(store: GraphStore, lay: dict[str, Any]) -> dict[str, Any]:
    n = len(lay["entity_domains"])
    await store.execute_text(
        "UNWIND $d AS d CREATE (:Domain {id: d}) WITH count(*) AS _ "
        "UNWIND $t AS t CREATE (:Team {id: t}) WITH count(*) AS _ "
        "CREATE (:Label {name: 'secret'})",
        d=DOMAINS,
        t=TEAMS,
    )
    await store.execute_text(
        "UNWIND $g AS g MATCH (t:Team {id: g[0]}), (d:Domain {id: g[1]}) "
        "MERGE (t)-[:CAN_READ]->(d)",
        g=[list(x) for x in lay["grants"]],
    )
    await store.execute_text(
        "UNWIND $c AS c MATCH (t:Team {id: c}), (l:Label {name: 'secret'}) "
        "MERGE (t)-[:CLEARED_FOR]->(l)",
        c=lay["cleared"],
    )
    await store.execute_text(
        "UNWIND range(0, size($d) - 1) AS i MATCH (d:Domain {id: $d[i]}) "
        "CREATE (:Entity {id: 'e' + toString(i), kind: 'service', name: 'e'})-[:IN_DOMAIN]->(d)",
        d=lay["entity_domains"],
    )
    await store.execute_text(
        "UNWIND $t AS t MATCH (team:Team {id: t}) "
        "CREATE (:Agent {id: 'ag-' + t, status: 'online', capabilities: ['x'], "
        "maxConcurrency: 5, active: 0})-[:MEMBER_OF]->(team) "
        "CREATE (:Principal {id: 'p-ag-' + t, kind: 'agent', agentId: 'ag-' + t, roles: ['agent'], "
        "revoked: false}) "
        "CREATE (:Principal {id: 'h-' + t, kind: 'human', roles: ['operator'], revoked: false})"
        "-[:MEMBER_OF]->(team)",
        t=TEAMS,
    )
    await store.execute_text(
        "CREATE (:Principal {id: 'integ', kind: 'service', roles: ['integration'], "
        "revoked: false}) "
        "CREATE (:Principal {id: 'aud', kind: 'human', roles: ['auditor'], revoked: false})"
    )
    await teams.refresh_readers(store)  # written around the statements that keep the lists
    model: dict[str, Any] = {"tasks": {}, "proposals": {}, "facts": {}, "events": {}}
    await store.execute_text("MERGE (c:Counter {name: 'event'}) SET c.seq = coalesce(c.seq, 0)")
    seq = 0

    async def event(on: str, label: str) -> None:
        nonlocal seq
        seq += 1
        await store.execute_text(
            f"MATCH (x:{label} {{id: $on}}) CREATE (e:Event {{seq: $s, type: 'probe.on', "
            "at: $s, actor: 'x', subject: $on, payload: $p}) CREATE (e)-[:ON]->(x)",
            on=on,
            s=seq,
            p=json.dumps({"about": on}),
        )
        model["events"][seq] = (label, on)

    for i, (owner, submitter, touched) in enumerate(lay["tasks"]):
        tid = f"task-{i}"
        ents = sorted({f"e{x % n}" for x in touched})
        await store.execute_text(
            "CREATE (t:Task {id: $id, kind: 'k', capability: 'x', priority: 50, status: $st, "
            "agentId: $a, submittedBy: $s, payload: $p, result: $r, errors: [], "
            "attempts: 0, maxAttempts: 3, fence: 0, resources: [], entities: $ents, "
            "costUsd: 0.0, createdAt: 1, updatedAt: 1}) "
            "WITH t UNWIND $ents AS eid MATCH (e:Entity {id: eid}) CREATE (t)-[:TOUCHES]->(e)",
            id=tid,
            st="running" if owner else "queued",
            a=f"ag-{owner}" if owner else None,
            s=f"h-{submitter}" if submitter else "admin",
            p=json.dumps({"n": i}),
            r=json.dumps({"ok": i}),
            ents=ents,
        )
        if owner:
            await store.execute_text(
                "MATCH (t:Task {id: $id}), (a:Agent {id: $a}) "
                "CREATE (t)-[:ASSIGNED_TO {attempt: 1, fence: 1, at: 1}]->(a)",
                id=tid,
                a=f"ag-{owner}",
            )
        doms = {lay["entity_domains"][int(e[1:])] for e in ents}
        model["tasks"][tid] = {"owner": owner, "submitter": submitter, "domains": doms}
        await event(tid, "Task")
    n_tasks = len(lay["tasks"])
    for j, (ti, approver) in enumerate(lay["proposals"]):
        tid = f"task-{ti % n_tasks}"
        pid = f"prop-{j}"
        owner = model["tasks"][tid]["owner"]
        await store.execute_text(
            "MATCH (t:Task {id: $t}) CREATE (p:Proposal {id: $id, kind: 'k', summary: 's', "
            "payload: $p, confidence: 0.5, rationale: 'because', status: 'pending', "
            "taskId: $t, agentId: $a, createdAt: 1})-[:FOR]->(t)",
            t=tid,
            id=pid,
            p=json.dumps({"do": j}),
            a=f"ag-{owner}" if owner else "ag-none",
        )
        if approver:
            await store.execute_text(
                "MATCH (p:Proposal {id: $id}), (h:Principal {id: $h}) "
                "CREATE (p)-[:ROUTED_TO {level: 0}]->(h)",
                id=pid,
                h=f"h-{approver}",
            )
        model["proposals"][pid] = {"task": tid, "owner": owner, "approver": approver}
        await event(pid, "Proposal")
    for k, (ei, secret, src) in enumerate(lay["facts"]):
        fid = f"fact-{k}"
        ent = f"e{ei % n}"
        await store.execute_text(
            "MATCH (e:Entity {id: $e})-[:IN_DOMAIN]->(d:Domain) "
            "CREATE (f:Fact {id: $id, key: 'k', value: '1', confidence: 0.5, observedAt: 1, "
            "current: true, sensitivity: $s, agentId: 'ag-t0', entityId: $e, domain: d.id})"
            "-[:ABOUT]->(e)",
            e=ent,
            id=fid,
            s="secret" if secret else None,
        )
        src_id = f"task-{src % n_tasks}" if src is not None else None
        if src_id:
            await store.execute_text(
                "MATCH (f:Fact {id: $f}), (t:Task {id: $t}) CREATE (f)-[:DERIVED_FROM]->(t)",
                f=fid,
                t=src_id,
            )
        model["facts"][fid] = {
            "domain": lay["entity_domains"][ei % n],
            "secret": secret,
            "from": src_id,
        }
        await event(fid, "Fact")
    await event("e0", "Entity")
    await store.execute_text("MATCH (c:Counter {name: 'event'}) SET c.seq = $s", s=seq)
    return model


def can(lay: dict[str, Any], team: str | None, domain: str) -> bool:
    return team is not None and (team, domain) in {tuple(g) for g in lay["grants"]}


def task_ok(
    lay: dict[str, Any], model: dict[str, Any], who: str, r: Reader, team: str | None, tid: str
) -> bool:
    t = model["tasks"][tid]
    if r.everything:
        return True
    if who.startswith("agent-") and t["owner"] == team:
        return True
    if who.startswith("human-") and t["submitter"] == team:
        return True
    return all(can(lay, team, d) for d in t["domains"])


def proposal_ok(
    lay: dict[str, Any], model: dict[str, Any], who: str, r: Reader, team: str | None, pid: str
) -> bool:
    p = model["proposals"][pid]
    if r.everything:
        return True
    if who.startswith("agent-") and p["owner"] == team:
        return True
    if who.startswith("human-") and p["approver"] == team:
        return True
    return all(can(lay, team, d) for d in model["tasks"][p["task"]]["domains"])


def fact_ok(
    lay: dict[str, Any], model: dict[str, Any], r: Reader, team: str | None, fid: str
) -> bool:
    f = model["facts"][fid]
    if r.everything:
        return True
    return can(lay, team, f["domain"]) and (not f["secret"] or team in lay["cleared"])


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lay=Layout)
async def test_object_level_reads_equal_the_readable_set(
    store: GraphStore, lay: dict[str, Any]
) -> None:
    await store.execute_text("MATCH (n) WHERE NOT n:Counter DETACH DELETE n")
    model = await build(store, lay)
    for who, (r, team) in readers().items():
        # task / tasks: payload and result present exactly when readable
        want = {t for t in model["tasks"] if task_ok(lay, model, who, r, team, t)}
        got_one = set()
        for tid in model["tasks"]:
            t = await tasks.get_for(store, r, tid)
            assert t is not None
            if not t.hidden:
                assert t.payload == {"n": int(tid.split("-")[1])} and t.result is not None
                got_one.add(tid)
        assert got_one == want, (who, "task")
        page = await tasks.page_for(store, r, "", 100)
        assert {t.id for t in page} == set(model["tasks"])
        assert {t.id for t in page if not t.hidden} == want, (who, "tasks")
        # proposal
        want_p = {p for p in model["proposals"] if proposal_ok(lay, model, who, r, team, p)}
        got_p = set()
        for pid in model["proposals"]:
            p = await proposals.get_for(store, r, pid)
            assert p is not None
            if not p.hidden:
                assert p.rationale == "because" and p.payload
                got_p.add(pid)
        assert got_p == want_p, (who, "proposal")
        # events (and auditLog, same clause): payload present exactly when readable
        want_e = set()
        for s, (label, on) in model["events"].items():
            if label == "Task":
                ok = task_ok(lay, model, who, r, team, on)
            elif label == "Proposal":
                ok = proposal_ok(lay, model, who, r, team, on)
            elif label == "Fact":
                ok = fact_ok(lay, model, r, team, on)
            else:
                ok = r.everything or can(lay, team, lay["entity_domains"][int(on[1:])])
            if ok:
                want_e.add(s)
        evs = await events.events_for(store, r, 0, None, 1_000)
        assert [e.seq for e in evs] == sorted(model["events"])
        assert {e.seq for e in evs if not e.hidden} == want_e, (who, "events")
        assert all(e.payload for e in evs if not e.hidden)
        audit = await events.query(
            store,
            after=0,
            types=None,
            actor=None,
            subject=None,
            from_=None,
            to=None,
            limit=1_000,
            reader=r,
        )
        assert {e.seq for e in audit if not e.hidden} == want_e, (who, "auditLog")
        # one event at a time, as graphChanges reads it
        for s in model["events"]:
            [one] = await events.events_for(store, r, s - 1, None, 1)
            assert one.seq == s and (not one.hidden) == (s in want_e)
        # lineage: a fact's upstream shows its source task only if both are readable
        for fid, f in model["facts"].items():
            lin = await context.lineage(store, r, fid, direction="UPSTREAM", depth=1)
            ids = {x["id"] for x in lin.nodes}
            expect_task = (
                f["from"] is not None
                and fact_ok(lay, model, r, team, fid)
                and task_ok(lay, model, who, r, team, f["from"])
            )
            assert (f["from"] in ids) == expect_task, (who, "lineage", fid)
        # lineage downstream of a task: its readable facts, never an unreadable one
        for tid in model["tasks"]:
            lin = await context.lineage(store, r, tid, direction="DOWNSTREAM", depth=1)
            facts = {x["id"] for x in lin.nodes if x["label"] == "Fact"}
            expect = {
                fid
                for fid, f in model["facts"].items()
                if f["from"] == tid
                and fact_ok(lay, model, r, team, fid)
                and task_ok(lay, model, who, r, team, tid)
            }
            assert facts == expect, (who, "lineage down", tid)
