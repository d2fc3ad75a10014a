"""Issue 21 finding 5, "Demos show wrong numbers": what a finished run says about its steps
must agree with its tasks and its trace.

Checked for every finished run here and by the showcase tests in test_demos.py with
``tests.support.numbers.numbers_agree``: no step of a finished run is still ``waiting`` (an
unused compensation step is ``skipped``), a step is done exactly when its task is, a step's
duration covers its task's, and spans lie inside their run, step and task spans.

The engine cases are driven step by step on a manual clock (real app, real graph, a real
agent over GraphQL), so the races behind the wrong numbers happen every time: the scheduler's
clock reading is older than a task's end it sees (one reading for a long job), and a task
finishes between the engine's read of the run and its stopping the step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from app.core import workflows
from app.core.clock import ManualClock
from app.core.workflow_spec import parse
from app.demo.run import Stack
from tests.conftest import ADMIN_TOKEN, App
from tests.support.coord import COMPLETE, FAIL, TASK, agent, route
from tests.support.numbers import RUN, TRACE, numbers_agree

DEFINE = "mutation($d: JSON) { defineWorkflow(definition: $d) { name version } }"
START = "mutation($n: String!) { startWorkflow(name: $n, input: {}) { id } }"
LEASE_MS = 30_000

# Two parallel steps (the second compensated by `undo`), joined.
FLOW = {
    "name": "demo-numbers",
    "steps": [
        {"id": "a", "capability": "diagnose", "after": []},
        {
            "id": "b",
            "capability": "diagnose",
            "after": [],
            "onFailure": {"action": "compensate", "step": "undo"},
        },
        {"id": "both", "kind": "join", "after": ["a", "b"]},
        {"id": "undo", "capability": "diagnose", "compensation": True},
    ],
}


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


async def _compensate(
    app: App, worker: Any, clock: ManualClock, rid: str, steps: dict[str, dict[str, Any]]
) -> None:
    """`undo` runs (and nothing else), then the run fails cleanly and its numbers agree."""
    assert steps["undo"]["status"] == "running", steps
    await route(app)
    clock.advance(1_000)
    await _complete(app, worker, steps["undo"]["taskId"])
    await workflows.advance(app.store, rid, now=clock.now(), lease_ms=LEASE_MS)
    run, spans = await run_and_trace(app, rid)
    assert run["status"] == "failed" and "compensated by undo" in run["error"], run
    assert {s["stepId"]: s["status"] for s in run["steps"]} == {
        "a": "done",
        "b": "failed",
        "both": "cancelled",
        "undo": "done",
    }
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
    flow = {
        "name": "demo-quorum",
        "steps": [
            {"id": "a", "capability": "diagnose", "after": []},
            {"id": "b", "capability": "diagnose", "after": []},
            {"id": "both", "kind": "join", "after": ["a", "b"], "quorum": 1},
        ],
    }
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


# --- the demo runner's temporary directory ------------------------------------------------


def test_the_demo_stack_removes_its_directory_unless_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`baton demo` removes its temporary directory (graph, logs) unless kept (the showcase
    tests in test_demos.py check the default end to end)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kept = Stack("http://127.0.0.1:9", ADMIN_TOKEN, keep=tmp_path / "kept")
    gone = Stack("http://127.0.0.1:9", ADMIN_TOKEN)
    for stack in (kept, gone):
        (stack.tmp / "agents.log").write_text("x")
        stack.close()
    assert kept.tmp.is_dir() and not gone.tmp.exists()
    assert gone.tmp.parent == tmp_path
