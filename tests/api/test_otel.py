"""Traces across the API: a caller's traceparent makes the tasks it submits join its trace
(and is handed to the agent), the exported spans keep the graph's ids, parents and times,
and JSON log lines carry trace ids. (Exporter and parsing details: tests/unit.)"""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.core import trace_export
from app.observability import logs, otel
from tests.conftest import App
from tests.support.coord import COMPLETE, agent

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


async def test_traceparent_joins_the_callers_trace_and_exports_it(api: App) -> None:
    w = await agent(api, "traced", ["diagnose"], team=None)
    r = await api.http.post(
        f"{api.url}/graphql",
        headers={"Authorization": f"Bearer {api.admin.token}", "traceparent": TRACEPARENT},
        json={
            "query": 'mutation { submitTask(input: {kind: "k", capability: "diagnose"}) '
            "{ id traceparent } }"
        },
    )
    assert r.headers["traceresponse"].startswith(f"00-{CALLER_TRACE}-")
    task = r.json()["data"]["submitTask"]
    assert task["traceparent"].startswith(f"00-{CALLER_TRACE}-")  # the agent carries this on
    bad = await api.http.get(f"{api.url}/health", headers={"traceparent": "nonsense"})
    assert CALLER_TRACE not in bad.headers["traceresponse"]
    got = await w('mutation { claimTask(agentId: "traced") { id fence traceparent } }')
    assert got["claimTask"]["traceparent"] == task["traceparent"]
    await w(COMPLETE, t=task["id"], a="traced", f=got["claimTask"]["fence"], r={"ok": 1})

    memory = InMemorySpanExporter()
    exporter = otel.configure(memory, batch=False)
    n = await trace_export.export_ended(api.store, exporter, now=api.rt.now() + 10_000)
    spans = {s.name: s for s in memory.get_finished_spans()}
    assert n == len(spans) >= 3 and {"task diagnose", "claim", "complete"} <= set(spans)
    t = spans["task diagnose"]
    assert t.parent is not None and t.start_time is not None and t.end_time is not None
    assert format(t.context.trace_id, "032x") == CALLER_TRACE
    assert format(t.parent.span_id, "016x") == CALLER_SPAN  # a child of the caller's span
    assert format(t.context.span_id, "016x") == task["traceparent"].split("-")[2]
    claim = spans["claim"]
    assert claim.parent is not None and claim.attributes is not None
    assert claim.start_time is not None
    assert (
        claim.parent.span_id == t.context.span_id and claim.context.trace_id == t.context.trace_id
    )
    assert claim.attributes["gen_ai.agent.id"] == "traced"
    assert claim.attributes["baton.task.id"] == task["id"]
    assert t.start_time <= claim.start_time <= t.end_time
    again = await trace_export.export_ended(api.store, exporter, now=api.rt.now() + 10_000)
    assert again == 0  # once


async def test_json_event_log_lines_carry_the_trace_of_their_subject(
    api: App, caplog: pytest.LogCaptureFixture
) -> None:
    from app import scheduler

    api.rt.settings.log_format = "json"
    scheduler._event_log["cursor"] = -1
    try:
        assert await scheduler.log_events(api.rt) == 0  # starts from now
        await api.http.post(
            f"{api.url}/graphql",
            headers={"Authorization": f"Bearer {api.admin.token}", "traceparent": TRACEPARENT},
            json={"query": 'mutation { submitTask(input: {kind: "k", capability: "x"}) { id } }'},
        )
        with caplog.at_level(logging.INFO, logger="baton.events"):
            assert await scheduler.log_events(api.rt) == 1
        (rec,) = [r for r in caplog.records if r.name == "baton.events"]
        assert rec.getMessage() == "task.queued" and rec.trace_id == CALLER_TRACE  # type: ignore[attr-defined]
        line = json.loads(logs.JsonFormatter().format(rec))
        assert line["event"]["type"] == "task.queued" and line["trace_id"] == CALLER_TRACE
    finally:
        api.rt.settings.log_format = "text"
