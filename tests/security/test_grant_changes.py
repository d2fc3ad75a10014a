"""A change of grants holds from the very next read: reads filter by the reader's
materialised lists (``readDomains`` / ``readLabels``), and every statement that changes a
membership or a grant recomputes them in the same statement. Revoking CAN_READ from a team,
taking a member out, deleting the team or clearing a label each takes away, at once, the
facts, entities, tasks and search hits (searchContext's statements) it granted; granting
gives them back the same way. On both backends."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.core import agents, context, entities, search, seed, tasks, teams
from app.core.context import Reader
from app.graph import GraphStore
from app.models import AgentIn, EntityIn, FactIn, MembershipIn, TeamIn

NOW = 1_000_000
ALICE = Reader(principal_id="alice", caller="alice")
AGENT = Reader(agent_id="ag-ops", caller="p-ag-ops")


@dataclass(frozen=True)
class Seen:
    facts: set[str]
    entities: set[str]
    tasks: set[str]  # tasks whose payload the reader sees
    hits: set[str]  # search hits, facts and entities


async def org(store: GraphStore) -> None:
    """Domains ops and pay; entity svc in ops (pay-svc in pay) with a plain fact and a `pii`
    one each, a task touching each; team ops (reads ops, cleared for pii) with alice and the
    agent ag-ops, team pay (reads pay); a writer agent that reads everything."""
    await seed.domains(store, [{"id": "ops", "name": "Ops"}, {"id": "pay", "name": "Pay"}], now=NOW)
    await context.upsert_entities(
        store,
        [
            EntityIn(id="svc", kind="service", name="checkout service", domain="ops"),
            EntityIn(id="pay-svc", kind="service", name="checkout ledger", domain="pay"),
        ],
        actor="admin",
        now=NOW,
    )
    for t in [
        TeamIn(id="ops", name="Ops", can_read=["ops"], cleared=["pii"]),
        TeamIn(id="pay", name="Pay", can_read=["pay"]),
        TeamIn(id="all", name="All", can_read=["ops", "pay"], cleared=["pii"]),
    ]:
        await teams.set_team(store, t, actor="admin", now=NOW)
    await store.write(
        teams.HUMANS,
        now=NOW,
        rows=[{"id": "alice", "name": "Alice", "roles": ["operator"], "teams": []}],
    )
    await teams.add_member(
        store, MembershipIn(principal_id="alice", team_id="ops"), actor="admin", now=NOW
    )
    for aid, team in [("ag-ops", "ops"), ("writer", "all")]:
        await agents.register(
            store,
            AgentIn(id=aid, name=aid, capabilities=["x"], team=team),
            actor="admin",
            now=NOW,
            admin=True,
        )
    for ent in ["svc", "pay-svc"]:
        for key, sensitivity in [("status", None), ("contact", "pii")]:
            await context.assert_fact(
                store,
                FactIn(
                    id=f"{ent}-{key}",
                    agent_id="writer",
                    entity_id=ent,
                    key=key,
                    value=f"checkout {key}",
                    confidence=0.9,
                    sensitivity=sensitivity,
                ),
                actor="admin",
                now=NOW,
            )
        await store.execute_text(
            "MATCH (e:Entity {id: $e}) CREATE (t:Task {id: $id, kind: 'k', capability: 'x', "
            "priority: 50, status: 'queued', submittedBy: 'admin', payload: $p, result: null, "
            "errors: [], attempts: 0, maxAttempts: 3, fence: 0, resources: [], entities: [$e], "
            "costUsd: 0.0, createdAt: 1, updatedAt: 1})-[:TOUCHES]->(e)",
            e=ent,
            id=f"task-{ent}",
            p=json.dumps({"about": ent}),
        )


async def seen(store: GraphStore, r: Reader) -> Seen:
    facts: set[str] = set()
    for ent in ["svc", "pay-svc"]:
        facts |= {f.id for f in await context.context(store, r, ent, hops=0, now=NOW + 1)}
        for key in ["status", "contact"]:
            if await context.fact(store, r, f"{ent}-{key}") is not None:
                facts.add(f"{ent}-{key}")
    ents = {e for e in ["svc", "pay-svc"] if await entities.get(store, r, e) is not None}
    ents |= {
        e.id
        for e in await entities.page(
            store, r, kind=None, domain=None, owner=None, after="", limit=100
        )
    }
    visible = set()
    for tid in ["task-svc", "task-pay-svc"]:
        t = await tasks.get_for(store, r, tid)
        assert t is not None
        if not t.hidden:
            visible.add(tid)
    page = {t.id for t in await tasks.page_for(store, r, "", 100) if not t.hidden}
    assert page == visible
    hits: set[str] = set()
    for near in [None, "svc", "pay-svc"]:
        got = await search.search(store, r, vector=None, text="checkout", near=near, now=NOW + 1)
        hits |= {h.id for h in got}
    return Seen(facts, ents, visible, hits)


FULL = Seen(
    facts={"svc-status", "svc-contact"},
    entities={"svc"},
    tasks={"task-svc"},
    hits={"svc", "svc-status", "svc-contact"},
)
NO_PII = Seen(
    facts={"svc-status"},
    entities={"svc"},
    tasks={"task-svc"},
    hits={"svc", "svc-status"},
)
NOTHING = Seen(set(), set(), set(), set())


async def test_revoking_can_read_takes_everything_away_at_once(store: GraphStore) -> None:
    await org(store)
    assert await seen(store, ALICE) == FULL
    assert await seen(store, AGENT) == FULL
    await teams.set_team(store, TeamIn(id="ops", name="Ops", cleared=["pii"]), actor="a", now=NOW)
    assert await seen(store, ALICE) == NOTHING
    assert await seen(store, AGENT) == NOTHING
    await teams.set_team(
        store, TeamIn(id="ops", name="Ops", can_read=["ops"], cleared=["pii"]), actor="a", now=NOW
    )
    assert await seen(store, ALICE) == FULL
    assert await seen(store, AGENT) == FULL


async def test_clearing_a_label_hides_its_facts_at_once(store: GraphStore) -> None:
    await org(store)
    await teams.set_team(store, TeamIn(id="ops", name="Ops", can_read=["ops"]), actor="a", now=NOW)
    assert await seen(store, ALICE) == NO_PII
    assert await seen(store, AGENT) == NO_PII


async def test_a_member_taken_out_of_a_team_reads_nothing_of_it_next(store: GraphStore) -> None:
    await org(store)
    ms = MembershipIn(principal_id="alice", team_id="ops")
    await teams.remove_member(store, ms, actor="a", now=NOW)
    assert await seen(store, ALICE) == NOTHING
    assert await seen(store, AGENT) == FULL  # the team's other members keep it
    await teams.add_member(
        store, MembershipIn(principal_id="alice", team_id="pay"), actor="a", now=NOW
    )
    got = await seen(store, ALICE)
    assert got.facts == {"pay-svc-status"} and got.entities == {"pay-svc"}
    assert got.tasks == {"task-pay-svc"} and got.hits == {"pay-svc", "pay-svc-status"}
    await teams.add_member(store, ms, actor="a", now=NOW)
    got = await seen(store, ALICE)  # both teams: ops' pii clearance does not cover pay
    assert got.facts == FULL.facts | {"pay-svc-status", "pay-svc-contact"}


async def test_an_agent_moved_to_another_team_reads_with_its_grants_next(
    store: GraphStore,
) -> None:
    await org(store)
    await agents.register(
        store,
        AgentIn(id="ag-ops", name="ag-ops", capabilities=["x"], team="pay"),
        actor="admin",
        now=NOW,
        admin=True,
    )
    got = await seen(store, AGENT)
    assert got.facts == {"pay-svc-status"} and got.entities == {"pay-svc"}
    assert got.tasks == {"task-pay-svc"}


async def test_deleting_a_team_takes_its_grants_from_every_member_at_once(
    store: GraphStore,
) -> None:
    await org(store)
    await teams.delete_team(store, "ops", actor="admin", now=NOW)
    assert await teams.get(store, "ops") is None
    assert await seen(store, ALICE) == NOTHING
    assert await seen(store, AGENT) == NOTHING
    rows = await store.execute_text(
        "MATCH (e:Event {type: 'team.deleted'}) RETURN e.subject AS s, e.payload AS p"
    )
    assert [r["s"] for r in rows] == ["ops"]
    before = json.loads(rows[0]["p"])["before"]
    assert before["canRead"] == ["ops"] and before["members"] == ["alice"]
    assert before["agents"] == ["ag-ops"]
    # a team of the same id made again grants nothing by itself
    await teams.set_team(store, TeamIn(id="ops", name="Ops", can_read=["ops"]), actor="a", now=NOW)
    assert await seen(store, ALICE) == NOTHING


async def test_the_lists_follow_the_edges_after_every_kind_of_change(store: GraphStore) -> None:
    """What is materialised equals what the edges say, for every reader, after each change
    (refresh_readers recomputes from the edges: nothing changes)."""
    await org(store)

    async def lists() -> dict[str, tuple[list[str], list[str]]]:
        rows = await store.execute_text(
            "MATCH (n) WHERE n:Agent OR n:Principal "
            "RETURN n.id AS id, n.readDomains AS d, n.readLabels AS l"
        )
        return {r["id"]: (sorted(r["d"] or []), sorted(r["l"] or [])) for r in rows}

    async def consistent() -> None:
        kept = await lists()
        await teams.refresh_readers(store)
        assert await lists() == kept

    await consistent()
    assert (await lists())["alice"] == (["ops"], ["pii"])
    await teams.set_team(
        store, TeamIn(id="pay", name="Pay", can_read=["pay", "ops"]), actor="a", now=NOW
    )
    await teams.add_member(
        store, MembershipIn(principal_id="alice", team_id="pay"), actor="a", now=NOW
    )
    await consistent()
    assert (await lists())["alice"] == (["ops", "pay"], ["pii"])
    await teams.delete_team(store, "ops", actor="a", now=NOW)
    await consistent()
    assert (await lists())["alice"] == (["ops", "pay"], [])
    assert (await lists())["ag-ops"] == ([], [])


async def test_a_run_without_tasks_is_open_to_no_reader_but_an_auditor(store: GraphStore) -> None:
    """The task clause is not the generic one: a run's openness counts its tasks only (on
    FalkorDB a pattern comprehension from a null node is an empty list, so a missing task
    would otherwise pass the clause)."""
    await org(store)
    await store.execute_text(
        "CREATE (w:Workflow {name: 'wf', definition: '{}'}) "
        "CREATE (:Run {id: 'run-1', workflow: 'wf', status: 'done', startedAt: 1, "
        "startedBy: 'admin', input: '{}', result: '{\"secret\": 1}'})-[:INSTANCE_OF]->(w)"
        " WITH w MATCH (r:Run {id: 'run-1'}) "
        "CREATE (:Step {id: 'run-1/join', stepId: 'join', index: 0, status: 'done'})"
        "-[:STEP_OF]->(r)"
    )
    for r, hidden in [(ALICE, True), (AGENT, True), (Reader(caller="aud", everything=True), False)]:
        [one] = await store.read("runs/state_for", id="run-1", **r.params())
        assert bool(one["run"].get("_hidden")) == hidden
        [listed] = await store.read(
            "runs/list_for",
            workflow=None,
            status=None,
            before=None,
            beforeId=None,
            limit=10,
            **r.params(),
        )
        assert bool(listed["run"].get("_hidden")) == hidden
