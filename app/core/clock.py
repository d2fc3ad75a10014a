"""Time as epoch milliseconds; injectable so tests can move it (SLA, leases, escalation)."""

from __future__ import annotations

import time


class Clock:
    """Wall clock in epoch ms; :class:`ManualClock` replaces it in tests."""

    def now(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.t = start

    def now(self) -> int:
        return self.t

    def advance(self, ms: int) -> int:
        self.t += ms
        return self.t
