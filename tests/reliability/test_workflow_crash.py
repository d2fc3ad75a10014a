"""A workflow run survives crashes: SIGKILL the app (and, in turn, the worker process and the
graph database) at random points of a running incident-response run, restart each, and the
run completes with no step run twice and none skipped. Real processes throughout: `baton
serve`, the demo agents, the embedded FalkorDB."""

from __future__ import annotations

import asyncio
import random
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, free_port
from tests.reliability.test_faults import _retrying
from tests.support.flows import DECIDE, RUN, START, demo_agents, stop
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget, KillableGraph
from tests.support.invariants import all_events
from tests.support.procs import Served

STEPS = ["triage", "root_cause", "impact", "comms", "related", "findings", "decide", "remediate"]


class SessionGraph:
    """The session's graph server, for a scenario that never kills it (on Neo4j a private,
    killable one costs a JVM start and stop)."""

    def __init__(self, graph: GraphTarget, name: str) -> None:
        self.graph, self.name = graph, name

    def env(self) -> dict[str, str]:
        return self.graph.env(self.name)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class Stack:
    def __init__(self, tmp: Path, graph: GraphTarget, kills_db: bool) -> None:
        self.tmp = tmp
        self.db: KillableGraph | SessionGraph = (
            KillableGraph(graph.backend, tmp)
            if kills_db
            else SessionGraph(graph, f"wfc-{tmp.name}")
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: Served | None = None
        self.agents: subprocess.Popen[bytes] | None = None

    def start_app(self, seed: bool = False) -> None:
        # A 10 s lease: an app restart on a loaded machine takes seconds, and a lease that ran
        # out meanwhile would re-run a step, which is what this test counts as a failure.
        env = {
            **self.db.env(),
            "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
            "BATON_ROUTE_INTERVAL_MS": "50",
            "BATON_WORKFLOW_INTERVAL_MS": "100",
            "BATON_LEASE_MS": "10000",
            "BATON_HEARTBEAT_TIMEOUT_MS": "15000",
        }
        self.app = Served(env, self.port, seed=seed, log=self.tmp / "app.log")
        self.app.wait_healthy()

    def kill(self, what: str) -> None:
        if what == "app":
            assert self.app is not None
            self.app.kill()
            self.start_app()
        elif what == "worker":
            assert self.agents is not None
            self.agents.kill()
            self.agents.wait(10)
            self.agents = demo_agents(self.url, ADMIN_TOKEN)
        else:
            assert isinstance(self.db, KillableGraph)
            self.db.kill()
            self.db.start()

    def close(self) -> None:
        stop(self.agents)
        if self.app is not None and self.app.proc.poll() is None:
            self.app.kill()
        self.db.stop()


# Progress through the run: each step counts 1 once started (for the approval step: waiting
# for its decision) and 1 more once done, so 0..16; the run ends at 16. Milestones worth
# crashing at: 10 = the four parallel steps done, the join (merge) due; 12 = merged, the
# approval due; 13 = awaiting the human's decision. The test holds the run there (it decides
# only after a due crash), so every point up to 13 is reached while the run is live; past it
# remediation is over within one poll, so a crash point there could not be hit reliably.
LAST = 13


def progress(run: dict[str, Any]) -> int:
    return sum((s["status"] != "waiting") + (s["status"] == "done") for s in run["steps"])


def spread(faults: list[str], seed: int) -> list[tuple[str, int]]:
    """One crash point per fault, drawn over the whole run: fault i falls in the i-th of
    len(faults) equal slices of 1..LAST, so late phases (merge, approval, remediation) are hit
    as often as early ones."""
    rng = random.Random(seed)
    k = len(faults)
    return [
        (f, rng.randint(1 + i * LAST // k, max(1 + i * LAST // k, (i + 1) * LAST // k)))
        for i, f in enumerate(faults)
    ]


async def _follow_with_faults(
    stack: Stack, admin: GQL, faults: list[tuple[str, int]]
) -> dict[str, Any]:
    inputs = {"service": "svc-checkout", "incident": "inc-2291"}
    rid = (await _retrying(admin, START, n="incident-response", i=inputs))["startWorkflow"]["id"]
    pending = sorted(faults, key=lambda f: f[1])
    fired: list[tuple[str, int, int]] = []
    decided: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 300  # a Neo4j restart is tens of seconds
    run: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        run = (await _retrying(admin, RUN, id=rid))["run"]
        if run["status"] != "running":
            if pending:  # say why: which step ended how, and what its tasks went through
                state = await _retrying(admin, TASKS)
                raise AssertionError(
                    f"the run ended before faults {pending} (fired: {fired}):"
                    f"\n{_steps(run)}\n--- tasks ---\n{state}"
                )
            return dict(run)
        at = progress(run)
        if pending and at >= pending[0][1]:  # crash before deciding: approvals wait through it
            what, point = pending.pop(0)
            fired.append((what, point, at))
            await asyncio.to_thread(stack.kill, what)
            continue
        for s in run["steps"]:
            if s["status"] == "awaiting_approval" and s["proposalId"] not in decided:
                await _decide(admin, s["proposalId"])
                decided.add(s["proposalId"])
        await asyncio.sleep(0.1)
    state = await _retrying(admin, TASKS)
    raise AssertionError(f"run did not finish: {_steps(run)}\n--- tasks and agents ---\n{state}")


TASKS = (
    "{ tasks(first: 50) { nodes { kind status attempts agentId errors } } "
    "agents(first: 50) { nodes { id status active } } }"
)


def _steps(run: dict[str, Any]) -> str:
    lines = [
        f"{s['stepId']}: {s['status']} attempt {s['attempt']} {s['note'] or ''}"
        for s in run["steps"]
    ]
    return "\n".join([*lines, f"run: {run['status']} {run['error'] or ''}"])


async def _decide(admin: GQL, proposal_id: str) -> None:
    """Approve through outages. A decision that committed while its answer was lost (the app
    or the database died mid-request) is answered CONFLICT when resent: that is success when
    the proposal shows our approval."""
    approve = {"id": proposal_id, "d": "APPROVE", "p": None, "r": "ok"}
    body: dict[str, Any] = {}
    for _ in range(600):
        try:
            body = await admin.raw(DECIDE, approve)
        except (httpx.HTTPError, ValueError):
            await asyncio.sleep(0.2)
            continue
        if not body.get("errors"):
            return
        if "CONFLICT" in [e.get("extensions", {}).get("code") for e in body["errors"]]:
            got = await _retrying(
                admin, "query($id: ID!) { proposal(id: $id) { status } }", id=proposal_id
            )
            assert got["proposal"]["status"] == "approved", (got, body)
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"decideProposal({proposal_id}) never accepted: {body}")


async def _check(admin: GQL, stack: Stack, run: dict[str, Any]) -> None:
    assert run["status"] == "done", run
    assert [s["stepId"] for s in run["steps"]] == STEPS
    for s in run["steps"]:  # every step done, on its first attempt (a join has none)
        assert s["status"] == "done" and s["attempt"] == (s["kind"] != "join"), s
    got = await admin("{ tasks(first: 500) { nodes { kind runId } } }")
    kinds: dict[str, int] = {}
    for t in got["tasks"]["nodes"]:
        if t["runId"] == run["id"]:
            kinds[t["kind"].split(".", 1)[1]] = kinds.get(t["kind"].split(".", 1)[1], 0) + 1
    # one task per step (the join has none): no step was run twice and none skipped
    assert kinds == {s: 1 for s in STEPS if s != "findings"}, kinds
    events = await all_events(admin)
    started = [e for e in events if e["type"] == "step.started" and e["subject"] == run["id"]]
    assert sorted(e["payload"]["stepId"] for e in started) == sorted(kinds)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # gap-free


async def _scenario(tmp: Path, graph: GraphTarget, faults: list[tuple[str, int]]) -> None:
    stack = Stack(tmp, graph, kills_db=any(what == "db" for what, _ in faults))
    try:
        stack.db.start()
        await asyncio.to_thread(stack.start_app, True)
        stack.agents = demo_agents(stack.url, ADMIN_TOKEN)
        async with httpx.AsyncClient(timeout=10) as http:
            admin = GQL(stack.url, ADMIN_TOKEN, http)
            run = await _follow_with_faults(stack, admin, faults)
            await _check(admin, stack, run)
    finally:
        await asyncio.to_thread(stack.close)


@pytest.mark.timeout(600)
async def test_run_survives_an_app_crash_mid_run(tmp_path: Path, graph: GraphTarget) -> None:
    await _scenario(tmp_path, graph, spread(["app"], seed=7))


@pytest.mark.timeout(600)  # on Neo4j: a JVM start and a crash restart
async def test_run_survives_app_worker_and_database_crashes(
    tmp_path: Path, graph: GraphTarget
) -> None:
    await _scenario(tmp_path, graph, spread(["app", "worker", "db"], seed=11))


@pytest.mark.timeout(600)
async def test_run_survives_crashes_at_the_merge_and_the_approval(
    tmp_path: Path, graph: GraphTarget
) -> None:
    """The app dies as the join is due, the database while the decision is awaited."""
    await _scenario(tmp_path, graph, [("app", 10), ("db", 13)])


def test_crash_points_cover_the_whole_run() -> None:
    points = [p for seed in range(200) for _, p in spread(["app", "worker", "db"], seed)]
    assert set(points) == set(range(1, LAST + 1))  # every phase, merge and approval included
    assert sum(p >= 9 for p in points) >= len(points) / 4  # not clustered early


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("seed", range(5))
async def test_run_survives_repeated_random_crashes(
    tmp_path: Path, graph: GraphTarget, seed: int
) -> None:
    faults = random.Random(seed).choices(["app", "worker", "db"], k=4)
    await _scenario(tmp_path, graph, spread(faults, seed))
