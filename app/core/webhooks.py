"""Push mode for agents that are HTTP services: their assigned tasks are POSTed to them.

The body is JSON (the task, its fencing token, the agent id) signed with the agent's secret
(``X-Baton-Signature: sha256=<hex HMAC of the body>``). A 200 answer with a ``result`` (or
``error``) completes (or fails) the task at once; 202 means accepted, and the service reports
later through the API (``completeTask`` with the fence) like any agent. Timeouts and 5xx are
retried with exponential backoff; after ``MAX_TRIES`` the attempt fails as retryable, so the
task is re-queued. Delivery is marked per fencing token and every report is fenced, so a
retried POST can never complete a task twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

from app.core import tasks
from app.core.errors import BatonError
from app.graph import GraphStore
from app.graph.queries import q

log = logging.getLogger("baton.webhooks")
DUE = q("webhooks/due")
MARK = q("webhooks/mark")
MAX_TRIES = 5
TIMEOUT_S = 5.0
WEBHOOK_ACTOR = "webhook"  # the answer of an agent's webhook: no principal, the agent is beside it


def sign(secret: str, body: bytes) -> str:
    """The signature header value receivers verify (constant-time compare)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver_due(
    store: GraphStore, *, now: int, http: httpx.AsyncClient, backoff_ms: int = 500,
    limit: int = 100,
) -> int:  # fmt: skip
    """One dispatcher pass; returns how many deliveries succeeded."""
    ok = 0
    for row in await store.read(DUE, now=now, limit=limit):
        ok += await _deliver(store, row, now=now, http=http, backoff_ms=backoff_ms)
    return ok


async def _deliver(
    store: GraphStore, row: dict[str, Any], *, now: int, http: httpx.AsyncClient,
    backoff_ms: int,
) -> int:  # fmt: skip
    t, agent_id = row["task"], row["agentId"]
    body = json.dumps({
        "agentId": agent_id, "taskId": t["id"], "fence": t["fence"], "kind": t["kind"],
        "capability": t["capability"], "payload": json.loads(t.get("payload") or "{}"),
        "attempt": t["attempts"],
    }, separators=(",", ":")).encode()  # fmt: skip
    headers = {"content-type": "application/json", "X-Baton-Task": t["id"]}
    if row["secret"]:
        headers["X-Baton-Signature"] = sign(row["secret"], body)
    error = None
    try:
        r = await http.post(row["url"], content=body, headers=headers, timeout=TIMEOUT_S)
        if r.status_code in (200, 202):
            await store.write(MARK, taskId=t["id"], fence=t["fence"], delivered=True,
                              nextAt=None, error=None)  # fmt: skip
            if r.status_code == 200:
                await _report(store, t, agent_id, r, now=now)
            return 1
        error = f"HTTP {r.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    tries = int(t.get("hookTries") or 0) + 1
    if tries >= MAX_TRIES:
        log.warning("webhook for %s failed %d times (%s): retrying the task", t["id"], tries, error)
        try:
            await tasks.finish(store, t["id"], agent_id, t["fence"], outcome="retry", now=now,
                               error={"error": f"webhook delivery failed: {error}"},
                               actor=WEBHOOK_ACTOR)  # fmt: skip
        except BatonError:
            pass  # the task moved on meanwhile
        return 0
    await store.write(MARK, taskId=t["id"], fence=t["fence"], delivered=False,
                      nextAt=now + backoff_ms * 2 ** (tries - 1), error=error)  # fmt: skip
    return 0


async def _report(
    store: GraphStore, t: dict[str, Any], agent_id: str, r: httpx.Response, *, now: int
) -> None:
    """A synchronous answer: complete or fail the task under the delivered fence."""
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict) or not ({"result", "error"} & answer.keys()):
        return  # no answer in the body: the service reports later through the API
    try:
        if "error" in answer:
            await tasks.finish(
                store, t["id"], agent_id, t["fence"], now=now,
                outcome="retry" if answer.get("retryable", True) else "failed",
                error={"error": str(answer["error"])[:2_000]}, actor=WEBHOOK_ACTOR,
            )  # fmt: skip
        else:
            cost = float(answer.get("costUsd", 0))
            await tasks.finish(store, t["id"], agent_id, t["fence"], outcome="done", now=now,
                               result=answer["result"], cost_usd=cost,
                               actor=WEBHOOK_ACTOR)  # fmt: skip
    except BatonError as exc:  # stale fence or already reported: nothing to do twice
        log.info("webhook answer for %s not applied: %s", t["id"], exc)
