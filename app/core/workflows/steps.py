"""The engine's writes on one step (start, submit its task, hold an approval, finish, stop):
each is one conditional statement that re-checks the step's status, so two advancers never
both act. :class:`app.core.workflows.engine.Engine` decides which to make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import proposals, tasks
from app.core.errors import BatonError
from app.core.events import dumps
from app.core.workflow_spec import APPROVAL_CAPABILITY, StepSpec, WorkflowSpec, resolve
from app.core.workflows.model import ENGINE, Run, Step
from app.core.workflows.runs import cancel_tasks
from app.graph import GraphStore
from app.graph.queries import q
from app.models import ProposalIn, Task, TaskIn

STEP_START = q("runs/step_start")
STEP_FINISH = q("runs/step_finish")
STEP_STOP = q("runs/step_stop")
HOLD = q("runs/hold")
TASK_PROPOSAL = q("runs/task_proposal")


@dataclass
class StepWrites:
    """One pass over one run: its state as read, and the step writes the pass makes;
    ``acted`` says whether anything changed (then pass again)."""

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
            await cancel_tasks(
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
                await cancel_tasks(
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
