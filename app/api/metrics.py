"""Prometheus metrics for ``GET /metrics``: HTTP, graph and queue figures."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)
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

ScrapeHook = Callable[[Any], Awaitable[None]]


async def _task_gauges(rt: Any) -> None:
    from app.core import tasks

    TASKS.clear()
    QUEUE_AGE.clear()
    now = rt.now()
    for d in await tasks.queue_depths(rt.store):
        TASKS.labels(d.capability, d.status).set(d.count)
        if d.status == "queued" and d.oldest is not None:
            QUEUE_AGE.labels(d.capability).set(max(0, now - d.oldest) / 1000)


SCRAPE_HOOKS: list[ScrapeHook] = [_task_gauges]  # gauges refreshed on each scrape


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
