"""Decision traces: which agent decided what, with which context, in which run.

Spans are ``Decision`` nodes written by the same statements that make the change (routing,
claims, completions, retries, fact assertions, proposals, approvals, merges, run and step
boundaries), so a trace cannot drift from the state it explains. The one exception is a
context read, which is a read-only statement: the context layer's hook records what was
returned (``SAW`` edges to exactly those facts) right after it. Task spans are the ``Task``
nodes themselves (``traceId``, ``spanId``, ``parentSpanId``). Switch the hot-path spans off
with ``BATON_TRACING=false`` (bench/tracing.py measures what they cost).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.core import context
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.observability.tracecontext import new_span_id, new_trace_id

CONTEXT_READ = q("traces/context_read")
TRACE = q("traces/trace")
WHY_STEP = q("traces/why_step")
WHY_NODES = q("traces/why_nodes")
WHY_DEPTH = 10
ROOTS = ("Task", "Fact", "Proposal", "Run")

_enabled = {"on": True}


def enabled() -> bool:
    return _enabled["on"]


def set_enabled(on: bool) -> None:
    """Process configuration (from settings), not state: every replica reads the same env."""
    _enabled["on"] = on


async def record_context_read(
    store: GraphStore, reader: context.Reader, fact_ids: list[str], task_id: str | None, now: int
) -> None:
    """CONTEXT_HOOKS entry: a span that SAW exactly the facts this reader was given."""
    if not (reader.agent_id or reader.principal_id):
        return
    await store.write(
        CONTEXT_READ,
        id=f"read/{new_span_id()}",
        taskId=task_id,
        agentId=reader.agent_id,
        principalId=None if reader.agent_id else reader.principal_id,
        factIds=fact_ids,
        traceId=new_trace_id(),
        attrs=dumps({"facts": len(fact_ids)}),
        now=now,
    )


context.CONTEXT_HOOKS.append(record_context_read)


@dataclass
class Span:
    span_id: str
    parent_span_id: str | None
    trace_id: str | None
    name: str
    started_at: int
    ended_at: int | None
    agent_id: str | None = None
    principal_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    kind: str = "decision"  # decision | task
    status: str | None = None
    cost_usd: float = 0.0
    attrs: dict[str, Any] = field(default_factory=dict)
    saw: list[str] = field(default_factory=list)
    produced: list[str] = field(default_factory=list)


@dataclass
class Trace:
    run_id: str
    trace_id: str
    spans: list[Span]


def _attrs(raw: Any) -> dict[str, Any]:
    try:
        got = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def decision_span(
    d: dict[str, Any], saw: list[str], produced: list[str], tasks: dict[str, dict[str, Any]]
) -> Span:
    """A Decision as a span; a hot-path one takes its trace and parent from its task."""
    task = tasks.get(d.get("taskId") or "", {})
    at = int(d.get("startedAt") or d.get("at") or 0)
    return Span(
        span_id=d.get("spanId") or d["id"],
        parent_span_id=d.get("parentSpanId") or task.get("spanId"),
        trace_id=d.get("traceId") or task.get("traceId"),
        name=d["name"],
        started_at=at,
        ended_at=d.get("endedAt", at if "at" in d else None),
        agent_id=d.get("agentId"),
        principal_id=d.get("principalId"),
        task_id=d.get("taskId"),
        run_id=d.get("runId") or task.get("runId"),
        status=d.get("status"),
        attrs=_attrs(d.get("attrs")),
        saw=saw,
        produced=produced,
    )


def task_span(t: dict[str, Any]) -> Span:
    return Span(
        span_id=t["spanId"],
        parent_span_id=t.get("parentSpanId"),
        trace_id=t.get("traceId"),
        name=f"task {t['capability']}",
        started_at=int(t["createdAt"]),
        ended_at=t.get("endedAt"),
        agent_id=t.get("agentId"),
        task_id=t["id"],
        run_id=t.get("runId"),
        kind="task",
        status=t["status"],
        cost_usd=float(t.get("costUsd") or 0.0),
        attrs={"kind": t["kind"], "attempts": t.get("attempts", 0)},
    )


async def trace(
    store: GraphStore, run_id: str, reader: context.Reader = context.EVERYONE
) -> Trace | None:
    """The span tree of a run (one read): decisions and tasks, oldest first, as ``reader``
    may see it (tasks it may not read are left out, SAW/PRODUCED name only readable things)."""
    rows = await store.read(TRACE, runId=run_id, **reader.params())
    if not rows:
        return None
    row = rows[0]
    tasks = {t["id"]: t for t in row["tasks"] if t}
    seen: set[str] = set()
    spans = []
    for d in row["spans"]:
        if d and d["span"]["id"] not in seen:
            seen.add(d["span"]["id"])
            spans.append(
                decision_span(d["span"], list(d["saw"] or []), list(d["produced"] or []), tasks)
            )
    for c in row["claims"] or []:  # a claim's span is its assignment edge
        for e in c["claims"]:
            if e.get("fence") is not None:
                d = {
                    "id": f"{c['taskId']}/{e['fence']}/claim",
                    "name": "claim",
                    "at": e["at"],
                    "taskId": c["taskId"],
                    "agentId": e["agentId"],
                }
                spans.append(decision_span(d, [], [], tasks))
    spans += [task_span(t) for t in tasks.values() if t.get("spanId")]
    spans.sort(key=lambda s: (s.started_at, s.kind != "task", s.span_id))
    return Trace(run_id, row["run"]["traceId"], spans)


@dataclass
class Why:
    root: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    truncated: bool = False


async def why_did(
    store: GraphStore,
    node_id: str,
    reader: context.Reader = context.EVERYONE,
    *,
    budget: int = 250,
) -> Why | None:
    """The decisions, facts, approvals, runs and events upstream of a task/fact/proposal/run,
    as ``reader`` may see them: unreadable nodes are neither reached nor expanded (so their
    edges and decisions are left out) and nothing at all if the node asked about is unreadable.

    Walked breadth-first up to 10 steps, one bounded statement per level (never path by
    path): at most ``budget`` nodes and edges; ``truncated`` says the walk stopped there."""
    keys = [node_id]
    seen = {node_id}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    frontier = [node_id]
    truncated = False
    for _level in range(WHY_DEPTH):
        room = budget - len(edges)
        if not frontier or room <= 0:
            truncated = truncated or bool(frontier)
            break
        rows = await store.read_heavy(WHY_STEP, keys=frontier, limit=room + 1, **reader.params())
        if len(rows) > room:
            rows, truncated = rows[:room], True
        nxt: list[str] = []
        for r in rows:
            edges[(r["near"], r["type"], r["far"])] = {
                "from": r["near"],
                "type": r["type"],
                "to": r["far"],
            }
            if r["far"] not in seen:
                seen.add(r["far"])
                nxt.append(r["far"])
        keys.extend(nxt)
        if len(keys) > budget:
            keys, truncated = keys[:budget], True
            break
        frontier = nxt
    found = {r["id"]: r for r in await store.read_heavy(WHY_NODES, keys=keys, **reader.params())}
    root = found.get(node_id)
    if root is None or root["label"] not in ROOTS:
        return None
    nodes = [
        {"id": k, "label": r["label"], "name": r["name"], "at": r["at"]} for k, r in found.items()
    ]
    kept = set(found)
    decisions = [d for r in found.values() for d in r["decisions"] or [] if d]
    decisions.sort(key=lambda d: (d["at"] or 0, d["span"]))
    nodes.sort(key=lambda n: (n["at"] or 0, n["id"] or ""))
    return Why(
        node_id,
        nodes,
        [e for e in edges.values() if e["from"] in kept and e["to"] in kept],
        decisions,
        truncated,
    )
