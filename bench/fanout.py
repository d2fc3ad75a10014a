"""Subscription fan-out: N WebSocket subscribers on one `baton serve` (graphChanges), one
integration emitting events; latency from emitEvent to each subscriber's delivery."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
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


async def run(target: Any, n_subs: int, n_events: int) -> dict[str, object]:
    app, url = await asyncio.to_thread(
        serve_app, target, f"fanout-{n_subs}", TOKEN, BATON_SCHEDULER="false"
    )
    sockets: list[websockets.ClientConnection] = []
    got: dict[str, list[float]] = {}
    try:
        async with httpx.AsyncClient(timeout=60) as http:

            async def listen(ready: asyncio.Event) -> None:
                ws = await websockets.connect(
                    url.replace("http", "ws") + "/graphql",
                    subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
                )  # noqa: E501
                sockets.append(ws)
                await ws.send(
                    json.dumps(
                        {"type": "connection_init", "payload": {"Authorization": f"Bearer {TOKEN}"}}
                    )
                )
                await ws.recv()
                await ws.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUB}})
                )
                ready.set()
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg["type"] == "next":
                        subject = msg["payload"]["data"]["graphChanges"]["subject"]
                        got.setdefault(subject, []).append(time.perf_counter())

            readies = [asyncio.Event() for _ in range(n_subs)]
            for r in readies:
                asyncio.create_task(listen(r))
            await asyncio.gather(*(r.wait() for r in readies))
            await asyncio.sleep(1.0)
            lat: list[float] = []
            for k in range(n_events):
                subject = f"ping-{k}"
                t0 = time.perf_counter()
                await gql(http, url, TOKEN, "mutation($s: String!) { emitEvent(type: "
                          '"bench.ping", subject: $s) { seq } }', s=subject)  # fmt: skip
                deadline = time.perf_counter() + 20
                while len(got.get(subject, [])) < n_subs and time.perf_counter() < deadline:
                    await asyncio.sleep(0.002)
                if len(got.get(subject, [])) < n_subs:
                    raise RuntimeError(
                        f"only {len(got.get(subject, []))} of {n_subs} got {subject}"
                    )
                lat += [t - t0 for t in got[subject]]
        s = summary_ms(lat)
        return {"subscribers": n_subs, "events": n_events, "deliveries": len(lat),
                "fanout_p50_ms": s["p50_ms"], "fanout_p99_ms": s["p99_ms"],
                "backend": backend_label(target)}  # fmt: skip
    finally:
        for ws in sockets:
            await ws.close()
        app.terminate()
        app.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--subscribers", type=int, default=500, help="At the largest scale.")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    sizes = [5, 50] if args.quick else [args.subscribers // 100, args.subscribers // 10,
                                        args.subscribers]  # fmt: skip
    growth = []
    with graph_target(args.backend) as target:
        for n in sizes:
            console.rule(f"{n} subscribers")
            growth.append(asyncio.run(run(target, max(1, n), 10 if args.quick else 20)))
    keys = ("subscribers", "fanout_p50_ms", "fanout_p99_ms")
    m = {**growth[-1], "growth": [{k: g[k] for k in keys} for g in growth]}
    rows = [(f"{g['subscribers']} subscribers p50 / p99 ms",
             f"{g['fanout_p50_ms']} / {g['fanout_p99_ms']}") for g in growth]  # fmt: skip
    report("Subscription fan-out", rows, m, args.json)


if __name__ == "__main__":
    main()
