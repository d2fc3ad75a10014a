"""The benchmarks still run (quick sizes), end with their JSON line, and did the work they
time, so `make bench` cannot rot between releases. Timings are not checked here: they belong
in bench/. Each run's subprocess timeout sits inside its test's pytest timeout, so a slow
machine fails with the bench's own output, not a bare pytest-timeout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# Seconds per quick run on a loaded 2-core machine (measured: routing ~280 s, fanout ~190 s,
# tracing ~95 s, metrics ~20 s while other tests ran), with room; pytest's is 60 s more.
BUDGET = {
    "routing": 600,
    "fanout": 480,
    "tracing": 300,
    "metrics": 180,
    "soak": 240,
    "context": 300,
    "retention": 180,
    "restart": 180,
    "import": 180,
    "search": 240,
}


def did_the_work(script: str, m: dict[str, Any]) -> None:
    if script == "routing":
        assert m["left_queued"] == 0, m  # everything queued was claimed or routed
        assert m["claimed"] > 0 and m["assigned"] > 0, m
        assert m["claimed"] + m["assigned"] == m["tasks"], m
    elif script == "fanout":
        assert m["deliveries"] == m["subscribers"] * m["events"], m
        assert m["subscribers"] > 1 and m["events"] > 1, m
    elif script == "tracing":
        assert m["tasks"] > 0 and m["assignments_per_s_off"] > 0, m
        assert m["assignments_per_s_on"] > 0 and m["repeats"] >= 2, m
        assert all(
            m[f"{op}_ms_{mode}"] > 0
            for op in ("route", "finish", "complete_many", "claim", "submit")
            for mode in ("off", "on")
        ), m  # every operation ran
    elif script == "soak":
        assert m["errors"] == 0 and m["tasks_done"] == m["tasks_submitted"] > 0, m
        assert m["samples"] >= 5, m
        assert m["aof_load_bytes_per_min"] > 0 and m["aof_bytes_after_rewrite"] > 0, m
        assert 0 < m["restart_s"] and 0 < m["restart_after_rewrite_s"], m
    elif script == "context":
        assert m["propagation_samples"] == m["agents"] * m["propagation_facts"] > 0, m
        assert m["context_samples"] > 0 and len(m["density"]) >= 2, m
        assert [d["facts_per_entity"] for d in m["density"]][:2] == [10, 100], m
    elif script == "restart":
        assert m["tasks"] == 2_000 and m["events"] >= 20_000, m  # all back after the restarts
        assert m["aof_bytes_after_rewrite"] < m["aof_bytes"], m
        assert m["restart_s"] > 0 and m["restart_after_rewrite_s"] > 0, m
    elif script == "retention":
        assert m["pruned_tasks"] == m["history_tasks"] > 0, m  # every old task went
        assert m["archived_events"] >= m["pruned_events"] >= 3 * m["history_tasks"], m
        assert m["claims_during"] > 0 and m["claims_baseline"] > 0, m
    elif script == "import":
        assert m["import"]["created"] == m["entities"] and m["import"]["rejected"] == 0, m
        assert m["resync_events"] == 0 and m["resync"]["unchanged"] == m["entities"], m
        assert m["changed_events"] == m["changed"]["updated"] == m["changed_entities"] > 0, m
    elif script == "search":
        assert [g["facts"] for g in m["growth"]] == [1_000, 2_000], m
        assert all(g["vectors_written"] >= g["facts"] // 2 for g in m["growth"]), m  # embedded
        assert all(0 < g["recall_at_10"] <= 1 and g["self_sample"] > 0 for g in m["growth"]), m
        assert m["search_samples"] >= 20 and m["search_p99_ms"] > 0, m
        assert m["unreadable_hits"] == 0 and 0 < m["readable_fact_share"] < 1, m  # grants held
        assert m["embedding"]["fact_texts_per_s"] > 0, m
        assert all(m["quality"][k]["queries"] == 181 for k in ("vector", "fulltext", "hybrid")), m
    elif script == "metrics":
        assert m["pending"] + m["decided"] == m["proposals"] > 0, m
        assert 0 < m["events_counted"] < m["events"], m


@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=pytest.mark.timeout(t + 60)) for s, t in BUDGET.items()],
)
def test_bench_quick_run_prints_its_metrics(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{script}.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=BUDGET[script],
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads(run.stdout.strip().splitlines()[-1])
    assert metrics["backend"] == "falkordb-embedded" and "machine" in metrics
    did_the_work(script, metrics)
    for g in metrics.get("growth", []):  # every size, not only the last
        if script == "routing":
            assert g["assignments_per_s"] > 0, g
