"""Authentication and role checks over real HTTP and WebSocket."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.support.gql import GraphQLFailure, subscribe

CREATE = """mutation($id: String!, $kind: String!, $roles: [Role!]!, $agentId: String) {
  createPrincipal(input: {id: $id, kind: $kind, name: $id, roles: $roles, agentId: $agentId}) {
    principal { id roles } token } }"""
EMIT = 'mutation { emitEvent(type: "deploy.created", payload: {a: 1}) { seq } }'


async def make(
    api: App, pid: str, roles: list[str], kind: str = "service", agent: str | None = None
) -> str:
    data = await api.admin(CREATE, id=pid, kind=kind, roles=roles, agentId=agent)
    return str(data["createPrincipal"]["token"])


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer bt_forged", "Basic abc", "Bearer"])
async def test_missing_or_bad_token_is_unauthenticated(api: App, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = await api.http.post(f"{api.url}/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_websocket_needs_a_token(api: App) -> None:
    with pytest.raises(GraphQLFailure) as err:
        async with subscribe(api.url, "bt_forged", "subscription { graphChanges { seq } }"):
            pass
    assert err.value.codes == ["UNAUTHENTICATED"]


async def test_auditor_cannot_mutate(api: App) -> None:
    token = await make(api, "aud", ["AUDITOR"])
    auditor = api.client(token)
    assert await auditor.fails(EMIT) == ["FORBIDDEN"]
    assert await auditor.fails(CREATE, id="x", kind="service", roles=["ADMIN"]) == ["FORBIDDEN"]
    q = "{ events(first: 50) { nodes { seq type subject } } }"
    seen = (await auditor(q))["events"]["nodes"]
    assert seen == (await api.admin(q))["events"]["nodes"]  # the whole log, as the admin sees it
    assert {"type": "principal.created", "subject": "aud"} in [
        {"type": e["type"], "subject": e["subject"]} for e in seen
    ]


async def test_agent_cannot_administer_or_read_the_whole_log(api: App) -> None:
    token = await make(api, "ag", ["AGENT"], kind="agent", agent="agent-x")
    agent = api.client(token)
    assert await agent.fails("{ events { nodes { seq } } }") == ["FORBIDDEN"]
    assert await agent.fails(CREATE, id="y", kind="service", roles=["ADMIN"]) == ["FORBIDDEN"]
    me = await agent("{ me { id agentId roles } }")
    assert me["me"] == {"id": "ag", "agentId": "agent-x", "roles": ["agent"]}


async def test_agent_principal_needs_an_agent_id(api: App) -> None:
    assert await api.admin.fails(CREATE, id="z", kind="agent", roles=["AGENT"]) == ["BAD_INPUT"]


async def test_revoked_token_stops_working_at_once(api: App) -> None:
    token = await make(api, "int", ["INTEGRATION"])
    integ = api.client(token)
    assert (await integ(EMIT))["emitEvent"]["seq"] > 0
    await api.admin('mutation { revokeToken(principalId: "int") }')
    assert await integ.fails(EMIT) == ["UNAUTHENTICATED"]
    assert await api.admin.fails('mutation { revokeToken(principalId: "int") }') == ["CONFLICT"]
    assert await api.admin.fails('mutation { revokeToken(principalId: "ghost") }') == ["NOT_FOUND"]


async def test_rotated_token_replaces_the_old_one(api: App) -> None:
    old = await make(api, "rot", ["INTEGRATION"])
    new = (await api.admin('mutation { rotateToken(principalId: "rot") }'))["rotateToken"]
    assert await api.client(old).fails("{ me { id } }") == ["UNAUTHENTICATED"]
    assert (await api.client(new)("{ me { id } }"))["me"]["id"] == "rot"


async def test_duplicate_principal_is_a_conflict(api: App) -> None:
    await make(api, "dupe", ["INTEGRATION"])
    assert await api.admin.fails(CREATE, id="dupe", kind="service", roles=["INTEGRATION"]) == [
        "CONFLICT"
    ]


async def test_tokens_are_stored_only_as_hashes(api: App) -> None:
    token = await make(api, "hashed", ["INTEGRATION"])
    rows = await api.store.execute_text("MATCH (p:Principal {id: 'hashed'}) RETURN p {.*} AS p")
    assert token not in str(rows) and len(rows[0]["p"]["tokenHash"]) == 64
