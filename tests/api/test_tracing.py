"""W3C trace context over real HTTP and WebSocket: a valid ``traceparent`` is joined (the
``traceresponse`` carries its trace id and a new span id), an invalid or missing one gets a
fresh trace, and each HTTP request writes one JSON access line with the trace id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import websockets

from app.observability import logs
from app.observability import tracecontext as tc
from tests.conftest import App

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def answer(headers: object) -> tc.TraceContext:
    value = headers["traceresponse"]  # type: ignore[index]
    ctx = tc.parse(value)
    assert ctx is not None, value
    return ctx


async def test_a_valid_traceparent_is_joined(api: App) -> None:
    r = await api.http.get(f"{api.url}/health", headers={"traceparent": f"00-{TRACE}-{SPAN}-01"})
    assert r.status_code == 200
    got = answer(r.headers)
    assert got.trace_id == TRACE and got.span_id != SPAN and got.sampled
    r = await api.http.get(f"{api.url}/health", headers={"traceparent": f"00-{TRACE}-{SPAN}-00"})
    assert not answer(r.headers).sampled  # the caller's sampling decision is kept


@pytest.mark.parametrize(
    "sent", [None, "nonsense", f"00-{'0' * 32}-{SPAN}-01", f"00-{TRACE.upper()}-{SPAN}-01"]
)
async def test_an_invalid_or_missing_traceparent_gets_a_fresh_trace(
    api: App, sent: str | None
) -> None:
    headers = {"traceparent": sent} if sent is not None else {}
    first = answer((await api.http.get(f"{api.url}/health", headers=headers)).headers)
    second = answer((await api.http.get(f"{api.url}/health", headers=headers)).headers)
    assert TRACE not in (first.trace_id, second.trace_id)
    assert first.trace_id != second.trace_id  # one trace per request


async def test_graphql_errors_and_unknown_paths_still_answer(api: App) -> None:
    r = await api.http.get(f"{api.url}/nowhere", headers={"traceparent": f"00-{TRACE}-{SPAN}-01"})
    assert r.status_code == 404 and answer(r.headers).trace_id == TRACE
    r = await api.http.post(
        f"{api.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"traceparent": f"00-{TRACE}-{SPAN}-01"},
    )
    assert answer(r.headers).trace_id == TRACE


async def test_the_websocket_handshake_answers_with_the_trace(api: App) -> None:
    url = api.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(
        url,
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        additional_headers={"traceparent": f"00-{TRACE}-{SPAN}-01"},
    ) as ws:
        assert ws.response is not None
        got = answer(ws.response.headers)
        assert got.trace_id == TRACE and got.span_id != SPAN


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.TraceIdFilter())
    logger = logging.getLogger("baton.http")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


async def test_one_json_access_line_per_request(api: App, access_log: io.StringIO) -> None:
    r = await api.http.get(
        f"{api.url}/health?probe=1", headers={"traceparent": f"00-{TRACE}-{SPAN}-01"}
    )
    await api.http.get(f"{api.url}/nowhere")
    lines = [json.loads(x) for x in access_log.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["logger"] == "baton.http" and first["method"] == "GET"
    assert first["path"] == "/health" and first["status"] == 200  # no query string (tokens)
    assert isinstance(first["ms"], float) and first["ms"] >= 0
    assert first["trace_id"] == TRACE == answer(r.headers).trace_id
    assert second["status"] == 404 and second["trace_id"] != TRACE
