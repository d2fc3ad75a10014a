"""Finding 11: a refused operation over WebSocket carries the same ``extensions.code`` as over
HTTP (acting as another agent, a role without the right, bad input), and changes nothing."""

from __future__ import annotations

from tests.conftest import App
from tests.security.ws import Socket, codes
from tests.support.coord import agent
from tests.support.digest import graph_digest

TASKS = "subscription($a: String!) { taskAssigned(agentId: $a) { type } }"
CHANGES = "subscription { graphChanges { seq type } }"
INBOX = "subscription { inboxUpdates { type } }"
CONTEXT = "subscription($a: String!) { contextUpdates(agentId: $a) { seq } }"
HEARTBEAT = "mutation($a: String!) { heartbeat(agentId: $a) { __typename } }"


async def test_refused_subscriptions_carry_the_http_code(api: App) -> None:
    a = await agent(api, "ws-a", ["x"])
    await agent(api, "ws-b", ["x"])
    before = await graph_digest(api.store)
    sock = await Socket.open(api.url, a.token or "")
    try:
        cases = [
            (TASKS, {"a": "ws-b"}),  # acting as another agent
            (CONTEXT, {"a": "ws-b"}),
            (CHANGES, {}),  # a role without the right
            (INBOX, {}),
        ]
        for query, variables in cases:
            op = await sock.start(query, **variables)
            msg = await sock.next(op)
            assert codes(msg) == ["FORBIDDEN"], (query, msg)
        # A mutation over the socket is refused with the same code as over HTTP.
        op = await sock.start(HEARTBEAT, a="ws-b")
        msg = await sock.next(op)
        assert codes(msg) == ["FORBIDDEN"] == await a.fails(HEARTBEAT, a="ws-b"), msg
        # Bad input is coded too.
        op = await sock.start("subscription { graphChanges(types: 5) { seq } }")
        assert codes(await sock.next(op)) == ["BAD_INPUT"]
    finally:
        await sock.close()
    assert await graph_digest(api.store) == before
