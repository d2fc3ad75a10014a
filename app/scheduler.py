"""Background jobs (APScheduler 3, asyncio): routing, lease expiry, offline agents.

Each job run first checks the scheduler's ``Lease`` in the graph, so with several replicas
one (the holder) runs the jobs; every job is also safe to run twice, because its statements re-check
their preconditions. Each job calls core functions only.

Routing runs on an interval well under a second and is also *nudged* (run now) by the API
right after a submit, so a task normally reaches its agent within one round trip; workflow
runs and triggers are nudged the same way when a task ends, a proposal is decided or an
event arrives. Which job a change wakes is decided in core (:mod:`app.core.wakeups`); the
adapters hand the answer to ``Runtime.wake``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.core import (
    agents,
    costs,
    leases,
    proposals,
    retention,
    tasks,
    trace_export,
    triggers,
    wakeups,
    workflows,
)
from app.core import webhooks as hooks
from app.core.egress import EgressPolicy
from app.core.events import head, log_page
from app.observability import metrics
from app.runtime import Runtime

log = logging.getLogger("baton.scheduler")

JobFn = Callable[[Runtime], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    interval_ms: Callable[[Runtime], int]


async def route(rt: Runtime) -> int:
    """Assign queued work to agents (push routing)."""
    s = rt.settings
    return await tasks.route_all(rt.store, batch=s.route_batch, lease_ms=s.lease_ms, clock=rt.now)


async def recover(rt: Runtime) -> int:
    """Take silent agents offline, then re-queue (or dead-letter) expired leases."""
    await agents.mark_offline(rt.store, timeout_ms=rt.settings.heartbeat_timeout_ms, now=rt.now())
    return await tasks.expire_leases(rt.store, now=rt.now(), backoff=rt.backoff)


async def charge(rt: Runtime) -> int:
    """Charge cost entries left uncharged (a crash between report and charge)."""
    return await costs.charge(rt.store, now=rt.now())


async def escalate(rt: Runtime) -> int:
    """Escalate proposals past their SLA; settle those at the top of their chain."""
    return await proposals.escalate_due(rt.store, now=rt.now(), lease_ms=rt.settings.lease_ms)


def dispatcher(rt: Runtime) -> hooks.Dispatcher:
    """This runtime's webhook dispatcher (made on first use, closed with the runtime)."""
    if rt.dispatcher is None:
        s = rt.settings
        rt.dispatcher = hooks.Dispatcher(
            rt.store,
            clock=rt.now,
            policy=EgressPolicy.of(s.webhook_allow_hosts),
            timeout_s=s.webhook_timeout_ms / 1000,
            per_endpoint=s.webhook_per_endpoint,
        )
    return rt.dispatcher


async def webhooks(rt: Runtime) -> int:
    """POST assigned tasks to agents that are HTTP services (started, not awaited: each
    delivery runs on its own, so a slow endpoint holds up only itself)."""
    return await dispatcher(rt).dispatch()


async def advance_runs(rt: Runtime) -> int:
    """Move every running workflow run forward (start ready steps, settle ended ones)."""
    # each pass reads the clock afresh: one reading for the whole job would stamp steps with
    # a time older than the tasks they saw end while it ran (0 ms steps, tasks outlasting them)
    started = await workflows.advance_all(rt.store, clock=rt.now, lease_ms=rt.settings.lease_ms)
    rt.wake(wakeups.after_steps_started(started))
    return started


async def fire_triggers(rt: Runtime) -> int:
    """Start workflow runs for new events that match a trigger."""
    started = await triggers.fire(rt.store, now=rt.now())
    rt.wake(wakeups.after_runs_triggered(started))
    return started


async def sla(rt: Runtime) -> int:
    """Flag tasks and runs past their deadline (sla.breached events)."""
    return await triggers.sla_breaches(rt.store, now=rt.now())


async def export_traces(rt: Runtime) -> int:
    """Hand newly ended spans to OpenTelemetry (only when OTEL_* configured an exporter)."""
    if rt.otel is None:
        return 0
    return await trace_export.export_ended(rt.store, rt.otel, now=rt.now())


async def prune(rt: Runtime) -> int:
    """Retention (README "Operating Baton"): archive whole days of events, then delete what
    the policy lets go, in bounded batches; writes nothing when there is nothing to do."""
    try:
        report = await retention.run(
            rt.store, retention.Policy.of(rt.settings), holder=holder(rt), clock=rt.now
        )
    except retention.Busy:
        return 0
    return report.total


async def sync_sources(rt: Runtime) -> int:
    """Sync the org sources that are due (README "Connect your systems"); reads only when
    none is."""
    from app.connectors import sources

    return await sources.sync_due(rt.store, now=rt.now)


async def embed(rt: Runtime) -> int:
    """Give new and changed facts and entities their vectors, a batch per tick (off the
    event loop); reads only when none is waiting."""
    if rt.embedder is None:
        return 0
    from app.core import search

    return await search.embed_pending(rt.store, rt.embedder, batch=rt.settings.embedding_batch)


_event_log = {"cursor": -1}  # where this process's JSON event log stands (log output only)
events_log = logging.getLogger("baton.events")


async def log_events(rt: Runtime) -> int:
    """With BATON_LOG_FORMAT=json: one log line per event (with the trace id of what it is
    about), from when this process started; the job lease means one replica writes them."""
    if rt.settings.log_format != "json":
        return 0
    if _event_log["cursor"] < 0:
        _event_log["cursor"] = await head(rt.store)
    rows = await log_page(rt.store, after=_event_log["cursor"], limit=1_000)
    for r in rows:
        events_log.info(
            r["type"],
            extra={
                "event": {k: r[k] for k in ("seq", "type", "at", "actor", "subject")},
                "payload": r["payload"],
                "trace_id": r["traceId"],
                "span_id": r["spanId"],
            },
        )
        _event_log["cursor"] = int(r["seq"])
    return len(rows)


JOBS: list[Job] = [
    Job("route", route, lambda rt: rt.settings.route_interval_ms),
    Job("recover", recover, lambda rt: max(250, rt.settings.lease_ms // 10)),
    Job("charge", charge, lambda rt: 2_000),
    Job("escalate", escalate, lambda rt: 1_000),
    Job("webhooks", webhooks, lambda rt: rt.settings.route_interval_ms),
    Job("workflows", advance_runs, lambda rt: rt.settings.workflow_interval_ms),
    Job("triggers", fire_triggers, lambda rt: rt.settings.workflow_interval_ms),
    Job("sla", sla, lambda rt: 1_000),
    Job("otel", export_traces, lambda rt: 2_000),
    Job("eventlog", log_events, lambda rt: 500),
    Job("retention", prune, lambda rt: rt.settings.retention_interval_s * 1_000),
    Job("sources", sync_sources, lambda rt: rt.settings.sources_interval_ms),
    Job("embed", embed, lambda rt: rt.settings.embedding_interval_ms),
]


# One lease for the whole scheduler: the replica that holds it runs every job. It lasts
# LEASE_MS and is renewed only in its last third, so an idle replica writes about nine lease
# renewals a minute and nothing else (per-job leases renewed every few seconds were most of
# an idle install's append-only file). A crashed leader's jobs wait up to LEASE_MS for
# another replica; the same replica restarted (same host and port) takes it back at once.
LEASE_NAME = "scheduler"
LEASE_MS = 10_000
_held: dict[str, int] = {}  # lease -> until, of the leases this process holds in the graph


def holder(rt: Runtime) -> str:
    """Who holds the lease: this host and port (a restart is the same replica), or the
    process id when the port is chosen by the OS."""
    port = rt.settings.port
    return f"{socket.gethostname()}:{port}" if port else f"{socket.gethostname()}:pid{os.getpid()}"


async def take_lease(rt: Runtime, name: str = LEASE_NAME, ttl_ms: int = LEASE_MS) -> bool:
    """True if this process holds the lease for ``name`` now. A lease held is renewed only
    in the last third of its time (no write on the other ticks). The graph stays the
    authority: until the lease's end nobody else can take it, and then this process asks
    again."""
    if rt.now() < _held.get(name, 0) - ttl_ms // 3:
        return True
    async with rt.lease_lock:  # jobs due together renew once, not once each
        now = rt.now()
        if now < _held.get(name, 0) - ttl_ms // 3:
            return True
        taken = await leases.take(rt.store, name, holder=holder(rt), now=now, ttl_ms=ttl_ms)
        if taken:
            _held[name] = now + ttl_ms
        else:
            _held.pop(name, None)
        return taken


async def run_job(rt: Runtime, j: Job, busy: set[str] | None = None) -> None:
    """One guarded run: lease first, then the job; errors are logged, never fatal. A run that
    finds the previous one of its job still going (a slow graph, a nudge) returns at once:
    the next tick catches up, and nothing warns about it."""
    busy = busy if busy is not None else set()
    if j.name in busy:
        return
    busy.add(j.name)
    try:
        if await take_lease(rt):
            start = time.perf_counter()
            done = await j.fn(rt)
            metrics.job_run(j.name, time.perf_counter() - start, done)
    except asyncio.CancelledError:
        return  # stopped at shutdown: the statement either committed or did not, both fine
    except Exception:
        log.exception("job %s failed", j.name)
    finally:
        busy.discard(j.name)


@dataclass
class Scheduler:
    """This process's job scheduler, with a graceful stop."""

    sched: AsyncIOScheduler
    busy: set[str]  # names of the jobs running now

    async def stop(self, grace_s: float = 5.0) -> None:
        """No new runs, wait (bounded) for the runs in flight, then shut down; whatever still
        runs is cancelled quietly (every job is safe to stop between statements)."""
        if not self.sched.running:
            return
        self.sched.pause()
        deadline = time.monotonic() + grace_s
        while self.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.sched.shutdown(wait=False)


async def start_scheduler(rt: Runtime) -> Scheduler:
    """Start every job in this process and hook the routing nudge into the runtime."""
    sched = AsyncIOScheduler()
    busy: set[str] = set()
    for j in JOBS:
        sched.add_job(
            run_job,
            "interval",
            args=[rt, j, busy],
            seconds=j.interval_ms(rt) / 1000,
            id=j.name,
            name=f"baton.{j.name}",
            # an overlapping run returns at once (run_job), so it never counts as an overrun
            max_instances=8,
            coalesce=True,
            misfire_grace_time=None,
        )
    sched.start()

    def nudge(name: str) -> None:
        job = sched.get_job(name)
        if name not in busy and job is not None and job.next_run_time is not None:
            job.modify(next_run_time=datetime.now(job.next_run_time.tzinfo))

    rt.nudges.append(nudge)
    return Scheduler(sched, busy)
