"""The event hub: tails the Event log once per process and fans events out to live
subscribers. An in-process nudge after local writes cuts latency, but the log is the truth,
so a subscriber sees events written by any replica, and a reconnecting client resumes from
its cursor with nothing missed or repeated (the log itself is ``app.core.events``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from app.core.errors import RateLimited
from app.core.events import (
    PAGE,
    SESSION,
    Event,
    Session,
    check_cursor,
    ends_session,
    events_after,
    head,
)
from app.graph import GraphStore

log = logging.getLogger("baton.events")

QUEUE_MAX = 10_000
Match = Callable[[Event], bool]


@dataclass(eq=False)
class _Subscriber:
    match: Match
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflowed: bool = False
    session: Session | None = None
    cutoff: int | None = None  # seq of the event that ended its session


class EventHub:
    """Tails the Event log for this process and fans events out to live subscribers."""

    def __init__(
        self,
        store: GraphStore,
        poll_ms: int = 25,
        max_per_owner: int = 64,
        replay_page: int = 200,
        replay_concurrency: int = 2,
    ) -> None:
        self.store = store
        self.poll_s = poll_ms / 1000
        self.max_per_owner = max_per_owner
        self.replay_page = replay_page
        self._replays = asyncio.Semaphore(max(1, replay_concurrency))
        self._owners: dict[str, int] = {}
        self.cursor = 0
        self._subs: set[_Subscriber] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lock = asyncio.Lock()
        self.delivered = 0

    def nudge(self) -> None:
        """Poll now: a local write just appended events."""
        self._wake.set()

    async def start(self) -> None:
        """Begin tailing from the current head."""
        self.cursor = await head(self.store)
        self.store.on_write.append(self.nudge)
        self._task = asyncio.create_task(self._run(), name="baton-event-hub")

    async def stop(self) -> None:
        """Stop tailing; open subscriptions end. The flag, not only the cancel, ends the
        loop: Python 3.11's ``wait_for`` can swallow a cancel that races a wake-up."""
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(ValueError):
            self.store.on_write.remove(self.nudge)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            if not self._subs:
                continue
            try:
                await self._poll()
            except Exception:  # the graph may be restarting: keep tailing
                log.exception("event hub poll failed")
                await asyncio.sleep(0.5)

    async def _poll(self) -> None:
        while True:
            async with self._lock:
                batch = await events_after(self.store, self.cursor, None, PAGE)
                for ev in batch:
                    for sub in tuple(self._subs):
                        if sub.cutoff is None and ends_session(ev, sub.session):
                            sub.cutoff = ev.seq  # its session ended: deliver nothing after
                            with contextlib.suppress(asyncio.QueueFull):
                                sub.queue.put_nowait(ev)  # wake it up
                            continue
                        if sub.overflowed or sub.cutoff is not None or not sub.match(ev):
                            continue
                        try:
                            sub.queue.put_nowait(ev)
                        except asyncio.QueueFull:
                            sub.overflowed = True  # it will catch up from the log
                if batch:
                    self.cursor = batch[-1].seq
                    self.delivered += len(batch)
            if len(batch) < PAGE:
                return

    async def subscribe(
        self,
        after: int | None,
        match: Match,
        types: list[str] | None = None,
        owner: str | None = None,
    ) -> AsyncIterator[Event]:
        """Yield matching events with ``seq > after`` (``None``: only new ones), replaying
        from the log first and then streaming live, with no gap and no duplicate. An
        ``owner`` (the principal) holds at most ``max_per_owner`` live subscriptions. On a
        WebSocket (:data:`SESSION` set) the stream ends at the event that revokes or rotates
        the caller's token, and nothing after it is delivered."""
        session = SESSION.get()
        if owner is not None:
            held = self._owners.get(owner, 0)
            if held >= self.max_per_owner:
                raise RateLimited(
                    f"at most {self.max_per_owner} live subscriptions per principal",
                    limit=self.max_per_owner,
                )
            self._owners[owner] = held + 1
        try:
            async for ev in self._subscribe(after, match, types, session):
                yield ev
        finally:
            if owner is not None:
                left = self._owners.get(owner, 1) - 1
                if left > 0:
                    self._owners[owner] = left
                else:
                    self._owners.pop(owner, None)

    async def _subscribe(
        self,
        after: int | None,
        match: Match,
        types: list[str] | None,
        session: Session | None,
    ) -> AsyncIterator[Event]:
        await check_cursor(self.store, after)
        sub = _Subscriber(match, session=session)
        async with self._lock:
            if not self._subs:
                self.cursor = await head(self.store)  # hub idled: skip what nobody wanted
            self._subs.add(sub)
            last = self.cursor if after is None else after
        try:
            async for ev in self._stream(sub, last, types):
                yield ev
        finally:
            self._subs.discard(sub)

    async def _stream(
        self, sub: _Subscriber, last: int, types: list[str] | None
    ) -> AsyncIterator[Event]:
        def cut(ev: Event) -> bool:
            if sub.cutoff is None and ends_session(ev, sub.session):
                sub.cutoff = ev.seq
            return sub.cutoff is not None and ev.seq >= sub.cutoff

        while True:
            # Catch up from the log (first connect, or after this subscriber overflowed).
            # The hub is already queueing for us, so whatever the log read misses is queued.
            # Bounded pages, a few replays at a time: a crowd replaying from 0 takes turns,
            # page by page (first come, first served), and live traffic goes between them.
            while True:
                async with self._replays:
                    page = await events_after(self.store, last, types, self.replay_page)
                await asyncio.sleep(0)
                for ev in page:
                    if cut(ev):
                        return
                    last = ev.seq
                    if sub.match(ev):
                        yield ev
                if len(page) < self.replay_page:
                    break
            while not sub.overflowed:
                try:
                    async with asyncio.timeout(1.0):
                        ev = await sub.queue.get()
                except TimeoutError:
                    if sub.cutoff is not None:
                        return
                    continue
                if cut(ev):
                    return
                if ev.seq <= last:
                    continue  # already replayed
                last = ev.seq
                yield ev
            while not sub.queue.empty():  # drop the partial buffer; the log has it all
                sub.queue.get_nowait()
            sub.overflowed = False  # re-arm before the catch-up read, so nothing falls between
