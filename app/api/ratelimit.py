"""Per-principal request rate limit (token bucket).

Kept in process memory on purpose: it protects this replica's CPU, and losing it on restart
is harmless (it is not business state). Shared-resource rate limits live in the graph.
"""

from __future__ import annotations

import time


class RateLimiter:
    """``rate`` requests/s with bursts up to ``burst`` per principal."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> float:
        """0.0 if allowed now, else seconds until the next request would be."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0
