"""A raw graphql-transport-ws client for security tests: several operations on one socket,
every message kept (errors included), and the close code when the server ends it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets


class Socket:
    """One authenticated WebSocket; ``messages`` collects every server message by arrival."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.closed_at: float | None = None
        self._n = 0
        self._pump = asyncio.create_task(self._run())

    @classmethod
    async def open(cls, url: str, token: str) -> Socket:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        ws = await websockets.connect(
            ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        )
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        return cls(ws)

    async def _run(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if msg["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                await self.messages.put(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed_at = asyncio.get_running_loop().time()
            self.closed.set()

    async def start(self, query: str, **variables: Any) -> str:
        """Send a subscribe message (any operation); returns its id."""
        self._n += 1
        op = str(self._n)
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
        return op

    async def next(self, op: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message for operation ``op`` (others are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.messages.get()
                if msg.get("id") == op:
                    return msg

    def drain(self) -> list[dict[str, Any]]:
        out = []
        while not self.messages.empty():
            out.append(self.messages.get_nowait())
        return out

    async def close(self) -> None:
        await self.ws.close()
        self._pump.cancel()


def codes(msg: dict[str, Any]) -> list[str | None]:
    """``extensions.code`` of every error in an ``error`` or ``next`` message."""
    payload = msg.get("payload")
    errors: list[Any] = (payload if msg["type"] == "error" else (payload or {}).get("errors")) or []
    return [e.get("extensions", {}).get("code") for e in errors]
