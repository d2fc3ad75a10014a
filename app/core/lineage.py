"""Lineage: what a fact, task, proposal or run came from (upstream) and what it influenced
(downstream), walked breadth-first level by level within the reader's grants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import BadInput
from app.core.readers import Reader
from app.graph import GraphStore
from app.graph.queries import q

LINEAGE_UP = q("context/lineage_step_up")
LINEAGE_DOWN = q("context/lineage_step_down")


@dataclass(frozen=True)
class Lineage:
    """Nodes and edges ready to draw; ``truncated`` when the walk hit its budget."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    truncated: bool = False


SUMMARY = (
    "id",
    "key",
    "value",
    "confidence",
    "status",
    "kind",
    "capability",
    "name",
    "summary",
    "agentId",
    "entityId",
)


def _summary(node_id: str, label: str, props: dict[str, Any] | None) -> dict[str, Any]:
    kept = {k: v for k, v in (props or {}).items() if k in SUMMARY and v is not None}
    return {"id": node_id, "label": label, **kept}


async def lineage(
    store: GraphStore,
    reader: Reader,
    node_id: str,
    *,
    direction: str,
    depth: int,
    limit: int = 1_000,
) -> Lineage:
    """Upstream (what it came from), downstream (what it influenced) or both.

    Walked breadth-first, one bounded statement per level, never path by path (paths through
    a dense DERIVED_FROM graph grow exponentially with depth): at most ``limit`` edges and
    ``limit`` nodes in all; a walk cut short says so with ``truncated``."""
    if not 1 <= depth <= 5:
        raise BadInput("depth must be between 1 and 5", field="depth")
    steps = {
        "UPSTREAM": [(LINEAGE_UP, True)],
        "DOWNSTREAM": [(LINEAGE_DOWN, False)],
        "BOTH": [(LINEAGE_UP, True), (LINEAGE_DOWN, False)],
    }[direction]
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    truncated = False
    for name, upstream in steps:
        seen = {node_id}
        frontier = [node_id]
        for level in range(depth):
            room = limit - len(edges)
            if not frontier or room <= 0:
                truncated = truncated or bool(frontier)
                break
            rows = await store.read_heavy(
                name, ids=frontier, limit=room + 1, first=level == 0, **reader.params()
            )
            if len(rows) > room:
                rows, truncated = rows[:room], True
            nxt: list[str] = []
            for r in rows:
                near, far = r["nearId"], r["farId"]
                if r.get("near") is not None and near not in nodes:
                    nodes[near] = _summary(near, r["nearLabel"], r["near"])
                if far not in nodes:
                    nodes[far] = _summary(far, r["farLabel"], r["far"])
                src, dst = (near, far) if upstream else (far, near)
                edges[(src, r["type"], dst)] = {"from": src, "type": r["type"], "to": dst}
                if far is not None and far not in seen:
                    seen.add(far)
                    nxt.append(far)
            if len(nodes) > limit:
                truncated = True
                break
            frontier = nxt
    return Lineage(list(nodes.values()), list(edges.values()), truncated)
