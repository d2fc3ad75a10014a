"""Keep the org graph in step with a source (a Backstage catalog, CODEOWNERS, Kubernetes
manifests, a CSV export): the one writer behind every connector.

A sync reads what the graph holds of the source (one read), diffs it against a fresh
`Snapshot` by each record's hash, and writes only the difference, in bounded batches: new and
changed entities in three steps (`sources/upsert`, `sources/members`, `sources/relate`, the
last one writing the claim's hash and one Event per record), and entities that left the
source are retired (`sources/retire`), never deleted. An unchanged source writes nothing.
A record that was rejected this time, or that sat in a file that could not be read to the
end, keeps what the graph had. (Resolving the records before the diff is
``app.connectors.resolve``.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.connectors.model import ENTITY_ID, Record, Rejected, Snapshot
from app.connectors.resolve import DOMAIN_ID, resolve_records
from app.core.errors import BadInput
from app.core.search import entity_text
from app.graph import GraphStore
from app.graph.queries import q

STATE = q("sources/state")
SAVE = q("sources/save")
UPSERT = q("sources/upsert")
MEMBERS = q("sources/members")
RELATE = q("sources/relate")
RETIRE = q("sources/retire")
SYNCED = q("sources/synced")

FORMATS = ("backstage", "codeowners", "k8s", "csv")
Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass(frozen=True)
class SourceSpec:
    """A source as it is registered: where to read, in which format, how it ranks against
    other sources claiming the same entity (lower precedence wins), the domain for what
    has none, and how often the scheduler syncs it (0: only when asked)."""

    id: str
    format: str
    location: str
    precedence: int = 100
    domain: str = "catalog"
    interval_s: int = 0
    options: dict[str, str] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "location": self.location,
            "precedence": self.precedence,
            "domain": self.domain,
            "intervalS": self.interval_s,
            "options": json.dumps(self.options, sort_keys=True),
        }

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> SourceSpec:
        opts = json.loads(r.get("options") or "{}")
        return cls(
            str(r["id"]),
            str(r["format"]),
            str(r["location"]),
            int(r.get("precedence") or 100),
            str(r.get("domain") or "catalog"),
            int(r.get("intervalS") or 0),
            opts if isinstance(opts, dict) else {},
        )


@dataclass
class SyncReport:
    """What a sync did (or, dry, would do)."""

    source: str
    rev: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    revived: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[Rejected] = field(default_factory=list)
    events: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> int:
        return len(self.created) + len(self.updated) + len(self.revived) + len(self.retired)

    def summary(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "revived": len(self.revived),
            "retired": len(self.retired),
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "skipped": len(self.skipped),
            "events": self.events,
        }

    def diff(self) -> Iterable[str]:
        """The change, a line per entity (`+` new, `~` changed, `^` back, `-` retired)."""
        for mark, ids in (
            ("+", self.created),
            ("~", self.updated),
            ("^", self.revived),
            ("-", self.retired),
        ):
            yield from (f"{mark} {i}" for i in ids)


async def register(store: GraphStore, spec: SourceSpec, *, actor: str, now: int) -> None:
    """Add the source or update its settings (no write when they are the same)."""
    check(spec)
    payload = json.dumps({"sourceId": spec.id, **spec.row()}, sort_keys=True)
    await store.write(SAVE, row=spec.row(), payload=payload, actor=actor, now=now)


def check(spec: SourceSpec) -> None:
    """Refuse settings the sync could not keep (coded BAD_INPUT, nothing written)."""
    problems = []
    if not ENTITY_ID.match(spec.id):
        problems.append(f"source id {spec.id!r}: lower case letters, digits and _.:/- only")
    if spec.format not in FORMATS:
        problems.append(f"format {spec.format!r}: one of {', '.join(FORMATS)}")
    if not DOMAIN_ID.match(spec.domain):
        problems.append(f"domain {spec.domain!r}: lower case letters, digits and _.:/- only")
    if not 0 <= spec.precedence <= 1_000_000 or not 0 <= spec.interval_s <= 31_536_000:
        problems.append("precedence 0..1000000, intervalS 0..31536000 (0: no schedule)")
    if not spec.location or len(spec.location) > 2000:
        problems.append("location: a path or URL of at most 2000 characters")
    if problems:
        raise BadInput("; ".join(problems))


async def sync(
    store: GraphStore,
    spec: SourceSpec,
    snap: Snapshot,
    *,
    actor: str,
    now: int,
    batch: int = 500,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Write the difference between ``snap`` and what the graph holds of the source."""
    if snap.unchanged:  # the files hash as they did: what the last sync found stands
        return SyncReport(
            spec.id,
            snap.rev,
            unchanged=snap.claimed,
            rejected=list(snap.rejected),
            skipped=list(snap.skipped),
            dry_run=dry_run,
        )
    rows = await store.read(STATE, source=spec.id)
    if not rows and not dry_run:
        raise BadInput(f"unknown source {spec.id!r}: register it first")
    claims = {c["id"]: c for c in (rows[0]["claims"] if rows else None) or [] if c}
    stored_input = rows[0].get("inputHash") if rows else None
    records = await resolve_records(store, snap, spec.domain)
    digests = {rid: rec.digest() for rid, rec in records.items()}
    report = SyncReport(
        spec.id,
        _rev(digests),
        rejected=list(snap.rejected),
        skipped=list(snap.skipped),
        dry_run=dry_run,
    )
    todo: list[tuple[Record, str]] = []
    for rid, rec in records.items():
        claim = claims.get(rid)
        if claim is None:
            todo.append((rec, "entity.imported"))
            report.created.append(rid)
        elif claim.get("status") != "active":
            todo.append((rec, "entity.revived"))
            report.revived.append(rid)
        elif claim.get("hash") != digests[rid]:
            todo.append((rec, "entity.updated"))
            report.updated.append(rid)
        else:
            report.unchanged += 1
    kept = {r.id for r in snap.rejected if r.id}
    report.retired = sorted(
        cid
        for cid, c in claims.items()
        if c.get("status") == "active"
        and cid not in records
        and cid not in kept
        and c.get("file") not in snap.incomplete
    )
    if dry_run:
        return report
    if not report.changed:
        if snap.fingerprint and snap.fingerprint != stored_input:  # remember what was read
            await store.write(
                SYNCED, source=spec.id, rev=report.rev, error=None, input=input_of(snap), now=now
            )
        return report
    params = {"source": spec.id, "rev": report.rev, "actor": actor, "now": now}
    nodes = [_node_row(rec, snap.domains) for rec, _ in todo]
    await _batches(store, UPSERT, nodes, batch, params, progress, "entities")
    users = [
        {"id": rec.id, "teams": sorted(rec.members)}
        for rec, _ in todo
        if rec.kind == "user" and not rec.partial
    ]
    await _batches(store, MEMBERS, users, batch, params, progress, "memberships")
    rel_rows = [
        _rel_row(spec, rec, event, report.rev, claims.get(rec.id), digests[rec.id])
        for rec, event in todo
    ]
    report.events += await _batches(
        store, RELATE, rel_rows, batch, params, progress, "relations", count="changed"
    )
    retire_rows = [
        {"id": i, "payload": _payload(spec, i, report.rev, "retired")} for i in report.retired
    ]
    report.events += await _batches(
        store, RETIRE, retire_rows, batch, params, progress, "retired", count="retired"
    )
    await store.write(
        SYNCED, source=spec.id, rev=report.rev, error=None, input=input_of(snap), now=now
    )
    return report


KEPT_REJECTIONS = 100  # the first ones are kept with the source; the count is always right


def input_of(snap: Snapshot) -> dict[str, str | None]:
    """What a sync read and refused, as the source keeps it (JSON strings)."""

    def listed(items: list[Rejected]) -> str:
        first = [[r.file, r.line, r.reason, r.id] for r in items[:KEPT_REJECTIONS]]
        return json.dumps({"count": len(items), "items": first})

    return {
        "hash": snap.fingerprint,
        "files": json.dumps(snap.inputs),
        "rejected": listed(snap.rejected),
        "skipped": listed(snap.skipped),
    }


def rejections(text: str | None) -> list[Rejected]:
    """The rejections a source kept (the first ones, padded to the count)."""
    try:
        data = json.loads(text or "{}")
        items = [Rejected(str(f), int(n), str(why), i) for f, n, why, i in data.get("items", [])]
        count = int(data.get("count", len(items)))
    except (ValueError, TypeError, AttributeError):
        return []
    more = count - len(items)
    return items + ([Rejected("…", 0, f"and {more} more")] * more if more > 0 else [])


async def _batches(
    store: GraphStore,
    name: str,
    rows: Sequence[dict[str, Any]],
    size: int,
    params: dict[str, Any],
    progress: Progress | None,
    step: str,
    count: str = "",
) -> int:
    """Run ``name`` over ``rows`` a batch at a time; the sum of ``count`` it returned."""
    total = 0
    for i in range(0, len(rows), size):
        part = list(rows[i : i + size])
        out = await store.write(name, rows=part, **params)
        total += int(out[0][count]) if count and out else 0
        if progress is not None:
            progress(step, min(i + size, len(rows)), len(rows))
    return total


def _node_row(rec: Record, names: dict[str, str]) -> dict[str, Any]:
    attrs = {k: v for k, v in rec.attrs.items() if v is not None}
    return {
        "id": rec.id,
        "kind": rec.kind,
        "name": rec.name,
        "namespace": rec.namespace,
        "title": rec.title,
        "attrs": json.dumps(attrs, sort_keys=True, default=str),
        "domain": rec.domain,
        "domainName": names.get(rec.domain or "", rec.domain),
        "partial": rec.partial,
        "file": rec.file,
        "sourceLocation": attrs.get("sourceLocation"),
        "kubernetesId": attrs.get("kubernetesId"),
        "text": entity_text(rec.name, rec.kind, {**attrs, "title": rec.title}),
    }


def _rel_row(
    spec: SourceSpec, rec: Record, event: str, rev: str, claim: dict[str, Any] | None, digest: str
) -> dict[str, Any]:
    rels = sorted(set(rec.relations))
    change = event.removeprefix("entity.")
    extra: dict[str, Any] = {}
    if claim and claim.get("domain") and claim.get("domain") != rec.domain and not rec.partial:
        extra["domain"] = {"from": claim["domain"], "to": rec.domain}  # who may read it moved
    if rec.kind == "user":
        extra["teams"] = sorted(rec.members)
    return {
        "id": rec.id,
        "hash": digest,
        "event": event,
        "payload": _payload(spec, rec.id, rev, change, **extra),
        "keys": [f"{t}>{to}" for t, to in rels],
        "rels": [{"type": t, "to": to} for t, to in rels],
    }


def _payload(spec: SourceSpec, entity_id: str, rev: str, change: str, **extra: Any) -> str:
    body = {"entityId": entity_id, "sourceId": spec.id, "rev": rev, "change": change, **extra}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _rev(digests: dict[str, str]) -> str:
    """The source's revision: a hash of every record's hash (same content, same rev)."""
    h = hashlib.sha256()
    for rid in sorted(digests):
        h.update(f"{rid}={digests[rid]};".encode())
    return h.hexdigest()[:16]
