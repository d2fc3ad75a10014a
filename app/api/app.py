"""FastAPI app factory: GraphQL at /graphql (GraphiQL in a browser), /health, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.unset import UNSET

from app import __version__
from app.api import inbound, metrics, strictjson
from app.api.errors import graph_error
from app.api.headers import SecurityHeaders
from app.api.limits import BodyLimit
from app.api.ratelimit import RateLimiter
from app.api.request import Ctx
from app.api.schema import build_schema
from app.api.tracing import TraceContextMiddleware
from app.config import Settings
from app.core import events, principals
from app.core.clock import Clock
from app.graph import GraphError
from app.runtime import Runtime, close_runtime, open_runtime

log = logging.getLogger("baton.api")


def _bearer(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


_refusal: contextvars.ContextVar[str | None] = contextvars.ContextVar("ws_refusal", default=None)

CLOSE_REVOKED = 4403
CLOSE_EXPIRED = 4401


class _Refused(Exception):
    """Close the socket with this WebSocket close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class BatonWSHandler(BaseGraphQLTransportWSHandler[Ctx, None]):
    """graphql-transport-ws with Baton's trust rules and refusals:

    - every operation on the socket re-authenticates the token against the graph (the
      principal's current state), and a revoked, rotated or expired token closes the socket;
    - a watcher tails the event log (so it works whichever replica revoked) and closes the
      socket within a poll interval of ``principal.revoked`` / ``principal.token_rotated``
      (4403), or at the token's expiry (4401); the event hub already stops delivering
      anything after that event to the socket's subscriptions;
    - errors carry the same ``extensions.code`` as over HTTP (:class:`ErrorCodes` codes each
      streamed result), and each operation takes its rate-limit token as over HTTP;
    - a refused message (too large, not strict JSON, a malformed envelope) or connection
      (socket cap, graph busy) closes with a clear reason instead of the generic one.
    """

    watcher: asyncio.Task[None] | None = None

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
            await self._close(exc.code, exc.reason[:120])
            return
        if self.connection_acknowledged and self.watcher is None:
            self.watcher = asyncio.create_task(self._watch(), name="baton-ws-session")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        ctx = self.context
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes 4401
            return
        try:
            fresh = await _current(ctx)
        except GraphError as exc:  # busy or down graph: this operation fails coded, not 500
            mapped = graph_error(exc)
            if mapped is None:
                raise
            ctx.auth_error = mapped
        else:
            if fresh is None:
                await self._close(CLOSE_REVOKED, "token revoked, rotated or expired")
                return
            ctx.principal = fresh
            ctx.auth_error = None
        token = events.SESSION.set(_session(ctx))
        try:
            await super().handle_subscribe(message)  # the operation task copies SESSION
        finally:
            events.SESSION.reset(token)

    async def shutdown(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.watcher
        await super().shutdown()

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    async def _watch(self) -> None:
        ctx = self.context
        session = _session(ctx)
        hub = ctx.rt.hub
        expires = ctx.principal.expires_at if ctx.principal else None
        wait = None if expires is None else max(0.0, (expires - ctx.rt.now()) / 1000)
        try:
            async with asyncio.timeout(wait):
                if hub is not None:
                    token = events.SESSION.set(session)
                    try:
                        kinds = sorted(events.SESSION_ENDING)
                        while True:
                            try:
                                async for _ in hub.subscribe(
                                    session.since, lambda _ev: False, kinds
                                ):
                                    pass  # ends at the event that revokes or rotates this token
                                break
                            except GraphError:  # a busy graph: keep watching
                                log.warning("session watcher: graph busy, retrying")
                                await asyncio.sleep(1.0)
                    finally:
                        events.SESSION.reset(token)
                else:
                    await asyncio.Event().wait()
            await self._close(CLOSE_REVOKED, "token revoked or rotated")
        except TimeoutError:
            await self._close(CLOSE_EXPIRED, "token expired")


def _session(ctx: Ctx) -> events.Session:
    return events.Session(ctx.caller.id, ctx.session_since)


async def _current(ctx: Ctx) -> Any:
    """The socket's principal as the graph has it now (None: revoked, rotated or expired)."""
    if ctx.token is None:
        return None
    return await principals.authenticate(ctx.rt.store, ctx.token, now=ctx.rt.now())


class BatonRouter(GraphQLRouter[Ctx, None]):
    """GraphQL router that authenticates WebSocket clients from ``connection_init`` (only the
    graphql-transport-ws protocol, whose handler enforces revocation and expiry), caps
    sockets per principal, and parses every client message as strict, bounded JSON."""

    graphql_transport_ws_handler_class = BatonWSHandler
    graphiql_page = Path(__file__).parent / "static" / "graphiql" / "index.html"

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        kwargs["subscription_protocols"] = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        super().__init__(*args, **kwargs)
        self.settings = settings
        self._sockets: dict[str, set[int]] = {}  # principal id -> open socket ids
        self._owner: dict[int, str] = {}  # socket id -> principal id

    async def render_graphql_ide(self, request: Any) -> HTMLResponse:
        """Baton's own GraphiQL page: its script and styles are served from /graphiql/ (built
        from npm packages by tools/graphiql, no CDN), so it works offline."""
        return HTMLResponse(self.graphiql_page.read_text())

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

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP body must be a JSON object (strawberry reads ``.get`` off any value, so
        a bare ``0`` or ``"x"`` used to end in an HTTP 500)."""
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        return parsed

    async def on_ws_connect(self, context: Ctx) -> Any:
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        token = _bearer(raw) or (
            params.get("token") if isinstance(params.get("token"), str) else None
        )
        if token is None and context.token is not None:
            token = context.token  # an Authorization header on the upgrade request
        try:
            context.session_since = await events.head(context.rt.store)
            principal = (
                await principals.authenticate(context.rt.store, token, now=context.rt.now())
                if token
                else None
            )
        except GraphError as exc:
            mapped = graph_error(exc)
            if mapped is None:
                raise
            raise _Refused(4503, f"{mapped.code}: {mapped.message}") from exc
        if principal is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.principal = principal
        context.token = token
        context.auth_error = None
        pid = principal.id
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
        """Also: every HTTP refusal of the request itself (no query, a query that is not a
        string, variables that are not an object, an unsupported content type) answers like
        any other bad input, a GraphQL error coded BAD_INPUT, logged at INFO."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            if exc.status_code != 400 or isinstance(request, WebSocket):
                raise
            log.info("refused request: %s", exc.reason)
            return Response(strictjson.error_body(exc.reason), 400, media_type="application/json")
        finally:
            pid = self._owner.pop(id(request), None)
            if pid is not None:
                held = self._sockets.get(pid)
                if held is not None:
                    held.discard(id(request))
                    if not held:
                        self._sockets.pop(pid, None)


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    seed_dir: Path | None = None,
    runtime: Runtime | None = None,
) -> FastAPI:
    """Build the ASGI app; the graph is opened in the lifespan, not at import (or by the
    caller: ``runtime``, which the app then owns and closes)."""
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or await open_runtime(settings, clock)
        holder["rt"] = rt
        app.state.rt = rt
        if seed_dir is not None:
            from app.core import seed

            counts = await seed.load(rt.store, seed_dir, now=rt.now())
            log.info("seeds loaded: %s", counts)
        # the first start's admin token, for the start-up banner (`baton serve` shows it once)
        app.state.first_admin_token = rt.admin_token if not settings.admin_token else None
        sched = None
        if settings.scheduler:
            from app.scheduler import start_scheduler

            sched = await start_scheduler(rt)
        try:
            yield
        finally:
            if sched is not None:
                await sched.stop()
            await close_runtime(rt)

    async def get_context(connection: HTTPConnection) -> Ctx:
        rt = holder["rt"]
        token = _bearer(connection.headers.get("authorization"))
        try:
            principal = (
                await principals.authenticate(rt.store, token, now=rt.now()) if token else None
            )
        except GraphError as exc:  # busy or down graph: a coded error, never an HTTP 500
            mapped = graph_error(exc)
            if mapped is None:
                raise
            ctx = Ctx(rt, limiter, None)
            ctx.auth_error = mapped
            ctx.token = token  # a WebSocket upgrade tries it again in connection_init
            return ctx
        ctx = Ctx(rt, limiter, principal)
        ctx.token = token if principal is not None else None
        return ctx

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
        return Response(await metrics.scrape(rt), media_type="text/plain; version=0.0.4")

    static = Path(__file__).parent / "static"

    @app.get("/inbox", response_class=HTMLResponse)
    async def inbox_page() -> HTMLResponse:
        """The humans' inbox (signs in with a token, talks to /graphql)."""
        return HTMLResponse((static / "inbox.html").read_text())

    @app.get("/inbox/lineage", response_class=HTMLResponse)
    async def lineage_page() -> HTMLResponse:
        return HTMLResponse((static / "lineage.html").read_text())

    # GraphiQL's bundle (tools/graphiql builds it), loaded by the page at GET /graphql.
    app.mount("/graphiql", StaticFiles(directory=static / "graphiql"), name="graphiql")

    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
    )
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(TraceContextMiddleware)
    app.add_middleware(SecurityHeaders, static=static)  # outermost: every answer has them
    return app
