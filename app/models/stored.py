"""What is read back from the graph: principals, agents, tasks and their attempts (camelCase
properties, unknown ones ignored), as core hands them to the adapters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.models.common import Role


class Principal(BaseModel):
    """An authenticated caller."""

    id: str
    kind: str
    name: str
    roles: list[str]
    agent_id: str | None = None
    revoked: bool = False
    created_at: int | None = None
    expires_at: int | None = None

    def has(self, *roles: Role) -> bool:
        """True if the principal holds any of ``roles`` (admin holds all)."""
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)

    def may_act_as(self, agent_id: str) -> bool:
        """Agents act only as themselves; admins as anyone."""
        return Role.ADMIN in self.roles or (Role.AGENT in self.roles and self.agent_id == agent_id)


class Stored(BaseModel):
    """Base for nodes read back from the graph: camelCase properties, extras ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Agent(Stored):
    """An agent as stored, with its live load."""

    id: str
    name: str
    kind: str
    capabilities: list[str]
    max_concurrency: int
    status: str
    active: int = 0
    team: str | None = None
    cost_per_call: float | None = None
    webhook_url: str | None = None
    last_heartbeat: int | None = None
    done: int = 0
    failed: int = 0
    spent_usd: float = 0.0
    mode: str = "push"


class Attempt(Stored):
    """One assignment of a task to an agent, and how it ended."""

    attempt: int
    fence: int
    agent_id: str
    at: int
    via: str | None = None
    outcome: str | None = None
    ended_at: int | None = None


class Task(Stored):
    """A task as stored; JSON properties decoded."""

    id: str
    kind: str
    capability: str
    priority: int
    status: str
    payload: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    dedup_key: str | None = None
    attempts: int = 0
    max_attempts: int = 3
    fence: int = 0
    lease_until: int | None = None
    deadline: int | None = None
    not_before: int | None = None
    agent_id: str | None = None
    resources: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    errors: list[Any] = Field(default_factory=list)
    cost_usd: float = 0.0
    tree_cost_usd: float = 0.0  # its own cost plus every sub-task's (rolled up on report)
    submitted_by: str | None = None
    run_id: str | None = None
    parent_id: str | None = None
    created_at: int = 0
    updated_at: int = 0
    ended_at: int | None = None
    history: list[Attempt] = Field(default_factory=list)
    merged_into: str | None = None
    deferred_behind: list[str] = Field(default_factory=list)
    relations_loaded: bool = False  # merged_into and deferred_behind were read with it
    feedback: str | None = None  # a supervisor's, when it sent this sub-task back
    rounds: int = 0  # how many times it was sent back
    review: str | None = None  # accepted | sent_back
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    hidden: bool = False  # payload, result and errors withheld: the reader may not read them

    @property
    def traceparent(self) -> str | None:
        """W3C form of this task's span, for agents to carry on (None for legacy tasks)."""
        if self.trace_id and self.span_id and len(self.span_id) == 16 and len(self.trace_id) == 32:
            return f"00-{self.trace_id}-{self.span_id}-01"
        return None
