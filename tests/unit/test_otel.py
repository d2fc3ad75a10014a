"""OpenTelemetry export of Baton spans: exactly the graph's ids, parents and times, GenAI
agent attributes, off unless the standard OTEL_* variables ask, and a real OTLP/HTTP receiver
gets the protobuf."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from app.observability import otel
from app.observability.otel import SpanRecord

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
ROOT = "a1b2c3d4e5f60718"
CHILD = "0f1e2d3c4b5a6978"


def records() -> list[SpanRecord]:
    return [
        SpanRecord(
            TRACE,
            ROOT,
            None,
            "task triage",
            1_700_000_000_000,
            1_700_000_000_900,
            agent_id="agent-triage",
            principal_id="p-ops",
            run_id="run-1",
            task_id="task-1",
            attrs={"baton.kind": "task", "priority": 50},
        ),
        SpanRecord(
            TRACE,
            CHILD,
            ROOT,
            "route",
            1_700_000_000_100,
            1_700_000_000_100,
            task_id="task-1",
            attrs={"ratio": 0.5, "auto": True},
        ),
    ]


def exported(recs: list[SpanRecord]) -> dict[str, ReadableSpan]:
    memory = InMemorySpanExporter()
    exporter = otel.configure(memory, batch=False)
    otel.export_spans(recs, exporter)
    return {s.name: s for s in memory.get_finished_spans()}


def test_spans_keep_the_graphs_ids_parents_and_times() -> None:
    spans = exported(records())
    root, child = spans["task triage"], spans["route"]
    assert format(root.context.trace_id, "032x") == TRACE == format(child.context.trace_id, "032x")
    assert format(root.context.span_id, "016x") == ROOT
    assert format(child.context.span_id, "016x") == CHILD
    assert root.parent is None
    assert child.parent is not None and format(child.parent.span_id, "016x") == ROOT
    assert child.parent.trace_id == root.context.trace_id
    assert root.start_time == 1_700_000_000_000_000_000
    assert root.end_time == 1_700_000_000_900_000_000
    assert child.start_time == child.end_time == 1_700_000_000_100_000_000
    assert root.context.trace_flags.sampled and root.resource.attributes["service.name"] == "baton"


def test_attributes_follow_the_genai_agent_conventions() -> None:
    spans = exported(records())
    root = dict(spans["task triage"].attributes or {})
    assert root["gen_ai.operation.name"] == "invoke_agent"
    assert root["gen_ai.agent.id"] == root["gen_ai.agent.name"] == "agent-triage"
    assert (root["baton.run.id"], root["baton.task.id"], root["baton.principal.id"]) == (
        "run-1",
        "task-1",
        "p-ops",
    )
    assert root["baton.kind"] == "task" and root["priority"] == 50
    child = dict(spans["route"].attributes or {})
    assert "gen_ai.agent.id" not in child and "gen_ai.operation.name" not in child  # no agent
    assert child["ratio"] == 0.5 and child["auto"] is True and child["baton.task.id"] == "task-1"
    assert "baton.run.id" not in child


def test_record_fields_win_over_attrs_and_failures_are_errors() -> None:
    rec = SpanRecord(
        TRACE,
        ROOT,
        None,
        "complete",
        1,
        2,
        agent_id="a1",
        task_id="t1",
        attrs={
            "baton.task.id": "spoofed",
            "gen_ai.agent.name": "Triage bot",
            "baton.status": "failed",
        },
    )
    span = exported([rec])["complete"]
    attrs = dict(span.attributes or {})
    assert attrs["baton.task.id"] == "t1" and attrs["gen_ai.agent.name"] == "Triage bot"
    assert span.status.status_code is StatusCode.ERROR
    assert exported(records())["route"].status.status_code is StatusCode.UNSET


def test_readable_graph_ids_hash_consistently_so_parents_still_link() -> None:
    recs = [
        SpanRecord(TRACE, "task_x/1/claim", None, "claim", 10, 20),
        SpanRecord(TRACE, "task_x/1/complete", "task_x/1/claim", "complete", 20, 30),
    ]
    spans = exported(recs)
    claim, complete = spans["claim"], spans["complete"]
    assert complete.parent is not None and complete.parent.span_id == claim.context.span_id
    assert (claim.attributes or {})["baton.span.id"] == "task_x/1/claim"
    assert otel.span_id_of("task_x/1/claim") == otel.span_id_of("task_x/1/claim") != 0
    # an end before the start is clamped rather than producing a negative duration
    odd = exported([SpanRecord(TRACE, ROOT, None, "odd", 50, 40)])["odd"]
    assert odd.end_time == odd.start_time


def test_export_spans_uses_the_installed_exporter_and_is_a_no_op_when_off() -> None:
    memory = InMemorySpanExporter()
    previous = otel.install(None)
    try:
        otel.export_spans(records())  # off: nothing happens, nothing raises
        handle = otel.configure(memory, batch=False)
        assert otel.install(handle) is None and otel.active() is handle
        otel.export_spans(records())
        assert {s.name for s in memory.get_finished_spans()} == {"task triage", "route"}
    finally:
        otel.install(previous)


def test_export_is_off_by_default_and_follows_the_standard_variables() -> None:
    off = [
        {},
        {"OTEL_TRACES_EXPORTER": "none"},
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        {"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SDK_DISABLED": "TRUE"},
        {"OTEL_TRACES_EXPORTER": "zipkin"},  # unsupported: warned about, not half-on
        {"OTEL_SERVICE_NAME": "x", "OTEL_SDK_DISABLED": "false"},
    ]
    for env in off:
        assert otel.configure_from_env(env) is None, env
    console = otel.configure_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert console is not None and console.resource.attributes["service.name"] == "baton"
    console.shutdown()
    for env in (
        {"OTEL_TRACES_EXPORTER": "otlp"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces"},
        {"OTEL_TRACES_EXPORTER": "otlp,console", "OTEL_SDK_DISABLED": "false"},
    ):
        on = otel.configure_from_env({**env, "OTEL_SERVICE_NAME": "baton-test"})
        assert on is not None and on.resource.attributes["service.name"] == "baton-test", env
        on.shutdown()


@dataclass
class Receiver:
    """An OTLP/HTTP collector stand-in: decoded requests by path, and their headers."""

    url: str
    requests: list[tuple[str, ExportTraceServiceRequest]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def spans(self) -> list[tuple[str, PbSpan]]:
        return [
            (path, s)
            for path, req in self.requests
            for rs in req.resource_spans
            for ss in rs.scope_spans
            for s in ss.spans
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            req = ExportTraceServiceRequest()
            req.ParseFromString(body)
            got.requests.append((self.path, req))
            got.headers.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield got
    server.shutdown()
    server.server_close()


def test_spans_reach_a_real_otlp_http_receiver(receiver: Receiver) -> None:
    exporter = otel.configure_from_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,  # base URL: /v1/traces is appended
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme,authorization=Bearer%20k1",
            "OTEL_SERVICE_NAME": "baton-e2e",
        }
    )
    assert exporter is not None
    try:
        otel.export_spans(records(), exporter)  # batched: sent by the processor's thread
        assert exporter.flush()
    finally:
        exporter.shutdown()
    got = receiver.spans()
    assert {path for path, _ in got} == {"/v1/traces"}
    by_name = {s.name: s for _, s in got}
    assert set(by_name) == {"task triage", "route"}
    root, child = by_name["task triage"], by_name["route"]
    assert root.trace_id.hex() == child.trace_id.hex() == TRACE
    assert root.span_id.hex() == ROOT and child.span_id.hex() == CHILD
    assert child.parent_span_id.hex() == ROOT and root.parent_span_id == b""
    assert root.start_time_unix_nano == 1_700_000_000_000_000_000
    assert root.end_time_unix_nano == 1_700_000_000_900_000_000
    attrs = {a.key: a.value for a in root.attributes}
    assert attrs["gen_ai.agent.id"].string_value == "agent-triage"
    assert attrs["gen_ai.operation.name"].string_value == "invoke_agent"
    assert attrs["baton.run.id"].string_value == "run-1"
    assert attrs["priority"].int_value == 50
    resource = {
        a.key: a.value.string_value
        for a in receiver.requests[0][1].resource_spans[0].resource.attributes
    }
    assert resource["service.name"] == "baton-e2e"
    assert receiver.headers[0]["x-tenant"] == "acme"
    assert receiver.headers[0]["authorization"] == "Bearer k1"


def test_a_traces_endpoint_is_used_as_given(receiver: Receiver) -> None:
    exporter = otel.configure_from_env(
        {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{receiver.url}/custom/path",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
        }  # the specific one wins
    )
    assert exporter is not None
    otel.export_spans(records()[:1], exporter)
    assert exporter.flush()
    exporter.shutdown()
    assert [path for path, _ in receiver.spans()] == ["/custom/path"]
