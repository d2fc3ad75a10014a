"""Issue 21 finding 5, "Demos show wrong numbers": what a finished run says about its steps
must agree with its tasks and its trace.

Checked for every finished run here (``numbers_agree``):
- no step of a finished run is still ``waiting`` (a compensation step that never ran is
  ``skipped``: not needed);
- a step's status agrees with its task's outcome (a step whose task is done is done; a
  cancelled or skipped step's task is not done);
- a step's duration covers its task's (the step starts no later and ends no earlier), so a
  step never shows ``0 ms`` while its task took seconds;
- every span lies inside its parent span (tasks inside their steps, sub-tasks inside their
  task, steps inside the run; a supervisor's ``review`` of a sub-task is the supervisor's
  decision after the sub-task ended, so it is left out).

The engine cases are driven step by step on a manual clock (real app, real graph, a real
agent over GraphQL), so the races behind the wrong numbers happen every time: the scheduler's
clock reading is older than a task's end it sees (one reading for a long job), and a task
finishes between the engine's read of the run and its stopping the step. The showcases run
as the real ``baton demo`` CLI against a served app, and leave no temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core import workflows
from app.core.clock import ManualClock
from app.core.workflow_spec import parse
from app.demo.run import Stack
from tests.conftest import ADMIN_TOKEN, App, free_port, fresh_name
from tests.support.coord import COMPLETE, FAIL, TASK, agent, route
from tests.support.graphs import GraphTarget
from tests.support.procs import REPO, Served

RUN = """query($id: ID!) { run(id: $id) { id status error
  steps { stepId kind status taskId note startedAt endedAt } } }"""
TRACE = """query($id: ID!) { trace(runId: $id) { spans { spanId parentSpanId name kind taskId
  status startedAt endedAt } } }"""
DEFINE = "mutation($d: JSON) { defineWorkflow(definition: $d) { name version } }"
START = "mutation($n: String!) { startWorkflow(name: $n, input: {}) { id } }"
LEASE_MS = 30_000

# Two parallel steps (the second compensated by `undo`), joined.
FLOW = {
    "name": "demo-numbers",
    "steps": [
        {"id": "a", "capability": "diagnose", "after": []},
        {"id": "b", "capability": "diagnose", "after": [],
         "onFailure": {"action": "compensate", "step": "undo"}},
        {"id": "both", "kind": "join", "after": ["a", "b"]},
        {"id": "undo", "capability": "diagnose", "compensation": True},
    ],
}  # fmt: skip


def numbers_agree(run: dict[str, Any], spans: list[dict[str, Any]]) -> None:
    """The run's steps, their tasks and the trace tell one story (see the module doc); the
    failure lists every disagreement."""
    wrong: list[str] = []
    if run["status"] not in ("done", "failed", "cancelled"):
        wrong.append(f"run is {run['status']}")
    tasks = {s["taskId"]: s for s in spans if s["kind"] == "task"}
    for st in run["steps"]:
        name, status = st["stepId"], st["status"]
        if status == "waiting":
            wrong.append(f"step {name} still waiting in a {run['status']} run")
        task = tasks.get(st["taskId"]) if st["taskId"] else None
        if task is None:
            continue
        if (task["status"] == "done") != (status == "done"):
            wrong.append(f"step {name} is {status}, its task {task['status']}")
        if st["startedAt"] is None or st["endedAt"] is None or task["endedAt"] is None:
            wrong.append(f"step {name} or its task never ended: {st}, {task}")
            continue
        step_ms = st["endedAt"] - st["startedAt"]
        task_ms = task["endedAt"] - task["startedAt"]
        if step_ms < task_ms:
            wrong.append(f"step {name} took {step_ms} ms, its task {task_ms} ms")
    by_id = {s["spanId"]: s for s in spans}
    for s in spans:
        parent = by_id.get(s["parentSpanId"])
        if parent is None or s["name"].startswith("review "):
            continue
        what = f"{s['name']} [{s['startedAt']}, {s['endedAt']}] in {parent['name']} " \
               f"[{parent['startedAt']}, {parent['endedAt']}]"  # fmt: skip
        if parent["endedAt"] is None or s["endedAt"] is None:
            wrong.append(f"never ended: {what}")
        elif not parent["startedAt"] <= s["startedAt"] <= s["endedAt"] <= parent["endedAt"]:
            wrong.append(f"outside its parent: {what}")
    assert not wrong, "\n".join(wrong)


async def run_and_trace(app: App, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run = (await app.admin(RUN, id=run_id))["run"]
    spans = (await app.admin(TRACE, id=run_id))["trace"]["spans"]
    return dict(run), list(spans)


# --- the engine, step by step ---------------------------------------------------------------


async def _started(app: App) -> tuple[Any, str, dict[str, str]]:
    """The worker agent, a run of FLOW with `a` and `b` started and assigned to the worker,
    and the steps' task ids."""
    worker = await agent(app, "numbers-worker", ["diagnose"], max_concurrency=4)
    await app.admin(DEFINE, d=FLOW)
    rid = (await app.admin(START, n=FLOW["name"]))["startWorkflow"]["id"]
    await workflows.advance(app.store, rid, now=app.rt.now(), lease_ms=LEASE_MS)
    assert await route(app) == 2
    run = (await app.admin(RUN, id=rid))["run"]
    return worker, rid, {s["stepId"]: s["taskId"] for s in run["steps"] if s["taskId"]}


async def _complete(app: App, worker: Any, task_id: str, ok: bool = True) -> None:
    fence = (await app.admin(TASK, id=task_id))["task"]["fence"]
    if ok:
        await worker(COMPLETE, t=task_id, a="numbers-worker", f=fence, r={"ok": True})
    else:
        await worker(FAIL, t=task_id, a="numbers-worker", f=fence, e="broken", retry=False)


async def test_a_step_covers_its_task_when_the_engine_clock_reading_is_old(
    api_clock: tuple[App, ManualClock],
) -> None:
    """The scheduler's job read the clock once, then its passes saw tasks that ended later
    (2.5 s of work): the steps still cover their tasks, and the unused compensation step of
    the successful run is skipped, not left waiting."""
    app, clock = api_clock
    worker, rid, task_of = await _started(app)
    reading = clock.now()  # the job's one clock reading, before the tasks ended
    clock.advance(2_500)
    for sid in ("a", "b"):
        await _complete(app, worker, task_of[sid])
    await workflows.advance(app.store, rid, now=reading, lease_ms=LEASE_MS)
    run, spans = await run_and_trace(app, rid)
    assert run["status"] == "done", run
    undo = next(s for s in run["steps"] if s["stepId"] == "undo")
    assert undo["status"] == "skipped" and "not needed" in undo["note"], undo
    numbers_agree(run, spans)


async def test_a_step_whose_task_finished_keeps_its_outcome_when_the_run_fails(
    api_clock: tuple[App, ManualClock],
) -> None:
    """`b` fails (compensated by `undo`); `a`'s task finishes after the engine read the run
    and before it stops `a` for the failing run: `a` ends done, with its task's result."""
    app, clock = api_clock
    worker, rid, task_of = await _started(app)
    clock.advance(1_000)
    await _complete(app, worker, task_of["b"], ok=False)
    got = await workflows.get_run(app.store, rid)
    assert got is not None
    await workflows.Engine(app.store, got, parse(got.definition), clock.now(), LEASE_MS).step_once()
    stale = await workflows.get_run(app.store, rid)  # b failed; a's task still running
    assert stale is not None and stale.step("b").status == "failed"
    clock.advance(1_000)
    await _complete(app, worker, task_of["a"])  # a's task ends after that read
    eng = workflows.Engine(app.store, stale, parse(stale.definition), clock.now(), LEASE_MS)
    await eng.step_once()  # concludes: stops a, starts the compensation
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    mid = (await app.admin(RUN, id=rid))["run"]
    steps = {s["stepId"]: s for s in mid["steps"]}
    assert steps["a"]["status"] == "done", steps["a"]
    await _compensate(app, worker, clock, rid, steps)


async def _compensate(app: App, worker: Any, clock: ManualClock, rid: str,
                      steps: dict[str, dict[str, Any]]) -> None:  # fmt: skip
    """`undo` runs (and nothing else), then the run fails cleanly and its numbers agree."""
    assert steps["undo"]["status"] == "running", steps
    await route(app)
    clock.advance(1_000)
    await _complete(app, worker, steps["undo"]["taskId"])
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    run, spans = await run_and_trace(app, rid)
    assert run["status"] == "failed" and "compensated by undo" in run["error"], run
    assert {s["stepId"]: s["status"] for s in run["steps"]} == {
        "a": "done", "b": "failed", "both": "cancelled", "undo": "done"}  # fmt: skip
    numbers_agree(run, spans)


async def test_nothing_new_starts_once_a_step_failed(api_clock: tuple[App, ManualClock]) -> None:
    """`a` done and `b` failed: the join after them does not go ahead in the failing run (it
    used to merge, and its successors start, only to be cancelled); `undo` compensates."""
    app, clock = api_clock
    worker, rid, task_of = await _started(app)
    clock.advance(1_000)
    await _complete(app, worker, task_of["a"])
    await _complete(app, worker, task_of["b"], ok=False)
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    steps = {s["stepId"]: s for s in (await app.admin(RUN, id=rid))["run"]["steps"]}
    assert steps["both"]["status"] == "cancelled", steps["both"]
    await _compensate(app, worker, clock, rid, steps)


async def test_a_straggler_that_finished_is_not_skipped_by_the_join(
    api_clock: tuple[App, ManualClock],
) -> None:
    """A quorum join goes ahead; its straggler's task finished after the engine read the run:
    the straggler keeps its outcome (done), it is not skipped."""
    app, clock = api_clock
    worker = await agent(app, "numbers-worker", ["diagnose"], max_concurrency=4)
    flow = {"name": "demo-quorum", "steps": [
        {"id": "a", "capability": "diagnose", "after": []},
        {"id": "b", "capability": "diagnose", "after": []},
        {"id": "both", "kind": "join", "after": ["a", "b"], "quorum": 1}]}  # fmt: skip
    await app.admin(DEFINE, d=flow)
    rid = (await app.admin(START, n=flow["name"]))["startWorkflow"]["id"]
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    await route(app)
    task_of = {s["stepId"]: s["taskId"] for s in (await app.admin(RUN, id=rid))["run"]["steps"]}
    clock.advance(500)
    await _complete(app, worker, task_of["a"])
    got = await workflows.get_run(app.store, rid)
    assert got is not None
    await workflows.Engine(app.store, got, parse(got.definition), clock.now(), LEASE_MS).step_once()
    stale = await workflows.get_run(app.store, rid)  # a done; b's task still running
    assert stale is not None and stale.step("a").status == "done"
    clock.advance(500)
    await _complete(app, worker, task_of["b"])  # b's task ends after that read
    eng = workflows.Engine(app.store, stale, parse(stale.definition), clock.now(), LEASE_MS)
    await eng.step_once()  # the join goes ahead with a; b is no longer needed
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    run, spans = await run_and_trace(app, rid)
    assert run["status"] == "done", run
    assert next(s for s in run["steps"] if s["stepId"] == "b")["status"] == "done"
    numbers_agree(run, spans)


# --- the showcases, as `baton demo` ---------------------------------------------------------


@pytest.fixture(scope="module")
def served(graph: GraphTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("demo-numbers")
    env = {**graph.env(fresh_name()), "BATON_DATA_DIR": str(tmp),
           "BATON_ADMIN_TOKEN": ADMIN_TOKEN, "BATON_ROUTE_INTERVAL_MS": "50",
           "BATON_WORKFLOW_INTERVAL_MS": "100"}  # fmt: skip
    app = Served(env, free_port(), seed=True, log=tmp / "app.log")
    app.wait_healthy()
    yield app
    app.kill()


def _gql(served: Served, query: str, **variables: Any) -> dict[str, Any]:
    got = httpx.post(f"{served.url}/graphql", json={"query": query, "variables": variables},
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                     timeout=30).json()  # fmt: skip
    assert not got.get("errors"), got
    return dict(got["data"])


@pytest.mark.parametrize("fail", ["", "provision"])
def test_onboarding_demo_numbers_agree(served: Served, tmp_path: Path, fail: str) -> None:
    """`baton demo onboarding` (and with `--fail provision`): the run's numbers agree, and
    the demo removed its temporary directory."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TMPDIR": str(tmp_path)}
    args = ["onboarding", "--url", served.url, "--token", ADMIN_TOKEN]
    got = subprocess.run([sys.executable, "-m", "app", "demo", *args,
                          *(["--fail", fail] if fail else [])], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=150)  # fmt: skip
    assert got.returncode == (1 if fail else 0), got.stdout + got.stderr
    found = re.search(r"\brun (run[-_][0-9A-Za-z]+)", got.stdout)
    assert found, got.stdout
    rid = found.group(1)
    run = _gql(served, RUN, id=rid)["run"]
    spans = _gql(served, TRACE, id=rid)["trace"]["spans"]
    numbers_agree(run, spans)
    steps = {s["stepId"]: s["status"] for s in run["steps"]}
    if fail:
        assert steps["provision"] == "failed" and steps["deprovision"] == "done", steps
        assert steps["quality"] == "cancelled", steps
    else:
        assert steps["deprovision"] == "skipped", steps
    assert not list(tmp_path.glob("baton-demo-*")), "the demo left its temporary directory"


def test_the_demo_stack_keeps_its_directory_only_when_asked(served: Served) -> None:
    kept = Stack(served.url, ADMIN_TOKEN, keep=True)
    gone = Stack(served.url, ADMIN_TOKEN)
    for stack in (kept, gone):
        (stack.tmp / "agents.log").write_text("x")
        stack.close()
    try:
        assert kept.tmp.is_dir() and not gone.tmp.exists()
    finally:
        shutil.rmtree(kept.tmp, ignore_errors=True)
