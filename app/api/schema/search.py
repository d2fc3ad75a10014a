"""Search by meaning over GraphQL: ``searchContext``, ``relatedIncidents`` and the
``embeddingPending`` backlog. The reader is the caller, as for every context read."""

from __future__ import annotations

from typing import cast

import strawberry

from app.api.authz import ANY, Rules, caller_reader, roles
from app.api.schema.common import JSON, CtxInfo
from app.core import search, search_context
from app.models import Role

RULES: Rules = {
    "searchContext": ANY,
    "relatedIncidents": ANY,
    "embeddingPending": roles(Role.OPERATOR, Role.AUDITOR),
}


@strawberry.type(
    description="Why a hit matched: each signal's score and rank (null: it did not find this hit)."
)
class SearchSignals:
    vector: float | None = strawberry.field(description="Cosine similarity to the query.")
    vector_rank: int | None
    text: float | None = strawberry.field(description="The full-text engine's score.")
    text_rank: int | None
    distance: int | None = strawberry.field(description="Relations from the `near` entity.")
    graph_rank: int | None


@strawberry.type(description="A fact or an entity that matched a search.")
class SearchHit:
    type: str = strawberry.field(description="fact | entity")
    id: strawberry.ID
    score: float = strawberry.field(
        description="Reciprocal-rank fusion of the signals: the sum of 1 / (60 + rank)."
    )
    domain: str | None
    signals: SearchSignals
    key: str | None = strawberry.field(description="A fact's key.")
    value: JSON | None = strawberry.field(description="A fact's value.")
    entity_id: str | None = strawberry.field(description="The entity a fact is about.")
    confidence: float | None
    observed_at: float | None
    name: str | None = strawberry.field(description="An entity's name.")
    kind: str | None = strawberry.field(description="An entity's kind.")

    @classmethod
    def of(cls, h: search.Hit) -> SearchHit:
        s = h.signals
        return cls(
            type=h.type,
            id=strawberry.ID(h.id),
            score=h.score,
            domain=h.domain,
            signals=SearchSignals(
                vector=s.vector,
                vector_rank=s.vector_rank,
                text=s.text,
                text_rank=s.text_rank,
                distance=s.distance,
                graph_rank=s.graph_rank,
            ),
            key=h.key,
            value=cast(JSON, h.value),
            entity_id=h.entity_id,
            confidence=h.confidence,
            observed_at=float(h.observed_at) if h.observed_at is not None else None,
            name=h.name,
            kind=h.kind,
        )


@strawberry.type
class Query:
    @strawberry.field(
        description="Facts and entities the caller may read that are like `text`: vector "
        "similarity, full-text and (with `near`, an entity id) closeness in the org graph, "
        "fused by reciprocal rank; `kinds` keeps entity kinds / fact key prefixes. What it "
        "shows an agent is recorded like a context read (`taskId`: of its own task)."
    )
    async def search_context(
        self,
        info: CtxInfo,
        text: str,
        near: str | None = None,
        kinds: list[str] | None = None,
        first: int = 10,
        task_id: str | None = None,
    ) -> list[SearchHit]:
        rt = info.context.rt
        hits = await search_context.search_context(
            rt.store,
            caller_reader(info),
            rt.embedder,
            text=text,
            near=near,
            kinds=kinds,
            first=first,
            now=rt.now(),
            task_id=task_id,
        )
        return [SearchHit.of(h) for h in hits]

    @strawberry.field(
        description="Past incidents like this one (an entity of kind `incident`): its title "
        "and description searched among incidents by meaning and words."
    )
    async def related_incidents(
        self, info: CtxInfo, incident_id: strawberry.ID, first: int = 5
    ) -> list[SearchHit]:
        rt = info.context.rt
        hits = await search_context.related_incidents(
            rt.store,
            caller_reader(info),
            rt.embedder,
            str(incident_id),
            first=first,
            now=rt.now(),
        )
        return [SearchHit.of(h) for h in hits]

    @strawberry.field(description="Facts and entities still waiting for their vector.")
    async def embedding_pending(self, info: CtxInfo) -> int:
        return await search.pending_count(info.context.rt.store)
