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
from app.core.tracecontext import new_span_id, new_trace_id
from app.graph import GraphStore
from app.graph.queries import q

CONTEXT_READ = q("traces/context_read")
TRACE = q("traces/trace")
WHY = q("traces/why")

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
        CONTEXT_READ, id=f"read/{new_span_id()}", taskId=task_id, agentId=reader.agent_id,
        principalId=None if reader.agent_id else reader.principal_id, factIds=fact_ids,
        traceId=new_trace_id(), attrs=dumps({"facts": len(fact_ids)}), now=now,
    )  # fmt: skip


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


async def trace(store: GraphStore, run_id: str) -> Trace | None:
    """The span tree of a run (one read): decisions and tasks, oldest first."""
    rows = await store.read(TRACE, runId=run_id)
    if not rows:
        return None
    row = rows[0]
    spans = [
        Span(
            span_id=d["span"]["spanId"],
            parent_span_id=d["span"].get("parentSpanId"),
            trace_id=d["span"].get("traceId"),
            name=d["span"]["name"],
            started_at=int(d["span"]["startedAt"]),
            ended_at=d["span"].get("endedAt"),
            agent_id=d["span"].get("agentId"),
            principal_id=d["span"].get("principalId"),
            task_id=d["span"].get("taskId"),
            run_id=d["span"].get("runId"),
            status=d["span"].get("status"),
            attrs=_attrs(d["span"].get("attrs")),
            saw=list(d.get("saw") or []),
            produced=list(d.get("produced") or []),
        )  # fmt: skip
        for d in row["spans"]
    ]
    spans += [
        Span(
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
        )  # fmt: skip
        for t in row["tasks"]
        if t.get("spanId")
    ]
    spans.sort(key=lambda s: (s.started_at, s.kind != "task", s.span_id))
    return Trace(run_id, row["run"]["traceId"], spans)


@dataclass
class Why:
    root: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


async def why_did(store: GraphStore, node_id: str) -> Why | None:
    """The decisions, facts, approvals, runs and events upstream of a task/fact/proposal/run."""
    rows = await store.read(WHY, id=node_id)
    if not rows:
        return None
    r = rows[0]
    decisions = sorted((d for d in r["decisions"] if d), key=lambda d: (d["at"] or 0, d["span"]))
    nodes = sorted(r["nodes"], key=lambda n: (n["at"] or 0, n["id"] or ""))
    return Why(r["root"], nodes, list(r["edges"]), decisions)
