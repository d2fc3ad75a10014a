"""Before a sync writes: the snapshot's records as the graph will hold them. A relation must
point at something that exists, a user's teams are gathered from both sides, and every
record gets a domain (who may read it). Records that fail are rejected with their file and
line, never written half."""

from __future__ import annotations

import re
from typing import Any

from app.connectors.model import ENTITY_ID, Record, Rejected, Snapshot
from app.graph import GraphStore
from app.graph.queries import q

KNOWN = q("sources/known")

DOMAIN_ID = re.compile(r"^[a-z0-9][a-z0-9_.:/\-]{0,199}$")


async def resolve_records(
    store: GraphStore, snap: Snapshot, default_domain: str
) -> dict[str, Record]:
    """The records as the graph will hold them: every relation pointing at something that
    exists (in the snapshot or already in the graph), partial records only for entities
    that exist, users' teams from both sides (a Group's members, a User's memberOf), and a
    domain for each (its own, else its parent's through PART_OF, else ``default_domain``, the
    source's)."""
    records = dict(snap.records)
    outside = {to for r in records.values() for _, to in r.relations if to not in records}
    outside |= {r.id for r in records.values() if r.partial}
    rows = await store.read(KNOWN, ids=sorted(outside), domains=[])
    known = {e["id"]: e.get("domain") for e in rows[0]["entities"] or [] if e and e.get("id")}
    for rec in list(records.values()):
        if not ENTITY_ID.match(rec.id) or (rec.domain and not DOMAIN_ID.match(rec.domain)):
            del records[rec.id]
            why = f"{rec.id!r}: ids and domains are lower case letters, digits and _.:/- only"
            snap.rejected.append(Rejected(rec.file, rec.line, why))
            continue
        missing = sorted({to for _, to in rec.relations if to not in records and to not in known})
        if rec.partial and rec.id not in known:
            missing.insert(0, rec.id)
        if missing:
            del records[rec.id]
            snap.rejected.append(
                Rejected(
                    rec.file,
                    rec.line,
                    f"{rec.id} refers to {', '.join(missing)}: not in the graph",
                    rec.id,
                )
            )
    for rec in records.values():
        if rec.kind == "group":
            for user in rec.members:
                if user in records and records[user].kind == "user":
                    records[user].members = sorted({*records[user].members, rec.id})
    for rec in records.values():
        if rec.kind == "user":
            rec.members = sorted(
                m for m in rec.members if m in records and records[m].kind == "group"
            )
        rec.domain = rec.domain or parent_domain(rec, records, known) or default_domain
    return records


def parent_domain(rec: Record, records: dict[str, Record], known: dict[str, Any]) -> str | None:
    seen = {rec.id}
    cur: Record | None = rec
    while cur is not None:
        parent = next((to for t, to in cur.relations if t == "PART_OF" and to not in seen), None)
        if parent is None:
            return None
        seen.add(parent)
        if parent in known:
            return known[parent] if isinstance(known[parent], str) else None
        cur = records.get(parent)
        if cur is not None and cur.domain:
            return cur.domain
    return None
