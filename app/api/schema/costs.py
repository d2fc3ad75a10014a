"""Spend over GraphQL: ``reportCost``, ``setBudget``, ``budgets``, ``costReport``."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from app.api.authz import Rules, acting_as, roles
from app.api.schema.common import CtxInfo, Long, PageInfo, decode_cursor, page_of, page_size
from app.core import costs, wakeups
from app.models import BudgetIn, BudgetPeriod, BudgetScope, Role, SpendIn

RULES: Rules = {
    "reportCost": roles(Role.AGENT),
    "setBudget": roles(Role.OPERATOR),
    "budgets": roles(Role.OPERATOR, Role.AUDITOR),
    "costReport": roles(Role.OPERATOR, Role.AUDITOR),
}

BudgetScopeGQL = strawberry.enum(BudgetScope, name="BudgetScope")
BudgetPeriodGQL = strawberry.enum(BudgetPeriod, name="BudgetPeriod")


@strawberry.enum
class CostGroup(Enum):
    AGENT = "agent"
    TEAM = "team"
    WORKFLOW = "workflow"
    RUN = "run"


@strawberry.input
class BudgetInput:
    id: str
    scope: BudgetScopeGQL  # type: ignore[valid-type]
    target_id: str
    limit_usd: float
    period: BudgetPeriodGQL = BudgetPeriod.MONTH  # type: ignore[valid-type]
    thresholds: list[int] = strawberry.field(default_factory=lambda: [50, 80, 100])


@strawberry.type
class Budget:
    id: strawberry.ID
    scope: str
    target_id: str
    limit_usd: float
    spent_usd: float
    period: str
    period_start: Long
    thresholds: list[int]
    crossed: list[int] = strawberry.field(description="Thresholds crossed this period.")
    exhausted: bool

    @classmethod
    def of(cls, b: dict[str, Any]) -> Budget:
        return cls(
            id=strawberry.ID(b["id"]),
            scope=b["scope"],
            target_id=b["targetId"],
            limit_usd=b["limitUsd"],
            spent_usd=b.get("spentUsd", 0.0),
            period=b["period"],
            period_start=Long(b.get("periodStart", 0)),
            thresholds=list(b["thresholds"]),
            crossed=list(b.get("crossed") or []),
            exhausted=bool(b.get("exhausted")),
        )


@strawberry.type
class BudgetConnection:
    nodes: list[Budget]
    page_info: PageInfo


@strawberry.type
class CostLine:
    key: str | None
    usd: float
    tokens_in: int
    tokens_out: int
    entries: int


@strawberry.type
class Query:
    @strawberry.field(description="Budgets with what is spent in their current period.")
    async def budgets(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> BudgetConnection:
        n = page_size(info, first)
        rows = await costs.budgets(info.context.rt.store, decode_cursor(after), n + 1)
        nodes, page = page_of([Budget.of(b) for b in rows], n, after, lambda x: x.id)
        return BudgetConnection(nodes=nodes, page_info=page)

    @strawberry.field(description="Spend in the current period, grouped, largest first.")
    async def cost_report(
        self,
        info: CtxInfo,
        group_by: CostGroup,
        period: BudgetPeriodGQL,  # type: ignore[valid-type]
    ) -> list[CostLine]:
        rt = info.context.rt
        day, month = costs.period_starts(rt.now())
        since = {"day": day, "month": month}.get(BudgetPeriod(period).value, 0)
        rows = await costs.by_group(rt.store, group_by.value, since)
        return [
            CostLine(
                key=r["key"],
                usd=r["usd"],
                tokens_in=int(r["tokensIn"]),
                tokens_out=int(r["tokensOut"]),
                entries=int(r["entries"]),
            )
            for r in rows
        ]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Report spend on a held task (USD, optionally tokens and model); rolls up "
        "to parent tasks, run, agent, team and their budgets. `key` makes a resend harmless "
        "(true again). A task not held by this agent under this token is an error (NOT_FOUND, "
        "FORBIDDEN for another agent's task, CONFLICT for a stale token or an ended task)."
    )
    async def report_cost(
        self,
        info: CtxInfo,
        task_id: str,
        agent_id: str,
        fence: int,
        usd: float,
        key: str,
        tokens_in: int | None = None,
        tokens_out: int | None = None,
        model: str | None = None,
    ) -> bool:
        acting_as(info, agent_id)
        s = SpendIn(
            task_id=task_id,
            fence=fence,
            usd=usd,
            key=key,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            model=model,
        )
        rt = info.context.rt
        spend = costs.Spend(
            f"{s.task_id}:{s.key}", s.task_id, s.fence, s.usd, s.tokens_in, s.tokens_out, s.model
        )
        return await costs.report_one(
            rt.store, agent_id, spend, now=rt.now(), actor=info.context.caller.id
        )

    @strawberry.mutation(description="Create or change a budget (raising it resumes work).")
    async def set_budget(self, info: CtxInfo, input: BudgetInput) -> Budget:
        data = BudgetIn.model_validate(vars(input))
        rt = info.context.rt
        b = await costs.set_budget(rt.store, data, actor=info.context.caller.id, now=rt.now())
        rt.wake(wakeups.after_budget())
        return Budget.of(b)
