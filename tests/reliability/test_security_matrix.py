"""Every query and mutation against every role, generated from the live schema: a role the
field's rule does not name gets FORBIDDEN, and a role it names never does (it may still get
BAD_INPUT or NOT_FOUND for the dummy arguments). A new resolver without a rule is refused to
everyone, so it fails here for the roles meant to use it."""

from __future__ import annotations

import asyncio
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
from tests.support.gql import subscribe

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
            text = (
                f"{kind}{f'({decl})' if decl else ''} {{ {name}"
                f"{f'({call})' if call else ''} {selection(field.type)} }}"
            )
            ops.append((kind, name, text, {a: dummy(f.type) for a, f in args.items()}))
    return ops


async def test_every_operation_against_every_role(api: App) -> None:
    tokens = {}
    for role in ROLES:
        got = await api.admin(
            "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
            i={
                "id": f"role-{role.value}",
                "kind": "agent" if role is Role.AGENT else "service",
                "name": role.value,
                "roles": [role.name],
                "agentId": "x-1",
            },
        )
        tokens[role] = got["createPrincipal"]["token"]
    rules = authz.rules()
    checked = 0
    for _kind, name, text, variables in operations():
        for role in ROLES:
            body = await api.client(tokens[role]).raw(text, variables)
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
            allowed = role in rules[name]
            if allowed:
                # The agent principal acts as "x-1", the dummy agent id: never refused. Other
                # roles have no agent to act as (see test_agents_act_only_as_themselves).
                exempt = name in ACTS_AS_SELF and role is not Role.AGENT
                assert "FORBIDDEN" not in codes or exempt, (name, role, body)
            else:
                assert codes == ["FORBIDDEN"], (name, role, body)
            checked += 1
    assert checked >= 4 * 40


# Fields whose rule admits the role but that also check the caller acts as the named agent
# (the dummy agent id "x-1" is the agent principal's own, other roles have none).
ACTS_AS_SELF = {
    "registerAgent",
    "heartbeat",
    "claimTask",
    "claimTasks",
    "startTask",
    "completeTask",
    "completeTasks",
    "failTask",
    "assertFact",
    "proposeAction",
    "reportCost",
    "setAgentStatus",
    "context",
    "contextForTask",
    "inbox",
    "proposal",
    "acquireLock",
    "releaseLock",
}


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


def with_agent(kind: str, name: str, agent_id: str) -> tuple[str, dict[str, Any]]:
    """The operation with its required arguments and every agent-id argument (top level
    ``agentId`` even if optional, an input's ``agentId``, ``registerAgent``'s ``input.id``)
    set to ``agent_id``."""
    schema = build_schema(Settings())._schema
    root = schema.mutation_type if kind == "mutation" else schema.query_type
    assert root is not None
    field = root.fields[name]
    args = {a: f for a, f in field.args.items() if isinstance(f.type, GraphQLNonNull)}
    if "agentId" in field.args:
        args["agentId"] = field.args["agentId"]
    decl = ", ".join(f"${a}: {f.type}" for a, f in args.items())
    call = ", ".join(f"{a}: ${a}" for a in args)
    text = f"{kind}({decl}) {{ {name}({call}) {selection(field.type)} }}"
    v = {a: dummy(f.type) for a, f in args.items()}
    for a, f in args.items():
        named = get_named_type(f.type)
        if a == "agentId":
            v[a] = agent_id
        elif isinstance(named, GraphQLInputObjectType) and "agentId" in named.fields:
            v[a] = {**v[a], "agentId": agent_id}
    if name == "registerAgent":  # valid but for the id, so only the id can be refused
        v["input"] = {"id": agent_id, "name": "n", "capabilities": ["diagnose"]}
    return text, v


def carries_agent(name: str, kind: str) -> bool:
    schema = build_schema(Settings())._schema
    root = schema.mutation_type if kind == "mutation" else schema.query_type
    assert root is not None
    field = root.fields[name]
    return name == "registerAgent" or any(
        a == "agentId"
        or (
            isinstance(get_named_type(f.type), GraphQLInputObjectType)
            and "agentId" in get_named_type(f.type).fields
        )  # type: ignore[union-attr]
        for a, f in field.args.items()
    )


# Agent-id arguments that filter what the caller may read anyway (not acting as the agent).
READ_FILTERS = {"tasks", "explainPolicy"}


async def test_agents_act_only_as_themselves(api: App) -> None:
    """The matrix's agent acts as its own agent; here an agent principal names another agent
    in every operation it may call that takes an agent id: FORBIDDEN, and nothing changes.
    An admin (created, not the bootstrap token) acting as that agent is never refused."""
    made = {}
    for pid, roles, agent_id in (
        ("p-x1", ["AGENT"], "x-1"),
        ("p-x2", ["AGENT"], "x-2"),
        ("p-root", ["ADMIN"], None),
    ):
        got = await api.admin(
            "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
            i={
                "id": pid,
                "kind": "agent" if agent_id else "human",
                "name": pid,
                "roles": roles,
                "agentId": agent_id,
            },
        )
        made[pid] = api.client(got["createPrincipal"]["token"])
    for aid, pid in (("x-1", "p-x1"), ("x-2", "p-x2")):
        await made[pid](
            "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
            i={"id": aid, "name": aid, "capabilities": ["diagnose"]},
        )
    rules = authz.rules()
    checked = []
    before = await graph_digest(api.store)
    for kind, name, _text, _variables in operations():
        if Role.AGENT not in rules[name] or name in READ_FILTERS or not carries_agent(name, kind):
            continue
        op, v = with_agent(kind, name, "x-1")
        body = await made["p-x2"].raw(op, v)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert codes == ["FORBIDDEN"], (name, body)
        checked.append(name)
    assert await graph_digest(api.store) == before
    for kind, name, _text, _variables in operations():
        if name in checked:
            op, v = with_agent(kind, name, "x-1")
            for who in ("p-x1", "p-root"):
                body = await made[who].raw(op, v)
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
                assert "FORBIDDEN" not in codes, (name, who, body)
    assert {
        "claimTask",
        "completeTask",
        "assertFact",
        "proposeAction",
        "heartbeat",
        "registerAgent",
        "context",
        "setAgentStatus",
    } <= set(checked), checked


async def test_admin_role_is_never_refused(api: App) -> None:
    """A created ADMIN principal (not the bootstrap token) passes every rule."""
    got = await api.admin(
        'mutation { createPrincipal(input: {id: "root2", kind: "human", name: "root2", '
        "roles: [ADMIN]}) { token } }"
    )
    root = api.client(got["createPrincipal"]["token"])
    checked = 0
    for _kind, name, text, variables in operations():
        if name in ("rotateToken", "revokeToken"):
            continue  # would lock the admin itself out mid-test
        body = await root.raw(text, variables)
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "FORBIDDEN" not in codes, (name, body)
        checked += 1
    assert checked >= 40


SUBSCRIPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "graphChanges": ("subscription { graphChanges { seq } }", {}),
    "inboxUpdates": ("subscription { inboxUpdates { seq } }", {}),
    "runUpdates": ('subscription { runUpdates(runId: "x-1") { seq } }', {}),
    "taskAssigned": (
        "subscription($a: String!) { taskAssigned(agentId: $a) { seq } }",
        {"a": "x-1"},
    ),
    "contextUpdates": (
        "subscription($a: String!) { contextUpdates(agentId: $a) { seq } }",
        {"a": "x-1"},
    ),
}


async def first_codes(
    api: App, token: str, query: str, v: dict[str, Any], wait: float
) -> list[str | None]:
    """The codes of the subscription's first message (an error comes at once), or [] if it is
    still open and silent after ``wait`` seconds."""
    async with subscribe(api.url, token, query, v) as q:
        try:
            payload = await asyncio.wait_for(q.get(), wait)
        except TimeoutError:
            return []
    return [e.get("extensions", {}).get("code") for e in payload.get("errors") or []]


async def test_every_subscription_against_every_role(api: App) -> None:
    """Subscriptions check their own rule (they bypass the field extension): every role, the
    admin role, and an agent naming another agent."""
    schema = build_schema(Settings())._schema
    assert schema.subscription_type is not None
    assert set(schema.subscription_type.fields) == set(SUBSCRIPTIONS), "a new subscription"
    tokens = {}
    for role in [*ROLES, Role.ADMIN]:
        got = await api.admin(
            "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
            i={
                "id": f"sub-{role.value}",
                "kind": "agent" if role is Role.AGENT else "service",
                "name": role.value,
                "roles": [role.name],
                "agentId": "x-1" if role is Role.AGENT else None,
            },
        )
        tokens[role] = got["createPrincipal"]["token"]
    other = await api.admin(
        'mutation { createPrincipal(input: {id: "sub-x2", kind: "agent", name: "x2", '
        'roles: [AGENT], agentId: "x-2"}) { token } }'
    )
    rules = authz.rules()
    for name, (query, v) in SUBSCRIPTIONS.items():
        for role, token in tokens.items():
            allowed = role in rules[name]
            codes = await first_codes(api, token, query, v, 1.0 if allowed else 10.0)
            if allowed:
                assert "FORBIDDEN" not in codes, (name, role, codes)
            else:
                assert codes == ["FORBIDDEN"], (name, role, codes)
        if v.get("a"):
            codes = await first_codes(api, other["createPrincipal"]["token"], query, v, 10.0)
            assert codes == ["FORBIDDEN"], (name, "agent x-2 as x-1", codes)
