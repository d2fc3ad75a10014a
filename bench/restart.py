"""Restart time of the embedded graph at the size issue 19 names: 100,000 tasks and
1,000,000 events, before and after the append-only file is rewritten (target: < 2 s after).

The tasks go through Baton's own statements (bulk submit, claim and complete: each task
gets its queued/assigned/completed events, its completion span, its fencing history); the
rest of the events are integration events (`emitEvent`'s shape: type, actor, subject, a
small JSON payload, a key) written in bulk by this script with one UNWIND per 10,000, since
a million one-by-one API calls would only measure the API. Then: the file's size and the
replay time as written, a rewrite, the size and replay time after it, and a check that the
restarted graph has every task and event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import BENCH_LIMITS, BENCH_TIMEOUT_MS, aof_bytes, console, report, restart_s
from rich.progress import Progress

from app.core import agents, events, tasks
from app.core.clock import Clock
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.models import AgentIn, TaskIn
from app.runtime import prepare_graph

CHUNK = 1_000
EVENTS = """MATCH (c:Counter {name: 'event'})
WITH c, c.seq AS base
SET c.seq = base + size($rows)
WITH base
UNWIND range(0, size($rows) - 1) AS i
CREATE (:Event {seq: base + i + 1, type: 'deployment.created', at: $now, actor: 'ci',
                subject: $rows[i].s, payload: $rows[i].p, key: $rows[i].k})"""


async def build(store: FalkorStore, n_tasks: int, n_events: int) -> None:
    clock = Clock()
    await prepare_graph(store)
    for i in range(20):
        await agents.register(
            store,
            AgentIn(id=f"w{i}", name=f"w{i}", capabilities=["work"], max_concurrency=CHUNK),
            actor="bench",
            now=clock.now(),
        )
    with Progress(console=console) as bar:
        job = bar.add_task("tasks (submit, claim, complete)", total=n_tasks)
        for done in range(0, n_tasks, CHUNK):
            size = min(CHUNK, n_tasks - done)
            items = [
                TaskIn(kind="bench", capability="work", payload={"n": done + k})
                for k in range(size)
            ]
            await tasks.submit_many(store, items, actor="bench", now=clock.now())
            agent = f"w{(done // CHUNK) % 20}"
            held = await tasks.claim(
                store, agent, max_tasks=size, lease_ms=600_000, now=clock.now()
            )
            await tasks.complete_many(
                store,
                agent,
                [tasks.Completion(t.id, t.fence, {"ok": 1}) for t in held],
                now=clock.now(),
            )
            bar.update(job, advance=size)
        left = n_events - await events.head(store)
        job = bar.add_task("integration events (bulk)", total=max(left, 0))
        for start in range(0, max(left, 0), 10_000):
            rows = [
                {
                    "s": f"deploy-{start + k}",
                    "k": f"ci:{start + k}",
                    "p": json.dumps({"service": f"svc-{(start + k) % 500}", "version": "1.2.3"}),
                }
                for k in range(min(10_000, left - start))
            ]
            await store.execute_text(EVENTS, rows=rows, now=clock.now())
            bar.update(job, advance=len(rows))


async def counts(store: FalkorStore) -> tuple[int, int]:
    rows = await store.execute_text(
        "MATCH (t:Task) WITH count(t) AS tasks MATCH (e:Event) RETURN tasks, count(e) AS events"
    )
    return int(rows[0]["tasks"]), int(rows[0]["events"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    args = ap.parse_args()
    n_tasks, n_events = (2_000, 20_000) if args.quick else (args.tasks, args.events)
    console.rule(f"restart: {n_tasks:,} tasks, {n_events:,} events")
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as tmp:
        server = EmbeddedServer(Path(tmp) / "graph", timeout_ms=BENCH_TIMEOUT_MS)
        server.start()

        async def go() -> tuple[int, int]:
            store = FalkorStore.at(server.uri, graph="bench", pool_size=4, limits=BENCH_LIMITS)
            try:
                await build(store, n_tasks, n_events)
                return await counts(store)
            finally:
                await store.close()

        async def after_restart() -> tuple[int, int]:
            store = FalkorStore.at(server.uri, graph="bench", pool_size=1, limits=BENCH_LIMITS)
            try:
                return await counts(store)
            finally:
                await store.close()

        try:
            t0 = time.monotonic()
            built = asyncio.run(go())
            build_s = time.monotonic() - t0
            before_bytes = aof_bytes(server)
            before_s = restart_s(server)
            server.rewrite_aof()
            after_bytes = aof_bytes(server)
            after_s = restart_s(server)
            again = asyncio.run(after_restart())
        finally:
            server.stop(force=True)
    if again != built:
        raise SystemExit(f"the restarted graph differs: {again} != {built}")
    m = {
        "tasks": built[0],
        "events": built[1],
        "build_s": round(build_s, 1),
        "aof_bytes": before_bytes,
        "restart_s": round(before_s, 3),
        "aof_bytes_after_rewrite": after_bytes,
        "restart_after_rewrite_s": round(after_s, 3),
        "target_restart_s": 2.0,
        "backend": "falkordb-embedded",
    }
    rows = [
        ("tasks / events in the graph", f"{built[0]:,} / {built[1]:,}"),
        ("built in, s", m["build_s"]),
        ("append-only file, MB (as written)", round(before_bytes / 1e6, 1)),
        ("restart (replay), s (as written)", m["restart_s"]),
        ("append-only file, MB (after rewrite)", round(after_bytes / 1e6, 1)),
        ("restart (replay), s (after rewrite; < 2)", m["restart_after_rewrite_s"]),
    ]
    report("Embedded graph restart at size", rows, m, args.json)


if __name__ == "__main__":
    main()
