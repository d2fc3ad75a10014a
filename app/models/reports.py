"""Validated inputs of the task lifecycle as the API receives them: submissions from clients,
what agents report (results, failures, reviews) and operators' reasons.

Kept apart from :class:`app.models.TaskIn`, which the workflow engine builds too: the limits
here (payload and result sizes, batch sizes) bound what a *client* may send in one request.
Free text (errors, reasons, feedback) is kept exactly as sent, never stripped.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.models.common import ID_PATTERN, Input, JsonObject
from app.models.inputs import Decision, TaskIn

MAX_JSON = 64_000  # bytes of one JSON argument (payload, result, details)
MAX_COST = 1_000_000  # USD one report may carry
MAX_SUBMIT = 500  # tasks per submitTasks
MAX_BATCH = 1_000  # items per completeTasks, tasks per claimTasks

ErrorText = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=10_000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=False, max_length=2_000)]
DecisionReason = Annotated[str, StringConstraints(strip_whitespace=False, max_length=4_000)]
SpendKey = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=200)]
ModelName = Annotated[str, StringConstraints(strip_whitespace=False, max_length=200)]
Feedback = Annotated[str, StringConstraints(strip_whitespace=False, max_length=10_000)]


def json_within(value: Any, field: str) -> Any:
    """``value`` if its JSON form is at most :data:`MAX_JSON` bytes."""
    if len(json.dumps(value)) > MAX_JSON:
        raise ValueError(f"{field} larger than {MAX_JSON} bytes")
    return value


class SubmittedTaskIn(TaskIn):
    """``submitTask`` from a client: a task whose payload is a JSON object of at most
    :data:`MAX_JSON` bytes (absent: an empty object)."""

    @field_validator("payload", mode="before")
    @classmethod
    def _payload(cls, value: Any) -> Any:
        value = json_within({} if value is None else value, "payload")
        if not isinstance(value, dict):
            raise ValueError("payload must be a JSON object")
        return value


class SubmissionsIn(Input):
    """``submitTasks``: 1 to :data:`MAX_SUBMIT` tasks, each as ``submitTask`` checks it."""

    inputs: list[SubmittedTaskIn] = Field(min_length=1, max_length=MAX_SUBMIT)


class ResultIn(Input):
    """A success an agent reports (``completeTask``): its result and what it cost."""

    result: Any = None
    cost_usd: float = Field(default=0.0, ge=0, le=MAX_COST)

    @field_validator("result")
    @classmethod
    def _result(cls, value: Any) -> Any:
        return json_within(value, "result")


class CompletionIn(ResultIn):
    """One item of ``completeTasks``: a held task (id and fencing token) and its result."""

    task_id: str = Field(pattern=ID_PATTERN)
    fence: int = Field(ge=1)


class CompletionsIn(Input):
    """``completeTasks``: 1 to :data:`MAX_BATCH` successes from one agent."""

    items: list[CompletionIn] = Field(min_length=1, max_length=MAX_BATCH)


class FailureIn(Input):
    """A failure an agent reports (``failTask``): what went wrong, in 1 to 10,000 characters."""

    error: ErrorText
    details: Any = None

    @field_validator("details")
    @classmethod
    def _details(cls, value: Any) -> Any:
        return json_within(value, "details")


class ClaimIn(Input):
    """``claimTasks``: at most how many tasks (1 to :data:`MAX_BATCH`)."""

    max: int = Field(ge=1, le=MAX_BATCH)


class ReasonIn(Input):
    """Why an operator cancels a task or a run (up to 2,000 characters)."""

    reason: Reason = ""


class ReviewIn(Input):
    """A supervisor's feedback on a sub-task it accepts or sends back (up to 10,000
    characters)."""

    feedback: Feedback = ""


class SpendIn(Input):
    """``reportCost``: spend on a held task; ``key`` makes a resend harmless."""

    task_id: str = Field(pattern=ID_PATTERN)
    fence: int = Field(ge=1)
    usd: float = Field(ge=0, le=MAX_COST)
    key: SpendKey
    tokens_in: int | None = None
    tokens_out: int | None = None
    model: ModelName | None = None


class DecisionIn(Input):
    """``decideProposal``: the decision, why (up to 4,000 characters) and, for MODIFY, the
    edited payload (a JSON object of at most :data:`MAX_JSON` bytes)."""

    decision: Decision
    reason: DecisionReason = ""
    payload: JsonObject | None = None

    @field_validator("payload", mode="before")
    @classmethod
    def _payload(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, dict) or len(json.dumps(value)) > MAX_JSON):
            raise ValueError("payload must be a JSON object under 64 kB")
        return value

    @model_validator(mode="after")
    def _modify_has_payload(self) -> DecisionIn:
        if self.decision is Decision.MODIFY and self.payload is None:
            raise ValueError("MODIFY needs the edited payload")
        return self
