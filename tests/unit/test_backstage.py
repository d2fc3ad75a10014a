"""Reading a Backstage catalog (tests/fixtures/backstage, written for these tests): Locations
followed by relative path and never outside, refs in every form Backstage allows resolved to
canonical lower-case ids, the same name in two namespaces kept apart, domains inherited
through systems, and every bad document reported with its file and line while the rest
is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.connectors import backstage
from app.connectors.backstage import CatalogError, parse_ref

CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "backstage" / "catalog-info.yaml"


def test_refs_follow_backstages_rules() -> None:
    assert parse_ref("payments-team", "group", "default") == "group:default/payments-team"
    assert parse_ref("group:Payments-Team", "user", "ops") == "group:ops/payments-team"
    assert parse_ref("ops/sre", "group", "default") == "group:ops/sre"
    assert parse_ref("component:prod/Web", None, "default") == "component:prod/web"
    assert parse_ref({"kind": "API", "name": "x"}, None, "default") == "api:default/x"
    with pytest.raises(CatalogError, match="must name its kind"):
        parse_ref("checkout-api", None, "default")  # dependsOn has no default kind
    for bad in ("", "group:", "a b", 7, None):
        with pytest.raises(CatalogError):
            parse_ref(bad, "group", "default")


def test_a_catalog_with_locations_imports_what_is_valid_and_reports_the_rest() -> None:
    cat = backstage.read(CATALOG)
    assert cat.files == [
        "catalog-info.yaml",
        "org/groups.yaml",
        "org/users.yaml",
        "systems/payments.yaml",
        "systems/commerce.yaml",
        "broken.yaml",
    ]
    ids = set(cat.records)
    assert {"user:default/alice", "user:ops/alice"} <= ids  # one name, two namespaces
    assert "component:default/ledger" in ids  # ids are lower case
    api = cat.records["component:default/payments-api"]
    assert sorted(api.relations) == [
        ("DEPENDS_ON", "resource:default/payments-db"),
        ("OWNED_BY", "group:default/payments-team"),
        ("PART_OF", "system:default/payments-core"),
        ("PROVIDES", "api:default/payments-http"),
    ]
    assert api.attrs["tags"] == ["java", "pci"] and api.attrs["lifecycle"] == "production"
    assert api.attrs["kubernetesId"] == "payments-api"
    checkout = cat.records["component:default/checkout-api"]
    assert ("CONSUMES", "api:default/payments-http") in checkout.relations
    # the Baton domain: a system's spec.domain, inherited by its members (and theirs)
    assert backstage.domain_of(cat, checkout) == "commerce"
    assert backstage.domain_of(cat, cat.records["component:default/ledger"]) == "payments"
    assert backstage.domain_of(cat, cat.records["group:default/platform"]) is None
    assert cat.records["group:default/payments-team"].members == [
        "user:default/alice",
        "user:default/bob",
    ]
    assert cat.records["user:ops/alice"].members == ["group:ops/sre"]
    rejected = {(r.file, r.line): r.reason for r in cat.rejected}
    assert "outside" in rejected[("catalog-info.yaml", 2)]
    assert "has no spec.owner" in rejected[("broken.yaml", 1)]
    assert "component:default/nope" in rejected[("broken.yaml", 9)]
    assert "must name its kind" in rejected[("broken.yaml", 19)]
    assert "not readable YAML" in rejected[("broken.yaml", 32)]
    assert len(rejected) == 5
    assert not any(
        i.startswith("component:default/") and i.endswith(("no-owner", "dangling", "untyped-dep"))
        for i in ids
    )
    assert [(s.file, s.line) for s in cat.skipped] == [("systems/commerce.yaml", 38)]
    assert len(cat.records) == 17
