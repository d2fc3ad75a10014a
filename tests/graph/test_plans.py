"""No statement scans a whole label that grows with use (tasks, facts, events, proposals,
runs, ...) unless it is listed here with why: FalkorDB's `GRAPH.EXPLAIN` of every statement
in `cypher/`, with parameters of the types the app passes. A lookup written so the planner
cannot use an index (`x.id IN [r IN $rows | r.id]`, a pattern started from the wrong end)
shows up here as a `Node By Label Scan` long before it shows up as latency at 100,000
nodes."""

from __future__ import annotations

import re

import pytest

from app.graph.falkordb import FalkorStore
from app.graph.queries import load
from tests.conftest import fresh_name
from tests.support.graphs import GraphTarget
from tests.support.plans import falkordb_plan

pytestmark = pytest.mark.falkordb_only("FalkorDB's planner (GRAPH.EXPLAIN)")

GROWING = ("Task", "Fact", "Event", "Decision", "Step", "Entity", "Proposal", "Run", "CostEntry")
SCANS_ALLOWED = {
    "costs/by_group": "the cost report over a time window (API `costs`, not per request)",
    "entities/list_for": "a page of the catalog in id order",
    "graph/counts": "`baton db stats` counts every node by design",
    "metrics/summary": "per scrape, over proposals and runs (retention bounds them)",
    "runs/list_for": "a page of runs newest first (retention bounds them)",
    "sources/linkable": "once per connector sync, over the catalog's components and groups",
}
BOOLEAN = {"admin", "mayMove", "engine", "accept", "all"}
NUMBER = re.compile(
    r"(?i)^(now|limit|first|k|pool|batch|offset|skip|since|before|after|fence|priority"
    r"|attempt|version|seq|leaseMs|ttlMs|maxRounds|maxAttempts|maxConcurrency|costPerCall"
    r"|deadline|budgetUsd|.*Limit|max.*)$"
)


def _value(name: str, text: str) -> str:
    """A Cypher literal of the type the app passes for ``$name`` (only the planner sees it)."""
    if name in BOOLEAN:
        return "false"
    if name == "row":
        return "{id: 'x'}"
    if re.search(rf"IN \${name}\b", text) or name.endswith(("Ids", "ids")):
        return "['x']"
    if name in {"rows", "items", "tasks", "steps", "terms", "links", "entities"}:
        return "[{id: 'x'}]"
    if NUMBER.match(name):
        return "1"
    return "'x'"


async def test_no_statement_scans_a_growing_label_unless_listed(graph: GraphTarget) -> None:
    store = await graph.open(fresh_name())
    assert isinstance(store, FalkorStore)
    queries = load("falkordb")
    scans: dict[str, list[str]] = {}
    try:
        for name in queries.names():
            text = queries[name]
            params = sorted(set(re.findall(r"\$([A-Za-z_]\w*)", text)))
            prefix = "CYPHER " + " ".join(f"{p}={_value(p, text)}" for p in params)
            found = [
                line
                for line in falkordb_plan(graph, store, text, prefix)
                if re.search(r"Label Scan \| \(\w+:(" + "|".join(GROWING) + r")\)", line)
                or "All Node Scan" in line
            ]
            if found:
                scans[name] = found
    finally:
        await store.close()
    unexpected = {n: s for n, s in scans.items() if n not in SCANS_ALLOWED}
    assert not unexpected, unexpected
    assert set(SCANS_ALLOWED) <= set(scans), (
        f"no longer scanning (take them off SCANS_ALLOWED): {set(SCANS_ALLOWED) - set(scans)}"
    )
