"""The engine: one pass over a run settles the steps whose task or proposal has an outcome,
starts the steps whose dependencies are met, fires joins (merging their findings or asking a
human) and concludes the run (fail, compensate or complete). :func:`advance` passes until
nothing changes; :func:`advance_all` is the scheduler's job."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.events import dumps
from app.core.workflow_spec import Finding, StepSpec, merge, parse
from app.core.workflows.model import ENDED, OK, TASK_FAILED, Step
from app.core.workflows.runs import active_runs, cancel_tasks, get_run
from app.core.workflows.steps import StepWrites
from app.graph import GraphStore
from app.graph.queries import q

log = logging.getLogger("baton.workflows")

FINISH = q("runs/finish")


@dataclass
class Engine(StepWrites):
    """One pass over one run; ``acted`` says whether anything changed (then pass again)."""

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
            await cancel_tasks(self.store, self.run.id, reason=error or "run failed", now=self.now)

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
