"""Refuse oversized or malformed request bodies before anything parses them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import strictjson


class BodyLimit:
    """413 with a coded GraphQL error when a body exceeds ``max_bytes`` (declared or streamed);
    400 ``BAD_INPUT`` when a JSON body for ``/graphql`` is not strict JSON (invalid UTF-8,
    lone surrogates, ``NaN``/``Infinity``, nested deeper than ``max_depth``)."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int = 64) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"request body larger than {self.max_bytes} bytes",
                        "extensions": {"code": "BAD_INPUT"},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _bad(self, send: Send, reason: str) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": strictjson.error_body(reason)})

    @staticmethod
    def _json_graphql(scope: Scope) -> bool:
        if scope.get("method") != "POST" or not str(scope.get("path", "")).startswith("/graphql"):
            return False
        for key, value in scope.get("headers", []):
            if key == b"content-type":
                return b"json" in value.lower()
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        if self._json_graphql(scope):
            await self._strict(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(send)

    async def _strict(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole (bounded) body, check it, then hand the same bytes on."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            strictjson.loads(body, self.max_depth)
        except strictjson.BadJson as exc:
            await self._bad(send, f"invalid request JSON: {exc.reason}")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class _TooLarge(Exception):
    pass
