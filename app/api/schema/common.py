"""Shared GraphQL building blocks: scalars, paging, the Event type."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, NewType, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from app.api.context import Ctx, CtxInfo
from app.core.context import Reader
from app.core.errors import BadInput
from app.core.events import Event as CoreEvent
from app.models import Role

T = TypeVar("T")
Long = NewType("Long", int)
LONG_MAX = 2**63 - 1


def _parse_long(value: object) -> int:
    """A whole number within 64 bits: never silently clamped by the graph, never a float."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Long must be a whole number")
    n = int(value)
    if not -LONG_MAX - 1 <= n <= LONG_MAX:
        raise ValueError("Long out of range (64-bit signed integer)")
    return n


LONG_SCALAR = strawberry.scalar(
    name="Long",
    serialize=int,
    parse_value=_parse_long,
    description="64-bit integer: epoch milliseconds and sequence numbers.",
)
SCALARS: dict[object, Any] = {Long: LONG_SCALAR}

__all__ = ["JSON", "Ctx", "CtxInfo", "EventConnection", "EventType", "Long", "PageInfo"]


def caller_reader(info: CtxInfo) -> Reader:
    """The caller as a reader: an agent reads as itself, any other principal with its own
    teams' grants; auditors and admins read everything."""
    caller = info.context.caller
    if caller.agent_id is not None and Role.AGENT in caller.roles:
        return Reader(agent_id=caller.agent_id, caller=caller.id)
    return Reader(principal_id=caller.id, everything=caller.has(Role.AUDITOR), caller=caller.id)


@strawberry.type
class PageInfo:
    """Cursor paging: pass ``endCursor`` as ``after`` to get the next page."""

    end_cursor: str | None
    has_next_page: bool


def page_size(info: CtxInfo, first: int) -> int:
    """Validate ``first`` against the configured maximum page size."""
    limit = info.context.rt.settings.max_page_size
    if not 1 <= first <= limit:
        raise BadInput(f"first must be between 1 and {limit}", field="first")
    return first


def page_of(
    rows: list[T], n: int, after: str | None, key: Callable[[T], str | int]
) -> tuple[list[T], PageInfo]:
    """Cut a page read with ``n + 1`` rows: the extra row says whether there is a next one."""
    page = rows[:n]
    end = encode_cursor(key(page[-1])) if page else after
    return page, PageInfo(end_cursor=end, has_next_page=len(rows) > n)


def encode_cursor(value: str | int) -> str:
    """Opaque cursor text for a sort key."""
    return base64.urlsafe_b64encode(str(value).encode()).decode()


def decode_cursor(cursor: str | None, default: str = "") -> str:
    """The sort key inside a cursor (BAD_INPUT if it was tampered with)."""
    if not cursor:
        return default
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("malformed cursor", field="after") from exc


def decode_int_cursor(cursor: str | None) -> int:
    """Numeric sort key inside a cursor."""
    raw = decode_cursor(cursor, "0")
    if not raw.isdigit():
        raise BadInput("malformed cursor", field="after")
    return int(raw)


@strawberry.type(name="Event")
class EventType:
    """One entry of the append-only change log (also the audit trail)."""

    seq: Long
    type: str
    at: Long
    actor: str | None = strawberry.field(
        description="The principal who acted (one audit identity per principal)."
    )
    subject: str | None
    payload: JSON | None = strawberry.field(
        description="Null when the caller may not read what the event is about."
    )
    agent_id: str | None = strawberry.field(
        description="The agent the principal acted as, for an agent's actions."
    )

    @classmethod
    def of(cls, ev: CoreEvent) -> EventType:
        return cls(
            seq=Long(ev.seq),
            type=ev.type,
            at=Long(ev.at),
            actor=ev.actor,
            subject=ev.subject,
            payload=None if ev.hidden else cast(JSON, ev.payload),
            agent_id=ev.agent_id,
        )


@strawberry.type
class EventConnection:
    """A page of events."""

    nodes: list[EventType]
    page_info: PageInfo
