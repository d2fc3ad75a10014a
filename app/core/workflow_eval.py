"""Evaluating a workflow definition at run time: input mappings (``"$a.b"`` paths into the
run's scope), trigger conditions on events, and the fan-in merge strategies of a join. Pure
functions, no graph access; ``app.core.workflow_spec`` (the definition's shape and its
validation) re-exports them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.workflow_spec import Condition


# --- input mapping ------------------------------------------------------------------------


def resolve(mapping: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Evaluate an input mapping: ``"$a.b.c"`` strings are paths into ``scope`` (missing ->
    None), nested dicts/lists are walked, anything else is a literal."""
    return {k: _value(v, scope) for k, v in mapping.items()}


def _value(v: Any, scope: dict[str, Any]) -> Any:
    if isinstance(v, str) and v.startswith("$"):
        return lookup(scope, v[1:])
    if isinstance(v, dict):
        return {k: _value(x, scope) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x, scope) for x in v]
    return v


def lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


# --- trigger conditions -------------------------------------------------------------------


def matches(cond: Condition | None, event: dict[str, Any]) -> bool:
    """Evaluate a declared condition on ``{"type", "payload", "actor", "subject"}``."""
    if cond is None:
        return True
    if cond.all is not None:
        return all(matches(c, event) for c in cond.all)
    if cond.any is not None:
        return any(matches(c, event) for c in cond.any)
    if cond.not_ is not None:
        return not matches(cond.not_, event)
    got = lookup(event, cond.field or "")
    want = cond.value
    try:
        match cond.op:
            case "exists":
                return (got is not None) == (want is not False)
            case "eq":
                return bool(got == want)
            case "ne":
                return bool(got != want)
            case "in":
                return isinstance(want, list) and got in want
            case "not_in":
                return isinstance(want, list) and got not in want
            case "contains":
                return isinstance(got, list | str) and want in got
            case "gt":
                return got is not None and got > want
            case "gte":
                return got is not None and got >= want
            case "lt":
                return got is not None and got < want
            case "lte":
                return got is not None and got <= want
    except TypeError:  # comparing a number with a string: no match, never an error
        return False
    return False  # pragma: no cover - Literal covers every op


# --- fan-in merge -------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    step: str
    value: Any
    confidence: float


@dataclass(frozen=True)
class Merged:
    """What a join chose and why; ``chosen`` is None when a human must decide."""

    chosen: Finding | None
    agreed: bool
    reason: str


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def merge(findings: list[Finding], strategy: str) -> Merged:
    """Deterministic: ties go to the step declared first (``findings`` keep step order)."""
    if not findings:
        return Merged(None, True, "no step produced a finding")
    values = Counter(_key(f.value) for f in findings)
    if len(values) == 1:
        best = max(findings, key=lambda f: f.confidence)
        return Merged(best, True, f"all {len(findings)} findings agree")
    if strategy == "highest_confidence":
        best = max(findings, key=lambda f: f.confidence)  # max keeps the first of equals
        return Merged(
            best,
            False,
            f"contradictory findings; {best.step} had the highest "
            f"confidence ({best.confidence:.2f})",
        )
    if strategy == "majority":
        top = max(values.values())
        leaders = [k for k, n in values.items() if n == top]
        if len(leaders) == 1:
            best = max(
                (f for f in findings if _key(f.value) == leaders[0]), key=lambda f: f.confidence
            )
            return Merged(best, False, f"majority: {top} of {len(findings)} findings agree")
        weight = {k: sum(f.confidence for f in findings if _key(f.value) == k) for k in leaders}
        win = max(leaders, key=lambda k: weight[k])
        best = max((f for f in findings if _key(f.value) == win), key=lambda f: f.confidence)
        return Merged(best, False, f"majority tied at {top}; broken by total confidence")
    return Merged(None, False, "contradictory findings escalated to a human")
