"""Push mode for agents that are HTTP services: their assigned tasks are POSTed to them.

The body is JSON (the task, its fencing token, the agent id) signed with the agent's secret,
both the Standard Webhooks way (``webhook-id: <task>.<fence>``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC of "id.timestamp.body">``, which a receiver can check
against replays) and as ``X-Baton-Signature: sha256=<hex HMAC of the body>``. A 200 answer
with a ``result`` (or ``error``) completes (or fails) the task at once; 202 means accepted,
and the service reports later through the API (``completeTask`` with the fence) like any
agent. Timeouts and 5xx are retried with exponential backoff; after ``MAX_TRIES`` the
attempt fails as retryable, so the task is re-queued. Delivery is marked per fencing token
and every report is fenced, so a retried POST can never complete a task twice.

The edge trusts nothing: every URL passes the egress policy (:mod:`app.core.egress`: public
addresses only, checked after DNS and connected to as checked); a failure is recorded and
reported as one generic text (the details go to the log), so the errors are no port-scan
oracle; and each delivery runs on its own (a :class:`Dispatcher` pass claims due deliveries
and returns at once), with a total deadline, a bounded answer size, at most
``per_endpoint`` deliveries in flight per endpoint and ``max_in_flight`` in all, so a slow
endpoint delays only itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.core import tasks
from app.core.egress import EgressDenied, EgressPolicy
from app.core.errors import BatonError
from app.graph import GraphStore
from app.graph.queries import q

log = logging.getLogger("baton.webhooks")
DUE = q("webhooks/due")
BEGIN = q("webhooks/begin")
MARK = q("webhooks/mark")
MAX_TRIES = 5
TIMEOUT_S = 5.0
MAX_ANSWER = 1_000_000  # bytes of an agent's answer we read at most
FAILED = "webhook delivery failed"  # the one text agents and task errors see
WEBHOOK_ACTOR = "webhook"  # the answer of an agent's webhook: no principal, the agent is beside it


def sign(secret: str, body: bytes) -> str:
    """The ``X-Baton-Signature`` value of a push (body only; kept for existing receivers)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: ``whsec_<base64>`` is decoded, any other
    string is used as its UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except ValueError:
            pass
    return secret.encode()


def standard_signature(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """Standard Webhooks: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return (
        "v1,"
        + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()
    )


def standard_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed Standard Webhooks message."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, msg_id, timestamp, body),
    }


def endpoint(url: str) -> str:
    """What isolation is per: scheme, host and port of the URL."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"
    except ValueError:
        return url


class Dispatcher:
    """Delivers due pushes, each in its own task, so one slow or dead endpoint holds up
    nothing but its own deliveries. One per process (the scheduler job's lease and the
    per-delivery claim in the graph keep replicas from delivering the same push twice)."""

    def __init__(
        self,
        store: GraphStore,
        *,
        clock: Callable[[], int],
        policy: EgressPolicy | None = None,
        timeout_s: float = TIMEOUT_S,
        per_endpoint: int = 4,
        max_in_flight: int = 64,
        backoff_ms: int = 500,
    ) -> None:
        self.store, self.clock = store, clock
        self.policy = policy or EgressPolicy()
        self.timeout_s, self.backoff_ms = timeout_s, backoff_ms
        self.per_endpoint, self.max_in_flight = per_endpoint, max_in_flight
        self.http = httpx.AsyncClient(
            trust_env=False,  # no proxy from the environment: we connect to what we checked
            follow_redirects=False,
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=16),
        )
        self._busy: dict[str, set[asyncio.Task[None]]] = defaultdict(set)
        self._all: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> int:
        return len(self._all)

    async def dispatch(self, limit: int = 100) -> int:
        """One pass: claim what is due (skipping endpoints at their cap) and start each
        delivery; returns how many were started, without waiting for them."""
        now = self.clock()
        started = 0
        rows = await self.store.read(DUE, now=now, limit=limit, perAgent=self.per_endpoint)
        for row in rows:
            if len(self._all) >= self.max_in_flight:
                break
            ep = endpoint(row["url"])
            if len(self._busy[ep]) >= self.per_endpoint:
                continue
            t = row["task"]
            until = now + int(self.timeout_s * 1000) * 2  # a crash mid-delivery: due again
            if not await self.store.write(
                BEGIN, taskId=t["id"], fence=t["fence"], now=now, until=until
            ):
                continue  # delivered, re-assigned or claimed meanwhile
            job = asyncio.create_task(self._deliver(row), name=f"webhook:{t['id']}")
            self._busy[ep].add(job)
            self._all.add(job)
            job.add_done_callback(functools.partial(self._done, ep))
            started += 1
        return started

    def _done(self, ep: str, job: asyncio.Task[None]) -> None:
        self._all.discard(job)
        busy = self._busy.get(ep)
        if busy is not None:
            busy.discard(job)
            if not busy:
                del self._busy[ep]
        if not job.cancelled() and job.exception() is not None:
            log.error("webhook delivery crashed", exc_info=job.exception())

    async def drain(self) -> None:
        """Wait for the deliveries in flight (tests, shutdown)."""
        while self._all:
            await asyncio.gather(*list(self._all), return_exceptions=True)

    async def close(self) -> None:
        for job in list(self._all):
            job.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*list(self._all), return_exceptions=True)
        await self.http.aclose()

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST to the checked address within the total deadline; the answer is capped."""
        async with asyncio.timeout(self.timeout_s):
            target, path = await self.policy.resolve(url)
            ext = {"sni_hostname": target.host} if target.scheme == "https" else {}
            request = self.http.build_request(
                "POST",
                target.url(path),
                content=body,
                headers={**headers, "Host": target.host_header},
                extensions=ext,
            )
            r = await self.http.send(request, stream=True)
            try:
                chunks, size = [], 0
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER:
                        raise EgressDenied(f"answer larger than {MAX_ANSWER} bytes")
                    chunks.append(chunk)
            finally:
                await r.aclose()
            return r.status_code, b"".join(chunks)

    async def _deliver(self, row: dict[str, Any]) -> None:
        t, agent_id = row["task"], row["agentId"]
        body = json.dumps(
            {
                "agentId": agent_id,
                "taskId": t["id"],
                "fence": t["fence"],
                "kind": t["kind"],
                "capability": t["capability"],
                "payload": json.loads(t.get("payload") or "{}"),
                "attempt": t["attempts"],
            },
            separators=(",", ":"),
        ).encode()
        headers = {"content-type": "application/json", "X-Baton-Task": t["id"]}
        if row["secret"]:
            headers["X-Baton-Signature"] = sign(row["secret"], body)
            headers.update(
                standard_headers(
                    row["secret"], f"{t['id']}.{t['fence']}", self.clock() // 1000, body
                )
            )
        try:
            status, answer = await self._post(row["url"], body, headers)
            reason = f"HTTP {status}"
        except EgressDenied as exc:
            status, reason = 0, f"refused by the egress policy: {exc}"
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            status, reason = 0, f"{type(exc).__name__}: {exc}"
        store, now = self.store, self.clock()
        if status in (200, 202):
            await store.write(
                MARK, taskId=t["id"], fence=t["fence"], delivered=True, nextAt=None, error=None
            )
            if status == 200:
                await _report(store, t, agent_id, answer, now=now)
            return
        tries = int(t.get("hookTries") or 0) + 1
        log.warning(
            "webhook for task %s (agent %s) failed, try %d: %s", t["id"], agent_id, tries, reason
        )
        if tries >= MAX_TRIES:
            try:
                await tasks.finish(
                    store,
                    t["id"],
                    agent_id,
                    t["fence"],
                    outcome="retry",
                    now=now,
                    error={"error": FAILED},
                    actor=WEBHOOK_ACTOR,
                )
            except BatonError:
                pass  # the task moved on meanwhile
            return
        next_at = now + self.backoff_ms * 2 ** (tries - 1)
        await store.write(
            MARK, taskId=t["id"], fence=t["fence"], delivered=False, nextAt=next_at, error=FAILED
        )


async def _report(
    store: GraphStore, t: dict[str, Any], agent_id: str, raw: bytes, *, now: int
) -> None:
    """A synchronous answer: complete or fail the task under the delivered fence."""
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = {}
    if not isinstance(answer, dict) or not ({"result", "error"} & answer.keys()):
        return  # no answer in the body: the service reports later through the API
    try:
        if "error" in answer:
            await tasks.finish(
                store,
                t["id"],
                agent_id,
                t["fence"],
                now=now,
                outcome="retry" if answer.get("retryable", True) else "failed",
                error={"error": str(answer["error"])[:2_000]},
                actor=WEBHOOK_ACTOR,
            )
        else:
            cost = float(answer.get("costUsd", 0))
            await tasks.finish(
                store,
                t["id"],
                agent_id,
                t["fence"],
                outcome="done",
                now=now,
                result=answer["result"],
                cost_usd=cost,
                actor=WEBHOOK_ACTOR,
            )
    except BatonError as exc:  # stale fence or already reported: nothing to do twice
        log.info("webhook answer for %s not applied: %s", t["id"], exc)
