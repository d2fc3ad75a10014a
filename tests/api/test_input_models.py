"""Issue 22: the task lifecycle's input checks live in the pydantic models
(app/models/reports.py), not in the resolvers. Each bad input is still BAD_INPUT, its message
names the field and the rule, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import (
    CompletionsIn,
    Decision,
    DecisionIn,
    FailureIn,
    ReasonIn,
    ResultIn,
    SpendIn,
    SubmittedTaskIn,
)
from tests.conftest import App
from tests.support.coord import CLAIM, SUBMIT, agent, submit

SUBMIT_MANY = "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id } }"
COMPLETE = """mutation($t: String!, $f: Int!, $c: Float!, $r: JSON) {
  completeTask(taskId: $t, agentId: "w", fence: $f, result: $r, costUsd: $c) { status } }"""
COMPLETE_MANY = """mutation($i: [CompletionInput!]!) {
  completeTasks(agentId: "w", items: $i) }"""
FAIL = """mutation($t: String!, $f: Int!, $e: String!) {
  failTask(taskId: $t, agentId: "w", fence: $f, error: $e) { status } }"""
CANCEL = "mutation($t: String!, $r: String!) { cancelTask(taskId: $t, reason: $r) { status } }"
CLAIM_MANY = 'mutation($n: Int!) { claimTasks(agentId: "w", max: $n) { id } }'
BIG = {"blob": "x" * 64_001}


async def message(client: Any, query: str, **variables: Any) -> str:
    body = await client.raw(query, variables)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_INPUT", error
    return str(error["message"])


async def test_bad_inputs_are_refused_by_the_models(api: App) -> None:
    worker = await agent(api, "w", ["diagnose"])
    t = await submit(api.admin)
    fence = (await worker(CLAIM, a="w"))["claimTask"]["fence"]
    task = {"kind": "test", "capability": "diagnose"}
    assert "payload larger than 64000 bytes" in await message(
        api.admin, SUBMIT, i={**task, "payload": BIG}
    )
    assert "payload must be a JSON object" in await message(
        api.admin, SUBMIT, i={**task, "payload": [1]}
    )
    assert "inputs" in await message(api.admin, SUBMIT_MANY, i=[])
    assert "inputs.1.payload" in await message(
        api.admin, SUBMIT_MANY, i=[task, {**task, "payload": 3}]
    )
    assert "max" in await message(worker, CLAIM_MANY, n=0)
    assert "cost_usd" in await message(worker, COMPLETE, t=t["id"], f=fence, c=-1.0)
    assert "result larger than" in await message(worker, COMPLETE, t=t["id"], f=fence, c=0.0, r=BIG)
    assert "items" in await message(worker, COMPLETE_MANY, i=[])
    item = {"taskId": t["id"], "fence": 0}
    assert "items.0.fence" in await message(worker, COMPLETE_MANY, i=[item])
    assert "error" in await message(worker, FAIL, t=t["id"], f=fence, e="")
    assert "reason" in await message(api.admin, CANCEL, t=t["id"], r="x" * 2_001)
    # none of it touched the task
    got = await api.admin("query($id: ID!) { task(id: $id) { status } }", id=t["id"])
    assert got["task"]["status"] == "running"


def test_free_text_is_kept_as_sent_and_sizes_are_bounded() -> None:
    assert DecisionIn(decision=Decision.MODIFY, payload={" k ": 1}).payload == {" k ": 1}
    assert SpendIn(task_id="t", fence=1, usd=0.5, key=" k ").key == " k "
    assert FailureIn(error="  spaced  ").error == "  spaced  "
    assert ReasonIn(reason=" why ").reason == " why "
    assert SubmittedTaskIn(kind="k", capability="c", payload=None).payload == {}
    assert ResultIn(result={"a": 1}, cost_usd=1e6).cost_usd == 1e6
    for bad in (
        lambda: ResultIn(cost_usd=1e6 + 1),
        lambda: FailureIn(error="x" * 10_001),
        lambda: DecisionIn(decision=Decision.MODIFY),
        lambda: DecisionIn(decision=Decision.APPROVE, payload=[1]),
        lambda: SpendIn(task_id="t", fence=1, usd=-1, key="k"),
        lambda: CompletionsIn(items=[{"task_id": "t", "fence": 1}] * 1_001),
    ):
        with pytest.raises(ValueError):
            bad()
