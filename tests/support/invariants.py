"""Coordination invariants checked from the graph's own Event log, replayed in seq order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tests.support.gql import GQL

HOLD = {"task.assigned", "task.claimed"}
RELEASE = {
    "task.completed",
    "task.failed",
    "task.dead",
    "task.retrying",
    "task.lease_expired",
    "task.cancelled",
    "task.preempted",
}
TERMINAL_EVENTS = {"task.completed", "task.failed", "task.dead", "task.cancelled", "task.merged"}
TERMINAL = {"done", "failed", "dead", "cancelled", "merged"}


async def all_events(admin: GQL, after: int | None = None) -> list[dict[str, Any]]:
    """The whole log (or what follows seq ``after``), oldest first."""
    out: list[dict[str, Any]] = []
    cursor = after
    while True:
        got = await admin(
            "query($a: Long) { events(first: 500, after: $a) { nodes { seq type subject payload }"
            " pageInfo { endCursor hasNextPage } } }",
            a=cursor,
        )
        out += got["events"]["nodes"]
        if not got["events"]["pageInfo"]["hasNextPage"]:
            return out
        cursor = got["events"]["pageInfo"]["endCursor"]


def check_replay(
    events: list[dict[str, Any]], tasks: set[str], max_concurrency: dict[str, int]
) -> dict[str, int]:
    """Assert: no task held by two agents at once, no agent over its limit; returns the
    number of terminal events per task."""
    holder: dict[str, str | None] = {}
    load: dict[str, int] = defaultdict(int)
    terminal: dict[str, int] = defaultdict(int)
    for ev in events:
        tid = ev["subject"]
        if tid not in tasks:
            continue
        agent = (ev["payload"] or {}).get("agentId")
        if ev["type"] in HOLD:
            assert agent is not None, f"{ev['type']} of {tid} names no agent at {ev['seq']}"
            assert holder.get(tid) is None, f"{tid} assigned to {agent} while {holder[tid]} held it"
            holder[tid] = agent
            load[agent] += 1
            limit = max_concurrency.get(agent)
            assert limit is None or load[agent] <= limit, f"{agent} over its limit at {ev['seq']}"
        elif ev["type"] in RELEASE and agent is not None:
            assert holder.get(tid) == agent, (ev, holder.get(tid))
            holder[tid] = None
            load[agent] -= 1
        if ev["type"] in TERMINAL_EVENTS:
            terminal[tid] += 1
    return terminal
