"""The peer: a Celery app on a Redis broker and result backend, with a no-op task."""

from __future__ import annotations

import os
import time

from celery import Celery

BROKER = os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("peer", broker=BROKER, backend=BROKER)
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=4,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="peer.noop")
def noop(i: int) -> dict[str, float]:
    """The same no-op work Baton's bench workers do: says when it started."""
    return {"i": i, "started": time.time()}
