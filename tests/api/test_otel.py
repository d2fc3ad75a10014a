"""OpenTelemetry and W3C trace context: traceparent joins a caller's trace (and is handed to
the agent), spans are exported with the graph's own ids and times (in-memory exporter and a
real OTLP/HTTP receiver), export is off unless OTEL_* asks, and JSON logs carry trace ids."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import logs
from app.core import otel, tracecontext
from tests.conftest import App
from tests.support.coord import COMPLETE, agent

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"


def test_traceparent_parsing() -> None:
    ctx = tracecontext.parse(TRACEPARENT)
    assert ctx is not None and (ctx.trace_id, ctx.span_id, ctx.sampled) == (
        CALLER_TRACE,
        CALLER_SPAN,
        True,
    )
    for bad in (
        "",
        "garbage",
        f"00-{'0' * 32}-{CALLER_SPAN}-01",
        f"00-{CALLER_TRACE}-{'0' * 16}-01",
        f"ff-{CALLER_TRACE}-{CALLER_SPAN}-01",
        f"00-{CALLER_TRACE[:-1]}-{CALLER_SPAN}-01",
    ):
        assert tracecontext.parse(bad) is None, bad
    assert ctx.traceparent == TRACEPARENT


def test_export_is_off_by_default_and_follows_the_standard_variables() -> None:
    assert otel.configure_from_env({}) is None
    assert otel.configure_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert otel.configure_from_env({"OTEL_TRACES_EXPORTER": "console",
                                    "OTEL_SDK_DISABLED": "true"}) is None  # fmt: skip
    assert otel.configure_from_env({"OTEL_TRACES_EXPORTER": "console"}) is not None
    got = otel.configure_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
                                   "OTEL_SERVICE_NAME": "baton-test"})  # fmt: skip
    assert got is not None and got.resource.attributes["service.name"] == "baton-test"
    got.shutdown()


def test_json_logs_carry_the_trace_ids(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json")
    token = tracecontext.CURRENT.set(tracecontext.TraceContext(CALLER_TRACE, CALLER_SPAN))
    try:
        logging.getLogger("baton.test").info("hello", extra={"taskId": "t1"})
    finally:
        tracecontext.CURRENT.reset(token)
        logs.configure("text")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["msg"] == "hello" and line["trace_id"] == CALLER_TRACE and line["taskId"] == "t1"


async def test_traceparent_joins_the_callers_trace_and_exports_it(api: App) -> None:
    w = await agent(api, "traced", ["diagnose"], team=None)
    r = await api.http.post(
        f"{api.url}/graphql", headers={"Authorization": f"Bearer {api.admin.token}",
                                       "traceparent": TRACEPARENT},
        json={"query": 'mutation { submitTask(input: {kind: "k", capability: "diagnose"}) '
                       "{ id traceparent } }"},
    )  # fmt: skip
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
    n = await otel.export_ended(api.store, exporter, now=api.rt.now() + 10_000)
    spans = {s.name: s for s in memory.get_finished_spans()}
    assert n == len(spans) >= 3 and {"task diagnose", "claim", "complete"} <= set(spans)
    t = spans["task diagnose"]
    assert format(t.context.trace_id, "032x") == CALLER_TRACE
    assert format(t.parent.span_id, "016x") == CALLER_SPAN  # a child of the caller's span
    assert format(t.context.span_id, "016x") == task["traceparent"].split("-")[2]
    claim = spans["claim"]
    assert (
        claim.parent.span_id == t.context.span_id and claim.context.trace_id == t.context.trace_id
    )
    assert claim.attributes["gen_ai.agent.id"] == "traced"
    assert claim.attributes["baton.task.id"] == task["id"]
    assert t.start_time <= claim.start_time <= t.end_time
    assert await otel.export_ended(api.store, exporter, now=api.rt.now() + 10_000) == 0  # once


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    got: list[ExportTraceServiceRequest] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            req = ExportTraceServiceRequest()
            req.ParseFromString(body)
            got.append(req)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", got
    server.shutdown()


def test_spans_reach_a_real_otlp_receiver(
    otlp_receiver: tuple[str, list[ExportTraceServiceRequest]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, got = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{url}/v1/traces")
    exporter = otel.configure_from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{url}/v1/traces"})
    assert exporter is not None
    exporter.export([
        otel.SpanRecord(CALLER_TRACE, "a1b2c3d4e5f60718", None, "task triage", 1_000, 1_500,
                        agent_id="agent-triage", run_id="run-1"),
        otel.SpanRecord(CALLER_TRACE, "task-1/1/route", "a1b2c3d4e5f60718", "route", 1_100, 1_100),
    ])  # fmt: skip
    assert exporter.flush()
    exporter.shutdown()
    spans = [s for req in got for rs in req.resource_spans for ss in rs.scope_spans
             for s in ss.spans]  # fmt: skip
    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"task triage", "route"}
    assert by_name["task triage"].trace_id.hex() == CALLER_TRACE
    assert by_name["route"].parent_span_id.hex() == "a1b2c3d4e5f60718"
    assert by_name["task triage"].start_time_unix_nano == 1_000 * 1_000_000
    attrs = {a.key: a.value.string_value for a in by_name["task triage"].attributes}
    assert attrs["gen_ai.agent.id"] == "agent-triage" and attrs["baton.run.id"] == "run-1"


async def test_json_event_log_lines_carry_the_trace_of_their_subject(
    api: App, caplog: pytest.LogCaptureFixture
) -> None:
    from app import scheduler

    api.rt.settings.log_format = "json"
    scheduler._event_log["cursor"] = -1
    try:
        assert await scheduler.log_events(api.rt) == 0  # starts from now
        await api.http.post(
            f"{api.url}/graphql", headers={"Authorization": f"Bearer {api.admin.token}",
                                           "traceparent": TRACEPARENT},
            json={"query": 'mutation { submitTask(input: {kind: "k", capability: "x"}) { id } }'},
        )  # fmt: skip
        with caplog.at_level(logging.INFO, logger="baton.events"):
            assert await scheduler.log_events(api.rt) == 1
        (rec,) = [r for r in caplog.records if r.name == "baton.events"]
        assert rec.getMessage() == "task.queued" and rec.trace_id == CALLER_TRACE  # type: ignore[attr-defined]
        line = json.loads(logs.JsonFormatter().format(rec))
        assert line["event"]["type"] == "task.queued" and line["trace_id"] == CALLER_TRACE
    finally:
        api.rt.settings.log_format = "text"
