"""Give every GraphQL error an ``extensions.code`` from the contract; hide internals."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from pydantic import ValidationError
from strawberry.extensions import SchemaExtension

from app.core.errors import BatonError, CostLimit, Timeout, Unavailable
from app.graph import GraphLimitExceeded, GraphTimeout, GraphUnavailable

log = logging.getLogger("baton.api")


def graph_error(exc: BaseException) -> BatonError | None:
    """The coded error for a graph limit or outage (``None``: not one of those)."""
    if isinstance(exc, GraphTimeout):
        return Timeout("the graph did not answer in time: retry later or ask for less")
    if isinstance(exc, GraphLimitExceeded):
        return CostLimit("the statement needed more memory than allowed: ask for less")
    if isinstance(exc, GraphUnavailable):
        return Unavailable("the graph is unavailable: retry later")
    return None


def coded(error: GraphQLError) -> GraphQLError:
    """The error with its contract code (the same on HTTP and WebSocket)."""
    original = error.original_error
    ext = dict(error.extensions or {})
    message = error.message
    mapped = graph_error(original) if original is not None else None
    if mapped is not None:
        log.warning("%s in %s: %s", mapped.code, error.path, original)
        original, message = mapped, mapped.message
    if isinstance(original, BatonError):
        ext.update(original.details)
        ext["code"] = original.code
    elif isinstance(original, ValidationError):
        ext["code"] = "BAD_INPUT"
        ext["fields"] = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in original.errors()
        ]
        if ext["fields"]:  # as a BadInput says it: the first field at fault
            ext["field"] = ext["fields"][0]["field"]
        message = "invalid input: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
            for e in original.errors()
        )
    elif original is None or isinstance(original, GraphQLError) or not error.path:
        # Parse, validation, variable coercion, depth/token limits: the request's fault.
        ext.setdefault("code", "BAD_INPUT")
    else:
        log.error("internal error in %s", error.path, exc_info=original)
        ext["code"] = "INTERNAL"
        message = "internal error"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=ext,
    )


class ErrorCodes(SchemaExtension):
    """Post-processes every result's errors."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None) if result is not None else None
        if result is not None and errors:
            result.errors = [coded(e) for e in errors]
        pre = self.execution_context.pre_execution_errors
        if pre:
            self.execution_context.pre_execution_errors = [coded(e) for e in pre]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result a subscription (or an operation over a WebSocket) streams: coded too."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [coded(e) for e in errors]
        yield
