"""Org sources as an admin registers them (`addSource`, `sources`, `syncSource`,
`removeSource`) and the scheduler's `sources` job syncs them; CODEOWNERS, Kubernetes and
CSV sources joining a Backstage catalog; two sources claiming one entity resolved by
precedence. Attacked as an operator and an agent."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app import scheduler
from app.connectors import sources
from app.connectors.model import ConnectorError
from app.connectors.sync import SourceSpec, register, sync
from app.core import entities
from app.core.context import EVERYONE
from app.graph import GraphStore
from tests.conftest import App
from tests.support.coord import agent
from tests.unit.test_backstage_rest import TOKEN, Catalog, served_entities

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LIST = """{ sources { id format status entities rev syncedAt dueAt lastError } }"""
ADD = """mutation($i: SourceInput!) { addSource(input: $i) { id status dueAt } }"""
ENTITY = """query($id: ID!) { entity(id: $id) { id status owner
  sources { source status lostTo } } }"""


async def test_sources_are_registered_synced_and_removed(api: App, tmp_path: Path) -> None:
    cat = tmp_path / "catalog"
    shutil.copytree(FIXTURES / "backstage", cat)
    spec = {
        "id": "backstage:acme",
        "format": "backstage",
        "location": str(cat / "catalog-info.yaml"),
        "intervalS": 3600,
    }
    # refused inputs change nothing
    bad: list[dict[str, Any]] = [
        {**spec, "format": "ldap"},
        {**spec, "location": "catalog-info.yaml"},
        {**spec, "format": "codeowners"},
        {**spec, "id": "Has Spaces"},
        {**spec, "format": "k8s", "location": "https://k8s.example/api"},
        {**spec, "intervalS": -1},
        {**spec, "tokenEnv": "not-an-env-name"},
    ]
    for b in bad:
        assert await api.admin.fails(ADD, i=b) == ["BAD_INPUT"], b
    assert (await api.admin(LIST))["sources"] == []

    added = (await api.admin(ADD, i=spec))["addSource"]
    assert added["status"] == "active" and added["dueAt"] is not None  # scheduled: due now
    assert await scheduler.sync_sources(api.rt) == 17
    [s] = (await api.admin(LIST))["sources"]
    assert (s["entities"], s["lastError"], s["dueAt"] > s["syncedAt"]) == (17, None, True)
    assert await scheduler.sync_sources(api.rt) == 0  # not due again for an hour

    # an operator may ask for a sync, not register or remove; an agent may do neither
    op = api.client(
        (
            await api.admin("""mutation { createPrincipal(input: {id: "ops-1",
        kind: "human", name: "Ops", roles: [OPERATOR]}) { token } }""")
        )["createPrincipal"]["token"]
    )
    assert await op.fails(ADD, i={**spec, "id": "backstage:mine"}) == ["FORBIDDEN"]
    assert await op.fails('mutation { removeSource(id: "backstage:acme") { id } }') == ["FORBIDDEN"]
    bot = await agent(api, "agent-x", ["diagnose"])
    assert await bot.fails(LIST) == ["FORBIDDEN"]
    assert await bot.fails('mutation { syncSource(id: "backstage:acme") { id } }') == ["FORBIDDEN"]
    await op('mutation { syncSource(id: "backstage:acme") { id } }')
    assert await scheduler.sync_sources(api.rt) == 0  # synced: unchanged, nothing written
    assert await op.fails('mutation { syncSource(id: "nope") { id } }') == ["NOT_FOUND"]

    # a source whose files vanish fails loudly and keeps what it had
    (cat / "catalog-info.yaml").rename(cat / "moved.yaml")
    await api.admin('mutation { syncSource(id: "backstage:acme") { id } }')
    assert await scheduler.sync_sources(api.rt) == 0
    [s] = (await api.admin(LIST))["sources"]
    assert "no such file" in s["lastError"] and s["entities"] == 17

    # removed: its entities are retired by the next tick, never deleted
    await api.admin('mutation { removeSource(id: "backstage:acme") { id } }')
    assert await scheduler.sync_sources(api.rt) == 17
    [s] = (await api.admin(LIST))["sources"]
    assert (s["status"], s["entities"], s["dueAt"]) == ("removed", 0, None)
    e = (await api.admin(ENTITY, id="component:default/payments-api"))["entity"]
    assert e["status"] == "retired" and e["sources"][0]["status"] == "retired"
    assert await scheduler.sync_sources(api.rt) == 0


async def _sync(store: GraphStore, spec: SourceSpec, now: int) -> Any:
    await register(store, spec, actor="test", now=now)
    return await sync(store, spec, await sources.read_snapshot(store, spec), actor="test", now=now)


async def test_codeowners_kubernetes_and_csv_join_a_catalog(
    store: GraphStore, tmp_path: Path
) -> None:
    await _sync(
        store,
        SourceSpec(
            "backstage:acme", "backstage", str(FIXTURES / "backstage" / "catalog-info.yaml")
        ),
        1,
    )
    owners = tmp_path / "CODEOWNERS"
    owners.write_text("*  @acme/web-team\n/docs/  @acme/nobody\n")
    report = await _sync(
        store,
        SourceSpec(
            "codeowners:payments-api",
            "codeowners",
            str(owners),
            precedence=50,
            options={"repo": "https://git.acme.example/payments/payments-api"},
        ),
        2,
    )
    assert report.created == ["component:default/payments-api"]
    e = await entities.get(store, EVERYONE, "component:default/payments-api")
    assert e is not None and e.owner == "group:default/web-team"  # precedence 50 beats 100
    assert {(r.to, r.source) for r in e.relations if r.type == "OWNED_BY"} == {
        ("group:default/payments-team", "backstage:acme"),
        ("group:default/web-team", "codeowners:payments-api"),
    }
    assert e.kind == "component" and e.attrs["lifecycle"] == "production"  # untouched

    report = await _sync(store, SourceSpec("k8s:prod", "k8s", str(FIXTURES / "kubernetes")), 3)
    assert "deployment:payments/payments-api" in report.created
    d = await entities.get(store, EVERYONE, "deployment:payments/payments-api")
    assert d is not None and d.domain == "payments"  # through the component it runs
    assert ("PART_OF", "component:default/payments-api") in {(r.type, r.to) for r in d.relations}
    svc = [i for i in report.created if i.startswith("service:payments/")]
    assert svc, report.created

    report = await _sync(
        store,
        SourceSpec(
            "csv:inventory",
            "csv",
            str(FIXTURES / "csv" / "services.csv"),
            options={"mapping": str(FIXTURES / "csv" / "services.yaml")},
        ),
        4,
    )
    fraud = await entities.get(store, EVERYONE, "component:default/fraud-scoring")
    assert fraud is not None and fraud.domain == "payments"
    assert {
        ("DEPENDS_ON", "component:default/payments-api"),
        ("DEPENDS_ON", "component:default/ledger"),
    } <= {(r.type, r.to) for r in fraud.relations}


async def test_precedence_decides_whose_properties_an_entity_shows(
    store: GraphStore, tmp_path: Path
) -> None:
    backstage = SourceSpec(
        "backstage:acme", "backstage", str(FIXTURES / "backstage" / "catalog-info.yaml")
    )
    await _sync(store, backstage, 1)
    sheet = tmp_path / "cmdb.csv"
    sheet.write_text("Service,Team,Description\npayments-api,payments-team,From the CMDB\n")
    mapping = tmp_path / "cmdb.yaml"
    mapping.write_text(
        "kind: component\ncolumns: {name: Service, owner: Team, description: Description}\n"
    )
    cmdb = SourceSpec(
        "csv:cmdb", "csv", str(sheet), precedence=10, options={"mapping": str(mapping)}
    )
    await _sync(store, cmdb, 2)
    e = await entities.get(store, EVERYONE, "component:default/payments-api")
    assert e is not None and e.attrs["description"] == "From the CMDB"
    claims = {c.source: c for c in e.sources}
    assert claims["backstage:acme"].lost_to == "csv:cmdb" and claims["csv:cmdb"].lost_to is None

    # the loser syncing again changes nothing it does not own; it is recorded, not applied
    assert (await _sync(store, backstage, 3)).changed == 0
    # the winner drops it: it stays (Backstage still describes it), and Backstage's next sync
    # writes its own properties back
    sheet.write_text("Service,Team,Description\n")
    report = await _sync(store, cmdb, 4)
    assert report.retired == ["component:default/payments-api"]
    e = await entities.get(store, EVERYONE, "component:default/payments-api")
    assert e is not None and e.status == "active"
    report = await _sync(store, backstage, 5)
    assert report.updated == ["component:default/payments-api"]
    e = await entities.get(store, EVERYONE, "component:default/payments-api")
    assert e is not None and e.attrs["description"] == "Authorises and captures card payments"
    assert {c.source: c.lost_to for c in e.sources} == {"backstage:acme": None, "csv:cmdb": None}
    events = await store.execute_text(
        "MATCH (v:Event) WHERE v.subject = 'component:default/payments-api' "
        "RETURN v.type AS t ORDER BY v.seq"
    )
    assert [v["t"] for v in events] == [
        "entity.imported",
        "entity.imported",
        "entity.unclaimed",
        "entity.updated",
    ]


async def test_a_resync_parses_again_only_when_a_file_it_read_changed(
    store: GraphStore, tmp_path: Path
) -> None:
    """Unchanged files are not parsed again (their hash is kept with the source), but a
    Location target that was missing and appears, or any edit, is read."""
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\n"
        "spec: {targets: [./team.yaml, ./later.yaml]}\n"
    )
    (tmp_path / "team.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: web}\n"
        "spec: {type: team, children: []}\n"
    )
    spec = SourceSpec("backstage:tmp", "backstage", str(tmp_path / "catalog-info.yaml"))
    first = await _sync(store, spec, 1)
    assert first.created == ["group:default/web"] and "later.yaml" in str(first.rejected[0])
    again = await sources.read_snapshot(store, spec)
    assert again.unchanged and again.claimed == 1 and len(again.rejected) == 1
    assert (await sync(store, spec, again, actor="t", now=2)).summary()["rejected"] == 1
    (tmp_path / "later.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: site}\n"
        "spec: {type: website, lifecycle: production, owner: web}\n"
    )
    report = await _sync(store, spec, 3)
    assert report.created == ["component:default/site"] and report.rejected == []
    (tmp_path / "team.yaml").write_text((tmp_path / "team.yaml").read_text() + "\n# note\n")
    snap = await sources.read_snapshot(store, spec)
    assert not snap.unchanged  # an edit, even one that changes no entity, is read
    assert (await sync(store, spec, snap, actor="t", now=4)).changed == 0
    assert (await sources.read_snapshot(store, spec)).unchanged


async def test_a_running_backstage_is_synced_through_its_catalog_api(
    store: GraphStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The REST mode end to end: the token comes from the environment variable the source
    names (never stored), and the result is the file catalog's."""
    with Catalog(served_entities()) as server:
        spec = SourceSpec(
            "backstage:live", "backstage", server.url, options={"tokenEnv": "BS_TOKEN"}
        )
        monkeypatch.delenv("BS_TOKEN", raising=False)
        with pytest.raises(ConnectorError, match="BS_TOKEN is not set"):
            await sources.read_snapshot(store, spec)
        monkeypatch.setenv("BS_TOKEN", "wrong")
        with pytest.raises(ConnectorError, match="token refused"):
            await sources.read_snapshot(store, spec)
        monkeypatch.setenv("BS_TOKEN", TOKEN)
        report = await _sync(store, spec, 1)
        assert len(report.created) == 17
        assert (await _sync(store, spec, 2)).changed == 0
    e = await entities.get(store, EVERYONE, "component:default/payments-api")
    assert e is not None and e.domain == "payments" and e.owner == "group:default/payments-team"
    assert e.sources[0].file and e.sources[0].file.endswith("systems/payments.yaml")
    rows = await store.execute_text("MATCH (s:Source) RETURN s.options AS o")
    assert "BS_TOKEN" in rows[0]["o"] and TOKEN not in rows[0]["o"]
