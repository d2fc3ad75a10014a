"""The SDK end to end: a handler reads context, records a finding, proposes an action that a
human approves, and finishes; a long task stays alive on heartbeats; the sync Client drives
it from a script."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.core import seed
from baton_sdk import Agent, Client, TaskContext
from tests.api.test_inbox import SET, human
from tests.api.test_sdk import token_for, wait_for
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.graphs import GraphTarget

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
async def live(graph: GraphTarget) -> AsyncIterator[App]:
    app = await start_app(graph, fresh_name(), scheduler=True, route_interval_ms=50, lease_ms=1_000)
    yield app
    await app.store.drop_all()
    await stop_app(app)


async def test_handler_uses_context_facts_and_a_human_approval(live: App) -> None:
    await seed.load(live.store, SEEDS, now=live.rt.now())
    await live.admin(
        SET,
        i={
            "id": "approve",
            "name": "a",
            "scope": "GLOBAL",
            "approvers": ["alice"],
            "alwaysApprove": ["rollback"],
        },
    )
    worker = Agent(
        live.url,
        await token_for(live, "sdk-rc", "sre"),
        name="sdk-rc",
        team="sre",
        max_concurrency=2,
        heartbeat_s=0.3,
        poll_s=0.2,
    )
    seen: dict[str, Any] = {}

    @worker.handles("diagnose")
    async def diagnose(t: TaskContext) -> dict[str, Any]:
        seen["context"] = await t.context()
        fact_id = await t.assert_fact("svc-checkout", "cause", "bad deploy", 0.7)
        outcome = await t.propose(
            "rollback",
            "Roll back checkout",
            0.7,
            fact_ids=[fact_id],
            payload={"to": "4.11"},
            timeout=30,
        )
        return {"fact": fact_id, "decision": outcome.status, "payload": outcome.payload}

    known = await live.admin(
        "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }",
        i={
            "agentId": "agent-rootcause",
            "entityId": "svc-checkout",
            "key": "deploy",
            "value": "4.12",
            "confidence": 0.9,
        },
    )
    running = asyncio.create_task(worker.run())
    baton = Client(live.url, live.admin.token or "")
    try:
        await live.admin(
            'mutation { upsertEntities(entities: [{id: "svc-x", kind: "service", name: "x", '
            'domain: "commerce"}]) }'
        )
        task = await asyncio.to_thread(
            baton.submit_task, kind="incident", capability="diagnose", entities=["svc-checkout"]
        )
        alice = await human(live, "alice")

        async def pending() -> bool:
            got = await alice("{ inbox { nodes { id } } }")
            seen["inbox"] = got["inbox"]["nodes"]
            return bool(seen["inbox"])

        await wait_for(pending, 20)
        await alice(
            'mutation($id: ID!) { decideProposal(id: $id, decision: MODIFY, reason: "canary", '
            'payload: {to: "4.11", canary: true}) { status } }',
            id=seen["inbox"][0]["id"],
        )
        done = await asyncio.to_thread(baton.wait, task["id"], 30)
        assert done["status"] == "done"
        assert done["result"]["decision"] == "modified"
        assert done["result"]["payload"] == {"to": "4.11", "canary": True}
        # The handler read the task's context before asserting anything: the one known fact.
        assert [(f["id"], f["key"], f["value"], f["entityId"]) for f in seen["context"]] == [
            (known["assertFact"]["fact"]["id"], "deploy", "4.12", "svc-checkout")
        ]
        lineage = await live.admin(
            "query($id: ID!) { lineage(id: $id, direction: UPSTREAM) { edges { type to } } }",
            id=done["result"]["fact"],
        )
        assert {"type": "DERIVED_FROM", "to": task["id"]} in lineage["lineage"]["edges"]
    finally:
        worker.stop()
        await asyncio.wait_for(running, 15)
        baton.close()


async def test_heartbeats_keep_a_long_task_alive(live: App) -> None:
    worker = Agent(
        live.url, await token_for(live, "sdk-slow"), name="sdk-slow", heartbeat_s=0.2, poll_s=0.2
    )

    @worker.handles("slow")
    async def slow(t: TaskContext) -> str:
        await asyncio.sleep(2.5)  # 2.5 x the 1 s lease
        return "done"

    running = asyncio.create_task(worker.run())
    try:
        got = await live.admin(
            'mutation { submitTask(input: {kind: "k", capability: "slow"}) { id } }'
        )
        tid = got["submitTask"]["id"]

        async def finished() -> bool:
            t = await live.admin("query($id: ID!) { task(id: $id) { status } }", id=tid)
            return bool(t["task"]["status"] == "done")

        await wait_for(finished, 20)
        t = await live.admin("query($id: ID!) { task(id: $id) { attempts result } }", id=tid)
        assert t["task"] == {"attempts": 1, "result": "done"}
    finally:
        worker.stop()
        await asyncio.wait_for(running, 15)
