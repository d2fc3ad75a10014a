"""FastAPI app factory: GraphQL at /graphql (GraphiQL in a browser), /health, /metrics."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import generate_latest
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.unset import UNSET

from app import __version__
from app.api import inbound, metrics, strictjson
from app.api.context import Ctx
from app.api.errors import graph_error
from app.api.limits import BodyLimit
from app.api.ratelimit import RateLimiter
from app.api.schema import build_schema
from app.api.tracing import TraceContextMiddleware
from app.config import Settings
from app.core import events, principals
from app.core.clock import Clock
from app.core.runtime import Runtime, close_runtime, open_runtime
from app.graph import GraphError

log = logging.getLogger("baton.api")


def _bearer(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


_refusal: contextvars.ContextVar[str | None] = contextvars.ContextVar("ws_refusal", default=None)


class _Refused(Exception):
    """Close the socket with this WebSocket close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class BatonWSHandler(BaseGraphQLTransportWSHandler[Ctx, None]):
    """graphql-transport-ws with Baton's refusals: a clear close reason for a refused
    message (too large, not strict JSON) and for a refused connection (socket cap, graph
    busy), instead of the generic ones."""

    async def handle_message(self, message: Any) -> None:
        """Refuse malformed envelopes (``null``, a list, a subscribe without a payload
        object) with 4400 instead of letting them raise inside the protocol handler."""
        kind = message.get("type") if isinstance(message, dict) else None
        if not isinstance(kind, str):
            await self.handle_invalid_message("message must be a JSON object with a type")
            return
        if kind == "subscribe":
            payload = message.get("payload")
            if (
                not isinstance(message.get("id"), str)
                or not isinstance(payload, dict)
                or not isinstance(payload.get("query"), str)
                or not isinstance(payload.get("variables") or {}, dict)
                or not isinstance(payload.get("operationName") or "", str)
            ):
                await self.handle_invalid_message(
                    "subscribe needs a string id and a payload with a string query"
                )
                return
        await super().handle_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        reason = _refusal.get()
        await self.websocket.close(code=4400, reason=(reason or error_message)[:120])

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except _Refused as exc:
            await self.websocket.close(code=exc.code, reason=exc.reason[:120])


class BatonRouter(GraphQLRouter[Ctx, None]):
    """GraphQL router that authenticates WebSocket clients from ``connection_init``, caps
    sockets per principal, and parses every client message as strict, bounded JSON."""

    graphql_transport_ws_handler_class = BatonWSHandler

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        kwargs["subscription_protocols"] = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        super().__init__(*args, **kwargs)
        self.settings = settings
        self._sockets: dict[str, set[int]] = {}  # principal id -> open socket ids
        self._owner: dict[int, str] = {}  # socket id -> principal id

    def decode_json(self, data: str | bytes) -> object:
        """GET variables and WebSocket messages: the HTTP body limit and strict JSON."""
        _refusal.set(None)
        size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "replace"))
        if size > self.settings.max_body_bytes:
            reason = f"message larger than {self.settings.max_body_bytes} bytes"
            _refusal.set(reason)
            raise strictjson.BadJson(reason)
        try:
            return strictjson.loads(data, self.settings.max_json_depth)
        except strictjson.BadJson as exc:
            _refusal.set(f"invalid JSON: {exc.reason}")
            raise

    async def on_ws_connect(self, context: Ctx) -> Any:
        if context.principal is None:
            params = context.connection_params or {}
            raw = params.get("Authorization") or params.get("authorization")
            token = _bearer(raw) or (
                params.get("token") if isinstance(params.get("token"), str) else None
            )
            try:
                principal = (
                    await principals.authenticate(context.rt.store, token) if token else None
                )
            except GraphError as exc:
                mapped = graph_error(exc)
                if mapped is None:
                    raise
                raise _Refused(4503, f"{mapped.code}: {mapped.message}") from exc
            if principal is None:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
            context.principal = principal
        pid = context.principal.id
        held = self._sockets.setdefault(pid, set())
        if len(held) >= self.settings.ws_max_sockets:
            raise _Refused(
                4429, f"RATE_LIMITED: at most {self.settings.ws_max_sockets} sockets per principal"
            )
        sid = id(context.request)
        held.add(sid)
        self._owner[sid] = pid
        return None

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            pid = self._owner.pop(id(request), None)
            if pid is not None:
                held = self._sockets.get(pid)
                if held is not None:
                    held.discard(id(request))
                    if not held:
                        self._sockets.pop(pid, None)


def create_app(
    settings: Settings, clock: Clock | None = None, seed_dir: Path | None = None
) -> FastAPI:
    """Build the ASGI app; the graph is opened in the lifespan, not at import."""
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = await open_runtime(settings, clock)
        holder["rt"] = rt
        app.state.rt = rt
        if seed_dir is not None:
            from app.core import seed

            counts = await seed.load(rt.store, seed_dir, now=rt.now())
            log.info("seeds loaded: %s", counts)
        if rt.admin_token and not settings.admin_token:
            print(
                f"\n  Baton admin token (shown once, keep it safe): {rt.admin_token}\n", flush=True
            )
        sched = None
        if settings.scheduler:
            from app.scheduler import start_scheduler

            sched = await start_scheduler(rt)
        try:
            yield
        finally:
            if sched is not None:
                sched.shutdown(wait=False)
            await close_runtime(rt)

    async def get_context(connection: HTTPConnection) -> Ctx:
        rt = holder["rt"]
        token = _bearer(connection.headers.get("authorization"))
        try:
            principal = await principals.authenticate(rt.store, token) if token else None
        except GraphError as exc:  # busy or down graph: a coded error, never an HTTP 500
            mapped = graph_error(exc)
            if mapped is None:
                raise
            ctx = Ctx(rt, limiter, None)
            ctx.auth_error = mapped
            return ctx
        return Ctx(rt, limiter, principal)

    app = FastAPI(title="Baton", version=__version__, lifespan=lifespan)
    router = BatonRouter(
        build_schema(settings),
        context_getter=get_context,
        graphql_ide="graphiql",
        settings=settings,
    )
    app.include_router(router, prefix="/graphql")
    app.include_router(inbound.router)

    @app.get("/health")
    async def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.rt
        try:
            info = await rt.store.health()
        except Exception as exc:  # report, don't crash: this is what probes call
            return JSONResponse({"ok": False, "backend": rt.store.backend, "error": str(exc)}, 503)
        return JSONResponse({**info, "version": __version__})

    @app.get("/metrics")
    async def prometheus(request: Request) -> Response:
        rt: Runtime = request.app.state.rt
        metrics.EVENT_SEQ.set(await events.head(rt.store))
        metrics.SUBSCRIBERS.set(rt.hub.subscribers if rt.hub else 0)
        for hook in metrics.SCRAPE_HOOKS:
            await hook(rt)
        return Response(generate_latest(metrics.REGISTRY), media_type="text/plain; version=0.0.4")

    static = Path(__file__).parent / "static"

    @app.get("/inbox", response_class=HTMLResponse)
    async def inbox_page() -> HTMLResponse:
        """The humans' inbox (signs in with a token, talks to /graphql)."""
        return HTMLResponse((static / "inbox.html").read_text())

    @app.get("/inbox/lineage", response_class=HTMLResponse)
    async def lineage_page() -> HTMLResponse:
        return HTMLResponse((static / "lineage.html").read_text())

    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
    )
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(TraceContextMiddleware)
    return app
