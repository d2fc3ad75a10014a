"""W3C traceparent parsing/formatting and the current-context variable (pure Python)."""

from __future__ import annotations

import asyncio
import re

import pytest

from app.observability import tracecontext as tc

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
HEADER = f"00-{TRACE}-{SPAN}-01"


def test_parses_a_valid_version_00_header() -> None:
    ctx = tc.parse(HEADER)
    assert ctx == tc.TraceContext(TRACE, SPAN, sampled=True, from_caller=True)
    assert tc.parse(f"00-{TRACE}-{SPAN}-00") == tc.TraceContext(TRACE, SPAN, False, True)
    assert tc.parse(HEADER.encode()) == ctx  # raw ASGI header bytes
    assert tc.parse(f" {HEADER}\t") == ctx  # optional surrounding whitespace


def test_a_future_version_is_read_by_its_first_fields() -> None:
    ctx = tc.parse(f"cc-{TRACE}-{SPAN}-01-extra-stuff")
    assert ctx is not None and (ctx.trace_id, ctx.span_id) == (TRACE, SPAN)
    assert tc.parse(f"cc-{TRACE}-{SPAN}-01") is not None


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "garbage",
        f"00-{'0' * 32}-{SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
        f"ff-{TRACE}-{SPAN}-01",  # forbidden version
        f"00-{TRACE[:-1]}-{SPAN}-01",  # short trace id
        f"00-{TRACE}0-{SPAN}-01",  # long trace id
        f"00-{TRACE}-{SPAN[:-1]}-01",  # short span id
        f"00-{TRACE.upper()}-{SPAN}-01",  # upper-case hex is not in the grammar
        f"00-{TRACE}-{SPAN}-1",  # one-digit flags
        f"00-{TRACE}-{SPAN}-01-extra",  # version 00 has exactly four fields
        f"0-{TRACE}-{SPAN}-01",
        f"00_{TRACE}_{SPAN}_01",
        f"00-{TRACE[:-1]}g-{SPAN}-01",
    ],
)
def test_malformed_headers_are_treated_as_absent(bad: str | None) -> None:
    assert tc.parse(bad) is None


def test_format_round_trips() -> None:
    assert tc.format_traceparent(TRACE, SPAN) == HEADER
    assert tc.format_traceparent(TRACE, SPAN, sampled=False) == f"00-{TRACE}-{SPAN}-00"
    ctx = tc.parse(HEADER)
    assert ctx is not None and ctx.traceparent == HEADER


def test_new_ids_are_random_lower_hex_of_the_right_size() -> None:
    traces = {tc.new_trace_id() for _ in range(200)}
    spans = {tc.new_span_id() for _ in range(200)}
    assert len(traces) == len(spans) == 200
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in traces)
    assert all(re.fullmatch(r"[0-9a-f]{16}", s) for s in spans)
    fresh = tc.fresh()
    assert tc.parse(fresh.traceparent) is not None and not fresh.from_caller


def test_current_context_set_reset_and_use() -> None:
    assert tc.current() is None and tc.current_ids() is None and tc.caller() is None
    made_up = tc.TraceContext(TRACE, SPAN)
    token = tc.set_current(made_up)
    try:
        assert tc.current() is made_up and tc.current_ids() == (TRACE, SPAN)
        assert tc.caller() is None  # Baton's own context is not the caller's
    finally:
        tc.reset(token)
    assert tc.current() is None
    sent = tc.parse(HEADER)
    with tc.use(sent):
        assert tc.caller() is sent
        with tc.use(None):
            assert tc.current() is None
        assert tc.current() is sent
    assert tc.current() is None


async def test_each_task_sees_its_own_context() -> None:
    async def run(ctx: tc.TraceContext) -> tuple[str, str] | None:
        with tc.use(ctx):
            await asyncio.sleep(0.01)
            return tc.current_ids()

    a, b = tc.fresh(), tc.fresh()
    got = await asyncio.gather(run(a), run(b))
    assert list(got) == [(a.trace_id, a.span_id), (b.trace_id, b.span_id)]
    assert tc.current() is None


def test_a_request_joins_the_callers_trace_or_starts_one() -> None:
    ctx, response = tc.for_request(HEADER.encode())
    assert ctx == tc.parse(HEADER)
    answered = tc.parse(response)
    assert answered is not None and answered.trace_id == TRACE and answered.span_id != SPAN
    ctx, response = tc.for_request(b"garbage")
    answered = tc.parse(response)
    assert not ctx.from_caller and answered is not None
    assert (answered.trace_id, answered.span_id) == (ctx.trace_id, ctx.span_id)
