"""ASGI middleware: W3C ``traceparent`` in, ``traceresponse`` out, one JSON access line.

Every HTTP request and WebSocket handshake runs inside a trace context: the caller's (if it
sent a valid ``traceparent``) or a fresh one, so logs and the tasks/runs the request creates
carry trace ids that join the caller's tracing.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import tracecontext as tc

log = logging.getLogger("baton.http")


class TraceContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(b"traceparent")
        ctx = tc.parse(raw.decode("latin-1") if raw else None) or tc.TraceContext(
            tc.new_trace_id(), tc.new_span_id()
        )
        token = tc.CURRENT.set(ctx)
        server_span = tc.new_span_id()
        status = {"code": 0}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                answer = tc.format_traceparent(ctx.trace_id, server_span)
                headers.append((b"traceresponse", answer.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if scope["type"] == "http":
                log.info("%s %s %s", scope.get("method"), scope.get("path"), status["code"],
                         extra={"method": scope.get("method"), "path": scope.get("path"),
                                "status": status["code"],
                                "ms": round((time.perf_counter() - start) * 1000, 2)})  # fmt: skip
            tc.CURRENT.reset(token)
