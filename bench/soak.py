"""Soak: a real `baton serve` under steady mixed load (SDK workers doing pushed work,
submitters, emitted events) for minutes, sampling the app's resident memory. A leak shows as
a positive slope once warm (the first fifth of the run is warm-up, not counted); a few
seconds cannot tell a leak from warm-up, so this lives here and not in the test suite.

Metrics: rss_slope_mb_per_min (least squares over the warm samples), rss_warm_mb,
rss_end_mb, tasks_submitted, tasks_done, requests, errors, minutes. On the embedded
FalkorDB also the storage cost over time (issue 19): the append-only file's growth per minute
while the app idles (its scheduler running, nobody calling) and under the load, and the
graph server's restart time (replaying the file) after the load, before and after a rewrite.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
from _common import (
    BACKENDS,
    backend_label,
    console,
    gql,
    graph_target,
    report,
    restart_s,
    serve_app,
)
from _common import aof_bytes as server_aof_bytes

TOKEN = "bt_soak_bench_admin_token_0123456789ab"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [s[0] for s in samples], [s[1] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 60 if var else 0.0


def aof_bytes(target: Any) -> int:
    """Size of the embedded server's append-only files (0 on Neo4j)."""
    return server_aof_bytes(target.server) if target.backend == "falkordb" else 0


async def run(target: Any, minutes: float, idle_minutes: float, sample_s: float) -> dict[str, Any]:
    from baton_sdk import Agent, TaskContext

    app, url = await asyncio.to_thread(serve_app, target, "soak", TOKEN)
    await asyncio.sleep(5)  # start-up writes (schema, seeds of the counter) are not idling
    idle0, t_idle = aof_bytes(target), time.monotonic()
    await asyncio.sleep(idle_minutes * 60)
    idle_per_min = (aof_bytes(target) - idle0) / ((time.monotonic() - t_idle) / 60)
    load0 = aof_bytes(target)
    errors: list[str] = []
    requests = submitted = 0
    samples: list[tuple[float, float]] = []
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            workers = []
            for i in range(4):
                aid = f"soak-{i}"
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
                w = Agent(
                    url,
                    made["createPrincipal"]["token"],
                    name=aid,
                    max_concurrency=8,
                    heartbeat_s=1,
                    poll_s=0.5,
                )

                @w.handles("soak")
                async def work(t: TaskContext) -> int:
                    return int(t.payload["n"])

                workers.append(w)
            running = [asyncio.create_task(w.run()) for w in workers]
            t0 = time.monotonic()
            stop = t0 + minutes * 60

            async def call(q: str, **v: Any) -> None:
                nonlocal requests
                requests += 1
                try:
                    await gql(http, url, TOKEN, q, **v)
                except Exception as exc:  # noqa: BLE001 - counted and reported, the soak goes on
                    errors.append(str(exc)[:200])

            async def submitter() -> None:
                nonlocal submitted
                while time.monotonic() < stop:
                    submitted += 1
                    await call(
                        "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }",
                        i={"kind": "soak", "capability": "soak", "payload": {"n": submitted}},
                    )
                    await call(
                        'mutation($s: String) { emitEvent(type: "soak.tick", '
                        "subject: $s) { seq } }",
                        s=f"s{submitted}",
                    )

            async def sampler() -> None:
                while time.monotonic() < stop:
                    samples.append((time.monotonic() - t0, rss_mb(app.pid)))
                    await asyncio.sleep(sample_s)

            await asyncio.gather(sampler(), *(submitter() for _ in range(2)))
            for _ in range(600):  # let the workers finish what is queued
                depths = await gql(http, url, TOKEN, "{ queueDepths { count } }")
                if not depths["queueDepths"]:
                    break
                await asyncio.sleep(0.1)
            for w in workers:
                w.stop()
            await asyncio.gather(*running)
            got = await gql(http, url, TOKEN, "{ agents(first: 10) { nodes { done } } }")
            done = sum(a["done"] for a in got["agents"]["nodes"])
    finally:
        app.terminate()
        app.wait(timeout=20)
    load_per_min = (aof_bytes(target) - load0) / minutes
    storage: dict[str, Any] = {}
    if target.backend == "falkordb":
        storage = {
            "aof_idle_bytes_per_min": round(idle_per_min),
            "aof_load_bytes_per_min": round(load_per_min),
            "aof_bytes_after_load": aof_bytes(target),
            "restart_s": round(restart_s(target.server), 3),
        }
        target.server.rewrite_aof()
        storage |= {
            "aof_bytes_after_rewrite": aof_bytes(target),
            "restart_after_rewrite_s": round(restart_s(target.server), 3),
        }
    warm = [s for s in samples if s[0] >= minutes * 60 / 5]
    return {
        **storage,
        "idle_minutes": idle_minutes,
        "minutes": minutes,
        "tasks_submitted": submitted,
        "tasks_done": done,
        "requests": requests,
        "errors": len(errors),
        "first_errors": errors[:3],
        "rss_warm_mb": round(warm[0][1], 1) if warm else 0.0,
        "rss_end_mb": round(samples[-1][1], 1) if samples else 0.0,
        "rss_slope_mb_per_min": round(slope_per_min(warm), 3),
        "samples": len(samples),
        "backend": backend_label(target),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="20 seconds instead of --minutes")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--idle-minutes", type=float, default=2.0, help="idle phase first")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    minutes = 1 / 3 if args.quick else args.minutes
    idle = 1 / 6 if args.quick else args.idle_minutes
    with graph_target(args.backend) as target:
        console.rule(f"soak: {idle:g} min idle, then {minutes:g} min of mixed load")
        m = asyncio.run(run(target, minutes, idle, 1.0 if args.quick else 5.0))
    rows = [
        ("minutes", m["minutes"]),
        ("tasks submitted / done", f"{m['tasks_submitted']} / {m['tasks_done']}"),
        ("requests", m["requests"]),
        ("errors", m["errors"]),
        ("RSS warm / end MB", f"{m['rss_warm_mb']} / {m['rss_end_mb']}"),
        ("RSS slope MB/min (warm)", m["rss_slope_mb_per_min"]),
    ]
    if "restart_s" in m:
        rows += [
            (
                "AOF growth idle / load, KB/min",
                f"{m['aof_idle_bytes_per_min'] / 1024:.1f} / "
                f"{m['aof_load_bytes_per_min'] / 1024:.0f}",
            ),
            (
                "AOF after load / after rewrite, MB",
                f"{m['aof_bytes_after_load'] / 1e6:.1f} / {m['aof_bytes_after_rewrite'] / 1e6:.1f}",
            ),
            (
                "restart s (replay) / after rewrite",
                f"{m['restart_s']} / {m['restart_after_rewrite_s']}",
            ),
        ]
    report("Soak: memory under steady load", rows, m, args.json)


if __name__ == "__main__":
    main()
