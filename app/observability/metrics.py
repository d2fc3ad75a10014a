"""The Prometheus registry behind ``GET /metrics`` and the few calls that feed it.

Code outside the HTTP edge records through the narrow functions here
(:func:`graph_query`, :func:`job_run`), never by touching a metric object, so what is
measured can change without touching core, graph or scheduler code.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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

EVENTS = Gauge(
    "baton_events_total", "Events in the log by type (lifetime)", ["type"], registry=REGISTRY
)
APPROVALS_PENDING = Gauge(
    "baton_approvals_pending", "Proposals waiting for a human", registry=REGISTRY
)
TIME_TO_DECISION = Gauge(
    "baton_approval_decision_seconds_mean",
    "Mean time from proposal to a human decision",
    registry=REGISTRY,
)
DECISION_QUANTILES = Gauge(
    "baton_approval_decision_seconds",
    "Time from proposal to a human decision, by quantile (0.5, 0.9, 0.99; all time)",
    ["quantile"],
    registry=REGISTRY,
)
DECIDED = Gauge(
    "baton_approvals_decided", "Proposals a human has decided (all time)", registry=REGISTRY
)
RUNS = Gauge("baton_runs", "Workflow runs by status", ["status"], registry=REGISTRY)
SPEND = Gauge("baton_spend_usd", "Spend this month per team", ["team"], registry=REGISTRY)
LAG = Gauge(
    "baton_subscription_lag_events", "Events the live hub has yet to deliver", registry=REGISTRY
)
JOB_SECONDS = Histogram(
    "baton_job_seconds",
    "Scheduler job run time (route = routing latency)",
    ["job"],
    registry=REGISTRY,
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
JOB_ITEMS = Counter(
    "baton_job_items_total",
    "What jobs did (route: tasks assigned; recover: leases expired; workflows: tasks started)",
    ["job"],
    registry=REGISTRY,
)
OTHER = "other"  # the label value that label values past the cap fold into


def bounded(weights: dict[str, float], cap: int) -> Callable[[str], str]:
    """Label values come from clients (capability names, team ids): keep the ``cap - 1``
    heaviest as they are and fold the rest into ``other``, so a client cannot grow the
    number of series without bound."""
    if len(weights) <= cap:
        return lambda v: v
    keep = {v for v, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: cap - 1]}
    return lambda v: v if v in keep else OTHER


_GRAPH = {kind: GRAPH_LATENCY.labels(kind) for kind in ("read", "write")}  # bound once: cheap


def graph_query(kind: str, seconds: float) -> None:
    """One graph statement ran (``kind``: ``read`` or ``write``) for ``seconds``."""
    child = _GRAPH.get(kind)
    (child if child is not None else GRAPH_LATENCY.labels(kind)).observe(seconds)


def job_run(name: str, seconds: float, items: object = None) -> None:
    """One scheduler job run took ``seconds``; an int ``items`` is what it did."""
    JOB_SECONDS.labels(name).observe(seconds)
    if isinstance(items, int) and items:
        JOB_ITEMS.labels(name).inc(items)


def exposition() -> bytes:
    """Every metric in Prometheus' text format."""
    return generate_latest(REGISTRY)
