"""Faults at random points of a running workload: SIGKILL the agent worker process, the app,
and the graph database; restart each; then check that nothing was lost or done twice.

Invariants, from the graph itself after recovery:
- every acknowledged submission is present and ends done (exactly one terminal event);
- no task was ever held by two agents at once (Event log replay);
- the Event log has no gap (seq 1..head, each exactly once).

The bounded version runs in CI; ``-m slow`` runs the long one.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, free_port
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget, KillableGraph
from tests.support.invariants import TERMINAL, all_events, check_replay
from tests.support.procs import CHECKOUT_PATH, Served

WORKER = """
import asyncio, os
from baton_sdk import Agent, TaskContext

async def main():
    agents = []
    for pair in os.environ["AGENTS"].split(","):
        agent_id, token = pair.split("=", 1)
        a = Agent(os.environ["BATON_URL"], token, name=agent_id, max_concurrency=4,
                  heartbeat_s=0.3, poll_s=0.2)

        @a.handles("work")
        async def work(t: TaskContext) -> int:
            await asyncio.sleep(0.2)  # long enough to be caught mid-task by a kill
            return int(t.payload["n"])

        agents.append(a)
    await asyncio.gather(*(a.run() for a in agents))

asyncio.run(main())
"""


class Rig:
    """The graph server, one app and one worker process, each killable and restartable."""

    def __init__(self, tmp: Path, backend: str) -> None:
        self.tmp = tmp
        self.db = KillableGraph(backend, tmp)
        self.app_port = free_port()
        self.url = f"http://127.0.0.1:{self.app_port}"
        self.app: Served | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.agent_env = ""
        (tmp / "faultworker.py").write_text(WORKER)

    def start_db(self) -> None:
        self.db.start()

    def kill_db(self) -> None:
        self.db.kill()

    def start_app(self) -> None:
        env = {
            **self.db.env(),
            "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
            "BATON_ROUTE_INTERVAL_MS": "50",
            "BATON_LEASE_MS": "1500",
            "BATON_HEARTBEAT_TIMEOUT_MS": "3000",
            "BATON_RETRY_BASE_MS": "50",
            "BATON_RETRY_MAX_MS": "300",
            "BATON_RATE_LIMIT_PER_S": "100000",
            "BATON_RATE_LIMIT_BURST": "100000",
        }
        self.app = Served(env, self.app_port, log=self.tmp / "app.log")
        self.app.wait_healthy()

    def kill_app(self) -> None:
        assert self.app is not None
        self.app.kill()

    def start_worker(self) -> None:
        env = {
            **os.environ,
            "BATON_URL": self.url,
            "AGENTS": self.agent_env,
            "PYTHONPATH": CHECKOUT_PATH,
        }
        self.worker = subprocess.Popen(
            [sys.executable, str(self.tmp / "faultworker.py")],
            env=env,
            stdout=open(self.tmp / "worker.log", "ab"),
            stderr=subprocess.STDOUT,  # noqa: SIM115
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.kill()
        self.worker.wait(10)

    def stop(self) -> None:
        for p in (self.worker, self.app.proc if self.app else None):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
        self.db.stop()


async def _retrying(admin: GQL, query: str, **variables: object) -> dict[str, Any]:
    """Keep trying through outages: the faults are the point of the test."""
    last: object = None
    for _ in range(1500):  # a restarting Neo4j takes tens of seconds on a loaded machine
        try:
            body = await admin.raw(query, variables)
            if not body.get("errors"):
                return dict(body["data"])
            last = body["errors"]
        except (httpx.HTTPError, ValueError) as exc:  # down, or a non-JSON 5xx while restarting
            last = repr(exc)
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up on {query[:60]}; last answer: {str(last)[:800]}")


async def _run(tmp: Path, backend: str, n_tasks: int, faults: list[str]) -> None:
    rig = Rig(tmp, backend)
    try:
        rig.start_db()
        await asyncio.to_thread(rig.start_app)
        async with httpx.AsyncClient(timeout=10) as http:
            admin = GQL(rig.url, ADMIN_TOKEN, http)
            pairs = []
            for i in range(2):
                made = await admin(
                    "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                    i={
                        "id": f"p-f{i}",
                        "kind": "agent",
                        "name": f"f{i}",
                        "roles": ["AGENT"],
                        "agentId": f"f{i}",
                    },
                )
                pairs.append(f"f{i}={made['createPrincipal']['token']}")
            rig.agent_env = ",".join(pairs)
            rig.start_worker()
            rng = random.Random(n_tasks)
            fault_at = sorted(rng.sample(range(5, n_tasks - 5), len(faults)))
            attempts = len(faults) + 3
            acked: set[str] = set()
            for n in range(n_tasks):
                if fault_at and n == fault_at[0]:
                    fault_at.pop(0)
                    await asyncio.to_thread(_inject, rig, faults.pop(0))
                got = await _retrying(
                    admin,
                    "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }",
                    # a retried submit cannot duplicate; each fault may cost a task one
                    # attempt (its 1.5 s lease runs out while something is down), so it gets
                    # more attempts than there are faults: "done" is then the only right end
                    i={
                        "kind": "fault",
                        "capability": "work",
                        "payload": {"n": n},
                        "dedupKey": f"n-{n}",
                        "maxAttempts": attempts,
                    },
                )
                acked.add(got["submitTask"]["id"])
            await _until_done(admin, acked, timeout=90)
            events = await all_events(admin)
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "the Event log has a gap or a repeat"
        terminal = check_replay(events, acked, {"f0": 4, "f1": 4})
        assert all(terminal[t] == 1 for t in acked)
    finally:
        await asyncio.to_thread(rig.stop)


def _inject(rig: Rig, fault: str) -> None:
    if fault == "worker":
        rig.kill_worker()
        rig.start_worker()
    elif fault == "app":
        rig.kill_app()
        rig.start_app()
    elif fault == "db":
        rig.kill_db()
        rig.start_db()


async def _until_done(admin: GQL, ids: set[str], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    pending = set(ids)
    while pending:
        for tid in list(pending):
            got = await _retrying(admin, "query($id: ID!) { task(id: $id) { status } }", id=tid)
            status = got["task"]["status"]
            if status in TERMINAL:
                assert status == "done", (tid, status)
                pending.discard(tid)
        assert asyncio.get_running_loop().time() < deadline, f"stuck: {sorted(pending)[:5]}"
        await asyncio.sleep(0.2)


@pytest.mark.timeout(600)  # on Neo4j: a JVM start and a crash restart
async def test_kill_worker_app_and_database_nothing_lost(
    tmp_path: Path, graph: GraphTarget
) -> None:
    await _run(tmp_path, graph.backend, 60, ["worker", "app", "db"])


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_kill_everything_repeatedly_nothing_lost(tmp_path: Path, graph: GraphTarget) -> None:
    faults = ["worker", "db", "app", "worker", "app", "db", "worker", "app"]
    await _run(tmp_path, graph.backend, 400, faults)
