"""Workflow runs as graph state: define, start, advance, cancel, retry.

A run is a ``Run`` node with one ``Step`` node per step; everything the engine knows is read
back from the graph on each :func:`advance`, so any replica (or the same one after a crash)
continues exactly where the last one stopped. Each transition is one conditional statement
(``cypher/runs/``) that re-checks the step's status, so two advancers never both act, and
a step's task is submitted with ``dedupKey run:<run>:<step>:<attempt>``: a crash between
making the task and marking the step started makes the same task again, never a second.

The package: ``model`` (Workflow, Run, Step), ``definitions``, ``runs`` (start, read,
cancel, retry), ``steps`` (the engine's writes on one step) and ``engine`` (Engine,
advance, advance_all). Callers import everything from here.
"""

from app.core.workflows.definitions import (
    capabilities,
    define,
    definition,
    get_workflow,
    list_workflows,
)
from app.core.workflows.engine import Engine, advance, advance_all
from app.core.workflows.model import (
    ENDED,
    ENGINE,
    OK,
    RESERVED_RUN_PREFIXES,
    RUN_ID,
    TASK_FAILED,
    TRIGGER_RUN_PREFIX,
    Run,
    Step,
    Workflow,
    check_client_run_id,
)
from app.core.workflows.runs import (
    active_runs,
    cancel,
    check_input,
    get_run,
    get_run_for,
    list_runs,
    retry,
    start,
)

__all__ = [
    "ENDED",
    "ENGINE",
    "OK",
    "RESERVED_RUN_PREFIXES",
    "RUN_ID",
    "TASK_FAILED",
    "TRIGGER_RUN_PREFIX",
    "Engine",
    "Run",
    "Step",
    "Workflow",
    "active_runs",
    "advance",
    "advance_all",
    "cancel",
    "capabilities",
    "check_client_run_id",
    "check_input",
    "define",
    "definition",
    "get_run",
    "get_run_for",
    "get_workflow",
    "list_runs",
    "list_workflows",
    "retry",
    "start",
]
