"""Per-request GraphQL context: who is calling, the process runtime and the request's
DataLoaders (per-row fields of a list read batched into one read per field)."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from app.api.ratelimit import RateLimiter
from app.core import costs, loaders
from app.core.errors import BatonError
from app.core.readers import reader_of
from app.core.workflows import Run
from app.models import Principal, Task
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
        self.loaders = Loaders(self)

    @property
    def caller(self) -> Principal:
        """The authenticated principal (authorization ran before any resolver)."""
        assert self.principal is not None, "resolver ran without authorization"
        return self.principal


class Loaders:
    """The DataLoaders of one context: every ``load`` made in one event-loop tick (the rows of
    one list, resolved together) becomes one batched core read.

    Nothing is cached between batches (``cache=False``): a WebSocket's context lives as long
    as the socket, and a row remembered there would go stale under a subscription. The reader
    is taken when a batch runs, as the single-row reads take it."""

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx
        self.task: DataLoader[str, Task | None] = DataLoader(load_fn=self._tasks, cache=False)
        self.run: DataLoader[str, Run | None] = DataLoader(load_fn=self._runs, cache=False)
        self.run_cost: DataLoader[str, float] = DataLoader(load_fn=self._run_costs, cache=False)

    async def _tasks(self, ids: list[str]) -> list[Task | None]:
        """Tasks as the caller may see them (``tasks/get_for`` for many)."""
        ctx = self._ctx
        got = await loaders.tasks_for(ctx.rt.store, reader_of(ctx.caller), ids)
        return [got.get(i) for i in ids]

    async def _runs(self, ids: list[str]) -> list[Run | None]:
        """Runs with their steps as the caller may see them (``runs/state_for`` for many)."""
        ctx = self._ctx
        got = await loaders.runs_for(ctx.rt.store, reader_of(ctx.caller), ids)
        return [got.get(i) for i in ids]

    async def _run_costs(self, ids: list[str]) -> list[float]:
        """What each run cost (``runs/cost`` for many; no grant: spend is not content)."""
        got = await costs.run_costs(self._ctx.rt.store, ids)
        return [got.get(i, 0.0) for i in ids]


CtxInfo = Info[Ctx, None]
