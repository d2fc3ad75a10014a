"""The agent inbox: proposals, thresholds, routing to humans, decisions, escalation.

Whether a proposal runs by itself is decided from policy data in the graph: the most
specific policy (agent > team > global) that sets a threshold for the action kind, else
the most specific default threshold; an action kind listed in any applicable
``alwaysApprove`` always needs a human. The threshold and the policy that allowed an
auto-execution are recorded on the proposal. Pending proposals go to the first level of
the approval chain of the most specific policy that names ``approvers``; a scheduler job
escalates them up ``escalation`` when their SLA passes, and settles them at the top by the
policy's ``onExpiry`` (reject unless it says approve).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.context import Reader
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.graph import GraphStore
from app.graph.queries import q
from app.models import Decision, ProposalIn

EXPLAIN = q("policies/explain")
PROPOSE = q("proposals/propose")
DECIDE = q("proposals/decide")
ESCALATE = q("proposals/escalate")
EXPIRE = q("proposals/expire")
INBOX = q("proposals/inbox")
GET = q("proposals/get")
GET_FOR = q("proposals/get_for")
STATUS = {Decision.APPROVE: "approved", Decision.MODIFY: "modified", Decision.REJECT: "rejected"}
DEFAULT_SLA_MS = 15 * 60_000
NOBODY = "team:__nobody__"  # no approvers configured: only an admin can decide


@dataclass
class Proposal:
    id: str
    kind: str
    summary: str
    payload: dict[str, Any]
    confidence: float
    rationale: str
    status: str
    task_id: str
    agent_id: str
    created_at: int
    level: int = 0
    threshold: float | None = None
    policy_id: str | None = None
    priority: int = 50
    deadline: int | None = None
    decided_by: str | None = None
    decided_at: int | None = None
    reason: str | None = None
    modified_payload: dict[str, Any] | None = None
    fact_ids: list[str] = field(default_factory=list)
    routed_to: list[str] = field(default_factory=list)
    hidden: bool = False  # payload and rationale withheld: the reader may not read them

    @classmethod
    def of(cls, p: dict[str, Any], routed: list[str] | None = None) -> Proposal:
        mod = p.get("modifiedPayload")
        return cls(
            hidden=bool(p.get("_hidden")),
            id=p["id"],
            kind=p["kind"],
            summary=p["summary"],
            payload=json.loads(p["payload"]) if p.get("payload") else {},
            confidence=float(p["confidence"]),
            rationale=p.get("rationale") or "",
            status=p["status"],
            task_id=p["taskId"],
            agent_id=p["agentId"],
            created_at=int(p["createdAt"]),
            level=int(p.get("level") or 0),
            threshold=p.get("threshold"),
            policy_id=p.get("policyId"),
            priority=int(p.get("priority") or 50),
            deadline=min(
                (int(x) for x in (p.get("deadline"), p.get("escalateAt")) if x is not None),
                default=None,
            ),
            decided_by=p.get("decidedBy"),
            decided_at=p.get("decidedAt"),
            reason=p.get("reason"),
            modified_payload=json.loads(mod) if mod else None,
            fact_ids=list(p.get("factIds") or []),
            routed_to=sorted(set(routed or [])),
        )


@dataclass(frozen=True)
class Route:
    """What policy says for one proposal."""

    auto: bool
    threshold: float | None
    policy_id: str | None  # the threshold's when auto, else the one that routes it
    chain: list[str]
    sla_ms: int
    on_expiry: str
    routing_policy: str | None = None  # the policy naming the approvers (or the SLA)


def route_for(policies: list[dict[str, Any]], kind: str, confidence: float) -> Route:
    """Decide auto-execution and the approval chain from the applicable policies, most
    specific first (the order policies/explain returns them in)."""
    always = any(kind in (p.get("alwaysApprove") or []) for p in policies)
    threshold, source = None, None
    for p in policies:
        kinds, values = p.get("thresholdActions") or [], p.get("thresholdValues") or []
        if kind in kinds:
            threshold, source = float(values[kinds.index(kind)]), p["id"]
            break
    if threshold is None:
        for p in policies:
            if p.get("autoApproveThreshold") is not None:
                threshold, source = float(p["autoApproveThreshold"]), p["id"]
                break
    chain_of = next((p for p in policies if p.get("approvers")), None)
    chain = (
        ["|".join(chain_of["approvers"]), *(chain_of.get("escalation") or [])]
        if chain_of
        else [NOBODY]
    )
    sla_of = next((p for p in policies if p.get("approvalSlaMs")), None)
    sla = int(sla_of["approvalSlaMs"]) if sla_of else None
    expiry = next((p["onExpiry"] for p in policies if p.get("onExpiry")), "reject")
    auto = not always and threshold is not None and confidence >= threshold
    routing = (chain_of or sla_of or {}).get("id") or source
    return Route(
        auto, threshold, source if auto else routing, chain, sla or DEFAULT_SLA_MS, expiry, routing
    )


async def propose(
    store: GraphStore,
    data: ProposalIn,
    *,
    now: int,
    actor: str | None = None,
    approvers: list[str] | None = None,
    engine: bool = False,
    policy_auto: bool = False,
) -> Proposal:
    """Queue an action for approval, or record its auto-execution under policy.

    ``engine``: a workflow's human checkpoint, made by the engine on its own task. Only the
    step's ``approvers`` (the whole chain; the policy's chain only when the step names
    none) or an admin decide it, and no policy threshold or ``onExpiry: approve`` settles
    it, unless the definition says so (``policy_auto``, the step's ``autoApprove``)."""
    rows = await store.read(EXPLAIN, agentId=data.agent_id, resourceId=None)
    if not rows:
        raise NotFound(f"agent {data.agent_id!r} is not registered", field="agentId")
    applicable = [p for _, p in rows[0]["policies"]]
    r = route_for(applicable, data.kind, data.confidence)
    if engine:
        if approvers:
            r = replace(r, chain=["|".join(approvers)])
        if not policy_auto:
            r = replace(
                r,
                auto=False,
                threshold=None,
                on_expiry="reject",
                policy_id=None if approvers else r.routing_policy,
            )
    elif approvers:
        rest = [] if r.chain[0] == NOBODY else r.chain[1:]
        r = replace(r, chain=["|".join(approvers), *rest])
    first = r.chain[0].split("|")
    pid = new_id("prop")
    got = await store.write(
        PROPOSE,
        id=pid,
        taskId=data.task_id,
        agentId=data.agent_id,
        fence=data.fence,
        kind=data.kind,
        summary=data.summary,
        payload=dumps(data.payload),
        confidence=data.confidence,
        rationale=data.rationale,
        factIds=data.fact_ids,
        auto=r.auto,
        threshold=r.threshold,
        policyId=r.policy_id,
        chain=r.chain,
        slaMs=r.sla_ms,
        onExpiry=r.on_expiry,
        principals=[x for x in first if not x.startswith("team:")],
        teams=[x.removeprefix("team:") for x in first if x.startswith("team:")],
        eventPayload=dumps(
            {
                "proposalId": pid,
                "taskId": data.task_id,
                "agentId": data.agent_id,
                "kind": data.kind,
                "confidence": data.confidence,
                "threshold": r.threshold,
                "auto": r.auto,
            }
        ),
        engine=engine,
        actor=actor or data.agent_id,
        now=now,
    )
    if not got:
        raise Conflict(
            f"task {data.task_id} is not held by {data.agent_id} under fencing token "
            f"{data.fence}, or a fact id is unknown",
            id=data.task_id,
        )
    return Proposal.of(got[0]["proposal"], got[0]["routed"])


async def decide(
    store: GraphStore,
    proposal_id: str,
    decision: Decision,
    *,
    principal_id: str,
    admin: bool,
    reason: str,
    payload: dict[str, Any] | None,
    lease_ms: int,
    now: int,
) -> Proposal:
    """One decision wins; the loser, a stranger or a late click gets a coded error."""
    rows = await store.write(
        DECIDE,
        id=proposal_id,
        status=STATUS[decision],
        principalId=principal_id,
        admin=admin,
        reason=reason,
        modified=dumps(payload) if decision is Decision.MODIFY else None,
        leaseMs=lease_ms,
        now=now,
    )
    if rows:
        return Proposal.of(rows[0]["proposal"], rows[0]["routedTo"])
    current = await get(store, proposal_id)
    if current is None:
        raise NotFound(f"proposal {proposal_id!r} does not exist", id=proposal_id)
    if current.status != "pending":
        raise Conflict(
            f"proposal {proposal_id} was already {current.status} by {current.decided_by}",
            status=current.status,
        )
    raise Forbidden(f"proposal {proposal_id} was not routed to {principal_id}")


async def get(store: GraphStore, proposal_id: str) -> Proposal | None:
    rows = await store.read(GET, id=proposal_id)
    return Proposal.of(rows[0]["proposal"], rows[0]["routedTo"]) if rows else None


async def get_for(store: GraphStore, reader: Reader, proposal_id: str) -> Proposal | None:
    """One proposal as ``reader`` may see it (payload and rationale hidden unless readable:
    its own, a named approver, or its task's entities are all in readable domains)."""
    rows = await store.read(GET_FOR, id=proposal_id, **reader.params())
    return Proposal.of(rows[0]["proposal"], rows[0]["routedTo"]) if rows else None


async def inbox(
    store: GraphStore, principal_id: str, status: str | None, offset: int, limit: int
) -> list[Proposal]:
    rows = await store.read(
        INBOX, principalId=principal_id, status=status, offset=offset, limit=limit
    )
    return [Proposal.of(r["proposal"], r["routedTo"]) for r in rows]


async def escalate_due(store: GraphStore, *, now: int, lease_ms: int, limit: int = 500) -> int:
    """Scheduler job: escalate what is overdue, settle what is overdue at the top."""
    up = await store.write(ESCALATE, now=now, limit=limit)
    done = await store.write(EXPIRE, now=now, limit=limit, leaseMs=lease_ms)
    return (int(up[0]["escalated"]) if up else 0) + (int(done[0]["expired"]) if done else 0)
