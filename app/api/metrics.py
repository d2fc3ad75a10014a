"""Prometheus metrics for ``GET /metrics``: HTTP, graph and queue figures."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.graph.queries import q

REGISTRY = CollectorRegistry(auto_describe=True)
SUMMARY = q("metrics/summary")
HTTP_REQUESTS = Counter(
    "baton_http_requests_total", "HTTP requests", ["path", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "baton_http_request_seconds",
    "HTTP request latency",
    ["path"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
GRAPH_LATENCY = Histogram(
    "baton_graph_query_seconds",
    "Graph statement latency",
    ["kind"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1),
)
EVENT_SEQ = Gauge("baton_event_seq", "Newest event sequence number", registry=REGISTRY)
SUBSCRIBERS = Gauge("baton_subscribers", "Live subscriptions in this process", registry=REGISTRY)
TASKS = Gauge(
    "baton_tasks",
    "Tasks by capability and status (refreshed on scrape)",
    ["capability", "status"],
    registry=REGISTRY,
)
QUEUE_AGE = Gauge(
    "baton_queue_oldest_age_seconds",
    "Age of the oldest queued task per capability (refreshed on scrape)",
    ["capability"],
    registry=REGISTRY,
)

EVENTS = Gauge("baton_events_total", "Events in the log by type (lifetime)", ["type"],
               registry=REGISTRY)  # fmt: skip
APPROVALS_PENDING = Gauge("baton_approvals_pending", "Proposals waiting for a human",
                          registry=REGISTRY)  # fmt: skip
TIME_TO_DECISION = Gauge(
    "baton_approval_decision_seconds_mean", "Mean time from proposal to a human decision",
    registry=REGISTRY,
)  # fmt: skip
DECISION_QUANTILES = Gauge(
    "baton_approval_decision_seconds",
    "Time from proposal to a human decision, by quantile (0.5, 0.9, 0.99; all time)",
    ["quantile"], registry=REGISTRY,
)  # fmt: skip
DECIDED = Gauge("baton_approvals_decided", "Proposals a human has decided (all time)",
                registry=REGISTRY)  # fmt: skip
RUNS = Gauge("baton_runs", "Workflow runs by status", ["status"], registry=REGISTRY)
SPEND = Gauge("baton_spend_usd", "Spend this month per team", ["team"], registry=REGISTRY)
LAG = Gauge("baton_subscription_lag_events", "Events the live hub has yet to deliver",
            registry=REGISTRY)  # fmt: skip
JOB_SECONDS = Histogram(
    "baton_job_seconds", "Scheduler job run time (route = routing latency)", ["job"],
    registry=REGISTRY, buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)  # fmt: skip
JOB_ITEMS = Counter(
    "baton_job_items_total",
    "What jobs did (route: tasks assigned; recover: leases expired; workflows: tasks started)",
    ["job"], registry=REGISTRY,
)  # fmt: skip
COUNTED = [
    "task.queued", "task.assigned", "task.claimed", "task.completed", "task.retrying",
    "task.failed", "task.dead", "task.lease_expired", "task.cancelled", "proposal.pending",
    "proposal.auto_executed", "proposal.decided", "proposal.escalated", "fact.asserted",
    "fact.contradicted", "run.started", "run.completed", "run.failed", "sla.breached",
    "budget.threshold", "policy.violation",
]  # fmt: skip

ScrapeHook = Callable[[Any], Awaitable[None]]
OTHER = "other"  # the label value that label values past the cap fold into


def bounded(weights: dict[str, float], cap: int) -> Callable[[str], str]:
    """Label values come from clients (capability names, team ids): keep the ``cap - 1``
    heaviest as they are and fold the rest into ``other``, so a client cannot grow the
    number of series without bound."""
    if len(weights) <= cap:
        return lambda v: v
    keep = {v for v, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: cap - 1]}
    return lambda v: v if v in keep else OTHER


def _cap(rt: Any) -> int:
    settings = getattr(rt, "settings", None)  # the runtime's; a stand-in may have none
    return max(2, int(getattr(settings, "metrics_max_label_values", 50)))


async def _task_gauges(rt: Any) -> None:
    from app.core import tasks

    depths = await tasks.queue_depths(rt.store)
    weights: dict[str, float] = {}
    for d in depths:
        weights[d.capability] = weights.get(d.capability, 0) + d.count
    label = bounded(weights, _cap(rt))
    counts: dict[tuple[str, str], float] = {}
    ages: dict[str, float] = {}
    now = rt.now()
    for d in depths:
        key = (label(d.capability), d.status)
        counts[key] = counts.get(key, 0) + d.count
        if d.status == "queued" and d.oldest is not None:
            age = max(0, now - d.oldest) / 1000
            ages[key[0]] = max(age, ages.get(key[0], 0))
    TASKS.clear()
    QUEUE_AGE.clear()
    for (capability, status), n in counts.items():
        TASKS.labels(capability, status).set(n)
    for capability, age in ages.items():
        QUEUE_AGE.labels(capability).set(age)


async def _graph_gauges(rt: Any) -> None:
    """Event counts, approvals and time to decision, runs (one statement), this month's spend
    per team, and how far the live subscription hub is behind the event log."""
    from app.core import costs
    from app.core.events import head

    row = (await rt.store.read(SUMMARY, types=COUNTED))[0]
    EVENTS.clear()
    for t in COUNTED:
        EVENTS.labels(t).set(0)
    for e in row["events"]:
        EVENTS.labels(e["type"]).set(e["n"])
    APPROVALS_PENDING.set(row["pending"] or 0)
    DECIDED.set(row["decided"] or 0)
    TIME_TO_DECISION.set((row["decideMs"] or 0) / 1000)
    for quantile, key in (("0.5", "decideP50"), ("0.9", "decideP90"), ("0.99", "decideP99")):
        DECISION_QUANTILES.labels(quantile).set((row[key] or 0) / 1000)
    RUNS.clear()
    for r in row["runs"]:
        RUNS.labels(r["status"]).set(r["n"])
    month = time.gmtime(rt.now() / 1000)
    since = int(time.mktime((month.tm_year, month.tm_mon, 1, 0, 0, 0, 0, 0, 0)) * 1000)
    spend = {str(g["key"]): float(g.get("usd") or 0)
             for g in await costs.by_group(rt.store, "team", since) if g.get("key")}  # fmt: skip
    label = bounded(spend, _cap(rt))
    per_team: dict[str, float] = {}
    for team, usd in spend.items():
        per_team[label(team)] = per_team.get(label(team), 0) + usd
    SPEND.clear()
    for team, usd in per_team.items():
        SPEND.labels(team).set(usd)
    hub = rt.hub
    LAG.set(max(0, await head(rt.store) - hub.cursor) if hub and hub.subscribers else 0)


SCRAPE_HOOKS: list[ScrapeHook] = [_task_gauges, _graph_gauges]  # refreshed on each scrape


class MetricsMiddleware:
    """Counts and times every HTTP request (WebSockets excluded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        path = path if path in {"/graphql", "/health", "/metrics", "/inbox"} else "other"
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            HTTP_LATENCY.labels(path).observe(time.perf_counter() - start)
            HTTP_REQUESTS.labels(path, str(status["code"])).inc()
