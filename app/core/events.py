"""The Event log: append-only change history, audit trail and subscription source.

Every state-changing statement in ``cypher/`` writes its own ``Event`` (seq from the
``Counter {name:'event'}`` node) in the same statement, so a change without its event cannot
exist. ``app.core.event_hub.EventHub`` tails the log once per process and fans events out to
subscribers; an in-process nudge after local writes cuts latency, but the log is the truth,
so a subscriber sees events written by any replica, and a reconnecting client resumes from
its cursor with nothing missed or repeated.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from app.core.errors import BadInput, CursorExpired
from app.graph import GraphError, GraphStore
from app.graph.queries import q
from app.models import has_nul

log = logging.getLogger("baton.events")


class Grants(Protocol):
    """A reader (``app.core.context.Reader``): the parameters of the grant filter."""

    def params(self) -> dict[str, Any]: ...


ALL: dict[str, Any] = {"agentId": None, "principalId": None, "all": True, "callerId": None}

BOOTSTRAP = q("events/bootstrap")
HEAD = q("events/head")
AFTER = q("events/after")
AFTER_FOR = q("events/after_for")
EMIT = q("events/emit")
QUERY = q("events/query")
FLOOR = q("events/floor")
LOG_PAGE = q("events/log_page")

PAGE = 1_000


@dataclass(frozen=True)
class Event:
    """One entry of the log."""

    seq: int
    type: str
    at: int
    actor: str | None
    subject: str | None
    payload: dict[str, Any]
    recipients: tuple[str, ...] = ()  # who a targeted event (fact.asserted) is for
    key: str | None = None  # the sender's delivery id (emitEvent, inbound webhooks)
    agent_id: str | None = None  # the agent the actor acted as (actor is the principal)
    hidden: bool = False  # payload withheld: the reader may not read what it is about

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Event:
        return cls(
            int(row["seq"]),
            str(row["type"]),
            int(row.get("at") or 0),
            row.get("actor"),
            row.get("subject"),
            _payload(row),
            tuple(row.get("recipients") or ()),
            row.get("key"),
            row.get("agentId"),
            bool(row.get("hidden") or False),
        )


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    """The decoded payload; a malformed one is reported, not raised.

    Why: one event the log cannot decode must not wedge the hub (every poll would fail on
    it and no subscriber would see anything after it)."""
    raw = row.get("payload")
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        log.error(
            "event %s has a malformed payload (%d chars); delivered without it",
            row.get("seq"),
            len(raw),
        )
        return {"malformed": True}
    return value if isinstance(value, dict) else {"value": value}


def dumps(payload: dict[str, Any] | None) -> str:
    """Compact JSON for event payloads and other JSON-in-a-string properties."""
    return json.dumps(payload or {}, separators=(",", ":"), sort_keys=True, default=str)


async def bootstrap(store: GraphStore) -> None:
    """Create the event counter and the run-id secret if the graph has none (idempotent)."""
    for attempt in range(3):
        try:
            await store.write(BOOTSTRAP, secret=secrets.token_hex(32))
            return
        except GraphError as exc:
            # Replicas starting together on a new Neo4j graph: both MERGE the counter, one
            # commits, the other's create hits the uniqueness constraint. Again, its MERGE
            # finds the committed counter.
            if "already exists" not in str(exc) or attempt == 2:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))


async def head(store: GraphStore) -> int:
    """The newest seq in the log."""
    rows = await store.read(HEAD)
    return int(rows[0]["seq"]) if rows else 0


async def log_page(store: GraphStore, after: int, limit: int) -> list[dict[str, Any]]:
    """Events after ``after`` in order, each with the trace and span ids of what it is about
    (``seq``, ``type``, ``at``, ``actor``, ``subject``, ``payload``, ``traceId``, ``spanId``),
    for the JSON log stream."""
    return await store.read(LOG_PAGE, after=after, limit=limit)


async def events_after(
    store: GraphStore, after: int, types: list[str] | None = None, limit: int = PAGE
) -> list[Event]:
    """Events with ``seq > after`` (oldest first), optionally only of ``types``."""
    rows = await store.read(AFTER, after=after, types=types or None, limit=limit)
    return [Event.from_row(r) for r in rows]


async def events_for(
    store: GraphStore, reader: Grants, after: int, types: list[str] | None, limit: int
) -> list[Event]:
    """Events with ``seq > after`` as ``reader`` may see them: a payload about something it
    may not read is withheld (``hidden``), the rest of the row stays."""
    rows = await store.read(
        AFTER_FOR, after=after, types=types or None, limit=limit, **reader.params()
    )
    return [Event.from_row(r) for r in rows]


async def check_cursor(store: GraphStore, after: int | None) -> None:
    """Refuse to resume from a cursor (> 0) below what retention deleted: some events after
    it are only in the audit archive. 0 means "from the oldest event the graph still has"."""
    if not after:
        return
    rows = await store.read(FLOOR)
    floor = int(rows[0]["pruned"]) if rows else 0
    if after < floor:
        raise CursorExpired(
            f"events up to seq {floor} were archived and pruned (auditArchive says where); "
            f"resume from {floor} or later, after reading the archive",
            floor=floor,
        )


async def emit(
    store: GraphStore,
    type_: str,
    *,
    now: int,
    actor: str | None,
    subject: str | None,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
) -> tuple[Event, bool]:
    """Append a free-standing event (integrations' ``emitEvent``, inbound webhooks).
    With a ``key`` a re-delivery appends nothing: returns (the first event, True)."""
    rows = await store.write(
        EMIT, type=type_, now=now, actor=actor, subject=subject, payload=dumps(payload), key=key
    )
    return Event.from_row(rows[0]), bool(rows[0]["duplicate"])


EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,3}$")
RESERVED = (
    "principal.",
    "agent.",
    "task.",
    "lock.",
    "fact.",
    "entity.",
    "proposal.",
    "policy.",
    "budget.",
    "run.",
    "step.",
    "workflow.",
    "rate.",
    "sla.",
    "trigger.",
    "team.",
)
MAX_PAYLOAD = 64_000
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$")


def check_external(type_: str, subject: str | None, payload: Any, key: str | None) -> None:
    """What an outside system may append: its own event types only (never one Baton itself
    writes), a JSON object payload under 64 kB, a short subject and delivery key."""
    if not EVENT_TYPE.match(type_) or type_.startswith(RESERVED):
        raise BadInput(
            "type must look like 'source.happened' and not use a reserved prefix", field="type"
        )
    if payload is not None and not isinstance(payload, dict):
        raise BadInput("payload must be a JSON object", field="payload")
    if len(json.dumps(payload or {})) > MAX_PAYLOAD:
        raise BadInput(f"payload larger than {MAX_PAYLOAD} bytes", field="payload")
    if subject is not None and len(subject) > 200:
        raise BadInput("subject longer than 200 characters", field="subject")
    if key is not None and not KEY.match(key):
        raise BadInput("key: 1-200 characters of letters, digits and _.:/-", field="key")
    if has_nul([type_, subject, payload]):
        raise BadInput("strings must not contain NUL (\\x00) characters", field="payload")


SESSION_ENDING = frozenset(
    {"principal.revoked", "principal.token_rotated", "principal.roles_changed"}
)


@dataclass(frozen=True)
class Session:
    """Whose connection a subscription runs on: the principal, and the log head when it
    authenticated. A later ``principal.revoked`` / ``principal.token_rotated`` event for that
    principal ends the subscription: nothing after that event is delivered to it."""

    principal_id: str
    since: int


SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "baton_session", default=None
)
"""Set by the WebSocket transport for the operations it runs; read by ``EventHub.subscribe``."""


def ends_session(ev: Event, session: Session | None) -> bool:
    """True if ``ev`` revokes or rotates the token ``session`` was opened with."""
    return (
        session is not None
        and ev.type in SESSION_ENDING
        and ev.subject == session.principal_id
        and ev.seq > session.since
    )


async def query(
    store: GraphStore,
    *,
    after: int,
    types: list[str] | None,
    actor: str | None,
    subject: str | None,
    from_: int | None,
    to: int | None,
    limit: int,
    agent: str | None = None,
    reader: Grants | None = None,
) -> list[Event]:
    """Filtered page of the log for ``auditLog`` and ``baton audit export`` (``reader``:
    payloads it may not read are withheld; None: everything, for admin tools)."""
    rows = await store.read(
        QUERY,
        **(reader.params() if reader is not None else ALL),
        after=after,
        types=types or None,
        actor=actor,
        agent=agent,
        subject=subject,
        since=from_,
        until=to,
        limit=limit,
    )
    return [Event.from_row(r) for r in rows]
