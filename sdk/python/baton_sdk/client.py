"""A small synchronous client for scripts and notebooks (the worker side is :class:`Agent`).

from baton_sdk import Client
baton = Client("http://127.0.0.1:8000", token="bt_…")
task = baton.submit_task(kind="incident", capability="diagnose", payload={"alert": "5xx"})
baton.task(task["id"])["status"]
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from baton_sdk import documents as gql
from baton_sdk import errors
from baton_sdk._transport import raise_for_errors


class Client:
    """Blocking GraphQL client bound to one token; errors raise with the API's codes."""

    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one operation (RATE_LIMITED is waited out and retried)."""
        for _ in range(5):
            r = self._http.post(
                f"{self.url}/graphql", json={"query": query, "variables": variables or {}}
            )
            try:
                return raise_for_errors(r.json())
            except errors.RateLimited as exc:
                time.sleep(float(exc.details.get("retryAfterMs", 100)) / 1000)
        raise errors.RateLimited("still rate limited after 5 tries")

    def submit_task(self, **task: Any) -> dict[str, Any]:
        """``submitTask`` with the input's fields as keyword arguments (camelCase)."""
        return dict(self.execute(gql.CLIENT_SUBMIT_TASK, {"i": task})["submitTask"])

    def task(self, task_id: str) -> dict[str, Any] | None:
        got = self.execute(gql.CLIENT_TASK, {"id": task_id})
        return got["task"]  # type: ignore[no-any-return]

    def wait(self, task_id: str, timeout: float = 60.0, poll: float = 0.2) -> dict[str, Any]:
        """Block until the task has ended (done, failed, dead, cancelled, merged)."""
        deadline = time.monotonic() + timeout
        while True:
            t = self.task(task_id)
            if t is None:
                raise errors.NotFound(f"task {task_id} does not exist")
            if t["status"] in ("done", "failed", "dead", "cancelled", "merged"):
                return t
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} is still {t['status']}")
            time.sleep(poll)

    def context(
        self, entity_id: str, agent_id: str | None = None, hops: int = 2
    ) -> list[dict[str, Any]]:
        got = self.execute(gql.CLIENT_CONTEXT, {"e": entity_id, "a": agent_id, "h": hops})
        return list(got["context"])

    def events(self, after: int | None = None, first: int = 100) -> dict[str, Any]:
        """A page of the log after event seq ``after``; ``pageInfo.endCursor`` is the last
        seq of the page (the next ``after``)."""
        return dict(self.execute(gql.CLIENT_EVENTS, {"a": after, "n": first})["events"])
