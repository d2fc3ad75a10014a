"""Workflow definitions: every malformed shape is refused with the step and field named;
conditions and merge strategies behave as declared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.workflow_spec import (
    Condition,
    Finding,
    WorkflowError,
    check,
    matches,
    merge,
    parse,
    resolve,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "workflows"


def wf(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "w", "steps": list(steps), **extra}


@pytest.mark.parametrize(
    ("definition", "step", "field", "words"),
    [
        (
            wf({"id": "a", "capability": "x"}, {"id": "a", "capability": "y"}),
            "a",
            "id",
            "duplicate",
        ),
        (
            wf({"id": "a", "capability": "x", "after": ["b"]}, {"id": "b", "capability": "x"}),
            "a",
            "after",
            "cycle",
        ),
        (wf({"id": "a", "capability": "x", "after": ["zz"]}), "a", "after", "unknown step"),
        (wf({"id": "a"}), "a", "capability", "needs a capability"),
        (
            wf({"id": "a", "capability": "x", "input": {"v": "$input.nope"}}),
            "a",
            "input.v",
            "missing input 'nope'",
        ),
        (
            wf(
                {"id": "a", "capability": "x"},
                {"id": "b", "capability": "x", "after": [], "input": {"v": "$steps.a.result"}},
            ),
            "b",
            "input.v",
            "does not run before",
        ),
        (
            wf({"id": "a", "capability": "x", "onFailure": {"action": "compensate", "step": "c"}}),
            "a",
            "onFailure.step",
            "does not exist",
        ),
        (
            wf({"id": "a", "capability": "x"}, {"id": "j", "kind": "join", "after": ["a"]}),
            "j",
            "after",
            "at least two",
        ),
        (wf({"id": "a", "capability": "x", "quorum": 2}), "a", "quorum", "join"),
        (
            wf({"id": "a", "capability": "x", "onFailure": {"action": "explode"}}),
            "a",
            "onFailure.action",
            "retry",
        ),
        (wf({"id": "Bad Id", "capability": "x"}), "Bad Id", "id", "pattern"),
        (wf({"id": "a", "capability": "x", "colour": "red"}), "a", "colour", "Extra inputs"),
    ],
)
def test_malformed_definitions_name_step_and_field(
    definition: dict[str, Any], step: str, field: str, words: str
) -> None:
    with pytest.raises(WorkflowError) as exc:
        parse(definition)
    assert exc.value.step == step and exc.value.field == field, str(exc.value)
    assert words in str(exc.value) and f"steps[{step}]" in str(exc.value)


def test_unknown_capability_is_refused_against_the_registry() -> None:
    spec = parse(wf({"id": "a", "capability": "triage"}, {"id": "b", "capability": "telepathy"}))
    check(spec, {"triage", "telepathy"})
    with pytest.raises(WorkflowError, match=r"steps\[b\].capability: unknown capability"):
        check(spec, {"triage"})


def test_every_seed_workflow_is_valid() -> None:
    names = []
    for path in sorted(SEEDS.glob("*.yaml")):
        names.append(parse(yaml.safe_load(path.read_text())).name)
    assert {"incident-response", "compliance-review", "customer-onboarding"} <= set(names)


def test_default_dependencies_make_a_pipeline() -> None:
    spec = parse(
        wf(
            {"id": "a", "capability": "x"},
            {"id": "b", "capability": "x"},
            {"id": "c", "capability": "x", "after": []},
        )
    )
    assert spec.deps() == {"a": [], "b": ["a"], "c": []}


def test_input_mapping_reads_paths_and_keeps_literals() -> None:
    scope = {"input": {"svc": "web"}, "steps": {"a": {"result": {"list": [1, {"k": "v"}]}}}}
    got = resolve(
        {
            "s": "$input.svc",
            "deep": "$steps.a.result.list.1.k",
            "lit": 3,
            "nested": {"x": "$input.svc"},
            "gone": "$input.nothing",
        },
        scope,
    )
    assert got == {"s": "web", "deep": "v", "lit": 3, "nested": {"x": "web"}, "gone": None}


def cond(data: dict[str, Any]) -> Condition:
    return Condition.model_validate(data)


def test_conditions_use_only_declared_operators() -> None:
    ev = {"type": "alert.fired", "payload": {"severity": "high", "n": 5, "tags": ["db"]}}
    assert matches(cond({"field": "payload.severity", "op": "in", "value": ["high"]}), ev)
    assert not matches(cond({"field": "payload.n", "op": "gt", "value": 5}), ev)
    assert matches(
        cond(
            {
                "all": [
                    {"field": "payload.n", "op": "gte", "value": 5},
                    {"field": "payload.tags", "op": "contains", "value": "db"},
                ]
            }
        ),
        ev,
    )
    assert matches(cond({"not": {"field": "payload.missing", "op": "exists"}}), ev)
    assert not matches(cond({"field": "payload.severity", "op": "lt", "value": 3}), ev)  # no error
    assert matches(
        cond(
            {
                "any": [
                    {"field": "type", "op": "eq", "value": "x"},
                    {"field": "type", "op": "ne", "value": "x"},
                ]
            }
        ),
        ev,
    )
    with pytest.raises(ValueError, match="exactly one"):
        cond({"field": "a", "op": "eq", "all": []})
    with pytest.raises(ValueError):
        cond({"field": "a", "op": "__import__"})


def test_merge_strategies_are_deterministic() -> None:
    a, b, c = Finding("a", "db", 0.6), Finding("b", "deploy", 0.9), Finding("c", "db", 0.5)
    hi = merge([a, b, c], "highest_confidence")
    assert hi.chosen == b and not hi.agreed
    maj = merge([a, b, c], "majority")
    assert maj.chosen == a and "2 of 3" in maj.reason
    tie = merge([Finding("x", 1, 0.2), Finding("y", 2, 0.9)], "majority")
    assert tie.chosen is not None and tie.chosen.step == "y"  # tie broken by confidence
    esc = merge([a, b], "escalate")
    assert esc.chosen is None and not esc.agreed
    same = merge([a, c], "escalate")
    assert same.agreed and same.chosen == a  # agreement needs no human
    first = merge([Finding("p", "v1", 0.7), Finding("q", "v2", 0.7)], "highest_confidence")
    assert first.chosen is not None and first.chosen.step == "p"  # equal: declared first wins
