"""Sustained mixed load on a real `baton serve` process: SDK workers doing pushed work,
submitters, context reads and fact assertions, for a bounded time. No request may fail,
latency percentiles are recorded (test-artifacts/load.json), and the app's memory stays
flat once warm. ``-m slow`` runs it for two minutes."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.sdk import Agent, TaskContext
from tests.conftest import ADMIN_TOKEN, free_port, fresh_name
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget
from tests.support.procs import Served

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ENTITIES = ["svc-web", "svc-checkout", "svc-catalog", "svc-inventory", "svc-auth", "svc-notify",
            "sys-redis", "sys-kafka", "sys-search", "sys-postgres-main"]  # fmt: skip


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000 if xs else 0.0


async def run_load(graph: GraphTarget, seconds: float, tmp: Path) -> dict[str, Any]:
    env = {**graph.env(fresh_name()), "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
           "BATON_ROUTE_INTERVAL_MS": "50", "BATON_RATE_LIMIT_PER_S": "100000",
           "BATON_RATE_LIMIT_BURST": "100000", "BATON_LOG_LEVEL": "WARNING"}  # fmt: skip
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
                    i={"id": f"p-{aid}", "kind": "agent", "name": aid, "roles": ["AGENT"],
                       "agentId": aid, "team": "sre"},
                )  # fmt: skip
                tokens[aid] = made["createPrincipal"]["token"]
                w = Agent(app.url, tokens[aid], name=aid, team="sre", max_concurrency=8,
                          heartbeat_s=1, poll_s=0.5)  # fmt: skip

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
                    await timed("submit", admin, "mutation($i: SubmitTaskInput!) { submitTask("
                                "input: $i) { id } }", i={"kind": "load", "capability": "work",
                                "entities": [ENTITIES[submitted % len(ENTITIES)]],
                                "payload": {"n": submitted}})  # fmt: skip

            async def reader(aid: str) -> None:
                c = GQL(app.url, tokens[aid], http)
                k = 0
                while time.monotonic() < stop:
                    k += 1
                    await timed("context", c, "query($a: String!) { context(entityId: "
                                '"svc-checkout", agentId: $a) { id } }', a=aid)  # fmt: skip
                    await timed("assert", c, "mutation($i: AssertFactInput!) { assertFact("
                                "input: $i) { fact { id } } }", i={"agentId": aid,
                                "entityId": "svc-checkout", "key": f"k{k % 5}", "value": k,
                                "confidence": 0.5})  # fmt: skip

            await asyncio.sleep(1.0)
            warm = rss_mb(app.proc.pid)
            await asyncio.gather(*(submitter() for _ in range(3)), reader("load-0"),
                                 reader("load-1"))  # fmt: skip
            end = rss_mb(app.proc.pid)
            for w in workers:
                w.stop()
            await asyncio.gather(*running)
            left = await admin("{ queueDepths { status count } }")
        return {
            "seconds": seconds, "submitted": submitted, "errors": errors,
            "rss_warm_mb": round(warm, 1), "rss_end_mb": round(end, 1),
            "queue": left["queueDepths"],
            **{f"{k}_p50_ms": round(pct(v, 50), 2) for k, v in lat.items()},
            **{f"{k}_p99_ms": round(pct(v, 99), 2) for k, v in lat.items()},
            "requests": sum(len(v) for v in lat.values()),
        }  # fmt: skip
    finally:
        await asyncio.to_thread(app.kill)


async def _check(graph: GraphTarget, seconds: float, tmp: Path, grow_mb: float) -> None:
    got = await run_load(graph, seconds, tmp)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(got, indent=1))
    assert got["errors"] == [] and got["requests"] > 100, got
    assert got["rss_end_mb"] - got["rss_warm_mb"] < grow_mb, got


async def test_bounded_mixed_load(graph: GraphTarget, tmp_path: Path) -> None:
    await _check(graph, 6.0, tmp_path, grow_mb=60)


@pytest.mark.slow
async def test_two_minutes_of_mixed_load(graph: GraphTarget, tmp_path: Path) -> None:
    await _check(graph, 120.0, tmp_path, grow_mb=60)
