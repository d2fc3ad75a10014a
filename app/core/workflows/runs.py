"""Runs: start one (idempotent on its id), read one or a page, cancel or retry it. Moving a
run forward is the engine's (app.core.workflows.engine)."""

from __future__ import annotations

from typing import Any

from app.core import costs, tasks
from app.core.context import Reader
from app.core.errors import BadInput, BatonError, Conflict, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.core.workflow_spec import WorkflowSpec
from app.core.workflows.definitions import definition
from app.core.workflows.model import Run, check_client_run_id
from app.graph import GraphStore
from app.graph.queries import q
from app.models import BudgetIn, BudgetPeriod, BudgetScope
from app.observability import tracecontext

START = q("runs/start")
STATE = q("runs/state")
CANCEL = q("runs/cancel")
RETRY = q("runs/retry")
ACTIVE = q("runs/active")
LIST_RUNS = q("runs/list_for")
STATE_FOR = q("runs/state_for")
LIVE_TASKS = q("runs/live_tasks")


def check_input(spec: WorkflowSpec, name: str, input: dict[str, Any]) -> None:
    """BAD_INPUT unless ``input`` names every input the workflow declares."""
    missing = [i for i in spec.inputs if input.get(i) is None]
    if missing:
        raise BadInput(
            f"missing input {missing[0]!r} (workflow {name} needs {', '.join(spec.inputs)})",
            field=f"input.{missing[0]}",
        )


async def start(
    store: GraphStore,
    name: str,
    input: dict[str, Any],
    *,
    actor: str,
    now: int,
    version: int | None = None,
    run_id: str | None = None,
    trigger: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    event_seq: int | None = None,
    trace_id: str | None = None,
    parent_span_id: str | None = None,
    parent_run_id: str | None = None,
    engine_run_id: bool = False,
) -> tuple[Run, bool]:
    """Start a run (or, for a ``run_id`` that exists, return it: idempotent).
    Returns (the run, whether this call started it). A ``run_id`` is a client's (checked
    against the engine's namespace) unless ``engine_run_id`` (triggers)."""
    if run_id is not None and not engine_run_id:
        check_client_run_id(run_id)
    wf = await definition(store, name, version)
    if wf is None:
        raise NotFound(f"workflow {name!r} does not exist", field="workflow")
    spec = wf.spec
    check_input(spec, name, input)
    rid = run_id or new_id("run")
    deps = spec.deps()
    rows = await store.write(
        START,
        id=rid,
        workflowId=wf.id,
        input=dumps(input),
        trigger=dumps(trigger) if trigger else None,
        triggerId=trigger_id,
        eventSeq=event_seq,
        steps=[
            {
                "stepId": s.id,
                "kind": s.kind,
                "deps": deps[s.id],
                "index": i,
                "compensation": s.compensation,
            }
            for i, s in enumerate(spec.steps)
        ],
        deadline=now + spec.deadline_ms if spec.deadline_ms else None,
        budgetUsd=spec.budget_usd,
        traceId=trace_id or tracecontext.new_trace_id(),
        parentSpanId=parent_span_id,
        parentRunId=parent_run_id,
        eventPayload=dumps(
            {
                "runId": rid,
                "workflow": wf.name,
                "version": wf.version,
                "triggerId": trigger_id,
                "eventSeq": event_seq,
            }
        ),
        now=now,
        actor=actor,
    )
    if not rows:
        existing = await get_run(store, rid)
        if existing is None:  # pragma: no cover - the workflow vanished between two reads
            raise Conflict("run was not started; retry", id=rid)
        if not engine_run_id and (existing.started_by != actor or existing.workflow != name):
            # a client's run id is its own: another principal's run (or another workflow's)
            # is neither returned nor adopted, and says nothing about what it holds
            raise Conflict(f"runId {rid!r} is already taken", field="runId")
        return existing, False
    if spec.budget_usd is not None:
        await costs.set_budget(
            store,
            BudgetIn(
                id=f"budget-{rid}",
                scope=BudgetScope.RUN,
                target_id=rid,
                limit_usd=spec.budget_usd,
                period=BudgetPeriod.TOTAL,
            ),
            actor=actor,
            now=now,
        )
    run = await get_run(store, rid)
    assert run is not None
    return run, True


async def get_run(store: GraphStore, run_id: str) -> Run | None:
    rows = await store.read(STATE, id=run_id)
    if not rows:
        return None
    return Run.of(rows[0]["run"], rows[0]["definition"], rows[0]["steps"])


async def get_run_for(store: GraphStore, reader: Reader, run_id: str) -> Run | None:
    """One run as ``reader`` may see it (runs/state_for: what it may not read is null)."""
    rows = await store.read(STATE_FOR, id=run_id, **reader.params())
    if not rows:
        return None
    return Run.of(rows[0]["run"], rows[0]["definition"], rows[0]["steps"])


async def list_runs(
    store: GraphStore,
    reader: Reader,
    *,
    workflow: str | None,
    status: str | None,
    before: tuple[int, str] | None,
    limit: int,
) -> list[Run]:
    """A page of runs as ``reader`` may see them."""
    rows = await store.read(
        LIST_RUNS,
        workflow=workflow,
        status=status,
        before=before[0] if before else None,
        beforeId=before[1] if before else "",
        limit=limit,
        **reader.params(),
    )
    return [Run.of(r["run"]) for r in rows]


async def cancel(store: GraphStore, run_id: str, *, reason: str, actor: str, now: int) -> Run:
    """Cancel a running run, then every unfinished task it has."""
    rows = await store.write(
        CANCEL,
        runId=run_id,
        reason=reason,
        now=now,
        actor=actor,
        eventPayload=dumps({"runId": run_id, "reason": reason}),
    )
    if not rows:
        run = await get_run(store, run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} does not exist", id=run_id)
        raise Conflict(f"run {run_id} has already ended ({run.status})", status=run.status)
    await cancel_tasks(store, run_id, reason=f"run cancelled: {reason}", now=now)
    run = await get_run(store, run_id)
    assert run is not None
    return run


async def cancel_tasks(
    store: GraphStore, run_id: str, *, reason: str, now: int, only: set[str] | None = None
) -> None:
    ids = [r["id"] for r in await store.read(LIVE_TASKS, runId=run_id)]
    for tid in ids:
        if only is None or tid in only:
            try:
                await tasks.cancel(store, tid, reason=reason, actor="workflow", now=now)
            except BatonError:
                pass  # it ended meanwhile


async def retry(store: GraphStore, run_id: str, *, actor: str, now: int) -> Run:
    """A failed or cancelled run continues from where it stopped (done steps are kept)."""
    rows = await store.write(
        RETRY, runId=run_id, now=now, actor=actor, eventPayload=dumps({"runId": run_id})
    )
    if not rows:
        run = await get_run(store, run_id)
        if run is None:
            raise NotFound(f"run {run_id!r} does not exist", id=run_id)
        raise Conflict(
            f"run {run_id} is {run.status}; only failed or cancelled runs retry", status=run.status
        )
    await cancel_tasks(store, run_id, reason="run retried", now=now)
    run = await get_run(store, run_id)
    assert run is not None
    return run


async def active_runs(store: GraphStore, limit: int = 200) -> list[str]:
    return [r["id"] for r in await store.read(ACTIVE, limit=limit)]
