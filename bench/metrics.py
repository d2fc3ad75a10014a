"""Cost of a /metrics scrape on a big event log, on the embedded graph.

The graph-derived gauges are one read statement (``metrics/summary``: event counts by type,
approvals pending, time to decision, runs by status) plus the spend-per-team roll-up. This
loads E events spread over ~40 types (a third of them ones the scrape counts), P proposals
(half decided by a human) and R runs, then times both statements as the scrape calls them.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import BENCH_LIMITS, BENCH_TIMEOUT_MS, report, summary_ms

from app.core import costs
from app.core.metrics import COUNTED
from app.core.metrics import summary as read_summary
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.runtime import prepare_graph

OTHER = [f"other.t{i}" for i in range(20)] + ["lock.acquired", "agent.online", "cost.reported"]
LOAD_EVENTS = """UNWIND range($from, $to) AS i
CREATE (:Event {seq: i, type: $types[i % size($types)], at: i, actor: 'bench', payload: '{}'})"""
LOAD_PROPOSALS = """UNWIND range(1, $n) AS i
CREATE (:Proposal {id: 'p' + toString(i), createdAt: i * 1000,
                   status: CASE WHEN i % 2 = 0 THEN 'approved' ELSE 'pending' END,
                   decidedBy: CASE WHEN i % 2 = 0 THEN 'human' ELSE null END,
                   decidedAt: CASE WHEN i % 2 = 0 THEN (i + i % 600) * 1000 ELSE null END})"""
LOAD_RUNS = """UNWIND range(1, $n) AS i
CREATE (:Run {id: 'r' + toString(i), status: CASE i % 3 WHEN 0 THEN 'done' WHEN 1 THEN 'running'
              ELSE 'failed' END})"""


async def timed(call: object, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await call()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


async def main(events: int, proposals: int, runs: int, rounds: int, as_json: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp), timeout_ms=BENCH_TIMEOUT_MS)
        server.start()
        assert server.info is not None
        store = FalkorStore.at(server.info.uri, "metrics_bench", limits=BENCH_LIMITS)
        try:
            await prepare_graph(store)
            types = COUNTED + OTHER * 2  # the counted types are about a third of the log
            for lo in range(1, events + 1, 20_000):
                await store.execute_text(
                    LOAD_EVENTS, **{"from": lo, "to": min(events, lo + 19_999), "types": types}
                )
            await store.execute_text(LOAD_PROPOSALS, n=proposals)
            await store.execute_text(LOAD_RUNS, n=runs)
            row = await read_summary(store)
            counted = sum(e["n"] for e in row["events"])
            await timed(lambda: read_summary(store), 3)  # warm up
            summary = summary_ms(await timed(lambda: read_summary(store), rounds))
            spend = summary_ms(await timed(lambda: costs.by_group(store, "team", 0), rounds))
        finally:
            await store.drop_all()
            await store.close()
            server.stop()
    rows = [
        ("events in the log", events),
        ("events counted", counted),
        ("proposals", proposals),
        ("runs", runs),
        ("summary statement p50 ms", summary["p50_ms"]),
        ("summary statement p99 ms", summary["p99_ms"]),
        ("spend per team p50 ms", spend["p50_ms"]),
    ]
    metrics = {
        "events": events,
        "events_counted": counted,
        "proposals": proposals,
        "runs": runs,
        "summary_p50_ms": summary["p50_ms"],
        "summary_p99_ms": summary["p99_ms"],
        "spend_p50_ms": spend["p50_ms"],
        "pending": row["pending"],
        "decided": row["decided"],
        "backend": "falkordb-embedded",
    }
    report("/metrics scrape statements", rows, metrics, as_json)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--proposals", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="10k events, 10 rounds")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.events, a.proposals, a.runs, a.rounds = 10_000, 200, 50, 10
    asyncio.run(main(a.events, a.proposals, a.runs, a.rounds, a.json))
