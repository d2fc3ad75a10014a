"""Finding 6: revocation, rotation and expiry reach live WebSockets.

An operator subscribed to ``graphChanges`` is revoked by the admin: its socket closes (4403)
within a second, no event after the revocation reaches it, and a new operation on the old
socket is refused. The same holds when the revocation is written through another replica
(the socket's replica learns it from the event log), after ``rotateToken``, and when the
token's ``expiresAt`` passes (4401)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import websockets

from tests.conftest import ADMIN_TOKEN, App, second_replica
from tests.security.ws import Socket, codes
from tests.support.digest import graph_digest
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget

CHANGES = "subscription { graphChanges { seq type subject } }"
EMIT = 'mutation($s: String) { emitEvent(type: "probe.tick", subject: $s) { seq } }'
CREATE = """mutation($i: CreatePrincipalInput!) {
  createPrincipal(input: $i) { token principal { id expiresAt } } }"""
REVOKE = "mutation($p: String!) { revokeToken(principalId: $p) }"
ROTATE = "mutation($p: String!) { rotateToken(principalId: $p) }"
DEMOTE = "mutation($p: String!) { setRoles(principalId: $p, roles: [AUDITOR]) }"


async def principal(api: App, pid: str, roles: list[str], **extra: Any) -> str:
    got = await api.admin(
        CREATE, i={"id": pid, "kind": "service", "name": pid, "roles": roles, **extra}
    )
    return str(got["createPrincipal"]["token"])


async def subscribed(api: App, token: str) -> tuple[Socket, str]:
    """A socket with a live graphChanges subscription that has delivered one event."""
    sock = await Socket.open(api.url, token)
    op = await sock.start(CHANGES)
    await asyncio.sleep(0.2)
    await api.admin(EMIT, s="before")
    msg = await sock.next(op)
    assert msg["payload"]["data"]["graphChanges"]["subject"] == "before", msg
    return sock, op


async def revoked_socket_is_cut_off(
    api: App, sock: Socket, op: str, end: GQL, mutation: str, pid: str, code: int
) -> None:
    before = asyncio.get_running_loop().time()
    revoked_at = await end(mutation, p=pid)
    assert revoked_at
    # Events written after the revocation must never reach the old socket.
    for i in range(5):
        await api.admin(EMIT, s=f"after-{i}")
    await asyncio.wait_for(sock.closed.wait(), 1.0)
    assert sock.closed_at is not None and sock.closed_at - before < 1.0
    assert sock.close_code == code
    leaked = [
        m
        for m in sock.drain()
        if m["type"] == "next"
        and m["payload"]["data"]["graphChanges"]["subject"].startswith("after")
    ]
    assert leaked == []
    # A new operation on the old socket cannot run.
    try:
        op2 = await sock.start("query { me { id } }")
        msg = await sock.next(op2, timeout=1.0)
        raise AssertionError(f"an operation ran on a revoked socket: {msg}")
    except (TimeoutError, websockets.ConnectionClosed):
        pass  # closed socket: refused


async def test_revoke_closes_the_socket_within_a_second(api: App) -> None:
    token = await principal(api, "ops-1", ["OPERATOR"])
    sock, op = await subscribed(api, token)
    await revoked_socket_is_cut_off(api, sock, op, api.admin, REVOKE, "ops-1", 4403)


async def test_a_role_change_closes_the_socket_opened_with_the_old_roles(api: App) -> None:
    """setRoles: an operator narrowed to auditor keeps no socket that holds operator rights;
    its token still works and a new connection carries the new roles. An operator may not
    change roles, an admin may not drop its own admin role, and the change is audited."""
    token = await principal(api, "ops-9", ["OPERATOR"])
    op_client = api.client(token)
    assert await op_client.fails(DEMOTE, p="ops-9") == ["FORBIDDEN"]
    sock, op = await subscribed(api, token)
    await revoked_socket_is_cut_off(api, sock, op, api.admin, DEMOTE, "ops-9", 4403)
    me = await op_client("query { me { roles } }")
    assert me["me"]["roles"] == ["auditor"]
    assert (await api.admin(DEMOTE, p="ops-9"))["setRoles"] is False  # same roles: no write
    assert await api.admin.fails(
        'mutation { setRoles(principalId: "admin", roles: [OPERATOR]) }'
    ) == ["BAD_INPUT"]
    assert await api.admin.fails(DEMOTE, p="nobody") == ["NOT_FOUND"]
    rows = await api.store.execute_text(
        "MATCH (e:Event {type: 'principal.roles_changed'}) RETURN e.payload AS p"
    )
    assert [r["p"] for r in rows] == [
        '{"before":["operator"],"principalId":"ops-9","roles":["auditor"]}'
    ]


async def test_rotate_ends_the_old_sessions_not_the_new_ones(api: App) -> None:
    token = await principal(api, "ops-2", ["OPERATOR"])
    sock, op = await subscribed(api, token)
    new = (await api.admin(ROTATE, p="ops-2"))["rotateToken"]
    await asyncio.wait_for(sock.closed.wait(), 1.0)
    assert sock.close_code == 4403
    fresh, op2 = await subscribed(api, new)  # a session on the new token works and stays
    await asyncio.sleep(0.3)
    assert not fresh.closed.is_set()
    await fresh.close()


async def test_an_operation_on_a_revoked_socket_is_refused(api: App) -> None:
    """Authorisation is per operation, against the graph: even before the watcher closes
    the socket, a revoked token runs nothing."""
    token = await principal(api, "ops-3", ["OPERATOR"])
    sock = await Socket.open(api.url, token)
    await api.admin(REVOKE, p="ops-3")
    digest = await graph_digest(api.store)
    try:
        op = await sock.start(EMIT.replace("probe.tick", "probe.late"), s="x")
        msg = await sock.next(op, timeout=1.5)
        assert msg["type"] == "error" and codes(msg) in (["UNAUTHENTICATED"], ["FORBIDDEN"]), msg
    except (TimeoutError, websockets.ConnectionClosed):
        pass  # the socket was already closed: refused
    await asyncio.wait_for(sock.closed.wait(), 1.0)
    assert sock.close_code == 4403
    assert await graph_digest(api.store) == digest


async def test_expired_token_closes_its_socket_and_stops_working(api: App) -> None:
    token = await principal(api, "ops-4", ["OPERATOR"], ttlSeconds=1)
    sock, _ = await subscribed(api, token)
    await asyncio.wait_for(sock.closed.wait(), 2.5)
    assert sock.close_code == 4401
    assert await api.client(token).fails("{ me { id } }") == ["UNAUTHENTICATED"]
    got = await api.admin("{ principals { nodes { id expiresAt } } }")
    assert any(p["id"] == "ops-4" and p["expiresAt"] for p in got["principals"]["nodes"])


async def test_expiry_in_the_past_is_bad_input(api: App) -> None:
    digest = await graph_digest(api.store)
    i = {"id": "ops-5", "kind": "service", "name": "x", "roles": ["OPERATOR"], "expiresAt": 1}
    assert await api.admin.fails(CREATE, i=i) == ["BAD_INPUT"]
    i = {**i, "expiresAt": None, "ttlSeconds": 0}
    assert await api.admin.fails(CREATE, i=i) == ["BAD_INPUT"]
    assert await graph_digest(api.store) == digest


async def test_revocation_through_another_replica_closes_the_socket(
    api: App, graph: GraphTarget, tmp_path: Path
) -> None:
    async with second_replica(api, graph, tmp_path / "replica.log") as other:
        token = await principal(api, "ops-6", ["OPERATOR"])
        sock, op = await subscribed(api, token)
        remote = GQL(other.url, ADMIN_TOKEN, api.http)
        await revoked_socket_is_cut_off(api, sock, op, remote, REVOKE, "ops-6", 4403)
