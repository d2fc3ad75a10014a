"""Policies as graph data: who may do what, where and when.

``setPolicy`` writes a versioned Policy; ``refresh`` materialises each agent's effective
rules onto its Agent node (deny wins; among allows the most specific scope wins: agent >
team > global), and every routing and fenced statement enforces those fields inside its own
Cypher. :func:`explain` gives the decision for one (agent, action, resource) and the policy
nodes that produced it; refused attempts are recorded as ``policy.violation`` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import NotFound
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.models import PolicyIn

SET = q("policies/set")
REFRESH = q("policies/refresh")
EXPLAIN = q("policies/explain")
VIOLATION = q("policies/violation")
LIST = q("policies/list")
LEVELS = {3: "agent", 2: "team", 1: "global"}


def utc_hour(now_ms: int) -> int:
    """The hour of day (UTC) that ``allowedHours`` windows are written in."""
    return (now_ms // 3_600_000) % 24


async def set_policy(store: GraphStore, data: PolicyIn, *, actor: str, now: int) -> dict[str, Any]:
    """Write a new version of the policy, then re-materialise agents' effective rules."""
    rules = data.model_dump(mode="json", by_alias=True, exclude={"id", "name"})
    rows = await store.write(
        SET,
        id=data.id,
        name=data.name,
        scope=data.scope.value,
        targetId=data.target_id,
        allowCapabilities=data.allow_capabilities,
        denyCapabilities=data.deny_capabilities,
        allowDomains=data.allow_domains,
        denyDomains=data.deny_domains,
        allowResources=data.allow_resources,
        denyResources=data.deny_resources,
        alwaysApprove=data.always_approve,
        autoApproveThreshold=data.auto_approve_threshold,
        maxCostPerTask=data.max_cost_per_task,
        maxConcurrent=data.max_concurrent,
        allowedHours=data.allowed_hours,
        thresholdActions=list(data.action_thresholds) if data.action_thresholds else None,
        thresholdValues=list(data.action_thresholds.values()) if data.action_thresholds else None,
        approvers=data.approvers,
        escalation=data.escalation,
        approvalSlaMs=data.approval_sla_ms,
        onExpiry=data.on_expiry,
        rules=dumps(rules),
        now=now,
        actor=actor,
    )
    if not rows:
        raise NotFound(f"{data.scope.value} {data.target_id!r} does not exist", field="targetId")
    await refresh(store)
    return dict(rows[0]["policy"])


async def refresh(store: GraphStore, agent_ids: list[str] | None = None) -> int:
    """Re-materialise effective rules (all agents, or these); idempotent."""
    rows = await store.write(REFRESH, agentIds=agent_ids)
    return int(rows[0]["refreshed"]) if rows else 0


async def page(store: GraphStore, after: str, limit: int) -> list[dict[str, Any]]:
    return [dict(r["policy"]) for r in await store.read(LIST, after=after, limit=limit)]


@dataclass(frozen=True)
class Explanation:
    """The decision, why, and the policies (with their scope level) that produced it."""

    allowed: bool
    reason: str
    policies: list[dict[str, Any]]


def _mentions(p: dict[str, Any], key: str, value: str) -> bool:
    return value in (p.get(key) or [])


async def explain(
    store: GraphStore, agent_id: str, action: str, resource_id: str | None, *, now: int
) -> Explanation:
    """Why ``agent_id`` may or may not do ``action`` (a capability or action kind) on
    ``resource_id`` (an entity, judged by its domain, or a resource) right now."""
    rows = await store.read(EXPLAIN, agentId=agent_id, resourceId=resource_id)
    if not rows:
        raise NotFound(f"agent {agent_id!r} does not exist", id=agent_id)
    a, domain = rows[0]["agent"], rows[0]["domain"]
    scoped = [{**p, "level": LEVELS[int(lvl)]} for lvl, p in rows[0]["policies"]]
    checks: list[tuple[str, str | None, str, str]] = [
        ("Capabilities", action, "capability", "action"),
        ("Domains", domain, "domain", "resource's domain"),
        ("Resources", None if domain else resource_id, "resource", "resource"),
    ]
    for suffix, value, noun, label in checks:
        if value is None:
            continue
        deniers = [p for p in scoped if _mentions(p, f"deny{suffix}", value)]
        if deniers:
            return Explanation(False, f"{noun} {value!r} is denied (deny wins)", deniers)
        allow = a.get(
            {
                "Capabilities": "pAllowCaps",
                "Domains": "pAllowDomains",
                "Resources": "pAllowResources",
            }[suffix]
        )
        if allow is not None and value not in allow:
            level = [p for p in scoped if p.get(f"allow{suffix}") is not None]
            top = level[0]["level"] if level else "?"
            return Explanation(
                False,
                f"{label} {value!r} is not in the {top}-level allow list (most specific wins)",
                [p for p in level if p["level"] == top],
            )
    hours = a.get("pHours")
    if hours is not None and not hours[0] <= utc_hour(now) < hours[1]:
        owner = [p for p in scoped if p.get("allowedHours") is not None][:1]
        return Explanation(False, f"outside allowed hours {hours[0]}-{hours[1]} UTC", owner)
    allowers = [
        p
        for p in scoped
        if _mentions(p, "allowCapabilities", action)
        or (domain is not None and _mentions(p, "allowDomains", domain))
        or (resource_id is not None and _mentions(p, "allowResources", resource_id))
    ]
    reason = "allowed by policy" if allowers else "allowed: no policy restricts it"
    return Explanation(True, reason, allowers)


async def record_violation(
    store: GraphStore, *, agent_id: str, subject: str, what: str, actor: str, now: int
) -> None:
    """Audit a refused attempt (it changed nothing else)."""
    await record_violations(
        store, agent_id=agent_id, refused=[(subject, what)], actor=actor, now=now
    )


async def record_violations(
    store: GraphStore, *, agent_id: str, refused: list[tuple[str, str]], actor: str, now: int
) -> None:
    """Audit refused attempts, (subject, what) each, in one statement."""
    if refused:
        items = [
            {"subject": subject, "payload": dumps({"agentId": agent_id, "attempt": what})}
            for subject, what in refused
        ]
        await store.write(VIOLATION, agentId=agent_id, items=items, actor=actor, now=now)
