"""Human in the loop: thresholds from policy, routing to humans, one decision wins,
modify/reject paths, escalation on a controllable clock, surviving a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app import scheduler
from app.core import seed
from app.core.clock import ManualClock
from tests.conftest import App, start_app, stop_app
from tests.support.coord import ASSIGNED, CLAIM, agent, submit, task
from tests.support.gql import GQL, event_head, next_data, subscribe
from tests.support.graphs import GraphTarget

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SET = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"
PROPOSE = """mutation($i: ProposeActionInput!) { proposeAction(input: $i) {
  id status threshold policyId routedTo } }"""
DECIDE = """mutation($id: ID!, $d: Decision!, $r: String!, $p: JSON) {
  decideProposal(id: $id, decision: $d, reason: $r, payload: $p) {
    status decidedBy payload modifiedPayload } }"""
INBOX = "{ inbox { nodes { id summary priority level status } } }"


async def human(api: App, who: str) -> GQL:
    got = await api.admin("mutation($p: String!) { rotateToken(principalId: $p) }", p=who)
    return api.client(got["rotateToken"])


async def working(api: App, agent_id: str, team: str, priority: int = 50) -> tuple[GQL, Any]:
    w = await agent(api, agent_id, [f"cap-{agent_id}"], team=team)
    await submit(api.admin, capability=f"cap-{agent_id}", priority=priority)
    got = (await w(CLAIM, a=agent_id))["claimTask"]
    return w, got


async def propose(w: GQL, agent_id: str, t: Any, kind: str, confidence: float, **kw: Any) -> Any:
    i = {
        "taskId": t["id"],
        "agentId": agent_id,
        "fence": t["fence"],
        "kind": kind,
        "summary": f"{kind} it",
        "confidence": confidence,
        "payload": {"target": "svc-web"},
        **kw,
    }
    return (await w(PROPOSE, i=i))["proposeAction"]


async def setup(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    for p in [
        {
            "id": "g",
            "name": "g",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.9,
            "alwaysApprove": ["rollback"],
            "approvers": ["alice", "team:secops"],
            "escalation": ["bob", "dan"],
            "approvalSlaMs": 60_000,
            "onExpiry": "approve",
        },
        {
            "id": "sre",
            "name": "sre",
            "scope": "TEAM",
            "targetId": "sre",
            "actionThresholds": {"restart": 0.6},
        },
    ]:
        await api.admin(SET, i=p)


async def test_the_most_specific_threshold_decides_and_is_recorded(api: App) -> None:
    await setup(api)
    a1, t1 = await working(api, "careful", "sre")
    await api.admin(
        SET,
        i={
            "id": "c",
            "name": "c",
            "scope": "AGENT",
            "targetId": "careful",
            "actionThresholds": {"restart": 0.95},
        },
    )
    assert (await propose(a1, "careful", t1, "restart", 0.8))["status"] == "pending"
    a2, t2 = await working(api, "bold", "sre")
    auto = await propose(a2, "bold", t2, "restart", 0.8)
    assert (auto["status"], auto["threshold"], auto["policyId"]) == ("auto_executed", 0.6, "sre")
    assert (await task(api.admin, t2["id"]))["status"] == "running"
    a3, t3 = await working(api, "other", "customer-success")
    assert (await propose(a3, "other", t3, "restart", 0.8))["status"] == "pending"  # global .9
    a4, t4 = await working(api, "sure", "sre")
    always = await propose(a4, "sure", t4, "rollback", 0.99)
    assert always["status"] == "pending"  # always-approve beats any confidence
    assert sorted(always["routedTo"]) == ["alice", "carol"]  # alice + secops' carol
    assert (await task(api.admin, t4["id"]))["status"] == "awaiting_approval"


async def test_one_decision_wins_and_only_routed_humans_decide(api: App) -> None:
    await setup(api)
    w, t = await working(api, "fixer", "sre", priority=90)
    p = await propose(w, "fixer", t, "rollback", 0.5, factIds=[])
    alice, carol, bob = [await human(api, x) for x in ("alice", "carol", "bob")]
    assert [n["id"] for n in (await alice(INBOX))["inbox"]["nodes"]] == [p["id"]]
    assert await bob.fails(DECIDE, id=p["id"], d="APPROVE", r="me too") == ["FORBIDDEN"]
    results = await asyncio.gather(
        alice.raw(DECIDE, {"id": p["id"], "d": "APPROVE", "r": "ok"}),
        carol.raw(DECIDE, {"id": p["id"], "d": "REJECT", "r": "no"}),
    )
    wins = [r for r in results if not r.get("errors")]
    losses = [r["errors"][0]["extensions"]["code"] for r in results if r.get("errors")]
    assert len(wins) == 1 and losses == ["CONFLICT"]
    assert (await task(api.admin, t["id"]))["status"] == "running"


async def test_modify_keeps_both_payloads_and_the_agent_hears(api: App) -> None:
    await setup(api)
    w, t = await working(api, "editor", "sre")
    head = await event_head(api.admin)
    async with subscribe(api.url, w.token, ASSIGNED, {"a": "editor", "after": head}) as q:
        p = await propose(w, "editor", t, "rollback", 0.5)
        alice = await human(api, "alice")
        got = (
            await alice(
                DECIDE,
                id=p["id"],
                d="MODIFY",
                r="smaller blast radius",
                p={"target": "svc-web", "canary": True},
            )
        )["decideProposal"]
        heard = (await next_data(q))["taskAssigned"]
    assert got["payload"] == {"target": "svc-web"}
    assert got["modifiedPayload"] == {"target": "svc-web", "canary": True}
    assert (heard["type"], heard["decision"], heard["taskId"]) == (
        "proposal.decided",
        "modified",
        t["id"],
    )
    w2, t2 = await working(api, "rejected", "sre")
    p2 = await propose(w2, "rejected", t2, "rollback", 0.5)
    r = (await alice(DECIDE, id=p2["id"], d="REJECT", r="too risky"))["decideProposal"]
    assert r["status"] == "rejected" and r["decidedBy"] == "alice"
    evs = await api.admin('{ auditLog(types: ["proposal.decided"]) { nodes { actor payload } } }')
    assert [e["payload"]["decision"] for e in evs["auditLog"]["nodes"]] == ["modified", "rejected"]


async def test_unanswered_proposals_escalate_and_survive_a_restart(
    api_clock: tuple[App, ManualClock], graph: GraphTarget
) -> None:
    api, clock = api_clock
    await setup(api)
    w, t = await working(api, "waiter", "sre")
    p = await propose(w, "waiter", t, "rollback", 0.5)
    bob = await human(api, "bob")
    assert (await bob(INBOX))["inbox"]["nodes"] == []
    clock.advance(60_001)
    await scheduler.escalate(api.rt)
    assert [n["level"] for n in (await bob(INBOX))["inbox"]["nodes"]] == [1]
    # The app restarts; the proposal and its SLA are in the graph, so it still escalates.
    name = api.settings.graph_name
    await stop_app(api)
    again = await start_app(graph, name, clock=clock, scheduler=False)
    try:
        clock.advance(60_001)
        await scheduler.escalate(again.rt)
        dan = await human(again, "dan")
        assert [n["level"] for n in (await dan(INBOX))["inbox"]["nodes"]] == [2]
        clock.advance(60_001)
        await scheduler.escalate(again.rt)  # top of the chain: policy says approve
        got = await again.admin(
            "query($id: ID!) { proposal(id: $id) { status decidedBy } }", id=p["id"]
        )
        assert got["proposal"] == {"status": "approved", "decidedBy": "policy"}
        assert (await task(again.admin, t["id"]))["status"] == "running"
    finally:
        api.server = again.server  # the fixture stops whichever app is running
        api.http = again.http
