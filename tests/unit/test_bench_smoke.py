"""The benchmarks still run (quick sizes) and end with their JSON line, so `make bench`
cannot rot between releases. Numbers are not checked here: timings belong in bench/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["routing", "fanout", "tracing", "metrics"])
def test_bench_quick_run_prints_its_metrics(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{script}.py"), "--quick", "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads(run.stdout.strip().splitlines()[-1])
    assert metrics["backend"] == "falkordb-embedded" and "machine" in metrics
