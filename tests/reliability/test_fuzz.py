"""Schema-driven fuzzing of the GraphQL endpoint: hypothesis builds operations from the live
schema with hostile values (Cypher fragments, label and JSON injection, huge and deeply
nested payloads, wrong numbers), sent as admin. Whatever comes back, it is never an
INTERNAL error, and a refused request leaves the graph exactly as it was. Forged and
expired tokens are UNAUTHENTICATED."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import App
from tests.reliability.test_security_matrix import operations
from tests.support.digest import graph_digest

NASTY = [
    "x'}) DETACH DELETE n //",
    "') MATCH (n) DETACH DELETE n RETURN 1 //",
    "`Agent`",
    "x:Admin",
    "$now",
    "{id: 1}",
    '{"$gt": ""}',
    "a" * 5_000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "DROP GRAPH baton",
    "\u0000",
    "a\x00b",
    "😀" * 50,
    "",
    " ",
    "task_0000000000000000000000",
    "admin",
    "team:sre",
    "1e309",
    "-0",
    "null",
]
OPS = operations()
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~+/="


def json_values(depth: int = 0) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**60), 2**60),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(NASTY),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(NASTY[:8]), inner, max_size=3),
        ),
        max_leaves=40,
    )


def deep(n: int) -> Any:
    out: Any = "bottom"
    for _ in range(n):
        out = {"d": out}
    return out


def value_for(t: Any) -> st.SearchStrategy[Any]:
    if isinstance(t, GraphQLNonNull):
        return value_for(t.of_type)
    if isinstance(t, GraphQLList):
        return st.lists(value_for(t.of_type), max_size=4)
    if isinstance(t, GraphQLEnumType):
        return st.sampled_from(list(t.values))
    if isinstance(t, GraphQLInputObjectType):
        required = {
            n: value_for(f.type) for n, f in t.fields.items() if isinstance(f.type, GraphQLNonNull)
        }
        optional = {n: value_for(f.type) for n, f in t.fields.items() if n not in required}
        return st.fixed_dictionaries(required, optional=optional)
    return {
        "Int": st.integers(-(2**31), 2**31 - 1),
        "Float": st.floats(allow_nan=False, allow_infinity=False, width=32),
        "Boolean": st.booleans(),
        "Long": st.integers(-(2**53), 2**53),
        "JSON": st.one_of(json_values(), st.builds(deep, st.integers(20, 200))),
    }.get(t.name, st.one_of(st.sampled_from(NASTY), st.text(max_size=40)))


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    _kind, name, text, _ = draw(st.sampled_from(OPS))
    from app.api.schema import build_schema
    from app.config import Settings

    schema = build_schema(Settings())._schema
    root = schema.mutation_type if text.startswith("mutation") else schema.query_type
    assert root is not None
    field = root.fields[name]
    args = {
        a: draw(value_for(f.type))
        for a, f in field.args.items()
        if isinstance(f.type, GraphQLNonNull)
    }
    return name, text, args


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(req=requests())
async def test_hostile_requests_get_coded_errors_and_change_nothing(
    api: App, req: tuple[str, str, dict[str, Any]]
) -> None:
    name, text, variables = req
    before = await graph_digest(api.store)
    body = await api.admin.raw(text, variables)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL" not in codes and None not in codes, (name, variables, body)
    if codes:
        assert await graph_digest(api.store) == before, (name, variables, body)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=st.one_of(
        st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=60),
        st.just("bt_" + "A" * 43),
        st.builds(lambda s: "bt_" + s, st.text(alphabet=TOKEN_CHARS, min_size=40, max_size=50)),
        st.just("eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ."),
    )
)
async def test_forged_tokens_are_unauthenticated(api: App, token: str) -> None:
    r = await api.http.post(
        f"{api.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = r.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
