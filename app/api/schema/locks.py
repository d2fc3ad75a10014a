"""Shared resources over GraphQL: ``acquireLock``, ``releaseLock``, ``defineResource``,
``consumeRate``."""

from __future__ import annotations

import strawberry

from app.api.authz import Rules, roles
from app.api.schema.common import CtxInfo, Long, opt_long
from app.core import locks
from app.core.errors import BadInput
from app.models import LockIn, ResourceIn, Role

RULES: Rules = {
    "acquireLock": roles(Role.AGENT),
    "releaseLock": roles(Role.AGENT),
    "defineResource": roles(Role.OPERATOR),
    "consumeRate": roles(Role.AGENT, Role.INTEGRATION),
}


def _agent_scope(info: CtxInfo) -> str | None:
    """Agents may only lock for tasks they hold (checked in the statement); admins for any."""
    caller = info.context.caller
    return None if caller.has(Role.ADMIN) else (caller.agent_id or caller.id)


@strawberry.input
class AcquireLockInput:
    resource_id: str
    task_id: str
    fence: int
    ttl_ms: int = 30_000
    priority: int = 50
    preempt: bool = strawberry.field(
        default=False,
        description="Take the lock from a lower-priority holder (critical tasks only: the "
        "task's priority must be at least 90).",
    )


@strawberry.type
class LockResult:
    outcome: str = strawberry.field(description="acquired | preempted | waiting")
    granted: bool
    holder: strawberry.ID | None
    until: Long | None


@strawberry.input
class DefineResourceInput:
    id: str
    name: str | None = None
    rate_limit: int | None = strawberry.field(default=None, description="Calls per window.")
    window_ms: int = 1_000


@strawberry.type
class Resource:
    id: strawberry.ID
    name: str | None
    rate_limit: int | None
    window_ms: int | None
    tokens: float | None


@strawberry.type
class RateDecision:
    allowed: bool
    retry_after_ms: int
    tokens: float | None


CRITICAL_PRIORITY = 90


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Exclusive lock for a working task, or a place in line.")
    async def acquire_lock(self, info: CtxInfo, input: AcquireLockInput) -> LockResult:
        data = LockIn(
            resource_id=input.resource_id,
            task_id=input.task_id,
            fence=input.fence,
            ttl_ms=input.ttl_ms,
            priority=input.priority,
            preempt=input.preempt and input.priority >= CRITICAL_PRIORITY,
        )
        rt = info.context.rt
        got = await locks.acquire(
            rt.store,
            data,
            agent_id=_agent_scope(info),
            actor=info.context.caller.id,
            now=rt.now(),
        )
        return LockResult(
            outcome=got.outcome,
            granted=got.granted,
            holder=strawberry.ID(got.holder) if got.holder else None,
            until=opt_long(got.until),
        )

    @strawberry.mutation(
        description="Release a lock held by a task you hold (its current fencing token); "
        "returns the waiters, best first."
    )
    async def release_lock(
        self, info: CtxInfo, resource_id: str, task_id: str, fence: int
    ) -> list[strawberry.ID]:
        LockIn(resource_id=resource_id, task_id=task_id, fence=fence)  # validates the ids
        rt = info.context.rt
        waiters = await locks.release(
            rt.store,
            resource_id,
            task_id,
            fence,
            agent_id=_agent_scope(info),
            actor=info.context.caller.id,
            now=rt.now(),
        )
        return [strawberry.ID(w) for w in waiters]

    @strawberry.mutation(description="Create or update a shared resource and its rate limit.")
    async def define_resource(self, info: CtxInfo, input: DefineResourceInput) -> Resource:
        data = ResourceIn(
            id=input.id, name=input.name, rate_limit=input.rate_limit, window_ms=input.window_ms
        )
        rt = info.context.rt
        r = await locks.define(rt.store, data, actor=info.context.caller.id, now=rt.now())
        return Resource(
            id=strawberry.ID(r["id"]),
            name=r.get("name"),
            rate_limit=r.get("rateLimit"),
            window_ms=r.get("windowMs"),
            tokens=r.get("tokens"),
        )

    @strawberry.mutation(description="Take n tokens from a resource's rate limit, if it has them.")
    async def consume_rate(self, info: CtxInfo, resource_id: str, n: int = 1) -> RateDecision:
        ResourceIn(id=resource_id)
        if not 1 <= n <= 1_000_000:
            raise BadInput("n must be between 1 and 1e6", field="n")
        rt = info.context.rt
        d = await locks.consume(rt.store, resource_id, n, now=rt.now())
        return RateDecision(allowed=d.allowed, retry_after_ms=d.retry_after_ms, tokens=d.tokens)
