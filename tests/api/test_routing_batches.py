"""Push routing over many small batches (``route_batch`` = 3): a route pass loops batch after
batch, against tight ``maxConcurrency``, many capabilities (agents serving several of them)
and mixed priorities, with agents finishing some of their work between passes.

Checked from the graph's own Event log, replayed in seq order: no agent ever holds more than
its limit, within each capability tasks are handed out highest priority first (every task is
queued before the first pass, so a lower one going out while a higher one waits is an
inversion), and the queue drains.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import COMPLETE, agent, route, task
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget
from tests.support.invariants import all_events, check_replay

BATCH = 3
CAPS = ["diagnose", "triage", "remediate", "summarise", "review", "deploy"]
SUBMIT_MANY = "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id status } }"


@pytest.fixture
async def small_batches(graph: GraphTarget) -> AsyncIterator[App]:
    app = await start_app(graph, fresh_name(), scheduler=False, route_batch=BATCH)
    yield app
    await app.store.drop_all()
    await stop_app(app)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_many_small_batches_keep_capacity_priority_and_drain(
    small_batches: App, seed: int
) -> None:
    api = small_batches
    assert api.settings.route_batch == BATCH
    rng = random.Random(seed)
    limits: dict[str, int] = {}
    clients: dict[str, GQL] = {}
    for i in range(8):  # every capability has at least one agent; most agents serve several
        caps = sorted({CAPS[i % len(CAPS)], *rng.sample(CAPS, rng.randint(0, 2))})
        limits[f"w{i}"] = rng.randint(1, 2)
        clients[f"w{i}"] = await agent(api, f"w{i}", caps, max_concurrency=limits[f"w{i}"])
    specs = [
        {"kind": "batch", "capability": rng.choice(CAPS), "priority": rng.randint(0, 100)}
        for _ in range(90)
    ]
    made = (await api.admin(SUBMIT_MANY, i=specs))["submitTasks"]
    assert {t["status"] for t in made} == {"queued"}
    ids = {t["id"] for t in made}

    held: dict[str, tuple[str, int]] = {}  # task -> (agent, fence)
    seen = 0
    passes: list[int] = []
    for _ in range(200):
        passes.append(await route(api))
        events = await all_events(api.admin, after=seen)
        for ev in events:
            if ev["type"] == "task.assigned" and ev["subject"] in ids:
                held[ev["subject"]] = (ev["payload"]["agentId"], ev["payload"]["fence"])
        seen = max((int(e["seq"]) for e in events), default=seen)
        if not held:
            break
        # Agents finish part of what they hold, so later passes fill partly loaded agents.
        for tid in sorted(held):
            if rng.random() < 0.6 or len(held) == 1:
                who, fence = held.pop(tid)
                done = await clients[who](COMPLETE, t=tid, a=who, f=fence)
                assert done["completeTask"]["status"] == "done"
    assert max(passes) > BATCH, f"no pass needed more than one batch: {passes}"

    # The queue drained: every task done, exactly once.
    states = {tid: (await task(api.admin, tid))["status"] for tid in ids}
    assert set(states.values()) == {"done"}, states
    events = await all_events(api.admin)
    terminal = check_replay(events, ids, limits)  # capacity never exceeded, one holder
    assert terminal == dict.fromkeys(ids, 1)

    # Priority order within each capability, in the order the router handed tasks out.
    order: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for ev in events:
        if ev["type"] == "task.assigned" and ev["subject"] in ids:
            order[ev["payload"]["capability"]].append((ev["payload"]["priority"], ev["subject"]))
    assert sum(len(v) for v in order.values()) == len(ids)
    for cap, got in order.items():
        prios = [p for p, _ in got]
        assert prios == sorted(prios, reverse=True), f"{cap}: handed out in order {prios}"
