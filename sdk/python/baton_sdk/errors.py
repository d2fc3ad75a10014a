"""The errors the SDK raises: one class per stable code of Baton's GraphQL contract
(``extensions.code``, see the README), plus :class:`TransportError` when the API cannot be
reached. The SDK keeps its own copy of the codes (it does not import the server); a test in
the server's suite checks that both sides name the same codes."""

from __future__ import annotations

from typing import Any


class BatonError(Exception):
    """Base error: ``code`` is the API's ``extensions.code``; ``details`` its other
    extensions (e.g. ``retryAfterMs``)."""

    code = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(BatonError):
    """No token, a bad or expired one, or a subscription the server refused."""

    code = "UNAUTHENTICATED"


class Forbidden(BatonError):
    """The token may not do this (or act as that agent)."""

    code = "FORBIDDEN"


class NotFound(BatonError):
    """The object does not exist, or is not the caller's to see."""

    code = "NOT_FOUND"


class Conflict(BatonError):
    """A stale fencing token, a lost lease, or a state that no longer allows the change."""

    code = "CONFLICT"


class BadInput(BatonError):
    """The request's input is invalid."""

    code = "BAD_INPUT"


class BudgetExceeded(BatonError):
    """A spend budget is used up: new work waits until it is raised."""

    code = "BUDGET_EXCEEDED"


class RateLimited(BatonError):
    """Too many requests: ``details["retryAfterMs"]`` says when to try again."""

    code = "RATE_LIMITED"


class Timeout(BatonError):
    """The request ran past a deadline on the server (a statement timeout, a busy slot)."""

    code = "TIMEOUT"


class CostLimit(BatonError):
    """The request would cost more than the server allows (GraphQL cost, query memory)."""

    code = "COST_LIMIT"


class Unavailable(BatonError):
    """The server's graph cannot be reached right now; retry later."""

    code = "UNAVAILABLE"


class CursorExpired(BatonError):
    """A resume cursor older than what the server still keeps in its event log."""

    code = "CURSOR_EXPIRED"


class TransportError(BatonError):
    """The API could not be reached (after retries)."""

    code = "UNAVAILABLE"


CODES: dict[str, type[BatonError]] = {
    cls.code: cls
    for cls in (
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        BadInput,
        BudgetExceeded,
        RateLimited,
        Timeout,
        CostLimit,
        Unavailable,
        CursorExpired,
    )
}
"""The exception class for each code the API answers with (anything else: :class:`BatonError`)."""


def from_graphql(error: dict[str, Any]) -> BatonError:
    """The exception for one GraphQL error object (``message`` plus ``extensions``)."""
    ext = error.get("extensions") or {}
    cls = CODES.get(str(ext.get("code")), BatonError)
    return cls(error.get("message", "error"), **{k: v for k, v in ext.items() if k != "code"})
