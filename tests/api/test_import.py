"""`baton import` loads an org export with entities and relations, idempotently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_TOKEN, App

REPO = Path(__file__).resolve().parents[2]
EXPORT = """
domains:
  - {id: logistics, name: Logistics}
entities:
  - {id: wh-1, kind: warehouse, name: Warehouse 1, domain: logistics, dependsOn: [erp]}
  - {id: erp, kind: system, name: ERP, domain: logistics}
  - {id: carrier-x, kind: vendor, name: Carrier X, domain: logistics}
links:
  - {from: wh-1, to: carrier-x, type: RELATES_TO}
"""


def run_import(api: App, path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BATON_GRAPH_URI": api.settings.graph_uri,
        "BATON_GRAPH_NAME": api.settings.graph_name,
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    return subprocess.run(
        [sys.executable, "-m", "app", "import", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_import_loads_and_is_idempotent(api: App, tmp_path: Path) -> None:
    f = tmp_path / "org.yaml"
    f.write_text(EXPORT)
    for _ in range(2):
        done = run_import(api, f)
        assert done.returncode == 0, done.stdout + done.stderr
    rows = await api.store.execute_text(
        "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.id AS a, type(r) AS t, b.id AS b ORDER BY a, t"
    )
    assert rows == [
        {"a": "wh-1", "t": "DEPENDS_ON", "b": "erp"},
        {"a": "wh-1", "t": "RELATES_TO", "b": "carrier-x"},
    ]
    n = await api.store.execute_text("MATCH (e:Entity) RETURN count(e) AS n")
    assert n[0]["n"] == 3


async def test_import_refuses_a_bad_export(api: App, tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("entities:\n  - {id: 'x y', kind: s, name: n, domain: d}\n")
    done = run_import(api, f)
    err = done.stdout + done.stderr
    assert done.returncode == 2 and "invalid" in err and "export" in err and "Traceback" not in err
