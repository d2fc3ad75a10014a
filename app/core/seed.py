"""Loads the demo organisation from ``seeds/*.yaml``: validated first, then MERGEd by id, so
running it twice changes nothing (and writes no second set of events)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core import workflows
from app.core.errors import BadInput
from app.core.search import entity_text
from app.graph import GraphStore
from app.graph.queries import q
from app.models import ID_PATTERN, Role

DOMAINS = q("seed/domains")
TEAMS = q("seed/teams")
ENTITIES = q("seed/entities")
LINKS = q("seed/links")
RELATES = q("seed/relates")
AGENTS = q("seed/agents")
HUMANS = q("seed/humans")


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DomainSeed(_Seed):
    id: str = Field(pattern=ID_PATTERN)
    name: str


class TeamSeed(_Seed):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    can_read: list[str] = Field(default_factory=list, alias="canRead")
    can_act: list[str] = Field(default_factory=list, alias="canAct")
    cleared: list[str] = Field(default_factory=list)  # sensitivity labels it may read


class EntitySeed(_Seed):
    id: str = Field(pattern=ID_PATTERN)
    kind: str
    name: str
    domain: str
    depends_on: list[str] = Field(default_factory=list, alias="dependsOn")


class AgentSeed(_Seed):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    kind: str = Field(default="ai", pattern="^(ai|human|supervisor)$")
    team: str
    capabilities: list[str] = Field(min_length=1)
    max_concurrency: int = Field(default=4, ge=1, le=1000, alias="maxConcurrency")
    cost_per_call: float = Field(default=0.0, ge=0, alias="costPerCall")


class HumanSeed(_Seed):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    roles: list[Role]
    teams: list[str] = Field(default_factory=list)


class OrgSeed(_Seed):
    domains: list[DomainSeed] = Field(default_factory=list)
    teams: list[TeamSeed] = Field(default_factory=list)
    entities: list[EntitySeed] = Field(default_factory=list)
    agents: list[AgentSeed] = Field(default_factory=list)
    humans: list[HumanSeed] = Field(default_factory=list)


def read_org(path: Path) -> OrgSeed:
    """Parse and validate ``org.yaml``; references between sections are checked too."""
    try:
        org = OrgSeed.model_validate(yaml.safe_load(path.read_text()) or {})
    except (ValidationError, yaml.YAMLError) as exc:
        raise BadInput(f"{path}: {exc}") from exc
    domains = {d.id for d in org.domains}
    teams = {t.id for t in org.teams}
    entities = {e.id for e in org.entities}
    problems = [
        f"team {t.id}: unknown domain {d}"
        for t in org.teams
        for d in [*t.can_read, *t.can_act]
        if d not in domains
    ]
    problems += [
        f"entity {e.id}: unknown domain {e.domain}" for e in org.entities if e.domain not in domains
    ]
    problems += [
        f"entity {e.id}: depends on unknown {d}"
        for e in org.entities
        for d in e.depends_on
        if d not in entities
    ]
    problems += [f"agent {a.id}: unknown team {a.team}" for a in org.agents if a.team not in teams]
    problems += [
        f"human {h.id}: unknown team {t}" for h in org.humans for t in h.teams if t not in teams
    ]
    if problems:
        raise BadInput(f"{path}: " + "; ".join(problems))
    return org


async def domains(store: GraphStore, rows: list[dict[str, Any]], *, now: int) -> int:
    """Create the domains ``rows`` (``id``, ``name``) that do not exist yet; returns how many
    were created."""
    result = await store.write(DOMAINS, rows=rows, now=now) if rows else []
    return int(result[0]["created"]) if result else 0


async def load(store: GraphStore, folder: Path, *, now: int) -> dict[str, int]:
    """Load ``folder/org.yaml`` and ``folder/workflows/*.yaml`` idempotently; returns how
    many nodes/edges (and workflow versions) were created."""
    org = read_org(folder / "org.yaml")
    steps: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("domains", DOMAINS, [d.model_dump() for d in org.domains]),
        ("teams", TEAMS, [t.model_dump(by_alias=True) for t in org.teams]),
        (
            "entities",
            ENTITIES,
            [{**e.model_dump(), "text": entity_text(e.name, e.kind, None)} for e in org.entities],
        ),
        (
            "dependencies",
            LINKS,
            [{"from": e.id, "to": d} for e in org.entities for d in e.depends_on],
        ),
        ("agents", AGENTS, [a.model_dump(by_alias=True) for a in org.agents]),
        ("humans", HUMANS, [h.model_dump(mode="json") for h in org.humans]),
    ]
    past = incidents(folder / "incidents.yaml", {e.id: e.domain for e in org.entities})
    steps += [
        ("incidents", ENTITIES, past),
        ("incident links", RELATES, [{"from": i["id"], "to": i["service"]} for i in past]),
    ]
    counts: dict[str, int] = {}
    for label, name, rows in steps:
        result = await store.write(name, rows=rows, now=now) if rows else []
        counts[label] = int(result[0]["created"]) if result else 0
    counts["workflows"] = await load_workflows(store, folder / "workflows", now=now)
    return counts


def incidents(path: Path, domains: dict[str, str]) -> list[dict[str, Any]]:
    """Past incidents (``seeds/incidents.yaml``) as entities of kind `incident`, each in the
    domain of the service it was about: the history `relatedIncidents` searches."""
    if not path.exists():
        return []
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"{path.name}: YAML does not parse: {exc}") from None
    rows = []
    for i in raw.get("incidents") or []:
        if not isinstance(i, dict) or i.get("service") not in domains:
            raise BadInput(
                f"{path.name}: incident {i.get('id') if isinstance(i, dict) else i!r}"
                " needs a service from org.yaml"
            )
        attrs = {k: i.get(k) for k in ("description", "severity", "date", "service")}
        rows.append(
            {
                "id": str(i["id"]),
                "kind": "incident",
                "name": str(i["title"]),
                "domain": domains[i["service"]],
                "service": i["service"],
                "attrs": json.dumps(attrs),
                "text": entity_text(i["title"], "incident", attrs),
            }
        )
    return rows


async def load_workflows(store: GraphStore, folder: Path, *, now: int) -> int:
    """Define every ``*.yaml`` workflow in ``folder`` (after the agents, whose capabilities
    the definitions are checked against); returns how many new versions were written."""
    written = 0
    for path in sorted(folder.glob("*.yaml")):
        try:
            _, new = await workflows.define(
                store, yaml.safe_load(path.read_text()), actor="seed", now=now
            )
        except yaml.YAMLError as exc:
            raise BadInput(f"{path.name}: YAML does not parse: {exc}") from None
        except BadInput as exc:
            raise BadInput(f"{path.name}: {exc.message}", **exc.details) from None
        written += int(new)
    return written
