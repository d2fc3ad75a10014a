"""Sustained mixed load on a real `baton serve` process: SDK workers doing pushed work,
submitters, context reads and fact assertions, for a bounded time. A functional check: no
request fails, every submitted task is done (once) when the load ends, and latency stays
within generous bounds (percentiles recorded in test-artifacts/load.json). Leaks are a soak
bench's business (bench/soak.py), not a few seconds' test. ``-m slow`` runs two minutes."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton_sdk import Agent, TaskContext
from tests.conftest import ADMIN_TOKEN, free_port, fresh_name
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget
from tests.support.procs import Served

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ENTITIES = [
    "svc-web",
    "svc-checkout",
    "svc-catalog",
    "svc-inventory",
    "svc-auth",
    "svc-notify",
    "sys-redis",
    "sys-kafka",
    "sys-search",
    "sys-postgres-main",
]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000 if xs else 0.0


async def run_load(graph: GraphTarget, seconds: float, tmp: Path) -> dict[str, Any]:
    env = {
        **graph.env(fresh_name()),
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_ROUTE_INTERVAL_MS": "50",
        "BATON_RATE_LIMIT_PER_S": "100000",
        "BATON_RATE_LIMIT_BURST": "100000",
        "BATON_LOG_LEVEL": "WARNING",
    }
    app = Served(env, free_port(), seed=True, log=tmp / "app.log")
    await asyncio.to_thread(app.wait_healthy)
    lat: dict[str, list[float]] = {"submit": [], "context": [], "assert": []}
    errors: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            admin = GQL(app.url, ADMIN_TOKEN, http)
            workers, tokens = [], {}
            for i in range(4):
                aid = f"load-{i}"
                made = await admin(
                    "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                    i={
                        "id": f"p-{aid}",
                        "kind": "agent",
                        "name": aid,
                        "roles": ["AGENT"],
                        "agentId": aid,
                        "team": "sre",
                    },
                )
                tokens[aid] = made["createPrincipal"]["token"]
                w = Agent(
                    app.url,
                    tokens[aid],
                    name=aid,
                    team="sre",
                    max_concurrency=8,
                    heartbeat_s=1,
                    poll_s=0.5,
                )

                @w.handles("work")
                async def work(t: TaskContext) -> int:
                    await asyncio.sleep(0.005)
                    return int(t.payload["n"])

                workers.append(w)
            running = [asyncio.create_task(w.run()) for w in workers]
            stop = time.monotonic() + seconds
            submitted = 0

            async def timed(kind: str, client: GQL, q: str, **v: Any) -> None:
                t0 = time.perf_counter()
                body = await client.raw(q, v)
                lat[kind].append(time.perf_counter() - t0)
                if body.get("errors"):
                    errors.append(f"{kind}: {body['errors'][0]['message']}")

            async def submitter() -> None:
                nonlocal submitted
                while time.monotonic() < stop:
                    submitted += 1
                    await timed(
                        "submit",
                        admin,
                        "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }",
                        i={
                            "kind": "load",
                            "capability": "work",
                            "entities": [ENTITIES[submitted % len(ENTITIES)]],
                            "payload": {"n": submitted},
                        },
                    )

            async def reader(aid: str) -> None:
                c = GQL(app.url, tokens[aid], http)
                k = 0
                while time.monotonic() < stop:
                    k += 1
                    await timed(
                        "context",
                        c,
                        "query($a: String!) { context(entityId: "
                        '"svc-checkout", agentId: $a) { id } }',
                        a=aid,
                    )
                    await timed(
                        "assert",
                        c,
                        "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }",
                        i={
                            "agentId": aid,
                            "entityId": "svc-checkout",
                            "key": f"k{k % 5}",
                            "value": k,
                            "confidence": 0.5,
                        },
                    )

            await asyncio.sleep(1.0)
            await asyncio.gather(
                *(submitter() for _ in range(3)), reader("load-0"), reader("load-1")
            )
            # The workers finish what is left; then every submitted task must be done.
            t0 = time.monotonic()
            left: list[dict[str, Any]] = []
            while time.monotonic() - t0 < 60:
                left = (await admin("{ queueDepths { status count } }"))["queueDepths"]
                if not left:
                    break
                await asyncio.sleep(0.2)
            drain_s = time.monotonic() - t0
            for w in workers:
                w.stop()
            await asyncio.gather(*running)
            ag = await admin("{ agents(first: 50) { nodes { id done failed active } } }")
            mine = [a for a in ag["agents"]["nodes"] if a["id"].startswith("load-")]
            done_ids: set[str] = set()
            cursor = None
            while True:
                page = (
                    await admin(
                        'query($a: String) { tasks(status: "done", capability: "work", first: 100, '
                        "after: $a) { nodes { id } pageInfo { endCursor hasNextPage } } }",
                        a=cursor,
                    )
                )["tasks"]
                done_ids |= {t["id"] for t in page["nodes"]}
                if not page["pageInfo"]["hasNextPage"]:
                    break
                cursor = page["pageInfo"]["endCursor"]
        return {
            "seconds": seconds,
            "submitted": submitted,
            "errors": errors,
            "queue": left,
            "drain_s": round(drain_s, 2),
            "done_by_agents": sum(a["done"] for a in mine),
            "failed_by_agents": sum(a["failed"] for a in mine),
            "active": sum(a["active"] for a in mine),
            "done_tasks": len(done_ids),
            **{f"{k}_p50_ms": round(pct(v, 50), 2) for k, v in lat.items()},
            **{f"{k}_p99_ms": round(pct(v, 99), 2) for k, v in lat.items()},
            "requests": sum(len(v) for v in lat.values()),
        }
    finally:
        await asyncio.to_thread(app.kill)


# Generous: a loaded 2-core machine shares the CPU with the app, the graph and the clients.
P50_MS, P99_MS = 2_000, 10_000


async def _check(graph: GraphTarget, seconds: float, tmp: Path) -> None:
    got = await run_load(graph, seconds, tmp)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(got, indent=1))
    assert got["errors"] == [] and got["requests"] > 100, got
    # All submitted work completed, each task once, nothing left held or queued.
    assert got["queue"] == [] and got["active"] == 0, got
    assert got["done_tasks"] == got["submitted"] == got["done_by_agents"], got
    assert got["failed_by_agents"] == 0, got
    for kind in ("submit", "context", "assert"):
        assert got[f"{kind}_p50_ms"] < P50_MS and got[f"{kind}_p99_ms"] < P99_MS, (kind, got)


async def test_bounded_mixed_load(graph: GraphTarget, tmp_path: Path) -> None:
    await _check(graph, 6.0, tmp_path)


@pytest.mark.slow
async def test_two_minutes_of_mixed_load(graph: GraphTarget, tmp_path: Path) -> None:
    await _check(graph, 120.0, tmp_path)
