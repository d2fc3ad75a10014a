"""The metrics scrape counts events by type through the index on ``Event.type``, on both
backends. The index costs restart time (FalkorDB rebuilds every index when it loads the
graph: ~0.25 s per million events for this one) and was once taken for unused; without it
``metrics/summary`` scans every Event (137 ms instead of 11 ms at a million events on
FalkorDB, docs/performance.md "Restart at size"), and the type-filtered event reads
(``events/after``, ``events/after_for``, ``events/query``) lose half their speed."""

from __future__ import annotations

from typing import Any

from app.graph.falkordb import FalkorStore
from app.graph.queries import load
from tests.conftest import fresh_name
from tests.support.graphs import GraphTarget
from tests.support.plans import falkordb_plan

TYPES = ["task.completed", "task.dead"]


def _neo4j_plan(graph: GraphTarget, text: str) -> list[str]:
    import neo4j

    with neo4j.GraphDatabase.driver(graph.uri, auth=("neo4j", graph.password)) as driver:
        with driver.session(database="neo4j") as session:
            plan = session.run("EXPLAIN " + text, types=TYPES).consume().plan  # type: ignore[arg-type]
    assert plan is not None  # EXPLAIN always has one
    out: list[str] = []

    def walk(op: dict[str, Any]) -> None:
        out.append(f"{op['operatorType']} {op.get('args', {}).get('Details', '')}")
        for child in op.get("children", []):
            walk(child)

    walk(plan)
    return out


async def test_metrics_summary_counts_events_through_the_type_index(graph: GraphTarget) -> None:
    store = await graph.open(fresh_name())
    text = load(graph.backend)["metrics/summary"]
    try:
        if isinstance(store, FalkorStore):
            plan = falkordb_plan(graph, store, text, f"CYPHER types={TYPES!r}")
            # e.type is the only indexed property the Event part filters on
            assert "Node By Index Scan | (e:Event)" in plan, plan
        else:
            plan = _neo4j_plan(graph, text)
            assert any(op.startswith("NodeIndexSeek") and "e:Event(type)" in op for op in plan), (
                plan
            )
    finally:
        await store.close()
