"""``baton db backup`` / ``baton db restore`` for the embedded graph.

A backup is a directory: ``graph.rdb`` (a consistent snapshot of the embedded server's whole
dataset, taken with ``BGSAVE`` while it serves) and ``manifest.json`` (what it is, which
schema version wrote it, the Event head it holds, and the snapshot's SHA-256). A restore
checks the manifest before it touches anything: a corrupt or truncated snapshot, or one from
a newer schema than this code knows, is refused. Neo4j has its own tools (README,
"Operating Baton")."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from app import __version__
from app.core import events
from app.graph import migrations
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.graph.queries import load

FORMAT = 1
SNAPSHOT = "graph.rdb"
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """A backup cannot be taken or restored; the message says why and what to do."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def _bracketed_snapshot(
    server: EmbeddedServer, graph: str, rdb: Path
) -> tuple[int, int, int | None]:
    """Snapshot into ``rdb`` between two reads of the Event head: equal reads bracket it
    exactly (a busy log moving on meanwhile is retried a few times, then recorded as a
    range). Returns the heads before and after, and the graph's schema version."""
    store = FalkorStore.at(server.uri, graph, 1)
    try:
        for _ in range(5):
            before, version = await events.head(store), await migrations.version(store)
            await asyncio.to_thread(server.snapshot, rdb)
            after = await events.head(store)
            if before == after:
                break
        return before, after, version
    finally:
        await store.close()


def known_version() -> int:
    """The newest schema version this code can restore (and writes)."""
    return migrations.target(load("falkordb"))


def backup(server: EmbeddedServer, graph: str, dest: Path) -> dict[str, Any]:
    """Snapshot the graph server of ``server``'s data dir (started for the copy if it is not
    running) into the new directory ``dest``; returns the manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty: name a new directory")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = not server.status()["running"]
    server.start(detached=False)
    try:
        before, after, version = asyncio.run(_bracketed_snapshot(server, graph, dest / SNAPSHOT))
    finally:
        if started:
            server.stop()
    manifest = {
        "format": FORMAT,
        "backend": "falkordb",
        "graph": graph,
        "schemaVersion": version or known_version(),
        "batonVersion": __version__,
        "createdAt": int(time.time() * 1000),
        "eventHead": before if before == after else None,
        "eventHeadRange": [before, after],
        "bytes": (dest / SNAPSHOT).stat().st_size,
        "sha256": _sha256(dest / SNAPSHOT),
    }
    fd = os.open(dest / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest


def check(src: Path) -> dict[str, Any]:
    """The manifest of the backup in ``src`` if this code can restore it, else BackupError."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a Baton backup (no readable {MANIFEST}): {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("backend") != "falkordb":
        raise BackupError(f"{src}: not an embedded-graph backup of format {FORMAT}")
    version = manifest.get("schemaVersion")
    if not isinstance(version, int) or version > known_version():
        raise BackupError(
            f"{src} was written by schema version {version}; this Baton knows "
            f"up to {known_version()}: upgrade Baton first"
        )
    snapshot = src / SNAPSHOT
    if not snapshot.is_file() or _sha256(snapshot) != manifest.get("sha256"):
        raise BackupError(f"{snapshot} is missing or does not match its manifest's SHA-256")
    return manifest


def restore(server: EmbeddedServer, src: Path) -> tuple[dict[str, Any], Path | None]:
    """Replace the stopped graph server's dataset by the backup in ``src`` (a running server
    is refused by ``restore_snapshot``); returns the manifest and where the replaced
    append-only files were kept."""
    manifest = check(src)
    return manifest, server.restore_snapshot(src / SNAPSHOT)
