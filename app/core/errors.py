"""Errors with the stable codes of the GraphQL contract (`extensions.code`, see README)."""

from __future__ import annotations

from typing import Any


class BatonError(Exception):
    """Base error: ``code`` is what clients see in ``extensions.code``."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(BatonError):
    code = "UNAUTHENTICATED"


class Forbidden(BatonError):
    code = "FORBIDDEN"


class NotFound(BatonError):
    code = "NOT_FOUND"


class Conflict(BatonError):
    code = "CONFLICT"


class BadInput(BatonError):
    code = "BAD_INPUT"


class BudgetExceeded(BatonError):
    code = "BUDGET_EXCEEDED"


class RateLimited(BatonError):
    code = "RATE_LIMITED"


class Timeout(BatonError):
    """The request ran past a deadline (a statement timeout, a busy heavy-read slot)."""

    code = "TIMEOUT"


class CostLimit(BatonError):
    """The request would cost more than the configured budget (GraphQL cost, query memory)."""

    code = "COST_LIMIT"


class Unavailable(BatonError):
    """The graph cannot be reached right now; retry later."""

    code = "UNAVAILABLE"


class CursorExpired(BatonError):
    """A resume cursor older than what retention left in the graph: the events after it are
    partly in the audit archive only, so resuming from it would skip some silently."""

    code = "CURSOR_EXPIRED"
