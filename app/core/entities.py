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

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Entity:
        try:
            attrs = json.loads(r["attrs"]) if isinstance(r.get("attrs"), str) else {}
        except ValueError:
            attrs = {}
        rels = tuple(sorted((Relation(x["type"], x["to"], x.get("status") or "active")
                             for x in r.get("relations") or []),
                            key=lambda x: (x.type, x.to)))  # fmt: skip
        return cls(str(r["id"]), str(r.get("kind") or ""), str(r.get("name") or r["id"]),
                   r.get("domain"), r.get("owner"), str(r.get("status") or "active"),
                   attrs if isinstance(attrs, dict) else {}, rels)  # fmt: skip


async def get(store: GraphStore, reader: Reader, entity_id: str) -> Entity | None:
    """The entity, or None when it does not exist or the reader may not read it (alike)."""
    rows = await store.read(GET, id=entity_id, **reader.params())
    return Entity.from_row(rows[0]) if rows else None


async def page(
    store: GraphStore, reader: Reader, *, kind: str | None, domain: str | None,
    owner: str | None, after: str, limit: int,
) -> list[Entity]:  # fmt: skip
    """Readable entities with id > ``after``, in id order, at most ``limit``."""
    rows = await store.read(LIST, kind=kind, domain=domain, owner=owner, after=after,
                            limit=limit, **reader.params())  # fmt: skip
    return [Entity.from_row(r) for r in rows]
