"""Principals and tokens: ``createPrincipal``, ``revokeToken``, ``rotateToken``, ``me``."""

from __future__ import annotations

import strawberry

from app.api.authz import ANY, Rules, roles
from app.api.schema.common import (
    CtxInfo,
    Long,
    PageInfo,
    decode_cursor,
    opt_long,
    page_of,
    page_size,
)
from app.core import principals
from app.models import Principal, PrincipalIn, Role

RULES: Rules = {
    "me": ANY,
    "principals": roles(),
    "createPrincipal": roles(),
    "revokeToken": roles(),
    "rotateToken": roles(),
    "setRoles": roles(),
}


@strawberry.type(name="Principal")
class PrincipalType:
    """A caller of the API: a human, an agent or a service."""

    id: strawberry.ID
    kind: str
    name: str
    roles: list[str]
    agent_id: str | None
    revoked: bool
    created_at: Long | None
    expires_at: Long | None = strawberry.field(
        description="When its token stops working (epoch ms); null: never."
    )

    @classmethod
    def of(cls, p: Principal) -> PrincipalType:
        return cls(
            id=strawberry.ID(p.id),
            kind=p.kind,
            name=p.name,
            roles=p.roles,
            agent_id=p.agent_id,
            revoked=p.revoked,
            created_at=opt_long(p.created_at),
            expires_at=opt_long(p.expires_at),
        )


@strawberry.type
class PrincipalConnection:
    nodes: list[PrincipalType]
    page_info: PageInfo


@strawberry.type
class PrincipalWithToken:
    """A created principal and its token: shown this once, stored only as a hash."""

    principal: PrincipalType
    token: str


RoleGQL = strawberry.enum(Role, name="Role")


@strawberry.input
class CreatePrincipalInput:
    id: str
    kind: str
    name: str
    roles: list[RoleGQL]  # type: ignore[valid-type]
    agent_id: str | None = None
    team: str | None = strawberry.field(
        default=None,
        description="The team this principal's agent may join (registerAgent): membership "
        "is granted by admins only.",
    )
    expires_at: Long | None = strawberry.field(
        default=None, description="The token stops working at this time (epoch ms)."
    )
    ttl_seconds: int | None = strawberry.field(
        default=None, description="The token stops working this many seconds from now."
    )


@strawberry.type
class Query:
    @strawberry.field(description="The calling principal.")
    def me(self, info: CtxInfo) -> PrincipalType:
        return PrincipalType.of(info.context.caller)

    @strawberry.field(description="All principals, by id.")
    async def principals(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> PrincipalConnection:
        n = page_size(info, first)
        rows = await principals.page(info.context.rt.store, decode_cursor(after), n + 1)
        nodes, page = page_of([PrincipalType.of(p) for p in rows], n, after, lambda x: x.id)
        return PrincipalConnection(nodes=nodes, page_info=page)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a principal; the token is returned only here.")
    async def create_principal(
        self, info: CtxInfo, input: CreatePrincipalInput
    ) -> PrincipalWithToken:
        data = PrincipalIn(
            id=input.id,
            kind=input.kind,
            name=input.name,
            roles=input.roles,
            agent_id=input.agent_id,
            team=input.team,
        )
        rt = info.context.rt
        now = rt.now()
        p, token = await principals.create(
            rt.store,
            data,
            actor=info.context.caller.id,
            now=now,
            expires_at=principals.expiry(now, input.expires_at, input.ttl_seconds),
        )
        return PrincipalWithToken(principal=PrincipalType.of(p), token=token)

    @strawberry.mutation(
        description="Replace a principal's roles (admins), e.g. give a person imported from "
        "a catalog the operator role. Audited as `principal.roles_changed` with the roles "
        "before and after; its open WebSockets close (code 4403) so they reconnect with the "
        "new roles. False: it already had exactly these."
    )
    async def set_roles(
        self,
        info: CtxInfo,
        principal_id: str,
        roles: list[RoleGQL],  # type: ignore[valid-type]
    ) -> bool:
        rt = info.context.rt
        return await principals.set_roles(
            rt.store, principal_id, roles, actor=info.context.caller.id, now=rt.now()
        )

    @strawberry.mutation(
        description="Revoke a principal's token; it stops working at once and its open "
        "WebSockets are closed (code 4403)."
    )
    async def revoke_token(self, info: CtxInfo, principal_id: str) -> bool:
        rt = info.context.rt
        await principals.revoke(rt.store, principal_id, actor=info.context.caller.id, now=rt.now())
        return True

    @strawberry.mutation(
        description="Issue a new token for a principal: the old one stops, sessions opened "
        "with it end (code 4403); optional expiry of the new one."
    )
    async def rotate_token(
        self,
        info: CtxInfo,
        principal_id: str,
        expires_at: Long | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        rt = info.context.rt
        now = rt.now()
        return await principals.rotate(
            rt.store,
            principal_id,
            actor=info.context.caller.id,
            now=now,
            expires_at=principals.expiry(now, expires_at, ttl_seconds),
        )
