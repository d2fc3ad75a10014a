"""Workflow runs as graph state: define, start, advance, cancel, retry.

A run is a ``Run`` node with one ``Step`` node per step; everything the engine knows is read
back from the graph on each :func:`advance`, so any replica (or the same one after a crash)
continues exactly where the last one stopped. Each transition is one conditional statement
(``cypher/runs/``) that re-checks the step's status, so two advancers never both act, and
a step's task is submitted with ``dedupKey run:<run>:<step>:<attempt>``: a crash between
making the task and marking the step started makes the same task again, never a second.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core import costs, proposals, tasks
from app.core.context import Reader
from app.core.errors import BadInput, BatonError, Conflict, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.core.workflow_spec import (
    APPROVAL_CAPABILITY,
    Finding,
    StepSpec,
    WorkflowError,
    WorkflowSpec,
    check,
    merge,
    parse,
    resolve,
)
from app.graph import GraphStore
from app.graph.queries import q
from app.models import ID_PATTERN, BudgetIn, BudgetPeriod, BudgetScope, ProposalIn, Task, TaskIn
from app.observability import tracecontext

log = logging.getLogger("baton.workflows")

DEFINE = q("workflows/define")
GET_WORKFLOW = q("workflows/get")
DEFINITION = q("workflows/definition")
LIST_WORKFLOWS = q("workflows/list")
CAPABILITIES = q("workflows/capabilities")
START = q("runs/start")
STATE = q("runs/state")
STEP_START = q("runs/step_start")
STEP_FINISH = q("runs/step_finish")
STEP_STOP = q("runs/step_stop")
FINISH = q("runs/finish")
CANCEL = q("runs/cancel")
RETRY = q("runs/retry")
ACTIVE = q("runs/active")
LIST_RUNS = q("runs/list_for")
STATE_FOR = q("runs/state_for")
LIVE_TASKS = q("runs/live_tasks")
HOLD = q("runs/hold")
TASK_PROPOSAL = q("runs/task_proposal")

RUN_ID = re.compile(ID_PATTERN)
TRIGGER_RUN_PREFIX = "run-"  # run-<hmac>: trigger runs (app.core.triggers.run_id_for)
RESERVED_RUN_PREFIXES = (TRIGGER_RUN_PREFIX, "run_")  # run_<id>: runs the engine names


def check_client_run_id(run_id: str) -> None:
    """A client's own run id: well formed and outside the engine's namespace, or BAD_INPUT."""
    if not RUN_ID.match(run_id):
        raise BadInput("runId: 1-128 characters of letters, digits and _.:-", field="runId")
    if run_id.startswith(RESERVED_RUN_PREFIXES):
        raise BadInput(
            f"runId prefixes {', '.join(RESERVED_RUN_PREFIXES)} are reserved for the engine",
            field="runId",
        )


ENGINE = "baton"  # the engine's own agent: holds approval tasks so proposals can stand on them
OK = ("done", "skipped")
ENDED = ("done", "skipped", "failed", "cancelled")
TASK_FAILED = ("failed", "dead", "cancelled", "merged")


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) and raw else None


@dataclass
class Workflow:
    id: str
    name: str
    version: int
    description: str
    pattern: str
    definition: dict[str, Any]
    hash: str
    created_at: int
    triggers: list[str] = field(default_factory=list)
    runs: int = 0

    @classmethod
    def of(cls, w: dict[str, Any], triggers: list[str] | None = None, runs: int = 0) -> Workflow:
        return cls(
            id=w["id"],
            name=w["name"],
            version=int(w["version"]),
            description=w.get("description") or "",
            pattern=w.get("pattern") or "sequential",
            definition=json.loads(w["definition"]),
            hash=w["hash"],
            created_at=int(w["createdAt"]),
            triggers=sorted(triggers or []),
            runs=runs,
        )

    @property
    def spec(self) -> WorkflowSpec:
        return parse(self.definition)


@dataclass
class Step:
    step_id: str
    kind: str
    status: str
    deps: list[str]
    attempt: int = 0
    task_id: str | None = None
    proposal_id: str | None = None
    result: Any = None
    note: str | None = None
    started_at: int | None = None
    ended_at: int | None = None
    task_status: str | None = None
    task_result: Any = None
    task_agent: str | None = None
    task_fence: int = 0
    task_error: str | None = None
    task_cost: float = 0.0
    proposal_status: str | None = None
    proposal_payload: dict[str, Any] | None = None
    proposal_modified: dict[str, Any] | None = None
    decided_by: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Step:
        s = row["step"]
        errors = row.get("taskErrors") or []
        last = _json(errors[-1]) if errors else None
        return cls(
            step_id=s["stepId"],
            kind=s["kind"],
            status=s["status"],
            deps=list(s.get("deps") or []),
            attempt=int(s.get("attempt") or 0),
            task_id=s.get("taskId"),
            proposal_id=s.get("proposalId"),
            result=_json(s.get("result")),
            note=s.get("note"),
            started_at=s.get("startedAt"),
            ended_at=s.get("endedAt"),
            task_status=row.get("taskStatus"),
            task_result=_json(row.get("taskResult")),
            task_agent=row.get("taskAgent"),
            task_fence=int(row.get("taskFence") or 0),
            task_error=(last or {}).get("error") if isinstance(last, dict) else None,
            task_cost=float(row.get("taskCost") or 0.0),
            proposal_status=row.get("proposalStatus"),
            proposal_payload=_json(row.get("proposalPayload")),
            proposal_modified=_json(row.get("proposalModified")),
            decided_by=row.get("decidedBy"),
            reason=row.get("reason"),
        )


@dataclass
class Run:
    id: str
    workflow: str
    version: int
    workflow_id: str
    status: str
    input: dict[str, Any] | None  # None: hidden from this reader (runs/state_for)
    trigger: dict[str, Any] | None
    started_at: int
    started_by: str | None
    accountable: str | None
    definition: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    ended_at: int | None = None
    deadline: int | None = None
    budget_usd: float | None = None
    result: Any = None
    error: str | None = None
    trace_id: str | None = None
    trigger_id: str | None = None
    parent_run_id: str | None = None
    retries: int = 0
    steps_loaded: bool = False  # read with its steps (runs/state, runs/state_for)

    @classmethod
    def of(
        cls,
        r: dict[str, Any],
        definition: str | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> Run:
        return cls(
            steps_loaded=steps is not None,
            id=r["id"],
            workflow=r["workflow"],
            version=int(r["version"]),
            workflow_id=r["workflowId"],
            status=r["status"],
            input=_json(r.get("input")),
            trigger=_json(r.get("trigger")),
            started_at=int(r["startedAt"]),
            started_by=r.get("startedBy"),
            accountable=r.get("accountable"),
            definition=_json(definition) or {},
            steps=[Step.of(s) for s in steps or []],
            ended_at=r.get("endedAt"),
            deadline=r.get("deadline"),
            budget_usd=r.get("budgetUsd"),
            result=_json(r.get("result")),
            error=r.get("error"),
            trace_id=r.get("traceId"),
            trigger_id=r.get("triggerId"),
            parent_run_id=r.get("parentRunId"),
            retries=int(r.get("retries") or 0),
        )

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.step_id == step_id)


# --- definitions --------------------------------------------------------------------------


async def capabilities(store: GraphStore) -> set[str]:
    rows = await store.read(CAPABILITIES)
    return set(rows[0]["capabilities"] or []) if rows else set()


def _bad(exc: WorkflowError) -> BadInput:
    return BadInput(str(exc), field=exc.field or "definition", step=exc.step)


async def define(store: GraphStore, data: Any, *, actor: str, now: int) -> tuple[Workflow, bool]:
    """Validate and store a definition; an unchanged one is not a new version.
    Returns (the workflow, whether a new version was written)."""
    try:
        spec = parse(data)
        check(spec, await capabilities(store) | {APPROVAL_CAPABILITY})
    except WorkflowError as exc:
        raise _bad(exc) from None
    canonical = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    latest = await definition(store, spec.name)
    if latest is not None and latest.hash == digest:
        return await get_workflow(store, spec.name, latest.version) or latest, False
    rows = await store.write(
        DEFINE,
        name=spec.name,
        prevVersion=latest.version if latest else 0,
        hash=digest,
        definition=text,
        description=spec.description,
        pattern=spec.pattern,
        steps=[s.id for s in spec.steps],
        triggers=[
            {
                "id": f"{spec.name}#{i}",
                "event": t.event,
                "condition": dumps(t.when.model_dump(mode="json", by_alias=True, exclude_none=True))
                if t.when
                else None,
                "input": dumps(t.input),
            }
            for i, t in enumerate(spec.triggers)
        ],
        eventPayload=dumps(
            {
                "name": spec.name,
                "steps": len(spec.steps),
                "triggers": [t.event for t in spec.triggers],
            }
        ),
        now=now,
        actor=actor,
    )
    if not rows:
        raise Conflict(f"workflow {spec.name!r} was redefined meanwhile; retry", name=spec.name)
    written = Workflow.of(rows[0]["workflow"])
    # read back as workflow(name) and workflows answer it (triggers, runs of all versions)
    return await get_workflow(store, spec.name, written.version) or written, True


async def definition(store: GraphStore, name: str, version: int | None = None) -> Workflow | None:
    """The definition alone (``triggers`` and ``runs`` not read): for the engine."""
    rows = await store.read(DEFINITION, name=name, version=version)
    return Workflow.of(rows[0]["workflow"]) if rows else None


async def get_workflow(store: GraphStore, name: str, version: int | None = None) -> Workflow | None:
    """A workflow as ``workflow(name)`` and ``workflows`` show it."""
    rows = await store.read(GET_WORKFLOW, name=name, version=version)
    return (
        Workflow.of(rows[0]["workflow"], rows[0]["triggers"], int(rows[0]["runs"]))
        if rows
        else None
    )


async def list_workflows(store: GraphStore) -> list[Workflow]:
    rows = await store.read(LIST_WORKFLOWS)
    return [Workflow.of(r["workflow"], r["triggers"], int(r["runs"])) for r in rows]


# --- runs ---------------------------------------------------------------------------------


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
    await _cancel_tasks(store, run_id, reason=f"run cancelled: {reason}", now=now)
    run = await get_run(store, run_id)
    assert run is not None
    return run


async def _cancel_tasks(
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
    await _cancel_tasks(store, run_id, reason="run retried", now=now)
    run = await get_run(store, run_id)
    assert run is not None
    return run


async def active_runs(store: GraphStore, limit: int = 200) -> list[str]:
    return [r["id"] for r in await store.read(ACTIVE, limit=limit)]


# --- the engine ---------------------------------------------------------------------------


@dataclass
class Engine:
    """One pass over one run; ``acted`` says whether anything changed (then pass again)."""

    store: GraphStore
    run: Run
    spec: WorkflowSpec
    now: int
    lease_ms: int
    acted: bool = False
    started_tasks: int = 0

    def scope(self) -> dict[str, Any]:
        return {
            "input": self.run.input or {},
            "trigger": self.run.trigger or {},
            "run": {"id": self.run.id, "workflow": self.run.workflow},
            "steps": {s.step_id: {"result": s.result, "status": s.status} for s in self.run.steps},
        }

    async def finish_step(
        self,
        st: Step,
        status: str,
        *,
        result: Any = None,
        note: str = "",
        frm: tuple[str, ...] = ("running",),
        **extra: Any,
    ) -> bool:
        merged = extra.pop("merge", None)
        rows = await self.store.write(
            STEP_FINISH,
            runId=self.run.id,
            stepId=st.step_id,
            status=status,
            result=dumps(result) if result is not None else None,
            note=note or None,
            now=self.now,
            allowed=list(frm),
            accountable=extra.get("accountable"),
            proposalId=extra.get("proposal_id"),
            merge=merged,
            mergeTasks=extra.get("merge_tasks", []),
            chosenTask=extra.get("chosen_task", ""),
            eventPayload=dumps(
                {
                    "runId": self.run.id,
                    "stepId": st.step_id,
                    "status": status,
                    "taskId": st.task_id,
                    "note": note or None,
                }
            ),
        )
        self.acted |= bool(rows)
        return bool(rows)

    async def stop_step(
        self, st: Step, status: str, *, note: str, frm: tuple[str, ...]
    ) -> str | None:
        """A live step the run no longer needs ends ``status`` (cancelled, skipped): its task
        is cancelled first, then the step ends by what the task came to (runs/step_stop), so
        a task that finished meanwhile keeps its outcome. Returns the step's new status, or
        None if it was no longer in ``frm``."""
        if st.task_id and st.status in frm:
            await _cancel_tasks(
                self.store, self.run.id, reason=note, now=self.now, only={st.task_id}
            )
        payload = {"runId": self.run.id, "stepId": st.step_id, "taskId": st.task_id}
        rows = await self.store.write(
            STEP_STOP,
            runId=self.run.id,
            stepId=st.step_id,
            status=status,
            note=note,
            allowed=list(frm),
            now=self.now,
            eventPayload=dumps({**payload, "status": status, "note": note}),
            donePayload=dumps({**payload, "status": "done", "note": None}),
        )
        self.acted |= bool(rows)
        return str(rows[0]["step"]["status"]) if rows else None

    async def start_step(self, st: Step, sp: StepSpec) -> None:
        payload = resolve(sp.input, self.scope())
        if sp.kind == "approval":
            summary = sp.summary or f"Approve step {sp.id} of {self.run.workflow}"
            await self.start_approval(st, summary, payload, sp.approvers, sp.auto_approve)
            return
        if sp.kind == "supervisor":
            payload = {**payload, "maxRounds": sp.max_rounds}
        task = await self.submit(st, sp.capability or "", payload, sp)
        await self.mark_started(st, task.id, "running")
        self.started_tasks += 1

    async def submit(
        self, st: Step, capability: str, payload: dict[str, Any], sp: StepSpec | None = None
    ) -> Task:
        data = TaskIn(
            kind=f"{self.run.workflow}.{st.step_id}",
            capability=capability,
            priority=sp.priority if sp else 50,
            payload=payload,
            dedup_key=f"run:{self.run.id}:{st.step_id}:{st.attempt + 1}",
            run_id=self.run.id,
            # lease expiries (a crashed worker) are retried too, so never fewer than 3
            max_attempts=max(3, sp.on_failure.retries + 1) if sp else 3,
            deadline=self.now + sp.timeout_ms if sp and sp.timeout_ms else None,
            trace_id=self.run.trace_id,
            parent_span_id=f"{self.run.id}/{st.step_id}/{st.attempt + 1}",  # the step's span
        )
        return await tasks.submit(self.store, data, actor="workflow", now=self.now, engine=True)

    async def mark_started(
        self, st: Step, task_id: str, status: str, proposal_id: str | None = None
    ) -> None:
        rows = await self.store.write(
            STEP_START,
            runId=self.run.id,
            stepId=st.step_id,
            taskId=task_id,
            status=status,
            proposalId=proposal_id,
            now=self.now,
            attrs=dumps({"kind": st.kind}),
            eventPayload=dumps(
                {"runId": self.run.id, "stepId": st.step_id, "taskId": task_id, "status": status}
            ),
        )
        self.acted |= bool(rows)

    async def start_approval(
        self,
        st: Step,
        summary: str,
        payload: dict[str, Any],
        approvers: list[str] | None,
        auto: bool = False,
    ) -> None:
        """A human checkpoint: a task held by the engine's agent with the engine's proposal
        on it, decided only by the step's approvers (or an admin); policy thresholds and
        ``onExpiry: approve`` apply only if the step says ``autoApprove``."""
        task = await self.submit(st, APPROVAL_CAPABILITY, payload)
        held = await self.store.write(HOLD, taskId=task.id, now=self.now, leaseMs=self.lease_ms)
        fence = int(held[0]["task"]["fence"]) if held else task.fence
        existing = await self.store.read(TASK_PROPOSAL, taskId=task.id)
        if existing:
            pid = existing[0]["id"]
        else:
            conf = payload.get("confidence")
            p = await proposals.propose(
                self.store,
                ProposalIn(
                    task_id=task.id,
                    agent_id=ENGINE,
                    fence=fence,
                    kind=f"workflow.{self.run.workflow}.{st.step_id}"[:128],
                    summary=summary[:2_000],
                    payload=payload,
                    confidence=float(conf)
                    if isinstance(conf, int | float) and 0 <= conf <= 1
                    else 0.0,
                ),
                now=self.now,
                actor="workflow",
                approvers=approvers,
                engine=True,
                policy_auto=auto,
            )
            pid = p.id
        await self.mark_started(st, task.id, "awaiting_approval", pid)

    async def close_engine_task(self, st: Step, ok: bool) -> None:
        """The approval task ends with its decision (or is cancelled if its lease ran out)."""
        if not st.task_id or st.task_status not in ("assigned", "running", "awaiting_approval"):
            if st.task_id and st.task_status == "queued":
                await _cancel_tasks(
                    self.store, self.run.id, reason="decided", now=self.now, only={st.task_id}
                )
            return
        try:
            await tasks.finish(
                self.store,
                st.task_id,
                ENGINE,
                st.task_fence,
                outcome="done" if ok else "failed",
                now=self.now,
                result={"decision": st.proposal_status},
            )
        except BatonError:
            pass

    async def settle(self, st: Step, sp: StepSpec) -> None:
        """A started step whose task or proposal has an outcome ends."""
        if st.status == "running":
            if st.task_status == "done":
                await self.finish_step(
                    st,
                    "done",
                    result=st.task_result,
                    accountable=st.task_agent if sp.kind == "supervisor" else None,
                )
            elif st.task_status in TASK_FAILED:
                await self.fail(
                    st,
                    sp,
                    f"task {st.task_id} {st.task_status}"
                    + (f": {st.task_error}" if st.task_error else ""),
                    ("running",),
                )
        elif st.status == "awaiting_approval" and st.proposal_status not in (None, "pending"):
            approved = st.proposal_status in ("approved", "modified", "auto_executed")
            await self.close_engine_task(st, approved)
            if not approved:
                await self.fail(
                    st,
                    sp,
                    f"rejected by {st.decided_by}: {st.reason or ''}".strip(),
                    ("awaiting_approval",),
                )
            elif sp.kind == "join":
                await self.merge_decided(st, sp)
            else:
                await self.finish_step(
                    st,
                    "done",
                    frm=("awaiting_approval",),
                    result={
                        "decision": st.proposal_status,
                        "decidedBy": st.decided_by,
                        "reason": st.reason,
                        "payload": st.proposal_modified or st.proposal_payload,
                    },
                )

    async def fail(self, st: Step, sp: StepSpec, why: str, frm: tuple[str, ...]) -> None:
        action = sp.on_failure.action
        if action == "skip":
            await self.finish_step(st, "skipped", note=f"{why}; skipped (onFailure: skip)", frm=frm)
        else:
            await self.finish_step(st, "failed", note=why, frm=frm)

    # -- joins

    def findings(self, sp: StepSpec) -> tuple[list[Finding], dict[str, str]]:
        key = sp.merge.key if sp.merge else ""
        out, task_of = [], {}
        for d in self.spec.deps()[sp.id]:
            dep = self.run.step(d)
            if dep.status == "done" and isinstance(dep.result, dict) and key in dep.result:
                c = dep.result.get("confidence", 0.5)
                out.append(
                    Finding(d, dep.result[key], float(c) if isinstance(c, int | float) else 0.5)
                )
                if dep.task_id:
                    task_of[d] = dep.task_id
        return out, task_of

    def join_state(self, st: Step, sp: StepSpec) -> str:
        """'wait', 'go' or 'fail' for a waiting join."""
        deps = [self.run.step(d) for d in self.spec.deps()[sp.id]]
        done = sum(1 for d in deps if d.status == "done")
        if all(d.status in ENDED for d in deps):
            return "go" if done else "fail"
        if done >= (sp.quorum or len(deps)):
            return "go"
        starts = [d.started_at for d in deps if d.started_at]
        if sp.timeout_ms and starts and self.now >= min(starts) + sp.timeout_ms:
            return "go" if done else "fail"
        return "wait"

    def join_result(self, sp: StepSpec, merged_value: Any) -> dict[str, Any]:
        inputs = {
            d: self.run.step(d).result
            for d in self.spec.deps()[sp.id]
            if self.run.step(d).status == "done"
        }
        out: dict[str, Any] = {"inputs": inputs}
        if sp.merge:
            out[sp.merge.key] = merged_value
        return out

    async def fire_join(self, st: Step, sp: StepSpec) -> None:
        for d in self.spec.deps()[sp.id]:  # the quorum (or timeout) made the rest unnecessary
            dep = self.run.step(d)
            if dep.status not in ENDED:
                got = await self.stop_step(
                    dep,
                    "skipped",
                    frm=("running", "waiting"),
                    note=f"not needed: join {sp.id} went ahead",
                )
                if got:
                    dep.status = got
        if sp.merge is None:
            await self.finish_step(st, "done", result=self.join_result(sp, None), frm=("waiting",))
            return
        found, task_of = self.findings(sp)
        m = merge(found, sp.merge.strategy)
        if m.chosen is None and not m.agreed:  # escalate: a human picks
            options = [
                {"step": f.step, "value": f.value, "confidence": f.confidence} for f in found
            ]
            suggested = max(found, key=lambda f: f.confidence)
            await self.start_approval(
                st,
                f"Contradictory findings for {sp.merge.key} in {self.run.workflow}: "
                f'choose one (MODIFY with {{"choice": value}}) or approve the suggestion',
                {
                    "key": sp.merge.key,
                    "options": options,
                    "suggested": suggested.value,
                    "suggestedStep": suggested.step,
                },
                sp.approvers,
                sp.auto_approve,
            )
            return
        await self.record_merge(
            st, sp, m.chosen, m.agreed, m.reason, None, ("waiting",), found, task_of
        )

    async def merge_decided(self, st: Step, sp: StepSpec) -> None:
        assert sp.merge is not None
        found, task_of = self.findings(sp)
        payload = st.proposal_modified or st.proposal_payload or {}
        value = payload.get("choice", payload.get("suggested"))
        chosen = next((f for f in found if f.value == value), None) or Finding("human", value, 1.0)
        why = f"escalated; {st.decided_by} chose it" + (f": {st.reason}" if st.reason else "")
        await self.record_merge(
            st, sp, chosen, False, why, st.decided_by, ("awaiting_approval",), found, task_of
        )

    async def record_merge(
        self,
        st: Step,
        sp: StepSpec,
        chosen: Finding | None,
        agreed: bool,
        reason: str,
        decided_by: str | None,
        frm: tuple[str, ...],
        found: list[Finding],
        task_of: dict[str, str],
    ) -> None:
        assert sp.merge is not None
        value = chosen.value if chosen else None
        result = {
            **self.join_result(sp, value),
            "merge": {
                "strategy": sp.merge.strategy,
                "chosenStep": chosen.step if chosen else None,
                "agreed": agreed,
                "reason": reason,
                "decidedBy": decided_by,
                "findings": [
                    {"step": f.step, "value": f.value, "confidence": f.confidence} for f in found
                ],
            },
        }
        await self.finish_step(
            st,
            "done",
            result=result,
            frm=frm,
            note=reason,
            merge={
                "key": sp.merge.key,
                "strategy": sp.merge.strategy,
                "chosenStep": chosen.step if chosen else None,
                "value": json.dumps(value, default=str),
                "agreed": agreed,
                "reason": reason,
                "decidedBy": decided_by,
            },
            merge_tasks=list(task_of.values()),
            chosen_task=task_of.get(chosen.step, "") if chosen else "",
        )

    # -- the run as a whole

    async def conclude(self) -> None:
        """Fail, compensate or complete the run from its steps' states."""
        steps = {s.step_id: s for s in self.run.steps}
        main = [s for s in self.spec.steps if not s.compensation]
        for sp in main:
            st = steps[sp.id]
            if st.status != "failed":
                continue
            comp = sp.on_failure.step if sp.on_failure.action == "compensate" else None
            if comp and steps[comp].status == "waiting":
                await self._cancel_others(exclude={comp})
                await self.start_step(steps[comp], self.spec.step(comp))
                return
            if comp and steps[comp].status not in ENDED:
                return  # compensating
            why = f"step {sp.id} failed: {st.note}" + (f"; compensated by {comp}" if comp else "")
            await self._end("failed", error=why)
            return
        comp_failed = [
            s for s in self.spec.steps if s.compensation and steps[s.id].status == "failed"
        ]
        if comp_failed:
            await self._end("failed", error=f"compensation {comp_failed[0].id} failed")
            return
        if all(steps[s.id].status in OK for s in main):
            deps = self.spec.deps()
            sinks = [s.id for s in main if not any(s.id in deps[o.id] for o in main)]
            result = (
                steps[sinks[0]].result if len(sinks) == 1 else {k: steps[k].result for k in sinks}
            )
            await self._end("done", result=result)

    async def _cancel_others(self, exclude: set[str]) -> None:
        """Stop the failing run's live steps; a compensation step that never started is left
        waiting (runs/finish skips it: not needed)."""
        live = ("waiting", "running", "awaiting_approval")
        for s in self.run.steps:
            if s.step_id in exclude or s.status not in live:
                continue
            if s.status == "waiting" and self.spec.step(s.step_id).compensation:
                continue
            await self.stop_step(s, "cancelled", frm=live, note="run is failing")

    async def _end(self, status: str, *, result: Any = None, error: str | None = None) -> None:
        if status == "failed":
            await self._cancel_others(exclude=set())
        rows = await self.store.write(
            FINISH,
            runId=self.run.id,
            status=status,
            result=dumps(result) if isinstance(result, dict) else json.dumps(result, default=str),
            error=error,
            now=self.now,
            eventPayload=dumps(
                {
                    "runId": self.run.id,
                    "workflow": self.run.workflow,
                    "status": status,
                    "error": error,
                }
            ),
        )
        self.acted |= bool(rows)
        if rows and status == "failed":
            await _cancel_tasks(self.store, self.run.id, reason=error or "run failed", now=self.now)

    async def step_once(self) -> None:
        deps = self.spec.deps()
        # once a step has failed the run can only compensate or fail (conclude): nothing new
        # starts, so no step runs (and is cancelled at once) in a run that is failing
        failing = any(
            self.run.step(s.id).status == "failed" for s in self.spec.steps if not s.compensation
        )
        for sp in self.spec.steps:
            st = self.run.step(sp.id)
            if st.status in ("running", "awaiting_approval"):
                await self.settle(st, sp)
            elif st.status == "waiting" and not sp.compensation and not failing:
                if sp.kind == "join":
                    state = self.join_state(st, sp)
                    if state == "go":
                        await self.fire_join(st, sp)
                    elif state == "fail":
                        await self.fail(st, sp, "no input step finished", ("waiting",))
                elif all(self.run.step(d).status in OK for d in deps[sp.id]):
                    await self.start_step(st, sp)
            if self.acted:
                return  # re-read: later steps see this one's new state
        await self.conclude()


async def advance(
    store: GraphStore,
    run_id: str,
    *,
    lease_ms: int,
    now: int | None = None,
    clock: Callable[[], int] | None = None,
    max_passes: int = 50,
) -> int:
    """Move one run as far as it can go now; returns the tasks it started.

    With a ``clock`` each pass reads the time after it read the run, so what the pass
    records (a step's start and end) is no older than what it saw (a task that ended while
    earlier passes ran); a fixed ``now`` is for callers that drive time themselves."""
    if clock is None and now is None:
        raise TypeError("advance needs now or clock")
    started = 0
    for _ in range(max_passes):
        run = await get_run(store, run_id)
        if run is None or run.status != "running":
            return started
        at = clock() if clock is not None else now
        assert at is not None
        eng = Engine(store, run, parse(run.definition), at, lease_ms)
        await eng.step_once()
        started += eng.started_tasks
        if not eng.acted:
            return started
    return started


async def advance_all(
    store: GraphStore,
    *,
    lease_ms: int,
    now: int | None = None,
    clock: Callable[[], int] | None = None,
    limit: int = 200,
) -> int:
    """Scheduler job: advance every running run; one run's error never stops the others."""
    started = 0
    for rid in await active_runs(store, limit):
        try:
            started += await advance(store, rid, now=now, clock=clock, lease_ms=lease_ms)
        except Exception:
            log.exception("advancing run %s failed", rid)
    return started
