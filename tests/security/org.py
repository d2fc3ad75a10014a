"""The seeded demo org with tokens for its agents, humans and an integration, for attacks
tried as the role that would try them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core import seed
from tests.conftest import App
from tests.support.coord import agent
from tests.support.gql import GQL

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ASSERT = """mutation($i: AssertFactInput!) { assertFact(input: $i) {
  fact { id key value } superseded contradicted recipients } }"""


async def human(api: App, pid: str) -> GQL:
    """A seeded human (no token until rotated) with a fresh token."""
    got = await api.admin("mutation($p: String!) { rotateToken(principalId: $p) }", p=pid)
    return api.client(got["rotateToken"])


async def service(api: App, pid: str, roles: list[str]) -> GQL:
    got = await api.admin(
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        i={"id": pid, "kind": "service", "name": pid, "roles": roles},
    )
    return api.client(got["createPrincipal"]["token"])


async def org(api: App) -> dict[str, GQL]:
    """sre/cs/comp/pay agents (teams sre, customer-success, compliance, payments-eng), a
    `sales` agent that may read customers but is not cleared for pii, the humans alice
    (operator, sre), bob (operator, payments-eng), dan (auditor, compliance), and an
    integration with no team."""
    await seed.load(api.store, SEEDS, now=api.rt.now())
    await api.store.execute_text(
        "MATCH (d:Domain {id: 'customers'}) MERGE (:Team {id: 'sales'})-[:CAN_READ]->(d)"
    )
    return {
        "sre": await agent(api, "agent-rootcause", ["diagnose"], 4, team="sre"),
        "cs": await agent(api, "agent-impact", ["business_impact"], 4, team="customer-success"),
        "comp": await agent(api, "agent-compliance", ["compliance_check"], 4, team="compliance"),
        "pay": await agent(api, "agent-payments", ["reconcile"], 4, team="payments-eng"),
        "sales": await agent(api, "agent-sales", ["sell"], 4, team="sales"),
        "alice": await human(api, "alice"),
        "bob": await human(api, "bob"),
        "dan": await human(api, "dan"),
        "integ": await service(api, "integ-1", ["INTEGRATION"]),
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
