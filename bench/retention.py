"""Retention: how fast old history leaves the graph, and what live work feels meanwhile.

A graph with H finished tasks from 100 days ago (each with its queue/assign/complete events
and its completion span) and a live queue of fresh tasks. First a baseline: one agent claims
and completes one task at a time for a few seconds. Then the same loop runs *while* a full
retention run (archive 100-day-old events to a day file, delete the old tasks with their
spans, then the archived events, in batches of `--batch` nodes per statement) goes on beside
it, on the same graph. Reports pruning throughput (nodes deleted per second, archive
included) and claim latency during pruning against the baseline. Target (issue 19): claim
p99 < 20 ms while pruning.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import BENCH_LIMITS, BENCH_TIMEOUT_MS, console, pct, report

from app.core import agents, retention, tasks
from app.core.clock import ManualClock
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.graph.store import GraphStore
from app.models import AgentIn, TaskIn
from app.runtime import prepare_graph

DAY = 86_400_000
CHUNK = 250


async def _history(store: GraphStore, clock: ManualClock, n: int) -> None:
    """n tasks submitted, claimed and completed (in bulk, as SDK agents do) by 10 agents."""
    for i in range(10):
        await agents.register(
            store,
            AgentIn(id=f"old-{i}", name=f"old {i}", capabilities=["old"], max_concurrency=CHUNK),
            actor="bench",
            now=clock.now(),
        )
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        await tasks.submit_many(
            store, [TaskIn(kind="bench", capability="old")] * size, actor="bench", now=clock.now()
        )
        agent = f"old-{(done // CHUNK) % 10}"
        held = await tasks.claim(store, agent, max_tasks=size, lease_ms=60_000, now=clock.now())
        await tasks.complete_many(
            store,
            agent,
            [tasks.Completion(t.id, t.fence, {"ok": 1}) for t in held],
            now=clock.now(),
        )
        done += size
        if done % 5_000 < CHUNK:
            console.print(f"  history: {done:,} tasks")


async def _claims(store: GraphStore, clock: ManualClock, stop: asyncio.Event) -> list[float]:
    """Claim and complete one live task at a time until ``stop``: claim latencies (s)."""
    lat: list[float] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        got = await tasks.claim(store, "live", lease_ms=60_000, now=clock.now())
        lat.append(time.perf_counter() - t0)
        if got:
            await tasks.complete_many(
                store, "live", [tasks.Completion(got[0].id, got[0].fence)], now=clock.now()
            )
        await asyncio.sleep(0)
    return lat


async def run(history: int, queued: int, batch: int, baseline_s: float) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    server = EmbeddedServer(data / "graph", timeout_ms=BENCH_TIMEOUT_MS)
    store = FalkorStore.at(server.start().uri, graph="bench", pool_size=8, limits=BENCH_LIMITS)
    clock = ManualClock(start=1_760_000_000_000)
    try:
        await prepare_graph(store)
        console.print(f"writing {history:,} finished tasks (100 days ago)")
        await _history(store, clock, history)
        clock.advance(70 * DAY)
        await agents.register(
            store,
            AgentIn(id="live", name="live", capabilities=["live"], max_concurrency=1_000),
            actor="bench",
            now=clock.now(),
        )
        for start in range(0, queued, 5_000):
            await tasks.submit_many(
                store,
                [TaskIn(kind="bench", capability="live")] * min(5_000, queued - start),
                actor="bench",
                now=clock.now(),
            )
        clock.advance(30 * DAY)

        console.print(f"baseline: one claimer for {baseline_s:.0f} s")
        stop = asyncio.Event()
        loop = asyncio.create_task(_claims(store, clock, stop))
        await asyncio.sleep(baseline_s)
        stop.set()
        base = await loop

        console.print("pruning, with the claimer running")
        policy = retention.Policy(
            tasks_days=30, facts_days=30, events_days=90, archive_dir=data / "archive", batch=batch
        )
        stop = asyncio.Event()
        loop = asyncio.create_task(_claims(store, clock, stop))
        t0 = time.perf_counter()
        rep = await retention.run(store, policy, holder="bench", clock=clock.now)
        prune_s = time.perf_counter() - t0
        stop.set()
        during = await loop
        archived = sum(e.events for e in rep.archived)
        return {
            "pruned_tasks": rep.counts.get("tasks", 0),
            "pruned_decisions": rep.counts.get("decisions", 0),
            "pruned_events": rep.counts.get("events", 0),
            "archived_events": archived,
            "prune_s": round(prune_s, 2),
            "nodes_per_s": round(rep.total / prune_s, 1) if prune_s else 0.0,
            "claims_baseline": len(base),
            "claims_during": len(during),
            "claim_p50_ms_baseline": round(pct(base, 50) * 1000, 2),
            "claim_p99_ms_baseline": round(pct(base, 99) * 1000, 2),
            "claim_p50_ms_during": round(pct(during, 50) * 1000, 2),
            "claim_p99_ms_during": round(pct(during, 99) * 1000, 2),
            "claim_max_ms_during": round(max(during) * 1000, 2) if during else 0.0,
        }
    finally:
        await store.close()
        server.stop(force=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--history", type=int, default=50_000, help="Finished old tasks.")
    ap.add_argument("--queued", type=int, default=20_000, help="Live queued tasks.")
    ap.add_argument("--batch", type=int, default=40, help="Nodes per pruning statement.")
    args = ap.parse_args()
    history, queued = (2_000, 2_000) if args.quick else (args.history, args.queued)
    console.rule(f"retention: {history:,} old tasks, {queued:,} queued")
    m = asyncio.run(run(history, queued, args.batch, 2.0 if args.quick else 10.0))
    metrics = {
        "history_tasks": history,
        "queued": queued,
        "batch": args.batch,
        "backend": "falkordb-embedded",
        **m,
        "target_claim_p99_ms": 20.0,
    }
    rows = [
        (
            "pruned tasks / spans / events",
            f"{m['pruned_tasks']:,} / {m['pruned_decisions']:,} / {m['pruned_events']:,}",
        ),
        ("archived events", m["archived_events"]),
        ("pruning run, s (archive included)", m["prune_s"]),
        ("nodes deleted per s", m["nodes_per_s"]),
        (
            "claim p50 / p99 ms, baseline",
            f"{m['claim_p50_ms_baseline']} / {m['claim_p99_ms_baseline']}",
        ),
        (
            "claim p50 / p99 / max ms, during pruning",
            f"{m['claim_p50_ms_during']} / {m['claim_p99_ms_during']} / {m['claim_max_ms_during']}",
        ),
    ]
    report("Retention: pruning throughput and live claims meanwhile", rows, metrics, args.json)


if __name__ == "__main__":
    main()
