"""Retention over GraphQL: legal holds (``placeLegalHold``, ``releaseLegalHold``,
``legalHolds``) and where archived history lives (``auditArchive``, also on ``auditLog``)."""

from __future__ import annotations

from typing import Any

import strawberry

from app.api.authz import Rules, roles
from app.api.schema.common import CtxInfo, Long, page_size
from app.core import archive, retention
from app.models import Role

RULES: Rules = {
    "placeLegalHold": roles(Role.AUDITOR),
    "releaseLegalHold": roles(Role.AUDITOR),
    "legalHolds": roles(Role.AUDITOR, Role.OPERATOR),
    "auditArchive": roles(Role.AUDITOR, Role.OPERATOR),
}


@strawberry.type(description="A legal hold: retention keeps its target and what hangs off it.")
class LegalHold:
    id: strawberry.ID
    target_id: str
    target_kind: str = strawberry.field(description="Entity | Run | Task | Agent | Fact")
    reason: str
    until: Long | None = strawberry.field(description="Epoch ms; null: until released.")
    placed_by: str
    placed_at: Long
    released_at: Long | None
    released_by: str | None

    @classmethod
    def of(cls, h: dict[str, Any]) -> LegalHold:
        def long(k: str) -> Long | None:
            return None if h.get(k) is None else Long(int(h[k]))

        return cls(
            id=strawberry.ID(h["id"]),
            target_id=h["targetId"],
            target_kind=h["targetKind"],
            reason=h["reason"],
            until=long("until"),
            placed_by=h["placedBy"],
            placed_at=Long(int(h["placedAt"])),
            released_at=long("releasedAt"),
            released_by=h.get("releasedBy"),
        )


@strawberry.type(description="Where event history that left the graph lives.")
class AuditArchive:
    location: str | None = strawberry.field(
        description="The archive directory (one gzip'd JSON Lines file per day, chain.jsonl)."
    )
    through_seq: Long = strawberry.field(description="Every event up to this seq is archived.")
    pruned_through: Long = strawberry.field(
        description="Events up to this seq may be gone from the graph (legal holds and running "
        "runs keep theirs): read them from the archive."
    )
    day: str | None = strawberry.field(description="The newest archived UTC day.")
    files: int
    chain_head: str | None = strawberry.field(
        description="SHA-256 chain head of the archive: `baton audit verify DIR --head` it."
    )
    retain_days: int = strawberry.field(description="Events older than this may be pruned.")


async def archive_info(info: CtxInfo) -> AuditArchive:
    rt = info.context.rt
    st = await archive.state(rt.store)
    return AuditArchive(
        location=st.location or str(rt.settings.archive_path),
        through_seq=Long(st.through),
        pruned_through=Long(st.pruned),
        day=st.day,
        files=st.files,
        chain_head=st.head,
        retain_days=rt.settings.retain_events_days,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Legal holds, newest first (`active`: only those in force).")
    async def legal_holds(
        self, info: CtxInfo, active: bool = True, first: int = 100
    ) -> list[LegalHold]:
        rt = info.context.rt
        rows = await retention.holds(
            rt.store, active=active, now=rt.now(), limit=page_size(info, first)
        )
        return [LegalHold.of(h) for h in rows]

    @strawberry.field(description="Where history older than the retention window lives.")
    async def audit_archive(self, info: CtxInfo) -> AuditArchive:
        return await archive_info(info)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Keep an entity, run, task, agent or fact (by id), and what hangs off it, "
        "from retention until `until` (epoch ms) or until released."
    )
    async def place_legal_hold(
        self, info: CtxInfo, target_id: str, reason: str, until: Long | None = None
    ) -> LegalHold:
        rt = info.context.rt
        hold = await retention.place_hold(
            rt.store,
            target_id,
            reason=reason,
            until=until,
            actor=info.context.caller.id,
            now=rt.now(),
        )
        return LegalHold.of(hold)

    @strawberry.mutation(description="End a legal hold now; retention may then prune.")
    async def release_legal_hold(
        self, info: CtxInfo, id: strawberry.ID, reason: str = ""
    ) -> LegalHold:
        rt = info.context.rt
        hold = await retention.release_hold(
            rt.store, str(id), reason=reason, actor=info.context.caller.id, now=rt.now()
        )
        return LegalHold.of(hold)
