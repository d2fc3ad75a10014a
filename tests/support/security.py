"""Helpers for the attack tests: principals of each role, and "refused, and nothing changed"."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.support.digest import graph_digest
from tests.support.gql import GQL

PRINCIPAL = "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }"
REGISTER = "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id team status } }"


async def principal(
    app: App,
    pid: str,
    role: str,
    *,
    agent_id: str | None = None,
    team: str | None = None,
    kind: str | None = None,
) -> GQL:
    """A client holding a fresh token of one role (an admin made it)."""
    got = await app.admin(
        PRINCIPAL,
        i={
            "id": pid,
            "kind": kind or ("agent" if role == "AGENT" else "service"),
            "name": pid,
            "roles": [role],
            "agentId": agent_id,
            "team": team,
        },
    )
    return app.client(got["createPrincipal"]["token"])


async def registered_agent(
    app: App,
    agent_id: str,
    caps: list[str],
    *,
    team: str | None = None,
    max_concurrency: int = 1,
) -> GQL:
    """An agent principal (granted ``team``) that registered itself in that team."""
    c = await principal(app, f"p-{agent_id}", "AGENT", agent_id=agent_id, team=team)
    await c(
        REGISTER,
        i={
            "id": agent_id,
            "name": agent_id,
            "capabilities": caps,
            "team": team,
            "maxConcurrency": max_concurrency,
        },
    )
    return c


async def refused(
    app: App, client: GQL, query: str, codes: list[str], **variables: Any
) -> list[dict[str, Any]]:
    """The call fails with exactly ``codes`` and the graph is byte-identical afterwards."""
    before = await graph_digest(app.store)
    body = await client.raw(query, variables)
    got = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert got == codes, body
    assert await graph_digest(app.store) == before, f"a refused call changed the graph: {query}"
    return list(body["errors"])
