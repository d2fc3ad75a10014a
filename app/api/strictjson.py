"""Strict JSON for everything clients send (HTTP bodies, GET variables, WebSocket messages).

Python's ``json`` accepts what JSON does not (``NaN``, ``Infinity``), lets lone surrogates
through (they fail much later, when the graph driver encodes them), and recurses without a
bound (5,000 nested arrays raise ``RecursionError``). Here each of those is a clear
:class:`BadJson` before anything else sees the request.
"""

from __future__ import annotations

import json
import math
from typing import Any


class BadJson(json.JSONDecodeError):
    """Refused request JSON (a ``JSONDecodeError``, so framework code treats it as one)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _no_constants(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _check(value: Any, max_depth: int) -> None:
    """Depth and lone surrogates, iteratively (no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise BadJson("number out of range (not finite)")
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise BadJson(f"JSON nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for k, v in item.items():
                    _text(k)
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)


def _text(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("JSON string with a lone surrogate (not valid Unicode)") from None


def loads(data: str | bytes, max_depth: int) -> Any:
    """Parse request JSON or raise :class:`BadJson` with the reason."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("request is not valid UTF-8") from None
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {max_depth} levels") from None
    except BadJson:
        raise
    except json.JSONDecodeError as exc:
        raise BadJson(f"malformed JSON: {exc.msg} at {exc.pos}") from None
    _check(value, max_depth)
    return value


def error_body(reason: str) -> bytes:
    """A GraphQL error response refusing the request as ``BAD_INPUT``."""
    return json.dumps(
        {"errors": [{"message": reason, "extensions": {"code": "BAD_INPUT"}}]}
    ).encode()
