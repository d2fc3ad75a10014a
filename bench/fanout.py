"""Subscription fan-out: N WebSocket subscribers on one `baton serve` (graphChanges), one
integration emitting events; latency from emitEvent to each subscriber's delivery.

The subscribers are spread over `--procs` client processes (each its own event loop), so
what is measured is the server's fan-out, not one Python client decoding N sockets; a
delivery's time is taken with the system-wide monotonic clock, comparable across processes.
Each event is emitted once the previous one reached every subscriber, and `--trials`
independent runs (each a fresh server and fresh subscribers) are pooled.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import time
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import httpx
import websockets
from _common import (
    BACKENDS,
    backend_label,
    console,
    gql,
    graph_target,
    report,
    serve_app,
    summary_ms,
)

HERE = Path(__file__).resolve().parent
TOKEN = "bt_fanout_bench_admin_token_0123456789"
SUB = 'subscription { graphChanges(types: ["bench.ping"]) { seq subject } }'


def _client(
    url: str, n: int, n_events: int, ready: Any, delivered: Synchronized[int], out: Any
) -> None:
    """One client process: ``n`` subscribers; sends back {subject: [delivery times]}."""

    async def main() -> dict[str, list[float]]:
        got: dict[str, list[float]] = {}
        sockets = []

        async def listen(ok: asyncio.Event) -> None:
            ws = await websockets.connect(
                url.replace("http", "ws") + "/graphql",
                compression=None,
                max_queue=None,
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            )
            sockets.append(ws)
            auth = {"Authorization": f"Bearer {TOKEN}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB}}))
            ok.set()
            seen = 0
            async for raw in ws:
                at = time.monotonic()
                msg = json.loads(raw)
                if msg["type"] == "next":
                    subject = msg["payload"]["data"]["graphChanges"]["subject"]
                    got.setdefault(subject, []).append(at)
                    with delivered.get_lock():
                        delivered.value += 1
                    seen += 1
                    if seen == n_events:
                        return

        oks = [asyncio.Event() for _ in range(n)]
        tasks = [asyncio.create_task(listen(ok)) for ok in oks]
        await asyncio.gather(*(ok.wait() for ok in oks))
        ready.put(n)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
        for ws in sockets:
            await ws.close()
        return got

    out.put(asyncio.run(main()))


async def run(target: Any, n_subs: int, n_events: int, procs: int) -> list[float]:
    """One trial: a fresh server, ``n_subs`` subscribers, ``n_events`` events; latencies (s)."""
    app, url = await asyncio.to_thread(
        serve_app,
        target,
        f"fanout-{n_subs}-{time.monotonic_ns()}",
        TOKEN,
        BATON_SCHEDULER="false",
    )
    ctx = mp.get_context("spawn")
    ready, out = ctx.Queue(), ctx.Queue()
    delivered: Synchronized[int] = ctx.Value("i", 0)  # type: ignore[assignment]
    shares = [n_subs // procs + (1 if i < n_subs % procs else 0) for i in range(procs)]
    clients = [
        ctx.Process(target=_client, args=(url, k, n_events, ready, delivered, out))
        for k in shares
        if k
    ]
    try:
        for c in clients:
            c.start()
        for _ in clients:
            await asyncio.to_thread(ready.get, True, 300)
        await asyncio.sleep(1.0)  # every subscription registered on the server
        sent: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=60) as http:
            for k in range(n_events):
                subject = f"ping-{k}"
                sent[subject] = time.monotonic()
                await gql(
                    http,
                    url,
                    TOKEN,
                    'mutation($s: String!) { emitEvent(type: "bench.ping", subject: $s) { seq } }',
                    s=subject,
                )
                deadline = time.monotonic() + 30
                while delivered.value < n_subs * (k + 1):
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{subject}: {delivered.value - n_subs * k} of "
                            f"{n_subs} subscribers got it"
                        )
                    await asyncio.sleep(0.001)
        lat: list[float] = []
        for _ in clients:
            got = await asyncio.to_thread(out.get, True, 300)
            for subject, times in got.items():
                lat += [t - sent[subject] for t in times]
        return lat
    finally:
        for c in clients:
            c.join(timeout=30)
            if c.is_alive():
                c.kill()
        app.terminate()
        app.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--subscribers", type=int, default=500, help="At the largest scale.")
    ap.add_argument("--trials", type=int, default=3, help="Independent runs per size.")
    ap.add_argument("--procs", type=int, default=2, help="Client processes.")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    sizes = (
        [5, 50]
        if args.quick
        else [args.subscribers // 100, args.subscribers // 10, args.subscribers]
    )
    trials, n_events = (1, 10) if args.quick else (args.trials, 20)
    growth = []
    with graph_target(args.backend) as target:
        for n in sizes:
            console.rule(f"{n} subscribers, {trials} trials of {n_events} events")
            lat: list[float] = []
            for _ in range(trials):
                lat += asyncio.run(run(target, max(1, n), n_events, args.procs))
            s = summary_ms(lat)
            growth.append(
                {
                    "subscribers": n,
                    "events": n_events * trials,
                    "deliveries": len(lat),
                    "fanout_p50_ms": s["p50_ms"],
                    "fanout_p99_ms": s["p99_ms"],
                }
            )
    keys = ("subscribers", "fanout_p50_ms", "fanout_p99_ms")
    m = {
        **growth[-1],
        "trials": trials,
        "procs": args.procs,
        "backend": backend_label(target),
        "target_p99_ms": 100.0,
        "growth": [{k: g[k] for k in keys} for g in growth],
    }
    rows = [
        (
            f"{g['subscribers']} subscribers p50 / p99 ms",
            f"{g['fanout_p50_ms']} / {g['fanout_p99_ms']}",
        )
        for g in growth
    ]
    report("Subscription fan-out", rows, m, args.json)


if __name__ == "__main__":
    main()
