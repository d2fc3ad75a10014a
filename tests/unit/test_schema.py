"""The committed schema.graphql matches the code, and every root field has an auth rule."""

from __future__ import annotations

from pathlib import Path

from app.api import authz
from app.api.schema import build_schema
from app.config import Settings
from app.graph import queries

REPO = Path(__file__).resolve().parents[2]


def test_schema_graphql_is_up_to_date() -> None:
    sdl = build_schema(Settings()).as_str().strip()
    committed = (REPO / "schema.graphql").read_text().strip()
    assert sdl == committed, "schema.graphql is stale: run `make schema`"


def test_every_root_field_has_an_authorization_rule() -> None:
    schema = build_schema(Settings())._schema
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    fields = {name for root in roots if root for name in root.fields}
    missing = sorted(fields - authz.rules().keys())
    assert not missing, f"root fields without a RULES entry (denied to all but nobody): {missing}"
    stale = sorted(authz.rules().keys() - fields)
    assert not stale, f"RULES for fields that do not exist: {stale}"


def test_every_declared_statement_exists_for_both_backends() -> None:
    import app.api.app  # noqa: F401  (imports every core module and so declares their names)

    for backend in queries.BACKENDS:
        loaded = queries.load(backend)
        assert queries.declared() <= set(loaded.names())


def test_unknown_statement_name_fails_at_load(tmp_path: Path) -> None:
    import pytest

    (tmp_path / "x.cypher").write_text("RETURN 1")
    queries.q("does/not-exist")
    try:
        with pytest.raises(queries.UnknownQuery, match="does/not-exist"):
            queries.load.__wrapped__("falkordb", tmp_path)
    finally:
        queries._declared.discard("does/not-exist")
