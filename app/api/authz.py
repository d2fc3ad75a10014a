"""Authorization: deny by default, one rule per root field.

Every schema module exports ``RULES: dict[field name, roles]``; :func:`authorize` refuses a
root field that has no rule, so a new resolver cannot ship unguarded (and a table-driven test
checks every field against every role). Per-object checks (an agent acting only as itself,
which facts a caller may read) happen in core and in the Cypher statements themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension

from app.api.context import Ctx
from app.core.errors import BadInput, Forbidden, RateLimited, Unauthenticated
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
