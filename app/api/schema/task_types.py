"""The GraphQL types of tasks (``Task``, its attempts, connections, inputs and what the
``taskAssigned`` subscription pushes), apart from the resolvers in :mod:`.tasks` that use them:
a type says what a task looks like, the resolvers what may be done with it."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.api.schema.common import CtxInfo, Long, PageInfo, opt_long
from app.core.events import Event
from app.models import Task


@strawberry.type(name="TaskAttempt")
class AttemptType:
    attempt: int
    fence: int
    agent_id: str
    at: Long
    via: str | None
    outcome: str | None
    ended_at: Long | None


@strawberry.type(name="Task")
class TaskType:
    """A unit of work: routed by capability, held under a lease and a fencing token."""

    id: strawberry.ID
    kind: str
    capability: str
    priority: int
    status: str
    payload: JSON | None = strawberry.field(
        description="Null (with result and errors) when the caller may not read the task: "
        "not its own and touching an entity in a domain it may not read."
    )
    result: JSON | None
    dedup_key: str | None
    attempts: int
    max_attempts: int
    fence: int = strawberry.field(
        description="Fencing token of the current assignment; present it on every report."
    )
    lease_until: Long | None
    deadline: Long | None
    not_before: Long | None
    agent_id: str | None
    resources: list[str]
    entities: list[str]
    errors: JSON
    cost_usd: float
    tree_cost_usd: float = strawberry.field(
        description="USD spent on this task and every sub-task below it (rolled up when "
        "cost is reported)."
    )
    submitted_by: str | None
    run_id: str | None
    parent_id: str | None
    created_at: Long
    updated_at: Long
    ended_at: Long | None
    loaded_history: strawberry.Private[list[AttemptType] | None]
    loaded_relations: strawberry.Private[tuple[str | None, list[str]] | None]
    feedback: str | None = strawberry.field(
        description="A supervisor's feedback when it sent this sub-task back."
    )
    rounds: int = strawberry.field(description="How many times it was sent back.")
    review: str | None = strawberry.field(description="accepted | sent_back")
    traceparent: str | None = strawberry.field(
        description="W3C traceparent of this task's span: agents pass it on to join the trace."
    )

    @strawberry.field(description="Every assignment of this task and how it ended.")
    async def history(self, info: CtxInfo) -> list[AttemptType]:
        if self.loaded_history is not None:
            return self.loaded_history
        t = await info.context.loaders.task.load(str(self.id))
        return TaskType.of(t).loaded_history or [] if t else []

    async def _relations(self, info: CtxInfo) -> tuple[str | None, list[str]]:
        """Merge and deferral: read with the task by task(id) and tasks, else read now."""
        if self.loaded_relations is None:
            t = await info.context.loaders.task.load(str(self.id))
            self.loaded_relations = (t.merged_into, t.deferred_behind) if t else (None, [])
        return self.loaded_relations

    @strawberry.field(description="For a merged task: the id of the task whose outcome it shares.")
    async def merged_into(self, info: CtxInfo) -> str | None:
        return (await self._relations(info))[0]

    @strawberry.field(
        description="For a deferred task: the tasks it waits behind (they touch the same entities)."
    )
    async def deferred_behind(self, info: CtxInfo) -> list[str]:
        return (await self._relations(info))[1]

    @strawberry.field(description="For a merged task: the task whose outcome it shares.")
    async def survivor(self, info: CtxInfo) -> TaskType | None:
        merged_into = (await self._relations(info))[0]
        if not merged_into:
            return None
        t = await info.context.loaders.task.load(merged_into)
        return TaskType.of(t) if t else None

    @classmethod
    def of(cls, t: Task) -> TaskType:
        return cls(
            id=strawberry.ID(t.id),
            kind=t.kind,
            capability=t.capability,
            priority=t.priority,
            status=t.status,
            payload=None if t.hidden else cast(JSON, t.payload),
            result=None if t.hidden else t.result,
            dedup_key=t.dedup_key,
            attempts=t.attempts,
            max_attempts=t.max_attempts,
            fence=t.fence,
            lease_until=opt_long(t.lease_until),
            deadline=opt_long(t.deadline),
            not_before=opt_long(t.not_before),
            agent_id=t.agent_id,
            resources=t.resources,
            entities=t.entities,
            errors=cast(JSON, t.errors),
            cost_usd=t.cost_usd,
            tree_cost_usd=round(t.tree_cost_usd, 6),
            submitted_by=t.submitted_by,
            run_id=t.run_id,
            parent_id=t.parent_id,
            created_at=Long(t.created_at),
            updated_at=Long(t.updated_at),
            ended_at=opt_long(t.ended_at),
            feedback=t.feedback,
            rounds=t.rounds,
            review=t.review,
            traceparent=t.traceparent,
            loaded_history=None
            if not t.history and t.attempts
            else [
                AttemptType(
                    attempt=h.attempt,
                    fence=h.fence,
                    agent_id=h.agent_id,
                    at=Long(h.at),
                    via=h.via,
                    outcome=h.outcome,
                    ended_at=opt_long(h.ended_at),
                )
                for h in t.history
            ],
            loaded_relations=(t.merged_into, t.deferred_behind) if t.relations_loaded else None,
        )


@strawberry.type
class TaskConnection:
    nodes: list[TaskType]
    page_info: PageInfo


@strawberry.type
class QueueDepth:
    capability: str
    status: str
    count: int
    oldest: Long | None


@strawberry.input
class SubmitTaskInput:
    kind: str
    capability: str
    priority: int = 50
    payload: JSON | None = None
    resources: list[str] | None = None
    entities: list[str] | None = None
    deadline: Long | None = None
    parent_id: str | None = None
    run_id: str | None = None
    dedup_key: str | None = None
    max_attempts: int = 3


@strawberry.input
class CompletionInput:
    task_id: str
    fence: int
    result: JSON | None = None
    cost_usd: float = 0.0


@strawberry.type
class TaskAssignment:
    """Pushed to an agent: new work (``task.assigned``), work taken away
    (``task.cancelled``, ``task.preempted``), or a human's answer to its proposal
    (``proposal.decided``, with ``decision`` and ``proposalId``)."""

    seq: Long
    type: str
    task_id: strawberry.ID
    fence: int | None
    task: TaskType | None
    proposal_id: str | None = None
    decision: str | None = None


def pushed_task(ev: Event, agent_id: str) -> Task | None:
    """The task as the assignment event recorded it (no read needed), if it did."""
    p = ev.payload
    if ev.type != "task.assigned" or "payload" not in p:
        return None
    return Task(
        id=ev.subject or "",
        kind=p["kind"],
        capability=p["capability"],
        priority=p["priority"],
        status="assigned",
        payload=p["payload"],
        fence=p["fence"],
        attempts=p["attempts"],
        agent_id=agent_id,
        created_at=ev.at,
        updated_at=ev.at,
        run_id=p.get("runId"),
        parent_id=p.get("parentId"),
        rounds=p.get("rounds") or 0,
        trace_id=p.get("traceId"),
        span_id=p.get("spanId"),
    )
