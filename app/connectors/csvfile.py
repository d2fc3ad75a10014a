"""Import org entities from a CSV file (a spreadsheet export, a CMDB dump: whatever Backstage,
CODEOWNERS and Kubernetes do not cover), one entity a row, read through a column mapping.

The mapping (a YAML file, `load_mapping`) says which column holds which field:

    kind: component              # every row's kind, unless columns.kind names a column
    namespace: default           # the default namespace (columns.namespace: per row)
    columns:                     # Baton field -> CSV header; only `name` is required
      name: Service              # Backstage's name rule; the id is kind:namespace/name
      kind: Type
      title: Display name
      description: Description   # description, type, lifecycle: kept as properties
      owner: Team                # OWNED_BY, a group unless the cell names a kind
      system: System             # PART_OF, a system unless the cell names a kind
      domain: Domain             # the Baton domain (as written, lower case)
      dependsOn: Depends on      # DEPENDS_ON, a list; each names its kind (component:x)
      tags: Tags                 # a list, kept as a property
    attrs: {tier: Tier}          # more columns kept as properties (name -> header)
    split: ";"                   # the list separator inside a cell (default ",")
    default_kinds: {dependsOn: component}  # the kind of a ref that names none
    required: [owner]            # fields that must not be empty (name always is)

Other fields: namespace, type, lifecycle, providesApis/consumesApis (PROVIDES/CONSUMES an
api), parent (CHILD_OF a group), members (users of a group), memberOf (groups of a user).
A mapping naming an unknown field or a column the file does not have is refused whole
(ConnectorError); a bad row is rejected with its line (the header is line 1) and the rest
is kept; of two rows with one id the first wins.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from app.connectors.backstage import NAME, parse_ref
from app.connectors.model import ConnectorError, Record, Rejected, Snapshot

# field -> (Baton relation, the kind a ref without one means; None: the ref must say)
RELATIONS: dict[str, tuple[str, str | None]] = {
    "owner": ("OWNED_BY", "group"),
    "system": ("PART_OF", "system"),
    "dependsOn": ("DEPENDS_ON", None),
    "providesApis": ("PROVIDES", "api"),
    "consumesApis": ("CONSUMES", "api"),
    "parent": ("CHILD_OF", "group"),
}
MEMBERS = {"members": "user", "memberOf": "group"}
LISTS = ("dependsOn", "providesApis", "consumesApis", "members", "memberOf", "tags")
PROPERTIES = ("description", "type", "lifecycle")
FIELDS = ("name", "kind", "namespace", "title", "domain", *RELATIONS, *MEMBERS, "tags", *PROPERTIES)
KEYS = ("kind", "namespace", "columns", "attrs", "split", "default_kinds", "required")
KIND = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def load_mapping(path: Path) -> dict[str, Any]:
    """The mapping file, checked (a ConnectorError says what is wrong with it)."""
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConnectorError(f"{path.name}: not a readable mapping: {exc}") from exc
    check_mapping(mapping)
    return dict(mapping)


def check_mapping(mapping: Any) -> None:
    """Refuse a mapping that names an unknown key or field, or no name column or kind."""
    if not isinstance(mapping, dict):
        raise ConnectorError("the mapping must be a YAML mapping")
    unknown = sorted(set(mapping) - set(KEYS))
    if unknown:
        raise ConnectorError(f"unknown mapping key(s) {unknown}; known: {', '.join(KEYS)}")
    for key in ("columns", "attrs", "default_kinds"):
        value = mapping.get(key) or {}
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and v.strip() for v in value.values()
        ):
            raise ConnectorError(f"mapping {key} must map names to text")
    columns, required = mapping.get("columns") or {}, mapping.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ConnectorError("mapping required must be a list of fields")
    bad = sorted(set(columns) - set(FIELDS))
    bad += sorted(set(mapping.get("default_kinds") or {}) - set(RELATIONS) - set(MEMBERS))
    bad += sorted(set(required) - set(columns))
    if bad:
        raise ConnectorError(f"unknown or unmapped field(s) {bad}; fields: {', '.join(FIELDS)}")
    if "name" not in columns:
        raise ConnectorError("the mapping has no columns.name")
    kind = mapping.get("kind")
    if "kind" not in columns and not (isinstance(kind, str) and KIND.match(kind.lower())):
        raise ConnectorError(f"the mapping needs a valid kind or columns.kind, not {kind!r}")
    if not isinstance(mapping.get("split", ","), str) or not mapping.get("split", ","):
        raise ConnectorError("mapping split must be a non-empty text")


def read(csv_path: Path, mapping: Mapping[str, Any]) -> Snapshot:
    """One record a row of ``csv_path``, through ``mapping`` (see the module docstring)."""
    check_mapping(mapping)
    file = csv_path.name
    snap = Snapshot(files=[file])
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            header = [cell.strip() for cell in next(reader, [])]
            index = _index(header, mapping, file)
            for line, cells in _rows(reader, file, snap):
                try:
                    rec, domain = _record(cells, index, mapping, file, line)
                except ConnectorError as exc:
                    snap.rejected.append(Rejected(file, line, str(exc)))
                    continue
                snap.add(rec)
                if rec.domain and snap.records.get(rec.id) is rec:
                    snap.domains.setdefault(rec.domain, domain)
    except UnicodeDecodeError as exc:
        raise ConnectorError(f"{file}: not UTF-8 text ({exc.reason})") from exc
    return snap


def _rows(reader: Any, file: str, snap: Snapshot) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each row that is not blank; a row the reader cannot parse (a
    stray quote) is rejected and the reader goes on with the next line."""
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            snap.rejected.append(Rejected(file, previous + 1, f"not readable CSV: {exc}"))
            previous = reader.line_num
            continue
        line, previous = previous + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield line, cells


def _index(header: list[str], mapping: Mapping[str, Any], file: str) -> dict[str, int]:
    """Field (or `attr:<name>`) -> column number; a mapped column the file lacks is fatal."""
    wanted = {
        **mapping["columns"],
        **{f"attr:{k}": v for k, v in (mapping.get("attrs") or {}).items()},
    }
    missing = sorted({c for c in wanted.values() if c.strip() not in header})
    if missing:
        raise ConnectorError(
            f"{file}: column(s) {missing} of the mapping are not in the header {header}"
        )
    return {key: header.index(column.strip()) for key, column in wanted.items()}


def _record(
    cells: list[str], index: dict[str, int], mapping: Mapping[str, Any], file: str, line: int
) -> tuple[Record, str]:
    """The row's record and its domain as written (a ConnectorError says why it cannot)."""
    columns: dict[str, str] = mapping["columns"]
    split: str = mapping.get("split", ",")
    kinds: dict[str, str] = mapping.get("default_kinds") or {}

    def get(key: str) -> str:
        at = index.get(key)
        return cells[at].strip() if at is not None and at < len(cells) else ""

    def refs(key: str, default: str | None) -> list[str]:
        cell = get(key)
        parts = [v.strip() for v in (cell.split(split) if key in LISTS else [cell])]
        try:
            return [parse_ref(v, kinds.get(key, default), ns) for v in parts if v]
        except ConnectorError as exc:
            raise ConnectorError(f"{columns[key]}: {exc}") from exc

    for key in ("name", *(mapping.get("required") or [])):
        if not get(key):
            raise ConnectorError(f"{columns[key]} is empty ({key} is required)")
    kind, name = (get("kind") or str(mapping.get("kind") or "")).lower(), get("name")
    ns = (get("namespace") or str(mapping.get("namespace") or "default")).lower()
    if not KIND.match(kind):
        raise ConnectorError(
            f"kind {kind!r} is not valid"
            if kind
            else f"{columns['kind']} is empty (kind is required)"
        )
    domain = get("domain")
    for what, value in (("name", name), ("namespace", ns), ("domain", domain)):
        if value and not NAME.match(value):
            raise ConnectorError(f"{what} {value!r} is not a valid entity name")
    rels = [(rel, ref) for key, (rel, default) in RELATIONS.items() for ref in refs(key, default)]
    members = [ref for key, default in MEMBERS.items() for ref in refs(key, default)]
    attrs: dict[str, Any] = {k: get(k) for k in PROPERTIES if get(k)}
    attrs |= {k: get(f"attr:{k}") for k in mapping.get("attrs") or {} if get(f"attr:{k}")}
    if tags := [t.strip() for t in get("tags").split(split) if t.strip()]:
        attrs["tags"] = tags
    rec = Record(
        f"{kind}:{ns}/{name.lower()}",
        kind,
        name,
        ns,
        get("title") or None,
        attrs,
        rels,
        domain.lower() or None,
        members=members,
        file=file,
        line=line,
    )
    return rec, domain
