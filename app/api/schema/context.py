"""Shared context over GraphQL: entities, facts, context reads, lineage, live updates.

Every read runs as a *reader* whose grants are applied inside the Cypher statement: an agent
reads as itself; a human reads with their teams' grants; auditors and admins read all.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.api.authz import ANY, Rules, acting_as, authorize, caller_reader, reader_for, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    decode_cursor,
    page_of,
    page_size,
)
from app.api.schema.context_types import (
    AssertFactInput,
    AssertFactResult,
    ContextUpdate,
    Direction,
    Entity,
    EntityConnection,
    EntityInput,
    FactType,
    Lineage,
    LineageEdge,
    LineageNode,
    LinkInput,
    node_props,
)
from app.core import context, entities, fact_feed
from app.models import EntitiesIn, FactIn, LinksIn, Role

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
                LineageNode(id=strawberry.ID(n["id"]), label=n["label"], props=node_props(n))
                for n in got.nodes
            ],
            edges=[LineageEdge(from_=e["from"], to=e["to"], type=e["type"]) for e in got.edges],
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create or update org entities (batched, idempotent).")
    async def upsert_entities(self, info: CtxInfo, entities: list[EntityInput]) -> int:
        batch: list[dict[str, object]] = [
            {"id": e.id, "kind": e.kind, "name": e.name, "domain": e.domain, "attrs": e.attrs or {}}
            for e in entities
        ]
        items = EntitiesIn.model_validate({"entities": batch}).entities
        rt = info.context.rt
        caller = info.context.caller
        return await context.upsert_entities(
            rt.store, items, actor=caller.id, now=rt.now(), may_move=caller.has(Role.OPERATOR)
        )

    @strawberry.mutation(description="Relate entities (batched, idempotent).")
    async def link_entities(self, info: CtxInfo, links: list[LinkInput]) -> int:
        batch = [{"from": x.from_, "to": x.to, "type": x.type} for x in links]
        items = LinksIn.model_validate({"links": batch}).links
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
        rt = info.context.rt
        assert rt.hub is not None
        mine = fact_feed.for_agent(agent_id)
        async for ev in rt.hub.subscribe(
            after, mine, fact_feed.KINDS, owner=info.context.caller.id
        ):
            f = await rt.fact_feed.fact(ev)
            yield ContextUpdate(seq=Long(ev.seq), type=ev.type, fact=FactType.of(f) if f else None)
