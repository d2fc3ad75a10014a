"""Task lifecycle: submit (dedup, merge, defer), push routing and pull claims, fencing,
retries with backoff, dead letters, cancellation.

Every transition is one statement in ``cypher/tasks/`` that re-checks its precondition
under the event-counter lock and appends its Event. When a statement writes nothing, the
functions here make one extra read to say precisely why (NOT_FOUND, FORBIDDEN, CONFLICT).

How a held task ends (finish, complete_many) is ``app.core.task_outcomes``; the reads are
``app.core.task_reads``. Both are re-exported here: callers use ``tasks.<name>``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from app.core import costs, traces
from app.core.errors import BadInput, Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.core.policies import utc_hour
from app.core.task_outcomes import (
    DEFAULT_BACKOFF,
    Backoff,
    Completion,
    complete_many,
    finish,
    policy_refusals,
    refuse,
)
from app.core.task_reads import (
    QueueDepth,
    as_task,
    get,
    get_for,
    is_terminal,
    page,
    page_for,
    props,
    queue_depths,
)
from app.graph import GraphStore
from app.graph.queries import q
from app.models import WORKING, Task, TaskIn
from app.observability import tracecontext

SUBMIT = q("tasks/submit")
SUBMIT_MANY = q("tasks/submit_many")
CLASSIFY_SUBMIT = q("tasks/classify_submit")
ROUTE = q("tasks/route")
CLAIM = q("tasks/claim")
START = q("tasks/start")
CANCEL = q("tasks/cancel")
EXPIRE = q("tasks/expire_leases")
REQUEUE_DEAD = q("tasks/requeue_dead")
RELEASE_DEFERRED = q("tasks/release_deferred")
REVIEW = q("tasks/review")


def content_hash(data: TaskIn) -> str:
    """What makes two submissions with one dedupKey "the same request"."""
    body = data.model_dump(mode="json", exclude={"dedup_key", "trace_id", "parent_span_id"})
    return hashlib.sha256(dumps(body).encode()).hexdigest()[:32]


ENGINE_DEDUP_PREFIX = "run:"  # run:<run>:<step>:<attempt>, the workflow engine's own keys


async def submit(
    store: GraphStore, data: TaskIn, *, actor: str, now: int, engine: bool = False
) -> Task:
    """Create a task (queued, merged or deferred), or return the earlier one for a retry.

    dedupKeys are scoped: a client's key matches only its own earlier submissions, and
    only the workflow engine (``engine``) makes or matches tasks in its own namespace."""
    if not engine and data.dedup_key and data.dedup_key.startswith(ENGINE_DEDUP_PREFIX):
        raise BadInput(
            f"dedupKey prefix {ENGINE_DEDUP_PREFIX!r} is reserved for the workflow engine",
            field="dedupKey",
        )
    rows = await store.write(
        SUBMIT,
        id=new_id("task"),
        kind=data.kind,
        capability=data.capability,
        priority=data.priority,
        payload=dumps(data.payload),
        contentHash=content_hash(data),
        dedupKey=data.dedup_key,
        resources=data.resources,
        entities=data.entities,
        deadline=data.deadline,
        maxAttempts=data.max_attempts,
        runId=data.run_id,
        parentId=data.parent_id,
        traceId=data.trace_id,
        newTraceId=tracecontext.new_trace_id(),
        spanId=tracecontext.new_span_id(),
        parentSpanId=data.parent_span_id,
        engine=engine,
        now=now,
        actor=actor,
    )
    if rows:
        return as_task(
            rows[0]["task"],
            merged_into=rows[0]["mergedInto"],
            deferred_behind=[rows[0]["deferredBehind"]] if rows[0]["deferredBehind"] else [],
            relations_loaded=True,
        )
    why = (
        await store.read(
            CLASSIFY_SUBMIT,
            dedupKey=data.dedup_key,
            engine=engine,
            actor=actor,
            entities=data.entities,
            parentId=data.parent_id,
        )
    )[0]
    if why["missing"]:
        raise NotFound(f"unknown entities: {why['missing']}", field="entities")
    if not why["parentOk"]:
        raise NotFound(f"parent task {data.parent_id!r} does not exist", field="parentId")
    if why["task"] is None:  # pragma: no cover - the statement writes unless one of the above
        raise Conflict("task was not created; retry", field="dedupKey")
    return as_task(why["task"])


def _simple(data: TaskIn) -> bool:
    """Nothing to dedupe, merge or defer: eligible for the one-statement bulk path."""
    return data.dedup_key is None and not data.entities


async def submit_many(
    store: GraphStore, items: list[TaskIn], *, actor: str, now: int
) -> list[Task]:
    """Submit a batch in submission order: plain tasks in one statement per run of them,
    the rest (dedupKey, entities) one by one with the full merge/defer rules."""
    out: list[Task] = []
    i = 0
    while i < len(items):
        j = i
        while j < len(items) and _simple(items[j]):
            j += 1
        if j > i:
            batch = items[i:j]
            parents = sorted({d.parent_id for d in batch if d.parent_id})
            rows = await store.write(
                SUBMIT_MANY,
                rows=[_bulk_row(d) for d in batch],
                parents=parents,
                now=now,
                actor=actor,
            )
            if not rows:
                raise NotFound("a parent task does not exist", field="parentId")
            out.extend(as_task(r["task"]) for r in rows)
            i = j
        else:
            out.append(await submit(store, items[i], actor=actor, now=now))
            i += 1
    return out


def _bulk_row(d: TaskIn) -> dict[str, Any]:
    return {
        "id": new_id("task"),
        "kind": d.kind,
        "capability": d.capability,
        "priority": d.priority,
        "payload": dumps(d.payload),
        "contentHash": content_hash(d),
        "resources": d.resources,
        "deadline": d.deadline,
        "maxAttempts": d.max_attempts,
        "runId": d.run_id,
        "parentId": d.parent_id,
        "traceId": d.trace_id or tracecontext.new_trace_id(),
        "traced": d.trace_id is not None,
        "spanId": tracecontext.new_span_id(),
        "parentSpanId": d.parent_span_id,
    }


async def route(store: GraphStore, *, batch: int, lease_ms: int, now: int) -> int:
    """One push-routing batch; returns how many tasks were assigned."""
    rows = await store.write(
        ROUTE, batch=batch, leaseMs=lease_ms, now=now, hour=utc_hour(now), trace=traces.enabled()
    )
    return int(rows[0]["assigned"]) if rows else 0


async def route_all(
    store: GraphStore, *, batch: int, lease_ms: int, clock: Callable[[], int]
) -> int:
    """Scheduler job: release deferred tasks whose blocker ended, then route batch after
    batch until a batch comes back short (queue drained or no free agent left)."""
    await release_deferred(store, now=clock())
    total = 0
    while True:
        n = await route(store, batch=batch, lease_ms=lease_ms, now=clock())
        total += n
        if n < batch:
            return total


async def claim(
    store: GraphStore,
    agent_id: str,
    *,
    max_tasks: int = 1,
    capability: str | None = None,
    lease_ms: int,
    now: int,
    actor: str | None = None,
) -> list[Task]:
    """Pull: the best eligible queued tasks for this agent, now running under it. ``actor``
    (here and below) is the calling principal, the audit identity (default: the agent)."""
    rows = await store.write(
        CLAIM,
        agentId=agent_id,
        max=max_tasks,
        capability=capability,
        leaseMs=lease_ms,
        now=now,
        hour=utc_hour(now),
        actor=actor or agent_id,
    )
    if not rows:
        await costs.raise_if_exhausted(store, agent_id)
    return [as_task(r["task"]) for r in rows]


async def start(
    store: GraphStore,
    task_id: str,
    agent_id: str,
    fence: int,
    *,
    now: int,
    actor: str | None = None,
) -> Task:
    """assigned -> running, for the holder of the current fencing token."""
    rows = await store.write(
        START, taskId=task_id, agentId=agent_id, fence=fence, now=now, actor=actor or agent_id
    )
    if not rows:
        await refuse(store, task_id, agent_id, fence, "start", actor=actor or agent_id)
    return as_task(rows[0]["task"])


async def cancel(store: GraphStore, task_id: str, *, reason: str, actor: str, now: int) -> Task:
    rows = await store.write(
        CANCEL,
        taskId=task_id,
        reason=dumps({"error": "cancelled", "reason": reason, "by": actor, "at": now}),
        now=now,
        actor=actor,
    )
    if rows:
        return as_task(rows[0]["task"])
    task = await get(store, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} does not exist", id=task_id)
    raise Conflict(f"task {task_id} has already ended ({task.status})", status=task.status)


async def review(
    store: GraphStore,
    task_id: str,
    agent_id: str,
    *,
    accept: bool,
    feedback: str,
    now: int,
    actor: str | None = None,
) -> Task:
    """A supervisor accepts a sub-task's result or sends it back with feedback; the parent's
    payload ``maxRounds`` (default 3) bounds the send-backs."""
    task = await props(store, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} does not exist", id=task_id)
    parent = await props(store, task.parent_id) if task.parent_id else None
    rounds = parent.payload.get("maxRounds", 3) if parent else 3
    max_rounds = rounds if isinstance(rounds, int) and 0 < rounds <= 10 else 3
    rows = await store.write(
        REVIEW,
        taskId=task_id,
        agentId=agent_id,
        accept=accept,
        feedback=feedback or None,
        maxRounds=max_rounds,
        now=now,
        actor=actor or agent_id,
        eventPayload=dumps(
            {
                "taskId": task_id,
                "parentId": task.parent_id,
                "accept": accept,
                "round": task.rounds + (0 if accept else 1),
                "feedback": feedback,
            }
        ),
    )
    if rows:
        return as_task(rows[0]["task"])
    if parent is None or parent.agent_id != agent_id or parent.status not in WORKING:
        raise Forbidden(f"task {task_id} is not a sub-task of a task {agent_id} is working on")
    if task.status != "done" or task.review == "accepted":
        raise Conflict(
            f"task {task_id} is {task.status}"
            + (" and already accepted" if task.review == "accepted" else ""),
            status=task.status,
        )
    raise Conflict(
        f"task {task_id} was sent back {task.rounds} times (maxRounds {max_rounds}): "
        "accept it or fail the parent",
        rounds=task.rounds,
    )


async def requeue_dead(store: GraphStore, task_id: str, *, actor: str, now: int) -> Task:
    rows = await store.write(REQUEUE_DEAD, taskId=task_id, now=now, actor=actor)
    if rows:
        return as_task(rows[0]["task"])
    task = await get(store, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} does not exist", id=task_id)
    raise Conflict(f"task {task_id} is {task.status}, not dead", status=task.status)


async def expire_leases(
    store: GraphStore, *, now: int, limit: int = 1_000, backoff: Backoff = DEFAULT_BACKOFF
) -> int:
    """Scheduler job: re-queue (or dead-letter) tasks whose lease ran out."""
    rows = await store.write(
        EXPIRE,
        now=now,
        limit=limit,
        backoffBaseMs=backoff.base_ms,
        backoffMaxMs=backoff.max_ms,
        trace=traces.enabled(),
    )
    return int(rows[0]["expired"]) if rows else 0


async def release_deferred(store: GraphStore, *, now: int) -> int:
    """Scheduler job: deferred tasks whose blocker ended go back to the queue."""
    rows = await store.write(RELEASE_DEFERRED, now=now)
    return int(rows[0]["released"]) if rows else 0


__all__ = [
    "DEFAULT_BACKOFF",
    "ENGINE_DEDUP_PREFIX",
    "Backoff",
    "Completion",
    "QueueDepth",
    "cancel",
    "claim",
    "complete_many",
    "content_hash",
    "expire_leases",
    "finish",
    "get",
    "get_for",
    "is_terminal",
    "page",
    "page_for",
    "policy_refusals",
    "props",
    "queue_depths",
    "release_deferred",
    "requeue_dead",
    "review",
    "route",
    "route_all",
    "start",
    "submit",
    "submit_many",
]
