"""Validated inputs: what the API (and the CLI, the seeds) hand to core, each checked in full
by its model before any statement runs (a failure is BAD_INPUT with the field)."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.models.common import (
    ID_PATTERN,
    AgentKind,
    AgentMode,
    CamelInput,
    Capability,
    Input,
    JsonObject,
    Name,
    PrincipalKind,
    Role,
)


class PrincipalIn(Input):
    id: str = Field(pattern=ID_PATTERN)
    kind: PrincipalKind
    name: str = Name
    roles: list[Role] = Field(min_length=1, max_length=5)
    agent_id: str | None = Field(default=None, pattern=ID_PATTERN)
    team: str | None = Field(default=None, pattern=ID_PATTERN)  # the team its agent may join


LABEL_PATTERN = r"^[a-z][a-z0-9_\-]{0,63}$"


SOURCE_ID = r"^[a-z0-9][a-z0-9_.:/\-]{0,127}$"


class SourceIn(Input):
    """``addSource``: where an org source is read from and how it ranks (README "Connect
    your systems"). `intervalS` 0: synced only when asked (``syncSource``)."""

    id: str = Field(pattern=SOURCE_ID)
    format: str = Field(pattern=r"^(backstage|codeowners|k8s|csv)$")
    location: str = Field(min_length=1, max_length=2000)
    precedence: int = Field(default=100, ge=0, le=1_000_000)
    domain: str = Field(default="catalog", pattern=SOURCE_ID)
    interval_s: int = Field(default=0, ge=0, le=31_536_000)
    repo: str | None = Field(default=None, max_length=500)  # codeowners
    mapping: str | None = Field(default=None, max_length=2000)  # csv: the mapping file
    token_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,127}$")

    @model_validator(mode="after")
    def _needs(self) -> SourceIn:
        if self.format == "codeowners" and not self.repo:
            raise ValueError("a codeowners source needs repo (the repository it belongs to)")
        if self.format == "csv" and not self.mapping:
            raise ValueError("a csv source needs mapping (its column mapping file)")
        remote = self.location.startswith(("http://", "https://"))
        if remote and self.format != "backstage":
            raise ValueError("only a backstage source is read over HTTP (its catalog API)")
        if not remote and not self.location.startswith("/"):
            raise ValueError("location: an absolute path on the server, or a Backstage URL")
        return self


class TeamIn(Input):
    """``setTeam``: a team and its whole set of grants (what is not named is taken away)."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Name
    can_read: list[Annotated[str, StringConstraints(pattern=ID_PATTERN)]] = Field(
        default_factory=list, max_length=200
    )
    can_act: list[Annotated[str, StringConstraints(pattern=ID_PATTERN)]] = Field(
        default_factory=list, max_length=200
    )
    cleared: list[Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]] = Field(
        default_factory=list, max_length=50
    )

    def grants(self) -> dict[str, Any]:
        """The audited shape: name and sorted, distinct grants."""
        return {
            "name": self.name,
            "canRead": sorted(set(self.can_read)),
            "canAct": sorted(set(self.can_act)),
            "cleared": sorted(set(self.cleared)),
        }


class MembershipIn(Input):
    """``addTeamMember`` / ``removeTeamMember``."""

    principal_id: str = Field(pattern=ID_PATTERN)
    team_id: str = Field(pattern=ID_PATTERN)


class AgentIn(Input):
    """``registerAgent``: who the agent is and how much work it can take."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Name
    kind: AgentKind = AgentKind.AI
    capabilities: list[str] = Field(min_length=1, max_length=32)
    max_concurrency: int = Field(default=1, ge=1, le=1_000)
    team: str | None = Field(default=None, pattern=ID_PATTERN)
    cost_per_call: float | None = Field(default=None, ge=0, le=1_000_000)
    webhook_url: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://\S+$")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)
    mode: AgentMode = AgentMode.PUSH

    @model_validator(mode="after")
    def _capabilities_are_names(self) -> AgentIn:
        bad = [c for c in self.capabilities if not _CAPABILITY.match(c)]
        if bad:
            raise ValueError(f"invalid capability names: {bad}")
        if len(set(self.capabilities)) != len(self.capabilities):
            raise ValueError("capabilities must be unique")
        return self


class TaskIn(Input):
    """``submitTask``: what to do, for which capability, touching what."""

    kind: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\- ]{0,99}$")
    capability: str = Capability
    priority: int = Field(default=50, ge=0, le=100)
    payload: JsonObject = Field(default_factory=dict)
    resources: list[str] = Field(default_factory=list, max_length=64)
    entities: list[str] = Field(default_factory=list, max_length=64)
    deadline: int | None = Field(default=None, ge=0)
    parent_id: str | None = Field(default=None, pattern=ID_PATTERN)
    run_id: str | None = Field(default=None, pattern=ID_PATTERN)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=200)
    max_attempts: int = Field(default=3, ge=1, le=100)
    # W3C trace context of the caller (traceparent) or of the workflow step; not content.
    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    parent_span_id: str | None = Field(default=None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _ids(self) -> TaskIn:
        for name in ("resources", "entities"):
            ids: list[str] = getattr(self, name)
            bad = [i for i in ids if not _ID.match(i)]
            if bad:
                raise ValueError(f"{name}: invalid ids {bad}")
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name}: duplicate ids")
        return self


class LeaseIn(Input):
    """A task the agent still holds, with the fencing token it was given."""

    task_id: str = Field(pattern=ID_PATTERN)
    fence: int = Field(ge=1)


class LockIn(Input):
    """``acquireLock``: an exclusive lock on a resource for a working task."""

    resource_id: str = Field(pattern=ID_PATTERN)
    task_id: str = Field(pattern=ID_PATTERN)
    fence: int = Field(ge=1)
    ttl_ms: int = Field(default=30_000, ge=100, le=86_400_000)
    priority: int = Field(default=50, ge=0, le=100)
    preempt: bool = False


class ResourceIn(Input):
    """``defineResource``: a shared thing agents use, optionally rate-limited."""

    id: str = Field(pattern=ID_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000)
    window_ms: int = Field(default=1_000, ge=1, le=86_400_000)


_CAPABILITY = re.compile(r"^[a-z][a-z0-9_.:\-]{0,63}$")
_ID = re.compile(ID_PATTERN)


# --- governance ---------------------------------------------------------------------------


class PolicyScope(StrEnum):
    GLOBAL = "global"
    TEAM = "team"
    AGENT = "agent"
    WORKFLOW = "workflow"


IdNames = list[str] | None


_POLICY_LISTS = (
    "allow_capabilities",
    "deny_capabilities",
    "allow_domains",
    "deny_domains",
    "allow_resources",
    "deny_resources",
    "always_approve",
)


class PolicyIn(CamelInput):
    """``setPolicy``: rules for a scope. A list left out means "no rule"; deny wins."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Name
    scope: PolicyScope
    target_id: str | None = Field(default=None, pattern=ID_PATTERN)
    allow_capabilities: IdNames = Field(default=None, max_length=200)
    deny_capabilities: IdNames = Field(default=None, max_length=200)
    allow_domains: IdNames = Field(default=None, max_length=200)
    deny_domains: IdNames = Field(default=None, max_length=200)
    allow_resources: IdNames = Field(default=None, max_length=200)
    deny_resources: IdNames = Field(default=None, max_length=200)
    always_approve: IdNames = Field(default=None, max_length=200)
    auto_approve_threshold: float | None = Field(default=None, ge=0, le=1)
    max_cost_per_task: float | None = Field(default=None, ge=0)
    max_concurrent: int | None = Field(default=None, ge=0, le=1_000)
    allowed_hours: list[int] | None = Field(default=None, min_length=2, max_length=2)
    action_thresholds: dict[str, float] | None = Field(default=None, max_length=100)
    approvers: IdNames = Field(default=None, max_length=50)
    escalation: list[str] | None = Field(default=None, max_length=10)
    approval_sla_ms: int | None = Field(default=None, ge=1_000, le=30 * 86_400_000)
    on_expiry: str | None = Field(default=None, pattern="^(approve|reject)$")

    @model_validator(mode="after")
    def _consistent(self) -> PolicyIn:
        if (self.scope is PolicyScope.GLOBAL) != (self.target_id is None):
            raise ValueError(
                "targetId is required for agent/team/workflow scope, and must be absent for global"
            )
        for name in _POLICY_LISTS:
            bad = [v for v in getattr(self, name) or [] if not _ID.match(v)]
            if bad:
                raise ValueError(f"{name}: invalid names {bad}")
        levels = ["|".join(self.approvers)] if self.approvers else []
        for level in [*levels, *(self.escalation or [])]:
            if not all(_ID.match(x.removeprefix("team:")) for x in level.split("|")):
                raise ValueError(
                    f"escalation level {level!r}: principal ids or team:<id>, separated by |"
                )
        for kind, value in (self.action_thresholds or {}).items():
            if not _ID.match(kind) or not 0 <= value <= 1:
                raise ValueError(f"actionThresholds: {kind!r} must map to 0..1")
        h = self.allowed_hours
        if h is not None and not (0 <= h[0] < h[1] <= 24):
            raise ValueError("allowedHours must be [from, to] with 0 <= from < to <= 24 (UTC)")
        return self


class BudgetScope(StrEnum):
    AGENT = "agent"
    TEAM = "team"
    WORKFLOW = "workflow"
    RUN = "run"


class BudgetPeriod(StrEnum):
    DAY = "day"
    MONTH = "month"
    TOTAL = "total"


class BudgetIn(CamelInput):
    """``setBudget``: a USD limit per period on an agent, team, workflow or run."""

    id: str = Field(pattern=ID_PATTERN)
    scope: BudgetScope
    target_id: str = Field(pattern=ID_PATTERN)
    limit_usd: float = Field(ge=0, le=1e9)
    period: BudgetPeriod = BudgetPeriod.MONTH
    thresholds: list[int] = Field(default_factory=lambda: [50, 80, 100], max_length=10)

    @model_validator(mode="after")
    def _percentages(self) -> BudgetIn:
        if any(not 1 <= t <= 100 for t in self.thresholds):
            raise ValueError("thresholds are percentages between 1 and 100")
        return self


# --- shared context -----------------------------------------------------------------------

MAX_BATCH = 1_000  # entities or links per call
RELATIONS = ("DEPENDS_ON", "PART_OF", "OWNED_BY", "RELATES_TO")


class EntityIn(Input):
    """An org entity (service, system, deployment, incident, customer, contract, …)."""

    id: str = Field(pattern=ID_PATTERN)
    kind: str = Field(pattern=r"^[a-z][a-z0-9_\-]{0,39}$")
    name: str = Name
    domain: str = Field(pattern=ID_PATTERN)
    attrs: JsonObject = Field(default_factory=dict)


class EntitiesIn(Input):
    """``upsertEntities``: 1 to :data:`MAX_BATCH` entities per call."""

    entities: list[EntityIn] = Field(min_length=1, max_length=MAX_BATCH)


class LinkIn(Input):
    """A relation between two entities (``from`` -[type]-> ``to``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(pattern=ID_PATTERN, alias="from")
    target: str = Field(pattern=ID_PATTERN, alias="to")
    type: str = Field(default="DEPENDS_ON", pattern="^(" + "|".join(RELATIONS) + ")$")


class LinksIn(Input):
    """``linkEntities``: 1 to :data:`MAX_BATCH` relations per call."""

    links: list[LinkIn] = Field(min_length=1, max_length=MAX_BATCH)


MAX_FACT_VALUE = 32_000  # bytes of a fact's value as JSON


class FactIn(Input):
    """``assertFact``: what an agent learned about an entity, how sure, and from what."""

    agent_id: str = Field(pattern=ID_PATTERN)
    entity_id: str = Field(pattern=ID_PATTERN)
    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.:\-]{0,99}$")
    value: Any
    confidence: float = Field(ge=0, le=1)
    derived_from: list[str] = Field(default_factory=list, max_length=100)
    valid_to: int | None = Field(default=None, ge=0)
    sensitivity: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_\-]{0,39}$")
    id: str | None = Field(default=None, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _sound(self) -> FactIn:
        if self.value is None or not isinstance(self.value, str | int | float | bool | dict | list):
            raise ValueError("value must be a JSON string, number, boolean, object or array")
        if len(json.dumps(self.value)) > MAX_FACT_VALUE:
            raise ValueError(f"value larger than {MAX_FACT_VALUE} bytes")
        if len(set(self.derived_from)) != len(self.derived_from):
            raise ValueError("derivedFrom lists an id twice")
        if self.id is not None and self.id in self.derived_from:
            raise ValueError("derivedFrom would make a cycle: a fact cannot derive from itself")
        bad = [i for i in self.derived_from if not _ID.match(i)]
        if bad:
            raise ValueError(f"derivedFrom: invalid ids {bad}")
        return self


class ProposalIn(Input):
    """``proposeAction``: what an agent wants to do, how sure it is, and why."""

    task_id: str = Field(pattern=ID_PATTERN)
    agent_id: str = Field(pattern=ID_PATTERN)
    fence: int = Field(ge=1)
    kind: str = Field(pattern=ID_PATTERN)
    summary: str = Field(min_length=1, max_length=2_000)
    payload: JsonObject = Field(default_factory=dict)
    confidence: float = Field(ge=0, le=1)
    rationale: str = Field(default="", max_length=10_000)
    fact_ids: list[str] = Field(default_factory=list, max_length=100)


class Decision(StrEnum):
    APPROVE = "APPROVE"
    MODIFY = "MODIFY"
    REJECT = "REJECT"
