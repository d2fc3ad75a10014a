"""The tree stays as ruff formats and lints it (CI runs ``make test``, not ``make lint``, so
the cheap style gates run here too; mypy stays in ``make lint``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREE = ["app", "tests", "bench", "sdk"]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *TREE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_is_formatted() -> None:
    got = ruff("format", "--check")
    assert got.returncode == 0, got.stdout + got.stderr


def test_the_tree_passes_the_linter() -> None:
    got = ruff("check")
    assert got.returncode == 0, got.stdout + got.stderr
