"""Graph leases: a named lease that one holder at a time may take (the scheduler's jobs, the
retention pruner). Not an Event: a lease is coordination plumbing, not a change anyone
audits. A lease that runs out can be taken by anyone; its holder can always renew it."""

from __future__ import annotations

from app.graph import GraphStore
from app.graph.queries import q

LEASE = q("scheduler/lease")


async def take(store: GraphStore, name: str, *, holder: str, now: int, ttl_ms: int) -> bool:
    """Take or renew lease ``name`` for ``holder`` until ``now + ttl_ms``; False while someone
    else holds it."""
    return bool(await store.write(LEASE, name=name, now=now, ttl=ttl_ms, holder=holder))


async def release(store: GraphStore, name: str, *, holder: str, now: int) -> None:
    """End ``holder``'s lease now (nothing happens if someone else holds it)."""
    await take(store, name, holder=holder, now=now, ttl_ms=0)
