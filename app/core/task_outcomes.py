"""How a held task ends: ``finish`` (done, failed, retry with backoff) and the bulk
``complete_many``, with the one extra read that says precisely why a fenced transition wrote
nothing (NOT_FOUND, FORBIDDEN, CONFLICT, or a policy guard: then audited). Split from
app.core.tasks, which re-exports them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from app.core import costs, policies, traces
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.core.task_reads import as_task, get
from app.graph import GraphStore
from app.graph.queries import q
from app.models import WORKING, Task

FINISH = q("tasks/finish")
COMPLETE_MANY = q("tasks/complete_many")
REFUSALS = q("tasks/refusals")


@dataclass(frozen=True)
class Backoff:
    """Retry delay: ``base * 2^(attempt-1)``, jittered to 50-100 %, capped."""

    base_ms: int = 1_000
    max_ms: int = 60_000


DEFAULT_BACKOFF = Backoff()


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
        await refuse(store, task_id, agent_id, fence, outcome, now, actor=actor, cost_usd=cost_usd)
    return as_task(rows[0]["task"])


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
        refused = await policy_refusals(store, agent_id, skipped, "done")
        await policies.record_violations(
            store,
            agent_id=agent_id,
            actor=actor,
            now=now,
            refused=[(tid, what) for tid, what, _ in refused],
        )
    return accepted


async def policy_refusals(
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


async def refuse(
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
    refused = await policy_refusals(store, agent_id, [item], op)
    _, what, cap = refused[0] if refused else (task_id, f"{op} task", None)
    await policies.record_violation(
        store, agent_id=agent_id, subject=task_id, what=what, actor=actor, now=now
    )
    if cap is not None:
        raise Forbidden(f"refused: {what} (fail the task instead)", id=task_id, maxCostPerTask=cap)
    raise Forbidden(f"policy no longer allows agent {agent_id} this task", id=task_id)
