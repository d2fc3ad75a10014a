"""FalkorDB 4.16 plans a node lookup by a parameter that is null (`MATCH (t:Task {id: $x})`
with `$x = null`) as a scan of every node of the label, then a filter: each emitEvent
without a key scanned every Event, each submit without a parent or dedupKey every Task, each
read by a human every Agent. A lookup written `{id: coalesce($x, '')}` uses the index either
way (and matches nothing for null, as before). This check keeps every MATCH lookup by a
parameter in that form (cypher/README.md)."""

from __future__ import annotations

import re

from app.graph.queries import CYPHER_DIR

CLAUSE = re.compile(
    r"^\s*(OPTIONAL MATCH|MATCH|WITH|WHERE|CREATE|MERGE|SET|RETURN|UNWIND|"
    r"FOREACH|CALL|DELETE|DETACH|ORDER|LIMIT|REMOVE|SKIP|UNION|ON)\b"
)
BARE = re.compile(r"\(\w*:\w+ \{\w+: \$\w+\}")


def test_match_lookups_by_a_parameter_are_null_safe() -> None:
    offenders = []
    for path in sorted(CYPHER_DIR.rglob("*.cypher")):
        if path.parent.name in ("browser", "schema"):
            continue
        clause = None
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("//"):
                continue
            if m := CLAUSE.match(line):
                clause = m.group(1)
            if clause in ("MATCH", "OPTIONAL MATCH") and BARE.search(line):
                offenders.append(f"{path.relative_to(CYPHER_DIR)}:{n}: {line.strip()}")
    assert offenders == []


def test_the_check_sees_a_bare_lookup() -> None:
    assert BARE.search("OPTIONAL MATCH (old:Event {key: $key})")
    assert not BARE.search("OPTIONAL MATCH (old:Event {key: coalesce($key, '')})")
