"""Retention: what leaves the graph, when, and what never does (README "Operating Baton").

Per kind, a number of days (0: for ever): finished tasks with their spans and decided
proposals, then spans outside tasks and finished runs (``retain_tasks_days``); superseded
and expired facts (``retain_facts_days``); events (``retain_events_days``), and those only
once the audit archive holds them (``app/core/archive.py``). Each statement deletes at most
``retention_batch`` nodes, so no write holds the graph for long; live work, a pending
proposal, a current fact's lineage and anything under an unexpired legal hold stay (the
rules are in the statements, ``cypher/retention/``). One run writes one
``retention.pruned`` event with its counts, and nothing at all when it deleted nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings
from app.core import archive, events, leases
from app.core.errors import BadInput, NotFound
from app.graph import GraphStore
from app.graph.queries import q

FOREVER = 2**62  # an open-ended hold's end, for comparisons in the statements
EVERYTHING = 2**31 - 1  # dry runs count every candidate in one statement (LIMIT is 32-bit here)

TASKS = q("retention/tasks")
DECISIONS = q("retention/decisions")
RUNS = q("retention/runs")
FACTS = q("retention/facts")
EVENTS = q("retention/events")
PRUNED = q("retention/pruned")
LEASE_NAME, LEASE_MS = "retention", 600_000
HOLD_PLACE = q("holds/place")
HOLD_RELEASE = q("holds/release")
HOLD_LIST = q("holds/list")


@dataclass(frozen=True)
class Policy:
    """Days to keep each kind (0: for ever), the archive, the batch size."""

    tasks_days: int
    facts_days: int
    events_days: int
    archive_dir: Path
    batch: int

    @classmethod
    def of(cls, s: Settings) -> Policy:
        return cls(
            s.retain_tasks_days,
            s.retain_facts_days,
            s.retain_events_days,
            s.archive_path,
            s.retention_batch,
        )

    def days(self, kind: str) -> int:
        """The window of a kind a run reports (spans, proposals, runs and steps go with tasks)."""
        windows = {"tasks": self.tasks_days, "facts": self.facts_days, "events": self.events_days}
        return windows[WINDOW[kind]]

    def cutoff(self, kind: str, now: int) -> int | None:
        days = self.days(kind)
        return now - days * archive.DAY_MS if days > 0 else None


# Every kind a run reports, with the window that lets it go.
WINDOW = {
    "tasks": "tasks",
    "decisions": "tasks",
    "proposals": "tasks",
    "runs": "tasks",
    "steps": "tasks",
    "facts": "facts",
    "events": "events",
}


@dataclass
class Report:
    """What a run deleted (or, dry, would delete now), per kind."""

    counts: dict[str, int] = field(default_factory=dict)
    archived: list[archive.Entry] = field(default_factory=list)
    cutoffs: dict[str, int | None] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> None:
        for k, v in row.items():
            self.counts[k] = self.counts.get(k, 0) + int(v or 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


Progress = Callable[[str, int], None]  # (kind, deleted so far in this run)


async def _drain(
    store: GraphStore,
    stmt: str,
    params: dict[str, Any],
    report: Report,
    kind: str,
    dry: bool,
    batch: int,
    progress: Progress | None,
) -> None:
    """Run one kind's statement batch after batch until a batch finds less than a batch."""
    while True:
        limit = EVERYTHING if dry else batch
        # a dry run writes nothing, but its statement has write clauses: the write path
        row = (await store.write(stmt, dry=dry, limit=limit, **params))[0]
        report.add(row)
        if progress is not None:
            progress(kind, report.counts.get(kind, 0))
        if dry or max(int(v or 0) for v in row.values()) < batch:
            return


async def prune(
    store: GraphStore,
    policy: Policy,
    *,
    now: int,
    dry: bool = False,
    actor: str = "retention",
    progress: Progress | None = None,
) -> Report:
    """One retention run: archive whole days (unless ``dry``), then delete what the policy
    lets go, kind by kind in bounded batches, then write one ``retention.pruned`` event."""
    report = Report()
    base = {"now": now, "forever": FOREVER}
    report.cutoffs = {k: policy.cutoff(k, now) for k in ("tasks", "facts", "events")}
    events_cut = report.cutoffs["events"]
    # Tasks, then facts (a fact's span goes once the fact has), then spans outside tasks,
    # then runs whose tasks and spans are gone: one pass leaves nothing for the next.
    steps = [(TASKS, "tasks"), (FACTS, "facts"), (DECISIONS, "decisions"), (RUNS, "runs")]
    for stmt, kind in steps:
        if (cut := policy.cutoff(kind, now)) is not None:
            await _drain(
                store, stmt, {**base, "cutoff": cut}, report, kind, dry, policy.batch, progress
            )
    if events_cut is not None:
        if not dry:
            report.archived = await archive.archive(store, policy.archive_dir, now=now)
        st = await archive.state(store)
        through = archive.through_before(policy.archive_dir, events_cut, st)
        await _drain(
            store,
            EVENTS,
            {**base, "cutoff": events_cut, "through": through},
            report,
            "events",
            dry,
            policy.batch,
            progress,
        )
    if not dry and report.total:
        await store.write(
            PRUNED,
            now=now,
            actor=actor,
            payload=events.dumps(
                {
                    "counts": report.counts,
                    "cutoffs": report.cutoffs,
                    "archived": [e.file for e in report.archived],
                }
            ),
        )
    return report


class Busy(RuntimeError):
    """Another process (the app's retention job, another `baton db prune`) is pruning."""


async def run(
    store: GraphStore,
    policy: Policy,
    *,
    holder: str,
    clock: Callable[[], int],
    dry: bool = False,
    actor: str = "retention",
    progress: Progress | None = None,
) -> Report:
    """``prune`` under the ``retention`` lease (one pruner at a time across replicas and the
    CLI), released at the end; a crashed pruner's lease runs out after ten minutes. A dry
    run only reads (its statements have write clauses they never run) and takes no lease."""
    if dry:
        return await prune(store, policy, now=clock(), dry=True, actor=actor, progress=progress)
    if not await leases.take(store, LEASE_NAME, holder=holder, now=clock(), ttl_ms=LEASE_MS):
        raise Busy("another process is pruning (the app's retention job or `baton db prune`)")
    try:
        return await prune(store, policy, now=clock(), actor=actor, progress=progress)
    finally:
        await leases.release(store, LEASE_NAME, holder=holder, now=clock())


# Legal holds -----------------------------------------------------------------------------


async def place_hold(
    store: GraphStore, target_id: str, *, reason: str, until: int | None, actor: str, now: int
) -> dict[str, Any]:
    """Hold a node (Entity, Run, Task, Agent, Fact) and what hangs off it from retention."""
    if not reason.strip() or len(reason) > 500:
        raise BadInput("reason: 1 to 500 characters", field="reason")
    if until is not None and until <= now:
        raise BadInput("until must be in the future", field="until")
    hid = "hold_" + secrets.token_hex(8)
    rows = await store.write(
        HOLD_PLACE,
        id=hid,
        targetId=target_id,
        reason=reason,
        until=until,
        actor=actor,
        now=now,
        payload=events.dumps({"targetId": target_id, "reason": reason, "until": until}),
    )
    if not rows:
        raise NotFound(f"no entity, run, task, agent or fact {target_id!r}")
    return dict(rows[0]["hold"])


async def release_hold(
    store: GraphStore, hold_id: str, *, reason: str, actor: str, now: int
) -> dict[str, Any]:
    if len(reason) > 500:
        raise BadInput("reason: at most 500 characters", field="reason")
    rows = await store.write(
        HOLD_RELEASE,
        id=hold_id,
        reason=reason,
        actor=actor,
        now=now,
        payload=events.dumps({"reason": reason}),
    )
    if not rows:
        raise NotFound(f"no legal hold {hold_id!r} in force")
    return dict(rows[0]["hold"])


async def holds(store: GraphStore, *, active: bool, now: int, limit: int) -> list[dict[str, Any]]:
    rows = await store.read(HOLD_LIST, active=active, now=now, limit=limit)
    return [dict(r["hold"]) for r in rows]
