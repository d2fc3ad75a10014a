"""OpenTelemetry export of Decision traces (off by default): the SDK set-up.

Turned on by the standard variables, which the wiring (``app/runtime.py``) passes in as a
mapping: ``OTEL_TRACES_EXPORTER=otlp|console``, or an
``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT``; ``OTEL_SDK_DISABLED=true`` wins. A scheduler job
(``app/core/trace_export.py``) reads spans that ended since its cursor and hands them here as
span records, which go to the SDK's batch processor with *their own* ids and times, so the
graph and the tracing backend tell the same story; a caller's ``traceparent`` makes them
children of the caller's span. Attributes follow the GenAI agent conventions where they fit.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, SynchronousMultiSpanProcessor
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

log = logging.getLogger("baton.otel")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
SCOPE = InstrumentationScope("baton", "1")


@dataclass
class SpanRecord:
    """One finished span as the graph holds it (a Decision node, or a Task acting as a span).

    Ids are W3C hex (trace 32, span 16 digits) and are exported unchanged; times are epoch ms.
    """

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
    """Graph span ids are 16 hex digits (used as they are) or readable (``task_x/2/route``,
    hashed to a stable 64-bit id, so a child's ``parent_span_id`` still finds its parent)."""
    if _HEX16.match(value) and value != "0" * 16:
        return int(value, 16)
    return int(hashlib.sha256(value.encode()).hexdigest()[:16], 16) or 1


def trace_id_of(value: str) -> int:
    """32 hex digits as they are; anything else hashed to a stable 128-bit id."""
    if _HEX32.match(value) and value != "0" * 32:
        return int(value, 16)
    return int(hashlib.sha256(value.encode()).hexdigest()[:32], 16) or 1


_ERROR_STATUSES = {"failed", "dead", "error", "rejected"}


def attributes(rec: SpanRecord) -> dict[str, str | int | float | bool]:
    """GenAI agent conventions where they fit, the record's own attrs, then Baton's ids.

    Work done by an agent is ``gen_ai.operation.name=invoke_agent`` with
    ``gen_ai.agent.id``/``gen_ai.agent.name`` (an explicit ``gen_ai.*`` attr wins); the
    ``baton.*`` ids always come from the record's fields so they cannot be spoofed by attrs.
    """
    out: dict[str, str | int | float | bool] = {"baton.span.id": rec.span_id}
    if rec.agent_id:
        out |= {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.id": rec.agent_id,
            "gen_ai.agent.name": rec.agent_id,
        }
    out |= {k: v for k, v in rec.attrs.items() if isinstance(v, str | int | float | bool)}
    for key, value in (
        ("baton.run.id", rec.run_id),
        ("baton.task.id", rec.task_id),
        ("baton.principal.id", rec.principal_id),
    ):
        if value:
            out[key] = value
    return out


def to_otel(rec: SpanRecord, resource: Resource) -> ReadableSpan:
    """A finished SDK span with exactly the record's ids and times (ms -> ns)."""
    trace_id = trace_id_of(rec.trace_id)
    flags = TraceFlags(TraceFlags.SAMPLED)
    ctx = SpanContext(trace_id, span_id_of(rec.span_id), is_remote=False, trace_flags=flags)
    parent = (
        SpanContext(trace_id, span_id_of(rec.parent_span_id), is_remote=False, trace_flags=flags)
        if rec.parent_span_id
        else None
    )
    attrs = attributes(rec)
    failed = str(attrs.get("baton.status", "")) in _ERROR_STATUSES
    return ReadableSpan(
        name=rec.name,
        context=ctx,
        parent=parent,
        resource=resource,
        attributes=attrs,
        kind=SpanKind.INTERNAL,
        start_time=rec.start_ms * 1_000_000,
        end_time=max(rec.end_ms, rec.start_ms) * 1_000_000,
        instrumentation_scope=SCOPE,
        status=Status(StatusCode.ERROR) if failed else Status(StatusCode.UNSET),
    )


class SpanSink(Protocol):
    """Where finished spans go: the narrow interface core exports through."""

    def export(self, spans: list[SpanRecord]) -> None: ...


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


def configure(
    exporter: SpanExporter | list[SpanExporter], *, batch: bool = True, service: str = "baton"
) -> Exporter:
    """An exporter around SDK SpanExporter(s) (tests pass the in-memory one, ``batch=False``
    exports synchronously)."""
    procs: list[SpanProcessor] = [
        BatchSpanProcessor(e) if batch else SimpleSpanProcessor(e)
        for e in (exporter if isinstance(exporter, list) else [exporter])
    ]
    proc: SpanProcessor = procs[0]
    if len(procs) > 1:
        multi = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        for p in procs:
            multi.add_span_processor(p)
        proc = multi
    return Exporter(proc, Resource.create({"service.name": service}))


def _headers(raw: str | None) -> dict[str, str] | None:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``k1=v1,k2=v2`` with URL-encoded values."""
    if not raw:
        return None
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {unquote(k).strip(): unquote(v).strip() for k, v in pairs}


def _otlp(env: Mapping[str, str]) -> SpanExporter:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol == "grpc":
        log.warning("OTLP over gRPC is not bundled; exporting with http/protobuf")
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")  # used as given (spec)
    if not endpoint:
        base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
        endpoint = base.rstrip("/") + "/v1/traces"  # the signal path is appended (spec)
    headers = _headers(
        env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or env.get("OTEL_EXPORTER_OTLP_HEADERS")
    )
    timeout = env.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or env.get("OTEL_EXPORTER_OTLP_TIMEOUT")
    return OTLPSpanExporter(
        endpoint=endpoint, headers=headers, timeout=int(timeout) / 1000 if timeout else None
    )


def configure_from_env(env: Mapping[str, str]) -> Exporter | None:
    """What the standard OTEL_* variables ask for; None means export is off (the default).

    On when ``OTEL_TRACES_EXPORTER`` names ``otlp`` and/or ``console`` (comma-separated), or
    when an OTLP endpoint is set and ``OTEL_TRACES_EXPORTER`` is unset; ``none`` or
    ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set. Everything is read from
    ``env`` (the wiring passes the process environment); batched with the SDK's
    BatchSpanProcessor.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",")]
    names = [n for n in names if n]
    if not names:
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        names = ["otlp"] if endpoint else []
    if "none" in names:
        return None
    exporters: list[SpanExporter] = []
    for name in dict.fromkeys(names):
        if name == "otlp":
            exporters.append(_otlp(env))
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        else:
            log.warning("OTEL_TRACES_EXPORTER=%s is not supported (otlp, console); ignored", name)
    if not exporters:
        return None
    return configure(exporters, service=env.get("OTEL_SERVICE_NAME") or "baton")


_ACTIVE: Exporter | None = None


def install(exporter: Exporter | None) -> Exporter | None:
    """Make ``exporter`` the one :func:`export_spans` uses (None: off); returns the previous."""
    global _ACTIVE
    previous, _ACTIVE = _ACTIVE, exporter
    return previous


def active() -> Exporter | None:
    """The installed exporter, if export is on."""
    return _ACTIVE


def export_spans(spans: list[SpanRecord], exporter: Exporter | None = None) -> None:
    """Hand finished spans to OpenTelemetry (a no-op while export is off).

    Non-blocking: the batch processor queues them and a background thread sends them.
    """
    target = exporter if exporter is not None else _ACTIVE
    if target is not None and spans:
        target.export(spans)
