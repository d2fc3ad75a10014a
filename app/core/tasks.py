"""Task lifecycle: submit (dedup, merge, defer), push routing and pull claims, fencing,
retries with backoff, dead letters, cancellation.

Every transition is one statement in ``cypher/tasks/`` that re-checks its precondition
under the event-counter lock and appends its Event. When a statement writes nothing, the
functions here make one extra read to say precisely why (NOT_FOUND, FORBIDDEN, CONFLICT).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core import context, costs, policies, traces
from app.core.errors import BadInput, Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.core.policies import utc_hour
from app.graph import GraphStore
from app.graph.queries import q
from app.models import TERMINAL, WORKING, Attempt, Task, TaskIn
from app.observability import tracecontext

SUBMIT = q("tasks/submit")
SUBMIT_MANY = q("tasks/submit_many")
CLASSIFY_SUBMIT = q("tasks/classify_submit")
ROUTE = q("tasks/route")
CLAIM = q("tasks/claim")
START = q("tasks/start")
FINISH = q("tasks/finish")
COMPLETE_MANY = q("tasks/complete_many")
CANCEL = q("tasks/cancel")
EXPIRE = q("tasks/expire_leases")
REQUEUE_DEAD = q("tasks/requeue_dead")
RELEASE_DEFERRED = q("tasks/release_deferred")
GET = q("tasks/get")
PROPS = q("tasks/props")
LIST = q("tasks/list")
GET_FOR = q("tasks/get_for")
LIST_FOR = q("tasks/list_for")
QUEUE_DEPTHS = q("tasks/queue_depths")
REVIEW = q("tasks/review")
REFUSALS = q("tasks/refusals")


@dataclass(frozen=True)
class Backoff:
    """Retry delay: ``base * 2^(attempt-1)``, jittered to 50-100 %, capped."""

    base_ms: int = 1_000
    max_ms: int = 60_000


DEFAULT_BACKOFF = Backoff()


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) and raw else None


def _task(props: dict[str, Any], **extra: Any) -> Task:
    data = dict(props)
    data["hidden"] = bool(props.get("_hidden"))
    data["payload"] = _json(props.get("payload")) or {}
    data["result"] = _json(props.get("result"))
    data["errors"] = [_json(e) if isinstance(e, str) else e for e in props.get("errors") or []]
    return Task.model_validate({**data, **extra})


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
        return _task(
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
    return _task(why["task"])


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
            out.extend(_task(r["task"]) for r in rows)
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
    return [_task(r["task"]) for r in rows]


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
        await _refuse(store, task_id, agent_id, fence, "start", actor=actor or agent_id)
    return _task(rows[0]["task"])


async def finish(
    store: GraphStore,
    task_id: str,
    agent_id: str,
    fence: int,
    *,
    outcome: str,
    now: int,
    result: Any = None,
    error: dict[str, Any] | None = None,
    cost_usd: float = 0.0,
    backoff: Backoff = DEFAULT_BACKOFF,
    actor: str | None = None,
) -> Task:
    """Report done / failed / retry for the current attempt (stale tokens get CONFLICT).
    Its spend is recorded first, idempotently, so a resent report never counts twice.

    A completion (``done``) whose cost would take the task over the agent's
    ``maxCostPerTask`` is refused: FORBIDDEN plus a ``policy.violation`` event, nothing else
    recorded (not the cost, not the result); the agent may fail the task instead, which
    records the spend that happened (failures are always accepted)."""
    actor = actor or agent_id
    key = f"{task_id}:{fence}:final"
    if cost_usd > 0:
        spend = costs.Spend(key, task_id, fence, cost_usd)
        await costs.report(store, agent_id, [spend], now=now, actor=actor, capped=outcome == "done")
    rows = await store.write(
        FINISH,
        costKey=key,
        costUsd=float(cost_usd),
        taskId=task_id,
        agentId=agent_id,
        fence=fence,
        outcome=outcome,
        result=json.dumps(result) if result is not None else None,
        error=dumps({**(error or {}), "fence": fence, "agentId": agent_id, "at": now}),
        backoffBaseMs=backoff.base_ms,
        backoffMaxMs=backoff.max_ms,
        jitter=random.uniform(0.5, 1.0),
        now=now,
        actor=actor,
        trace=traces.enabled(),
    )
    if not rows:
        await _refuse(store, task_id, agent_id, fence, outcome, now, actor=actor, cost_usd=cost_usd)
    return _task(rows[0]["task"])


@dataclass(frozen=True)
class Completion:
    """One item of a bulk completion."""

    task_id: str
    fence: int
    result: Any = None
    cost_usd: float = 0.0


async def complete_many(
    store: GraphStore,
    agent_id: str,
    items: list[Completion],
    *,
    now: int,
    actor: str | None = None,
) -> list[str]:
    """Complete several held tasks in one statement; returns the ids accepted. The others
    are left untouched: a stale token or a task no longer this agent's is simply not
    accepted; one that policy refused (maxCostPerTask, a rule changed since it was assigned)
    is also audited with a ``policy.violation`` event, as :func:`finish` does."""
    actor = actor or agent_id
    unique = {c.task_id: c for c in items}
    spends = [
        costs.Spend(f"{c.task_id}:{c.fence}:final", c.task_id, c.fence, c.cost_usd)
        for c in unique.values()
        if c.cost_usd > 0
    ]
    await costs.report(store, agent_id, spends, now=now, actor=actor, capped=True)
    rows = await store.write(
        COMPLETE_MANY,
        agentId=agent_id,
        actor=actor,
        items=[
            {
                "taskId": c.task_id,
                "fence": c.fence,
                "result": json.dumps(c.result) if c.result is not None else None,
                "usd": float(c.cost_usd),
                "costKey": f"{c.task_id}:{c.fence}:final",
            }
            for c in unique.values()
        ],
        now=now,
        trace=traces.enabled(),
    )
    accepted = [str(r["id"]) for r in rows]
    done = set(accepted)
    skipped = [c for c in unique.values() if c.task_id not in done]
    if skipped:
        refused = await _policy_refusals(store, agent_id, skipped, "done")
        await policies.record_violations(
            store,
            agent_id=agent_id,
            actor=actor,
            now=now,
            refused=[(tid, what) for tid, what, _ in refused],
        )
    return accepted


async def _policy_refusals(
    store: GraphStore, agent_id: str, items: list[Completion], op: str
) -> list[tuple[str, str, float | None]]:
    """(task id, what was refused, the maxCostPerTask it went over or None) for each item
    that a policy guard refused: still the agent's, under its current token, still working."""
    rows = await store.read(
        REFUSALS,
        agentId=agent_id,
        items=[
            {"taskId": c.task_id, "fence": c.fence, "costKey": f"{c.task_id}:{c.fence}:final"}
            for c in items
        ],
    )
    usd = {c.task_id: c.cost_usd for c in items}
    out: list[tuple[str, str, float | None]] = []
    for r in rows:
        total = float(r["cost"] or 0.0) + (0.0 if r["recorded"] else usd[r["id"]])
        if op == "done" and r["cap"] is not None and total > float(r["cap"]):
            cap = float(r["cap"])
            out.append((r["id"], f"task cost {total:.4f} USD over maxCostPerTask {cap}", cap))
        else:
            out.append((r["id"], f"{op} {r['capability']} task", None))
    return out


async def _refuse(
    store: GraphStore,
    task_id: str,
    agent_id: str,
    fence: int,
    op: str,
    now: int = 0,
    *,
    actor: str,
    cost_usd: float = 0.0,
) -> None:
    """Raise the precise reason a fenced transition wrote nothing."""
    task = await get(store, task_id)
    if task is None:
        raise NotFound(f"task {task_id!r} does not exist", id=task_id)
    if fence != task.fence:
        raise Conflict(
            f"stale fencing token {fence} for task {task_id} (current {task.fence})",
            id=task_id,
            fence=task.fence,
        )
    if task.status not in WORKING or (op == "start" and task.status != "assigned"):
        raise Conflict(f"cannot {op} task {task_id}: it is {task.status}", status=task.status)
    if task.agent_id != agent_id:
        raise Forbidden(f"task {task_id} is held by another agent, not {agent_id}", id=task_id)
    # Held, current token, still working: the statement's policy guard refused it.
    item = Completion(task_id, fence, cost_usd=cost_usd)
    refused = await _policy_refusals(store, agent_id, [item], op)
    _, what, cap = refused[0] if refused else (task_id, f"{op} task", None)
    await policies.record_violation(
        store, agent_id=agent_id, subject=task_id, what=what, actor=actor, now=now
    )
    if cap is not None:
        raise Forbidden(f"refused: {what} (fail the task instead)", id=task_id, maxCostPerTask=cap)
    raise Forbidden(f"policy no longer allows agent {agent_id} this task", id=task_id)


async def cancel(store: GraphStore, task_id: str, *, reason: str, actor: str, now: int) -> Task:
    rows = await store.write(
        CANCEL,
        taskId=task_id,
        reason=dumps({"error": "cancelled", "reason": reason, "by": actor, "at": now}),
        now=now,
        actor=actor,
    )
    if rows:
        return _task(rows[0]["task"])
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
        return _task(rows[0]["task"])
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
        return _task(rows[0]["task"])
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


def _with_history(rows: list[dict[str, Any]]) -> Task | None:
    """A task row with its attempts, merge and deferral (tasks/get and tasks/get_for)."""
    if not rows:
        return None
    row = rows[0]
    return _task(
        row["task"],
        history=[Attempt.model_validate(h) for h in row["history"] or []],
        **_relations(row),
    )


def _relations(row: dict[str, Any]) -> dict[str, Any]:
    """The merge and deferral columns every full task read returns (get, get_for, list,
    list_for), so ``task(id)`` and ``tasks`` answer the same."""
    return {
        "merged_into": row.get("mergedInto"),
        "deferred_behind": sorted(set(row.get("deferredBehind") or [])),
        "relations_loaded": True,
    }


async def get(store: GraphStore, task_id: str) -> Task | None:
    return _with_history(await store.read(GET, id=task_id))


async def props(store: GraphStore, task_id: str) -> Task | None:
    """The task without its history: one index lookup, for hot paths."""
    rows = await store.read(PROPS, id=task_id)
    return _task(rows[0]["task"]) if rows else None


async def page(
    store: GraphStore,
    after: str,
    limit: int,
    *,
    status: str | None = None,
    capability: str | None = None,
    agent_id: str | None = None,
) -> list[Task]:
    rows = await store.read(
        LIST, after=after, limit=limit, status=status, capability=capability, agentId=agent_id
    )
    return [_task(r["task"], **_relations(r)) for r in rows]


async def get_for(store: GraphStore, reader: context.Reader, task_id: str) -> Task | None:
    """One task as ``reader`` may see it (payload, result and errors hidden unless readable)."""
    return _with_history(await store.read(GET_FOR, id=task_id, **reader.params()))


async def page_for(
    store: GraphStore,
    reader: context.Reader,
    after: str,
    limit: int,
    *,
    status: str | None = None,
    capability: str | None = None,
    agent_id: str | None = None,
) -> list[Task]:
    """Tasks by id as ``reader`` may see them (see :func:`get_for`)."""
    rows = await store.read(
        LIST_FOR,
        after=after,
        limit=limit,
        status=status,
        capability=capability,
        agentFilter=agent_id,
        **reader.params(),
    )
    return [_task(r["task"], **_relations(r)) for r in rows]


@dataclass(frozen=True)
class QueueDepth:
    capability: str
    status: str
    count: int
    oldest: int | None


async def queue_depths(store: GraphStore) -> list[QueueDepth]:
    rows = await store.read(QUEUE_DEPTHS)
    return [QueueDepth(r["capability"], r["status"], int(r["n"]), r["oldest"]) for r in rows]


def is_terminal(status: str) -> bool:
    return status in TERMINAL
