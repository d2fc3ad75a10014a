"""Human in the loop over GraphQL: ``proposeAction``, ``decideProposal``, ``inbox``,
``proposal``, ``inboxUpdates``."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, acting_as, authorize, caller_reader, may_read_inbox, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    PageInfo,
    decode_int_cursor,
    encode_cursor,
    opt_long,
)
from app.core import proposals
from app.core.errors import BadInput
from app.core.events import Event
from app.models import Decision, DecisionIn, ProposalIn, Role

RULES: Rules = {
    "proposeAction": roles(Role.AGENT),
    "decideProposal": roles(Role.OPERATOR),
    "inbox": roles(Role.OPERATOR, Role.AUDITOR),
    "proposal": ANY,
    "inboxUpdates": roles(Role.OPERATOR),
}
DecisionGQL = strawberry.enum(Decision, name="Decision")


@strawberry.type(name="Proposal")
class ProposalType:
    """An action an agent wants to take, waiting for (or past) a human decision."""

    id: strawberry.ID
    kind: str
    summary: str
    payload: JSON | None = strawberry.field(
        description="Null (with modifiedPayload and rationale) when the caller may not read "
        "it: not its own, not a named approver, and its task touches an unreadable domain."
    )
    modified_payload: JSON | None = strawberry.field(description="The human's edit (MODIFY).")
    confidence: float
    rationale: str | None
    status: str = strawberry.field(
        description="pending | auto_executed | approved | modified | rejected"
    )
    task_id: str
    agent_id: str
    created_at: Long
    level: int = strawberry.field(description="Escalation level (0 = first approvers).")
    threshold: float | None = strawberry.field(description="The threshold that auto-ran it.")
    policy_id: str | None = strawberry.field(
        description="The policy that decided its route: the threshold's when it auto-ran, "
        "else the one naming its approvers (or its SLA)."
    )
    priority: int
    deadline: Long | None = strawberry.field(
        description="When it must be decided: the approval SLA of its current level "
        "(`approvalSlaMs`; it then escalates or expires), or its task's deadline if earlier."
    )
    decided_by: str | None
    decided_at: Long | None
    reason: str | None
    fact_ids: list[str]
    routed_to: list[str]

    @classmethod
    def of(cls, p: proposals.Proposal) -> ProposalType:
        return cls(
            id=strawberry.ID(p.id),
            kind=p.kind,
            summary=p.summary,
            payload=None if p.hidden else cast(JSON, p.payload),
            modified_payload=None if p.hidden else cast(JSON, p.modified_payload),
            confidence=p.confidence,
            rationale=None if p.hidden else p.rationale,
            status=p.status,
            task_id=p.task_id,
            agent_id=p.agent_id,
            created_at=Long(p.created_at),
            level=p.level,
            threshold=p.threshold,
            policy_id=p.policy_id,
            priority=p.priority,
            deadline=opt_long(p.deadline),
            decided_by=p.decided_by,
            decided_at=opt_long(p.decided_at),
            reason=p.reason,
            fact_ids=p.fact_ids,
            routed_to=p.routed_to,
        )


@strawberry.type
class ProposalConnection:
    nodes: list[ProposalType]
    page_info: PageInfo


@strawberry.input
class ProposeActionInput:
    task_id: str
    agent_id: str
    fence: int
    kind: str
    summary: str
    confidence: float
    payload: JSON | None = None
    rationale: str = ""
    fact_ids: list[str] | None = None


@strawberry.type
class InboxUpdate:
    seq: Long
    type: str
    proposal: ProposalType | None


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(json.dumps(value)) > 64_000:
        raise BadInput(f"{field} must be a JSON object under 64 kB", field=field)
    return value


@strawberry.type
class Query:
    @strawberry.field(description="Proposals routed or escalated to a human, most urgent first.")
    async def inbox(
        self,
        info: CtxInfo,
        principal_id: str | None = None,
        status: str | None = "pending",
        first: int = 50,
        after: str | None = None,
    ) -> ProposalConnection:
        who = may_read_inbox(info, principal_id)
        if not 1 <= first <= info.context.rt.settings.max_page_size:
            raise BadInput("first out of range", field="first")
        offset = decode_int_cursor(after)
        rows = await proposals.inbox(info.context.rt.store, who, status, offset, first + 1)
        nodes = [ProposalType.of(p) for p in rows[:first]]
        return ProposalConnection(
            nodes=nodes,
            page_info=PageInfo(
                end_cursor=encode_cursor(offset + len(nodes)), has_next_page=len(rows) > first
            ),
        )

    @strawberry.field(description="One proposal.")
    async def proposal(self, info: CtxInfo, id: strawberry.ID) -> ProposalType | None:
        p = await proposals.get_for(info.context.rt.store, caller_reader(info), str(id))
        caller = info.context.caller
        if p and Role.AGENT in caller.roles and not caller.has(Role.OPERATOR):
            if not caller.may_act_as(p.agent_id):
                return None  # agents see their own proposals only; others' look absent
        return ProposalType.of(p) if p else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Propose an action for a held task. Above the policy's confidence "
        "threshold (and unless always-approve) it runs at once (`auto_executed`); otherwise "
        "the task waits for a human (`pending`), who hears of it in their inbox."
    )
    async def propose_action(self, info: CtxInfo, input: ProposeActionInput) -> ProposalType:
        acting_as(info, input.agent_id)
        data = ProposalIn(
            task_id=input.task_id,
            agent_id=input.agent_id,
            fence=input.fence,
            kind=input.kind,
            summary=input.summary,
            payload=_object(input.payload, "payload"),
            confidence=input.confidence,
            rationale=input.rationale,
            fact_ids=input.fact_ids or [],
        )
        rt = info.context.rt
        return ProposalType.of(
            await proposals.propose(rt.store, data, now=rt.now(), actor=info.context.caller.id)
        )

    @strawberry.mutation(
        description="Approve, modify (with the edited payload) or reject. Exactly one "
        "decision wins; the agent is told at once."
    )
    async def decide_proposal(
        self,
        info: CtxInfo,
        id: strawberry.ID,
        decision: DecisionGQL,  # type: ignore[valid-type]
        reason: str = "",
        payload: JSON | None = None,
    ) -> ProposalType:
        d = DecisionIn(decision=Decision(decision), reason=reason, payload=payload)
        caller = info.context.caller
        rt = info.context.rt
        p = await proposals.decide(
            rt.store,
            str(id),
            d.decision,
            principal_id=caller.id,
            admin=Role.ADMIN in caller.roles,
            reason=d.reason,
            payload=d.payload,
            lease_ms=rt.settings.lease_ms,
            now=rt.now(),
        )
        return ProposalType.of(p)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Proposals arriving in (escalated to, decided from) my inbox, live."
    )
    async def inbox_updates(
        self, info: CtxInfo, after: Long | None = None
    ) -> AsyncGenerator[InboxUpdate, None]:
        authorize(info)
        me = info.context.caller.id
        hub = info.context.rt.hub
        assert hub is not None
        kinds = ["proposal.pending", "proposal.escalated", "proposal.decided"]

        def mine(ev: Event) -> bool:
            return ev.type in kinds and me in ev.recipients

        reader = caller_reader(info)
        async for ev in hub.subscribe(after, mine, kinds, owner=info.context.caller.id):
            p = await proposals.get_for(info.context.rt.store, reader, ev.subject or "")
            yield InboxUpdate(
                seq=Long(ev.seq), type=ev.type, proposal=ProposalType.of(p) if p else None
            )
