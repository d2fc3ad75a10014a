"""``GET /metrics`` at the HTTP edge: the request middleware, and the gauges refreshed from
the graph on each scrape (the registry itself is ``app/observability/metrics.py``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import costs, events, tasks
from app.core import metrics as figures
from app.observability.metrics import (
    APPROVALS_PENDING,
    DECIDED,
    DECISION_QUANTILES,
    EVENT_SEQ,
    EVENTS,
    HTTP_LATENCY,
    HTTP_REQUESTS,
    LAG,
    QUEUE_AGE,
    RUNS,
    SPEND,
    SUBSCRIBERS,
    TASKS,
    TIME_TO_DECISION,
    bounded,
    exposition,
)

ScrapeHook = Callable[[Any], Awaitable[None]]


def _cap(rt: Any) -> int:
    settings = getattr(rt, "settings", None)  # the runtime's; a stand-in may have none
    return max(2, int(getattr(settings, "metrics_max_label_values", 50)))


async def _task_gauges(rt: Any) -> None:
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
    row = await figures.summary(rt.store)
    EVENTS.clear()
    for t in figures.COUNTED:
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
    spend = {
        str(g["key"]): float(g.get("usd") or 0)
        for g in await costs.by_group(rt.store, "team", since)
        if g.get("key")
    }
    label = bounded(spend, _cap(rt))
    per_team: dict[str, float] = {}
    for team, usd in spend.items():
        per_team[label(team)] = per_team.get(label(team), 0) + usd
    SPEND.clear()
    for team, usd in per_team.items():
        SPEND.labels(team).set(usd)
    hub = rt.hub
    LAG.set(max(0, await events.head(rt.store) - hub.cursor) if hub and hub.subscribers else 0)


SCRAPE_HOOKS: list[ScrapeHook] = [_task_gauges, _graph_gauges]  # refreshed on each scrape


async def scrape(rt: Any) -> bytes:
    """Refresh the gauges read from the graph, then every metric in Prometheus' format."""
    EVENT_SEQ.set(await events.head(rt.store))
    SUBSCRIBERS.set(rt.hub.subscribers if rt.hub else 0)
    for hook in SCRAPE_HOOKS:
        await hook(rt)
    return exposition()


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
