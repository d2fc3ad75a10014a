"""Baton vs Celery, end to end on the same machine in the same run.

The same workload both ways: N no-op tasks submitted, each done by a worker, each result
acknowledged, wall time from the first submit to the last result.
- Celery 5: Redis broker + result backend, 2 prefork workers, acks_late (bench/_peer_celery_side).
- Baton: the app (`baton serve`, its scheduler pushing work) on the embedded graph, SDK agents
  in a separate process; tasks go in through `submitTasks` (batches of 250) and come back
  through `completeTasks`, all over the public GraphQL API. Baton also writes the graph state,
  events and provenance for every step, which Celery does not.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import BACKENDS, backend_label, console, gql, graph_target, pct, report, serve_app
from _peer_celery_side import run_celery_isolated

HERE = Path(__file__).resolve().parent
TOKEN = "bt_peer_bench_admin_token_0123456789abcdef"


async def run_baton(target: Any, n: int, n_agents: int) -> dict[str, float]:
    app, url = await asyncio.to_thread(
        serve_app, target, f"peer-{n}", TOKEN, BATON_ROUTE_INTERVAL_MS="20"
    )
    workers = None
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            pairs = []
            for i in range(n_agents):
                made = await gql(
                    http, url, TOKEN,
                    "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                    i={"id": f"p-w{i}", "kind": "agent", "name": f"w{i}", "roles": ["AGENT"],
                       "agentId": f"w{i}"},
                )  # fmt: skip
                pairs.append(f"w{i}={made['createPrincipal']['token']}")
            workers = subprocess.Popen(
                [sys.executable, str(HERE / "_baton_workers.py"), url, *pairs],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            while True:
                got = await gql(http, url, TOKEN, "{ agents(status: ONLINE) { nodes { id } } }")
                if len(got["agents"]["nodes"]) == n_agents:
                    break
                await asyncio.sleep(0.1)

            async def done_count() -> int:
                got = await gql(http, url, TOKEN, "{ agents(first: 500) { nodes { done } } }")
                return sum(a["done"] for a in got["agents"]["nodes"])

            async def submit(count: int) -> None:
                batch = 250
                sem = asyncio.Semaphore(4)

                async def one(start: int) -> None:
                    async with sem:
                        items = [{"kind": "noop", "capability": "noop", "payload": {"i": i}}
                                 for i in range(start, min(count, start + batch))]  # fmt: skip
                        await gql(http, url, TOKEN, "mutation($i: [SubmitTaskInput!]!) "
                                   "{ submitTasks(inputs: $i) { id } }", i=items)  # fmt: skip

                await asyncio.gather(*(one(s) for s in range(0, count, batch)))

            await submit(200)  # warm-up, like the Celery side
            while await done_count() < 200:
                await asyncio.sleep(0.05)
            start = time.perf_counter()
            await submit(n)
            while await done_count() < 200 + n:
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - start
            lifecycle = await lifecycle_ms(http, url)
        return {"baton_tasks_per_s": round(n / elapsed, 1), "baton_seconds": round(elapsed, 3),
                "lifecycle_p50_ms": round(pct(lifecycle, 50), 1),
                "lifecycle_p99_ms": round(pct(lifecycle, 99), 1)}  # fmt: skip
    finally:
        for p in (workers, app):
            if p is not None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


async def lifecycle_ms(http: httpx.AsyncClient, url: str) -> list[float]:
    """submit -> assign -> complete per task, from the graph's own timestamps."""
    out: list[float] = []
    after = None
    while True:
        got = await gql(http, url, TOKEN, "query($a: String) { tasks(status: \"done\", "
                        "first: 500, after: $a) { nodes { createdAt endedAt } pageInfo "
                        "{ endCursor hasNextPage } } }", a=after)  # fmt: skip
        page = got["tasks"]
        out += [float(t["endedAt"] - t["createdAt"]) for t in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tasks", type=int, default=5_000, help="Tasks at the largest scale.")
    ap.add_argument("--agents", type=int, default=4)
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    sizes = [50, 500] if args.quick else [args.tasks // 100, args.tasks // 10, args.tasks]
    growth = []
    with graph_target(args.backend) as target:
        for n in sizes:
            console.rule(f"{n} tasks: Baton ({args.agents} SDK agents), then Celery (2 workers)")
            baton = asyncio.run(run_baton(target, n, args.agents))
            celery = run_celery_isolated(n)
            ratio = baton["baton_tasks_per_s"] / celery["celery_tasks_per_s"]
            growth.append({"tasks": n, **baton, **celery, "celery_ratio": round(ratio, 3)})
        backend = backend_label(target)
    metrics = {**growth[-1], "agents": args.agents, "backend": backend,
               "growth": growth}  # fmt: skip
    rows = [(f"{g['tasks']} tasks: Baton / Celery tasks/s (ratio)",
             f"{g['baton_tasks_per_s']} / {g['celery_tasks_per_s']} ({g['celery_ratio']})")
            for g in growth]  # fmt: skip
    lifecycle = f"{metrics['lifecycle_p50_ms']} / {metrics['lifecycle_p99_ms']}"
    rows.append(("lifecycle p50 / p99 ms (largest)", lifecycle))
    report("Baton vs Celery (end to end)", rows, metrics, args.json)


if __name__ == "__main__":
    main()
