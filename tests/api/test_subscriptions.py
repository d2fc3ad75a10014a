"""graphChanges over a real WebSocket: replay, live hand-over, resume, other replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN_TOKEN, App, second_replica
from tests.support.gql import GQL, event_head, next_data, subscribe
from tests.support.graphs import GraphTarget

SUB = """subscription($after: Long, $types: [String!]) {
  graphChanges(after: $after, types: $types) { seq type subject payload } }"""
EMIT = 'mutation($s: String) { emitEvent(type: "prop.tick", subject: $s) { seq } }'


async def emit(gql: GQL, subject: str) -> int:
    return int((await gql(EMIT, s=subject))["emitEvent"]["seq"])


async def test_live_event_reaches_subscriber(api: App) -> None:
    head = await event_head(api.admin)
    async with subscribe(api.url, ADMIN_TOKEN, SUB, {"after": head, "types": ["prop.tick"]}) as q:
        seq = await emit(api.admin, "one")
        got = await next_data(q)
        assert seq == head + 1, "the live event is the first one after the head"
    assert got["graphChanges"]["seq"] == seq and got["graphChanges"]["subject"] == "one"


async def test_replay_then_live_without_gap_or_duplicate(api: App) -> None:
    before = [await emit(api.admin, f"b{i}") for i in range(5)]
    async with subscribe(
        api.url, ADMIN_TOKEN, SUB, {"after": before[0], "types": ["prop.tick"]}
    ) as q:
        live = [await emit(api.admin, f"l{i}") for i in range(5)]
        got = [(await next_data(q))["graphChanges"]["seq"] for _ in range(9)]
        assert q.empty()
    assert got == before[1:] + live


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=st.integers(1, 15), gap_pause=st.floats(0, 0.05), second=st.integers(1, 15))
async def test_reconnect_with_cursor_gets_every_missed_event_once(
    api: App, first: int, gap_pause: float, second: int
) -> None:
    """Writers keep writing while the subscriber drops and resumes from its last seq."""
    stop = asyncio.Event()
    written: list[int] = []

    async def writer() -> None:
        while not stop.is_set():
            written.append(await emit(api.admin, "w"))
            await asyncio.sleep(0.002)

    head = int((await api.store.read("events/head"))[0]["seq"])
    task = asyncio.create_task(writer())
    seen: list[int] = []
    async with subscribe(api.url, ADMIN_TOKEN, SUB, {"after": head, "types": ["prop.tick"]}) as q:
        for _ in range(first):
            seen.append((await next_data(q))["graphChanges"]["seq"])
    await asyncio.sleep(gap_pause)  # disconnected: events keep coming
    async with subscribe(
        api.url, ADMIN_TOKEN, SUB, {"after": seen[-1], "types": ["prop.tick"]}
    ) as q:
        for _ in range(second):
            seen.append((await next_data(q))["graphChanges"]["seq"])
        stop.set()
        await task
        while len(seen) < len(written):
            seen.append((await next_data(q))["graphChanges"]["seq"])
        await asyncio.sleep(0.05)
        assert q.empty()
    assert seen == sorted(written), "every event exactly once, in order"


async def test_event_written_on_one_replica_reaches_subscriber_on_another(
    api: App, graph: GraphTarget, tmp_path: Path
) -> None:
    head = await event_head(api.admin)
    async with (
        second_replica(api, graph, tmp_path / "replica.log") as other,
        subscribe(other.url, ADMIN_TOKEN, SUB, {"after": head, "types": ["prop.tick"]}) as q,
    ):
        seq = await emit(api.admin, "cross")  # written through the in-process replica
        got = await next_data(q)
    assert got["graphChanges"]["seq"] == seq
