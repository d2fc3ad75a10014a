"""Decision traces over GraphQL: ``trace(runId)`` (the span tree) and ``whyDid(id)`` (the
chain of decisions, facts and approvals that led to a task, fact, proposal or run)."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import Rules, caller_reader, roles
from app.api.schema.common import CtxInfo, Long, opt_long
from app.core import traces
from app.models import Role

RULES: Rules = {
    "trace": roles(Role.OPERATOR, Role.AUDITOR),
    "whyDid": roles(Role.OPERATOR, Role.AUDITOR),
}


@strawberry.type(name="Span")
class SpanType:
    """One decision (or one task) in a trace."""

    span_id: str
    parent_span_id: str | None
    trace_id: str | None
    name: str = strawberry.field(
        description="run, step, route, claim, context.read, fact.assert, propose, approval, "
        "merge, retry, lease.expired, complete, fail, or task <capability>"
    )
    kind: str = strawberry.field(description="decision | task")
    started_at: Long
    ended_at: Long | None
    agent_id: str | None
    principal_id: str | None
    task_id: str | None
    run_id: str | None
    status: str | None
    cost_usd: float
    attributes: JSON
    saw: list[str] = strawberry.field(description="The facts this decision was shown.")
    produced: list[str] = strawberry.field(description="What it created.")

    @classmethod
    def of(cls, s: traces.Span) -> SpanType:
        return cls(
            span_id=s.span_id,
            parent_span_id=s.parent_span_id,
            trace_id=s.trace_id,
            name=s.name,
            kind=s.kind,
            started_at=Long(s.started_at),
            ended_at=opt_long(s.ended_at),
            agent_id=s.agent_id,
            principal_id=s.principal_id,
            task_id=s.task_id,
            run_id=s.run_id,
            status=s.status,
            cost_usd=s.cost_usd,
            attributes=cast(JSON, s.attrs),
            saw=s.saw,
            produced=s.produced,
        )


@strawberry.type(name="Trace")
class TraceType:
    run_id: str
    trace_id: str
    spans: list[SpanType]


@strawberry.type(name="Why")
class WhyType:
    root: str
    nodes: list[JSON] = strawberry.field(description="{id, label, name, at}, oldest first")
    edges: list[JSON] = strawberry.field(description="{from, type, to}: upstream links")
    decisions: list[JSON] = strawberry.field(
        description="{span, name, on, by, at, saw}: the decisions that acted on those nodes"
    )
    truncated: bool = strawberry.field(
        default=False,
        description="The walk stopped at its node/edge budget (BATON_LINEAGE_BUDGET)",
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="A run's trace: every decision span with timings, agents, "
        "costs and the facts each one saw."
    )
    async def trace(self, info: CtxInfo, run_id: strawberry.ID) -> TraceType | None:
        t = await traces.trace(info.context.rt.store, str(run_id), caller_reader(info))
        if t is None:
            return None
        return TraceType(
            run_id=t.run_id, trace_id=t.trace_id, spans=[SpanType.of(s) for s in t.spans]
        )

    @strawberry.field(
        description="Why does this task, fact, proposal or run exist: the chain "
        "of decisions, facts and approvals upstream of it, back to the "
        "triggering event."
    )
    async def why_did(self, info: CtxInfo, id: strawberry.ID) -> WhyType | None:
        rt = info.context.rt
        w = await traces.why_did(
            rt.store, str(id), caller_reader(info), budget=rt.settings.lineage_budget
        )
        if w is None:
            return None
        return WhyType(
            root=w.root,
            nodes=cast(list[JSON], w.nodes),
            edges=cast(list[JSON], w.edges),
            decisions=cast(list[JSON], w.decisions),
            truncated=w.truncated,
        )
