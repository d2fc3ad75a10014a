"""The shared context layer on the real graph: grants applied in the statement, supersede and
contradiction with history, expiry, live propagation, lineage, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.core import seed
from app.core.clock import ManualClock
from tests.conftest import App
from tests.support.coord import CLAIM, agent, submit
from tests.support.digest import graph_digest
from tests.support.gql import GQL, next_data, subscribe
from tests.support.invariants import all_events

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ASSERT = """mutation($i: AssertFactInput!) { assertFact(input: $i) {
  fact { id key value confidence agentId } superseded contradicted recipients } }"""
CONTEXT = """query($e: String!, $a: String, $h: Int!) { context(entityId: $e, agentId: $a, hops: $h)
  { id key value entityId agentId confidence distance } }"""
UPDATES = """subscription($a: String!, $after: Long) {
  contextUpdates(agentId: $a, after: $after) { seq type fact { id key } } }"""


async def org(api: App) -> dict[str, GQL]:
    """The demo org, with tokens for four seeded agents in different teams."""
    await seed.load(api.store, SEEDS, now=api.rt.now())
    return {
        "sre": await agent(api, "agent-rootcause", ["diagnose"], 4, team="sre"),
        "cs": await agent(api, "agent-impact", ["business_impact"], 4, team="customer-success"),
        "comp": await agent(api, "agent-compliance", ["compliance_check"], 4, team="compliance"),
        "pay": await agent(api, "agent-payments", ["reconcile"], 4, team="payments-eng"),
    }


async def fact(c: GQL, agent_id: str, entity: str, key: str, value: Any, **kw: Any) -> Any:
    i = {
        "agentId": agent_id,
        "entityId": entity,
        "key": key,
        "value": value,
        "confidence": kw.pop("confidence", 0.9),
        **kw,
    }
    return (await c(ASSERT, i=i))["assertFact"]


async def ctx(c: GQL, entity: str, agent_id: str | None = None, hops: int = 2) -> list[Any]:
    return list((await c(CONTEXT, e=entity, a=agent_id, h=hops))["context"])


async def test_context_returns_the_neighbourhood_within_grants(api: App) -> None:
    a = await org(api)
    got = await fact(a["sre"], "agent-rootcause", "svc-checkout", "health", "degraded")
    f = got["fact"]
    seen = await ctx(a["sre"], "svc-web", "agent-rootcause")
    assert [(x["id"], x["distance"], x["agentId"]) for x in seen] == [
        (f["id"], 1, "agent-rootcause")
    ]
    assert [x["id"] for x in await ctx(a["cs"], "svc-web", "agent-impact")] == [f["id"]]
    assert await ctx(a["comp"], "svc-web", "agent-compliance") == []  # no commerce grant
    assert await ctx(a["sre"], "svc-web", "agent-rootcause", hops=0) == []
    assert await a["comp"].fails(CONTEXT, e="svc-web", a="agent-rootcause", h=2) == ["FORBIDDEN"]
    # Humans read with their teams' grants; auditors read everything.
    dan = await api.admin("""mutation { rotateToken(principalId: "dan") }""")
    auditor = api.client(dan["rotateToken"])
    assert [x["id"] for x in await ctx(auditor, "svc-web")] == [f["id"]]


async def test_supersede_and_contradiction_keep_history(api: App) -> None:
    a = await org(api)
    one = (await fact(a["sre"], "agent-rootcause", "svc-payments", "cause", "db"))["fact"]
    two = await fact(a["sre"], "agent-rootcause", "svc-payments", "cause", "db pool")
    assert two["superseded"] == one["id"] and two["contradicted"] is False
    three = await fact(
        a["pay"], "agent-payments", "svc-payments", "cause", "card gateway", confidence=0.7
    )
    assert three["superseded"] == two["fact"]["id"] and three["contradicted"] is True
    current = await ctx(a["sre"], "svc-payments", "agent-rootcause", hops=0)
    assert [x["value"] for x in current] == ["card gateway"]
    hist = await a["sre"](
        "query($id: ID!) { fact(id: $id) { value contradicts history { value agentId } } }",
        id=three["fact"]["id"],
    )
    assert [h["value"] for h in hist["fact"]["history"]] == ["db pool", "db"]
    assert hist["fact"]["contradicts"] == [two["fact"]["id"]]
    evs = await api.admin('{ events(types: ["fact.contradicted"]) { nodes { subject payload } } }')
    assert [e["subject"] for e in evs["events"]["nodes"]] == [three["fact"]["id"]]


async def test_expired_facts_drop_out(api_clock: tuple[App, ManualClock]) -> None:
    api, clock = api_clock
    a = await org(api)
    await fact(
        a["sre"], "agent-rootcause", "svc-auth", "maintenance", True, validTo=clock.now() + 60_000
    )
    assert len(await ctx(a["sre"], "svc-auth", "agent-rootcause", 0)) == 1
    clock.advance(60_001)
    assert await ctx(a["sre"], "svc-auth", "agent-rootcause", 0) == []


async def test_sensitive_facts_need_a_clearance(api: App) -> None:
    a = await org(api)
    await api.store.execute_text(
        "MATCH (d:Domain {id: 'customers'}) CREATE (:Team {id: 'sales'})-[:CAN_READ]->(d)"
    )
    sales = await agent(api, "agent-sales", ["sell"], team="sales")
    await fact(a["cs"], "agent-impact", "cust-acme", "contact", "jane@acme.test", sensitivity="pii")
    await fact(a["cs"], "agent-impact", "cust-acme", "tier", "gold")
    assert {x["key"] for x in await ctx(a["cs"], "cust-acme", "agent-impact", 0)} == {
        "contact",
        "tier",
    }
    assert [x["key"] for x in await ctx(sales, "cust-acme", "agent-sales", 0)] == ["tier"]


async def test_facts_reach_permitted_agents_working_nearby_and_no_one_else(api: App) -> None:
    a = await org(api)
    web = await submit(api.admin, capability="diagnose", entities=["svc-web"])
    await a["sre"](CLAIM, a="agent-rootcause")
    far = await submit(api.admin, capability="reconcile", entities=["svc-ledger"])
    await a["pay"](CLAIM, a="agent-payments")
    await submit(api.admin, capability="compliance_check", entities=["svc-web"])
    await a["comp"](CLAIM, a="agent-compliance")  # near, but may not read commerce
    assert web and far
    # Each subscription resumes from the log's head as it was before the fact, so a socket
    # that registers late still gets it, and "no one else received it" is not vacuous.
    head = max((int(e["seq"]) for e in await all_events(api.admin)), default=0)
    async with (
        subscribe(
            api.url, a["sre"].token, UPDATES, {"a": "agent-rootcause", "after": head}
        ) as near_q,
        subscribe(
            api.url, a["comp"].token, UPDATES, {"a": "agent-compliance", "after": head}
        ) as comp_q,
        subscribe(
            api.url, a["pay"].token, UPDATES, {"a": "agent-payments", "after": head}
        ) as far_q,
    ):
        got = await fact(a["cs"], "agent-impact", "svc-checkout", "health", "degraded")
        assert got["recipients"] == ["agent-rootcause"]
        update = (await next_data(near_q))["contextUpdates"]
        assert update["fact"]["id"] == got["fact"]["id"]
        await asyncio.sleep(0.3)
        assert comp_q.empty() and far_q.empty()


async def test_lineage_upstream_downstream_and_grants(api: App) -> None:
    a = await org(api)
    t = await submit(api.admin, capability="diagnose", entities=["svc-payments"])
    await a["sre"](CLAIM, a="agent-rootcause")
    base = (await fact(a["sre"], "agent-rootcause", "svc-payments", "errors", 42))["fact"]
    derived = (
        await fact(
            a["sre"],
            "agent-rootcause",
            "svc-checkout",
            "cause",
            "payments",
            derivedFrom=[base["id"], t["id"]],
        )
    )["fact"]
    lin = """query($id: ID!, $d: Direction!) { lineage(id: $id, direction: $d, depth: 3) {
      nodes { id label } edges { from to type } } }"""
    up = (await a["sre"](lin, id=derived["id"], d="UPSTREAM"))["lineage"]
    ids = {n["id"] for n in up["nodes"]}
    assert {base["id"], t["id"], "agent-rootcause"} <= ids
    assert {"from": derived["id"], "to": base["id"], "type": "DERIVED_FROM"} in up["edges"]
    down = (await a["sre"](lin, id=base["id"], d="DOWNSTREAM"))["lineage"]
    assert derived["id"] in {n["id"] for n in down["nodes"]}
    # customer-success cannot read payments: the path through `base` is cut for it.
    cs_up = (await a["cs"](lin, id=derived["id"], d="UPSTREAM"))["lineage"]
    assert base["id"] not in {n["id"] for n in cs_up["nodes"]}
    dan = api.client(
        (await api.admin('mutation { rotateToken(principalId: "dan") }'))["rotateToken"]
    )
    audit_up = (await dan(lin, id=derived["id"], d="UPSTREAM"))["lineage"]
    assert base["id"] in {n["id"] for n in audit_up["nodes"]}


async def test_bad_facts_are_coded_and_write_nothing(api: App) -> None:
    a = await org(api)
    before = await graph_digest(api.store)
    i = {
        "agentId": "agent-rootcause",
        "entityId": "svc-web",
        "key": "k",
        "value": 1,
        "confidence": 0.5,
    }
    cases = [
        ({**i, "entityId": "no-such"}, "NOT_FOUND"),
        ({**i, "value": None}, "BAD_INPUT"),
        ({**i, "confidence": 1.5}, "BAD_INPUT"),
        ({**i, "id": "fact-x", "derivedFrom": ["fact-x"]}, "BAD_INPUT"),  # a cycle
        ({**i, "derivedFrom": ["fact-missing"]}, "NOT_FOUND"),
        ({**i, "key": "bad key!"}, "BAD_INPUT"),
        ({**i, "entityId": "cust-acme"}, "NOT_FOUND"),  # sre may not read customers: absent
        ({**i, "agentId": "agent-impact"}, "FORBIDDEN"),  # acting as someone else
    ]
    for bad, code in cases:
        assert await a["sre"].fails(ASSERT, i=bad) == [code], bad
    assert await graph_digest(api.store) == before
