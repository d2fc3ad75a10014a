"""FastAPI app factory: GraphQL at /graphql (GraphiQL in a browser), /health, /metrics."""

from __future__ import annotations

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

from app import __version__
from app.api import inbound, metrics
from app.api.context import Ctx
from app.api.headers import SecurityHeaders
from app.api.limits import BodyLimit
from app.api.ratelimit import RateLimiter
from app.api.schema import build_schema
from app.api.tracing import TraceContextMiddleware
from app.config import Settings
from app.core import events, principals
from app.core.clock import Clock
from app.core.runtime import Runtime, admin_token_path, close_runtime, open_runtime

log = logging.getLogger("baton.api")


def _bearer(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


class BatonRouter(GraphQLRouter[Ctx, None]):
    """GraphQL router that authenticates WebSocket clients from ``connection_init``."""

    async def on_ws_connect(self, context: Ctx) -> Any:
        if context.principal is not None:
            return None
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        token = _bearer(raw) or (
            params.get("token") if isinstance(params.get("token"), str) else None
        )
        principal = await principals.authenticate(context.rt.store, token) if token else None
        if principal is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.principal = principal
        return None


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
                f"\n  Baton admin token (shown once, keep it safe): {rt.admin_token}\n"
                f"  (also kept in {admin_token_path(settings)}, mode 0600: `baton admin-token`)\n",
                flush=True,
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
        principal = await principals.authenticate(rt.store, token) if token else None
        return Ctx(rt, limiter, principal)

    app = FastAPI(title="Baton", version=__version__, lifespan=lifespan)
    router = BatonRouter(build_schema(settings), context_getter=get_context, graphql_ide="graphiql")
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

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(TraceContextMiddleware)
    app.add_middleware(SecurityHeaders, static=static)  # outermost: every answer has them
    return app
