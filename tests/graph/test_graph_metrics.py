"""Every statement the store runs is timed in ``baton_graph_query_seconds`` (by kind)."""

from __future__ import annotations

from app.core import events
from app.graph import GraphStore
from app.observability.metrics import REGISTRY


def runs(kind: str) -> float:
    return REGISTRY.get_sample_value("baton_graph_query_seconds_count", {"kind": kind}) or 0.0


async def test_reads_and_writes_move_the_graph_query_histogram(store: GraphStore) -> None:
    reads, writes = runs("read"), runs("write")
    await events.head(store)
    assert runs("read") >= reads + 1
    await events.emit(store, "test.metric", now=1, actor="t", subject=None)
    assert runs("write") >= writes + 1
