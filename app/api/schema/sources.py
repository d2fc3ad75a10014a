"""Org sources over GraphQL (README "Connect your systems"): ``sources``, ``addSource``,
``removeSource``, ``syncSource``. Admins register and remove sources; operators may ask for
a sync. A sync itself runs in the scheduler's `sources` job: a big catalog takes longer than
any request may, so a mutation only records what is wanted."""

from __future__ import annotations

import strawberry
from pydantic import ValidationError

from app.api.authz import Rules, roles
from app.api.schema.common import CtxInfo
from app.connectors import sources
from app.core.errors import BadInput
from app.models import Role, SourceIn

RULES: Rules = {
    "sources": roles(Role.OPERATOR, Role.AUDITOR),
    "addSource": roles(),
    "removeSource": roles(),
    "syncSource": roles(Role.OPERATOR),
}


@strawberry.type(name="Source")
class SourceType:
    """Where part of the org graph comes from, and where its syncing stands."""

    id: strawberry.ID
    format: str = strawberry.field(description="backstage | codeowners | k8s | csv")
    location: str = strawberry.field(description="A path on the server or a Backstage URL.")
    precedence: int = strawberry.field(
        description="When two sources describe one entity, the lower number's properties win."
    )
    domain: str = strawberry.field(description="The domain of entities that name none.")
    interval_s: int = strawberry.field(description="Synced every this many seconds (0: asked).")
    status: str = strawberry.field(description="active | removed")
    rev: str | None = strawberry.field(description="The revision of the last sync that changed.")
    synced_at: float | None
    checked_at: float | None
    due_at: float | None = strawberry.field(description="When the scheduler syncs it next.")
    last_error: str | None
    entities: int = strawberry.field(description="Entities it currently describes.")

    @classmethod
    def of(cls, s: sources.SourceState) -> SourceType:
        def ms(v: int | None) -> float | None:
            return float(v) if v is not None else None

        return cls(
            id=strawberry.ID(s.spec.id),
            format=s.spec.format,
            location=s.spec.location,
            precedence=s.spec.precedence,
            domain=s.spec.domain,
            interval_s=s.spec.interval_s,
            status=s.status,
            rev=s.rev,
            synced_at=ms(s.synced_at),
            checked_at=ms(s.checked_at),
            due_at=ms(s.due_at),
            last_error=s.last_error,
            entities=s.entities,
        )


@strawberry.input
class SourceInput:
    id: str
    format: str
    location: str = strawberry.field(
        description="An absolute path on the server (file or folder), or a Backstage URL."
    )
    precedence: int = 100
    domain: str = "catalog"
    interval_s: int = 0
    repo: str | None = strawberry.field(default=None, description="codeowners: its repository.")
    mapping: str | None = strawberry.field(default=None, description="csv: its mapping file.")
    token_env: str | None = strawberry.field(
        default=None, description="backstage URL: the environment variable holding the token."
    )


@strawberry.type
class Query:
    @strawberry.field(description="Every org source with its settings and sync state, by id.")
    async def sources(self, info: CtxInfo) -> list[SourceType]:
        return [SourceType.of(s) for s in await sources.list_all(info.context.rt.store)]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register an org source or change its settings (admins); a scheduled "
        "one (intervalS > 0) is synced at the scheduler's next tick. Audited as source.added "
        "or source.changed; unchanged settings write nothing."
    )
    async def add_source(self, info: CtxInfo, input: SourceInput) -> SourceType:
        try:
            data = SourceIn(
                id=input.id,
                format=input.format,
                location=input.location,
                precedence=input.precedence,
                domain=input.domain,
                interval_s=input.interval_s,
                repo=input.repo,
                mapping=input.mapping,
                token_env=input.token_env,
            )
        except ValidationError as exc:
            raise BadInput(str(exc.errors()[0]["msg"])) from None
        rt = info.context.rt
        return SourceType.of(
            await sources.add(rt.store, data, actor=info.context.caller.id, now=rt.now())
        )

    @strawberry.mutation(
        description="Stop syncing a source (admins): the scheduler then retires every "
        "entity only it described (never deletes). Audited as source.removed."
    )
    async def remove_source(self, info: CtxInfo, id: strawberry.ID) -> SourceType:
        rt = info.context.rt
        return SourceType.of(
            await sources.remove(rt.store, str(id), actor=info.context.caller.id, now=rt.now())
        )

    @strawberry.mutation(
        description="Sync a source at the scheduler's next tick (admins, operators). "
        "Audited as source.sync_requested."
    )
    async def sync_source(self, info: CtxInfo, id: strawberry.ID) -> SourceType:
        rt = info.context.rt
        return SourceType.of(
            await sources.request(rt.store, str(id), actor=info.context.caller.id, now=rt.now())
        )
