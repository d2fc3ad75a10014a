"""Tasks over GraphQL: submit, claim, start, complete, fail, cancel, requeue; the
``taskAssigned`` subscription that pushes work (and cancellations) to agents."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, acting_as, authorize, caller_reader, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    decode_cursor,
    opt_long,
    page_of,
    page_size,
)
from app.api.schema.task_types import (
    CompletionInput,
    QueueDepth,
    SubmitTaskInput,
    TaskAssignment,
    TaskConnection,
    TaskType,
    pushed_task,
)
from app.core import tasks, wakeups
from app.core.events import Event
from app.models import (
    ClaimIn,
    CompletionsIn,
    FailureIn,
    ReasonIn,
    ResultIn,
    ReviewIn,
    Role,
    SubmissionsIn,
    SubmittedTaskIn,
)
from app.observability import tracecontext

RULES: Rules = {
    "submitTask": roles(Role.OPERATOR, Role.AGENT, Role.INTEGRATION),
    "claimTask": roles(Role.AGENT),
    "claimTasks": roles(Role.AGENT),
    "startTask": roles(Role.AGENT),
    "completeTask": roles(Role.AGENT),
    "completeTasks": roles(Role.AGENT),
    "submitTasks": roles(Role.OPERATOR, Role.AGENT, Role.INTEGRATION),
    "failTask": roles(Role.AGENT),
    "cancelTask": roles(Role.OPERATOR),
    "requeueDead": roles(Role.OPERATOR),
    "task": ANY,
    "tasks": ANY,
    "queueDepths": ANY,
    "reviewTask": roles(Role.AGENT),
    "taskAssigned": roles(Role.AGENT),
}
PUSHED = ["task.assigned", "task.cancelled", "task.preempted", "proposal.decided"]


def _task_in(input: SubmitTaskInput) -> dict[str, Any]:
    """The fields of a submission (checked by :class:`SubmittedTaskIn`), with the caller's
    trace context."""
    caller = tracecontext.caller()
    return {
        "kind": input.kind,
        "capability": input.capability,
        "priority": input.priority,
        "payload": input.payload,
        "resources": input.resources or [],
        "entities": input.entities or [],
        "deadline": input.deadline,
        "parent_id": input.parent_id,
        "run_id": input.run_id,
        "dedup_key": input.dedup_key,
        "max_attempts": input.max_attempts,
        # a caller's traceparent: the task joins the caller's trace, under the caller's span
        "trace_id": caller.trace_id if caller else None,
        "parent_span_id": caller.span_id if caller else None,
    }


@strawberry.type
class Query:
    @strawberry.field(description="One task with its attempt history.")
    async def task(self, info: CtxInfo, id: strawberry.ID) -> TaskType | None:
        t = await tasks.get_for(info.context.rt.store, caller_reader(info), str(id))
        return TaskType.of(t) if t else None

    @strawberry.field(description="Tasks by id (creation order), filtered.")
    async def tasks(
        self,
        info: CtxInfo,
        status: str | None = None,
        capability: str | None = None,
        agent_id: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> TaskConnection:
        n = page_size(info, first)
        rows = await tasks.page_for(
            info.context.rt.store,
            caller_reader(info),
            decode_cursor(after),
            n + 1,
            status=status,
            capability=capability,
            agent_id=agent_id,
        )
        nodes, page = page_of([TaskType.of(t) for t in rows], n, after, lambda x: x.id)
        return TaskConnection(nodes=nodes, page_info=page)

    @strawberry.field(description="Work waiting or in flight, per capability and status.")
    async def queue_depths(self, info: CtxInfo) -> list[QueueDepth]:
        return [
            QueueDepth(
                capability=d.capability,
                status=d.status,
                count=d.count,
                oldest=opt_long(d.oldest),
            )
            for d in await tasks.queue_depths(info.context.rt.store)
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Submit work. Idempotent on dedupKey: a retry returns the same task."
    )
    async def submit_task(self, info: CtxInfo, input: SubmitTaskInput) -> TaskType:
        rt = info.context.rt
        t = await tasks.submit(
            rt.store,
            SubmittedTaskIn.model_validate(_task_in(input)),
            actor=info.context.caller.id,
            now=rt.now(),
        )
        rt.wake(wakeups.after_submit([t]))
        return TaskType.of(t)

    @strawberry.mutation(
        description="Submit up to 500 tasks in order (plain ones in one statement); same rules "
        "as submitTask for each."
    )
    async def submit_tasks(self, info: CtxInfo, inputs: list[SubmitTaskInput]) -> list[TaskType]:
        items = SubmissionsIn.model_validate({"inputs": [_task_in(i) for i in inputs]}).inputs
        rt = info.context.rt
        got = await tasks.submit_many(
            rt.store, list(items), actor=info.context.caller.id, now=rt.now()
        )
        rt.wake(wakeups.after_submit(got))
        return [TaskType.of(t) for t in got]

    @strawberry.mutation(description="Pull the best eligible task for this agent (or null).")
    async def claim_task(
        self, info: CtxInfo, agent_id: str, capability: str | None = None
    ) -> TaskType | None:
        got = await _claim(info, agent_id, 1, capability)
        return got[0] if got else None

    @strawberry.mutation(description="Pull up to `max` tasks at once (bounded by free slots).")
    async def claim_tasks(
        self, info: CtxInfo, agent_id: str, max: int = 10, capability: str | None = None
    ) -> list[TaskType]:
        return await _claim(info, agent_id, ClaimIn(max=max).max, capability)

    @strawberry.mutation(description="Start a pushed task (assigned -> running).")
    async def start_task(self, info: CtxInfo, task_id: str, agent_id: str, fence: int) -> TaskType:
        acting_as(info, agent_id)
        rt = info.context.rt
        return TaskType.of(
            await tasks.start(
                rt.store, task_id, agent_id, fence, now=rt.now(), actor=info.context.caller.id
            )
        )

    @strawberry.mutation(description="Report success; a stale fencing token gets CONFLICT.")
    async def complete_task(
        self,
        info: CtxInfo,
        task_id: str,
        agent_id: str,
        fence: int,
        result: JSON | None = None,
        cost_usd: float = 0.0,
    ) -> TaskType:
        acting_as(info, agent_id)
        report = ResultIn(result=result, cost_usd=cost_usd)
        rt = info.context.rt
        t = await tasks.finish(
            rt.store,
            task_id,
            agent_id,
            fence,
            outcome="done",
            result=report.result,
            cost_usd=report.cost_usd,
            backoff=rt.backoff,
            now=rt.now(),
            actor=info.context.caller.id,
        )
        rt.wake(wakeups.after_finish(t))
        return TaskType.of(t)

    @strawberry.mutation(
        description="Complete several held tasks at once; returns the ids accepted (others "
        "had a stale fencing token and were left untouched)."
    )
    async def complete_tasks(
        self, info: CtxInfo, agent_id: str, items: list[CompletionInput]
    ) -> list[strawberry.ID]:
        acting_as(info, agent_id)
        batch = CompletionsIn.model_validate({"items": [vars(i) for i in items]})
        done = [
            tasks.Completion(task_id=i.task_id, fence=i.fence, result=i.result, cost_usd=i.cost_usd)
            for i in batch.items
        ]
        rt = info.context.rt
        ids = await tasks.complete_many(
            rt.store, agent_id, done, now=rt.now(), actor=info.context.caller.id
        )
        return [strawberry.ID(i) for i in ids]

    @strawberry.mutation(
        description="Report failure. Retryable failures go back to the queue with backoff "
        "until maxAttempts, then to dead; others fail the task."
    )
    async def fail_task(
        self,
        info: CtxInfo,
        task_id: str,
        agent_id: str,
        fence: int,
        error: str,
        retryable: bool = True,
        details: JSON | None = None,
        cost_usd: float = 0.0,
    ) -> TaskType:
        acting_as(info, agent_id)
        failure = FailureIn(error=error, details=details)
        rt = info.context.rt
        t = await tasks.finish(
            rt.store,
            task_id,
            agent_id,
            fence,
            outcome="retry" if retryable else "failed",
            error={"error": failure.error, "details": failure.details},
            cost_usd=cost_usd,
            backoff=rt.backoff,
            now=rt.now(),
            actor=info.context.caller.id,
        )
        rt.wake(wakeups.after_finish(t))
        return TaskType.of(t)

    @strawberry.mutation(description="Cancel a task that has not ended; its agent is told.")
    async def cancel_task(self, info: CtxInfo, task_id: str, reason: str = "") -> TaskType:
        why = ReasonIn(reason=reason).reason
        rt = info.context.rt
        t = await tasks.cancel(
            rt.store, task_id, reason=why, actor=info.context.caller.id, now=rt.now()
        )
        return TaskType.of(t)

    @strawberry.mutation(
        description="A supervisor accepts a finished sub-task of the task it holds, or sends "
        "it back with feedback (re-queued; at most the parent's payload maxRounds, default 3)."
    )
    async def review_task(
        self, info: CtxInfo, agent_id: str, task_id: str, accept: bool, feedback: str = ""
    ) -> TaskType:
        acting_as(info, agent_id)
        review = ReviewIn(feedback=feedback)
        rt = info.context.rt
        t = await tasks.review(
            rt.store,
            task_id,
            agent_id,
            accept=accept,
            feedback=review.feedback,
            now=rt.now(),
            actor=info.context.caller.id,
        )
        rt.wake(wakeups.after_review(accept))
        return TaskType.of(t)

    @strawberry.mutation(description="Put a dead-lettered task back in the queue.")
    async def requeue_dead(self, info: CtxInfo, task_id: str) -> TaskType:
        rt = info.context.rt
        t = await tasks.requeue_dead(rt.store, task_id, actor=info.context.caller.id, now=rt.now())
        rt.wake(wakeups.after_requeue())
        return TaskType.of(t)


async def _claim(
    info: CtxInfo, agent_id: str, max_tasks: int, capability: str | None
) -> list[TaskType]:
    acting_as(info, agent_id)
    rt = info.context.rt
    got = await tasks.claim(
        rt.store,
        agent_id,
        max_tasks=max_tasks,
        capability=capability,
        lease_ms=rt.settings.lease_ms,
        now=rt.now(),
        actor=info.context.caller.id,
    )
    return [TaskType.of(t) for t in got]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Work pushed to this agent: assignments, cancellations, pre-emptions. "
        "Resume after a reconnect with `after` (the last seq seen): nothing lost or repeated."
    )
    async def task_assigned(
        self, info: CtxInfo, agent_id: str, after: Long | None = None
    ) -> AsyncGenerator[TaskAssignment, None]:
        authorize(info)
        acting_as(info, agent_id)
        hub = info.context.rt.hub
        assert hub is not None

        def mine(ev: Event) -> bool:
            return ev.type in PUSHED and ev.payload.get("agentId") == agent_id

        async for ev in hub.subscribe(after, mine, PUSHED, owner=info.context.caller.id):
            task_id = str(ev.payload.get("taskId") or ev.subject or "")
            t = pushed_task(ev, agent_id) or await tasks.props(info.context.rt.store, task_id)
            yield TaskAssignment(
                seq=Long(ev.seq),
                type=ev.type,
                task_id=strawberry.ID(task_id),
                fence=ev.payload.get("fence"),
                task=TaskType.of(t) if t else None,
                proposal_id=ev.payload.get("proposalId"),
                decision=ev.payload.get("decision"),
            )
