"""The SDK's Agent against a real app with its scheduler: push, pull, retries, drain."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from baton_sdk import Agent, Retryable, TaskContext
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import task
from tests.support.graphs import GraphTarget


@pytest.fixture
async def live(graph: GraphTarget) -> AsyncIterator[App]:
    """The app with its scheduler running (push routing every 50 ms)."""
    app = await start_app(
        graph,
        fresh_name(),
        scheduler=True,
        route_interval_ms=50,
        retry_base_ms=20,
        retry_max_ms=100,
    )
    yield app
    await app.store.drop_all()
    await stop_app(app)


async def token_for(app: App, agent_id: str, team: str | None = None) -> str:
    got = await app.admin(
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        i={
            "id": f"p-{agent_id}",
            "kind": "agent",
            "name": agent_id,
            "roles": ["AGENT"],
            "agentId": agent_id,
            "team": team,
        },
    )
    return str(got["createPrincipal"]["token"])


async def wait_for(pred: object, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await pred():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_agent_does_pushed_work_retries_and_fails_cleanly(live: App) -> None:
    worker = Agent(
        live.url,
        await token_for(live, "sdk-1"),
        name="sdk-1",
        max_concurrency=3,
        heartbeat_s=0.5,
        poll_s=0.2,
    )
    seen: dict[str, int] = {}

    @worker.handles("diagnose")
    async def diagnose(t: TaskContext) -> dict[str, object]:
        seen[t.id] = seen.get(t.id, 0) + 1
        if t.payload.get("flaky") and t.attempts == 1:
            raise Retryable("upstream timeout")
        if t.payload.get("broken"):
            raise ValueError("cannot parse alert")
        t.report_cost(0.01)
        return {"echo": t.payload["n"]}

    running = asyncio.create_task(worker.run())
    subs = [
        {
            "kind": "k",
            "capability": "diagnose",
            "payload": {"n": i, "flaky": i == 3, "broken": i == 5},
        }
        for i in range(12)
    ]
    got = await live.admin(
        "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id } }", i=subs
    )
    ids = [t["id"] for t in got["submitTasks"]]

    async def settled() -> bool:
        states = [(await task(live.admin, i))["status"] for i in ids]
        return all(s in ("done", "failed") for s in states)

    try:
        await wait_for(settled)
    except AssertionError:
        print([(await task(live.admin, i)) for i in ids][:4], worker.held, worker.done)
        raise
    worker.stop()
    await asyncio.wait_for(running, 10)
    final = [await task(live.admin, i) for i in ids]
    assert [t["status"] for t in final].count("failed") == 1
    assert final[5]["status"] == "failed" and final[5]["errors"][-1]["error"] == (
        "cannot parse alert"
    )
    assert final[3]["status"] == "done" and final[3]["attempts"] == 2 and seen[ids[3]] == 2
    assert final[7]["result"] == {"echo": 7}
    a = (await live.admin('{ agent(id: "sdk-1") { active done } }'))["agent"]
    assert a["active"] == 0 and a["done"] == 11


async def test_stop_drains_in_flight_work(live: App) -> None:
    worker = Agent(
        live.url, await token_for(live, "sdk-2"), name="sdk-2", max_concurrency=2, poll_s=0.1
    )
    started = asyncio.Event()

    @worker.handles("slow")
    async def slow(t: TaskContext) -> str:
        started.set()
        await asyncio.sleep(0.5)
        return "finished"

    running = asyncio.create_task(worker.run())
    got = await live.admin('mutation { submitTask(input: {kind: "k", capability: "slow"}) { id } }')
    await asyncio.wait_for(started.wait(), 10)
    worker.stop()  # what SIGTERM does
    await asyncio.wait_for(running, 10)
    t = await task(live.admin, got["submitTask"]["id"])
    assert t["status"] == "done" and t["result"] == "finished"


async def test_an_assignment_listed_and_then_pushed_runs_once(live: App) -> None:
    """The worker's start-up window: an assignment made just after it registered is listed
    by ``_resume`` (and done), then replayed by the push subscription, which starts from the
    log head read before registering. The same task and fence must not run twice; the same
    task handed out again (a new fence) runs."""
    worker = Agent(
        live.url, await token_for(live, "sdk-3"), name="sdk-3", max_concurrency=2, poll_s=0.1
    )
    runs: list[tuple[str, int]] = []

    @worker.handles("echo")
    async def echo(t: TaskContext) -> str:
        runs.append((t.id, t.fence))
        return "ok"

    head = await worker._register()  # what run() does first
    got = await live.admin('mutation { submitTask(input: {kind: "k", capability: "echo"}) { id } }')
    tid = got["submitTask"]["id"]

    async def assigned() -> bool:
        return bool((await task(live.admin, tid))["status"] == "assigned")

    await wait_for(assigned)  # pushed by the router, after `head`
    await worker._resume()  # lists it and runs it
    await asyncio.gather(*worker._running)
    assert runs == [(tid, 1)] and not worker.held
    listening = asyncio.create_task(worker._listen(head))  # replays the task.assigned push
    try:
        await asyncio.sleep(1.0)
        await asyncio.gather(*worker._running)
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
    assert runs == [(tid, 1)], runs  # the replayed push ran nothing
    assert worker._slots._value == 2  # every slot given back
    # The same task assigned again (new fence) is new work.
    again = {"id": tid, "kind": "k", "capability": "echo", "payload": {}, "fence": 2, "attempts": 2}
    await worker._slots.acquire()
    worker._launch(again, start=False)
    await asyncio.gather(*worker._running)
    assert runs == [(tid, 1), (tid, 2)]
    await worker.api.close()
