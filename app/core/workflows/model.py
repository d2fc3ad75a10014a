"""What a workflow and a run are, as read back from the graph: the dataclasses every part of
the workflows package passes around, and the run-id rules shared by clients and the engine."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import BadInput
from app.core.workflow_spec import WorkflowSpec, parse
from app.models import ID_PATTERN

RUN_ID = re.compile(ID_PATTERN)
TRIGGER_RUN_PREFIX = "run-"  # run-<hmac>: trigger runs (app.core.triggers.run_id_for)
RESERVED_RUN_PREFIXES = (TRIGGER_RUN_PREFIX, "run_")  # run_<id>: runs the engine names


def check_client_run_id(run_id: str) -> None:
    """A client's own run id: well formed and outside the engine's namespace, or BAD_INPUT."""
    if not RUN_ID.match(run_id):
        raise BadInput("runId: 1-128 characters of letters, digits and _.:-", field="runId")
    if run_id.startswith(RESERVED_RUN_PREFIXES):
        raise BadInput(
            f"runId prefixes {', '.join(RESERVED_RUN_PREFIXES)} are reserved for the engine",
            field="runId",
        )


ENGINE = "baton"  # the engine's own agent: holds approval tasks so proposals can stand on them
OK = ("done", "skipped")
ENDED = ("done", "skipped", "failed", "cancelled")
TASK_FAILED = ("failed", "dead", "cancelled", "merged")


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) and raw else None


@dataclass
class Workflow:
    id: str
    name: str
    version: int
    description: str
    pattern: str
    definition: dict[str, Any]
    hash: str
    created_at: int
    triggers: list[str] = field(default_factory=list)
    runs: int = 0

    @classmethod
    def of(cls, w: dict[str, Any], triggers: list[str] | None = None, runs: int = 0) -> Workflow:
        return cls(
            id=w["id"],
            name=w["name"],
            version=int(w["version"]),
            description=w.get("description") or "",
            pattern=w.get("pattern") or "sequential",
            definition=json.loads(w["definition"]),
            hash=w["hash"],
            created_at=int(w["createdAt"]),
            triggers=sorted(triggers or []),
            runs=runs,
        )

    @property
    def spec(self) -> WorkflowSpec:
        return parse(self.definition)


@dataclass
class Step:
    step_id: str
    kind: str
    status: str
    deps: list[str]
    attempt: int = 0
    task_id: str | None = None
    proposal_id: str | None = None
    result: Any = None
    note: str | None = None
    started_at: int | None = None
    ended_at: int | None = None
    task_status: str | None = None
    task_result: Any = None
    task_agent: str | None = None
    task_fence: int = 0
    task_error: str | None = None
    task_cost: float = 0.0
    proposal_status: str | None = None
    proposal_payload: dict[str, Any] | None = None
    proposal_modified: dict[str, Any] | None = None
    decided_by: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Step:
        s = row["step"]
        errors = row.get("taskErrors") or []
        last = _json(errors[-1]) if errors else None
        return cls(
            step_id=s["stepId"],
            kind=s["kind"],
            status=s["status"],
            deps=list(s.get("deps") or []),
            attempt=int(s.get("attempt") or 0),
            task_id=s.get("taskId"),
            proposal_id=s.get("proposalId"),
            result=_json(s.get("result")),
            note=s.get("note"),
            started_at=s.get("startedAt"),
            ended_at=s.get("endedAt"),
            task_status=row.get("taskStatus"),
            task_result=_json(row.get("taskResult")),
            task_agent=row.get("taskAgent"),
            task_fence=int(row.get("taskFence") or 0),
            task_error=(last or {}).get("error") if isinstance(last, dict) else None,
            task_cost=float(row.get("taskCost") or 0.0),
            proposal_status=row.get("proposalStatus"),
            proposal_payload=_json(row.get("proposalPayload")),
            proposal_modified=_json(row.get("proposalModified")),
            decided_by=row.get("decidedBy"),
            reason=row.get("reason"),
        )


@dataclass
class Run:
    id: str
    workflow: str
    version: int
    workflow_id: str
    status: str
    input: dict[str, Any] | None  # None: hidden from this reader (runs/state_for)
    trigger: dict[str, Any] | None
    started_at: int
    started_by: str | None
    accountable: str | None
    definition: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    ended_at: int | None = None
    deadline: int | None = None
    budget_usd: float | None = None
    result: Any = None
    error: str | None = None
    trace_id: str | None = None
    trigger_id: str | None = None
    parent_run_id: str | None = None
    retries: int = 0
    steps_loaded: bool = False  # read with its steps (runs/state, runs/state_for)

    @classmethod
    def of(
        cls,
        r: dict[str, Any],
        definition: str | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> Run:
        return cls(
            steps_loaded=steps is not None,
            id=r["id"],
            workflow=r["workflow"],
            version=int(r["version"]),
            workflow_id=r["workflowId"],
            status=r["status"],
            input=_json(r.get("input")),
            trigger=_json(r.get("trigger")),
            started_at=int(r["startedAt"]),
            started_by=r.get("startedBy"),
            accountable=r.get("accountable"),
            definition=_json(definition) or {},
            steps=[Step.of(s) for s in steps or []],
            ended_at=r.get("endedAt"),
            deadline=r.get("deadline"),
            budget_usd=r.get("budgetUsd"),
            result=_json(r.get("result")),
            error=r.get("error"),
            trace_id=r.get("traceId"),
            trigger_id=r.get("triggerId"),
            parent_run_id=r.get("parentRunId"),
            retries=int(r.get("retries") or 0),
        )

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.step_id == step_id)


# --- definitions --------------------------------------------------------------------------
