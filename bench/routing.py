"""Routing at scale: N agents, M queued tasks on the embedded graph.

Phase 1 (pull): with the full queue waiting, 50 concurrent agents claim one task at a time;
claim latency is one `tasks/claim` statement end to end (client -> graph -> client).
Phase 2 (push): the scheduler's routing job drains the rest of the queue in batches;
assignments/s is tasks assigned over wall time. Agents have enough slots for every task.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

from _common import BACKENDS, backend_label, console, graph_target, report, summary_ms

from app.core import agents, tasks
from app.core.clock import Clock
from app.models import AgentIn, TaskIn

CAPS = [f"cap{i}" for i in range(10)]


async def run(
    target: Any, n_agents: int, n_tasks: int, claims: int, batch: int
) -> dict[str, float]:
    store = await target.open(f"routing-{n_agents}-{n_tasks}")
    clock = Clock()
    try:
        slots = n_tasks // n_agents * 2 + 10
        console.print(f"registering {n_agents} agents ({slots} slots each)")
        rng = random.Random(7)
        for i in range(n_agents):
            caps = rng.sample(CAPS, 3)
            data = AgentIn(
                id=f"agent-{i:05d}", name=f"agent {i}", capabilities=caps, max_concurrency=slots
            )
            await agents.register(store, data, actor="bench", now=clock.now())
        console.print(f"queueing {n_tasks:,} tasks")
        t0 = time.perf_counter()
        chunk = 5_000
        for start in range(0, n_tasks, chunk):
            items = [
                TaskIn(kind="bench", capability=rng.choice(CAPS), priority=rng.randint(0, 100))
                for _ in range(min(chunk, n_tasks - start))
            ]
            await tasks.submit_many(store, items, actor="bench", now=clock.now())
        submit_s = time.perf_counter() - t0

        claimed = 0

        async def one(k: int, lat: list[float], sem: asyncio.Semaphore) -> None:
            nonlocal claimed
            async with sem:
                t = time.perf_counter()
                got = await tasks.claim(
                    store, f"agent-{k % n_agents:05d}", lease_ms=60_000, now=clock.now()
                )
                lat.append(time.perf_counter() - t)
                claimed += len(got)

        console.print(f"{claims} claims one at a time against the full queue")
        lat: list[float] = []
        for k in range(claims):
            await one(k, lat, asyncio.Semaphore(1))
        console.print(f"{claims} claims by 50 concurrent agents (one client process)")
        lat50: list[float] = []
        sem = asyncio.Semaphore(50)
        t0 = time.perf_counter()
        await asyncio.gather(*(one(k + claims, lat50, sem) for k in range(claims)))
        claims_per_s = claims / (time.perf_counter() - t0)

        console.print("push routing the rest")
        t0 = time.perf_counter()
        assigned = await tasks.route_all(store, batch=batch, lease_ms=60_000, clock=clock.now)
        route_s = time.perf_counter() - t0
        left = sum(d.count for d in await tasks.queue_depths(store) if d.status == "queued")
        return {
            "agents": n_agents,
            "tasks": n_tasks,
            "batch": batch,
            "submit_per_s": round(n_tasks / submit_s, 1),
            "claimed": claimed,
            "assigned": assigned,
            "left_queued": left,
            "route_s": round(route_s, 3),
            "assignments_per_s": round(assigned / route_s, 1) if route_s else 0.0,
            **{f"claim_{k}": v for k, v in summary_ms(lat).items()},
            **{f"claim50_{k}": v for k, v in summary_ms(lat50).items()},
            "claims_per_s_50": round(claims_per_s, 1),
        }
    finally:
        await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--agents", type=int, default=1_000, help="Agents at the largest scale.")
    ap.add_argument("--tasks", type=int, default=100_000, help="Tasks at the largest scale.")
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    ap.add_argument(
        "--fsync",
        choices=("always", "everysec"),
        default="always",
        help="Embedded FalkorDB's appendfsync (the app's default: always).",
    )
    args = ap.parse_args()
    # The growth curve: 1x, 10x, 100x (the largest is the target size).
    scales = [(1, 100), (10, 10)] if args.quick else [(1, 100), (10, 10), (100, 1)]
    curve = []
    with graph_target(args.backend, fsync=args.fsync) as target:
        for scale, _ in scales:
            n_agents, n_tasks = max(10, args.agents // 100 * scale), args.tasks // 100 * scale
            console.rule(f"{scale}x: {n_agents} agents, {n_tasks:,} tasks")
            claims = min(1_000, n_tasks // 10)
            m = asyncio.run(run(target, n_agents, n_tasks, claims, args.batch))
            curve.append({"scale": scale, **m})
        backend = backend_label(target)
    top = curve[-1]
    shown = ("agents", "tasks", "assignments_per_s", "claim_p50_ms", "claim_p99_ms")
    rows = [(f"{c['scale']}x {k}", c[k]) for c in curve for k in shown]
    fsync = args.fsync if args.backend == "falkordb" else "neo4j default"
    metrics = {
        **top,
        "backend": backend,
        "fsync": fsync,
        "growth": [
            {
                k: c[k]
                for k in (
                    "scale",
                    "agents",
                    "tasks",
                    "assignments_per_s",
                    "claim_p50_ms",
                    "claim_p99_ms",
                    "submit_per_s",
                )
            }
            for c in curve
        ],
    }
    report("Routing", rows, metrics, args.json)


if __name__ == "__main__":
    main()
