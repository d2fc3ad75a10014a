"""Task reads: one task (with its attempts, merge and deferral) or a page, raw or as a
reader may see it, and the queue depths the metrics show. Split from app.core.tasks, which
re-exports them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.core.context import Reader
from app.graph import GraphStore
from app.graph.queries import q
from app.models import TERMINAL, Attempt, Task

GET = q("tasks/get")
PROPS = q("tasks/props")
LIST = q("tasks/list")
GET_FOR = q("tasks/get_for")
LIST_FOR = q("tasks/list_for")
QUEUE_DEPTHS = q("tasks/queue_depths")


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) and raw else None


def as_task(props: dict[str, Any], **extra: Any) -> Task:
    """A task node's properties (JSON strings decoded) as the ``Task`` model."""
    data = dict(props)
    data["hidden"] = bool(props.get("_hidden"))
    data["payload"] = _json(props.get("payload")) or {}
    data["result"] = _json(props.get("result"))
    data["errors"] = [_json(e) if isinstance(e, str) else e for e in props.get("errors") or []]
    return Task.model_validate({**data, **extra})


def _with_history(rows: list[dict[str, Any]]) -> Task | None:
    """A task row with its attempts, merge and deferral (tasks/get and tasks/get_for)."""
    if not rows:
        return None
    row = rows[0]
    return as_task(
        row["task"],
        history=[Attempt.model_validate(h) for h in row["history"] or []],
        **_relations(row),
    )


def _relations(row: dict[str, Any]) -> dict[str, Any]:
    """The merge and deferral columns every full task read returns (get, get_for, list,
    list_for), so ``task(id)`` and ``tasks`` answer the same."""
    return {
        "merged_into": row.get("mergedInto"),
        "deferred_behind": sorted(set(row.get("deferredBehind") or [])),
        "relations_loaded": True,
    }


async def get(store: GraphStore, task_id: str) -> Task | None:
    return _with_history(await store.read(GET, id=task_id))


async def props(store: GraphStore, task_id: str) -> Task | None:
    """The task without its history: one index lookup, for hot paths."""
    rows = await store.read(PROPS, id=task_id)
    return as_task(rows[0]["task"]) if rows else None


async def page(
    store: GraphStore,
    after: str,
    limit: int,
    *,
    status: str | None = None,
    capability: str | None = None,
    agent_id: str | None = None,
) -> list[Task]:
    rows = await store.read(
        LIST, after=after, limit=limit, status=status, capability=capability, agentId=agent_id
    )
    return [as_task(r["task"], **_relations(r)) for r in rows]


async def get_for(store: GraphStore, reader: Reader, task_id: str) -> Task | None:
    """One task as ``reader`` may see it (payload, result and errors hidden unless readable)."""
    return _with_history(await store.read(GET_FOR, id=task_id, **reader.params()))


async def page_for(
    store: GraphStore,
    reader: Reader,
    after: str,
    limit: int,
    *,
    status: str | None = None,
    capability: str | None = None,
    agent_id: str | None = None,
) -> list[Task]:
    """Tasks by id as ``reader`` may see them (see :func:`get_for`)."""
    rows = await store.read(
        LIST_FOR,
        after=after,
        limit=limit,
        status=status,
        capability=capability,
        agentFilter=agent_id,
        **reader.params(),
    )
    return [as_task(r["task"], **_relations(r)) for r in rows]


@dataclass(frozen=True)
class QueueDepth:
    capability: str
    status: str
    count: int
    oldest: int | None


async def queue_depths(store: GraphStore) -> list[QueueDepth]:
    rows = await store.read(QUEUE_DEPTHS)
    return [QueueDepth(r["capability"], r["status"], int(r["n"]), r["oldest"]) for r in rows]


def is_terminal(status: str) -> bool:
    return status in TERMINAL
