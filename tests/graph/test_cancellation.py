"""A statement's caller can be cancelled: the store never swallows a ``cancel()``.

redis-py writes each command under ``asyncio.wait_for``; on Python 3.11 that returns normally
and drops a cancellation landing as the write completes. A cancelled caller then ran on (a
WebSocket session watcher tailed the log forever and its app could not shut down)."""

from __future__ import annotations

import asyncio
import random

from app.graph import GraphStore


async def test_a_cancelled_statement_never_returns_as_if_uncancelled(store: GraphStore) -> None:
    await store.execute_text("CREATE (:Probe {a: 1})")
    rng = random.Random(7)
    lost = 0
    for _ in range(300):

        async def call() -> int:
            await store.read("events/head")
            return asyncio.current_task().cancelling()  # type: ignore[union-attr]

        job = asyncio.create_task(call())
        await asyncio.sleep(rng.random() * 0.002)
        job.cancel()
        try:
            lost += 1 if await job else 0
        except asyncio.CancelledError:
            pass
    assert lost == 0, f"{lost} of 300 cancellations were swallowed"
