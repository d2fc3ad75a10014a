"""Workflows over GraphQL: ``defineWorkflow``, ``startWorkflow``, ``cancelRun``, ``retryRun``,
``workflows``, ``workflow``, ``run``, ``runs`` and the live ``runUpdates``."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, cast

import strawberry
import yaml
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, authorize, caller_reader, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    PageInfo,
    decode_cursor,
    encode_cursor,
    opt_long,
    page_size,
)
from app.core import wakeups, workflows
from app.core.errors import BadInput
from app.core.events import Event, dumps
from app.models import ReasonIn, Role, has_nul
from app.observability import tracecontext

RULES: Rules = {
    "defineWorkflow": roles(Role.OPERATOR),
    "startWorkflow": roles(Role.OPERATOR, Role.INTEGRATION, Role.AGENT),
    "cancelRun": roles(Role.OPERATOR),
    "retryRun": roles(Role.OPERATOR),
    "workflows": ANY,
    "workflow": ANY,
    "run": ANY,
    "runs": ANY,
    "runUpdates": roles(Role.OPERATOR, Role.AUDITOR, Role.INTEGRATION),
}
MAX_DEFINITION = 256_000


@strawberry.type(name="Workflow")
class WorkflowType:
    """A versioned workflow definition (steps reference capabilities, never agents)."""

    id: strawberry.ID
    name: str
    version: int
    description: str
    pattern: str
    definition: JSON
    triggers: list[str] = strawberry.field(
        description="Event types that start it (its enabled triggers; only the latest "
        "version has any)."
    )
    runs: int = strawberry.field(description="How many runs the workflow has (all versions).")
    created_at: Long

    @classmethod
    def of(cls, w: workflows.Workflow) -> WorkflowType:
        return cls(
            id=strawberry.ID(w.id),
            name=w.name,
            version=w.version,
            description=w.description,
            pattern=w.pattern,
            definition=cast(JSON, w.definition),
            triggers=w.triggers,
            runs=w.runs,
            created_at=Long(w.created_at),
        )


@strawberry.type(name="Step")
class StepType:
    step_id: str
    kind: str = strawberry.field(description="task | join | approval | supervisor")
    status: str = strawberry.field(
        description="waiting | running | awaiting_approval | done | failed | skipped | cancelled"
    )
    deps: list[str]
    attempt: int
    task_id: str | None
    proposal_id: str | None
    result: JSON | None
    note: str | None = strawberry.field(description="Why it ended the way it did.")
    started_at: Long | None
    ended_at: Long | None
    agent_id: str | None = strawberry.field(description="Who did (or does) its task.")
    cost_usd: float = strawberry.field(description="Spend on its task (sub-tasks not included).")

    @classmethod
    def of(cls, s: workflows.Step) -> StepType:
        return cls(
            step_id=s.step_id,
            kind=s.kind,
            status=s.status,
            deps=s.deps,
            attempt=s.attempt,
            task_id=s.task_id,
            proposal_id=s.proposal_id,
            result=cast(JSON, s.result),
            note=s.note,
            started_at=opt_long(s.started_at),
            ended_at=opt_long(s.ended_at),
            agent_id=s.task_agent,
            cost_usd=round(s.task_cost, 6),
        )


@strawberry.type(name="Run")
class RunType:
    """One execution of a workflow, all of it graph state (it resumes after any crash)."""

    id: strawberry.ID
    workflow: str
    version: int
    status: str = strawberry.field(description="running | done | failed | cancelled")
    input: JSON | None = strawberry.field(
        description="What it was started with (null unless you started it or may read the "
        'whole run: README "Who may read what").'
    )
    trigger: JSON | None = strawberry.field(description="The event that started it, if any.")
    trigger_id: str | None
    started_at: Long
    ended_at: Long | None
    deadline: Long | None
    budget_usd: float | None
    started_by: str | None
    accountable: str | None = strawberry.field(
        description="Who answers for the result: the supervisor agent of a hierarchical run, "
        "else whoever started it."
    )
    result: JSON | None
    error: str | None
    trace_id: str | None
    parent_run_id: str | None
    retries: int
    loaded_steps: strawberry.Private[list[StepType] | None]

    @strawberry.field(
        description="Its steps in definition order, with their tasks and "
        "approvals as the caller may see them."
    )
    async def steps(self, info: CtxInfo) -> list[StepType]:
        if self.loaded_steps is None:  # a list read (runs): the same statement as run(id)
            r = await info.context.loaders.run.load(str(self.id))
            self.loaded_steps = [StepType.of(s) for s in r.steps] if r else []
        return self.loaded_steps

    @strawberry.field(description="USD spent by every task of this run (sub-tasks included).")
    async def cost_usd(self, info: CtxInfo) -> float:
        return await info.context.loaders.run_cost.load(str(self.id))

    @classmethod
    def of(cls, r: workflows.Run) -> RunType:
        return cls(
            id=strawberry.ID(r.id),
            workflow=r.workflow,
            version=r.version,
            status=r.status,
            input=cast(JSON, r.input),
            trigger=cast(JSON, r.trigger),
            trigger_id=r.trigger_id,
            started_at=Long(r.started_at),
            ended_at=opt_long(r.ended_at),
            deadline=opt_long(r.deadline),
            budget_usd=r.budget_usd,
            started_by=r.started_by,
            accountable=r.accountable,
            result=cast(JSON, r.result),
            error=r.error,
            trace_id=r.trace_id,
            parent_run_id=r.parent_run_id,
            retries=r.retries,
            loaded_steps=[StepType.of(s) for s in r.steps] if r.steps_loaded else None,
        )


@strawberry.type
class RunConnection:
    nodes: list[RunType]
    page_info: PageInfo


@strawberry.type
class RunUpdate:
    seq: Long
    type: str = strawberry.field(description="run.* or step.* event type")
    step_id: str | None
    status: str | None
    run: RunType | None


def _definition(definition: JSON | None, yaml_text: str | None) -> Any:
    if (definition is None) == (yaml_text is None):
        raise BadInput("give exactly one of definition (JSON) or yaml", field="definition")
    if yaml_text is not None:
        if len(yaml_text) > MAX_DEFINITION:
            raise BadInput("yaml larger than 256 kB", field="yaml")
        try:
            return yaml.safe_load(yaml_text)
        except yaml.YAMLError as exc:
            raise BadInput(f"yaml does not parse: {exc}", field="yaml") from None
    if len(dumps(cast(dict[str, Any], definition))) > MAX_DEFINITION:
        raise BadInput("definition larger than 256 kB", field="definition")
    return definition


def _input(value: JSON | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(dumps(value)) > 64_000 or has_nul(value):
        raise BadInput("input must be a JSON object under 64 kB", field="input")
    return value


async def _seen(info: CtxInfo, run_id: str) -> RunType | None:
    """A run as the caller may see it: mutations and runUpdates answer with the view of `run`."""
    r = await workflows.get_run_for(info.context.rt.store, caller_reader(info), run_id)
    return RunType.of(r) if r else None


@strawberry.type
class Query:
    @strawberry.field(description="The latest version of every workflow.")
    async def workflows(self, info: CtxInfo) -> list[WorkflowType]:
        return [WorkflowType.of(w) for w in await workflows.list_workflows(info.context.rt.store)]

    @strawberry.field(description="A workflow: its latest version, or a given one.")
    async def workflow(
        self, info: CtxInfo, name: str, version: int | None = None
    ) -> WorkflowType | None:
        w = await workflows.get_workflow(info.context.rt.store, name, version)
        return WorkflowType.of(w) if w else None

    @strawberry.field(description="One run with its steps.")
    async def run(self, info: CtxInfo, id: strawberry.ID) -> RunType | None:
        r = await workflows.get_run_for(info.context.rt.store, caller_reader(info), str(id))
        return RunType.of(r) if r else None

    @strawberry.field(description="Runs, newest first (steps are loaded per run with `run`).")
    async def runs(
        self,
        info: CtxInfo,
        workflow: str | None = None,
        status: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> RunConnection:
        n = page_size(info, first)
        before = None
        if after:
            at, _, rid = decode_cursor(after).partition("|")
            if not at.isdigit():
                raise BadInput("malformed cursor", field="after")
            before = (int(at), rid)
        rows = await workflows.list_runs(
            info.context.rt.store,
            caller_reader(info),
            workflow=workflow,
            status=status,
            before=before,
            limit=n + 1,
        )
        page = rows[:n]
        end = encode_cursor(f"{page[-1].started_at}|{page[-1].id}") if page else after
        return RunConnection(
            nodes=[RunType.of(r) for r in page],
            page_info=PageInfo(end_cursor=end, has_next_page=len(rows) > n),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Define (or redefine: a new version) a workflow from JSON or YAML. Checked "
        "first: unknown capability, cycle, missing input and every field, each error naming "
        "its step and field. An unchanged definition is not a new version."
    )
    async def define_workflow(
        self, info: CtxInfo, definition: JSON | None = None, yaml: str | None = None
    ) -> WorkflowType:
        rt = info.context.rt
        w, _ = await workflows.define(
            rt.store, _definition(definition, yaml), actor=info.context.caller.id, now=rt.now()
        )
        return WorkflowType.of(w)

    @strawberry.mutation(
        description="Start a run. With `runId` it is idempotent: starting the same id twice "
        "returns the first run."
    )
    async def start_workflow(
        self,
        info: CtxInfo,
        name: str,
        input: JSON | None = None,
        version: int | None = None,
        run_id: str | None = None,
    ) -> RunType:
        if run_id is not None:
            workflows.check_client_run_id(run_id)
        rt = info.context.rt
        caller = tracecontext.caller()  # a traceparent: the run joins the caller's trace
        run, _ = await workflows.start(
            rt.store,
            name,
            _input(input),
            actor=info.context.caller.id,
            now=rt.now(),
            version=version,
            run_id=run_id,
            trace_id=caller.trace_id if caller else None,
            parent_span_id=caller.span_id if caller else None,
        )
        rt.wake(wakeups.after_run_change())
        return cast(RunType, await _seen(info, run.id))

    @strawberry.mutation(description="Cancel a running run and every unfinished task of it.")
    async def cancel_run(self, info: CtxInfo, id: strawberry.ID, reason: str = "") -> RunType:
        why = ReasonIn(reason=reason).reason
        rt = info.context.rt
        run = await workflows.cancel(
            rt.store,
            str(id),
            reason=why or "cancelled",
            actor=info.context.caller.id,
            now=rt.now(),
        )
        return cast(RunType, await _seen(info, run.id))

    @strawberry.mutation(
        description="Run a failed or cancelled run again from where it stopped: finished steps "
        "keep their results, failed and cancelled ones get a new attempt."
    )
    async def retry_run(self, info: CtxInfo, id: strawberry.ID) -> RunType:
        rt = info.context.rt
        run = await workflows.retry(rt.store, str(id), actor=info.context.caller.id, now=rt.now())
        rt.wake(wakeups.after_run_change())
        return cast(RunType, await _seen(info, run.id))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A run's progress, live: run.* and step.* events (replayed after `after`)."
    )
    async def run_updates(
        self, info: CtxInfo, run_id: str, after: Long | None = None
    ) -> AsyncGenerator[RunUpdate, None]:
        authorize(info)
        hub = info.context.rt.hub
        assert hub is not None
        kinds = [
            "run.started",
            "run.completed",
            "run.failed",
            "run.cancelled",
            "run.retried",
            "step.started",
            "step.done",
            "step.failed",
            "step.skipped",
            "step.cancelled",
            "step.awaiting_approval",
        ]

        def mine(ev: Event) -> bool:
            return ev.subject == run_id and ev.type in kinds

        async for ev in hub.subscribe(after, mine, kinds, owner=info.context.caller.id):
            run = await _seen(info, run_id)
            p = ev.payload
            yield RunUpdate(
                seq=Long(ev.seq),
                type=ev.type,
                step_id=p.get("stepId"),
                status=p.get("status"),
                run=run,
            )
