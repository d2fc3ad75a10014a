"""Agent registry over GraphQL: ``registerAgent``, ``heartbeat``, ``setAgentStatus``,
``agents``, ``agent``."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.api.authz import ANY, Rules, acting_as, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    PageInfo,
    decode_cursor,
    opt_long,
    page_of,
    page_size,
)
from app.core import agents
from app.core.egress import EgressDenied, EgressPolicy
from app.core.errors import BadInput, NotFound
from app.models import Agent, AgentIn, AgentMode, LeaseIn, Role

RULES: Rules = {
    "registerAgent": roles(Role.AGENT),
    "heartbeat": roles(Role.AGENT),
    "setAgentStatus": roles(Role.AGENT, Role.OPERATOR),
    "agents": ANY,
    "agent": ANY,
}


AgentModeGQL = strawberry.enum(AgentMode, name="AgentMode")


@strawberry.type(name="Agent")
class AgentType:
    """A worker that takes tasks: an LLM agent, a bot, a script or a person."""

    id: strawberry.ID
    name: str
    kind: str
    capabilities: list[str]
    max_concurrency: int
    status: str
    active: int = strawberry.field(description="Tasks it holds right now (its live load).")
    team: str | None
    cost_per_call: float | None
    webhook_url: str | None
    last_heartbeat: Long | None
    done: int
    failed: int
    spent_usd: float
    mode: AgentModeGQL = strawberry.field(  # type: ignore[valid-type]
        description="PUSH: the routing job assigns it work (taskAssigned, webhook); PULL: it "
        "only gets what it claims (claimTask/claimTasks)."
    )

    @classmethod
    def of(cls, a: Agent) -> AgentType:
        return cls(
            id=strawberry.ID(a.id),
            name=a.name,
            kind=a.kind,
            capabilities=a.capabilities,
            max_concurrency=a.max_concurrency,
            status=a.status,
            active=a.active,
            team=a.team,
            cost_per_call=a.cost_per_call,
            webhook_url=a.webhook_url,
            last_heartbeat=opt_long(a.last_heartbeat),
            done=a.done,
            failed=a.failed,
            spent_usd=a.spent_usd,
            mode=AgentMode(a.mode),
        )


@strawberry.type
class AgentConnection:
    nodes: list[AgentType]
    page_info: PageInfo


@strawberry.enum
class AgentStatus(Enum):
    ONLINE = "online"
    PAUSED = "paused"
    OFFLINE = "offline"


@strawberry.input
class RegisterAgentInput:
    id: str
    name: str
    capabilities: list[str]
    kind: str = "ai"
    max_concurrency: int = 1
    team: str | None = None
    cost_per_call: float | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = strawberry.field(
        default=None, description="HMAC-SHA256 key for the X-Baton-Signature of pushed tasks."
    )
    mode: AgentModeGQL = strawberry.field(  # type: ignore[valid-type]
        default=AgentMode.PUSH,
        description="PULL: a pull-only agent, never pushed work by the routing job; it takes "
        "work with claimTask/claimTasks (its leases still expire and are re-queued).",
    )


@strawberry.input
class LeaseInput:
    """A task the agent still works on, with the fencing token it was given."""

    task_id: str
    fence: int


@strawberry.type
class HeartbeatResult:
    status: str
    extended: list[strawberry.ID] = strawberry.field(description="Leases extended.")
    lost: list[strawberry.ID] = strawberry.field(
        description="Tasks this agent no longer holds (stale token, re-queued, cancelled): "
        "stop working on them; their results would be refused."
    )
    lease_until: Long


@strawberry.type
class Query:
    @strawberry.field(description="Agents by id, optionally by status or capability.")
    async def agents(
        self,
        info: CtxInfo,
        status: AgentStatus | None = None,
        capability: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AgentConnection:
        n = page_size(info, first)
        rows = await agents.page(
            info.context.rt.store,
            decode_cursor(after),
            n + 1,
            status=status.value if status else None,
            capability=capability,
        )
        nodes, page = page_of([AgentType.of(a) for a in rows], n, after, lambda x: x.id)
        return AgentConnection(nodes=nodes, page_info=page)

    @strawberry.field(description="One agent with its live load.")
    async def agent(self, info: CtxInfo, id: strawberry.ID) -> AgentType | None:
        a = await agents.get(info.context.rt.store, str(id))
        return AgentType.of(a) if a else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Join (or re-join) as an agent; it is online at once.")
    async def register_agent(self, info: CtxInfo, input: RegisterAgentInput) -> AgentType:
        data = AgentIn(
            id=input.id,
            name=input.name,
            kind=input.kind,
            capabilities=input.capabilities,
            max_concurrency=input.max_concurrency,
            team=input.team,
            cost_per_call=input.cost_per_call,
            webhook_url=input.webhook_url,
            webhook_secret=input.webhook_secret,
            mode=AgentMode(input.mode),
        )
        acting_as(info, data.id)
        rt = info.context.rt
        if data.webhook_url is not None:
            try:  # what can be judged without DNS; deliveries check the resolved address
                EgressPolicy.of(rt.settings.webhook_allow_hosts).check_url(data.webhook_url)
            except EgressDenied as exc:
                raise BadInput(
                    "webhookUrl must be an http(s) URL of a public host", field="webhookUrl"
                ) from exc
        return AgentType.of(
            await agents.register(
                rt.store,
                data,
                actor=info.context.caller.id,
                now=rt.now(),
                admin=info.context.caller.has(Role.ADMIN),
            )
        )

    @strawberry.mutation(description="I am alive; extend the leases of the tasks I still hold.")
    async def heartbeat(
        self, info: CtxInfo, agent_id: str, leases: list[LeaseInput] | None = None
    ) -> HeartbeatResult:
        acting_as(info, agent_id)
        held = [LeaseIn(task_id=x.task_id, fence=x.fence) for x in leases or []]
        rt = info.context.rt
        hb = await agents.heartbeat(
            rt.store,
            agent_id,
            held,
            lease_ms=rt.settings.lease_ms,
            now=rt.now(),
            actor=info.context.caller.id,
        )
        return HeartbeatResult(
            status=hb.status,
            extended=[strawberry.ID(t) for t in hb.extended],
            lost=[strawberry.ID(t) for t in hb.lost],
            lease_until=Long(hb.lease_until),
        )

    @strawberry.mutation(description="Pause (no new work) or resume an agent.")
    async def set_agent_status(
        self, info: CtxInfo, agent_id: str, status: AgentStatus
    ) -> AgentType:
        if not info.context.caller.has(Role.OPERATOR):
            acting_as(info, agent_id)
        if status is AgentStatus.OFFLINE:
            raise BadInput("agents go offline by missing heartbeats", field="status")
        rt = info.context.rt
        a = await agents.set_status(
            rt.store, agent_id, status.value, actor=info.context.caller.id, now=rt.now()
        )
        if a is None:  # pragma: no cover - set_status raises NotFound itself
            raise NotFound(agent_id)
        return AgentType.of(a)
