"""Authorization: deny by default, one rule per root field.

Every schema module exports ``RULES: dict[field name, roles]``; :func:`authorize` refuses a
root field that has no rule, so a new resolver cannot ship unguarded (and a table-driven test
checks every field against every role). Per-object checks (an agent acting only as itself,
which facts a caller may read) happen in core and in the Cypher statements themselves; the
helpers here (:func:`acting_as`, :func:`caller_reader`, :func:`reader_for`) turn the caller into
what core needs for them, so every resolver asks the same question the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from app.api.request import Ctx, CtxInfo
from app.core.context import Reader
from app.core.errors import BadInput, Forbidden, RateLimited, Unauthenticated
from app.core.readers import reader_of
from app.models import Role, has_nul

Rules = dict[str, frozenset[Role]]
ANY = frozenset(Role)
_rules: Rules = {}


def roles(*rs: Role) -> frozenset[Role]:
    """Rule value: these roles (admin is always allowed)."""
    return frozenset(rs) | {Role.ADMIN}


def register(rules: Rules) -> None:
    """Add a schema module's rules to the table."""
    _rules.update(rules)


def rules() -> Rules:
    """The whole table (for tests and docs)."""
    return dict(_rules)


class _FieldInfo(Protocol):
    """What :func:`authorize` needs: strawberry's ``Info`` and graphql-core's both fit."""

    @property
    def context(self) -> Any: ...

    @property
    def field_name(self) -> str: ...


def authorize(info: _FieldInfo) -> None:
    """Authenticate and check the field's rule (the rate limit is taken once per operation,
    on every transport, by :class:`app.api.cost.OperationLimits`)."""
    ctx: Ctx = info.context
    if ctx.auth_error is not None:
        raise ctx.auth_error
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("missing or invalid bearer token")
    name = info.field_name
    if name.startswith("__"):
        return  # introspection, for any authenticated caller
    allowed = _rules.get(name)
    if allowed is None or not any(r in allowed for r in principal.roles):
        raise Forbidden(f"{name}: not allowed for roles {principal.roles}", operation=name)


class Authorize(SchemaExtension):
    """Runs :func:`authorize` on every root Query/Mutation field (subscriptions call it
    themselves, since their source stream is not resolved through extensions)."""

    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if info.path.prev is None:
            authorize(info)
            if has_nul(kwargs):  # arguments no pydantic model checks (ids in queries)
                raise BadInput("strings must not contain NUL (\\x00) characters")
        return _next(root, info, *args, **kwargs)

    def on_operation(self) -> Iterator[None]:
        yield


def rate_limit(ctx: Ctx) -> None:
    """Take one token from the caller's bucket: once per operation, whatever the transport."""
    if ctx.principal is None:
        return
    retry = ctx.limiter.allow(ctx.principal.id)
    if retry:
        raise RateLimited("too many requests", retryAfterMs=int(retry * 1000) + 1)


def acting_as(info: CtxInfo, agent_id: str) -> str:
    """The caller may act as ``agent_id`` (agents only as themselves), or FORBIDDEN."""
    caller = info.context.caller
    if not caller.may_act_as(agent_id):
        raise Forbidden(f"{caller.id} may not act as agent {agent_id}", agentId=agent_id)
    return agent_id


def caller_reader(info: CtxInfo) -> Reader:
    """The caller as a reader (:func:`app.core.readers.reader_of`)."""
    return reader_of(info.context.caller)


def reader_for(info: CtxInfo, agent_id: str | None) -> Reader:
    """The reader is the caller: an agent reads as itself, a human or service with its own
    teams' grants, auditors and admins everything. ``agentId`` naming another agent is an
    *inspection*, an auditor/admin capability audited as the caller's own act."""
    caller = info.context.caller
    own = caller.agent_id if Role.AGENT in caller.roles else None
    if agent_id is not None and agent_id != own:
        if own is not None and not caller.has(Role.AUDITOR):
            acting_as(info, agent_id)  # an agent reads only as itself: FORBIDDEN
        if not caller.has(Role.AUDITOR):
            raise Forbidden(
                f"{caller.id} may not read as agent {agent_id} (inspection is for auditors)",
                agentId=agent_id,
            )
        return Reader(agent_id=agent_id, inspector=caller.id, caller=caller.id)
    if own is not None:
        return Reader(agent_id=own, caller=caller.id)
    return Reader(
        principal_id=caller.id,
        everything=caller.has(Role.AUDITOR),  # admin holds all roles
        caller=caller.id,
    )


def may_read_inbox(info: CtxInfo, principal_id: str | None) -> str:
    """Whose inbox the caller reads: its own, or (auditors and admins) anyone's."""
    caller = info.context.caller
    who = principal_id or caller.id
    if who != caller.id and not caller.has(Role.AUDITOR):
        raise Forbidden("only auditors and admins read someone else's inbox")
    return who
