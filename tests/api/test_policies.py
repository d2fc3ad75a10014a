"""Governance: policies as graph data, enforced inside routing and fenced statements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core import seed
from app.core.clock import ManualClock
from tests.conftest import App
from tests.support.coord import CLAIM, COMPLETE, agent, route, submit, task
from tests.support.digest import graph_digest
from tests.support.gql import GQL

SET = """mutation($i: PolicyInput!) { setPolicy(input: $i) { id version scope rules } }"""
EXPLAIN = """query($a: String!, $x: String!, $r: String) {
  explainPolicy(agentId: $a, action: $x, resourceId: $r) { allowed reason policies { id level } }
}"""
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


async def policy(admin: GQL, **p: Any) -> dict[str, Any]:
    p.setdefault("name", p["id"])
    return dict((await admin(SET, i=p))["setPolicy"])


async def explain(admin: GQL, a: str, action: str, r: str | None = None) -> dict[str, Any]:
    return dict((await admin(EXPLAIN, a=a, x=action, r=r))["explainPolicy"])


async def test_deny_beats_allow_and_the_most_specific_allow_wins(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    await agent(api, "ops-1", ["diagnose", "remediate"], team="sre")
    await policy(api.admin, id="g", scope="GLOBAL", allowCapabilities=["diagnose"])
    await policy(
        api.admin, id="t", scope="TEAM", targetId="sre", allowCapabilities=["diagnose", "remediate"]
    )
    e = await explain(api.admin, "ops-1", "remediate")
    assert e["allowed"] and [p["id"] for p in e["policies"]] == ["t"]
    await policy(
        api.admin, id="a", scope="AGENT", targetId="ops-1", allowCapabilities=["remediate"]
    )
    e = await explain(api.admin, "ops-1", "diagnose")
    assert not e["allowed"] and "agent-level allow list" in e["reason"]
    assert [p["id"] for p in e["policies"]] == ["a"]
    await policy(api.admin, id="deny", scope="TEAM", targetId="sre", denyCapabilities=["remediate"])
    e = await explain(api.admin, "ops-1", "remediate")
    assert not e["allowed"] and "deny wins" in e["reason"]
    assert [p["id"] for p in e["policies"]] == ["deny"]


async def test_routing_never_assigns_what_policy_forbids(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    await agent(api, "barred", ["remediate"], max_concurrency=5, team="sre")
    await agent(api, "allowed", ["remediate"], max_concurrency=5, team="payments-eng")
    await policy(api.admin, id="no-pay", scope="AGENT", targetId="barred", denyDomains=["payments"])
    t_pay = await submit(api.admin, capability="remediate", entities=["svc-payments"])
    t_web = await submit(api.admin, capability="remediate", entities=["svc-web"])
    await route(api)
    assert (await task(api.admin, t_pay["id"]))["agentId"] == "allowed"
    await policy(
        api.admin, id="no-rem", scope="AGENT", targetId="allowed", denyCapabilities=["remediate"]
    )
    t_more = await submit(api.admin, capability="remediate", entities=["svc-ledger"])
    await route(api)
    assert (await task(api.admin, t_more["id"]))["status"] == "queued"  # nobody may
    assert (await task(api.admin, t_web["id"]))["agentId"] in ("barred", "allowed")


async def test_forbidden_result_is_refused_audited_and_changes_nothing_else(api: App) -> None:
    w = await agent(api, "drifter", ["diagnose"])
    t = await submit(api.admin)
    got = (await w(CLAIM, a="drifter"))["claimTask"]
    await policy(
        api.admin, id="freeze", scope="AGENT", targetId="drifter", denyCapabilities=["diagnose"]
    )
    state = 'query($id: ID!) { task(id: $id) { status fence result errors } agent(id: "drifter") { active done failed } }'  # noqa: E501
    before = await api.admin(state, id=t["id"])
    head = (await api.admin("{ eventHead }"))["eventHead"]
    assert await w.fails(COMPLETE, t=t["id"], a="drifter", f=got["fence"]) == ["FORBIDDEN"]
    evs = await api.admin(
        "query($a: Long) { events(after: $a) { nodes { type subject } } }", a=head
    )
    assert evs["events"]["nodes"] == [{"type": "policy.violation", "subject": t["id"]}]
    assert await api.admin(state, id=t["id"]) == before


async def test_forbidden_lock_is_refused_and_audited(api: App) -> None:
    w = await agent(api, "locker", ["remediate"])
    t = await submit(api.admin, capability="remediate")
    got = (await w(CLAIM, a="locker"))["claimTask"]
    await policy(
        api.admin, id="no-prod", scope="AGENT", targetId="locker", denyResources=["prod-db"]
    )
    lock = "mutation($i: AcquireLockInput!) { acquireLock(input: $i) { outcome } }"
    i = {"resourceId": "prod-db", "taskId": t["id"], "fence": got["fence"]}
    assert await w.fails(lock, i=i) == ["FORBIDDEN"]
    ok = await w(lock, i={**i, "resourceId": "staging-db"})
    assert ok["acquireLock"]["outcome"] == "acquired"
    rows = await api.store.execute_text(
        "MATCH (e:Event {type: 'policy.violation'})-[:ON]->(a:Agent) RETURN a.id AS a"
    )
    assert rows == [{"a": "locker"}]


async def test_limits_hours_and_versions(api_clock: tuple[App, ManualClock]) -> None:
    api, clock = api_clock
    w = await agent(api, "night", ["diagnose"], max_concurrency=5)
    v1 = await policy(api.admin, id="cap", scope="AGENT", targetId="night", maxConcurrent=1)
    for _ in range(3):
        await submit(api.admin)
    assert await route(api) == 1  # the policy lowered 5 to 1
    hour = (clock.now() // 3_600_000) % 24
    v2 = await policy(
        api.admin,
        id="cap",
        scope="AGENT",
        targetId="night",
        maxConcurrent=3,
        allowedHours=[(hour + 1) % 24, (hour + 1) % 24 + 1],
    )
    assert (v1["version"], v2["version"]) == (1, 2)
    assert await route(api) == 0  # outside its hours
    assert (await w(CLAIM, a="night"))["claimTask"] is None
    clock.advance(3_600_000)
    assert await route(api) == 2
    rows = await api.store.execute_text(
        "MATCH (v:PolicyVersion)-[:OF]->(:Policy {id: 'cap'}) RETURN v.version AS v ORDER BY v"
    )
    assert [r["v"] for r in rows] == [1, 2]


async def test_bad_policies_are_coded_and_write_nothing(api: App) -> None:
    before = await graph_digest(api.store)
    bad = [
        ({"id": "x", "name": "x", "scope": "GLOBAL", "targetId": "sre"}, "BAD_INPUT"),
        ({"id": "x", "name": "x", "scope": "TEAM"}, "BAD_INPUT"),
        ({"id": "x", "name": "x", "scope": "TEAM", "targetId": "no-such-team"}, "NOT_FOUND"),
        ({"id": "x", "name": "x", "scope": "GLOBAL", "allowedHours": [20, 4]}, "BAD_INPUT"),
        ({"id": "x", "name": "x", "scope": "GLOBAL", "autoApproveThreshold": 1.5}, "BAD_INPUT"),
        ({"id": "x", "name": "x", "scope": "GLOBAL", "denyCapabilities": ["a b"]}, "BAD_INPUT"),
    ]
    for p, code in bad:
        assert await api.admin.fails(SET, i=p) == [code], p
    assert await graph_digest(api.store) == before
    ag = await agent(api, "nosy", ["diagnose"])
    assert await ag.fails(SET, i={"id": "y", "name": "y", "scope": "GLOBAL"}) == ["FORBIDDEN"]


async def test_facts_and_spend_outside_policy_are_audited(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    w = await agent(api, "analyst", ["diagnose"], team="sre")
    await policy(
        api.admin,
        id="no-id",
        scope="AGENT",
        targetId="analyst",
        denyDomains=["identity"],
        maxCostPerTask=1.0,
    )
    assert_fact = "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }"
    i = {"agentId": "analyst", "entityId": "svc-auth", "key": "k", "value": 1, "confidence": 0.5}
    assert await w.fails(assert_fact, i=i) == ["FORBIDDEN"]  # sre may read identity; policy no
    ok = await w(assert_fact, i={**i, "entityId": "svc-web"})
    assert ok["assertFact"]["fact"]["id"]
    t = await submit(api.admin)
    got = (await w(CLAIM, a="analyst"))["claimTask"]
    report = """mutation($t: String!, $f: Int!) {
      reportCost(taskId: $t, agentId: "analyst", fence: $f, usd: 1.5, key: "call") }"""
    assert (await w(report, t=t["id"], f=got["fence"]))["reportCost"] is True
    rows = await api.store.execute_text(
        "MATCH (e:Event {type: 'policy.violation'}) RETURN e.subject AS s ORDER BY e.seq"
    )
    assert [r["s"] for r in rows] == ["svc-auth", t["id"]]
