"""Workflow patterns on the real graph, with the demo agents as a real worker process:
sequential, parallel fan-in with each merge strategy, quorum, hierarchical supervision,
human checkpoints, failure policies, cancel and retry, and the three showcases."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.core import seed
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.flows import RUN, START, demo_agents, follow, step, stop
from tests.support.graphs import GraphTarget

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DEFINE = "mutation($d: JSON) { defineWorkflow(definition: $d) { name version } }"


class Rig:
    """A seeded app with its scheduler, and demo-agent worker processes on demand."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.procs: list[subprocess.Popen[bytes]] = []

    def agents(self, fail: str = "") -> App:
        self.procs.append(demo_agents(self.app.url, self.app.admin.token or "", fail))
        return self.app

    def stop_agents(self) -> None:
        for p in self.procs:
            stop(p)
        self.procs.clear()


async def _rig(graph: GraphTarget) -> Rig:
    app = await start_app(
        graph,
        fresh_name(),
        scheduler=True,
        route_interval_ms=50,
        workflow_interval_ms=100,
        retry_base_ms=50,
        retry_max_ms=200,
    )
    await seed.load(app.store, SEEDS, now=app.rt.now())
    return Rig(app)


async def _teardown(rig: Rig) -> None:
    # in a thread: the agents drain through this event loop's app (a blocking wait here
    # held them until the 15 s kill, every test)
    await asyncio.to_thread(rig.stop_agents)
    await rig.app.store.drop_all()
    await stop_app(rig.app)


def _shared_scope(fixture_name: str, config: pytest.Config) -> str:
    """Neo4j Community has one database: a fresh graph for a `flow` test wipes it, so the
    shared app cannot outlive a test there."""
    return "function" if config.getoption("--graph-backend") == "neo4j" else "module"


@pytest.fixture(scope=_shared_scope)  # type: ignore[arg-type]
async def shared(graph: GraphTarget) -> AsyncIterator[App]:
    """One app and one healthy agent process for the tests that need no faults."""
    rig = await _rig(graph)
    yield rig.agents()
    await _teardown(rig)


@pytest.fixture
async def flow(graph: GraphTarget) -> AsyncIterator[Rig]:
    """A fresh app per test, for agents with faults."""
    rig = await _rig(graph)
    yield rig
    await _teardown(rig)


async def start(app: App, name: str, **inputs: Any) -> str:
    got = await app.admin(START, n=name, i=inputs)
    return str(got["startWorkflow"]["id"])


async def tasks_of(app: App, run_id: str) -> list[dict[str, Any]]:
    rows = await app.store.execute_text(
        "MATCH (t:Task {runId: $r}) RETURN t.kind AS kind, t.status AS status, t.id AS id, "
        "t.parentId AS parent, t.payload AS payload, t.rounds AS rounds ORDER BY t.createdAt",
        r=run_id,
    )
    return [dict(r) for r in rows]


async def test_sequential_pipeline_feeds_each_step_the_last_ones_output(shared: App) -> None:
    app = shared
    rid = await start(
        app, "compliance-review", system="sys-postgres-payments", control="ctl-pci-dss"
    )
    run = await follow(app.admin, rid)
    assert run["status"] == "done", run
    order = ["evidence", "access_review", "data_handling", "security_scan", "signoff", "report"]
    assert [s["stepId"] for s in run["steps"]] == order
    for before, after in zip(run["steps"], run["steps"][1:], strict=False):
        assert before["endedAt"] <= after["startedAt"], (before, after)  # one at a time
    access = next(t for t in await tasks_of(app, rid) if t["kind"].endswith("access_review"))
    assert json.loads(access["payload"])["evidence"] == step(run, "evidence")["result"]["items"]
    assert step(run, "signoff")["result"]["decision"] == "approved"
    assert run["result"]["complete"] is True
    # the audit trail names every step, in order
    got = await app.admin('{ auditLog(types: ["step.started"], first: 50) { nodes { payload } } }')
    started = [
        e["payload"]["stepId"] for e in got["auditLog"]["nodes"] if e["payload"]["runId"] == rid
    ]
    assert started == order


async def test_parallel_fan_in_merges_contradictions_and_records_the_choice(shared: App) -> None:
    app = shared
    rid = await start(app, "incident-response", service="svc-checkout", incident="inc-2291")
    run = await follow(app.admin, rid)
    assert run["status"] == "done", run
    parallel = [step(run, s) for s in ("root_cause", "impact", "comms", "related")]
    assert max(s["startedAt"] for s in parallel) <= min(s["endedAt"] for s in parallel)
    merged = step(run, "findings")["result"]
    assert merged["rootCause"].startswith("bad deploy")
    assert merged["merge"]["chosenStep"] == "root_cause" and not merged["merge"]["agreed"]
    assert "highest confidence" in merged["merge"]["reason"]
    rows = await app.store.execute_text(
        "MATCH (m:Merge {runId: $r})-[:CHOSE]->(f:Fact) MATCH (m)-[:CONSIDERED]->(o:Fact) "
        "OPTIONAL MATCH (a:Fact)-[c:CONTRADICTS]->(b:Fact) WHERE a IN [f, o] AND b IN [f, o] "
        "RETURN f.value AS chosen, o.value AS other, count(c) AS contradicts",
        r=rid,
    )
    assert rows and json.loads(rows[0]["chosen"]) == merged["rootCause"]  # values are JSON
    assert "(as in INC-" in json.loads(rows[0]["other"]) and rows[0]["contradicts"] == 1
    similar = step(run, "related")["result"]["similar"]  # found by searchContext
    assert similar and all(i.lower().startswith("inc-") for i in similar)  # incidents
    assert step(run, "remediate")["result"]["rolledBack"] is True
    assert run["costUsd"] > 0


async def test_escalate_strategy_lets_a_human_pick_the_finding(shared: App) -> None:
    app = shared
    await app.admin(
        DEFINE,
        d={
            "name": "rc-vote",
            "inputs": ["service"],
            "steps": [
                {
                    "id": "a",
                    "capability": "root_cause",
                    "after": [],
                    "input": {"service": "$input.service"},
                },
                {
                    "id": "b",
                    "capability": "related_incidents",
                    "after": [],
                    "input": {"service": "$input.service"},
                },
                {
                    "id": "pick",
                    "kind": "join",
                    "after": ["a", "b"],
                    "merge": {"key": "rootCause", "strategy": "escalate"},
                },
            ],
        },
    )

    rid = await start(app, "rc-vote", service="svc-checkout")
    asked = await follow(
        app.admin,
        rid,
        decide=None,
        until=lambda r: step(r, "pick")["status"] == "awaiting_approval",
    )
    seconds = step(asked, "b")["result"]["rootCause"]  # related_incidents' finding

    def choose(s: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        return "MODIFY", {"choice": seconds}

    run = await follow(app.admin, rid, decide=choose)
    assert run["status"] == "done", run
    pick = step(run, "pick")["result"]
    assert pick["rootCause"] == seconds and "(as in INC-" in seconds
    assert pick["merge"]["chosenStep"] == "b" and pick["merge"]["decidedBy"] == "admin"


async def test_quorum_join_goes_ahead_and_cancels_the_straggler(shared: App) -> None:
    app = shared
    await app.admin(
        DEFINE,
        d={
            "name": "first-answer",
            "steps": [
                {"id": "fast", "capability": "triage", "after": []},
                {"id": "never", "capability": "reconcile", "after": []},  # nobody runs it
                {"id": "one", "kind": "join", "after": ["fast", "never"], "quorum": 1},
            ],
        },
    )
    run = await follow(app.admin, await start(app, "first-answer"))
    assert run["status"] == "done", run
    assert step(run, "never")["status"] == "skipped"
    assert "not needed" in step(run, "never")["note"]
    t = await app.admin(
        "query($id: ID!) { task(id: $id) { status } }", id=step(run, "never")["taskId"]
    )
    assert t["task"]["status"] == "cancelled"
    assert list(step(run, "one")["result"]["inputs"]) == ["fast"]


async def test_supervisor_delegates_reviews_and_is_accountable(shared: App) -> None:
    app = shared
    rid = await start(app, "customer-onboarding", customer="cust-acme", plan="enterprise")
    run = await follow(app.admin, rid)
    assert run["status"] == "done", run
    assert run["accountable"] == "agent-supervisor"
    quality = step(run, "quality")["result"]
    assert quality["sentBack"] == 1 and quality["approved"] is True
    sub = next(t for t in await tasks_of(app, rid) if t["kind"] == "onboarding.training-review")
    assert sub["parent"] == step(run, "quality")["taskId"] and sub["rounds"] == 1
    got = await app.admin(
        "query($id: ID!) { task(id: $id) { feedback review result } }", id=sub["id"]
    )
    assert got["task"]["review"] == "accepted" and "SSO" in got["task"]["feedback"]
    assert "SSO set-up" in got["task"]["result"]["material"]


async def test_failed_step_is_compensated_and_the_run_fails_cleanly(flow: Rig) -> None:
    app = flow.agents(fail="provision")
    rid = await start(app, "customer-onboarding", customer="cust-globex", plan="standard")
    run = await follow(app.admin, rid)
    assert run["status"] == "failed"
    assert step(run, "provision")["status"] == "failed"
    assert step(run, "deprovision")["status"] == "done"
    assert step(run, "deprovision")["result"]["deprovisioned"] is True
    assert "compensated by deprovision" in run["error"]
    assert step(run, "quality")["status"] == "cancelled"


async def test_skip_policy_records_the_failure_and_carries_on(flow: Rig) -> None:
    app = flow.agents(fail="scan")
    rid = await start(app, "compliance-review", system="svc-auth", control="ctl-gdpr")
    run = await follow(app.admin, rid)
    assert run["status"] == "done", run
    scan = step(run, "security_scan")
    assert scan["status"] == "skipped" and "demo fault" in scan["note"]


async def test_failed_run_retries_from_where_it_stopped(flow: Rig) -> None:
    app = flow.agents(fail="business_impact")
    rid = await start(app, "incident-response", service="svc-checkout", incident="inc-9")
    run = await follow(app.admin, rid)
    assert run["status"] == "failed" and "impact" in run["error"]
    # Task steps that were done (a join may be done too when its quorum came in before the
    # failure; it has no task to compare).
    kept = {s["stepId"]: s["taskId"] for s in run["steps"] if s["status"] == "done" and s["taskId"]}
    assert "triage" in kept
    await asyncio.to_thread(flow.stop_agents)
    flow.agents()  # the fault is fixed
    got = await app.admin("mutation($id: ID!) { retryRun(id: $id) { status } }", id=rid)
    assert got["retryRun"]["status"] == "running"
    run = await follow(app.admin, rid)
    assert run["status"] == "done", run
    for sid, tid in kept.items():  # done steps were never run again
        assert step(run, sid)["taskId"] == tid and step(run, sid)["attempt"] == 1
    assert run["retries"] == 1 and step(run, "impact")["attempt"] == 2


async def test_cancel_run_cancels_its_live_tasks(shared: App) -> None:
    app = shared
    await app.admin(
        DEFINE, d={"name": "stuck", "steps": [{"id": "wait", "capability": "reconcile"}]}
    )
    rid = await start(app, "stuck")
    run = await follow(app.admin, rid, until=lambda r: step(r, "wait")["status"] == "running")
    got = await app.admin(
        'mutation($id: ID!) { cancelRun(id: $id, reason: "no longer needed") '
        "{ status steps { status } } }",
        id=rid,
    )
    assert got["cancelRun"]["status"] == "cancelled"
    assert got["cancelRun"]["steps"] == [{"status": "cancelled"}]
    t = await app.admin(
        "query($id: ID!) { task(id: $id) { status } }", id=step(run, "wait")["taskId"]
    )
    assert t["task"]["status"] == "cancelled"
    codes = await app.admin.fails("mutation($id: ID!) { cancelRun(id: $id) { status } }", id=rid)
    assert codes == ["CONFLICT"]


async def test_run_updates_stream_progress(shared: App) -> None:
    from tests.support.gql import subscribe

    app = shared
    await app.admin(
        DEFINE,
        d={
            "name": "two",
            "steps": [{"id": "x", "capability": "triage"}, {"id": "y", "capability": "notify"}],
        },
    )
    rid = await start(app, "two")
    seen: list[tuple[str, str | None]] = []
    query = (
        "subscription($r: String!) { runUpdates(runId: $r, after: 0) "
        "{ type stepId status run { status } } }"
    )
    async with subscribe(app.url, app.admin.token, query, {"r": rid}) as queue:
        while not seen or seen[-1][0] != "run.completed":
            u = (await asyncio.wait_for(queue.get(), 30))["data"]["runUpdates"]
            seen.append((u["type"], u["stepId"]))
    assert seen == [
        ("run.started", None),
        ("step.started", "x"),
        ("step.done", "x"),
        ("step.started", "y"),
        ("step.done", "y"),
        ("run.completed", None),
    ]


async def test_unknown_workflow_and_missing_input_are_coded(shared: App) -> None:
    app = shared
    assert await app.admin.fails(START, n="nope", i={}) == ["NOT_FOUND"]
    body = await app.admin.raw(START, {"n": "incident-response", "i": {"service": "svc-web"}})
    err = body["errors"][0]
    assert err["extensions"]["code"] == "BAD_INPUT" and "incident" in err["message"]
    got = await app.admin('{ runs(workflow: "incident-response", first: 50) { nodes { input } } }')
    assert {"service": "svc-web"} not in [r["input"] for r in got["runs"]["nodes"]]


async def test_run_query_shape(shared: App) -> None:
    app = shared
    rid = await start(app, "security-review", deployment="dep-auth-88")
    run = await follow(app.admin, rid)
    full = (await app.admin(RUN, id=rid))["run"]
    assert full == run and run["status"] == "done"
    wf = await app.admin("{ workflows { name version triggers runs } }")
    sec = next(w for w in wf["workflows"] if w["name"] == "security-review")
    assert sec == {
        "name": "security-review",
        "version": 1,
        "triggers": ["deployment.created"],
        "runs": 1,
    }
