"""Registered sources: add, list, remove, ask for a sync, and the scheduler's job that
syncs what is due. Reading a source into a `Snapshot`, whatever its format: the files or the
catalog API it names, plus what CODEOWNERS and Kubernetes need from the graph (which
components live in which repository or carry which Kubernetes id)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.connectors import backstage
from app.connectors.model import ConnectorError, Snapshot
from app.connectors.sync import SYNCED, SourceSpec, SyncReport, register, rejections, sync
from app.core.errors import BatonError, NotFound
from app.graph import GraphStore
from app.graph.queries import q
from app.models import SourceIn

LINKABLE = q("sources/linkable")
LIST = q("sources/list")
REMOVE = q("sources/remove")
REQUEST = q("sources/request")
DUE = q("sources/due")
STATE = q("sources/state")
INPUT = q("sources/input")
log = logging.getLogger("baton.sources")


@dataclass(frozen=True)
class SourceState:
    """A source's settings and where its syncing stands."""

    spec: SourceSpec
    status: str
    rev: str | None
    synced_at: int | None
    checked_at: int | None
    due_at: int | None
    last_error: str | None
    entities: int

    @classmethod
    def of(cls, r: dict[str, Any]) -> SourceState:
        return cls(
            SourceSpec.from_row(r),
            str(r.get("status") or "active"),
            r.get("rev"),
            r.get("syncedAt"),
            r.get("checkedAt"),
            r.get("dueAt"),
            r.get("lastError"),
            int(r.get("entities") or 0),
        )


def spec_of(data: SourceIn) -> SourceSpec:
    opts = {"repo": data.repo, "mapping": data.mapping, "tokenEnv": data.token_env}
    return SourceSpec(
        data.id,
        data.format,
        data.location,
        data.precedence,
        data.domain,
        data.interval_s,
        {k: v for k, v in opts.items() if v},
    )


async def add(store: GraphStore, data: SourceIn, *, actor: str, now: int) -> SourceState:
    """Register a source or change its settings (a scheduled one is due at once)."""
    await register(store, spec_of(data), actor=actor, now=now)
    return await get(store, data.id)


async def get(store: GraphStore, source_id: str) -> SourceState:
    for s in await list_all(store):
        if s.spec.id == source_id:
            return s
    raise NotFound(f"no source {source_id!r}")


async def list_all(store: GraphStore) -> list[SourceState]:
    return [SourceState.of(r) for r in await store.read(LIST)]


async def remove(store: GraphStore, source_id: str, *, actor: str, now: int) -> SourceState:
    """Stop syncing it; its entities are retired by the scheduler's next tick (a big
    catalog takes longer than a request may)."""
    payload = json.dumps({"sourceId": source_id})
    if not await store.write(REMOVE, id=source_id, payload=payload, actor=actor, now=now):
        raise NotFound(f"no active source {source_id!r}")
    return await get(store, source_id)


async def request(store: GraphStore, source_id: str, *, actor: str, now: int) -> SourceState:
    """Have the scheduler sync it at its next tick."""
    payload = json.dumps({"sourceId": source_id})
    if not await store.write(REQUEST, id=source_id, payload=payload, actor=actor, now=now):
        raise NotFound(f"no active source {source_id!r}")
    return await get(store, source_id)


async def sync_due(store: GraphStore, *, now: Callable[[], int], limit: int = 4) -> int:
    """The scheduler's `sources` job: sync each due source (a removed one with nothing in
    it, which retires what it held); reads only when nothing is due. Returns the changes."""
    changed = 0
    for row in await store.read(DUE, now=now(), limit=limit):
        state = await store.read(STATE, source=row["id"])
        if not state:
            continue
        spec = SourceSpec.from_row(state[0])
        error: str | None = None
        report: SyncReport | None = None
        try:
            snap = (
                Snapshot()
                if state[0].get("status") == "removed"
                else await read_snapshot(store, spec)
            )
            report = await sync(store, spec, snap, actor=f"source:{spec.id}", now=now())
            changed += report.changed
        except (ConnectorError, BatonError, OSError) as exc:
            error = (exc.message if isinstance(exc, BatonError) else str(exc))[:500]
            log.warning("source %s: sync failed: %s", spec.id, error)
        await store.write(
            SYNCED,
            source=spec.id,
            rev=(report.rev or None) if report else None,
            error=error,
            input=None,
            now=now(),
        )
    return changed


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


async def read_snapshot(store: GraphStore, spec: SourceSpec) -> Snapshot:
    """The source as it is now (files and the network are read off the event loop)."""
    opts = spec.options
    if spec.format == "backstage":
        if is_url(spec.location):
            from app.connectors import backstage_rest

            env = opts.get("tokenEnv")
            token = os.environ.get(env) if env else None
            if env and token is None:
                raise ConnectorError(f"the token's environment variable {env} is not set")
            return await asyncio.to_thread(backstage_rest.fetch, spec.location, token=token)
        return await _read_files(store, spec)
    if spec.format == "csv":
        from app.connectors import csvfile

        if not opts.get("mapping"):
            raise ConnectorError("a CSV source needs a column mapping file (--mapping)")
        mapping = csvfile.load_mapping(_path(opts["mapping"]))
        return await asyncio.to_thread(csvfile.read, _path(spec.location), mapping)
    rows = await store.read(LINKABLE)
    comps = [c for c in rows[0]["components"] or [] if c and c.get("id")]
    if spec.format == "codeowners":
        from app.connectors import codeowners

        if not opts.get("repo"):
            raise ConnectorError("a CODEOWNERS source needs the repository it belongs to (--repo)")
        where = {c["id"]: c["sourceLocation"] for c in comps if c.get("sourceLocation")}
        groups = [g for g in rows[0]["groups"] or [] if g]
        return await asyncio.to_thread(
            codeowners.read,
            _path(spec.location),
            repo=opts["repo"],
            components=where,
            groups=groups,
        )
    if spec.format == "k8s":
        from app.connectors import kubernetes

        ids = {c["kubernetesId"]: c["id"] for c in comps if c.get("kubernetesId")}
        return await asyncio.to_thread(kubernetes.read, _path(spec.location), components=ids)
    raise ConnectorError(f"unknown format {spec.format!r}")


async def _read_files(store: GraphStore, spec: SourceSpec) -> Snapshot:
    """A Backstage catalog on disk, parsed only when a file it read last time changed (a
    50,000-entity catalog takes seconds to parse, and most syncs find nothing new)."""
    path = _path(spec.location)
    rows = await store.read(INPUT, source=spec.id)
    last = rows[0] if rows else {}
    if last.get("inputHash") and last.get("inputFiles"):
        files = json.loads(last["inputFiles"])
        now = await asyncio.to_thread(backstage.fingerprint, path, files)
        if now == last["inputHash"]:
            return Snapshot(
                unchanged=True,
                claimed=int(last.get("claimed") or 0),
                rev=str(last.get("rev") or ""),
                rejected=rejections(last.get("rejected")),
                skipped=rejections(last.get("skipped")),
                fingerprint=now,
                inputs=files,
            )
    return await asyncio.to_thread(backstage.read, path)


def _path(location: str) -> Path:
    path = Path(location).expanduser()
    if not path.exists():
        raise ConnectorError(f"{location}: no such file or directory")
    return path
