"""Read a registered source into a `Snapshot`, whatever its format: the files or the
catalog API it names, plus what CODEOWNERS and Kubernetes need from the graph (which
components live in which repository or carry which Kubernetes id)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from app.connectors import backstage
from app.connectors.model import ConnectorError, Snapshot
from app.connectors.sync import SourceSpec
from app.graph import GraphStore
from app.graph.queries import q

LINKABLE = q("sources/linkable")


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
        return await asyncio.to_thread(backstage.read, _path(spec.location))
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
        return await asyncio.to_thread(codeowners.read, _path(spec.location), repo=opts["repo"],
                                       components=where, groups=groups)  # fmt: skip
    if spec.format == "k8s":
        from app.connectors import kubernetes

        ids = {c["kubernetesId"]: c["id"] for c in comps if c.get("kubernetesId")}
        return await asyncio.to_thread(kubernetes.read, _path(spec.location), components=ids)
    raise ConnectorError(f"unknown format {spec.format!r}")


def _path(location: str) -> Path:
    path = Path(location).expanduser()
    if not path.exists():
        raise ConnectorError(f"{location}: no such file or directory")
    return path
