"""Shared GraphQL building blocks: scalars, paging, the Event type."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any, NewType, TypeVar, cast

import strawberry
from strawberry.scalars import JSON

from app.api.request import Ctx, CtxInfo
from app.core import triggers as core_triggers
from app.core import workflows as core_workflows
from app.core.errors import BadInput
from app.core.events import Event as CoreEvent

T = TypeVar("T")
Long = NewType("Long", int)


def opt_long(v: int | None) -> Long | None:
    """A timestamp or count that may be absent, as the schema's Long."""
    return Long(v) if v is not None else None


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


@strawberry.type(name="TriggerCheck")
class TriggerCheckType:
    """One trigger that listens for an event (its type matches and its `when` holds)."""

    trigger_id: str
    workflow: str
    will_start: bool = strawberry.field(
        description="Whether the trigger can start its workflow from this event with the "
        "workflow's current definition. False: it is skipped (the trigger job records a "
        "`trigger.skipped` event with the same code and reason)."
    )
    code: str | None = strawberry.field(
        description="Why it cannot start: BAD_INPUT (its input mapping leaves a declared "
        "input empty) or NOT_FOUND (no such workflow)."
    )
    reason: str | None


async def _memo(info: CtxInfo, key: str, load: Callable[[], Any]) -> Any:
    """A read shared by the resolvers of one request (and one second of a socket)."""
    memo = info.context.memo
    hit = memo.get(key)
    if hit is not None and time.monotonic() - hit[0] < 1.0:
        return hit[1]
    value = await load()
    memo[key] = (time.monotonic(), value)
    return value


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
    core: strawberry.Private[CoreEvent]

    @strawberry.field(
        description="The enabled triggers that listen for this event (type and `when` "
        "match) and whether each can start its workflow from it, checked now against the "
        "current definitions. Triggers run in the scheduler (within `workflowIntervalMs`): "
        "`emitEvent { seq triggers { workflow willStart reason } }` says at once whether "
        "the event will start anything; a trigger that cannot start is also recorded in "
        "the log as a `trigger.skipped` event with the reason."
    )
    async def triggers(self, info: CtxInfo) -> list[TriggerCheckType]:
        if self.core.hidden:  # what it would do depends on the payload the caller may not read
            return []
        store = info.context.rt.store
        found = await _memo(info, "triggers", lambda: core_triggers.list_triggers(store))
        if not any(t.event == self.type for t in found):
            return []
        defs: dict[str, core_workflows.Workflow | None] = await _memo(
            info, "trigger-defs", _empty_defs
        )
        return [
            TriggerCheckType(
                trigger_id=o.trigger_id,
                workflow=o.workflow,
                will_start=o.will_start,
                code=o.code,
                reason=o.reason,
            )
            for o in await core_triggers.consider(store, self.core, found, defs)
        ]

    @classmethod
    def of(cls, ev: CoreEvent) -> EventType:
        return cls(
            core=ev,
            seq=Long(ev.seq),
            type=ev.type,
            at=Long(ev.at),
            actor=ev.actor,
            subject=ev.subject,
            payload=None if ev.hidden else cast(JSON, ev.payload),
            agent_id=ev.agent_id,
        )


async def _empty_defs() -> dict[str, Any]:
    return {}


@strawberry.type
class EventPageInfo:
    """Paging through the log: pass ``endCursor`` (the last seq of the page) as ``after``."""

    end_cursor: Long | None = strawberry.field(
        description="The seq of the last event of this page (the `after` of the next page; "
        "the same cursor the subscriptions take)."
    )
    has_next_page: bool


def seq_cursor(after: Long | None) -> int:
    """An event seq cursor (0: from the start)."""
    if after is not None and after < 0:
        raise BadInput("after must be an event seq (0 or more)", field="after")
    return int(after or 0)


def event_page(rows: list[CoreEvent], n: int, after: Long | None) -> EventConnection:
    """Cut a page of events read with ``n + 1`` rows."""
    page = rows[:n]
    end = Long(page[-1].seq) if page else after
    return EventConnection(
        nodes=[EventType.of(e) for e in page],
        page_info=EventPageInfo(end_cursor=end, has_next_page=len(rows) > n),
    )


@strawberry.type
class EventConnection:
    """A page of events."""

    nodes: list[EventType]
    page_info: EventPageInfo
