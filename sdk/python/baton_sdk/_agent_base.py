"""An agent's set-up: who it is, where its API is (URL and token, from the arguments,
``baton agent run`` or the environment), its handlers and its worker state.
:class:`baton_sdk.agent.Agent` adds the worker loop on top."""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton_sdk import errors
from baton_sdk._transport import Transport
from baton_sdk.task_context import Handler, Retryable

DEFAULT_URL = "http://127.0.0.1:8000"


class AgentBase:
    """An agent's identity, connection and handlers; the loop is :class:`Agent`'s."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        name: str = "",
        capabilities: list[str] | None = None,
        max_concurrency: int = 4,
        *,
        agent_id: str | None = None,
        team: str | None = None,
        heartbeat_s: float = 5.0,
        poll_s: float = 1.0,
        flush_s: float = 0.005,
        retryable: tuple[type[BaseException], ...] = (Retryable, TimeoutError, ConnectionError),
        mark_running: bool = False,
    ) -> None:
        if not (name or agent_id):
            raise TypeError("Agent needs a name (or agent_id)")
        self.id = agent_id or name
        self.name, self.team = name or self.id, team
        self.capabilities = list(capabilities or [])
        self.max_concurrency = max_concurrency
        self.heartbeat_s, self.poll_s, self.flush_s = heartbeat_s, poll_s, flush_s
        self.retryable = retryable
        # Pushed tasks may be reported from `assigned` directly; `startTask` first makes the
        # `running` state visible at the cost of one more round trip per task.
        self.mark_running = mark_running
        self._url, self._token = url, token
        self._transport: Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: ThreadPoolExecutor | None = None
        self.handlers: dict[str, Handler] = {}
        self.held: dict[str, int] = {}  # task id -> fence, while a handler runs
        # (task id, fence) pairs already started: a replayed or doubly delivered assignment
        # (push, pull and resume race; a reconnect replays) must not run the work twice.
        self._started: OrderedDict[tuple[str, int], None] = OrderedDict()
        self.done: list[dict[str, Any]] = []  # results waiting for the next flush
        self.completed = 0
        self._slots = asyncio.Semaphore(max_concurrency)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._flushed = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._decisions: dict[str, asyncio.Future[str]] = {}

    def connect(self, url: str | None = None, token: str | None = None) -> None:
        """Use this URL and/or token instead of the ones given (before :meth:`run`)."""
        if self._transport is not None:
            raise RuntimeError("connect() before the agent talks to Baton")
        self._url, self._token = url or self._url, token or self._token

    @property
    def url(self) -> str:
        return (self._url or os.environ.get("BATON_URL") or DEFAULT_URL).rstrip("/")

    @property
    def token(self) -> str | None:
        return self._token or os.environ.get("BATON_TOKEN") or None

    @property
    def api(self) -> Transport:
        """The API connection (made on first use from the URL and token)."""
        if self._transport is None:
            token = self.token
            if not token:
                raise errors.Unauthenticated(
                    f"agent {self.id}: no API token (pass token=, set BATON_TOKEN, or "
                    "`baton agent run --token`)"
                )
            self._transport = Transport(self.url, token)
        return self._transport

    def handles(self, capability: str) -> Callable[[Handler], Handler]:
        """Decorator: this function does tasks of ``capability``. A coroutine function runs
        on the agent's event loop; a plain one in a worker thread."""

        def register(fn: Handler) -> Handler:
            self.handlers[capability] = fn
            if capability not in self.capabilities:
                self.capabilities.append(capability)
            return fn

        return register

    def stop(self) -> None:
        """Stop taking work; in-flight tasks finish and are reported (drain)."""
        self._stop.set()
        self._wake.set()
