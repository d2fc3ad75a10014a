"""Which scheduler job a change wakes: the one place that decides it.

Every job also runs on its interval, so a wake-up only makes work start sooner (a task reaches
its agent within one round trip instead of one routing interval); a missed one costs latency,
an extra one a job run. The adapters pass these names to the runtime's ``wake``, which runs the
job now if the scheduler runs in this process.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.models import Task

ROUTE = "route"  # queued work: push routing (app.scheduler.route)
WORKFLOWS = "workflows"  # workflow runs: start ready steps, settle ended ones
TRIGGERS = "triggers"  # new events: start the runs whose triggers match

Jobs = tuple[str, ...]


def after_submit(tasks: Sequence[Task]) -> Jobs:
    """New tasks: routing, if any of them is queued (merged and deferred ones wait)."""
    return (ROUTE,) if any(t.status == "queued" for t in tasks) else ()


def after_finish(task: Task) -> Jobs:
    """A reported outcome: routing when it went back to the queue (a retry), else the engine
    when the task is a workflow step (the run may move on)."""
    if task.status == "queued":
        return (ROUTE,)
    return (WORKFLOWS,) if task.run_id else ()


def after_review(accepted: bool) -> Jobs:
    """A supervisor's review: a sub-task sent back is queued again."""
    return () if accepted else (ROUTE,)


def after_requeue() -> Jobs:
    """A dead-lettered task put back in the queue."""
    return (ROUTE,)


def after_budget() -> Jobs:
    """A budget set or raised: work it held back may route now."""
    return (ROUTE,)


def after_run_change() -> Jobs:
    """A run started or retried: the engine starts its ready steps."""
    return (WORKFLOWS,)


def after_steps_started(started: int) -> Jobs:
    """The engine started steps: their tasks are queued."""
    return (ROUTE,) if started else ()


def after_runs_triggered(started: int) -> Jobs:
    """Triggers started runs: the engine starts their first steps."""
    return (WORKFLOWS,) if started else ()


def after_event(duplicate: bool) -> Jobs:
    """An event from outside (a webhook): triggers may start runs from it (not again for a
    duplicate delivery)."""
    return () if duplicate else (TRIGGERS,)
