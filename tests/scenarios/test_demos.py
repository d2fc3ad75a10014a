"""The three showcases as scenario tests: ``baton demo NAME`` is run as a real CLI process
(its own demo-agent process, the workflow started by an event or the API, the human played
at approval steps) and must end with the run done, its timeline and its cost printed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, free_port
from tests.support.procs import REPO, Served


def baton_demo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "app", "demo", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=110)  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("demos")
    env = {"BATON_GRAPH_URI": f"embedded://{tmp / 'graph'}", "BATON_DATA_DIR": str(tmp),
           "BATON_ADMIN_TOKEN": ADMIN_TOKEN, "BATON_ROUTE_INTERVAL_MS": "50",
           "BATON_WORKFLOW_INTERVAL_MS": "100"}  # fmt: skip
    app = Served(env, free_port(), seed=True, log=tmp / "app.log")
    app.wait_healthy()
    yield app
    app.kill()


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("incident", ["alert.fired", "findings", "highest confidence", "approves decide",
                      "remediate", "run done"]),
        ("compliance", ["startWorkflow compliance-review", "security_scan", "approves signoff",
                        "report", "run done"]),
        ("onboarding", ["crm.customer_created", "gathered", "quality", "run done",
                        "accountable: agent-supervisor"]),
    ],
)  # fmt: skip
def test_showcase_runs_end_to_end(served: Served, name: str, expect: list[str]) -> None:
    got = baton_demo(name, "--url", served.url, "--token", ADMIN_TOKEN)
    assert got.returncode == 0, got.stdout + got.stderr
    for text in expect:
        assert text in got.stdout, (text, got.stdout)
    assert "total cost $" in got.stdout


def test_demo_with_a_fault_shows_recovery(served: Served) -> None:
    got = baton_demo("onboarding", "--url", served.url, "--token", ADMIN_TOKEN,
                     "--fail", "provision")  # fmt: skip
    assert got.returncode == 1, got.stdout + got.stderr  # the run fails, cleanly
    assert "deprovision" in got.stdout and "compensated by deprovision" in got.stdout


def test_private_stack_demo(tmp_path: Path) -> None:
    got = baton_demo("incident")
    assert got.returncode == 0, got.stdout + got.stderr
    assert "starting a private Baton" in got.stdout and "alice approves decide" in got.stdout
