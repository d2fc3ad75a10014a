"""Push mode: tasks POSTed to an agent that is an HTTP service, signed, retried on 5xx,
completed once. The service is on loopback, which the egress policy refuses unless allowed:
the app here allows 127.0.0.1 (``BATON_WEBHOOK_ALLOW_HOSTS``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
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
from tests.conftest import App, free_port, fresh_name, start_app, stop_app
from tests.support.coord import route, submit, task
from tests.support.graphs import GraphTarget

SECRET = "s3cret-webhook-key-0123"


class Service:
    """A real HTTP agent on loopback: checks signatures, fails the first call, then answers
    with a result (or accepts and reports later)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.port = free_port()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, request.headers.get("x-baton-signature", "")):
            self.bad_signatures += 1
            return Response(status_code=401)
        msg = json.loads(body)
        self.calls.append(msg)
        tries = sum(1 for c in self.calls if c["taskId"] == msg["taskId"])
        if msg["payload"].get("later"):
            return Response(status_code=202)
        if tries == 1:
            return Response(status_code=503)
        return JSONResponse({"result": {"echo": msg["payload"]["n"], "tries": tries}})

    async def __aenter__(self) -> Service:
        app = Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, port=self.port, log_level="warning"))
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await self.task


@pytest.fixture
async def hook_api(graph: GraphTarget) -> AsyncIterator[tuple[App, ManualClock]]:
    clock = ManualClock()
    app = await start_app(
        graph, fresh_name(), clock=clock, scheduler=False, webhook_allow_hosts=["127.0.0.1"]
    )
    yield app, clock
    await app.store.drop_all()
    await stop_app(app)


async def push(api: App) -> None:
    """One dispatcher pass, and wait for the deliveries it started."""
    await scheduler.webhooks(api.rt)
    assert api.rt.dispatcher is not None
    await api.rt.dispatcher.drain()


async def test_signed_pushes_retry_on_5xx_and_complete_once(
    hook_api: tuple[App, ManualClock],
) -> None:
    api, clock = hook_api
    async with Service() as svc:
        made = await api.admin(
            'mutation { createPrincipal(input: {id: "p-hook", kind: "agent", name: "hook", '
            'roles: [AGENT], agentId: "hook"}) { token } }'
        )
        hook = api.client(made["createPrincipal"]["token"])
        await hook(
            "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
            i={
                "id": "hook",
                "name": "hook",
                "capabilities": ["echo"],
                "maxConcurrency": 5,
                "webhookUrl": f"http://127.0.0.1:{svc.port}/hook",
                "webhookSecret": SECRET,
            },
        )
        now_t = await submit(api.admin, capability="echo", payload={"n": 7})
        later_t = await submit(api.admin, capability="echo", payload={"n": 8, "later": True})
        assert await route(api) == 2
        await push(api)  # first try: 503 for one, 202 for the other
        assert (await task(api.admin, now_t["id"]))["status"] == "assigned"
        await push(api)  # not due yet: backoff
        clock.advance(1_000)
        await push(api)  # second try: 200 with the result
        done = await task(api.admin, now_t["id"])
        assert done["status"] == "done" and done["result"] == {"echo": 7, "tries": 2}
        for _ in range(3):  # nothing is delivered again
            clock.advance(5_000)
            await push(api)
        assert [c["taskId"] for c in svc.calls].count(now_t["id"]) == 2
        assert [c["taskId"] for c in svc.calls].count(later_t["id"]) == 1
        # The accepted one reports later through the API, with the fence it was pushed.
        pushed = next(c for c in svc.calls if c["taskId"] == later_t["id"])
        await hook(
            'mutation($t: String!, $f: Int!) { completeTask(taskId: $t, agentId: "hook", '
            "fence: $f, result: {later: true}) { status } }",
            t=later_t["id"],
            f=pushed["fence"],
        )
        assert svc.bad_signatures == 0
    evs = await api.admin('{ auditLog(types: ["task.completed"]) { nodes { subject } } }')
    assert sorted(e["subject"] for e in evs["auditLog"]["nodes"]) == sorted(
        [now_t["id"], later_t["id"]]
    )
