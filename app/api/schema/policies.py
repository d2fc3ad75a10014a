"""Governance over GraphQL: ``setPolicy``, ``policies``, ``explainPolicy``."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, roles
from app.api.schema.common import CtxInfo, PageInfo, decode_cursor, page_of, page_size
from app.core import policies
from app.models import PolicyIn, PolicyScope, Role

RULES: Rules = {
    "setPolicy": roles(),
    "policies": roles(Role.OPERATOR, Role.AUDITOR),
    "explainPolicy": ANY,
}

PolicyScopeGQL = strawberry.enum(PolicyScope, name="PolicyScope")


@strawberry.input
class PolicyInput:
    """Rules for one scope. Leave a list out for "no rule"; an empty allow list allows
    nothing. Deny wins; among allows the most specific scope wins (agent > team > global)."""

    id: str
    name: str
    scope: PolicyScopeGQL  # type: ignore[valid-type]
    target_id: str | None = None
    allow_capabilities: list[str] | None = None
    deny_capabilities: list[str] | None = None
    allow_domains: list[str] | None = None
    deny_domains: list[str] | None = None
    allow_resources: list[str] | None = None
    deny_resources: list[str] | None = None
    always_approve: list[str] | None = strawberry.field(
        default=None, description="Action kinds that always need a human, whatever confidence."
    )
    auto_approve_threshold: float | None = None
    max_cost_per_task: float | None = None
    max_concurrent: int | None = None
    allowed_hours: list[int] | None = strawberry.field(
        default=None, description="[from, to) hours of the day, UTC."
    )
    action_thresholds: JSON | None = strawberry.field(
        default=None, description='Per action kind confidence thresholds: {"restart": 0.8}.'
    )
    approvers: list[str] | None = strawberry.field(
        default=None, description="Who approves first: principal ids or team:<id>."
    )
    escalation: list[str] | None = strawberry.field(
        default=None, description="Levels above the approvers, each 'alice|team:secops'."
    )
    approval_sla_ms: int | None = None
    on_expiry: str | None = strawberry.field(
        default=None, description="At the top of the chain: approve | reject (default)."
    )


@strawberry.type(name="Policy")
class PolicyType:
    id: strawberry.ID
    name: str
    scope: str
    target_id: str | None
    version: int
    level: str | None = strawberry.field(description="In explanations: agent, team or global.")
    rules: JSON

    @classmethod
    def of(cls, p: dict[str, Any]) -> PolicyType:
        rule_keys = {k: v for k, v in p.items() if k not in _META}
        return cls(
            id=strawberry.ID(p["id"]),
            name=p.get("name", ""),
            scope=p.get("scope", ""),
            target_id=p.get("targetId"),
            version=int(p.get("version", 0)),
            level=p.get("level"),
            rules=cast(JSON, rule_keys),
        )


_META = {
    "id",
    "name",
    "scope",
    "targetId",
    "version",
    "level",
    "createdAt",
    "updatedAt",
    "updatedBy",
    "_lk",
}


@strawberry.type
class PolicyConnection:
    nodes: list[PolicyType]
    page_info: PageInfo


@strawberry.type
class PolicyDecision:
    allowed: bool
    reason: str
    policies: list[PolicyType] = strawberry.field(description="The policies that decided it.")


@strawberry.type
class Query:
    @strawberry.field(description="Current policies by id.")
    async def policies(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> PolicyConnection:
        n = page_size(info, first)
        rows = await policies.page(info.context.rt.store, decode_cursor(after), n + 1)
        nodes, page = page_of([PolicyType.of(p) for p in rows], n, after, lambda x: x.id)
        return PolicyConnection(nodes=nodes, page_info=page)

    @strawberry.field(description="May this agent do `action` on `resourceId` now, and why.")
    async def explain_policy(
        self, info: CtxInfo, agent_id: str, action: str, resource_id: str | None = None
    ) -> PolicyDecision:
        rt = info.context.rt
        e = await policies.explain(rt.store, agent_id, action, resource_id, now=rt.now())
        return PolicyDecision(
            allowed=e.allowed, reason=e.reason, policies=[PolicyType.of(p) for p in e.policies]
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or change a policy (a new version; audited).")
    async def set_policy(self, info: CtxInfo, input: PolicyInput) -> PolicyType:
        data = PolicyIn.model_validate({k: v for k, v in vars(input).items() if v is not None})
        rt = info.context.rt
        p = await policies.set_policy(rt.store, data, actor=info.context.caller.id, now=rt.now())
        return PolicyType.of(p)
