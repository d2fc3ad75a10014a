"""Read a Backstage Software Catalog (descriptor files, `backstage.io/v1alpha1`) into Baton's
org model: entities with canonical ids, their domain, owner and relations, teams (Groups)
and people (Users), plus every rejected document with its file and line.

Entity refs follow Backstage's rules: `[kind:][namespace/]name`; a missing namespace is the
referring entity's, a missing kind is the field's default (`owner` → group, `system` →
system, `domain` → domain, `providesApis`/`consumesApis` → api, `subcomponentOf` →
component, `parent`/`children` → group, `memberOf` → group, `members` → user) and
`dependsOn` must name one. Baton ids are canonical refs in lower case
(`component:default/checkout-api`). `Location` documents pull in more files by relative
path, never outside the directory of the first file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from app.connectors.model import ConnectorError, Record, Rejected, Snapshot

API_VERSION = re.compile(r"^backstage\.io/v1(alpha1|beta1)$")
KINDS = ("domain", "system", "component", "api", "resource", "group", "user")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # Backstage's name rule
# field -> (Baton relation, the kind a ref without one means; None: the ref must say)
RELATIONS: dict[str, tuple[str, str | None]] = {
    "dependsOn": ("DEPENDS_ON", None),
    "providesApis": ("PROVIDES", "api"),
    "consumesApis": ("CONSUMES", "api"),
    "subcomponentOf": ("PART_OF", "component"),
    "system": ("PART_OF", "system"),
    "domain": ("PART_OF", "domain"),
    "owner": ("OWNED_BY", "group"),
    "parent": ("CHILD_OF", "group"),
    "subdomainOf": ("PART_OF", "domain"),
}
KEPT = ("type", "lifecycle")  # spec fields kept as properties, beside metadata's


CatalogError = ConnectorError
CatalogEntity = Record  # the names this module had before the connector model


def parse_ref(ref: object, default_kind: str | None, namespace: str) -> str:
    """A canonical, lower-case ref from `[kind:][namespace/]name` (or the compound form)."""
    if isinstance(ref, dict):
        kind, ns, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
    elif isinstance(ref, str) and ref.strip():
        text = ref.strip()
        kind, _, rest = text.partition(":") if ":" in text else (None, "", text)
        ns, _, name = rest.rpartition("/") if "/" in rest else (None, "", rest)
    else:
        raise CatalogError(f"not an entity ref: {ref!r}")
    kind = kind or default_kind
    if not kind:
        raise CatalogError(f"{ref!r} must name its kind (e.g. component:{name})")
    if not isinstance(name, str) or not NAME.match(name):
        raise CatalogError(f"{ref!r}: not a valid entity name")
    return f"{str(kind).lower()}:{str(ns or namespace).lower()}/{name.lower()}"


def _documents(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, document) for each YAML document in the file."""
    text = path.read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml: 5x faster
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            yield node.start_mark.line + 1, loader.construct_document(node)
    finally:
        loader.dispose()


def _entity(doc: dict[str, Any], file: str, line: int) -> Record:
    meta, spec = doc.get("metadata"), doc.get("spec") or {}
    if not isinstance(meta, dict) or not isinstance(spec, dict):
        raise CatalogError("metadata and spec must be mappings")
    kind = str(doc.get("kind", "")).lower()
    name, ns = meta.get("name"), str(meta.get("namespace") or "default").lower()
    if not isinstance(name, str) or not NAME.match(name):
        raise CatalogError(f"metadata.name {name!r} is not a valid entity name")
    own = f"{kind}:{ns}/{name.lower()}"
    if kind in ("component", "api", "resource", "system", "domain") and not spec.get("owner"):
        raise CatalogError(f"{kind} {name} has no spec.owner")
    if kind in ("component", "api") and not spec.get("lifecycle"):
        raise CatalogError(f"{kind} {name} has no spec.lifecycle")
    rels: list[tuple[str, str]] = []
    for key, (rel, default) in RELATIONS.items():
        value = spec.get(key)
        if value is None or (key == "domain" and kind != "system"):
            continue
        for ref in value if isinstance(value, list) else [value]:
            rels.append((rel, parse_ref(ref, default, ns)))
    members = [parse_ref(m, "user", ns) for m in spec.get("members") or []]
    members += [parse_ref(g, "group", ns) for g in spec.get("memberOf") or []]
    for child in spec.get("children") or []:  # the other side of a child's `parent`
        parse_ref(child, "group", ns)
    annotations = meta.get("annotations") or {}
    raw = spec.get("profile")
    profile: dict[str, Any] = raw if isinstance(raw, dict) else {}
    attrs = {
        k: v
        for k, v in {
            "description": meta.get("description"),
            "tags": meta.get("tags") or None,
            "title": meta.get("title"),
            **{k: spec.get(k) for k in KEPT},
            "email": profile.get("email"),
            "sourceLocation": annotations.get("backstage.io/source-location"),
            "kubernetesId": annotations.get("backstage.io/kubernetes-id"),
        }.items()
        if v is not None
    }
    domain = None
    if kind == "system" and spec.get("domain"):
        domain = parse_ref(spec["domain"], "domain", ns)
    title = meta.get("title") or profile.get("displayName")
    return Record(
        own,
        kind,
        name,
        ns,
        title if isinstance(title, str) else None,
        attrs,
        rels,
        None,
        domain,
        members,
        file=file,
        line=line,
    )


def read(path: Path) -> Snapshot:
    """Read a catalog file and every file its Locations point at (breadth first, each once).
    Bad documents are rejected with their file and line; the rest is kept."""
    root = path.resolve().parent
    snap = Snapshot()
    queue, seen = [path.resolve()], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        rel = str(current.relative_to(root))
        snap.files.append(rel)
        for line, doc in _readable(current, rel, snap):
            for target in take(snap, doc, rel, line):
                nxt = (current.parent / target).resolve()
                if not nxt.is_relative_to(root):
                    why = f"target {target!r} is outside {root.name}/: refused"
                    snap.rejected.append(Rejected(rel, line, why))
                elif not nxt.exists():
                    snap.rejected.append(Rejected(rel, line, f"target {target!r} not found"))
                    snap.incomplete.add(str(nxt.relative_to(root)))
                else:
                    queue.append(nxt)
    snap.inputs = snap.files + sorted(snap.incomplete - set(snap.files))
    snap.fingerprint = fingerprint(path, snap.inputs)
    return finish(snap)


def fingerprint(path: Path, files: list[str]) -> str:
    """A hash of what a read of ``path`` depended on: each file's bytes, in order, and the
    absence of a Location target that was missing. Same hash, same snapshot: a re-sync
    need not parse 50,000 entities to find that nothing changed."""
    root = path.resolve().parent
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.encode() + b"\0")
        try:
            h.update((root / rel).read_bytes())
        except OSError:
            h.update(b"\0missing\0")
        h.update(b"\0")
    return h.hexdigest()


def take(snap: Snapshot, doc: Any, where: str, line: int) -> list[str]:
    """Add one catalog document to ``snap`` (or report it); a Location's targets come back
    for the caller to follow (files follow them, the REST API has already)."""
    if doc is None:
        return []
    if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
        snap.rejected.append(Rejected(where, line, "not a catalog entity (apiVersion, kind)"))
        return []
    kind = str(doc.get("kind", "")).lower()
    if not API_VERSION.match(str(doc["apiVersion"])):  # e.g. scaffolder Templates
        snap.skipped.append(Rejected(where, line, f"{doc['apiVersion']} {doc['kind']} skipped"))
        return []
    if kind == "location":
        return _targets(doc)
    if kind not in KINDS:
        snap.skipped.append(Rejected(where, line, f"kind {doc.get('kind')!r} skipped"))
        return []
    try:
        snap.add(_entity(doc, where, line))
    except ConnectorError as exc:
        snap.rejected.append(Rejected(where, line, str(exc), _own_id(doc, kind)))
    return []


def _own_id(doc: dict[str, Any], kind: str) -> str | None:
    """The id a rejected document would have had, if its name at least is valid: the sync
    keeps what that entity was rather than retiring it for a typo."""
    raw = doc.get("metadata")
    meta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name, ns = meta.get("name"), meta.get("namespace") or "default"
    if isinstance(name, str) and NAME.match(name) and isinstance(ns, str):
        return f"{kind}:{ns.lower()}/{name.lower()}"
    return None


def finish(snap: Snapshot) -> Snapshot:
    """Drop what points at nothing, then give every record its Baton domain (and every
    Domain entity a Baton domain to stand for)."""
    _drop_dangling(snap)
    for rec in snap.records.values():
        rec.domain = domain_of(snap, rec)
        if rec.kind == "domain" and rec.domain:
            snap.domains[rec.domain] = rec.title or rec.name
    return snap


def _readable(path: Path, rel: str, snap: Snapshot) -> Iterator[tuple[int, Any]]:
    """The file's documents up to the first one that is not YAML (rejected, with its line:
    the documents before it still count)."""
    try:
        yield from _documents(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        why = str(exc).splitlines()[0]
        snap.rejected.append(Rejected(rel, line, f"not readable YAML: {why}"))
        snap.incomplete.add(rel)


def _targets(doc: dict[str, Any]) -> list[str]:
    spec = doc.get("spec") or {}
    out = [spec["target"]] if isinstance(spec.get("target"), str) else []
    out += [t for t in spec.get("targets") or [] if isinstance(t, str)]
    return out


def _drop_dangling(snap: Snapshot) -> None:
    """An entity whose required refs point at nothing in the catalog is rejected (its owner,
    system or a dependency); optional back-references (members) are simply left out."""
    changed = True
    while changed:  # rejecting one may leave another dangling
        changed = False
        for e in list(snap.records.values()):
            missing = [to for _, to in e.relations if to not in snap.records]
            if missing:
                snap.reject(e, f"{e.id} refers to {', '.join(missing)}: not in the catalog")
                changed = True
    for e in snap.records.values():
        e.members = [m for m in e.members if m in snap.records]


def domain_of(snap: Snapshot, e: Record) -> str | None:
    """The Baton domain that decides who may read ``e``: a system's own `spec.domain`, a
    member's system's, a domain entity itself (as `name`, or `namespace/name` outside the
    default namespace)."""
    seen: set[str] = set()
    cur: Record | None = e
    while cur is not None and cur.id not in seen:
        seen.add(cur.id)
        if cur.kind == "domain":
            name = cur.name.lower()
            return name if cur.namespace == "default" else f"{cur.namespace}/{name}"
        if cur.domain_ref is not None:
            cur = snap.records.get(cur.domain_ref)
            continue
        parent = next((to for rel, to in cur.relations if rel == "PART_OF"), None)
        cur = snap.records.get(parent) if parent else None
    return None
