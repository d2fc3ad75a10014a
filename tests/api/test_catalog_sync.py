"""Syncing a Backstage catalog into the org graph with `baton import --format backstage`
while the app runs: what it imports and rejects, that a second import writes nothing, that
an entity gone from the catalog is retired (never deleted) and comes back, what `entity`
shows of it (kind, namespace, domain, owner, relations, sources), and that the catalog's
users become principals whose team memberships grant exactly what their teams may read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ADMIN_TOKEN, App
from tests.support.digest import graph_digest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "backstage"
ENTITY = """query($id: ID!) { entity(id: $id) { id kind name namespace domain owner status attrs
  relations { type to status source } sources { source rev status lostTo file } } }"""


def run_import(api: App, *args: str) -> tuple[int, dict[str, Any], str]:
    env = {
        **os.environ,
        "BATON_GRAPH_URI": api.settings.graph_uri,
        "BATON_GRAPH_NAME": api.settings.graph_name,
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "import", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
    return done.returncode, json.loads(last) if last.startswith("{") else {}, out


async def head(api: App) -> int:
    rows = await api.store.execute_text("MATCH (c:Counter {name: 'event'}) RETURN c.seq AS s")
    return int(rows[0]["s"])


async def test_a_backstage_catalog_syncs_and_stays_in_step(api: App, tmp_path: Path) -> None:
    cat = tmp_path / "catalog"
    shutil.copytree(FIXTURE, cat)
    root = str(cat / "catalog-info.yaml")
    code, counts, out = run_import(api, "--format", "backstage", root, "--json")
    assert code == 2, out  # the broken documents are reported, the rest imported
    assert (counts["created"], counts["rejected"], counts["events"]) == (17, 5, 17)
    assert "broken.yaml:1: component no-owner has no spec.owner" in out
    assert "catalog-info.yaml:2: target '../outside.yaml' is outside" in out

    e = (await api.admin(ENTITY, id="component:default/payments-api"))["entity"]
    assert (e["kind"], e["name"], e["namespace"], e["domain"], e["owner"], e["status"]) == (
        "component",
        "payments-api",
        "default",
        "payments",
        "group:default/payments-team",
        "active",
    )
    assert e["attrs"]["description"] == "Authorises and captures card payments"
    assert {(r["type"], r["to"], r["status"]) for r in e["relations"]} == {
        ("DEPENDS_ON", "resource:default/payments-db", "active"),
        ("OWNED_BY", "group:default/payments-team", "active"),
        ("PART_OF", "system:default/payments-core", "active"),
        ("PROVIDES", "api:default/payments-http", "active"),
    }
    assert {r["source"] for r in e["relations"]} == {"backstage:catalog"}
    [claim] = e["sources"]
    assert (claim["source"], claim["status"], claim["file"], claim["lostTo"]) == (
        "backstage:catalog",
        "active",
        "systems/payments.yaml",
        None,
    )
    ledger = (await api.admin(ENTITY, id="component:default/ledger"))["entity"]
    assert ledger["domain"] == "payments" and ledger["name"] == "Ledger"  # through its parent
    alices = await api.store.execute_text(
        "MATCH (p:Principal)-[:MEMBER_OF]->(t:Team) WHERE p.name STARTS WITH 'Alice' "
        "RETURN p.id AS p, p.name AS name, t.id AS t ORDER BY p"
    )
    assert alices == [
        {"p": "user:default/alice", "name": "Alice Moreau", "t": "group:default/payments-team"},
        {"p": "user:ops/alice", "name": "Alice Okafor", "t": "group:ops/sre"},
    ]

    # the same catalog again: nothing is written at all
    digest, seq = await graph_digest(api.store), await head(api)
    code, counts, _ = run_import(api, "--format", "backstage", root, "--json")
    assert (code, counts["unchanged"], counts["events"]) == (2, 17, 0)
    assert (await graph_digest(api.store), await head(api)) == (digest, seq)

    # the ledger leaves the catalog, payments-api changes: a dry run shows it and writes nothing
    payments = cat / "systems" / "payments.yaml"
    text = payments.read_text()
    start = text.index(
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Ledger"
    )
    end = text.index("---", start + 4)
    without = text[:start] + text[end:]
    payments.write_text(
        without.replace(
            "Authorises and captures card payments",
            "Authorises, captures and refunds card payments",
        ).replace("  dependsOn: [resource:payments-db]\n", "")
    )
    code, counts, out = run_import(api, "--format", "backstage", root, "--dry-run", "--json")
    assert (counts["updated"], counts["retired"], counts["events"]) == (1, 1, 0)
    assert "~ component:default/payments-api" in out and "- component:default/ledger" in out
    assert (await graph_digest(api.store), await head(api)) == (digest, seq)

    code, counts, _ = run_import(api, "--format", "backstage", root, "--json")
    assert (counts["updated"], counts["retired"], counts["events"]) == (1, 1, 2)
    ledger = (await api.admin(ENTITY, id="component:default/ledger"))["entity"]
    assert ledger["status"] == "retired" and ledger["sources"][0]["status"] == "retired"
    assert {(r["type"], r["status"]) for r in ledger["relations"]} == {
        ("OWNED_BY", "retired"),
        ("PART_OF", "retired"),
    }  # kept, no longer followed
    live = await api.store.execute_text(
        "MATCH (:Entity {id: 'component:default/ledger'})-[r:PART_OF|OWNED_BY]->() "
        "RETURN count(r) AS n"
    )
    assert live[0]["n"] == 0
    e = (await api.admin(ENTITY, id="component:default/payments-api"))["entity"]
    assert e["attrs"]["description"] == "Authorises, captures and refunds card payments"
    assert ("DEPENDS_ON", "resource:default/payments-db", "retired") in {
        (r["type"], r["to"], r["status"]) for r in e["relations"]
    }
    events = await api.store.execute_text(
        "MATCH (v:Event) WHERE v.seq > $s RETURN v.type AS type, v.subject AS subject, "
        "v.payload AS payload ORDER BY v.seq",
        s=seq,
    )
    assert [(v["type"], v["subject"]) for v in events] == [
        ("entity.updated", "component:default/payments-api"),
        ("entity.retired", "component:default/ledger"),
    ]
    assert json.loads(events[0]["payload"])["sourceId"] == "backstage:catalog"

    # it comes back, with its relations
    payments.write_text(text)
    code, counts, _ = run_import(api, "--format", "backstage", root, "--json")
    assert (counts["revived"], counts["updated"], counts["events"]) == (1, 1, 2)
    ledger = (await api.admin(ENTITY, id="component:default/ledger"))["entity"]
    assert ledger["status"] == "active"
    assert {(r["type"], r["status"]) for r in ledger["relations"]} == {
        ("OWNED_BY", "active"),
        ("PART_OF", "active"),
    }


async def test_imported_memberships_grant_what_the_team_may_read(api: App) -> None:
    """A catalog user gets no token and no role; once an admin gives the team a grant and
    the user a token, the user reads that domain's entities and nothing else."""
    code, _, out = run_import(api, "--format", "backstage", str(FIXTURE / "catalog-info.yaml"))
    assert code == 2, out
    await api.admin("""mutation { setTeam(input: {id: "group:default/payments-team",
        name: "Payments", canRead: ["payments"]}) { id } }""")
    for person in ("user:default/alice", "user:ops/alice"):  # imported without a role
        await api.admin(
            "mutation($p: String!) { setRoles(principalId: $p, roles: [OPERATOR]) }", p=person
        )
    token = await api.admin('mutation { rotateToken(principalId: "user:default/alice") }')
    alice = api.client(token["rotateToken"])
    got = await alice(ENTITY, id="component:default/payments-api")
    assert got["entity"]["domain"] == "payments"
    assert (await alice(ENTITY, id="component:default/checkout-api"))["entity"] is None
    bob_ops = await api.admin('mutation { rotateToken(principalId: "user:ops/alice") }')
    other = api.client(bob_ops["rotateToken"])  # same name, other namespace, other team
    assert (await other(ENTITY, id="component:default/payments-api"))["entity"] is None
