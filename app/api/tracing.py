"""ASGI middleware: W3C ``traceparent`` in, ``traceresponse`` out, one JSON access line.

Every HTTP request and WebSocket handshake runs inside a trace context: the caller's (if it
sent a valid ``traceparent``) or a fresh one, so logs and the tasks/runs the request creates
carry trace ids that join the caller's tracing, and the caller learns the trace id Baton used
from ``traceresponse`` even when it sent none.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import tracecontext as tc

log = logging.getLogger("baton.http")


def _with_traceresponse(message: Message, value: bytes) -> Message:
    headers = [h for h in message.get("headers") or [] if h[0].lower() != b"traceresponse"]
    return {**message, "headers": [*headers, (b"traceresponse", value)]}


class TraceContextMiddleware:
    """Sets :data:`app.observability.tracecontext.CURRENT` for the request and answers with
    its ids."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope.get("headers") or [] if k == b"traceparent"), None)
        ctx, response = tc.for_request(raw)
        answer = response.encode()
        token = tc.set_current(ctx)
        status = {"code": 0}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                status["code"] = int(message.get("status", 101))
                message = _with_traceresponse(message, answer)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            status["code"] = status["code"] or 500
            raise
        finally:
            if scope["type"] == "http" and log.isEnabledFor(logging.INFO):
                method, path = scope.get("method"), scope.get("path")
                ms = round((time.perf_counter() - start) * 1000, 2)
                log.info(
                    "%s %s %s %.2fms",
                    method,
                    path,
                    status["code"],
                    ms,
                    extra={"method": method, "path": path, "status": status["code"], "ms": ms},
                )
            tc.reset(token)
