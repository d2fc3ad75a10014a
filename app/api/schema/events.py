"""The Event log over GraphQL: ``events`` (pull), ``emitEvent``, ``graphChanges`` (push)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules, authorize, caller_reader, roles
from app.api.schema.common import (
    CtxInfo,
    EventConnection,
    EventType,
    Long,
    event_page,
    page_size,
    seq_cursor,
)
from app.api.schema.retention import AuditArchive, archive_info
from app.core import events
from app.core.errors import BadInput
from app.models import Role

RULES: Rules = {
    "eventHead": ANY,
    "events": roles(Role.AUDITOR, Role.INTEGRATION, Role.OPERATOR),
    "auditLog": roles(Role.AUDITOR, Role.OPERATOR),
    "emitEvent": roles(Role.INTEGRATION),
    "graphChanges": roles(Role.AUDITOR, Role.INTEGRATION, Role.OPERATOR),
}


def _types(types: list[str] | None) -> list[str] | None:
    if types is not None and (len(types) > 50 or any(len(t) > 100 for t in types)):
        raise BadInput("types: at most 50 names of at most 100 characters", field="types")
    return types or None


@strawberry.type(description="A page of the audit trail, and where older history lives.")
class AuditLogConnection(EventConnection):
    @strawberry.field(
        description="Events older than the retention window leave the graph only after they "
        "are written to this archive."
    )
    async def archive(self, info: CtxInfo) -> AuditArchive:
        return await archive_info(info)  # read only when a client asks for it


@strawberry.type
class Query:
    @strawberry.field(
        description="The newest event seq: read it before acting, then subscribe with "
        "`after` set to it, and nothing that follows the action can be missed."
    )
    async def event_head(self, info: CtxInfo) -> Long:
        return Long(await events.head(info.context.rt.store))

    @strawberry.field(
        description="Events after `after` (an event seq, exclusive; 0 or none: from the "
        "start), oldest first. The pull form of `graphChanges`: both (and every other "
        "subscription) take the same `Long` seq cursor; `pageInfo.endCursor` is the last seq."
    )
    async def events(
        self,
        info: CtxInfo,
        after: Long | None = None,
        types: list[str] | None = None,
        first: int = 100,
    ) -> EventConnection:
        n = page_size(info, first)
        await events.check_cursor(info.context.rt.store, seq_cursor(after))
        rows = await events.events_for(
            info.context.rt.store,
            caller_reader(info),
            seq_cursor(after),
            _types(types),
            n + 1,
        )
        return event_page(rows, n, after)

    @strawberry.field(
        description="The audit trail: every change and automatic decision, filtered by actor "
        "(the principal), agent (the agent it acted as), subject, types and time [from, to) "
        "in epoch ms; oldest first, after `after` (an event seq, as in `events`). History "
        "older than the retention window is in the audit archive (`archive`)."
    )
    async def audit_log(
        self,
        info: CtxInfo,
        actor: str | None = None,
        agent: str | None = None,
        subject: str | None = None,
        types: list[str] | None = None,
        from_: Annotated[Long | None, strawberry.argument(name="from")] = None,
        to: Long | None = None,
        first: int = 100,
        after: Long | None = None,
    ) -> AuditLogConnection:
        n = page_size(info, first)
        rows = await events.query(
            info.context.rt.store,
            after=seq_cursor(after),
            types=_types(types),
            actor=actor,
            agent=agent,
            subject=subject,
            from_=from_,
            to=to,
            limit=n + 1,
            reader=caller_reader(info),
        )
        page = event_page(rows, n, after)
        return AuditLogConnection(nodes=page.nodes, page_info=page.page_info)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Append an integration's event (e.g. deployment.created).")
    async def emit_event(
        self,
        info: CtxInfo,
        type: str,
        subject: str | None = None,
        payload: JSON | None = None,
        key: str | None = None,
    ) -> EventType:
        """``key`` is the sender's delivery id: the same (type, key) twice appends once, so
        a re-delivered event starts its triggered workflows once."""
        events.check_external(type, subject, payload, key)
        if key is not None and key.startswith("webhook:"):  # inbound webhooks' delivery ids
            raise BadInput("keys starting with 'webhook:' are reserved", field="key")
        rt = info.context.rt
        ev, _ = await events.emit(
            rt.store,
            type,
            now=rt.now(),
            actor=info.context.caller.id,
            subject=subject,
            payload=cast(dict[str, Any] | None, payload),
            key=key,
        )
        return EventType.of(ev)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every change to the graph, replayed after `after` (an event seq, "
        "exclusive: the last one you saw, or `eventHead`) then live; without `after`, live "
        "only. Payloads the caller may not read are null (as in `events`)."
    )
    async def graph_changes(
        self, info: CtxInfo, types: list[str] | None = None, after: Long | None = None
    ) -> AsyncGenerator[EventType, None]:
        authorize(info)
        if after is not None:
            seq_cursor(after)
        wanted = _types(types)
        hub = info.context.rt.hub
        assert hub is not None
        match = (lambda ev: ev.type in wanted) if wanted else (lambda ev: True)
        reader = caller_reader(info)
        store = info.context.rt.store
        async for ev in hub.subscribe(after, match, wanted, owner=info.context.caller.id):
            if not reader.everything:  # the grant filter runs in the statement, per event
                seen = await events.events_for(store, reader, ev.seq - 1, None, 1)
                if not seen or seen[0].seq != ev.seq:
                    continue
                ev = seen[0]
            yield EventType.of(ev)
