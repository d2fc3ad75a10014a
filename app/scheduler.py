"""Background jobs (APScheduler 3, asyncio): routing, lease expiry, SLAs, escalations.

Each job run first takes a short ``Lease {name}`` in the graph, so with several replicas one
runs it at a time; every job is also safe to run twice, because its statements re-check
their preconditions. Capabilities register jobs with :func:`job`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.core.runtime import Runtime
from app.graph.queries import q

log = logging.getLogger("baton.scheduler")
LEASE = q("scheduler/lease")
HOLDER = f"{socket.gethostname()}:{os.getpid()}"

JobFn = Callable[[Runtime], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    interval_ms: Callable[[Runtime], int]


JOBS: list[Job] = []


async def take_lease(rt: Runtime, name: str, ttl_ms: int) -> bool:
    """True if this process holds the lease for ``name`` now."""
    rows = await rt.store.write(LEASE, name=name, now=rt.now(), ttl=ttl_ms, holder=HOLDER)
    return bool(rows)


async def run_job(rt: Runtime, j: Job) -> None:
    """One guarded run: lease first, then the job; errors are logged, never fatal."""
    try:
        if await take_lease(rt, j.name, max(1_000, 3 * j.interval_ms(rt))):
            await j.fn(rt)
    except Exception:
        log.exception("job %s failed", j.name)


async def start_scheduler(rt: Runtime) -> AsyncIOScheduler:
    """Start every registered job in this process."""
    sched = AsyncIOScheduler()
    for j in JOBS:
        sched.add_job(
            run_job,
            "interval",
            args=[rt, j],
            seconds=j.interval_ms(rt) / 1000,
            id=j.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    sched.start()
    return sched
