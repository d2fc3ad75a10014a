"""Run one GraphQL block of the README tour from the tour's shell: a query or mutation over
HTTP, a subscription over WebSocket until its first event. Prints the answer as JSON; exits 1
on errors. ``python -m tests.support.tour URL TOKEN < operation``."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import websockets


async def subscribe(url: str, token: str, query: str) -> int:
    ws_url = url.replace("http", "ws", 1)
    async with websockets.connect(
        ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": query}}))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
    print(json.dumps(msg.get("payload")))
    return 0 if msg["type"] == "next" and not (msg.get("payload") or {}).get("errors") else 1


def main() -> int:
    url, token = sys.argv[1:3]
    query = sys.stdin.read()
    if query.lstrip().startswith("subscription"):
        return asyncio.run(subscribe(url, token, query))
    r = httpx.post(url, json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    print(r.text)
    return 1 if r.json().get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
