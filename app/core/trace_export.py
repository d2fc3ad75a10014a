"""The ``otel`` scheduler job: spans that ended since its cursor, handed to an exporter.

The cursor is a ``Cursor`` node, so replicas and restarts agree on what was sent. Each graph
span becomes a ``SpanRecord`` with its own ids and times; the exporter (the OpenTelemetry
SDK set-up in ``app/observability/otel.py``) does the rest.
"""

from __future__ import annotations

from typing import Any

from app.core import traces
from app.graph import GraphStore
from app.graph.queries import q
from app.observability.otel import SpanRecord, SpanSink

ENDED = (q("traces/ended_decisions"), q("traces/ended_tasks"))
CURSOR = q("triggers/cursor")
ADVANCE = q("triggers/advance")
NAME = "otel"


def record(sp: traces.Span) -> SpanRecord | None:
    """A graph span as an export record (spans outside any trace are skipped)."""
    if not sp.trace_id or sp.ended_at is None:
        return None
    attrs: dict[str, str | int | float | bool] = {
        k: v for k, v in sp.attrs.items() if isinstance(v, str | int | float | bool)
    }
    attrs["baton.kind"] = sp.kind
    if sp.status:
        attrs["baton.status"] = sp.status
    if sp.cost_usd:
        attrs["baton.cost_usd"] = sp.cost_usd
    return SpanRecord(
        trace_id=sp.trace_id,
        span_id=sp.span_id,
        parent_span_id=sp.parent_span_id,
        name=sp.name,
        start_ms=sp.started_at,
        end_ms=int(sp.ended_at),
        agent_id=sp.agent_id,
        principal_id=sp.principal_id,
        run_id=sp.run_id,
        task_id=sp.task_id,
        attrs=attrs,
    )


def _spans(dec_rows: list[dict[str, Any]], task_rows: list[dict[str, Any]]) -> list[traces.Span]:
    out = [traces.decision_span(r["span"], [], [], {}) for r in dec_rows]
    for r in task_rows:
        t = r["span"]
        out.append(traces.task_span(t))
        out += [traces.decision_span(d, [], [], {t["id"]: t}) for d in r["decisions"] or []]
        out += [
            traces.decision_span(c, [], [], {t["id"]: t})
            for c in r.get("claims") or []
            if c.get("at") is not None
        ]
    return out


async def export_ended(
    store: GraphStore, exporter: SpanSink, *, now: int, settle_ms: int = 500, limit: int = 2_000
) -> int:
    """Scheduler job: spans (decisions and tasks) that ended since the cursor, exported once."""
    after = int((await store.read(CURSOR, name=NAME))[0]["seq"])
    until = now - settle_ms  # spans still being written in this instant wait for the next run
    dec_rows = await store.read(ENDED[0], after=after, until=until, limit=limit)
    task_rows = await store.read(ENDED[1], after=after, until=until, limit=limit)
    records = [r for r in (record(x) for x in _spans(dec_rows, task_rows)) if r is not None]
    if records:
        exporter.export(records)
    # A page cut short at `limit`: resume just before its last end (ties are sent again).
    cut = [int(p[-1]["span"]["endedAt"]) - 1 for p in (dec_rows, task_rows) if len(p) >= limit]
    await store.write(ADVANCE, name=NAME, seq=min(cut) if cut else until, now=now)
    return len(records)
