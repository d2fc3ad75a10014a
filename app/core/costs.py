"""Spend and budgets. Agents report cost per task; each report is a CostEntry that rolls up
at once along the chain (task, ancestor tasks, agent, run, parent runs) and is then charged
to the budgets it falls under (agent, team, run, workflow), which emit ``budget.threshold``
once per crossing and, at the limit, stop new work from being routed under them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core import policies
from app.core.errors import BudgetExceeded, Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.models import BudgetIn

CLASSIFY_REPORT = q("costs/classify_report")
REPORT = q("costs/report")
BY_GROUP = q("costs/by_group")
CHARGE = q("budgets/charge")
SET = q("budgets/set")
LIST = q("budgets/list")
EXHAUSTED = q("budgets/exhausted")
RUN_COST = q("runs/cost")
RUN_COSTS = q("runs/costs_many")


@dataclass(frozen=True)
class Spend:
    """One cost report for a held task. ``key`` makes resending it harmless."""

    key: str
    task_id: str
    fence: int
    usd: float
    tokens_in: int | None = None
    tokens_out: int | None = None
    model: str | None = None


def period_starts(now_ms: int) -> tuple[int, int]:
    """Start of the current UTC day and month, in epoch ms."""
    t = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return int(day.timestamp() * 1000), int(month.timestamp() * 1000)


async def report(
    store: GraphStore,
    agent_id: str,
    spends: list[Spend],
    *,
    now: int,
    actor: str | None = None,
    capped: bool = False,
) -> list[str]:
    """Record spend (rolled up at once), then charge budgets. Returns the entries recorded
    (a resent key, a stale token or a task not held records nothing). Spend reported on its
    own has already happened: over maxCostPerTask it is recorded and audited as a
    ``policy.violation``. ``capped`` (a completion's cost): an entry that would go over is
    not recorded (the completion is refused)."""
    if not spends:
        return []
    actor = actor or agent_id
    rows = await store.write(
        REPORT,
        agentId=agent_id,
        entries=[
            {
                "key": s.key,
                "taskId": s.task_id,
                "fence": s.fence,
                "usd": float(s.usd),
                "tokensIn": s.tokens_in,
                "tokensOut": s.tokens_out,
                "model": s.model,
            }
            for s in spends
        ],
        capped=capped,
        now=now,
        actor=actor,
    )
    await charge(store, now=now)
    for r in rows:  # spend already happened: record it, and audit the breach of policy
        if r["maxCost"] is not None and r["taskCost"] > r["maxCost"]:
            await policies.record_violation(
                store,
                agent_id=agent_id,
                subject=r["taskId"],
                actor=actor,
                now=now,
                what=f"task cost {r['taskCost']:.4f} USD over maxCostPerTask {r['maxCost']}",
            )
    return [str(r["id"]) for r in rows]


async def charge(store: GraphStore, *, now: int, limit: int = 5_000) -> int:
    """Charge uncharged entries to budgets (also a scheduler job, for crash leftovers)."""
    day, month = period_starts(now)
    rows = await store.write(CHARGE, now=now, limit=limit, dayStart=day, monthStart=month)
    return int(rows[0]["crossings"]) if rows else 0


async def set_budget(store: GraphStore, data: BudgetIn, *, actor: str, now: int) -> dict[str, Any]:
    day, month = period_starts(now)
    start = {"day": day, "month": month}.get(data.period.value, 0)
    rows = await store.write(
        SET,
        id=data.id,
        scope=data.scope.value,
        targetId=data.target_id,
        limitUsd=float(data.limit_usd),
        period=data.period.value,
        thresholds=sorted(set(data.thresholds)),
        periodStart=start,
        payload=dumps(data.model_dump(mode="json", by_alias=True)),
        now=now,
        actor=actor,
    )
    return dict(rows[0]["budget"])


async def budgets(store: GraphStore, after: str, limit: int) -> list[dict[str, Any]]:
    return [dict(r["budget"]) for r in await store.read(LIST, after=after, limit=limit)]


async def by_group(store: GraphStore, group_by: str, since: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await store.read(BY_GROUP, groupBy=group_by, since=since)]


async def run_cost(store: GraphStore, run_id: str) -> float:
    """USD spent by every task of run ``run_id`` (sub-tasks included), to six places."""
    rows = await store.read(RUN_COST, runId=run_id)
    return round(float(rows[0]["cost"] or 0.0), 6) if rows else 0.0


async def run_costs(store: GraphStore, run_ids: Sequence[str]) -> dict[str, float]:
    """:func:`run_cost` for many runs in one read: by run id (0.0 for a run with no tasks)."""
    wanted = list(dict.fromkeys(run_ids))
    if not wanted:
        return {}
    rows = await store.read(RUN_COSTS, ids=wanted)
    got = {r["id"]: round(float(r["cost"] or 0.0), 6) for r in rows}
    return {i: got.get(i, 0.0) for i in wanted}


async def raise_if_exhausted(store: GraphStore, agent_id: str) -> None:
    """BUDGET_EXCEEDED if an exhausted budget holds this agent's work back."""
    rows = await store.read(EXHAUSTED, agentId=agent_id)
    if rows:
        b = rows[0]
        raise BudgetExceeded(
            f"budget {b['id']} ({b['scope']}) is spent: {b['spentUsd']:.2f} of "
            f"{b['limitUsd']:.2f} USD; raise it with setBudget",
            budgetId=b["id"],
        )


async def report_one(
    store: GraphStore, agent_id: str, spend: Spend, *, now: int, actor: str
) -> bool:
    """Record one spend (``reportCost``): True when recorded now or by an earlier report
    with the same key; otherwise a coded error says why (NOT_FOUND: no such task;
    FORBIDDEN: another agent holds it; CONFLICT: a stale fencing token or a task that is
    not running)."""
    if await report(store, agent_id, [spend], now=now, actor=actor):
        return True
    rows = await store.read(CLASSIFY_REPORT, taskId=spend.task_id, key=spend.key)
    row = rows[0] if rows else {"found": False}
    if row.get("recordedFor") == spend.task_id:
        return True  # a resend: counted once, already
    if not row["found"]:
        raise NotFound(f"task {spend.task_id!r} does not exist", field="taskId")
    if row["agentId"] != agent_id:
        raise Forbidden(f"task {spend.task_id} is not held by {agent_id}", field="taskId")
    if row["fence"] != spend.fence:
        raise Conflict(f"stale fencing token {spend.fence} (current {row['fence']})", field="fence")
    if row.get("recordedFor") is not None:
        raise Conflict(f"key {spend.key!r} was used for another task", field="key")
    raise Conflict(f"task {spend.task_id} is {row['status']}, not running", field="taskId")
