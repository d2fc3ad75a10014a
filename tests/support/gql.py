"""Test clients that talk to a real Baton over real HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx
import websockets


class Endpoint(Protocol):
    """A served Baton, in this process or another: its URL, an admin client, and clients
    for other tokens."""

    url: str
    admin: GQL

    def client(self, token: str | None) -> GQL: ...


class GraphQLFailure(AssertionError):
    """The response carried errors; ``codes`` lists their ``extensions.code``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(json.dumps(errors, indent=1))
        self.errors = errors
        self.codes = [e.get("extensions", {}).get("code") for e in errors]


class GQL:
    """Minimal GraphQL-over-HTTP client bound to one token."""

    def __init__(self, url: str, token: str | None, client: httpx.AsyncClient) -> None:
        self.url, self.token, self.client = url, token, client

    def as_(self, token: str | None) -> GQL:
        """The same client with another token."""
        return GQL(self.url, token, self.client)

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        r = await self.client.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        return dict(r.json())

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Run and return ``data``; raise :class:`GraphQLFailure` on any error."""
        body = await self.raw(query, {**(variables or {}), **kw})
        if body.get("errors"):
            raise GraphQLFailure(body["errors"])
        return body["data"]

    async def fails(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> list[str | None]:
        """Run, expect errors, return their codes."""
        body = await self.raw(query, {**(variables or {}), **kw})
        assert body.get("errors"), f"expected an error, got {body}"
        return [e.get("extensions", {}).get("code") for e in body["errors"]]


@asynccontextmanager
async def subscribe(
    url: str, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Open a graphql-transport-ws subscription; yields a queue of ``next`` payloads' data."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    proto = [websockets.Subprotocol("graphql-transport-ws")]
    async with websockets.connect(ws_url, subprotocols=proto) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {token}"} if token else {},
                }
            )
        )
        try:
            ack = json.loads(await ws.recv())
        except websockets.ConnectionClosed as exc:  # 4403: connection_init rejected
            raise GraphQLFailure(
                [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]
            ) from exc
        if ack["type"] != "connection_ack":
            raise GraphQLFailure([{"message": str(ack), "extensions": {"code": "UNAUTHENTICATED"}}])
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def pump() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "next":
                    await queue.put(msg["payload"])
                elif msg["type"] == "error":
                    await queue.put({"errors": msg["payload"]})
                elif msg["type"] == "complete":
                    return
                elif msg["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()


async def next_data(queue: asyncio.Queue[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
    """The next subscription payload's ``data`` (fails on errors or timeout)."""
    payload = await asyncio.wait_for(queue.get(), timeout)
    if payload.get("errors"):
        raise GraphQLFailure(payload["errors"])
    return dict(payload["data"])


async def event_head(gql: GQL) -> int:
    """The newest event seq: subscribe with ``after`` set to it, taken before the action, so
    a socket that registers late still replays the action's events (no readiness race)."""
    return int((await gql("{ eventHead }"))["eventHead"])
