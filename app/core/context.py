"""The shared context layer: org entities and relations, facts with provenance, and reads
that apply each reader's grants inside the Cypher statement itself.

Grants: agent (or human) MEMBER_OF team, team CAN_READ domain, entity IN_DOMAIN domain; a
fact with a sensitivity label also needs team CLEARED_FOR that label. Admins and auditors
read everything (``everything=True``). What an agent was shown is handed to
:data:`CONTEXT_HOOKS` (the observability layer records it as SAW edges).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from app.core import policies
from app.core.errors import BadInput, Forbidden, NotFound
from app.core.events import dumps
from app.core.ids import new_id
from app.core.lineage import Lineage, lineage
from app.core.readers import EVERYONE, Reader
from app.core.search import entity_text, fact_text
from app.graph import ConstraintViolation, GraphStore
from app.graph.queries import q
from app.models import EntityIn, FactIn, LinkIn

UPSERT = q("entities/upsert")
KNOWN_DOMAINS = q("entities/known_domains")
LINK = q("entities/link")
ASSERT = q("context/assert_fact")
FOR_ENTITY = q("context/for_entity")
FOR_TASK = q("context/for_task")
FACT = q("context/fact")
CLASSIFY_ASSERT = q("context/classify_assert")
TASK_OWNER = q("context/task_owner")
INSPECTED = q("context/inspected")


ContextHook = Callable[[GraphStore, Reader, list[str], str | None, int], Awaitable[None]]
CONTEXT_HOOKS: list[ContextHook] = []  # (store, reader, fact ids shown, task id or None, now)


@dataclass
class Fact:
    """A fact as stored, value decoded."""

    id: str
    key: str
    value: Any
    confidence: float
    entity_id: str
    agent_id: str
    observed_at: int
    current: bool
    valid_to: int | None = None
    sensitivity: str | None = None
    distance: int | None = None
    history: list[Fact] = field(default_factory=list)
    contradicts: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, p: dict[str, Any], distance: int | None = None) -> Fact:
        return cls(
            id=p["id"],
            key=p["key"],
            value=json.loads(p["value"]),
            confidence=float(p["confidence"]),
            entity_id=p["entityId"],
            agent_id=p["agentId"],
            observed_at=int(p["observedAt"]),
            current=bool(p.get("current")),
            valid_to=p.get("validTo"),
            sensitivity=p.get("sensitivity"),
            distance=distance,
        )


async def upsert_entities(
    store: GraphStore, items: list[EntityIn], *, actor: str, now: int, may_move: bool = False
) -> int:
    """Create or update entities in one statement (all or nothing). Moving an existing
    entity to another domain needs ``may_move`` (admins, operators): else FORBIDDEN."""
    if not items:
        return 0
    domains = sorted({e.domain for e in items})
    rows = await store.write(
        UPSERT,
        rows=[
            {
                **e.model_dump(exclude={"attrs"}),
                "attrs": dumps(e.attrs),
                "text": entity_text(e.name, e.kind, e.attrs),
            }
            for e in items
        ],
        domains=domains,
        mayMove=may_move,
        now=now,
        actor=actor,
    )
    if not rows:
        known = await store.read(KNOWN_DOMAINS, domains=domains)
        if int(known[0]["n"]) < len(domains):
            raise NotFound("unknown domain in the batch", field="domain")
        raise Forbidden(
            f"{actor} may not move an entity to another domain (admins and operators only)",
            field="domain",
        )
    return int(rows[0]["upserted"])


async def link_entities(store: GraphStore, items: list[LinkIn], *, actor: str, now: int) -> int:
    """Relate entities in one statement (all or nothing; idempotent)."""
    if not items:
        return 0
    ids = sorted({x for link in items for x in (link.source, link.target)})
    rows = await store.write(
        LINK,
        rows=[{"from": x.source, "to": x.target, "type": x.type} for x in items],
        ids=ids,
        now=now,
        actor=actor,
    )
    if not rows:
        raise NotFound("unknown entity in the batch", field="links")
    return int(rows[0]["linked"])


@dataclass(frozen=True)
class Asserted:
    fact: Fact
    superseded: str | None
    contradicted: bool
    recipients: list[str]


async def assert_fact(
    store: GraphStore,
    data: FactIn,
    *,
    now: int,
    actor: str | None = None,
    max_derived_from: int = 32,
) -> Asserted:
    """Record a fact with its provenance; returns who it was propagated to. ``actor`` is the
    calling principal (the audit identity; the agent is recorded beside it). At most
    ``max_derived_from`` sources, so provenance stays a sparse graph that can be walked."""
    if len(data.derived_from) > max_derived_from:
        raise BadInput(
            f"derivedFrom: at most {max_derived_from} ids",
            field="derivedFrom",
            limit=max_derived_from,
        )
    actor = actor or data.agent_id
    fact_id = data.id or new_id("fact")
    try:
        rows = await store.write(
            ASSERT,
            id=fact_id,
            agentId=data.agent_id,
            entityId=data.entity_id,
            key=data.key,
            value=json.dumps(data.value, sort_keys=True),
            text=fact_text(data.key, data.value),
            confidence=float(data.confidence),
            derivedFrom=data.derived_from,
            validTo=data.valid_to,
            sensitivity=data.sensitivity,
            payload=dumps(
                {
                    "factId": fact_id,
                    "entityId": data.entity_id,
                    "key": data.key,
                    "agentId": data.agent_id,
                    "confidence": data.confidence,
                }
            ),
            now=now,
            actor=actor,
        )
    except ConstraintViolation as exc:
        raise BadInput(f"fact {fact_id} already exists", field="id") from exc
    if not rows:
        await _why_not_asserted(store, data, now, actor)
    row = rows[0]
    return Asserted(
        Fact.of(row["fact"]),
        row["superseded"],
        bool(row["contradicted"]),
        list(row["recipients"] or []),
    )


async def _why_not_asserted(store: GraphStore, data: FactIn, now: int, actor: str) -> None:
    why = (
        await store.read(
            CLASSIFY_ASSERT,
            agentId=data.agent_id,
            entityId=data.entity_id,
            derivedFrom=data.derived_from,
        )
    )[0]
    if not why["agent"]:
        raise NotFound(f"agent {data.agent_id!r} is not registered", field="agentId")
    if not why["entity"] or not why["readable"]:
        # The same answer for "exists, but not yours to read": no existence oracle.
        raise NotFound(f"entity {data.entity_id!r} does not exist", field="entityId")
    if not why["allowed"]:
        await policies.record_violation(
            store,
            agent_id=data.agent_id,
            subject=data.entity_id,
            what=f"assert {data.key} on {data.entity_id}",
            actor=actor,
            now=now,
        )
        raise Forbidden(f"policy does not allow agent {data.agent_id} facts on {data.entity_id}")
    raise NotFound(f"unknown derivedFrom ids: {why['missing']}", field="derivedFrom")


def _check_hops(hops: int) -> None:
    if not 0 <= hops <= 3:
        raise BadInput("hops must be between 0 and 3", field="hops")


async def context(
    store: GraphStore,
    reader: Reader,
    entity_id: str,
    *,
    hops: int,
    now: int,
    limit: int = 200,
    task_id: str | None = None,
) -> list[Fact]:
    """Readable current facts about the entity and its neighbourhood, most relevant first.
    ``task_id`` attaches the read to a task (its trace): only the task's own agent may."""
    _check_hops(hops)
    if task_id is not None and not await _owns(store, reader, task_id):
        raise Forbidden(
            f"only the task's own agent may attach a read to task {task_id}", taskId=task_id
        )
    return await _read(
        store,
        reader,
        FOR_ENTITY,
        {"entityId": entity_id},
        hops=hops,
        now=now,
        limit=limit,
        shown_for=task_id,
        asked=task_id or entity_id,
    )


async def context_for_task(
    store: GraphStore, reader: Reader, task_id: str, *, hops: int, now: int, limit: int = 200
) -> list[Fact]:
    """Readable context for the entities a task touches: :func:`context`'s read, scoped to a
    task (attached to it when the task's own agent reads, and only then)."""
    _check_hops(hops)
    own = await _owns(store, reader, task_id)
    return await _read(
        store,
        reader,
        FOR_TASK,
        {"taskId": task_id},
        hops=hops,
        now=now,
        limit=limit,
        shown_for=task_id if own else None,
        asked=task_id,
    )


async def _read(
    store: GraphStore,
    reader: Reader,
    statement: str,
    around: dict[str, str],
    *,
    hops: int,
    now: int,
    limit: int,
    shown_for: str | None,
    asked: str,
) -> list[Fact]:
    """The one context read (around an entity, or a task's entities): the facts, then what
    was shown recorded (attached to task ``shown_for``, if any)."""
    rows = await store.read(statement, **around, hops=hops, now=now, limit=limit, **reader.params())
    facts = [Fact.of(r["fact"], int(r["dist"])) for r in rows]
    await _shown(store, reader, facts, shown_for, now, asked=asked)
    return facts


async def _owns(store: GraphStore, reader: Reader, task_id: str | None) -> bool:
    """True if ``reader`` is the task's own agent reading as itself."""
    if task_id is None or reader.agent_id is None or reader.inspector is not None:
        return False
    rows = await store.read(TASK_OWNER, taskId=task_id)
    return bool(rows) and rows[0]["agentId"] == reader.agent_id


async def _shown(
    store: GraphStore,
    reader: Reader,
    facts: list[Fact],
    task_id: str | None,
    now: int,
    asked: str | None = None,
) -> None:
    if reader.inspector is not None:
        await store.write(
            INSPECTED,
            agentId=reader.agent_id,
            actor=reader.inspector,
            now=now,
            payload=dumps(
                {"agentId": reader.agent_id, "about": asked, "factIds": [f.id for f in facts]}
            ),
        )
        return
    for hook in CONTEXT_HOOKS:
        await hook(store, reader, [f.id for f in facts], task_id, now)


async def fact(store: GraphStore, reader: Reader, fact_id: str) -> Fact | None:
    """A fact with its superseded history, if the reader may read it."""
    rows = await store.read(FACT, id=fact_id, **reader.params())
    if not rows:
        return None
    f = Fact.of(rows[0]["fact"])
    f.history = [Fact.of(h) for h in rows[0]["history"] or []]
    f.contradicts = list(rows[0]["contradicts"] or [])
    return f


__all__ = [
    "CONTEXT_HOOKS",
    "EVERYONE",
    "Asserted",
    "ContextHook",
    "Fact",
    "Lineage",
    "Reader",
    "assert_fact",
    "context",
    "context_for_task",
    "fact",
    "lineage",
    "link_entities",
    "upsert_entities",
]
