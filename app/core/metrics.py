"""The figures ``GET /metrics`` reads from the graph in one statement: events by type,
approvals and time to decision, runs by status."""

from __future__ import annotations

from typing import Any

from app.graph import GraphStore
from app.graph.queries import q

SUMMARY = q("metrics/summary")
COUNTED = [
    "task.queued",
    "task.assigned",
    "task.claimed",
    "task.completed",
    "task.retrying",
    "task.failed",
    "task.dead",
    "task.lease_expired",
    "task.cancelled",
    "proposal.pending",
    "proposal.auto_executed",
    "proposal.decided",
    "proposal.escalated",
    "fact.asserted",
    "fact.contradicted",
    "run.started",
    "run.completed",
    "run.failed",
    "sla.breached",
    "budget.threshold",
    "policy.violation",
]


async def summary(store: GraphStore) -> dict[str, Any]:
    """One row: ``events`` (``type``, ``n``) for the :data:`COUNTED` types, ``pending``,
    ``decided``, ``decideMs`` and ``decideP50/P90/P99``, ``runs`` (``status``, ``n``)."""
    return (await store.read(SUMMARY, types=COUNTED))[0]
