"""Shared resources: exclusive locks (TTL, priority waiters, pre-emption) and rate limits
(a token bucket per resource), each one atomic statement in ``cypher/locks`` and
``cypher/resources``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import policies, tasks
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.models import WORKING, LockIn, ResourceIn

ACQUIRE = q("locks/acquire")
RELEASE = q("locks/release")
DEFINE = q("resources/define")
CONSUME = q("resources/consume")


@dataclass(frozen=True)
class LockOutcome:
    """``acquired``, ``preempted`` (taken from a lower-priority holder) or ``waiting``."""

    outcome: str
    holder: str | None
    until: int | None

    @property
    def granted(self) -> bool:
        return self.outcome in ("acquired", "preempted")


async def acquire(
    store: GraphStore, data: LockIn, *, agent_id: str | None, actor: str, now: int
) -> LockOutcome:
    """Take the lock or queue for it; ``agent_id`` (None for admins) must hold the task."""
    rows = await store.write(
        ACQUIRE,
        resourceId=data.resource_id,
        taskId=data.task_id,
        fence=data.fence,
        agentId=agent_id,
        ttlMs=data.ttl_ms,
        priority=data.priority,
        preempt=data.preempt,
        now=now,
        actor=actor,
    )
    if not rows:
        task = await tasks.props(store, data.task_id)
        if (
            task is not None
            and task.fence == data.fence
            and task.status in WORKING
            and (agent_id is None or task.agent_id == agent_id)
            and task.agent_id
        ):
            await policies.record_violation(
                store,
                agent_id=task.agent_id,
                subject=data.resource_id,
                what=f"lock {data.resource_id} for {data.task_id}",
                actor=actor,
                now=now,
            )
            raise Forbidden(f"policy does not allow resource {data.resource_id!r}")
        raise Conflict(
            f"task {data.task_id} is not working under fencing token {data.fence}",
            id=data.task_id,
        )
    row = rows[0]
    return LockOutcome(str(row["outcome"]), row["holder"], row["until"])


async def release(
    store: GraphStore,
    resource_id: str,
    task_id: str,
    fence: int,
    *,
    agent_id: str | None,
    actor: str,
    now: int,
) -> list[str]:
    """Drop the task's lock; returns the waiters (best first), who were told by event.
    Only the holder may: ``agent_id`` (None for admins) must hold the task, under ``fence``."""
    rows = await store.write(
        RELEASE,
        resourceId=resource_id,
        taskId=task_id,
        fence=fence,
        agentId=agent_id,
        now=now,
        actor=actor,
    )
    if rows:
        return list(rows[0]["waiters"] or [])
    task = await tasks.props(store, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} does not exist", id=task_id)
    if agent_id is not None and task.agent_id != agent_id:
        raise Forbidden(f"task {task_id} is not held by agent {agent_id}", id=task_id)
    if task.fence != fence or task.status not in WORKING:
        raise Conflict(f"task {task_id} is not working under fencing token {fence}", id=task_id)
    raise NotFound(f"task {task_id} holds no lock on {resource_id}", id=resource_id)


async def define(store: GraphStore, data: ResourceIn, *, actor: str, now: int) -> dict[str, Any]:
    rows = await store.write(
        DEFINE,
        id=data.id,
        name=data.name,
        rateLimit=data.rate_limit,
        windowMs=data.window_ms,
        now=now,
        actor=actor,
        payload=dumps({"rateLimit": data.rate_limit, "windowMs": data.window_ms}),
    )
    return dict(rows[0]["resource"])


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_ms: int
    tokens: float | None


async def consume(store: GraphStore, resource_id: str, n: int, *, now: int) -> RateDecision:
    """Take ``n`` tokens from the resource's bucket if it has them."""
    rows = await store.write(CONSUME, id=resource_id, n=n, now=now)
    if not rows:
        raise NotFound(f"resource {resource_id!r} does not exist", id=resource_id)
    row = rows[0]
    return RateDecision(bool(row["allowed"]), int(row["retryAfterMs"] or 0), row["tokens"])
