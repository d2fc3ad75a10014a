"""OpenTelemetry export of Decision traces (off by default).

Turned on by the standard variables: ``OTEL_TRACES_EXPORTER=otlp|console``, or an
``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT``; ``OTEL_SDK_DISABLED=true`` wins. A scheduler job
reads spans that ended since its cursor (a ``Cursor`` node, so replicas and restarts agree)
and hands them to the SDK's batch processor with *their own* ids and times, so the graph and
the tracing backend tell the same story; a caller's ``traceparent`` makes them children of the
caller's span. Attributes follow the GenAI agent conventions where they fit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

from app.core import traces
from app.graph import GraphStore
from app.graph.queries import q

log = logging.getLogger("baton.otel")
ENDED = (q("traces/ended_decisions"), q("traces/ended_tasks"))
CURSOR = q("triggers/cursor")
ADVANCE = q("triggers/advance")
NAME = "otel"
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
SCOPE = InstrumentationScope("baton", "1")


@dataclass
class SpanRecord:
    """One span as the graph holds it (Decision node, or a Task acting as a span)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ms: int
    end_ms: int
    agent_id: str | None = None
    principal_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    attrs: dict[str, str | int | float | bool] = field(default_factory=dict)


def span_id_of(value: str) -> int:
    """Graph span ids are readable (``task_x/2/route``) or 16 hex digits; OTel needs 64 bits."""
    if _HEX16.match(value):
        return int(value, 16)
    return int(hashlib.sha256(value.encode()).hexdigest()[:16], 16) or 1


def trace_id_of(value: str) -> int:
    if _HEX32.match(value):
        return int(value, 16)
    return int(hashlib.sha256(value.encode()).hexdigest()[:32], 16) or 1


def to_otel(rec: SpanRecord, resource: Resource) -> ReadableSpan:
    trace_id = trace_id_of(rec.trace_id)
    flags = TraceFlags(TraceFlags.SAMPLED)
    ctx = SpanContext(trace_id, span_id_of(rec.span_id), is_remote=False, trace_flags=flags)
    parent = (SpanContext(trace_id, span_id_of(rec.parent_span_id), is_remote=False,
                          trace_flags=flags) if rec.parent_span_id else None)  # fmt: skip
    attrs: dict[str, Any] = {"baton.span.id": rec.span_id, **rec.attrs}
    if rec.agent_id:
        attrs |= {"gen_ai.agent.id": rec.agent_id, "gen_ai.agent.name": rec.agent_id,
                  "gen_ai.operation.name": "invoke_agent"}  # fmt: skip
    for key, value in (("baton.run.id", rec.run_id), ("baton.task.id", rec.task_id),
                       ("baton.principal.id", rec.principal_id)):  # fmt: skip
        if value:
            attrs[key] = value
    return ReadableSpan(
        name=rec.name, context=ctx, parent=parent, resource=resource, attributes=attrs,
        kind=SpanKind.INTERNAL, start_time=rec.start_ms * 1_000_000,
        end_time=max(rec.end_ms, rec.start_ms) * 1_000_000, instrumentation_scope=SCOPE,
    )  # fmt: skip


@dataclass
class Exporter:
    """A span processor bound to a resource; ``export`` hands finished spans to it."""

    processor: SpanProcessor
    resource: Resource

    def export(self, spans: list[SpanRecord]) -> None:
        for rec in spans:
            self.processor.on_end(to_otel(rec, self.resource))

    def flush(self, timeout_ms: int = 10_000) -> bool:
        return bool(self.processor.force_flush(timeout_ms))

    def shutdown(self) -> None:
        self.processor.shutdown()


def configure(exporter: SpanExporter, *, batch: bool = True, service: str = "baton") -> Exporter:
    """An exporter around any SDK SpanExporter (tests pass the in-memory one)."""
    proc: SpanProcessor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    return Exporter(proc, Resource.create({"service.name": service}))


def configure_from_env(environ: Mapping[str, str] | None = None) -> Exporter | None:
    """What the standard OTEL_* variables ask for; None means export is off."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    kind = env.get("OTEL_TRACES_EXPORTER", "").lower()
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if kind in ("", "none") and not endpoint or kind == "none":
        return None
    service = env.get("OTEL_SERVICE_NAME", "baton")
    if kind == "console":
        return configure(ConsoleSpanExporter(), service=service)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return configure(OTLPSpanExporter(), service=service)


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
        trace_id=sp.trace_id, span_id=sp.span_id, parent_span_id=sp.parent_span_id,
        name=sp.name, start_ms=sp.started_at, end_ms=int(sp.ended_at), agent_id=sp.agent_id,
        principal_id=sp.principal_id, run_id=sp.run_id, task_id=sp.task_id, attrs=attrs,
    )  # fmt: skip


def _spans(dec_rows: list[dict[str, Any]], task_rows: list[dict[str, Any]]) -> list[traces.Span]:
    out = [traces.decision_span(r["span"], [], [], {}) for r in dec_rows]
    for r in task_rows:
        t = r["span"]
        out.append(traces.task_span(t))
        out += [traces.decision_span(d, [], [], {t["id"]: t}) for d in r["decisions"] or []]
        out += [traces.decision_span(c, [], [], {t["id"]: t}) for c in r.get("claims") or []
                if c.get("at") is not None]  # fmt: skip
    return out


async def export_ended(store: GraphStore, exporter: Exporter, *, now: int, settle_ms: int = 500,
                       limit: int = 2_000) -> int:  # fmt: skip
    """Scheduler job: spans (decisions and tasks) that ended since the cursor, exported once."""
    after = int((await store.read(CURSOR, name=NAME))[0]["seq"])
    until = now - settle_ms  # spans still being written in this instant wait for the next run
    dec_rows = await store.read(ENDED[0], after=after, until=until, limit=limit)
    task_rows = await store.read(ENDED[1], after=after, until=until, limit=limit)
    records = [r for r in (record(x) for x in _spans(dec_rows, task_rows)) if r is not None]
    exporter.export(records)
    # A page cut short at `limit`: resume just before its last end (ties are sent again).
    cut = [int(p[-1]["span"]["endedAt"]) - 1 for p in (dec_rows, task_rows) if len(p) >= limit]
    await store.write(ADVANCE, name=NAME, seq=min(cut) if cut else until, now=now)
    return len(records)
