"""One-by-one claims under concurrency, through the public GraphQL API.

50 agents (each with its own agent token) each claim one task (`claimTask`) and complete it
(`completeTask`), one at a time, against a full queue, for a fixed time. What a pull worker
sees: the HTTP round trip, authentication, GraphQL, one claim statement, one completion
statement. The app runs as `baton serve` with its scheduler off (no push routing competing
for the queue); the agents run in client processes of their own (`--procs`), so the Python
client is not the bottleneck it is with 50 coroutines in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import time
from typing import Any

import httpx
from _common import BACKENDS, backend_label, console, gql, graph_target, pct, report, serve_app

from app.core import tasks
from app.core.clock import Clock
from app.models import TaskIn

TOKEN = "bt_claims_bench_admin_token_0123456789abcdef"
CAPS = ["triage", "diagnose", "remediate"]
CLAIM = "mutation($a: String!) { claimTask(agentId: $a) { id fence } }"
COMPLETE = """mutation($t: String!, $a: String!, $f: Int!) {
  completeTask(taskId: $t, agentId: $a, fence: $f, result: {ok: true}) { status } }"""


async def _agents(url: str, pairs: list[tuple[str, str]], until: float) -> dict[str, Any]:
    """Claim and complete one task at a time per agent until ``until`` (perf_counter)."""
    claim_ms: list[float] = []
    complete_ms: list[float] = []
    empty = 0
    limits = httpx.Limits(max_connections=len(pairs) + 4, max_keepalive_connections=len(pairs))
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def worker(agent_id: str, token: str) -> None:
            nonlocal empty
            while time.perf_counter() < until:
                t0 = time.perf_counter()
                got = (await gql(http, url, token, CLAIM, a=agent_id))["claimTask"]
                t1 = time.perf_counter()
                if got is None:
                    empty += 1
                    await asyncio.sleep(0.01)
                    continue
                await gql(http, url, token, COMPLETE, t=got["id"], a=agent_id, f=got["fence"])
                claim_ms.append((t1 - t0) * 1000)
                complete_ms.append((time.perf_counter() - t1) * 1000)

        await asyncio.gather(*(worker(a, t) for a, t in pairs))
    return {"claim_ms": claim_ms, "complete_ms": complete_ms, "empty": empty}


def _proc(url: str, pairs: list[tuple[str, str]], go: Any, out: Any) -> None:
    """A client process: says it is ready, then runs its agents until the wall-clock end it
    is given (all processes start and stop together)."""
    out.put("ready")
    until_wall = go.get()
    until = time.perf_counter() + (until_wall - time.time())
    out.put(json.dumps(asyncio.run(_agents(url, pairs, until))))


async def setup(url: str, n_agents: int) -> list[tuple[str, str]]:
    """Agent principals (own tokens) and registered agents, through the API."""
    pairs = []
    async with httpx.AsyncClient(timeout=60) as http:
        for i in range(n_agents):
            aid = f"puller-{i:03d}"
            made = await gql(
                http,
                url,
                TOKEN,
                "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                i={
                    "id": f"p-{aid}",
                    "kind": "agent",
                    "name": aid,
                    "roles": ["AGENT"],
                    "agentId": aid,
                },
            )
            token = made["createPrincipal"]["token"]
            await gql(
                http,
                url,
                token,
                "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
                i={"id": aid, "name": aid, "capabilities": CAPS, "maxConcurrency": 1},
            )
            pairs.append((aid, token))
    return pairs


async def fill(target: Any, graph: str, n_tasks: int) -> None:
    """The full queue, written straight to the graph before the app starts."""
    store = await target.open(graph)
    clock, rng = Clock(), random.Random(11)
    try:
        for start in range(0, n_tasks, 5_000):
            items = [
                TaskIn(kind="pull", capability=rng.choice(CAPS), priority=rng.randint(0, 100))
                for _ in range(min(5_000, n_tasks - start))
            ]
            await tasks.submit_many(store, items, actor="bench", now=clock.now())
    finally:
        await store.close()


def run(target: Any, n_agents: int, n_tasks: int, seconds: float, procs: int) -> dict[str, Any]:
    graph = f"claims-{n_agents}-{n_tasks}"
    console.print(f"queueing {n_tasks:,} tasks")
    asyncio.run(fill(target, graph, n_tasks))
    app, url = serve_app(target, graph, TOKEN, BATON_SCHEDULER="false")
    try:
        pairs = asyncio.run(setup(url, n_agents))
        console.print(
            f"{n_agents} agents claim and complete for {seconds:.0f} s "
            f"from {procs} client processes"
        )
        ctx = mp.get_context("spawn")
        out, go = ctx.Queue(), ctx.Queue()
        workers = [
            ctx.Process(target=_proc, args=(url, pairs[k::procs], go, out)) for k in range(procs)
        ]
        for w in workers:
            w.start()
        for _ in workers:
            assert out.get(timeout=120) == "ready"
        t0 = time.time()
        for _ in workers:
            go.put(t0 + seconds)
        parts = [json.loads(out.get(timeout=seconds + 120)) for _ in workers]
        for w in workers:
            w.join(30)
        elapsed = time.time() - t0
    finally:
        app.kill()
        app.wait(10)
    claim = [x for p in parts for x in p["claim_ms"]]
    complete = [x for p in parts for x in p["complete_ms"]]
    return {
        "agents": n_agents,
        "queued": n_tasks,
        "seconds": round(elapsed, 2),
        "pairs": len(claim),
        "claims_per_s": round(len(claim) / elapsed, 1),
        "claim_p50_ms": round(pct(claim, 50), 2),
        "claim_p99_ms": round(pct(claim, 99), 2),
        "complete_p50_ms": round(pct(complete, 50), 2),
        "complete_p99_ms": round(pct(complete, 99), 2),
        "empty_claims": sum(p["empty"] for p in parts),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--tasks", type=int, default=100_000, help="Queued before the run.")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--procs", type=int, default=2, help="Client processes for the agents.")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    n_tasks, seconds = (5_000, 5.0) if args.quick else (args.tasks, args.seconds)
    with graph_target(args.backend) as target:
        m = run(target, args.agents, n_tasks, seconds, args.procs)
        backend = backend_label(target)
    shown = (
        "claims_per_s",
        "claim_p50_ms",
        "claim_p99_ms",
        "complete_p50_ms",
        "complete_p99_ms",
        "pairs",
        "empty_claims",
    )
    report(
        f"Claims through the API ({backend})",
        [(k, m[k]) for k in shown],
        {**m, "backend": backend},
        args.json,
    )


if __name__ == "__main__":
    main()
