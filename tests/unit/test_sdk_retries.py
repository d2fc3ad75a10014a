"""The SDK's retry policy against a real HTTP server that answers like a busy Baton: reads the
server timed out are resent (a cold Neo4j plans each statement on first use, seconds each),
mutations are not (the server may have applied one before its deadline passed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from baton_sdk import errors
from baton_sdk._transport import Transport, is_read


class Busy:
    """A loopback server: the first ``failures`` requests get a coded TIMEOUT error."""

    def __init__(self, failures: int, answer: dict[str, object] | None = None) -> None:
        self.failures = failures
        self.answer = answer or {"eventHead": "7"}
        self.bodies: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.bodies.append(body)
                out: dict[str, object]
                if len(outer.bodies) <= outer.failures:
                    out = {
                        "errors": [
                            {
                                "message": "the graph did not answer in time",
                                "extensions": {"code": "TIMEOUT"},
                            }
                        ]
                    }
                else:
                    out = {"data": outer.answer}
                raw = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Busy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def busy() -> Iterator[Busy]:
    with Busy(failures=2) as server:
        yield server


async def test_a_timed_out_read_is_resent_until_it_answers(busy: Busy) -> None:
    t = Transport(busy.url, "bt_token", retries=5)
    try:
        assert await t.execute("{ eventHead }") == {"eventHead": "7"}
    finally:
        await t.close()
    assert len(busy.bodies) == 3


async def test_a_timed_out_mutation_is_not_resent(busy: Busy) -> None:
    t = Transport(busy.url, "bt_token", retries=5)
    try:
        with pytest.raises(errors.Timeout):
            await t.execute('mutation { emitEvent(type: "a.b") { seq } }')
    finally:
        await t.close()
    assert len(busy.bodies) == 1


async def test_a_read_that_keeps_timing_out_fails_with_the_code() -> None:
    with Busy(failures=100) as server:
        t = Transport(server.url, "bt_token", retries=2)
        try:
            with pytest.raises(errors.Timeout):
                await t.execute("query { eventHead }")
        finally:
            await t.close()
        assert len(server.bodies) == 3


def test_what_counts_as_a_read() -> None:
    assert is_read("{ eventHead }") and is_read("  query Q($a: ID!) { task(id: $a) { id } }")
    assert not is_read("mutation { x }") and not is_read("subscription { graphChanges { seq } }")


def test_a_server_timeout_is_a_transient_failure_of_the_task() -> None:
    """A handler whose fenced mutation timed out on the server failed because the control
    plane was busy, not because the work is wrong: the task gets another attempt."""
    from baton_sdk import Agent

    agent = Agent("http://127.0.0.1:9", "bt_token", name="a1")
    assert agent._transient(errors.Timeout("the graph did not answer in time"))
    assert agent._transient(errors.Unavailable("no graph"))
    assert not agent._transient(errors.BadInput("bad payload"))
    assert not agent._transient(ValueError("the handler's own bug"))


async def test_results_the_server_timed_out_on_are_kept_and_resent() -> None:
    """A completion batch answered TIMEOUT is kept for the next flush (it used to be dropped:
    the task then sat out its lease and ran a second time)."""
    from baton_sdk import Agent

    with Busy(failures=1, answer={"completeTasks": ["t1"]}) as server:
        agent = Agent(server.url, "bt_token", name="a1")
        item = {"taskId": "t1", "fence": 1, "result": {"ok": True}, "costUsd": 0.0}
        agent.done.append(item)
        agent._stop.set()  # stopping: no pause before the resend
        try:
            await agent._flush()
            assert agent.done == [item]  # kept: the server timed out
            await agent._flush()  # answered this time
            assert agent.done == [] and agent.completed == 1
        finally:
            await agent.api.close()
        assert [json.loads(b)["variables"]["items"] for b in server.bodies] == [[item], [item]]
