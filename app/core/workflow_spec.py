"""Workflow definitions as data: the YAML/JSON shape, its validation, input mapping, trigger
conditions and the fan-in merge strategies. Pure functions, no graph access, so the rules
can be read (and tested) in one place.

A definition names steps by id; each step depends on the steps in ``after`` (default: the
step before it, so a plain list is a sequential pipeline; ``after: []`` starts at once).
Step kinds:
- ``task``: one task for a capability (never an agent); its result is the step's output;
- ``join``: waits for its ``after`` steps (all, a ``quorum``, or until ``timeoutMs``) and
  merges contradictory findings by ``merge.strategy``;
- ``approval``: a human checkpoint through the inbox;
- ``supervisor``: one task for a supervisor agent, who creates sub-tasks (``CHILD_OF``) and
  reviews them (accept / send back, at most ``maxRounds``) before producing the result.

Evaluating a definition at run time (input mapping, conditions, merge) is
``app.core.workflow_eval``, re-exported here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from app.core.workflow_eval import Finding, Merged, lookup, matches, merge, resolve
from app.models import CamelInput

STEP_ID = r"^[a-z][a-z0-9_]{0,63}$"
NAME = r"^[a-z][a-z0-9_.\-]{0,63}$"
CAPABILITY = r"^[a-z][a-z0-9_.:\-]{0,63}$"
EVENT_TYPE = r"^[a-z][a-z0-9_.\-]{0,99}$"
APPROVAL_CAPABILITY = "workflow.approval"  # the engine's own agent holds approval tasks
Kind = Literal["task", "join", "approval", "supervisor"]
Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "contains"]


class WorkflowError(ValueError):
    """A definition that cannot run, with the step and field it is about."""

    def __init__(self, message: str, *, step: str | None = None, field: str | None = None):
        where = ".".join(x for x in (f"steps[{step}]" if step else None, field) if x)
        super().__init__(f"{where}: {message}" if where else message)
        self.step, self.field = step, field


class OnFailure(CamelInput):
    """What a step's final failure does to the run."""

    action: Literal["retry", "skip", "compensate", "fail"] = "fail"
    retries: int = Field(default=0, ge=0, le=10)  # extra attempts of the step's task
    step: str | None = Field(default=None, pattern=STEP_ID)  # compensation step


class MergeSpec(CamelInput):
    """How a join reconciles its inputs' findings under ``key``."""

    key: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    strategy: Literal["highest_confidence", "majority", "escalate"] = "highest_confidence"


class StepSpec(CamelInput):
    id: str = Field(pattern=STEP_ID)
    kind: Kind = "task"
    capability: str | None = Field(default=None, pattern=CAPABILITY)
    after: list[str] | None = Field(default=None, max_length=50)
    input: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=50, ge=0, le=100)
    timeout_ms: int | None = Field(default=None, ge=100)
    on_failure: OnFailure = Field(default_factory=OnFailure)
    compensation: bool = False  # runs only as another step's compensation
    quorum: int | None = Field(default=None, ge=1)
    merge: MergeSpec | None = None
    summary: str | None = Field(default=None, max_length=2_000)
    approvers: list[str] | None = Field(default=None, max_length=20)
    # an approval step is decided by its approvers (or an admin) only; with autoApprove the
    # approval policies' thresholds and onExpiry may settle it, as for agent proposals
    auto_approve: bool = False
    max_rounds: int = Field(default=3, ge=1, le=10)


class Condition(CamelInput):
    """A declared test on an event, evaluated without ``eval``: exactly one of ``all``,
    ``any``, ``not`` or ``field`` + ``op`` (+ ``value``)."""

    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    field: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.]{1,200}$")
    op: Op | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            self.all is not None,
            self.any is not None,
            self.not_ is not None,
            self.field is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("a condition is exactly one of all, any, not, field")
        if self.field is not None and self.op is None:
            raise ValueError("a field condition needs an op")
        return self


class TriggerSpec(CamelInput):
    event: str = Field(pattern=EVENT_TYPE)
    when: Condition | None = None
    input: dict[str, Any] = Field(default_factory=dict)  # "$event.payload.x" mappings


class WorkflowSpec(CamelInput):
    name: str = Field(pattern=NAME)
    description: str = Field(default="", max_length=4_000)
    pattern: Literal["sequential", "parallel", "hierarchical", "mixed"] = "sequential"
    inputs: list[str] = Field(default_factory=list, max_length=50)
    budget_usd: float | None = Field(default=None, ge=0)
    deadline_ms: int | None = Field(default=None, ge=1_000)
    steps: list[StepSpec] = Field(min_length=1, max_length=50)
    triggers: list[TriggerSpec] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _sound(self) -> WorkflowSpec:
        check(self)
        return self

    def step(self, step_id: str) -> StepSpec:
        return next(s for s in self.steps if s.id == step_id)

    def deps(self) -> dict[str, list[str]]:
        """Each step's prerequisites (compensation steps have none: they are started)."""
        out: dict[str, list[str]] = {}
        prev: str | None = None
        for s in self.steps:
            if s.compensation:
                out[s.id] = []
                continue
            out[s.id] = list(s.after) if s.after is not None else ([prev] if prev else [])
            prev = s.id
        return out


def check(spec: WorkflowSpec, capabilities: set[str] | None = None) -> None:
    """Everything a definition must satisfy; raises WorkflowError naming step and field."""
    seen: set[str] = set()
    for s in spec.steps:
        if s.id in seen:
            raise WorkflowError(f"duplicate step id {s.id!r}", step=s.id, field="id")
        seen.add(s.id)
    deps = spec.deps()
    for s in spec.steps:
        for d in deps[s.id]:
            if d not in seen:
                raise WorkflowError(f"unknown step {d!r}", step=s.id, field="after")
            if d == s.id:
                raise WorkflowError("a step cannot wait for itself", step=s.id, field="after")
            if spec.step(d).compensation:
                raise WorkflowError(f"{d!r} is a compensation step", step=s.id, field="after")
        if s.kind in ("task", "supervisor") and not s.capability:
            raise WorkflowError(
                f"a {s.kind} step needs a capability", step=s.id, field="capability"
            )
        if capabilities is not None and s.capability and s.capability not in capabilities:
            raise WorkflowError(
                f"unknown capability {s.capability!r} (no agent has it)",
                step=s.id,
                field="capability",
            )
        if s.kind == "join":
            if len(deps[s.id]) < 2:
                raise WorkflowError(
                    "a join needs at least two steps in after", step=s.id, field="after"
                )
            if s.quorum is not None and s.quorum > len(deps[s.id]):
                raise WorkflowError(
                    "quorum is larger than the steps joined", step=s.id, field="quorum"
                )
        elif s.quorum is not None or s.merge is not None:
            raise WorkflowError(
                "quorum and merge belong to join steps",
                step=s.id,
                field="merge" if s.merge else "quorum",
            )
        f = s.on_failure
        if f.action == "compensate":
            if f.step is None or f.step not in seen:
                raise WorkflowError(
                    f"compensation step {f.step!r} does not exist",
                    step=s.id,
                    field="onFailure.step",
                )
            if not spec.step(f.step).compensation:
                raise WorkflowError(
                    f"step {f.step!r} must be declared compensation: true",
                    step=s.id,
                    field="onFailure.step",
                )
        for key, expr in s.input.items():
            _check_ref(spec, s.id, key, expr, deps)
    _no_cycle(deps)
    if all(s.compensation for s in spec.steps):
        raise WorkflowError("no step to run (all are compensation steps)", field="steps")


def _check_ref(
    spec: WorkflowSpec, step: str, key: str, expr: Any, deps: dict[str, list[str]]
) -> None:
    """An input that names an earlier step must name one this step (transitively) waits for,
    and a ``$input.x`` must be a declared input."""
    if not isinstance(expr, str) or not expr.startswith("$"):
        return
    head, _, rest = expr[1:].partition(".")
    if head == "steps":
        ref = rest.split(".", 1)[0]
        if ref not in _ancestors(step, deps) and not spec.step(step).compensation:
            raise WorkflowError(
                f"{expr!r}: step {ref!r} does not run before this one",
                step=step,
                field=f"input.{key}",
            )
    elif head == "input":
        name = rest.split(".", 1)[0]
        if name not in spec.inputs:
            raise WorkflowError(
                f"{expr!r}: missing input {name!r} (declare it in inputs)",
                step=step,
                field=f"input.{key}",
            )
    elif head not in ("run", "trigger"):
        raise WorkflowError(
            f"{expr!r}: references start with $input, $steps, $trigger or $run",
            step=step,
            field=f"input.{key}",
        )


def _ancestors(step: str, deps: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    todo = list(deps.get(step, []))
    while todo:
        d = todo.pop()
        if d not in out:
            out.add(d)
            todo += deps.get(d, [])
    return out


def _no_cycle(deps: dict[str, list[str]]) -> None:
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            loop = " -> ".join([*path[path.index(n) :], n])
            raise WorkflowError(f"cycle: {loop}", step=n, field="after")
        state[n] = 1
        for d in deps[n]:
            visit(d, [*path, n])
        state[n] = 2

    for n in deps:
        visit(n, [])


def parse(data: Any) -> WorkflowSpec:
    """A definition from parsed YAML/JSON, or WorkflowError naming step and field."""
    if not isinstance(data, dict):
        raise WorkflowError("a workflow definition is a mapping")
    try:
        return WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        step = None
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            steps = data.get("steps") or []
            raw = steps[loc[1]] if loc[1] < len(steps) else None
            step = raw.get("id") if isinstance(raw, dict) else None
            step = str(step) if step is not None else f"#{loc[1]}"
            loc = loc[2:]
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, WorkflowError):
            raise cause from None
        field = ".".join(str(x) for x in loc) or None
        raise WorkflowError(err["msg"], step=step, field=field) from None


__all__ = [
    "APPROVAL_CAPABILITY",
    "Condition",
    "Finding",
    "MergeSpec",
    "Merged",
    "OnFailure",
    "StepSpec",
    "TriggerSpec",
    "WorkflowError",
    "WorkflowSpec",
    "check",
    "lookup",
    "matches",
    "merge",
    "parse",
    "resolve",
]
