"""Shared context over GraphQL: entities, facts, context reads, lineage, live updates.

Every read runs as a *reader* whose grants are applied inside the Cypher statement: an agent
reads as itself; a human reads with their teams' grants; auditors and admins read all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, acting_as, authorize, caller_reader, reader_for, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    PageInfo,
    decode_cursor,
    page_of,
    page_size,
)
from app.core import context, entities
from app.core.errors import BadInput
from app.core.events import Event
from app.models import EntityIn, FactIn, LinkIn, Role

RULES: Rules = {
    "upsertEntities": roles(Role.OPERATOR, Role.INTEGRATION),
    "linkEntities": roles(Role.OPERATOR, Role.INTEGRATION),
    "assertFact": roles(Role.AGENT),
    "context": ANY,
    "contextForTask": ANY,
    "fact": ANY,
    "lineage": ANY,
    "contextUpdates": roles(Role.AGENT),
    "entity": ANY,
    "entities": ANY,
}
MAX_BATCH = 1_000


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
            valid_to=Long(f.valid_to) if f.valid_to is not None else None,
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


def _props(n: dict[str, Any]) -> JSON:
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


@strawberry.type
class Query:
    @strawberry.field(
        description="One org entity with its domain, owner and relations; null when it does "
        "not exist or the caller may not read it."
    )
    async def entity(self, info: CtxInfo, id: strawberry.ID) -> Entity | None:
        e = await entities.get(info.context.rt.store, caller_reader(info), str(id))
        return Entity.of(e) if e else None

    @strawberry.field(
        description="Org entities the caller may read, by id, filtered by kind, domain and "
        "owner (an entity id); `after` is the previous page's endCursor."
    )
    async def entities(
        self,
        info: CtxInfo,
        kind: str | None = None,
        domain: str | None = None,
        owner: str | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> EntityConnection:
        n = page_size(info, first)
        rows = await entities.page(
            info.context.rt.store,
            caller_reader(info),
            kind=kind,
            domain=domain,
            owner=owner,
            after=decode_cursor(after),
            limit=n + 1,
        )
        nodes, page_info = page_of(rows, n, after, lambda e: e.id)
        return EntityConnection(nodes=[Entity.of(e) for e in nodes], page_info=page_info)

    @strawberry.field(
        description="Current facts about an entity and its neighbourhood within `hops` "
        "relations that the reader may read, nearest, newest and surest first."
    )
    async def context(
        self,
        info: CtxInfo,
        entity_id: str,
        agent_id: str | None = None,
        hops: int = 2,
        first: int = 50,
        task_id: str | None = None,
    ) -> list[FactType]:
        rt = info.context.rt
        facts = await context.context(
            rt.store,
            reader_for(info, agent_id),
            entity_id,
            hops=hops,
            now=rt.now(),
            limit=min(max(first, 1), rt.settings.max_page_size),
            task_id=task_id,
        )
        return [FactType.of(f) for f in facts]

    @strawberry.field(description="The context for the entities a task touches.")
    async def context_for_task(
        self,
        info: CtxInfo,
        task_id: str,
        agent_id: str | None = None,
        hops: int = 1,
        first: int = 50,
    ) -> list[FactType]:
        rt = info.context.rt
        facts = await context.context_for_task(
            rt.store,
            reader_for(info, agent_id),
            task_id,
            hops=hops,
            now=rt.now(),
            limit=min(max(first, 1), rt.settings.max_page_size),
        )
        return [FactType.of(f) for f in facts]

    @strawberry.field(description="One fact with what it superseded (if readable).")
    async def fact(self, info: CtxInfo, id: strawberry.ID) -> FactType | None:
        f = await context.fact(info.context.rt.store, reader_for(info, None), str(id))
        return FactType.of(f) if f else None

    @strawberry.field(description="What this was derived from / what it influenced.")
    async def lineage(
        self,
        info: CtxInfo,
        id: strawberry.ID,
        direction: Direction = Direction.UPSTREAM,
        depth: int = 3,
    ) -> Lineage:
        got = await context.lineage(
            info.context.rt.store,
            reader_for(info, None),
            str(id),
            direction=direction.value,
            depth=depth,
            limit=info.context.rt.settings.lineage_budget,
        )
        return Lineage(
            truncated=got.truncated,
            nodes=[
                LineageNode(id=strawberry.ID(n["id"]), label=n["label"], props=_props(n))
                for n in got.nodes
            ],
            edges=[LineageEdge(from_=e["from"], to=e["to"], type=e["type"]) for e in got.edges],
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or update org entities (batched, idempotent).")
    async def upsert_entities(self, info: CtxInfo, entities: list[EntityInput]) -> int:
        if not 1 <= len(entities) <= MAX_BATCH:
            raise BadInput(f"between 1 and {MAX_BATCH} entities per call", field="entities")
        items = [
            EntityIn(
                id=e.id,
                kind=e.kind,
                name=e.name,
                domain=e.domain,
                attrs=cast(dict[str, Any], e.attrs or {}),
            )
            for e in entities
        ]
        rt = info.context.rt
        caller = info.context.caller
        return await context.upsert_entities(
            rt.store, items, actor=caller.id, now=rt.now(), may_move=caller.has(Role.OPERATOR)
        )

    @strawberry.mutation(description="Relate entities (batched, idempotent).")
    async def link_entities(self, info: CtxInfo, links: list[LinkInput]) -> int:
        if not 1 <= len(links) <= MAX_BATCH:
            raise BadInput(f"between 1 and {MAX_BATCH} links per call", field="links")
        items = [
            LinkIn.model_validate({"from": x.from_, "to": x.to, "type": x.type}) for x in links
        ]
        rt = info.context.rt
        return await context.link_entities(
            rt.store, items, actor=info.context.caller.id, now=rt.now()
        )

    @strawberry.mutation(
        description="Assert a fact with its provenance; pushed at once to "
        "permitted agents working on related entities."
    )
    async def assert_fact(self, info: CtxInfo, input: AssertFactInput) -> AssertFactResult:
        acting_as(info, input.agent_id)
        if len(json.dumps(input.value)) > 32_000:
            raise BadInput("value larger than 32000 bytes", field="value")
        data = FactIn(
            agent_id=input.agent_id,
            entity_id=input.entity_id,
            key=input.key,
            value=input.value,
            confidence=input.confidence,
            derived_from=input.derived_from or [],
            valid_to=input.valid_to,
            sensitivity=input.sensitivity,
            id=input.id,
        )
        rt = info.context.rt
        got = await context.assert_fact(
            rt.store,
            data,
            now=rt.now(),
            actor=info.context.caller.id,
            max_derived_from=rt.settings.max_derived_from,
        )
        return AssertFactResult(
            fact=FactType.of(got.fact),
            superseded=got.superseded,
            contradicted=got.contradicted,
            recipients=got.recipients,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Facts about entities this agent is working on (or near), as they are "
        "asserted, limited to what it may read. Resume with `after`."
    )
    async def context_updates(
        self, info: CtxInfo, agent_id: str, after: Long | None = None
    ) -> AsyncGenerator[ContextUpdate, None]:
        authorize(info)
        acting_as(info, agent_id)
        hub = info.context.rt.hub
        assert hub is not None
        kinds = ["fact.asserted", "fact.contradicted"]

        def mine(ev: Event) -> bool:
            return ev.type in kinds and agent_id in ev.recipients

        async for ev in hub.subscribe(after, mine, kinds, owner=info.context.caller.id):
            f = await _delivered_fact(info, ev.subject or "")
            yield ContextUpdate(seq=Long(ev.seq), type=ev.type, fact=FactType.of(f) if f else None)


_recent: dict[str, asyncio.Future[context.Fact | None]] = {}


async def _delivered_fact(info: CtxInfo, fact_id: str) -> context.Fact | None:
    """One read per fact however many agents it goes to: the recipients were chosen with
    their grants inside the statement that stored the fact, so the read need not repeat it."""
    fut = _recent.get(fact_id)
    if fut is None:
        store = info.context.rt.store
        fut = asyncio.ensure_future(context.fact(store, context.Reader(everything=True), fact_id))
        _recent[fact_id] = fut
        while len(_recent) > 1_000:
            _recent.pop(next(iter(_recent)))
    return await fut
