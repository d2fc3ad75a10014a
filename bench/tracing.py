"""What decision tracing costs, paired on one graph, for every operation it touches.

Spans are written by push routing (a Decision per assignment, in the batched statement),
`finish` (one task's completion) and `complete_many` (a bulk completion); a claim's span is
its ASSIGNED_TO {via: 'claim'} edge, written either way, and a submit writes none, so those
two run identical statements on and off: their paired difference is shown as the noise floor,
not as a cost. Each of `--repeats` rounds runs every operation with tracing off and on,
in alternating order (off/on, then on/off), on the same graph; a round's median per
operation and mode is one sample. Reported: the median of the round medians, the min–max
spread, and the overhead per operation; `tracing_overhead_pct` is the worst of route,
finish and complete_many.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH_LIMITS, BENCH_TIMEOUT_MS, console, report

from app.core import agents, tasks, traces
from app.core.clock import Clock
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from app.graph.store import GraphStore
from app.models import AgentIn, TaskIn
from app.runtime import prepare_graph

CAPS = [f"cap{i}" for i in range(10)]
TRACED = ("route", "finish", "complete_many")  # the operations that write spans
SAME = ("claim", "submit")  # identical statements on and off: the noise floor
OPS = TRACED + SAME


async def _round(
    store: GraphStore,
    clock: Clock,
    rng: random.Random,
    n_agents: int,
    on: bool,
    batch: int,
    ops_n: int,
) -> dict[str, float]:
    """One mode's pass over every operation: per-operation median, in ms per item (route:
    per assignment, complete_many: per task)."""
    traces.set_enabled(on)
    out: dict[str, float] = {}
    t = time.perf_counter()
    n = await tasks.route(store, batch=batch, lease_ms=600_000, now=clock.now())
    out["route"] = (time.perf_counter() - t) * 1000 / max(n, 1)
    lat: dict[str, list[float]] = {op: [] for op in OPS}
    held = []
    for _ in range(ops_n):
        agent = f"agent-{rng.randrange(n_agents):05d}"
        t = time.perf_counter()
        got = await tasks.claim(store, agent, lease_ms=600_000, now=clock.now())
        lat["claim"].append(time.perf_counter() - t)
        held += [(agent, x) for x in got]
        t = time.perf_counter()
        await tasks.submit(
            store, TaskIn(kind="bench", capability=rng.choice(CAPS)), actor="bench", now=clock.now()
        )
        lat["submit"].append(time.perf_counter() - t)
    for agent, x in held:
        t = time.perf_counter()
        await tasks.finish(store, x.id, agent, x.fence, outcome="done", now=clock.now())
        lat["finish"].append(time.perf_counter() - t)
    for _ in range(max(1, ops_n // 50)):
        agent = f"agent-{rng.randrange(n_agents):05d}"
        got = await tasks.claim(store, agent, max_tasks=50, lease_ms=600_000, now=clock.now())
        if not got:
            continue
        t = time.perf_counter()
        await tasks.complete_many(
            store, agent, [tasks.Completion(x.id, x.fence) for x in got], now=clock.now()
        )
        lat["complete_many"].append((time.perf_counter() - t) / len(got))
    for op in ("claim", "submit", "finish", "complete_many"):
        out[op] = statistics.median(lat[op]) * 1000 if lat[op] else 0.0
    return out


async def run(
    n_agents: int, n_tasks: int, repeats: int, batch: int, ops_n: int
) -> dict[str, dict[bool, list[float]]]:
    """Per operation and mode, one median per round (ms per item)."""
    server = EmbeddedServer(
        Path(tempfile.mkdtemp(prefix="bench-tracing-")), timeout_ms=BENCH_TIMEOUT_MS
    )
    store = FalkorStore.at(server.start().uri, graph="bench", pool_size=16, limits=BENCH_LIMITS)
    clock = Clock()
    try:
        await prepare_graph(store)
        rng = random.Random(7)
        for i in range(n_agents):
            await agents.register(
                store,
                AgentIn(
                    id=f"agent-{i:05d}",
                    name=f"agent {i}",
                    capabilities=rng.sample(CAPS, 3),
                    max_concurrency=1_000,
                ),
                actor="bench",
                now=clock.now(),
            )
        for start in range(0, n_tasks, 5_000):
            items = [
                TaskIn(kind="bench", capability=rng.choice(CAPS), priority=rng.randint(0, 100))
                for _ in range(min(5_000, n_tasks - start))
            ]
            await tasks.submit_many(store, items, actor="bench", now=clock.now())
        console.print("warm-up pass, both modes (not counted)")
        for on in (False, True):
            await _round(store, clock, rng, n_agents, on, batch, ops_n // 4)
        samples: dict[str, dict[bool, list[float]]] = {op: {False: [], True: []} for op in OPS}
        for r in range(repeats):
            order = (False, True) if r % 2 == 0 else (True, False)
            console.print(f"round {r + 1}/{repeats}: tracing {' then '.join(map(_mode, order))}")
            for on in order:
                got = await _round(store, clock, rng, n_agents, on, batch, ops_n)
                for op, v in got.items():
                    samples[op][on].append(v)
        return samples
    finally:
        traces.set_enabled(True)
        await store.close()
        server.stop(force=True)


def _mode(on: bool) -> str:
    return "on" if on else "off"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--tasks", type=int, default=40_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sizes = (args.agents, args.tasks, args.repeats, 200)
    n_agents, n_tasks, repeats, ops_n = (20, 4_000, 2, 40) if args.quick else sizes
    console.rule(f"{n_agents} agents, {n_tasks:,} tasks, {repeats} paired rounds")
    samples = asyncio.run(run(n_agents, n_tasks, repeats, 500, ops_n))
    metrics: dict[str, object] = {
        "agents": n_agents,
        "tasks": n_tasks,
        "repeats": repeats,
        "backend": "falkordb-embedded",
    }
    rows: list[tuple[str, Any]] = []
    overhead: dict[str, float] = {}
    for op in OPS:
        off, on = samples[op][False], samples[op][True]
        m_off, m_on = statistics.median(off), statistics.median(on)
        pct = round(100 * (m_on - m_off) / m_off, 1) if m_off else 0.0
        overhead[op] = pct
        metrics |= {
            f"{op}_ms_off": round(m_off, 4),
            f"{op}_ms_on": round(m_on, 4),
            f"{op}_ms_off_range": [round(min(off), 4), round(max(off), 4)],
            f"{op}_ms_on_range": [round(min(on), 4), round(max(on), 4)],
            f"{op}_overhead_pct": pct,
        }
        what = "" if op in TRACED else " (same statement: noise)"
        rows.append((f"{op} ms/item off (min–max)", f"{m_off:.3f} ({min(off):.3f}–{max(off):.3f})"))
        rows.append((f"{op} ms/item on (min–max)", f"{m_on:.3f} ({min(on):.3f}–{max(on):.3f})"))
        rows.append((f"{op} overhead %{what}", pct))
    metrics["assignments_per_s_off"] = round(1000 / statistics.median(samples["route"][False]), 1)
    metrics["assignments_per_s_on"] = round(1000 / statistics.median(samples["route"][True]), 1)
    metrics["noise_pct"] = max(abs(overhead[op]) for op in SAME)
    metrics["tracing_overhead_pct"] = max(overhead[op] for op in TRACED)
    rows.append(("noise floor % (claim, submit)", metrics["noise_pct"]))
    rows.append(
        (
            "tracing_overhead_pct (worst of route, finish, complete_many)",
            metrics["tracing_overhead_pct"],
        )
    )
    report("Decision tracing overhead (paired rounds)", rows, metrics, args.json)


if __name__ == "__main__":
    main()
