"""What every connector (Backstage, CODEOWNERS, Kubernetes, CSV) hands to the sync: a
`Snapshot` of `Record`s in Baton's terms, plus what it refused or skipped with the file and
line. Connectors only read; `app/connectors/sync.py` is the one writer, so a source format
never needs to know how the graph is kept."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

# Baton's relations between org entities (the edge types an entity's `relations` may name).
RELATION_TYPES = (
    "DEPENDS_ON",
    "PART_OF",
    "OWNED_BY",
    "RELATES_TO",
    "PROVIDES",
    "CONSUMES",
    "CHILD_OF",
)
# An entity id as connectors write it: a canonical ref in lower case, `kind:namespace/name`.
ENTITY_ID = re.compile(r"^[a-z0-9][a-z0-9_.:/\-]{0,199}$")


class ConnectorError(ValueError):
    """A document or row that cannot be imported (the message says why)."""


@dataclass(frozen=True)
class Rejected:
    """A document, row or line that was not imported, and where it is."""

    file: str
    line: int
    reason: str
    id: str | None = None  # the entity it would have been, when known: kept as it was

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Record:
    """One org entity as a source describes it.

    `domain` is the Baton domain that decides who may read it (None: the sync uses the
    domain of the entity it is PART_OF, else the source's default domain). A `partial`
    record only adds relations to an entity another source owns (CODEOWNERS): it never
    creates one. Kind `group` also makes a team, kind `user` a human principal (no token)
    MEMBER_OF the teams in `members`; a group's `members` are its users.
    """

    id: str
    kind: str
    name: str
    namespace: str = "default"
    title: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    relations: list[tuple[str, str]] = field(default_factory=list)  # (type, target id)
    domain: str | None = None
    domain_ref: str | None = None  # Backstage: a system's spec.domain, resolved by `domain`
    members: list[str] = field(default_factory=list)
    partial: bool = False
    file: str = ""
    line: int = 0

    def digest(self) -> str:
        """A hash of everything the graph keeps of this record: unchanged hash, no write."""
        body = [
            self.kind,
            self.name,
            self.namespace,
            self.domain,
            self.attrs,
            sorted(set(self.relations)),
            sorted(set(self.members)),
            self.partial,
        ]
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Snapshot:
    """Everything one read of a source found."""

    records: dict[str, Record] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[Rejected] = field(default_factory=list)  # other kinds: reported, not kept
    files: list[str] = field(default_factory=list)
    domains: dict[str, str] = field(default_factory=dict)  # Baton domain id -> name
    # files (or pages) that could not be read to the end: what they held before is not
    # retired on the strength of their silence
    incomplete: set[str] = field(default_factory=set)
    # what was read, for a re-sync to skip parsing when none of it changed (file sources):
    # a hash of every file's bytes (and of the absence of a missing one), and their names
    fingerprint: str | None = None
    inputs: list[str] = field(default_factory=list)
    unchanged: bool = False  # the fingerprint matched the last sync's: nothing was parsed
    claimed: int = 0  # when unchanged: how many entities the source holds
    rev: str = ""  # when unchanged: the revision they are at

    def add(self, rec: Record) -> None:
        """Keep ``rec`` unless its id is already taken (then it is rejected, first one wins)."""
        first = self.records.get(rec.id)
        if first is not None:
            why = f"{rec.id} already defined at {first.file}:{first.line}"
            self.rejected.append(Rejected(rec.file, rec.line, why))
            return
        self.records[rec.id] = rec

    def reject(self, rec: Record, reason: str) -> None:
        self.records.pop(rec.id, None)
        self.rejected.append(Rejected(rec.file, rec.line, reason, rec.id))
