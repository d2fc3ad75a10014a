"""The object-level grant filter is one clause kept in one shape.

Every reader (Agent, Principal) carries its readable domains and cleared labels
(``readDomains`` / ``readLabels``), recomputed from its teams' CAN_READ and CLEARED_FOR edges by
the statements that change them, always with the same snippet (RECOMPUTE). Every statement
that filters reads starts with the same short prelude reading them (PRELUDE), then filters
each row with its label's readable clause (FACT, ENTITY, TASK, PROPOSAL), or with the generic
one (GENERIC) where rows of several labels mix; each is the same text, whitespace and the
node's variable aside, wherever it appears. Change one, change them all (and the README).
"""

from __future__ import annotations

import re

from app.graph.queries import CYPHER_DIR

PRELUDE = """OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared"""

# What a node `{v}` of each label needs, on top of $all (admins, auditors read everything).
CORES = {
    "fact": "{v}.domain IN domains AND ({v}.sensitivity IS NULL OR {v}.sensitivity IN cleared)",
    "entity": "all(y IN [({v})-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)",
    "task": """{v}.agentId = $agentId OR {v}.submittedBy = $callerId
      OR all(y IN [({v})-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id]
             WHERE y IN domains)""",
    "proposal": """{v}.agentId = $agentId
      OR size([({v})-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {{id: $callerId}}) | h.id]) > 0
      OR all(y IN [({v})-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)""",
}
# A text only each label's core has: every occurrence must be inside that core.
MARKERS = {
    "fact": "sensitivity IN cleared",
    "entity": "-[:IN_DOMAIN]->(ed:Domain)",
    "task": "-[:IN_DOMAIN]->(td:Domain)",
    "proposal": "-[:IN_DOMAIN]->(pd:Domain)",
}
GENERIC = (
    "$all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])"
    + "".join(
        f" OR ('{k.capitalize()}' IN labels(n) AND ({CORES[k].format(v='n')}))"
        for k in ("fact", "task", "proposal", "entity")
    )
)
RECOMPUTE = """reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))"""

# statement -> the clauses it filters by (GENERIC only where labels mix).
FILTERED: dict[str, set[str]] = {
    "tasks/get_for": {"task"},
    "tasks/list_for": {"task"},
    "tasks/get_many_for": {"task"},
    "proposals/get_for": {"proposal"},
    "events/after_for": {"generic"},
    "events/query": {"generic"},
    "context/lineage_step_up": {"generic"},
    "context/lineage_step_down": {"generic"},
    "traces/trace": {"task", "fact", "generic"},
    "traces/why_step": {"generic"},
    "traces/why_nodes": {"generic", "fact"},
    "runs/state_for": {"task", "proposal"},
    "runs/list_for": {"task"},
    "runs/state_many_for": {"task", "proposal"},
    "entities/get_for": {"entity"},
    "entities/list_for": {"entity"},
    "search/vector_for.falkordb": {"fact", "entity"},
    "search/vector_for.neo4j": {"fact", "entity"},
    "search/fulltext_for.falkordb": {"fact", "entity"},
    "search/fulltext_for.neo4j": {"fact", "entity"},
    "search/near_for": {"fact", "entity"},
    "context/for_entity": {"fact"},
    "context/for_task": {"fact"},
    "context/fact": {"fact"},
}
# Statements that change memberships or grants, and so recompute their readers' lists.
MAINTAINERS = [
    "teams/add_member",
    "teams/remove_member",
    "teams/set",
    "teams/delete",
    "teams/refresh_readers",
    "agents/register",
    "sources/members",
    "sources/retire",
    "seed/agents",
    "seed/humans",
    "seed/teams",
    "migrations/0003_readers_carry_their_grants",
]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pattern(text: str) -> str:
    """A regex for `text` (flattened) with `{v}` as any variable name."""
    text = flat(text).replace("{{", "{").replace("}}", "}")
    return re.escape(text).replace(re.escape("{v}"), r"\w+")


def statements() -> dict[str, str]:
    out = {}
    for path in sorted(CYPHER_DIR.rglob("*.cypher")):
        text = "\n".join(x for x in path.read_text().splitlines() if not x.startswith("//"))
        out[str(path.relative_to(CYPHER_DIR))[: -len(".cypher")]] = flat(text)
    return out


def uses(text: str, kind: str) -> int:
    if kind == "generic":
        return text.count(flat(GENERIC))
    return len(re.findall(re.escape("$all OR (") + pattern(CORES[kind]) + re.escape(")"), text))


def test_every_filtered_statement_reads_the_lists_and_uses_the_one_clause() -> None:
    texts = statements()
    for name, kinds in FILTERED.items():
        text = texts[name]
        assert text.count(flat(PRELUDE)) == text.count("OPTIONAL MATCH (ra:Agent"), name
        assert flat(PRELUDE) in text, name
        for kind in ("fact", "entity", "task", "proposal", "generic"):
            assert (uses(text, kind) > 0) == (kind in kinds), (name, kind)


def test_each_clause_has_one_shape_everywhere() -> None:
    """Every trace of a label's rule is its core, and every core is either that label's
    clause (``$all OR (core)``) or part of the generic clause: no statement has its own."""
    for name, text in statements().items():
        generic = text.count(flat(GENERIC))
        for kind, core in CORES.items():
            cores = len(re.findall(pattern(core), text))
            assert text.count(MARKERS[kind]) == cores, (name, kind)
            if name in FILTERED:
                assert cores == uses(text, kind) + generic, (name, kind)


def test_grants_are_read_off_the_reader_and_kept_by_one_snippet() -> None:
    """Only the statements that change them walk a reader's teams to its grants, and they all
    recompute the lists with the same snippet."""
    walk = re.compile(r"-\[:MEMBER_OF\]->\(\w*:?Team\)-\[:(CAN_READ|CLEARED_FOR)\]")
    writes = re.compile(r"\.(readDomains|readLabels) =")
    for name, text in statements().items():
        if name in MAINTAINERS:
            assert flat(RECOMPUTE) in text, name
            assert len(writes.findall(text)) == 2 * text.count(flat(RECOMPUTE)), name
            assert len(walk.findall(text)) == 2 * text.count(flat(RECOMPUTE)), name
        elif not name.startswith("browser/"):
            assert not walk.search(text), name
            assert not writes.search(text), name
