"""W3C Trace Context (``traceparent``): parse, format, and the current request's context.

An API call that carries ``traceparent`` joins the caller's trace: the tasks it submits and
the runs it starts take that trace id, with the caller's span as their parent, so Baton's
decisions appear inside a company's existing traces (Jaeger, Tempo, Langfuse...).
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str
    sampled: bool = True
    from_caller: bool = False  # True when it came in on the request

    @property
    def traceparent(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.sampled)


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def parse(value: str | None) -> TraceContext | None:
    """A valid version-00 (or future-version) traceparent, else None (treated as absent)."""
    if not value:
        return None
    m = _TRACEPARENT.match(value.strip().lower())
    if not m:
        return None
    version, trace_id, span_id, flags = m.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1), from_caller=True)


def format_traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


CURRENT: ContextVar[TraceContext | None] = ContextVar("baton_trace", default=None)


def current() -> TraceContext | None:
    return CURRENT.get()


def caller() -> TraceContext | None:
    """The trace context the caller sent (not one Baton made up for the request)."""
    ctx = CURRENT.get()
    return ctx if ctx is not None and ctx.from_caller else None
