"""GraphQL over HTTP and WebSocket for SDK clients: coded errors, retries, resumable
subscriptions. Uses only the public API, like any third-party client would."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from baton_sdk import errors
from baton_sdk.errors import TransportError

log = logging.getLogger("baton.sdk")

__all__ = ["Transport", "TransportError", "backoff", "is_read", "raise_for_errors"]


def is_read(query: str) -> bool:
    """A query operation (not a mutation or subscription): safe to resend after the server
    timed it out."""
    head = query.lstrip()
    return head.startswith("{") or head.startswith("query")


def raise_for_errors(body: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` or raise the error class matching the first error's code."""
    errs = body.get("errors")
    if errs:
        raise errors.from_graphql(errs[0])
    return dict(body.get("data") or {})


def backoff(attempt: int, base: float = 0.1, cap: float = 5.0) -> float:
    """Exponential backoff with full jitter."""
    return float(random.uniform(0, min(cap, base * 2**attempt)))


class Transport:
    """One API endpoint and token; share it between coroutines."""

    def __init__(self, url: str, token: str, timeout: float = 30.0, retries: int = 5) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.retries = retries
        self._http = httpx.AsyncClient(
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation; connection failures and RATE_LIMITED are retried with backoff
        (operations are safe to resend: mutations are idempotent or fenced), and so are reads
        the server timed out or could not answer (a graph busy or cold: a Neo4j plans each
        statement on first use)."""
        read = is_read(query)
        for attempt in range(self.retries + 1):
            try:
                r = await self._http.post(
                    f"{self.url}/graphql", json={"query": query, "variables": variables or {}}
                )
                return raise_for_errors(r.json())
            except (httpx.TransportError, json.JSONDecodeError) as exc:
                if attempt == self.retries:
                    raise TransportError(f"Baton unreachable at {self.url}: {exc}") from exc
            except errors.RateLimited as exc:
                if attempt == self.retries:
                    raise
                await asyncio.sleep(float(exc.details.get("retryAfterMs", 100)) / 1000)
                continue
            except (errors.Timeout, errors.Unavailable):
                if not read or attempt == self.retries:
                    raise
                log.info(
                    "read timed out on the server; retrying (%d/%d)", attempt + 1, self.retries
                )
            await asyncio.sleep(backoff(attempt))
        raise AssertionError("unreachable")

    async def subscribe(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        cursor: int | None = None,
        seq_of: Any = None,
        max_backoff: float = 5.0,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield subscription payloads forever, reconnecting with backoff. The subscription
        must take ``after: Int``; each payload's seq (``seq_of(data)``) becomes the cursor, so
        a reconnect resumes without losing or repeating anything."""
        ws_url = self.url.replace("http://", "ws://").replace("https://", "wss://") + "/graphql"
        attempt = 0
        while True:
            try:
                async with websockets.connect(
                    ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
                ) as ws:
                    await ws.send(
                        json.dumps(
                            {
                                "type": "connection_init",
                                "payload": {"Authorization": f"Bearer {self.token}"},
                            }
                        )
                    )
                    ack = json.loads(await ws.recv())
                    if ack.get("type") != "connection_ack":
                        raise errors.Unauthenticated(f"subscription refused: {ack}")
                    await ws.send(
                        json.dumps(
                            {
                                "id": "1",
                                "type": "subscribe",
                                "payload": {
                                    "query": query,
                                    "variables": {**variables, "after": cursor},
                                },
                            }
                        )
                    )
                    attempt = 0
                    async for raw in ws:
                        msg = json.loads(raw)
                        if msg["type"] == "ping":
                            await ws.send(json.dumps({"type": "pong"}))
                        elif msg["type"] == "error":
                            raise_for_errors({"errors": msg["payload"]})
                        elif msg["type"] == "next":
                            data = raise_for_errors(msg["payload"])
                            if seq_of is not None:
                                cursor = int(seq_of(data))
                            yield data
                        elif msg["type"] == "complete":
                            break
            except (OSError, websockets.ConnectionClosed, websockets.InvalidHandshake) as exc:
                if (
                    isinstance(exc, websockets.ConnectionClosed)
                    and exc.rcvd
                    and exc.rcvd.code == 4403
                ):
                    raise errors.Unauthenticated("subscription refused: bad token") from exc
                delay = backoff(attempt, 0.1, max_backoff)
                attempt += 1
                log.info("subscription dropped (%s); reconnecting in %.2fs", exc, delay)
                await asyncio.sleep(delay)
