"""Per-request GraphQL context: who is calling and the process runtime."""

from __future__ import annotations

from typing import Any

from strawberry.fastapi import BaseContext
from strawberry.types import Info

from app.api.ratelimit import RateLimiter
from app.core.errors import BatonError
from app.models import Principal
from app.runtime import Runtime


class Ctx(BaseContext):
    """What resolvers see as ``info.context``."""

    def __init__(self, rt: Runtime, limiter: RateLimiter, principal: Principal | None) -> None:
        super().__init__()
        self.rt = rt
        self.limiter = limiter
        self.principal = principal
        self.connection_params: dict[str, Any] | None = None
        self.auth_error: BatonError | None = None  # the graph failed while authenticating
        self.socket_id: int | None = None  # set for WebSocket connections (caps per principal)
        self.token: str | None = None  # the bearer token (WebSockets re-check it per operation)
        self.session_since = 0  # the log head when a WebSocket authenticated
        self.memo: dict[str, tuple[float, Any]] = {}  # short-lived per-connection read cache

    @property
    def caller(self) -> Principal:
        """The authenticated principal (authorization ran before any resolver)."""
        assert self.principal is not None, "resolver ran without authorization"
        return self.principal


CtxInfo = Info[Ctx, None]
