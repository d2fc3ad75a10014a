"""Importing a CSV inventory through a column mapping (tests/fixtures/csv, written for these
tests, naming the teams and systems of tests/fixtures/backstage): canonical lower-case ids,
owner/system/dependsOn refs resolved like Backstage's, domains, line numbers that stay right
past quoted newlines and a BOM, bad rows rejected with their line while the rest is kept,
and a mapping that does not fit the file refused whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.connectors import csvfile
from app.connectors.model import ConnectorError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "csv"


def mapping() -> dict[str, Any]:
    return csvfile.load_mapping(FIXTURES / "services.yaml")


def test_the_inventory_imports_what_is_valid_and_reports_each_bad_row() -> None:
    snap = csvfile.read(FIXTURES / "services.csv", mapping())
    assert snap.files == ["services.csv"]
    assert list(snap.records) == [
        "component:default/fraud-scoring",
        "component:default/search-api",
        "resource:default/kafka",
        "component:default/ledger-exporter",
    ]
    fraud = snap.records["component:default/fraud-scoring"]
    assert (fraud.kind, fraud.name, fraud.namespace, fraud.domain, fraud.line) == (
        "component",
        "fraud-scoring",
        "default",
        "payments",
        2,
    )
    assert fraud.relations == [
        ("OWNED_BY", "group:default/payments-team"),
        ("PART_OF", "system:default/payments-core"),
        ("DEPENDS_ON", "component:default/payments-api"),
        ("DEPENDS_ON", "component:default/ledger"),
    ]
    assert fraud.attrs == {
        "description": "Scores card payments for fraud.\nRuns before capture.",
        "tier": "1",
        "tags": ["python", "ml"],
    }
    kafka = snap.records["resource:default/kafka"]
    assert kafka.relations == [("OWNED_BY", "group:ops/sre")]  # the cell names its kind
    assert kafka.domain is None and kafka.attrs["description"] == (
        'The shared event bus, "all" teams publish'
    )
    exporter = snap.records["component:default/ledger-exporter"]
    assert (exporter.name, exporter.line) == ("Ledger-Exporter", 14)  # past a 3-line cell
    assert snap.records["component:default/search-api"].line == 4
    assert snap.domains == {"payments": "Payments", "commerce": "commerce"}
    assert [str(r) for r in snap.rejected] == [
        "services.csv:6: Service is empty (name is required)",
        "services.csv:7: name 'bad name!' is not a valid entity name",
        "services.csv:8: Team is empty (owner is required)",
        "services.csv:9: component:default/fraud-scoring already defined at services.csv:2",
        "services.csv:11: Depends on: 'not a ref!': not a valid entity name",
    ]
    assert snap.skipped == []


def test_dependencies_must_name_their_kind_without_a_default() -> None:
    m = mapping()
    del m["default_kinds"]
    snap = csvfile.read(FIXTURES / "services.csv", m)
    assert "services.csv:2: Depends on: 'ledger' must name its kind (e.g. component:ledger)" in [
        str(r) for r in snap.rejected
    ]
    assert snap.records["component:default/fraud-scoring"].line == 9  # no longer a duplicate


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"name": "Service", "ownr": "Team"}}, r"unknown or unmapped field.*'ownr'"),
        ({"owner_column": "Team"}, r"unknown mapping key.*'owner_column'"),
        ({"required": ["lifecycle"]}, r"unknown or unmapped field.*'lifecycle'"),
        ({"default_kinds": {"tags": "component"}}, r"unknown or unmapped field.*'tags'"),
        ({"columns": {"kind": "Type"}, "required": []}, "no columns.name"),
        ({"kind": None, "columns": {"name": "Service"}, "required": []}, "needs a valid kind"),
        ({"kind": "Not A Kind", "columns": {"name": "Service"}, "required": []}, "valid kind"),
        ({"split": ""}, "split"),
    ],
)
def test_a_mapping_that_makes_no_sense_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        csvfile.read(FIXTURES / "services.csv", {**mapping(), **change})


def test_a_mapped_column_the_file_lacks_is_fatal(tmp_path: Path) -> None:
    m = mapping()
    m["columns"]["lifecycle"] = "Stage"
    with pytest.raises(ConnectorError, match=r"services.csv: column\(s\) \['Stage'\]"):
        csvfile.read(FIXTURES / "services.csv", m)
    (tmp_path / "m.yaml").write_text("kind: component\ncolumns: [Service]\n")
    with pytest.raises(ConnectorError, match="columns must map names to text"):
        csvfile.load_mapping(tmp_path / "m.yaml")
    (tmp_path / "latin1.csv").write_bytes("Service,Team\ncaf\u00e9,web-team\n".encode("latin-1"))
    with pytest.raises(ConnectorError, match="latin1.csv: not UTF-8"):
        csvfile.read(
            tmp_path / "latin1.csv", mapping() | {"columns": {"name": "Service"}, "required": []}
        )


def test_teams_with_members_and_a_kind_column_with_a_default(tmp_path: Path) -> None:
    (tmp_path / "teams.csv").write_text(
        "Team,Kind,Parent,People,Title,NS\n"
        'risk-team,,platform,"carol, dave",Risk & Fraud,\n'
        "ops-bots,Group,,user:ops/alice,,OPS\n"
        "carol,User,,,,\n"
    )
    m = {
        "kind": "group",
        "split": ",",
        "columns": {
            "name": "Team",
            "kind": "Kind",
            "parent": "Parent",
            "members": "People",
            "title": "Title",
            "namespace": "NS",
        },
    }
    snap = csvfile.read(tmp_path / "teams.csv", m)
    risk = snap.records["group:default/risk-team"]  # an empty Kind cell: the mapping's kind
    assert (risk.title, risk.relations, risk.members) == (
        "Risk & Fraud",
        [("CHILD_OF", "group:default/platform")],
        ["user:default/carol", "user:default/dave"],
    )
    assert snap.records["group:ops/ops-bots"].members == ["user:ops/alice"]
    assert snap.records["user:default/carol"].kind == "user"
    assert snap.rejected == [] and snap.domains == {}
    del m["kind"]
    snap = csvfile.read(tmp_path / "teams.csv", m)
    assert [str(r) for r in snap.rejected] == ["teams.csv:2: Kind is empty (kind is required)"]


def test_rows_the_reader_cannot_parse_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(
        'Service,Team\napi,web-team\n"web"site,web-team\n\nworker,web-team\n"broken,web-team\n'
    )
    snap = csvfile.read(
        tmp_path / "x.csv", {"kind": "component", "columns": {"name": "Service", "owner": "Team"}}
    )
    assert list(snap.records) == ["component:default/api", "component:default/worker"]
    assert snap.records["component:default/worker"].line == 5
    assert [str(r) for r in snap.rejected] == [
        "x.csv:3: not readable CSV: ',' expected after '\"'",
        "x.csv:6: not readable CSV: unexpected end of data",
    ]
