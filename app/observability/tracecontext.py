"""W3C Trace Context (``traceparent``): parse (OpenTelemetry's propagator), format, and the
current request's context.

An API call that carries ``traceparent`` joins the caller's trace: the tasks it submits and
the runs it starts take that trace id, with the caller's span as their parent, so Baton's
decisions appear inside a company's existing traces (Jaeger, Tempo, Langfuse...).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

from opentelemetry.trace import format_span_id, format_trace_id, get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True)
class TraceContext:
    """One position in a trace: the trace id and the span new work hangs under."""

    trace_id: str
    span_id: str
    sampled: bool = True
    from_caller: bool = False  # True when it came in on the request

    @property
    def traceparent(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.sampled)


def new_trace_id() -> str:
    """32 random lower-case hex digits (never all zeros, which the spec forbids)."""
    while (value := secrets.token_hex(16)) == _ZERO_TRACE:  # pragma: no cover - 2**-128
        pass
    return value


def new_span_id() -> str:
    """16 random lower-case hex digits (never all zeros)."""
    while (value := secrets.token_hex(8)) == _ZERO_SPAN:  # pragma: no cover - 2**-64
        pass
    return value


def parse(value: str | bytes | None) -> TraceContext | None:
    """A valid ``traceparent``, else None: a malformed header is treated as absent.

    Read by OpenTelemetry's W3C propagator: version 00 must be exactly
    ``00-<32 hex>-<16 hex>-<2 hex>``; a higher version is read by its first four fields
    (forward compatible, as the spec asks); ``ff`` and all-zero ids are invalid.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value:
        return None
    span = get_current_span(_PROPAGATOR.extract({"traceparent": value})).get_span_context()
    if not span.is_valid:
        return None
    trace_id, span_id = format_trace_id(span.trace_id), format_span_id(span.span_id)
    return TraceContext(trace_id, span_id, span.trace_flags.sampled, from_caller=True)


def format_traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    """The version-00 header value (also the shape of ``traceresponse``)."""
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def fresh() -> TraceContext:
    """A new root context, for work that arrived without a (valid) traceparent."""
    return TraceContext(new_trace_id(), new_span_id())


def for_request(traceparent: str | bytes | None) -> tuple[TraceContext, str]:
    """The context a request runs in (the caller's trace if ``traceparent`` is valid, else a
    fresh one) and the ``traceresponse`` to answer with, which names this server's own span
    in that trace."""
    server_span = new_span_id()
    ctx = parse(traceparent) or TraceContext(new_trace_id(), server_span)
    return ctx, format_traceparent(ctx.trace_id, server_span, ctx.sampled)


CURRENT: ContextVar[TraceContext | None] = ContextVar("baton_trace", default=None)


def current() -> TraceContext | None:
    """The context of the request (or job) this code runs for, if any."""
    return CURRENT.get()


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` of the current context, for logs and span records."""
    ctx = CURRENT.get()
    return (ctx.trace_id, ctx.span_id) if ctx is not None else None


def caller() -> TraceContext | None:
    """The trace context the caller sent (not one Baton made up for the request)."""
    ctx = CURRENT.get()
    return ctx if ctx is not None and ctx.from_caller else None


def set_current(ctx: TraceContext | None) -> Token[TraceContext | None]:
    """Make ``ctx`` current; pass the token to :func:`reset` to restore the previous one."""
    return CURRENT.set(ctx)


def reset(token: Token[TraceContext | None]) -> None:
    CURRENT.reset(token)


@contextmanager
def use(ctx: TraceContext | None) -> Iterator[TraceContext | None]:
    """``with use(ctx):`` runs a block (a job, a test) inside a trace context."""
    token = CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        CURRENT.reset(token)
