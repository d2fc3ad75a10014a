"""Findings 2 and 5: who an agent works for and where an entity belongs are admin acts.

An agent cannot put itself in another team (nor pick a team it was never granted), and an
integration cannot move an entity to another domain; both change who may read what. The
refused calls change nothing; the permitted changes are audited with before and after."""

from __future__ import annotations

from pathlib import Path

from app.core import seed
from tests.conftest import App
from tests.support.security import REGISTER, principal, refused, registered_agent

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
UPSERT = "mutation($e: [EntityInput!]!) { upsertEntities(entities: $e) }"
AUDIT = """query($types: [String!]) { auditLog(types: $types, first: 50) {
  nodes { type actor subject payload } } }"""


def reg(agent_id: str, team: str | None) -> dict[str, object]:
    return {"id": agent_id, "name": agent_id, "capabilities": ["diagnose"], "team": team}


async def domain_of(app: App, entity_id: str) -> list[str]:
    rows = await app.store.execute_text(
        f"MATCH (:Entity {{id: '{entity_id}'}})-[:IN_DOMAIN]->(d:Domain) RETURN d.id AS d"
    )
    return [r["d"] for r in rows]


async def team_of(app: App, agent_id: str) -> list[str]:
    rows = await app.store.execute_text(
        f"MATCH (:Agent {{id: '{agent_id}'}})-[:MEMBER_OF]->(t:Team) RETURN t.id AS t"
    )
    return [r["t"] for r in rows]


async def test_an_agent_cannot_move_itself_into_another_team(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    sre = await registered_agent(api, "sre-bot", ["diagnose"], team="sre")
    assert await team_of(api, "sre-bot") == ["sre"]
    # The attack: re-register into payments-eng (whose facts sre may not read) or secops.
    for team in ("payments-eng", "secops", "compliance"):
        await refused(api, sre, REGISTER, ["FORBIDDEN"], i=reg("sre-bot", team))
    assert await team_of(api, "sre-bot") == ["sre"]
    # Re-registering in its own team (or naming none) is an ordinary re-registration.
    again = await sre(REGISTER, i=reg("sre-bot", "sre"))
    assert again["registerAgent"]["team"] == "sre"
    assert (await sre(REGISTER, i=reg("sre-bot", None)))["registerAgent"]["team"] == "sre"


async def test_a_new_agent_joins_only_the_team_an_admin_granted(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    stray = await principal(api, "p-stray", "AGENT", agent_id="stray")  # no team granted
    await refused(api, stray, REGISTER, ["FORBIDDEN"], i=reg("stray", "secops"))
    granted = await principal(api, "p-cs", "AGENT", agent_id="cs-bot", team="customer-success")
    await refused(api, granted, REGISTER, ["FORBIDDEN"], i=reg("cs-bot", "compliance"))
    ok = await granted(REGISTER, i=reg("cs-bot", "customer-success"))
    assert ok["registerAgent"]["team"] == "customer-success"
    # An unknown team is NOT_FOUND, still nothing written; granting one is an admin act.
    await refused(api, granted, REGISTER, ["NOT_FOUND"], i=reg("cs-bot", "no-such-team"))
    op = await principal(api, "op-1", "OPERATOR", kind="human")
    await refused(
        api,
        op,
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        ["FORBIDDEN"],
        i={
            "id": "p-x",
            "kind": "agent",
            "name": "x",
            "roles": ["AGENT"],
            "agentId": "x",
            "team": "secops",
        },
    )
    await refused(
        api,
        api.admin,
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        ["NOT_FOUND"],
        i={
            "id": "p-y",
            "kind": "agent",
            "name": "y",
            "roles": ["AGENT"],
            "agentId": "y",
            "team": "no-such-team",
        },
    )


async def test_an_admin_moves_an_agent_and_the_move_is_audited(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    await registered_agent(api, "mover", ["diagnose"], team="sre")
    moved = await api.admin(REGISTER, i=reg("mover", "payments-eng"))
    assert moved["registerAgent"]["team"] == "payments-eng"
    assert await team_of(api, "mover") == ["payments-eng"]
    log = (await api.admin(AUDIT, types=["agent.team_changed"]))["auditLog"]["nodes"]
    assert [(e["actor"], e["subject"], e["payload"]) for e in log] == [
        ("p-mover", "mover", {"agentId": "mover", "before": None, "after": "sre"}),
        ("admin", "mover", {"agentId": "mover", "before": "sre", "after": "payments-eng"}),
    ]


async def test_an_integration_cannot_move_an_entity_to_another_domain(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    hook = await principal(api, "ci", "INTEGRATION")
    web = {"id": "svc-web", "kind": "service", "name": "Storefront web", "domain": "commerce"}
    # The attack: svc-web (commerce) into payments, alone or hidden in a batch with a new one.
    await refused(api, hook, UPSERT, ["FORBIDDEN"], e=[{**web, "domain": "payments"}])
    new = {"id": "svc-new", "kind": "service", "name": "New", "domain": "commerce"}
    await refused(api, hook, UPSERT, ["FORBIDDEN"], e=[new, {**web, "domain": "customers"}])
    assert await domain_of(api, "svc-web") == ["commerce"]
    assert await domain_of(api, "svc-new") == []
    # Creating entities and updating them in place stay the integration's job.
    assert (await hook(UPSERT, e=[new, {**web, "name": "Web"}]))["upsertEntities"] == 2
    assert await domain_of(api, "svc-new") == ["commerce"]
    # An operator may move one; the move is audited with the old and the new domain.
    op = await principal(api, "op-2", "OPERATOR", kind="human")
    assert (await op(UPSERT, e=[{**web, "domain": "platform"}]))["upsertEntities"] == 1
    assert await domain_of(api, "svc-web") == ["platform"]
    log = (await api.admin(AUDIT, types=["entity.moved"]))["auditLog"]["nodes"]
    assert [(e["actor"], e["subject"], e["payload"]) for e in log] == [
        ("op-2", "svc-web", {"entityId": "svc-web", "from": "commerce", "to": "platform"})
    ]
