"""Baton vs Celery, like for like, on the same machine in the same run.

The same no-op work both ways, every result read back by the client, in two modes:
- **one by one**: each task submitted by its own call and its result read by the client,
  `--clients` (16) callers at a time. Celery: `noop.delay(i).get()` per task from a thread
  pool. Baton: `submitTask` per task over HTTP, the completion seen on a `graphChanges`
  subscription, then `task(id) { result }` per task.
- **bulk**: the best batch API each side has, batches of `--batch` (250). Celery: a `group`
  per batch, `GroupResult.get()`. Baton: `submitTasks` per batch (the SDK agents complete in
  bulk with `completeTasks`), every result read back through `tasks` pages.

Same durability (Baton's graph and Celery's Redis both keep an append-only file with
`appendfsync always`, or both `everysec` with `--fsync everysec`), same worker parallelism
(a sweep: Celery `-c W` prefork processes with prefetch 4; Baton W SDK agents with 4 slots
each, in one worker process). Repeats are interleaved (Baton, Celery, Celery, Baton, …) and
each side is reported as median and min–max; the ratio is of medians. Also measured: one
task at a time with an empty queue, submit -> handler start and submit -> result visible.
Baton does more per task: graph state, events, fencing and provenance.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from _common import BACKENDS, backend_label, console, gql, graph_target, pct, report, serve_app
from _peer_celery_side import CeleryDriver

HERE = Path(__file__).resolve().parent
TOKEN = "bt_peer_bench_admin_token_0123456789abcdef"
SUBMIT = "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }"
SUBMIT_MANY = "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id } }"
RESULT = "query($id: ID!) { task(id: $id) { status result } }"
DONE_PAGE = """query($a: String) { tasks(status: "done", first: 500, after: $a) {
  nodes { id result } pageInfo { endCursor hasNextPage } } }"""


class BatonSide:
    """`baton serve` on the bench graph, W SDK agents in a worker process, and a client that
    sees completions on a `graphChanges` subscription."""

    def __init__(self, target: Any, workers: int) -> None:
        self.target, self.workers = target, workers
        self.done: dict[str, asyncio.Event] = {}
        self.cursor: str | None = None  # the done-tasks page cursor (bulk reads)

    async def start(self) -> None:
        self.app, self.url = await asyncio.to_thread(
            serve_app, self.target, f"peer-w{self.workers}", TOKEN, BATON_ROUTE_INTERVAL_MS="20"
        )
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.http = httpx.AsyncClient(timeout=120, limits=limits)
        pairs = []
        for i in range(self.workers):
            made = await self.gql(
                "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                i={
                    "id": f"p-w{i}",
                    "kind": "agent",
                    "name": f"w{i}",
                    "roles": ["AGENT"],
                    "agentId": f"w{i}",
                },
            )
            pairs.append(f"w{i}={made['createPrincipal']['token']}")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_baton_workers.py"), self.url, *pairs],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while (
            len((await self.gql("{ agents(status: ONLINE) { nodes { id } } }"))["agents"]["nodes"])
            < self.workers
        ):
            await asyncio.sleep(0.1)
        head = int((await self.gql("{ eventHead }"))["eventHead"])
        self.ws = await websockets.connect(
            self.url.replace("http://", "ws://") + "/graphql",
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            max_size=None,
        )
        auth = {"Authorization": f"Bearer {TOKEN}"}
        await self.ws.send(json.dumps({"type": "connection_init", "payload": auth}))
        assert json.loads(await self.ws.recv())["type"] == "connection_ack"
        await self.ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": 'subscription($a: Long) { graphChanges(types: ["task.completed"], '
                        "after: $a) { subject } }",
                        "variables": {"a": head},
                    },
                }
            )
        )
        self.pump = asyncio.create_task(self._pump())
        await self.run("bulk", 200, 100, 8)  # warm-up, as on the Celery side

    async def _pump(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg["type"] == "next":
                tid = msg["payload"]["data"]["graphChanges"]["subject"]
                self.done.setdefault(tid, asyncio.Event()).set()
            elif msg["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))

    async def gql(self, query: str, **variables: object) -> dict[str, Any]:
        return await gql(self.http, self.url, TOKEN, query, **variables)

    async def submit_one(self, i: int) -> str:
        task = {"kind": "noop", "capability": "noop", "payload": {"i": i}}
        return str((await self.gql(SUBMIT, i=task))["submitTask"]["id"])

    async def _completed(self, tid: str) -> None:
        await self.done.setdefault(tid, asyncio.Event()).wait()

    async def run(self, mode: str, n: int, batch: int, clients: int) -> dict[str, Any]:
        start = time.perf_counter()
        if mode == "one":
            sem = asyncio.Semaphore(clients)

            async def one(i: int) -> None:
                async with sem:
                    tid = await self.submit_one(i)
                    await self._completed(tid)
                    got = (await self.gql(RESULT, id=tid))["task"]
                    assert got["result"]["i"] == i, got

            await asyncio.gather(*(one(i) for i in range(n)))
        else:
            sem = asyncio.Semaphore(4)

            async def submit(s: int) -> list[str]:
                async with sem:
                    items = [
                        {"kind": "noop", "capability": "noop", "payload": {"i": i}}
                        for i in range(s, min(n, s + batch))
                    ]
                    return [t["id"] for t in (await self.gql(SUBMIT_MANY, i=items))["submitTasks"]]

            ids = [
                i
                for part in await asyncio.gather(*(submit(s) for s in range(0, n, batch)))
                for i in part
            ]
            await asyncio.gather(*(self._completed(t) for t in ids))
            wanted, read = set(ids), 0
            while read < len(wanted):  # every result, a page of 500 at a time
                page = (await self.gql(DONE_PAGE, a=self.cursor))["tasks"]
                read += sum(1 for t in page["nodes"] if t["id"] in wanted and t["result"])
                self.cursor = page["pageInfo"]["endCursor"] or self.cursor
                if not page["pageInfo"]["hasNextPage"] and read < len(wanted):
                    await asyncio.sleep(0.01)
        return {"seconds": time.perf_counter() - start}

    async def latency(self, samples: int) -> dict[str, Any]:
        start_ms, result_ms = [], []
        for i in range(samples):
            t0 = time.time()
            tid = await self.submit_one(i)
            await self._completed(tid)
            got = (await self.gql(RESULT, id=tid))["task"]
            result_ms.append((time.time() - t0) * 1000)
            start_ms.append((got["result"]["started"] - t0) * 1000)
        return {"start_ms": start_ms, "result_ms": result_ms}

    async def stop(self) -> None:
        if hasattr(self, "pump"):
            self.pump.cancel()
            with contextlib.suppress(Exception):
                await self.ws.close()
        if hasattr(self, "http"):
            await self.http.aclose()
        for p in (getattr(self, "proc", None), getattr(self, "app", None)):
            if p is None:
                continue
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def spread(xs: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(xs), 1),
        "min": round(min(xs), 1),
        "max": round(max(xs), 1),
    }


async def sweep(target: Any, args: argparse.Namespace) -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    latency: dict[str, Any] = {}
    for workers in args.workers:
        console.rule(f"{workers} workers a side")
        baton = BatonSide(target, workers)
        celery: CeleryDriver | None = None
        try:
            await baton.start()
            celery = await asyncio.to_thread(CeleryDriver, workers, args.fsync)
            if workers == args.workers[0]:  # single-task latency, queue empty
                b = await baton.latency(args.samples)
                c = await asyncio.to_thread(celery.ask, cmd="latency", samples=args.samples)
                latency = {
                    f"{side}_{k}_{p}": round(pct(v[k], q), 2)
                    for side, v in (("baton", b), ("celery", c))
                    for k in ("start_ms", "result_ms")
                    for p, q in (("p50", 50), ("p99", 99))
                }
            for n in args.sizes:
                for mode in ("one", "bulk"):
                    rates: dict[str, list[float]] = {"baton": [], "celery": []}
                    for r in range(args.repeats):
                        order = ("baton", "celery") if r % 2 == 0 else ("celery", "baton")
                        for side in order:
                            if side == "baton":
                                got = await baton.run(mode, n, args.batch, args.clients)
                            else:
                                got = await asyncio.to_thread(
                                    celery.ask,
                                    cmd="run",
                                    mode=mode,
                                    n=n,
                                    batch=args.batch,
                                    clients=args.clients,
                                )
                            rates[side].append(n / got["seconds"])
                    cell = {
                        "workers": workers,
                        "tasks": n,
                        "mode": mode,
                        "baton": spread(rates["baton"]),
                        "celery": spread(rates["celery"]),
                    }
                    cell["ratio"] = round(cell["baton"]["median"] / cell["celery"]["median"], 3)
                    b_med, c_med = cell["baton"]["median"], cell["celery"]["median"]
                    console.print(
                        f"{mode:>4} {n:>6} tasks, {workers} workers: Baton {b_med}/s, "
                        f"Celery {c_med}/s (ratio {cell['ratio']})"
                    )
                    cells.append(cell)
        finally:  # nothing left running, whatever failed
            await baton.stop()
            if celery is not None:
                await asyncio.to_thread(celery.stop)
    return {"cells": cells, **latency}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--samples", type=int, default=100, help="Single-task latency samples.")
    ap.add_argument("--fsync", choices=["always", "everysec"], default="always")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.workers, args.repeats, args.samples = [50], [2], 2, 10
    with graph_target(args.backend, fsync=args.fsync) as target:
        out = asyncio.run(sweep(target, args))
        backend = backend_label(target)
    cells = out["cells"]

    def ratio(mode: str) -> float:  # the largest size at the middle worker count
        pick = [c for c in cells if c["mode"] == mode and c["tasks"] == max(args.sizes)]
        return float(pick[len(pick) // 2]["ratio"])

    rows = [
        (
            f"{c['mode']} {c['tasks']} tasks, {c['workers']} workers: Baton / Celery /s",
            f"{c['baton']['median']} [{c['baton']['min']}-{c['baton']['max']}] / "
            f"{c['celery']['median']} [{c['celery']['min']}-{c['celery']['max']}] "
            f"(x{c['ratio']})",
        )
        for c in cells
    ]
    rows += [(f"single task {k.replace('_', ' ')}", v) for k, v in out.items() if k != "cells"]
    metrics = {
        "celery_ratio": ratio("one"),
        "celery_ratio_bulk": ratio("bulk"),
        "min_ratio": min(c["ratio"] for c in cells),
        "repeats": args.repeats,
        "fsync": args.fsync,
        "batch": args.batch,
        "clients": args.clients,
        "backend": backend,
        **{k: v for k, v in out.items() if k != "cells"},
        "cells": cells,
    }
    report("Baton vs Celery (every result read, interleaved repeats)", rows, metrics, args.json)


if __name__ == "__main__":
    main()
