"""What a finished run says about its steps must agree with its tasks and its trace (issue 21
finding 5, "Demos show wrong numbers"), checked by :func:`numbers_agree`:

- no step of a finished run is still ``waiting`` (a compensation step that never ran is
  ``skipped``: not needed);
- a step is done exactly when its task is done (a step whose task finished keeps its outcome);
- a step's duration covers its task's, so no step shows ``0 ms`` while its task took seconds;
- every span lies inside its parent when the parent is the run, a step or a task (tasks in
  their steps, sub-tasks in their task, steps in the run, a task's decisions in the task),
  except a supervisor's ``review`` of a sub-task: its decision after the sub-task ended.
"""

from __future__ import annotations

from typing import Any

RUN = """query($id: ID!) { run(id: $id) { id status error
  steps { stepId kind status taskId note startedAt endedAt } } }"""
TRACE = """query($id: ID!) { trace(runId: $id) { spans { spanId parentSpanId name kind taskId
  status startedAt endedAt } } }"""


def numbers_agree(run: dict[str, Any], spans: list[dict[str, Any]]) -> None:
    """The run's steps, their tasks and the trace tell one story (the module doc says how);
    the failure lists every disagreement."""
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
        if parent is None or not _holds(parent) or s["name"].startswith("review "):
            continue
        what = (
            f"{s['name']} [{s['startedAt']}, {s['endedAt']}] in {parent['name']} "
            f"[{parent['startedAt']}, {parent['endedAt']}]"
        )
        if parent["endedAt"] is None or s["endedAt"] is None:
            wrong.append(f"never ended: {what}")
        elif not parent["startedAt"] <= s["startedAt"] <= s["endedAt"] <= parent["endedAt"]:
            wrong.append(f"outside its parent: {what}")
    assert not wrong, "\n".join(wrong)


def _holds(span: dict[str, Any]) -> bool:
    """The spans whose children must lie inside them: the run, its steps and its tasks (a
    decision's own consequences, e.g. the approval of a proposal, come after the decision)."""
    return span["kind"] == "task" or span["name"].startswith(("run ", "step "))
