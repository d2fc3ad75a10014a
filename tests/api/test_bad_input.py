"""Malformed, mistyped, oversized or too-deep requests: a coded error and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest

from tests.conftest import ADMIN_TOKEN, App
from tests.support.digest import graph_digest
from tests.support.graphs import GraphTarget

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

BAD = [
    ("syntax", "mutation { emitEvent(type: ", {}),
    ("unknown field", "{ me { id password } }", {}),
    ("unknown mutation", 'mutation { dropEverything(id: "x") }', {}),
    ("wrong type", "mutation { emitEvent(type: 42) { seq } }", {}),
    ("wrong variable type", "mutation($t: String!) { emitEvent(type: $t) { seq } }", {"t": [1]}),
    ("missing variable", "mutation($t: String!) { emitEvent(type: $t) { seq } }", {}),
    ("bad event type", 'mutation { emitEvent(type: "DROP GRAPH") { seq } }', {}),
    ("reserved event type", 'mutation { emitEvent(type: "task.assigned") { seq } }', {}),
    ("payload not an object", 'mutation { emitEvent(type: "a.b", payload: [1]) { seq } }', {}),
    (
        "cypher in id",
        'mutation { createPrincipal(input: {id: "x\'}) DETACH DELETE n //", '
        'kind: "service", name: "n", roles: [ADMIN]}) { token } }',
        {},
    ),
    (
        "unknown role",
        'mutation { createPrincipal(input: {id: "x", kind: "service", name: "n", '
        "roles: [ROOT]}) { token } }",
        {},
    ),
    (
        "bad kind",
        'mutation { createPrincipal(input: {id: "x", kind: "robot", name: "n", '
        "roles: [ADMIN]}) { token } }",
        {},
    ),
    (
        "NUL in a string",
        'mutation($n: String!) { createPrincipal(input: {id: "x", kind: "service", '
        "name: $n, roles: [ADMIN]}) { token } }",
        {"n": "a\x00b"},
    ),
    ("page too big", "{ events(first: 100000) { nodes { seq } } }", {}),
    ("bad cursor", '{ events(after: "!!!") { nodes { seq } } }', {}),
]


@pytest.mark.parametrize(("why", "query", "variables"), BAD, ids=[b[0] for b in BAD])
async def test_bad_request_is_coded_and_changes_nothing(
    api: App, why: str, query: str, variables: dict[str, object]
) -> None:
    before = await graph_digest(api.store)
    r = await api.http.post(
        f"{api.url}/graphql", json={"query": query, "variables": variables}, headers=AUTH
    )
    body = r.json()
    assert body.get("errors"), body
    assert all(e["extensions"]["code"] == "BAD_INPUT" for e in body["errors"]), body
    assert await graph_digest(api.store) == before


async def test_too_many_aliases_is_refused(api: App) -> None:
    wide = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    r = await api.http.post(f"{api.url}/graphql", json={"query": wide}, headers=AUTH)
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_INPUT"


async def test_depth_and_token_limits(graph: GraphTarget) -> None:
    from tests.conftest import fresh_name, start_app, stop_app

    app = await start_app(
        graph, fresh_name(), scheduler=False, max_query_depth=1, max_query_tokens=40
    )
    try:
        deep = await app.admin.raw("{ events { nodes { seq } } }")
        assert deep["errors"][0]["extensions"]["code"] == "BAD_INPUT", deep
        many = await app.admin.raw("{ me { " + "id " * 60 + "} }")
        assert many["errors"][0]["extensions"]["code"] == "BAD_INPUT", many
        assert (await app.admin("{ me { id } }"))["me"]["id"] == "admin"
    finally:
        await app.store.drop_all()
        await stop_app(app)


async def test_oversized_body_is_refused_before_parsing(api: App) -> None:
    before = await graph_digest(api.store)
    payload = "x" * (api.settings.max_body_bytes + 10)
    query = 'mutation($p: JSON) { emitEvent(type: "a.b", payload: $p) { seq } }'
    r = await api.http.post(
        f"{api.url}/graphql",
        json={"query": query, "variables": {"p": {"x": payload}}},
        headers=AUTH,
    )
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    assert await graph_digest(api.store) == before


async def test_streamed_oversized_body_is_refused(api: App) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(30):
            yield b"x" * 50_000

    r = await api.http.post(
        f"{api.url}/graphql", content=chunks(), headers={**AUTH, "content-type": "application/json"}
    )
    assert r.status_code == 413


async def test_rate_limit_is_coded(graph: GraphTarget) -> None:
    from tests.conftest import fresh_name, start_app, stop_app

    app = await start_app(
        graph, fresh_name(), scheduler=False, rate_limit_per_s=1.0, rate_limit_burst=3
    )
    try:
        codes = [await app.admin.raw("{ me { id } }") for _ in range(5)]
        errs = [c["errors"][0]["extensions"]["code"] for c in codes if c.get("errors")]
        assert errs and set(errs) == {"RATE_LIMITED"}
    finally:
        await app.store.drop_all()
        await stop_app(app)


async def test_reused_documents_still_get_every_check(graph: GraphTarget) -> None:
    """An operation text validated once is not validated again (app.api.doccache), but the
    per-operation checks still run on each use: the cost estimate reads the variables, and a
    text that failed validation is checked (and refused) every time."""
    from tests.conftest import fresh_name, start_app, stop_app

    app = await start_app(graph, fresh_name(), scheduler=False, max_query_cost=60)
    try:
        page = "query($n: Int!) { events(first: $n) { nodes { seq type } } }"
        for _ in range(2):
            assert "errors" not in await app.admin.raw(page, {"n": 5})
        costly = await app.admin.raw(page, {"n": 500})
        assert costly["errors"][0]["extensions"]["code"] == "COST_LIMIT", costly
        bad = "{ me { id password } }"
        for _ in range(2):
            got = await app.admin.raw(bad)
            assert got["errors"][0]["extensions"]["code"] == "BAD_INPUT", got
    finally:
        await app.store.drop_all()
        await stop_app(app)


def test_document_cache_is_bounded() -> None:
    from graphql import parse

    from app.api.doccache import DocumentCache

    ext = DocumentCache(max_entries=2, max_text=40)

    class Ctx:
        pre_execution_errors: list[object] | None = None
        graphql_document: object = None

        def __init__(self, query: str) -> None:
            self.query = query

    def run(query: str) -> bool:
        """One operation through the hooks; True if it was served from the cache."""
        ctx = Ctx(query)
        e = ext()
        e.execution_context = ctx  # type: ignore[assignment]
        # DocumentCache's hooks are generators; SchemaExtension allows async ones too.
        for _ in cast(Iterator[None], e.on_parse()):
            if ctx.graphql_document is None:
                ctx.graphql_document = parse(query)
        hit = e.hit  # type: ignore[attr-defined]
        hooks = cast(Iterator[None], e.on_validate())
        next(hooks)
        if ctx.pre_execution_errors is None:
            ctx.pre_execution_errors = []  # validation ran and passed
        next(hooks, None)
        return bool(hit)

    assert [run("{ a }"), run("{ a }")] == [False, True]
    assert [run("{ b }"), run("{ c }"), run("{ a }")] == [False, False, False]  # a evicted
    long = "{ " + "x " * 30 + "}"
    assert [run(long), run(long)] == [False, False]  # too long to keep
