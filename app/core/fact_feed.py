"""The live feed of facts to the agents working near them (``contextUpdates``): which events
an agent receives, and the fact each one delivers.

The recipients of a ``fact.asserted`` event were chosen, with their grants, inside the
statement that stored the fact, so the fact is read once (as everyone) however many agents it
goes to: a bounded cache of in-flight and recent reads, one per runtime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from app.core import context
from app.core.events import Event
from app.graph import GraphStore

KINDS = ["fact.asserted", "fact.contradicted"]
KEEP = 1_000  # recent facts remembered (a burst of subscribers shares one read)


def for_agent(agent_id: str) -> Callable[[Event], bool]:
    """The events of the feed that are for ``agent_id`` (it is among their recipients)."""

    def mine(ev: Event) -> bool:
        return ev.type in KINDS and agent_id in ev.recipients

    return mine


class FactFeed:
    """The fact each feed event delivers, read once per fact for all its recipients."""

    def __init__(self, store: GraphStore, keep: int = KEEP) -> None:
        self.store = store
        self.keep = keep
        self._recent: dict[str, asyncio.Future[context.Fact | None]] = {}

    async def fact(self, ev: Event) -> context.Fact | None:
        """The fact ``ev`` is about (None if it is gone)."""
        fact_id = ev.subject or ""
        fut = self._recent.get(fact_id)
        if fut is None:
            read = context.fact(self.store, context.EVERYONE, fact_id)
            fut = asyncio.ensure_future(read)
            self._recent[fact_id] = fut
            while len(self._recent) > self.keep:
                self._recent.pop(next(iter(self._recent)))
        try:
            # shielded: one subscriber going away must not cancel the read the others share
            return await asyncio.shield(fut)
        except Exception:
            if self._recent.get(fact_id) is fut:  # a failed read is not remembered
                del self._recent[fact_id]
            raise
