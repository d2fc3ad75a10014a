"""Agent registry: register, heartbeat (liveness + lease extension), pause/resume, and the
job that takes silent agents offline so their work is re-queued."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core import policies
from app.core.errors import BadInput, Forbidden, NotFound
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.models import Agent, AgentIn, LeaseIn

REGISTER = q("agents/register")
CLASSIFY_REGISTER = q("agents/classify_register")
HEARTBEAT = q("agents/heartbeat")
SET_STATUS = q("agents/set_status")
MARK_OFFLINE = q("agents/mark_offline")
GET = q("agents/get")
LIST = q("agents/list")
ENGINE_AGENT = "baton"  # the workflow engine's own agent (holds approval tasks)
RESERVED_CAPABILITIES = frozenset({"workflow.approval"})  # only the engine's agent has it


def _agent(row: dict[str, Any]) -> Agent:
    return Agent.model_validate(row["agent"])


async def register(
    store: GraphStore,
    data: AgentIn,
    *,
    actor: str,
    now: int,
    admin: bool = False,
) -> Agent:
    """Create or update the agent and mark it online.

    Team membership is granted by admins: unless ``admin``, the team named must be the
    agent's current one or (an agent with none yet) the one an admin granted the calling
    principal ``actor`` (createPrincipal's ``team``); otherwise FORBIDDEN, nothing written."""
    if data.id == ENGINE_AGENT:
        raise BadInput(f"agent id {ENGINE_AGENT!r} is reserved for the workflow engine", field="id")
    reserved = RESERVED_CAPABILITIES.intersection(data.capabilities)
    if reserved:
        raise BadInput(
            f"capability {sorted(reserved)[0]!r} is reserved for the workflow engine",
            field="capabilities",
        )
    rows = await store.write(
        REGISTER,
        id=data.id,
        name=data.name,
        kind=data.kind.value,
        capabilities=data.capabilities,
        maxConcurrency=data.max_concurrency,
        team=data.team,
        costPerCall=data.cost_per_call,
        webhookUrl=data.webhook_url,
        webhookSecret=data.webhook_secret,
        mode=data.mode.value,
        admin=admin,
        principalId=actor,
        now=now,
        actor=actor,
        payload=dumps(
            {
                "capabilities": data.capabilities,
                "maxConcurrency": data.max_concurrency,
                "mode": data.mode.value,
            }
        ),
    )
    if not rows:
        why = await store.read(CLASSIFY_REGISTER, team=data.team)
        if not why or not why[0]["teamExists"]:
            raise NotFound(f"team {data.team!r} does not exist", field="team")
        raise Forbidden(
            f"{actor} may not put agent {data.id} in team {data.team!r}: team membership is "
            "granted by an admin (createPrincipal team, or registerAgent as admin)",
            field="team",
        )
    await policies.refresh(store, [data.id])  # its team's policies may differ
    return await get(store, data.id) or _agent(rows[0])


@dataclass(frozen=True)
class Heartbeat:
    """What a heartbeat changed: leases extended, and tasks this agent no longer holds."""

    status: str
    extended: list[str]
    lost: list[str]
    lease_until: int


async def heartbeat(
    store: GraphStore,
    agent_id: str,
    leases: list[LeaseIn],
    *,
    lease_ms: int,
    now: int,
    actor: str | None = None,
) -> Heartbeat:
    """Record liveness and extend the leases whose fencing tokens are still current."""
    rows = await store.write(
        HEARTBEAT,
        agentId=agent_id,
        leases=[{"taskId": lease.task_id, "fence": lease.fence} for lease in leases],
        leaseUntil=now + lease_ms,
        now=now,
        actor=actor or agent_id,
    )
    if not rows:
        raise NotFound(f"agent {agent_id!r} is not registered", id=agent_id)
    extended = list(rows[0]["extended"] or [])
    lost = [lease.task_id for lease in leases if lease.task_id not in extended]
    return Heartbeat(str(rows[0]["status"]), extended, lost, now + lease_ms)


async def set_status(
    store: GraphStore, agent_id: str, status: str, *, actor: str, now: int
) -> Agent:
    """Pause or resume; a no-op if already there."""
    rows = await store.write(SET_STATUS, agentId=agent_id, status=status, now=now, actor=actor)
    if rows:
        return _agent(rows[0])
    agent = await get(store, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} does not exist", id=agent_id)
    return agent


async def get(store: GraphStore, agent_id: str) -> Agent | None:
    rows = await store.read(GET, id=agent_id)
    return _agent(rows[0]) if rows else None


async def page(
    store: GraphStore,
    after: str,
    limit: int,
    *,
    status: str | None = None,
    capability: str | None = None,
) -> list[Agent]:
    rows = await store.read(LIST, after=after, limit=limit, status=status, capability=capability)
    return [_agent(r) for r in rows]


async def mark_offline(store: GraphStore, *, timeout_ms: int, now: int) -> int:
    """Scheduler job: agents silent past the window go offline; their leases end now."""
    rows = await store.write(MARK_OFFLINE, cutoff=now - timeout_ms, now=now)
    return int(rows[0]["offline"]) if rows else 0
