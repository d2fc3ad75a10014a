"""What decision tracing costs: routing and claim throughput with Decision spans on vs off.

One graph, one workload (N agents, M queued tasks), measured *paired*: claims alternate
tracing off / on one by one, and push-routing batches alternate off / on until the queue is
drained, so both sides see the same graph size and the same machine noise. With tracing on,
every routed assignment also writes its Decision node (BY the agent, ON the task) in the same
statement; a claim's span is its ASSIGNED_TO {via: 'claim'} edge, written either way (a node
per single claim measured ~17% of claim latency, so it was dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from _common import BENCH_LIMITS, BENCH_TIMEOUT_MS, console, pct, report

from app.core import agents, tasks, traces
from app.core.clock import Clock
from app.core.runtime import prepare_graph
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.models import AgentIn, TaskIn

CAPS = [f"cap{i}" for i in range(10)]


async def run(n_agents: int, n_tasks: int, claims: int, batch: int) -> dict[str, float]:
    server = EmbeddedServer(
        Path(tempfile.mkdtemp(prefix="bench-tracing-")), timeout_ms=BENCH_TIMEOUT_MS
    )
    store = FalkorStore.at(server.start().uri, graph="bench", pool_size=16, limits=BENCH_LIMITS)
    clock = Clock()
    try:
        await prepare_graph(store)
        rng = random.Random(7)
        slots = n_tasks // n_agents * 2 + 10
        for i in range(n_agents):
            await agents.register(store, AgentIn(
                id=f"agent-{i:05d}", name=f"agent {i}", capabilities=rng.sample(CAPS, 3),
                max_concurrency=slots), actor="bench", now=clock.now())  # fmt: skip
        for start in range(0, n_tasks, 5_000):
            items = [TaskIn(kind="bench", capability=rng.choice(CAPS), priority=rng.randint(0, 100))
                     for _ in range(min(5_000, n_tasks - start))]  # fmt: skip
            await tasks.submit_many(store, items, actor="bench", now=clock.now())
        console.print(f"{claims} claims, tracing alternating off / on")
        lat: dict[bool, list[float]] = {False: [], True: []}
        for k in range(claims):
            on = k % 2 == 1
            traces.set_enabled(on)
            t = time.perf_counter()
            await tasks.claim(store, f"agent-{k % n_agents:05d}", lease_ms=60_000, now=clock.now())
            lat[on].append(time.perf_counter() - t)
        console.print("push routing the rest, batches alternating off / on")
        spent = {False: 0.0, True: 0.0}
        assigned = {False: 0, True: 0}
        k = 0
        while True:
            on = k % 2 == 1
            traces.set_enabled(on)
            t = time.perf_counter()
            n = await tasks.route(store, batch=batch, lease_ms=60_000, now=clock.now())
            spent[on] += time.perf_counter() - t
            assigned[on] += n
            k += 1
            if n < batch:
                break
        rate = {on: assigned[on] / spent[on] if spent[on] else 0.0 for on in (False, True)}
        p50 = {on: pct(lat[on], 50) * 1000 for on in (False, True)}
        p99 = {on: pct(lat[on], 99) * 1000 for on in (False, True)}
        return {
            "assignments_per_s_off": round(rate[False], 1),
            "assignments_per_s_on": round(rate[True], 1),
            "claim_p50_ms_off": round(p50[False], 3), "claim_p50_ms_on": round(p50[True], 3),
            "claim_p99_ms_off": round(p99[False], 3), "claim_p99_ms_on": round(p99[True], 3),
        }  # fmt: skip
    finally:
        traces.set_enabled(True)
        await store.close()
        server.stop(force=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=40_000)
    args = ap.parse_args()
    n_agents, n_tasks = (20, 4_000) if args.quick else (args.agents, args.tasks)
    console.rule(f"{n_agents} agents, {n_tasks:,} tasks")
    m = asyncio.run(run(n_agents, n_tasks, min(2_000, n_tasks // 5), 1_000))

    def cost(off: float, on: float, higher_is_better: bool) -> float:
        if not off:
            return 0.0
        return round(100 * ((off - on) / off if higher_is_better else (on - off) / off), 1)

    route_pct = cost(m["assignments_per_s_off"], m["assignments_per_s_on"], True)
    claim_pct = cost(m["claim_p50_ms_off"], m["claim_p50_ms_on"], False)
    metrics = {"agents": n_agents, "tasks": n_tasks, "backend": "falkordb-embedded", **m,
               "routing_overhead_pct": route_pct, "claim_overhead_pct": claim_pct,
               "tracing_overhead_pct": max(route_pct, claim_pct)}  # fmt: skip
    rows = [
        ("assignments/s off / on", f"{m['assignments_per_s_off']} / {m['assignments_per_s_on']}"),
        ("claim p50 ms off / on", f"{m['claim_p50_ms_off']} / {m['claim_p50_ms_on']}"),
        ("claim p99 ms off / on", f"{m['claim_p99_ms_off']} / {m['claim_p99_ms_on']}"),
        ("routing overhead %", route_pct),
        ("claim overhead % (p50 latency)", claim_pct),
        ("tracing_overhead_pct (worse of the two)", metrics["tracing_overhead_pct"]),
    ]
    report("Decision tracing overhead (paired)", rows, metrics, args.json)


if __name__ == "__main__":
    main()
