"""The object-level grant filter is one clause kept in one shape: every statement that filters
by it has the same prelude (the caller's readable domains and cleared labels) and the same
readable(n) expression, whitespace aside. Change one, change them all (and the README)."""

from __future__ import annotations

import re

from app.graph.queries import CYPHER_DIR

PRELUDE = """OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)
WITH reader, collect(DISTINCT d.id) AS domains
OPTIONAL MATCH (reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH domains, collect(DISTINCT l.name) AS cleared"""
READABLE = """$all OR NOT any(lb IN labels(n) WHERE lb IN ['Fact', 'Task', 'Proposal', 'Entity'])
  OR ('Fact' IN labels(n) AND n.domain IN domains
      AND (n.sensitivity IS NULL OR n.sensitivity IN cleared))
  OR ('Task' IN labels(n) AND (n.agentId = $agentId OR n.submittedBy = $callerId
      OR all(y IN [(n)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(td:Domain) | td.id]
             WHERE y IN domains)))
  OR ('Proposal' IN labels(n) AND (n.agentId = $agentId
      OR size([(n)-[:ROUTED_TO|ESCALATED_TO]->(h:Principal {id: $callerId}) | h.id]) > 0
      OR all(y IN [(n)-[:FOR]->(:Task)-[:TOUCHES]->(:Entity)-[:IN_DOMAIN]->(pd:Domain) | pd.id]
             WHERE y IN domains)))
  OR ('Entity' IN labels(n)
      AND all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains))"""
FILTERED = [
    "tasks/get_for",
    "tasks/get_many_for",
    "tasks/list_for",
    "proposals/get_for",
    "events/after_for",
    "events/query",
    "context/lineage_step_up",
    "context/lineage_step_down",
    "traces/trace",
    "traces/why_step",
    "traces/why_nodes",
    "runs/state_for",
    "runs/state_many_for",
    "runs/list_for",
    "entities/get_for",
    "entities/list_for",
    "search/vector_for.falkordb",
    "search/vector_for.neo4j",
    "search/fulltext_for.falkordb",
    "search/fulltext_for.neo4j",
    "search/near_for",
]
FACT_READS = ["context/for_entity", "context/fact"]  # for_task carries its task through


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_every_filtered_statement_uses_the_one_clause() -> None:
    for name in FILTERED:
        text = flat((CYPHER_DIR / f"{name}.cypher").read_text())
        assert flat(PRELUDE) in text, name
        assert flat(READABLE) in text, name
    for name in FACT_READS:
        assert flat(PRELUDE) in flat((CYPHER_DIR / f"{name}.cypher").read_text()), name
