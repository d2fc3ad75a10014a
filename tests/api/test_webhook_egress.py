"""Outbound webhooks pass an egress policy, fail with one generic text, and a slow endpoint
delays only itself (issue 18, finding 3). Receivers are real HTTP servers on this machine."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import scheduler
from app.core.clock import ManualClock
from app.core.egress import EgressDenied, EgressPolicy, is_public
from app.core.webhooks import FAILED
from tests.conftest import App, free_port, fresh_name, start_app, stop_app
from tests.support.coord import route, submit, task
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget

REGISTER = "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }"
SSRF = [
    "http://127.0.0.1:{p}/hook",
    "http://[::1]:{p}/hook",
    "http://0x7f000001:{p}/hook",
    "http://2130706433:{p}/hook",
    "http://017700000001:{p}/hook",
    "http://127.1:{p}/hook",
    "http://0177.0.0.1:{p}/hook",
    "http://localhost:{p}/hook",
    "http://LOCALHOST.:{p}/x",
    "http://foo.localhost:{p}/x",
    "http://0.0.0.0:{p}/hook",
    "http://0:{p}/hook",
    "http://10.0.0.7/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]:{p}/hook",
    "http://[::ffff:7f00:1]/x",
    "http://[64:ff9b::a00:1]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://224.0.0.1/hook",
    "http://[ff02::1]/hook",
    "http://255.255.255.255/hook",
    "https://[::]/hook",
    "http://user@127.0.0.1:{p}/hook",
    "ftp://example.com/hook",
    "file:///etc/passwd",
]


class Receiver:
    """A real HTTP agent: records calls (and how many were in flight at once); ``delay_s``
    makes it slow, ``status`` picks its answer."""

    def __init__(self, host: str = "127.0.0.1", delay_s: float = 0.0, status: int = 202):
        self.host, self.port = host, free_port()
        self.delay_s, self.status = delay_s, status
        self.calls: list[tuple[float, dict[str, Any]]] = []
        self.active = self.peak = 0
        self.release = asyncio.Event()

    async def handle(self, request: Request) -> Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            self.calls.append((time.monotonic(), await request.json()))
            if self.delay_s:
                try:
                    async with asyncio.timeout(self.delay_s):
                        await self.release.wait()
                except TimeoutError:
                    pass
            if self.status == 200:
                return JSONResponse({"result": {"secret": "internal data"}})
            return Response(status_code=self.status)
        finally:
            self.active -= 1

    async def __aenter__(self) -> Receiver:
        app = Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=self.host,
                port=self.port,
                log_level="warning",
                timeout_graceful_shutdown=1,
            )
        )
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        self.server.should_exit = True
        await self.task


async def hook_agent(app: App, agent_id: str, cap: str, url: str) -> GQL:
    made = await app.admin(
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        i={
            "id": f"p-{agent_id}",
            "kind": "agent",
            "name": agent_id,
            "roles": ["AGENT"],
            "agentId": agent_id,
        },
    )
    client = app.client(made["createPrincipal"]["token"])
    await client(
        REGISTER,
        i={
            "id": agent_id,
            "name": agent_id,
            "capabilities": [cap],
            "maxConcurrency": 10,
            "webhookUrl": url,
            "webhookSecret": "s3cret-webhook-key-0123",
        },
    )
    return client


async def hook_state(app: App, task_id: str) -> dict[str, Any]:
    rows = await app.store.execute_text(
        "MATCH (t:Task {id: $id}) RETURN t.hookError AS error, t.hookTries AS tries, "
        "t.status AS status, t.errors AS errors",
        id=task_id,
    )
    return rows[0]


@pytest.fixture
def strict(api_clock: tuple[App, ManualClock]) -> tuple[App, ManualClock]:
    """The default policy: nothing on this machine or its networks is reachable."""
    return api_clock


async def test_ssrf_urls_are_refused_at_registration(strict: tuple[App, ManualClock]) -> None:
    app, _ = strict
    made = await app.admin(
        'mutation { createPrincipal(input: {id: "p-x", kind: "agent", name: "x", '
        'roles: [AGENT], agentId: "x"}) { token } }'
    )
    x = app.client(made["createPrincipal"]["token"])
    for url in SSRF:
        url = url.format(p=8000)
        codes = await x.fails(
            REGISTER, i={"id": "x", "name": "x", "capabilities": ["c"], "webhookUrl": url}
        )
        assert codes == ["BAD_INPUT"], url
    await x(
        REGISTER,
        i={
            "id": "x",
            "name": "x",
            "capabilities": ["c"],
            "webhookUrl": "https://hooks.example.com/baton",
        },
    )


async def test_policy_judges_every_spelling_and_resolved_names() -> None:
    policy = EgressPolicy.of([])
    for url in SSRF:
        with pytest.raises(EgressDenied):
            await policy.resolve(url.format(p=8000))
    target, path = await policy.resolve("https://93.184.215.14:8443/a?b=1")
    assert (target.address, target.port, path) == ("93.184.215.14", 8443, "/a?b=1")
    assert target.url(path) == "https://93.184.215.14:8443/a?b=1"
    # A name is judged by what it resolves to (here: this machine's own name).
    if not is_public(ipaddress.ip_address(_own_address())):
        with pytest.raises(EgressDenied):
            await policy.resolve(f"http://{socket.gethostname()}:8000/hook")
    allowed = EgressPolicy.of(["127.0.0.1", "10.0.0.0/8", "localhost"])
    assert (await allowed.resolve("http://127.0.0.1:9/x"))[0].address == "127.0.0.1"
    assert (await allowed.resolve("http://10.2.3.4/x"))[0].address == "10.2.3.4"
    assert (await allowed.resolve("http://localhost:9/x"))[0].host == "localhost"
    with pytest.raises(EgressDenied):
        await allowed.resolve("http://192.168.0.1/x")


def _own_address() -> str:
    """An address of this machine that the machine's name resolves to (not public)."""
    infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM)
    return str(infos[0][4][0])


async def test_names_that_resolve_inward_are_not_delivered(
    strict: tuple[App, ManualClock],
) -> None:
    """Registration cannot judge a name; delivery resolves it and connects to nothing
    non-public, so the receiver on this machine never sees the request."""
    app, clock = strict
    if is_public(ipaddress.ip_address(_own_address())):
        pytest.skip("this machine's name resolves to a public address")
    async with Receiver(host=_own_address(), status=200) as inner:
        url = f"http://{socket.gethostname()}:{inner.port}/hook"
        await hook_agent(app, "inward", "peek", url)
        t = await submit(app.admin, capability="peek")
        assert await route(app) == 1
        for _ in range(5):
            await scheduler.webhooks(app.rt)
            assert app.rt.dispatcher is not None
            await app.rt.dispatcher.drain()
            clock.advance(60_000)
        assert inner.calls == []
    state = await hook_state(app, t["id"])
    assert state["status"] in ("queued", "assigned") and "internal data" not in str(state)


@pytest.fixture
async def dev(graph: GraphTarget) -> AsyncIterator[tuple[App, ManualClock]]:
    clock = ManualClock()
    app = await start_app(
        graph,
        fresh_name(),
        clock=clock,
        scheduler=False,
        webhook_allow_hosts=["127.0.0.1"],
        webhook_timeout_ms=500,
    )
    yield app, clock
    await app.store.drop_all()
    await stop_app(app)


async def test_failures_read_the_same_whatever_happened(dev: tuple[App, ManualClock]) -> None:
    """Refused connection, 404, 500, timeout: one generic text, no port-scan oracle."""
    app, clock = dev
    async with (
        Receiver(status=404) as missing,
        Receiver(status=500) as broken,
        Receiver(delay_s=3) as slow,
    ):
        closed = free_port()
        urls = {
            "closed": f"http://127.0.0.1:{closed}/hook",
            "missing": f"http://127.0.0.1:{missing.port}/hook",
            "broken": f"http://127.0.0.1:{broken.port}/hook",
            "slow": f"http://127.0.0.1:{slow.port}/hook",
        }
        ids = {}
        for name, url in urls.items():
            await hook_agent(app, f"a-{name}", f"cap-{name}", url)
            ids[name] = (await submit(app.admin, capability=f"cap-{name}"))["id"]
        assert await route(app) == 4
        await scheduler.webhooks(app.rt)
        assert app.rt.dispatcher is not None
        await app.rt.dispatcher.drain()
        states = {name: await hook_state(app, i) for name, i in ids.items()}
        assert {s["error"] for s in states.values()} == {FAILED}, states
        assert {s["tries"] for s in states.values()} == {1}
        for _ in range(6):  # to the last try: the task's own error is generic too
            clock.advance(120_000)
            await scheduler.webhooks(app.rt)
            await app.rt.dispatcher.drain()
        for name, i in ids.items():
            t = await task(app.admin, i)
            assert t["status"] == "queued" and t["errors"], (name, t)
            assert [e["error"] for e in t["errors"]] == [FAILED], (name, t["errors"])


async def test_a_slow_endpoint_delays_only_itself(graph: GraphTarget) -> None:
    """One endpoint sleeps 10 s on every push; another agent's push still arrives at once,
    and the slow one never has more than its share of deliveries in flight."""
    app = await start_app(
        graph,
        fresh_name(),
        scheduler=True,
        route_interval_ms=50,
        webhook_allow_hosts=["127.0.0.1"],
        webhook_timeout_ms=15_000,
        webhook_per_endpoint=2,
    )
    try:
        async with Receiver(delay_s=10) as slow, Receiver() as fast:
            await hook_agent(app, "slowpoke", "slow", f"http://127.0.0.1:{slow.port}/hook")
            await hook_agent(app, "speedy", "fast", f"http://127.0.0.1:{fast.port}/hook")
            for n in range(5):
                await submit(app.admin, capability="slow", payload={"n": n})
            deadline = time.monotonic() + 10
            while len(slow.calls) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert len(slow.calls) == 2  # its cap; the other three wait for a free slot
            waits = []
            for n in range(3):
                sent = time.monotonic()
                await submit(app.admin, capability="fast", payload={"n": n})
                while len(fast.calls) <= n and time.monotonic() - sent < 5:
                    await asyncio.sleep(0.005)
                assert len(fast.calls) == n + 1, "the fast agent's push did not arrive"
                waits.append(fast.calls[n][0] - sent)
            assert max(waits) < 1.0, waits
            assert slow.peak <= 2 and len(slow.calls) == 2
    finally:
        await app.store.drop_all()
        await stop_app(app)
