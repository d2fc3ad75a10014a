"""Read a folder of Kubernetes manifests (what `kubectl apply -f` or a GitOps repository
holds) into Baton's org model: workloads, Services and Ingresses, and what serves what.

Workloads (Deployment, StatefulSet, DaemonSet) are PART_OF the catalog component their
`backstage.io/kubernetes-id` label names (the label on the object or on its pod template);
a Service DEPENDS_ON the workloads of its namespace whose pods it selects; an Ingress
DEPENDS_ON its backend Services. A target that is not in the manifests drops that relation
only (reported in `skipped`); other kinds are skipped; a broken document is rejected with
its file and line, and the documents around it are still read. Records have no domain: the
sync gives them their component's, through PART_OF.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from app.connectors.model import ENTITY_ID, Record, Rejected, Snapshot

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
SUFFIXES = (".yaml", ".yml", ".json")
NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")  # a DNS-1123 subdomain
DOC_START = re.compile(r"^---(\s|$)")


def read(
    folder: Path,
    *,
    components: Mapping[str, str],
    label: str = "backstage.io/kubernetes-id",
    selector: Mapping[str, str] | None = None,
) -> Snapshot:
    """Every manifest under ``folder`` (sorted, recursive). ``components``: kubernetes-id ->
    component id; ``selector``: labels a workload must carry to be PART_OF its component."""
    snap = Snapshot()
    pods: dict[str, dict[str, str]] = {}  # workload id -> its pod template's labels
    root = folder.resolve()
    for path in _files(root, snap):
        rel = path.relative_to(root).as_posix()
        snap.files.append(rel)
        for line, obj in _objects(path, rel, snap):
            rec = _record(obj, rel, line, snap)
            if rec is not None:
                snap.add(rec)
                if snap.records.get(rec.id) is rec and rec.kind in (
                    "deployment",
                    "statefulset",
                    "daemonset",
                ):
                    pods[rec.id] = _labels(_dig(obj, "spec", "template", "metadata", "labels"))
                    _part_of(
                        rec,
                        {**pods[rec.id], **rec.attrs["labels"]},
                        components,
                        label,
                        selector,
                        snap,
                    )
    _link(snap, pods)
    return snap


def _files(root: Path, snap: Snapshot) -> list[Path]:
    """Manifest files in sorted order; a symlink leading out of ``root`` is refused."""
    out = []
    for top, dirs, files in os.walk(root):  # symlinked folders are not entered
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(top) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                why = f"symlink to {os.readlink(path)} leads out of the folder: refused"
                snap.rejected.append(Rejected(path.relative_to(root).as_posix(), 0, why))
            elif name in files and path.suffix.lower() in SUFFIXES:
                out.append(path)
    return sorted(out, key=lambda p: p.relative_to(root).parts)


def _objects(path: Path, rel: str, snap: Snapshot) -> Iterator[tuple[int, Any]]:
    """(line, object) for each object, a `List`'s items one by one. Each `---` document is
    parsed alone, so one broken document is rejected and its neighbours are still read."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError) as exc:
        snap.rejected.append(Rejected(rel, 1, f"not readable: {exc}"))
        return
    starts = [0] + [i for i, text in enumerate(lines) if DOC_START.match(text)]
    for start, end in zip(starts, starts[1:] + [len(lines)], strict=True):
        chunk = "".join(lines[start:end])
        try:
            node = yaml.compose(chunk, Loader=yaml.SafeLoader)
            obj = yaml.safe_load(chunk) if node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = start + (mark.line + 1 if mark is not None else 1)
            why = str(exc).splitlines()[0]
            snap.rejected.append(Rejected(rel, line, f"not readable YAML: {why}"))
            continue
        if node is None:
            continue
        line = start + node.start_mark.line + 1
        if isinstance(obj, dict) and str(obj.get("kind", "")).endswith("List"):
            if not isinstance(obj.get("items") or [], list):
                snap.rejected.append(Rejected(rel, line, f"{obj['kind']}: items is not a list"))
                continue
            nodes = next((v.value for k, v in node.value if k.value == "items"), None)
            for i, item in enumerate(obj.get("items") or []):
                yield (start + nodes[i].start_mark.line + 1 if nodes else line), item
        else:
            yield line, obj


def _record(obj: Any, file: str, line: int, snap: Snapshot) -> Record | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or not obj.get("kind") or not obj.get("apiVersion"):
        snap.rejected.append(
            Rejected(file, line, "not a Kubernetes object (apiVersion, kind, metadata)")
        )
        return None
    kind, api = str(obj["kind"]), str(obj["apiVersion"])
    name, ns = str(meta.get("name") or "").lower(), str(meta.get("namespace") or "default")
    if kind not in (*WORKLOADS, "Service", "Ingress") or (
        kind == "Ingress" and api != "networking.k8s.io/v1"
    ):
        snap.skipped.append(Rejected(file, line, f"{api} {kind} {name or '-'} skipped"))
        return None
    own = f"{kind.lower()}:{ns.lower()}/{name}"
    spec = obj.get("spec") or {}
    if not name:
        why = f"{kind} has no metadata.name"
    elif not NAME.match(name) or not NAME.match(ns.lower()) or not ENTITY_ID.match(own):
        why = f"{kind} {meta.get('name')!r} in namespace {ns!r}: not a valid name"
    elif not isinstance(spec, dict):
        why = f"{kind} {name}: spec must be a mapping"
    else:
        attrs = {"labels": _labels(meta.get("labels")), **ATTRS[kind](spec)}
        return Record(own, kind.lower(), name, ns.lower(), attrs=attrs, file=file, line=line)
    snap.rejected.append(Rejected(file, line, why))
    return None


def _workload(spec: dict[str, Any]) -> dict[str, Any]:
    containers = _dig(spec, "template", "spec", "containers") or []
    containers = [c for c in containers if isinstance(c, dict)]
    ports = [
        p.get("containerPort")
        for c in containers
        for p in c.get("ports") or []
        if isinstance(p, dict)
    ]
    out = {
        "images": [str(c.get("image")) for c in containers if c.get("image")],
        "ports": [p for p in ports if p is not None],
    }
    if "replicas" in spec:
        out["replicas"] = spec["replicas"]
    return out


def _service(spec: dict[str, Any]) -> dict[str, Any]:
    ports = [
        {k: p[k] for k in ("name", "port", "targetPort", "protocol") if k in p}
        for p in spec.get("ports") or []
        if isinstance(p, dict)
    ]
    return {
        "type": spec.get("type", "ClusterIP"),
        "ports": ports,
        "selector": _labels(spec.get("selector")),
    }


def _ingress(spec: dict[str, Any]) -> dict[str, Any]:
    rules = [r for r in spec.get("rules") or [] if isinstance(r, dict)]
    paths = [p for r in rules for p in _dig(r, "http", "paths") or [] if isinstance(p, dict)]
    backends = [_dig(p, "backend", "service", "name") for p in paths]
    backends.append(_dig(spec, "defaultBackend", "service", "name"))
    return {
        "hosts": sorted({str(r["host"]) for r in rules if r.get("host")}),
        "className": spec.get("ingressClassName"),
        "backends": sorted({str(b).lower() for b in backends if b}),
    }


ATTRS = {
    "Deployment": _workload,
    "StatefulSet": _workload,
    "DaemonSet": _workload,
    "Service": _service,
    "Ingress": _ingress,
}


def _part_of(
    rec: Record,
    labels: dict[str, str],
    components: Mapping[str, str],
    label: str,
    selector: Mapping[str, str] | None,
    snap: Snapshot,
) -> None:
    """PART_OF the component the workload's `label` names (if it matches ``selector``)."""
    if label not in labels or not _selects(selector or {}, labels):
        return
    component = components.get(labels[label])
    if component is None:
        why = f"{rec.id}: {label}={labels[label]} names no known component"
        snap.skipped.append(Rejected(rec.file, rec.line, why))
    else:
        rec.relations.append(("PART_OF", component))


def _link(snap: Snapshot, pods: dict[str, dict[str, str]]) -> None:
    """Services to the workloads they select, Ingresses to their Services."""
    for rec in snap.records.values():
        if rec.kind == "service" and rec.attrs["selector"]:
            found = [
                w
                for w, labels in pods.items()
                if snap.records[w].namespace == rec.namespace
                and _selects(rec.attrs["selector"], labels)
            ]
            rec.relations += [("DEPENDS_ON", w) for w in found]
            if not found:
                why = f"{rec.id}: selects no workload in the manifests"
                snap.skipped.append(Rejected(rec.file, rec.line, why))
        elif rec.kind == "ingress":
            for name in rec.attrs["backends"]:
                target = f"service:{rec.namespace}/{name}"
                if target in snap.records:
                    rec.relations.append(("DEPENDS_ON", target))
                else:
                    why = f"{rec.id}: backend {target} is not in the manifests"
                    snap.skipped.append(Rejected(rec.file, rec.line, why))


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
