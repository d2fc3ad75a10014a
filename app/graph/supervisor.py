"""Keeps the embedded graph server alive while the app runs.

When the server process exits (a crash, an OOM kill, a stray SIGKILL), requests answer a
coded ``UNAVAILABLE`` and ``/health`` 503; this task notices within ``interval_s``, starts the
server again (which replays its append-only file), re-prepares the graph (schema, version,
counter) and the app carries on without a restart. Restarts back off (0.5 s doubling to
10 s) while the server keeps failing to come up. A server that is only slow (a long replay,
a heavy query) is left alone: the check is whether the process exists, not whether it
answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from app.graph.embedded import EmbeddedServer

log = logging.getLogger("baton.embedded")


class Supervisor:
    """Restarts ``server`` when its process is gone, then awaits ``prepare``."""

    def __init__(
        self,
        server: EmbeddedServer,
        prepare: Callable[[], Awaitable[None]],
        interval_s: float = 0.5,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.server, self.prepare = server, prepare
        self.interval_s, self.max_backoff_s = interval_s, max_backoff_s
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="embedded-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if await asyncio.to_thread(self.server.gone):
                await self._restart()

    async def _restart(self) -> None:
        backoff = 0.5
        log.error("embedded FalkorDB (%s) exited; restarting it", self.server.data_dir)
        while True:
            try:
                await asyncio.to_thread(self.server.start)
                await self.prepare()
            except Exception as exc:  # keep trying: the app is useless without its graph
                log.error("embedded FalkorDB restart failed (%s); next try in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            self.restarts += 1
            log.warning("embedded FalkorDB is back (restart %d)", self.restarts)
            return
