"""Read a CODEOWNERS file (GitHub or GitLab) into partial component records: which teams
own each catalog component that lives in the file's repository.

A component is a directory of the repository (its `backstage.io/source-location`); the
rules that cover that directory decide its owners. Patterns follow CODEOWNERS' gitignore
subset: `*`, `?`, `**`, a leading `/` or an inner `/` anchors to the repository root, a
trailing `/` means a directory, `\\#` or `\\ ` escape; `!` negation and `[...]` ranges are
not CODEOWNERS syntax and are reported. The last matching rule wins; a rule without owners
un-owns. GitLab `[Section]` (also `^[Optional]`, `[Section][2]`, `[Section] @default`
owners) are evaluated apart and combined, as GitLab does: each section's last matching rule
counts, and a rule without owners in a section takes the section's default owners.

Only teams become owners: `@org/team` is `group:default/team` when the sync knows that
group, anything (a user, an email) can be mapped with `owner_map`; every other owner is
reported with its line and ignored.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from app.connectors.model import ConnectorError, Record, Rejected, Snapshot

SECTION = re.compile(r"^\^?\[([^\]]+)\](?:\[\d+\])?(?:\s+(.*))?$")
TOKEN = re.compile(r"(?:\\.|\S)+")  # whitespace separates, `\ ` does not
TEAM = re.compile(r"^@[A-Za-z0-9][\w.-]*/([A-Za-z0-9][\w.-]*)$")
BRANCHED = ("tree", "blob", "src")  # <repo>/tree/<branch>/<path> (GitHub, GitLab, Bitbucket)
PROBE = "\0"  # stands for "any file inside the component's directory"


@dataclass
class _Rule:
    line: int
    regex: re.Pattern[str]
    owners: list[str]  # group ids the rule's owners resolved to (unknown ones dropped)
    bare: bool  # the rule names no owner at all (so a section's defaults apply)


@dataclass
class _Section:
    defaults: list[str] = field(default_factory=list)
    rules: list[_Rule] = field(default_factory=list)


def read(
    path: Path,
    *,
    repo: str,
    components: Mapping[str, str],
    groups: Collection[str],
    owner_map: Mapping[str, str] | None = None,
) -> Snapshot:
    """One partial record (OWNED_BY its teams) per component of ``repo`` the file gives a
    team to. ``components``: component id -> source location; ``groups``: the group ids the
    sync knows; ``owner_map``: owner as written (`@user`, email, `@org/team`) -> group id."""
    snap = Snapshot(files=[path.name])
    resolver = _Owners(path.name, {g.lower() for g in groups}, owner_map or {}, snap)
    sections = _parse(path.read_text(encoding="utf-8-sig"), path.name, resolver, snap)
    home = normalise(repo)[0]
    for cid, location in sorted(components.items()):
        where = normalise(location)
        if where[0] != home:
            continue  # another repository's component
        owners, line = _owners_of(sections, where[1])
        if not owners:
            why = f"{cid}: no team owns {where[1] or '/'} in CODEOWNERS"
            snap.skipped.append(Rejected(path.name, line, why))
            continue
        kind, _, ref = cid.partition(":")
        ns, _, name = ref.rpartition("/")
        rels = [("OWNED_BY", g) for g in owners]
        snap.add(
            Record(
                cid,
                kind,
                name,
                ns or "default",
                relations=rels,
                partial=True,
                file=path.name,
                line=line,
            )
        )
    return snap


def normalise(location: str) -> tuple[str, str]:
    """(repository, path inside it) of a URL or `owner/name`, lower case for the repository:
    `url:https://github.com/Acme/payments/tree/main/services/ledger/` ->
    (`acme/payments`, `services/ledger`), `%23` read as `#`. Without `/tree/<branch>` (or
    GitLab's `/-/`) the repository is the first two segments."""
    text = unquote(location.strip().removeprefix("url:").split("?")[0].split("#")[0])
    scheme, sep, rest = text.partition("://")
    text = rest if sep else scheme
    text = re.sub(r"^[^/@]+@([^/:]+):", r"\1/", text)  # git@github.com:acme/payments
    parts = [p for p in text.split("/") if p]
    if parts and (sep or "." in parts[0] or ":" in parts[0]):
        parts = parts[1:]  # the host
    if "-" in parts:  # GitLab: <group>/<subgroup>/<name>/-/tree/<branch>/<path>
        cut = parts.index("-")
        repo, rest_parts = parts[:cut], parts[cut + 1 :]
    else:
        repo, rest_parts = parts[:2], parts[2:]
    if len(rest_parts) >= 2 and rest_parts[0] in BRANCHED:
        rest_parts = rest_parts[2:]
    name = "/".join(repo).lower().removesuffix(".git")
    return name, "/".join(rest_parts)


def _owners_of(sections: list[_Section], path: str) -> tuple[list[str], int]:
    """The union of each section's last matching rule's owners, and the line that decided."""
    paths = [path] if path else []
    paths += ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    paths.append(f"{path}/{PROBE}" if path else PROBE)
    owners: list[str] = []
    decided = matched = 0  # the first line that gave owners, the first that matched
    for section in sections:
        hit = next(
            (r for r in reversed(section.rules) if any(r.regex.fullmatch(p) for p in paths)), None
        )
        if hit is None:
            continue
        given = section.defaults if hit.bare else hit.owners
        matched, decided = matched or hit.line, decided or (hit.line if given else 0)
        owners += [g for g in given if g not in owners]
    return owners, decided or matched


class _Owners:
    """Turns owner tokens into group ids, reporting each it cannot."""

    def __init__(
        self, file: str, groups: set[str], owner_map: Mapping[str, str], snap: Snapshot
    ) -> None:
        self.file, self.groups, self.snap = file, groups, snap
        self.map = {k.lower(): v.lower() for k, v in owner_map.items()}

    def resolve(self, tokens: list[str], line: int) -> list[str]:
        out: list[str] = []
        for token in tokens:
            team = TEAM.match(token)
            gid = self.map.get(token.lower()) or (
                f"group:default/{team.group(1).lower()}" if team else None
            )
            if gid is None or gid not in self.groups:
                why = f"owner {token} is not a known group"
                self.snap.rejected.append(Rejected(self.file, line, why))
            elif gid not in out:
                out.append(gid)
        return out


def _parse(text: str, file: str, owners: _Owners, snap: Snapshot) -> list[_Section]:
    sections = [_Section()]  # the rules before any [Section] header
    named: dict[str, _Section] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = SECTION.match(line)
        if header:  # GitLab: sections of the same name are one section
            key = header.group(1).strip().lower()
            if key not in named:
                named[key] = _Section()
                sections.append(named[key])
            named[key].defaults = owners.resolve(_tokens(header.group(2) or ""), number)
            continue
        pattern, *rest = _tokens(line)
        try:
            regex = pattern_regex(pattern)
        except ConnectorError as exc:
            snap.rejected.append(Rejected(file, number, str(exc)))
            continue
        sections[-1].rules.append(_Rule(number, regex, owners.resolve(rest, number), not rest))
    return sections


def _tokens(text: str) -> list[str]:
    """The line's tokens up to an inline `# comment`."""
    out: list[str] = []
    for token in TOKEN.findall(text):
        if token.startswith("#"):
            break
        out.append(token)
    return out


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as a regex over paths relative to the repository root."""
    if pattern.startswith("!"):
        raise ConnectorError(f"pattern {pattern!r}: negation (!) is not CODEOWNERS syntax")
    body = pattern.strip("/") if pattern != "/" else ""
    anchored = pattern.startswith("/") or "/" in body
    segments = body.split("/")
    if not body or "" in segments:
        raise ConnectorError(f"pattern {pattern!r} names no path")
    regex = "" if anchored else "(?:.*/)?"
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _glob(seg, pattern) + ("" if last else "/")
    return re.compile(regex, re.DOTALL)


def _glob(segment: str, pattern: str) -> str:
    out, i = "", 0
    while i < len(segment):
        ch = segment[i]
        if ch == "\\":
            if i + 1 == len(segment):
                raise ConnectorError(f"pattern {pattern!r} ends with an escape (\\)")
            out, i = out + re.escape(segment[i + 1]), i + 2
            continue
        if ch in "[]":
            raise ConnectorError(f"pattern {pattern!r}: [ ] ranges are not CODEOWNERS syntax")
        out += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
        i += 1
    return out
