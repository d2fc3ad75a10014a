"""The GraphQL types of shared context (facts, entities, lineage, live updates and their
inputs), apart from the resolvers in :mod:`.context` that read and write them."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.api.schema.common import Long, PageInfo, opt_long
from app.core import context, entities


@strawberry.type(name="Fact")
class FactType:
    """Something an agent asserted about an entity, how sure, and when."""

    id: strawberry.ID
    key: str
    value: JSON
    confidence: float
    entity_id: str
    agent_id: str = strawberry.field(description="Who asserted it.")
    observed_at: Long
    current: bool
    valid_to: Long | None
    sensitivity: str | None
    distance: int | None = strawberry.field(description="Relations from the entity asked about.")
    history: list[FactType] = strawberry.field(description="Facts it superseded, newest first.")
    contradicts: list[str]

    @classmethod
    def of(cls, f: context.Fact) -> FactType:
        return cls(
            id=strawberry.ID(f.id),
            key=f.key,
            value=cast(JSON, f.value),
            confidence=f.confidence,
            entity_id=f.entity_id,
            agent_id=f.agent_id,
            observed_at=Long(f.observed_at),
            current=f.current,
            valid_to=opt_long(f.valid_to),
            sensitivity=f.sensitivity,
            distance=f.distance,
            history=[FactType.of(h) for h in f.history],
            contradicts=f.contradicts,
        )


@strawberry.input
class EntityInput:
    id: str
    kind: str
    name: str
    domain: str
    attrs: JSON | None = None


@strawberry.input
class LinkInput:
    from_: str = strawberry.field(name="from")
    to: str
    type: str = "DEPENDS_ON"


@strawberry.input
class AssertFactInput:
    agent_id: str
    entity_id: str
    key: str
    value: JSON
    confidence: float
    derived_from: list[str] | None = None
    valid_to: Long | None = None
    sensitivity: str | None = None
    id: str | None = None


@strawberry.type
class AssertFactResult:
    fact: FactType
    superseded: str | None
    contradicted: bool
    recipients: list[str] = strawberry.field(description="Agents it was pushed to at once.")


@strawberry.enum
class Direction(Enum):
    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"
    BOTH = "BOTH"


@strawberry.type
class LineageNode:
    id: strawberry.ID
    label: str
    props: JSON


@strawberry.type
class LineageEdge:
    from_: str = strawberry.field(name="from")
    to: str
    type: str


@strawberry.type
class Lineage:
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool = strawberry.field(
        description="The walk stopped at its node/edge budget (BATON_LINEAGE_BUDGET): there "
        "is more; narrow it with a smaller depth or start nearer."
    )


@strawberry.type
class ContextUpdate:
    seq: Long
    type: str
    fact: FactType | None


def node_props(n: dict[str, Any]) -> JSON:
    """A lineage node's properties for the client (its JSON value decoded)."""
    out = {k: v for k, v in n.items() if k not in ("id", "label")}
    if isinstance(out.get("value"), str):
        try:
            out["value"] = json.loads(out["value"])
        except ValueError:
            pass
    return cast(JSON, out)


@strawberry.type(description="An org relation from an entity to another one.")
class EntityRelation:
    type: str = strawberry.field(
        description="DEPENDS_ON | PART_OF | OWNED_BY | RELATES_TO | PROVIDES | CONSUMES | CHILD_OF"
    )
    to: str
    status: str = strawberry.field(description="active | retired (its source dropped it)")
    source: str | None = strawberry.field(
        description="The source that states it (null: the API or Baton's own import format)."
    )


@strawberry.type(description="A source's claim on an entity (SOURCED_FROM): its provenance.")
class EntitySource:
    source: str
    rev: str | None = strawberry.field(description="The source's revision that last wrote it.")
    status: str = strawberry.field(description="active | retired (the source dropped it)")
    lost_to: str | None = strawberry.field(
        description="A source of better precedence that owns the entity's properties."
    )
    file: str | None = strawberry.field(description="Where in the source it is described.")
    at: float | None = strawberry.field(description="When the claim was last written (ms).")


@strawberry.type(description="An org entity (service, system, team, customer, ...).")
class Entity:
    id: strawberry.ID
    kind: str
    name: str
    namespace: str | None = strawberry.field(description="Its catalog namespace, if any.")
    domain: str | None = strawberry.field(description="The domain that decides who may read it.")
    owner: str | None = strawberry.field(
        description="The entity it is OWNED_BY (the best-ranked source's, when several say)."
    )
    status: str = strawberry.field(description="active | retired (every source dropped it)")
    attrs: JSON
    relations: list[EntityRelation] = strawberry.field(
        description="Outgoing relations to entities the caller may also read, retired ones too."
    )
    sources: list[EntitySource] = strawberry.field(
        description="The sources that describe it (none: created through the API)."
    )

    @classmethod
    def of(cls, e: entities.Entity) -> Entity:
        return cls(
            id=strawberry.ID(e.id),
            kind=e.kind,
            name=e.name,
            namespace=e.namespace,
            domain=e.domain,
            owner=e.owner,
            status=e.status,
            attrs=cast(JSON, e.attrs),
            relations=[
                EntityRelation(type=r.type, to=r.to, status=r.status, source=r.source)
                for r in e.relations
            ],
            sources=[
                EntitySource(
                    source=c.source,
                    rev=c.rev,
                    status=c.status,
                    lost_to=c.lost_to,
                    file=c.file,
                    at=float(c.at) if c.at is not None else None,
                )
                for c in e.sources
            ],
        )


@strawberry.type
class EntityConnection:
    nodes: list[Entity]
    page_info: PageInfo
