"""Hostile and careless clients against the served app (issue 18, findings 1, 5 and 6).

Each attack runs against the real app (uvicorn, real FalkorDB, real HTTP and WebSockets) and
asserts: a coded error (never INTERNAL, never an HTTP 500), the graph unchanged where the
request was refused, and, while the attack runs, ``/health`` answering quickly and the
scheduler still routing work. The latency bounds here are generous on purpose (a shared
2-core machine); exact figures belong in a benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from app.core import seed
from app.graph import GraphTimeout, StatementLimits
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.graph.queries import Queries
from tests.conftest import ADMIN_TOKEN, App, free_port, fresh_name, start_app, stop_app
from tests.support.coord import SUBMIT, agent
from tests.support.digest import graph_digest
from tests.support.gql import GQL, Endpoint
from tests.support.graphs import GraphTarget
from tests.support.procs import Served

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
# The target is /health p99 < 100 ms under attack (a benchmark measures it). Tests share an
# over-subscribed 2-core machine with other suites (load averages of 10 were seen), so the
# bound here is 1.5 s on top of twice the p99 measured just before the attack: what the
# unbounded code did (5 s and more, every job failing) still fails it.
HEALTH_BOUND_S = 1.5
ASSERT = """mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }"""
LINEAGE = """query($id: ID!, $d: Direction!) { lineage(id: $id, direction: $d, depth: 5) {
  nodes { id } edges { from to type } truncated } }"""
TASK = "query($id: ID!) { task(id: $id) { id status agentId } }"
WHY = "query($id: ID!) { whyDid(id: $id) { root edges truncated } }"
EMIT = "mutation($t: String!, $p: JSON) { emitEvent(type: $t, payload: $p) { seq } }"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WS_PROTO = [websockets.Subprotocol("graphql-transport-ws")]


# ---------------------------------------------------------------- shared measuring tools


class Watch:
    """Polls ``/health`` from its own thread and client while an attack runs: the app's event
    loop is what is measured, not the test's."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                try:
                    r = client.get(f"{self.url}/health")
                    if r.status_code != 200:
                        self.failures.append(f"HTTP {r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                self.latencies.append(time.perf_counter() - start)
                self._stop.wait(0.02)

    async def __aenter__(self) -> Watch:
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        deadline = time.monotonic() + 5
        while len(self.latencies) < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # the app runs on this loop: never block it here
        self._stop.set()
        await asyncio.to_thread(self._thread.join, 15)

    def p99(self) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else float("inf")

    @classmethod
    async def baseline(cls, url: str, seconds: float = 1.5) -> float:
        """p99 of /health on this machine right now, with no attack running."""
        async with cls(url) as quiet:
            await asyncio.sleep(seconds)
        return quiet.p99()

    def check(self, baseline: float = 0.0) -> None:
        assert len(self.latencies) >= 5, "health was hardly measured"
        assert not self.failures, self.failures[:3]
        bound = HEALTH_BOUND_S + 2 * baseline
        assert self.p99() < bound, (
            f"/health p99 {self.p99() * 1000:.0f} ms during the attack, bound "
            f"{bound * 1000:.0f} ms "
            f"(n={len(self.latencies)}: {[round(x * 1000) for x in self.latencies]} ms)"
        )


async def routed_while(app: Endpoint, worker: GQL, attack: Awaitable[Any], timeout: float) -> Any:
    """Run ``attack`` and, while it runs, submit a task and wait for the scheduler's routing
    job to assign it: jobs keep running during the attack."""
    running = asyncio.ensure_future(attack)
    try:
        await asyncio.sleep(0.2)  # the attack is under way
        t = (await app.admin(SUBMIT, i={"kind": "probe", "capability": "probe"}))["submitTask"]
        deadline = time.monotonic() + timeout
        status = t["status"]
        while status != "assigned":
            assert time.monotonic() < deadline, f"task not routed during the attack: {status}"
            await asyncio.sleep(0.1)
            status = (await worker(TASK, id=t["id"]))["task"]["status"]
        assert not running.done() or running.exception() is None
    finally:
        result = await running
    return result


@pytest.fixture
async def live(graph: GraphTarget) -> AsyncIterator[App]:
    """The app with its scheduler running (jobs must keep working during attacks)."""
    app = await start_app(graph, fresh_name(), scheduler=True)
    yield app
    await app.store.drop_all()
    await stop_app(app)


async def prober(app: Endpoint) -> GQL:
    """An agent that can take 'probe' tasks (what the routing job assigns during attacks)."""
    return await agent(app, "agent-probe", ["probe"], 100)


# ---------------------------------------------------------------- finding 1: graph work


async def test_dense_lineage_is_bounded_and_does_not_stall_the_control_plane(live: App) -> None:
    """40 facts, each derived from up to 32 earlier ones: a depth-5 lineage used to enumerate
    every path (seconds per call); eight at once stalled /health, jobs and authentication."""
    await seed.load(live.store, SEEDS, now=live.rt.now())
    sre = await agent(live, "agent-rootcause", ["diagnose"], 4, team="sre")
    worker = await prober(live)
    base = {"agentId": "agent-rootcause", "entityId": "svc-payments", "key": "k", "confidence": 0.9}
    ids: list[str] = []
    for i in range(40):
        got = await sre(ASSERT, i={**base, "key": f"k{i}", "value": i, "derivedFrom": ids[-32:]})
        ids.append(got["assertFact"]["fact"]["id"])
    # derivedFrom is capped (BAD_INPUT).
    assert await sre.fails(ASSERT, i={**base, "value": 1, "derivedFrom": ids}) == ["BAD_INPUT"]

    budget = live.settings.lineage_budget

    async def attack() -> list[dict[str, Any]]:
        calls = [sre.raw(LINEAGE, {"id": ids[-1], "d": "UPSTREAM"}) for _ in range(4)]
        calls += [sre.raw(LINEAGE, {"id": ids[0], "d": "DOWNSTREAM"}) for _ in range(4)]
        calls += [live.admin.raw(WHY, {"id": ids[-1]}) for _ in range(2)]
        return list(await asyncio.gather(*calls))

    quiet = await Watch.baseline(live.url)
    async with Watch(live.url) as watch:
        start = time.perf_counter()
        bodies = await routed_while(live, worker, attack(), timeout=10)
        took = time.perf_counter() - start
    watch.check(quiet)
    for body in bodies:
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        assert not codes or set(codes) <= {"TIMEOUT", "RATE_LIMITED"}, body
    why = [b["data"]["whyDid"] for b in bodies if not b.get("errors") and "whyDid" in b["data"]]
    assert why and why[0]["truncated"] is True and len(why[0]["edges"]) <= budget
    done = [b["data"]["lineage"] for b in bodies if not b.get("errors") and "lineage" in b["data"]]
    assert done, "every lineage call failed"
    up = done[0]
    assert up["truncated"] is True and len(up["edges"]) <= budget
    assert {"from": ids[-1], "to": ids[-2], "type": "DERIVED_FROM"} in up["edges"]
    assert took < 20, f"8 bounded lineage walks took {took:.1f}s"


async def test_small_lineage_is_complete_and_derived_from_is_capped(api: App) -> None:
    await seed.load(api.store, SEEDS, now=api.rt.now())
    sre = await agent(api, "agent-rootcause", ["diagnose"], 4, team="sre")
    base = {"agentId": "agent-rootcause", "entityId": "svc-payments", "confidence": 0.9}
    one = (await sre(ASSERT, i={**base, "key": "a", "value": 1}))["assertFact"]["fact"]["id"]
    before = await graph_digest(api.store)
    many = [f"fact-{i}" for i in range(api.settings.max_derived_from + 1)]
    codes = await sre.fails(ASSERT, i={**base, "key": "c", "value": 3, "derivedFrom": many})
    assert codes == ["BAD_INPUT"]
    assert await graph_digest(api.store) == before
    two = await sre(ASSERT, i={**base, "key": "b", "value": 2, "derivedFrom": [one]})
    two_id = two["assertFact"]["fact"]["id"]
    up = (await sre(LINEAGE, id=two_id, d="UPSTREAM"))["lineage"]
    assert up["truncated"] is False
    assert {"from": two_id, "to": one, "type": "DERIVED_FROM"} in up["edges"]
    assert {"from": one, "to": "agent-rootcause", "type": "ASSERTED_BY"} in up["edges"]


async def test_statement_timeout_is_a_graph_timeout(graph: GraphTarget) -> None:
    """A statement past its timeout fails fast as GraphTimeout (not a raw redis or driver
    error), on the session's real backend (FalkorDB: per-query TIMEOUT; Neo4j: the
    transaction timeout of neo4j.Query)."""
    # A filter on every row of a 1500^3 product: no planner can answer it from counts.
    slow = "MATCH (a:N), (b:N), (c:N) WHERE a.i + b.i + c.i = -1 RETURN count(*) AS n"
    store: Any = graph.store(fresh_name())
    store.queries = Queries({"slow": slow}, graph.backend)
    store.limits = StatementLimits(timeout_ms=200)
    try:
        await store.execute_text("UNWIND range(1, 1500) AS i CREATE (:N {i: i})")
        start = time.perf_counter()
        with pytest.raises(GraphTimeout):
            await store.read("slow")
        assert time.perf_counter() - start < 5
    finally:
        await store.drop_all()
        await store.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A FalkorDB of its own (these tests pause it with CLIENT PAUSE)."""
    server = EmbeddedServer(tmp_path / "graph", timeout_ms=1_000)
    server.start()
    yield server
    server.stop()


@pytest.mark.falkordb_only("pauses its own embedded FalkorDB (CLIENT PAUSE)")
async def test_client_deadline_maps_a_hung_server_to_graph_timeout(
    own_server: EmbeddedServer,
) -> None:
    """The server takes the command but never answers (clients paused): the app's own
    deadline, just above the statement timeout, ends the wait as GraphTimeout."""
    assert own_server.info is not None
    store = FalkorStore.at(
        own_server.info.uri,
        "g",
        queries=Queries({"q": "RETURN 1 AS one"}, "falkordb"),
        limits=StatementLimits(timeout_ms=300, client_margin_ms=200),
    )
    admin = redis.Redis(unix_socket_path=own_server.info.socket, socket_timeout=5)
    try:
        await store.execute_text("CREATE (:X)")
        assert await store.read("q") == [{"one": 1}]
        admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
        start = time.perf_counter()
        with pytest.raises(GraphTimeout):
            await store.read("q")
        assert time.perf_counter() - start < 2.0
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
        await store.close()


@pytest.mark.falkordb_only("pauses its own embedded FalkorDB (CLIENT PAUSE)")
async def test_a_hung_graph_gives_coded_timeouts_never_http_500(
    own_server: EmbeddedServer,
) -> None:
    """While the graph does not answer, authentication and resolvers answer TIMEOUT (HTTP
    200 with a coded GraphQL error), and WebSocket connection_init is closed with a reason."""
    assert own_server.info is not None
    target = GraphTarget("falkordb", own_server.info.uri)
    app = await start_app(target, fresh_name(), scheduler=False, graph_timeout_ms=300)
    try:
        r = await app.http.post(f"{app.url}/graphql", json={"query": "{ eventHead }"}, headers=AUTH)
        assert r.status_code == 200 and "errors" not in r.json()
        cfg = redis.Redis(unix_socket_path=own_server.info.socket, socket_timeout=5)
        timeouts = {k.decode(): v for k, v in cfg.execute_command("GRAPH.CONFIG", "GET", "*")}
        assert timeouts["TIMEOUT_MAX"] == 1_000 and timeouts["TIMEOUT_DEFAULT"] == 1_000
        assert timeouts["QUERY_MEM_CAPACITY"] > 0
        cfg.execute_command("CLIENT", "PAUSE", "4000", "ALL")
        try:
            start = time.perf_counter()
            r = await app.http.post(
                f"{app.url}/graphql", json={"query": "{ eventHead }"}, headers=AUTH
            )
            took = time.perf_counter() - start
            assert r.status_code == 200, r.text
            assert [e["extensions"]["code"] for e in r.json()["errors"]] == ["TIMEOUT"]
            assert took < 3.5
            async with websockets.connect(
                app.url.replace("http", "ws") + "/graphql", subprotocols=WS_PROTO
            ) as ws:
                init = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
                await ws.send(json.dumps({"type": "connection_init", "payload": init}))
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None
                assert "TIMEOUT" in closed.value.rcvd.reason
        finally:
            cfg.execute_command("CLIENT", "UNPAUSE")
            cfg.close()
    finally:
        await stop_app(app)


EVENTS_500 = "events(first: 500) { nodes { seq type at actor subject payload } }"


async def test_thirty_aliases_of_a_big_page_are_refused_by_cost(live: App) -> None:
    query = "{ " + " ".join(f"a{i}: {EVENTS_500}" for i in range(30)) + " }"
    quiet = await Watch.baseline(live.url)
    async with Watch(live.url) as watch:
        bodies = await asyncio.gather(*[live.admin.raw(query) for _ in range(8)])
    watch.check(quiet)
    for body in bodies:
        assert [e["extensions"]["code"] for e in body["errors"]] == ["COST_LIMIT"], body
        assert body["data"] is None
        assert "cost" in body["errors"][0]["message"]
    # Within budget: fine.
    ok = await live.admin.raw("{ " + " ".join(f"a{i}: {EVENTS_500}" for i in range(2)) + " }")
    assert "errors" not in ok, ok
    # Nested lists multiply: a page of tasks with their history per task.
    nested = """{ tasks(first: 500) { nodes { id history { agentId } } } }"""
    body = await live.admin.raw("{ " + " ".join(f"x{i}: " + nested[2:-2] for i in range(6)) + "}")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["COST_LIMIT"], body


# ---------------------------------------------------------------- finding 5: WebSockets


async def ws_open(app: Endpoint, token: str = ADMIN_TOKEN) -> Any:
    ws = await websockets.connect(
        app.url.replace("http", "ws") + "/graphql", subprotocols=WS_PROTO, max_size=None
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    return ws


async def ws_result(ws: Any, op_id: str) -> dict[str, Any]:
    """The first message for ``op_id`` (next or error)."""
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("id") != op_id:
            continue
        if msg["type"] == "error":
            return {"errors": msg["payload"]}
        if msg["type"] == "next":
            return dict(msg["payload"])
        assert msg["type"] != "complete", f"operation {op_id} completed early"


@pytest.fixture
async def tight(graph: GraphTarget) -> AsyncIterator[App]:
    app = await start_app(
        graph,
        fresh_name(),
        scheduler=False,
        rate_limit_per_s=1.0,
        rate_limit_burst=3,
        ws_max_sockets=2,
        ws_max_subscriptions=2,
        max_body_bytes=50_000,
    )
    yield app
    await app.store.drop_all()
    await stop_app(app)


async def test_websocket_operations_are_rate_limited_one_by_one(tight: App) -> None:
    ws = await ws_open(tight)
    try:
        codes: list[str | None] = []
        for i in range(8):
            await ws.send(
                json.dumps(
                    {"id": f"q{i}", "type": "subscribe", "payload": {"query": "{ eventHead }"}}
                )
            )
            got = await ws_result(ws, f"q{i}")
            codes.append(got["errors"][0]["extensions"]["code"] if got.get("errors") else None)
        assert codes[:3] == [None, None, None]
        assert codes.count("RATE_LIMITED") >= 4, codes
    finally:
        await ws.close()


async def test_sockets_and_subscriptions_are_capped_per_principal(tight: App) -> None:
    first, second = await ws_open(tight), await ws_open(tight)
    try:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            third = await ws_open(tight)
            await third.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        assert "RATE_LIMITED" in closed.value.rcvd.reason
        await asyncio.sleep(1.1)  # rate bucket refills a little
        sub = {"query": "subscription { graphChanges { seq } }"}
        for i in range(2):
            await first.send(json.dumps({"id": f"s{i}", "type": "subscribe", "payload": sub}))
            await asyncio.sleep(1.1)
        await second.send(json.dumps({"id": "s3", "type": "subscribe", "payload": sub}))
        got = await ws_result(second, "s3")
        assert [e["extensions"]["code"] for e in got["errors"]] == ["RATE_LIMITED"], got
        assert "subscriptions" in got["errors"][0]["message"]
    finally:
        await first.close()
        await second.close()
    # Closed sockets give their places back.
    await asyncio.sleep(0.3)
    again = await ws_open(tight)
    await again.close()


async def test_websocket_messages_obey_the_http_size_limit(tight: App) -> None:
    before = await graph_digest(tight.store)
    ws = await ws_open(tight)
    big = {"kind": "big", "capability": "x", "payload": {"blob": "x" * 200_000}}
    await ws.send(
        json.dumps(
            {"id": "m", "type": "subscribe", "payload": {"query": SUBMIT, "variables": {"i": big}}}
        )
    )
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await ws_result(ws, "m")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    assert "larger than 50000 bytes" in closed.value.rcvd.reason
    assert await graph_digest(tight.store) == before
    # The same over HTTP is a coded 413.
    r = await tight.http.post(
        f"{tight.url}/graphql", headers=AUTH, json={"query": SUBMIT, "variables": {"i": big}}
    )
    assert r.status_code == 413 and r.json()["errors"][0]["extensions"]["code"] == "BAD_INPUT"


@dataclass
class ServedApp:
    """The app in its own ``baton serve`` process, for attacks whose many clients would
    otherwise share (and stall) the app's event loop: only the app's loop is measured."""

    url: str
    admin: GQL
    http: httpx.AsyncClient

    def client(self, token: str | None) -> GQL:
        return GQL(self.url, token, self.http)


@contextlib.asynccontextmanager
async def served_app(graph: GraphTarget, tmp_path: Path, **env: str) -> AsyncIterator[ServedApp]:
    name = fresh_name()
    served = Served(
        {**graph.env(name), "BATON_ADMIN_TOKEN": ADMIN_TOKEN, **env},
        free_port(),
        log=tmp_path / "served.log",
    )
    store = graph.store(name)
    try:
        await asyncio.to_thread(served.wait_healthy)
        async with httpx.AsyncClient(timeout=30) as http:
            yield ServedApp(served.url, GQL(served.url, ADMIN_TOKEN, http), http)
    finally:
        await asyncio.to_thread(served.signal, signal.SIGTERM)
        await store.drop_all()
        await store.close()


async def test_replay_from_zero_is_paged_and_does_not_starve_live_traffic(
    graph: GraphTarget, tmp_path: Path
) -> None:
    """30 subscribers replay the whole log from 0 at once. The app serves in its own process:
    in this one, the 30 clients' own parsing would stall the loop being measured."""
    limits = {
        "BATON_WS_MAX_SOCKETS": "200",
        "BATON_WS_MAX_SUBSCRIPTIONS": "200",
        "BATON_REPLAY_PAGE": "50",
    }
    async with served_app(graph, tmp_path, **limits) as app:
        worker = await prober(app)
        integration = await app.admin(
            """mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }""",
            i={"id": "p-feed", "kind": "service", "name": "feed", "roles": ["INTEGRATION"]},
        )
        feed = app.client(integration["createPrincipal"]["token"])
        for i in range(150):
            await feed(EMIT, t="abuse.seeded", p={"subject": f"s{i}"})
        head = int((await app.admin("{ eventHead }"))["eventHead"])
        sub = {"query": "subscription { graphChanges(after: 0) { seq } }"}

        async def replayer() -> list[int]:
            ws = await ws_open(app)
            try:
                await ws.send(json.dumps({"id": "r", "type": "subscribe", "payload": sub}))
                seqs: list[int] = []
                while not seqs or seqs[-1] < head:
                    try:
                        got = await ws_result(ws, "r")
                    except TimeoutError as exc:
                        stalled = f"replay stalled after {seqs[-3:]} (head {head})"
                        raise AssertionError(stalled) from exc
                    assert not got.get("errors"), got
                    seqs.append(int(got["data"]["graphChanges"]["seq"]))
                return seqs
            finally:
                await ws.close()

        async def attack() -> list[list[int]]:
            return list(await asyncio.gather(*[replayer() for _ in range(30)]))

        quiet = await Watch.baseline(app.url)
        async with Watch(app.url) as watch:
            runs = await routed_while(app, worker, attack(), timeout=20)
        watch.check(quiet)
        for seqs in runs:
            assert seqs[:head] == list(range(1, head + 1))  # complete, ordered, no gap


# ---------------------------------------------------------------- finding 6: input


def nested(n: int) -> str:
    return "[" * n + "1" + "]" * n


RAW_BAD: dict[str, bytes] = {
    "invalid utf-8": b'{"query": "{ eventHead }", "variables": {"x": "\xff\xfe"}}',
    "truncated utf-8": b'{"query": "{ eventHead }\xe2\x82"}',
    "lone surrogate": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) '
    b'{ seq } }", "variables": {"p": {"a": "\\ud800"}}}',
    "NaN": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) { seq } }",'
    b' "variables": {"p": {"a": NaN}}}',
    "Infinity": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) '
    b'{ seq } }", "variables": {"p": {"a": -Infinity}}}',
    "1e999": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) '
    b'{ seq } }", "variables": {"p": {"a": 1e999}}}',
    "500 deep": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) '
    b'{ seq } }", "variables": {"p": {"a": ' + nested(500).encode() + b"}}}",
    "5000 deep": b'{"query": "mutation($p: JSON) { emitEvent(type: \\"x.y\\", payload: $p) '
    b'{ seq } }", "variables": {"p": {"a": ' + nested(5000).encode() + b"}}}",
}


@pytest.mark.parametrize("case", list(RAW_BAD))
async def test_malformed_json_is_coded_bad_input_and_changes_nothing(api: App, case: str) -> None:
    before = await graph_digest(api.store)
    r = await api.http.post(
        f"{api.url}/graphql",
        content=RAW_BAD[case],
        headers={**AUTH, "content-type": "application/json"},
    )
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_INPUT"], body
    assert await graph_digest(api.store) == before
    # The same over a WebSocket: refused with a reason, nothing written.
    ws = await ws_open(api)
    try:
        payload = (
            RAW_BAD[case].replace(
                b'{"query"', b'{"id": "x", "type": "subscribe", "payload": {"query"', 1
            )
            + b"}"
        )
        # Invalid UTF-8 cannot be a text frame: as a binary frame it is refused the same way.
        await ws.send(payload if case.endswith("utf-8") else payload.decode())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws_result(ws, "x")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
    finally:
        await ws.close()
    assert await graph_digest(api.store) == before
    health = await api.http.get(f"{api.url}/health")
    assert health.status_code == 200


async def test_huge_long_is_refused_not_clamped(api: App) -> None:
    before = await graph_digest(api.store)
    for deadline in (10**30, -(10**30), 2**63):
        codes = await api.admin.fails(
            SUBMIT, i={"kind": "k", "capability": "c", "deadline": deadline}
        )
        assert codes == ["BAD_INPUT"], deadline
    literal = (
        'mutation { submitTask(input: {kind: "k", capability: "c", deadline: '
        + str(10**30)
        + "}) { id } }"
    )
    assert await api.admin.fails(literal) == ["BAD_INPUT"]
    assert await graph_digest(api.store) == before
    ok = await api.admin(SUBMIT, i={"kind": "k", "capability": "c", "deadline": 2**53})
    assert ok["submitTask"]["id"]


async def test_payload_keys_are_kept_exactly(api: App) -> None:
    """Keys that differ only by whitespace are two keys, never stripped into one."""
    payload = {"a": 1, "a ": 2, " a": 3, "b": {" c ": "  v  "}}
    t = await api.admin(SUBMIT, i={"kind": "k", "capability": "c", "payload": payload})
    got = await api.admin("query($id: ID!) { task(id: $id) { payload } }", id=t["submitTask"]["id"])
    assert got["task"]["payload"] == payload
