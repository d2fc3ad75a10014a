"""Helpers for workflow tests: the demo agents as a real worker process, and a driver that
follows a run (playing the human at approval steps) until it ends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.gql import GQL
from tests.support.procs import REPO

RUN = """query($id: ID!) { run(id: $id) { id workflow status error result accountable costUsd
  trigger triggerId retries
  steps { stepId kind status attempt taskId proposalId result note startedAt endedAt agentId }
} }"""
START = """mutation($n: String!, $i: JSON, $r: String) {
  startWorkflow(name: $n, input: $i, runId: $r) { id status } }"""
DECIDE = """mutation($id: ID!, $d: Decision!, $p: JSON, $r: String!) {
  decideProposal(id: $id, decision: $d, payload: $p, reason: $r) { status } }"""


def demo_agents(url: str, token: str, fail: str = "") -> subprocess.Popen[bytes]:
    """``python -m app.demo.agents`` in its own process (the agents of seeds/org.yaml). Its
    log goes to a file: an unread pipe fills up while the app is down and blocks the worker."""
    args = [sys.executable, "-m", "app.demo.agents", url, token]
    if fail:
        args += ["--fail", fail]
    with tempfile.NamedTemporaryFile(prefix="demo-agents-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
    _LOGS[proc.pid] = Path(log.name)
    return proc


_LOGS: dict[int, Path] = {}  # each worker's log, removed by stop()


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop the worker (if it still runs) and remove its log."""
    if proc is None:
        return
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log = _LOGS.pop(proc.pid, None)
    if log is not None:
        log.unlink(missing_ok=True)


Decider = Callable[[dict[str, Any]], tuple[str, dict[str, Any] | None]]


def approve_all(step: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    return "APPROVE", None


async def follow(
    admin: GQL,
    run_id: str,
    *,
    decide: Decider | None = approve_all,
    timeout: float = 60,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """Poll the run until it ends (or ``until`` holds), deciding its approvals on the way."""
    deadline = asyncio.get_running_loop().time() + timeout
    decided: set[str] = set()
    while True:
        run = (await admin(RUN, id=run_id))["run"]
        if until is not None and until(run):
            return dict(run)
        if until is None and run["status"] != "running":
            return dict(run)
        for s in run["steps"]:
            pid = s["proposalId"]
            if s["status"] == "awaiting_approval" and decide and pid and pid not in decided:
                decision, payload = decide(s)
                await admin(DECIDE, id=pid, d=decision, p=payload, r=f"test: {decision.lower()}")
                decided.add(pid)
        assert asyncio.get_running_loop().time() < deadline, f"run did not end: {run}"
        await asyncio.sleep(0.1)


def step(run: dict[str, Any], step_id: str) -> dict[str, Any]:
    return dict(next(s for s in run["steps"] if s["stepId"] == step_id))
