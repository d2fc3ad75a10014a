"""Every query and mutation against every role, generated from the live schema: a role the
field's rule does not name gets FORBIDDEN, and a role it names never does (it may still get
BAD_INPUT or NOT_FOUND for the dummy arguments). A new resolver without a rule is refused to
everyone, so it fails here for the roles meant to use it."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from app.api import authz
from app.api.schema import build_schema
from app.config import Settings
from app.models import Role
from tests.conftest import App
from tests.support.digest import graph_digest

ROLES = [r for r in Role if r is not Role.ADMIN]


def dummy(t: Any) -> Any:
    """A value of the input type (required fields only)."""
    if isinstance(t, GraphQLNonNull):
        return dummy(t.of_type)
    if isinstance(t, GraphQLList):
        return [dummy(t.of_type)]
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        return {n: dummy(f.type) for n, f in t.fields.items() if isinstance(f.type, GraphQLNonNull)}
    name = t.name
    return {"Int": 1, "Float": 0.5, "Boolean": False, "Long": 1, "JSON": {}}.get(name, "x-1")


def selection(t: Any) -> str:
    """The cheapest selection set for a result type."""
    named = get_named_type(t)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    assert isinstance(named, GraphQLObjectType)
    for name, f in named.fields.items():
        if isinstance(get_named_type(f.type), GraphQLScalarType) and not f.args:
            return f"{{ {name} }}"
    first = next(iter(named.fields))
    return f"{{ {first} {selection(named.fields[first].type)} }}"


def operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    schema = build_schema(Settings())._schema
    ops = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            args = {a: f for a, f in field.args.items() if isinstance(f.type, GraphQLNonNull)}
            decl = ", ".join(f"${a}: {f.type}" for a, f in args.items())
            call = ", ".join(f"{a}: ${a}" for a in args)
            text = (f"{kind}{f'({decl})' if decl else ''} {{ {name}"
                    f"{f'({call})' if call else ''} {selection(field.type)} }}")  # fmt: skip
            ops.append((kind, name, text, {a: dummy(f.type) for a, f in args.items()}))
    return ops


async def test_every_operation_against_every_role(api: App) -> None:
    tokens = {}
    for role in ROLES:
        got = await api.admin(
            "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
            i={"id": f"role-{role.value}", "kind": "agent" if role is Role.AGENT else "service",
               "name": role.value, "roles": [role.name], "agentId": "x-1"},
        )  # fmt: skip
        tokens[role] = got["createPrincipal"]["token"]
    rules = authz.rules()
    checked = 0
    for _kind, name, text, variables in operations():
        for role in ROLES:
            body = await api.client(tokens[role]).raw(text, variables)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            allowed = role in rules[name]
            if allowed:
                assert "FORBIDDEN" not in codes or name in ACTS_AS_SELF, (name, role, body)
            else:
                assert codes == ["FORBIDDEN"], (name, role, body)
            checked += 1
    assert checked >= 4 * 40


# Fields whose rule admits the role but that also check the caller acts as the named agent
# (the dummy agent id "x-1" is the agent principal's own, other roles have none).
ACTS_AS_SELF = {
    "registerAgent", "heartbeat", "claimTask", "claimTasks", "startTask", "completeTask",
    "completeTasks", "failTask", "assertFact", "proposeAction", "reportCost", "setAgentStatus",
    "context", "contextForTask", "inbox", "proposal", "acquireLock", "releaseLock",
}  # fmt: skip


async def test_denied_calls_change_nothing(api: App) -> None:
    got = await api.admin(
        'mutation { createPrincipal(input: {id: "ro", kind: "service", name: "ro", '
        "roles: [AUDITOR]}) { token } }"
    )
    auditor = api.client(got["createPrincipal"]["token"])
    before = await graph_digest(api.store)
    for kind, name, text, variables in operations():
        if kind == "mutation" and Role.AUDITOR not in authz.rules()[name]:
            assert (await auditor.raw(text, variables))["errors"], name
    assert await graph_digest(api.store) == before


def test_the_role_table_is_the_reviewed_one() -> None:
    """Changing who may call what is a reviewed change: update roles.json with it."""
    import json
    from pathlib import Path

    build_schema(Settings())
    now = {k: sorted(r.value for r in v if r is not Role.ADMIN) for k, v in authz.rules().items()}
    reviewed = json.loads((Path(__file__).parent / "roles.json").read_text())
    assert now == reviewed
