"""Batched reads: one statement for many rows, so a page of N objects costs one round trip per
field instead of N (the API's DataLoaders call these, one batch per event-loop tick).

Each batched read answers exactly what its single-row read answers for each id, under the same
grants, so a field reads the same whether it was batched or not.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core import task_reads
from app.core.context import Reader
from app.core.workflows import Run
from app.graph import GraphStore
from app.graph.queries import q
from app.models import Task

GET_MANY_FOR = q("tasks/get_many_for")
RUNS_FOR = q("runs/state_many_for")


async def tasks_for(store: GraphStore, reader: Reader, ids: Sequence[str]) -> dict[str, Task]:
    """The tasks ``ids`` as ``reader`` may see them (:func:`app.core.tasks.get_for` for many):
    by id, without the ids that name no task."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = await store.read(GET_MANY_FOR, ids=wanted, **reader.params())
    # the row mapping is tasks/get_for's own (one row at a time), so both read the same
    # (it moves into app/core/task_reads.py with this function when that module is free)
    found = (task_reads._with_history([row]) for row in rows)
    return {t.id: t for t in found if t is not None}


async def runs_for(store: GraphStore, reader: Reader, ids: Sequence[str]) -> dict[str, Run]:
    """The runs ``ids`` with their steps as ``reader`` may see them
    (:func:`app.core.workflows.get_run_for` for many): by id, without unknown ids."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = await store.read(RUNS_FOR, ids=wanted, **reader.params())
    found = (Run.of(r["run"], r["definition"], r["steps"]) for r in rows)
    return {run.id: run for run in found}
