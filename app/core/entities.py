"""Reading the org graph back: one entity, or a filtered page, under the caller's grants
(an entity is readable when every domain it is in is; a relation shows only when its other
end is readable too)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.core.context import Reader
from app.graph import GraphStore
from app.graph.queries import q

GET = q("entities/get_for")
LIST = q("entities/list_for")


@dataclass(frozen=True)
class Relation:
    type: str
    to: str
    status: str = "active"
    source: str | None = None  # the source that says so (None: the API or `baton import`)


@dataclass(frozen=True)
class Claim:
    """A source's claim on an entity: which revision said what, and whether a source of
    better precedence owns the entity's properties (`lost_to`)."""

    source: str
    rev: str | None
    status: str
    lost_to: str | None
    file: str | None
    at: int | None


@dataclass(frozen=True)
class Entity:
    id: str
    kind: str
    name: str
    domain: str | None
    owner: str | None
    status: str
    attrs: dict[str, Any] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    namespace: str | None = None
    sources: tuple[Claim, ...] = ()

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Entity:
        try:
            attrs = json.loads(r["attrs"]) if isinstance(r.get("attrs"), str) else {}
        except ValueError:
            attrs = {}
        rels = tuple(
            sorted(
                {
                    Relation(x["type"], x["to"], x.get("status") or "active", x.get("source"))
                    for x in r.get("relations") or []
                },
                key=lambda x: (x.type, x.to, x.status, x.source or ""),
            )
        )
        claims = tuple(
            sorted(
                (
                    Claim(
                        c["source"],
                        c.get("rev"),
                        c.get("status") or "active",
                        c.get("lostTo"),
                        c.get("file"),
                        c.get("at"),
                    )
                    for c in r.get("sources") or []
                    if c and c.get("source")
                ),
                key=lambda c: c.source,
            )
        )
        return cls(
            str(r["id"]),
            str(r.get("kind") or ""),
            str(r.get("name") or r["id"]),
            r.get("domain"),
            _owner(r.get("owners") or []),
            str(r.get("status") or "active"),
            attrs if isinstance(attrs, dict) else {},
            rels,
            r.get("namespace"),
            claims,
        )


def _owner(owners: list[dict[str, Any]]) -> str | None:
    """The owner the best-ranked source names (a lower rank wins; the API's own edges, with
    no rank, come after every source's), then the lowest id: one answer, always the same."""
    ranked = sorted(
        (o.get("rank") if o.get("rank") is not None else 1 << 40, str(o["id"]))
        for o in owners
        if o and o.get("id")
    )
    return ranked[0][1] if ranked else None


async def get(store: GraphStore, reader: Reader, entity_id: str) -> Entity | None:
    """The entity, or None when it does not exist or the reader may not read it (alike)."""
    rows = await store.read(GET, id=entity_id, **reader.params())
    return Entity.from_row(rows[0]) if rows else None


async def page(
    store: GraphStore,
    reader: Reader,
    *,
    kind: str | None,
    domain: str | None,
    owner: str | None,
    after: str,
    limit: int,
) -> list[Entity]:
    """Readable entities with id > ``after``, in id order, at most ``limit``."""
    rows = await store.read(
        LIST, kind=kind, domain=domain, owner=owner, after=after, limit=limit, **reader.params()
    )
    return [Entity.from_row(r) for r in rows]
