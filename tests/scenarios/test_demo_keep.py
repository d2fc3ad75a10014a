"""Issue 21, finding 4: a run from `baton demo` can be traced afterwards. Without ``--keep``
the private stack's temporary dir is removed and the demo says how to keep it; with
``--keep DIR`` the data stays and the printed commands reopen it (`baton trace` then finds
the token in DIR, no copy-paste)."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.procs import REPO, Served

pytestmark = pytest.mark.falkordb_only("without --url the demo starts a private embedded Baton")


def baton(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env={**base, "COLUMNS": "250", "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.timeout(400)  # several process starts on a loaded machine
def test_a_demo_removes_its_temporary_stack_and_says_how_to_keep_it() -> None:
    got = baton("demo", "compliance")
    assert got.returncode == 0, got.stdout + got.stderr
    where = re.search(r"graph in (\S+?)\)", got.stdout)
    assert where, got.stdout
    assert not Path(where.group(1)).exists()
    assert "--keep DIR" in got.stdout


@pytest.mark.timeout(400)  # several process starts on a loaded machine
def test_a_kept_demo_run_can_be_traced_afterwards(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    got = baton("demo", "compliance", "--keep", str(keep))
    assert got.returncode == 0, got.stdout + got.stderr
    hint = re.search(r"BATON_DATA_DIR=(\S+) baton trace (\S+)", got.stdout)
    assert hint and Path(hint.group(1)) == keep.resolve(), got.stdout
    run_id = hint.group(2)
    assert f"BATON_GRAPH_URI=embedded://{keep.resolve()}/graph baton serve" in got.stdout
    assert stat.S_IMODE((keep / "admin-token").stat().st_mode) == 0o600
    app = Served(
        {
            "BATON_DATA_DIR": str(keep),
            "BATON_GRAPH_URI": f"embedded://{keep}/graph",
            "BATON_ADMIN_TOKEN": "",
        },
        free_port(),
        log=tmp_path / "app.log",
    )
    try:
        app.wait_healthy()
        traced = baton("trace", run_id, "--url", app.url, env={"BATON_DATA_DIR": str(keep)})
        assert traced.returncode == 0, traced.stdout + traced.stderr
        assert f"run {run_id}" in traced.stdout and "step report" in traced.stdout
    finally:
        app.signal(signal.SIGTERM)
