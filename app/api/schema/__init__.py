"""Assembles the GraphQL schema from one module per capability.

Each module defines any of ``Query``, ``Mutation``, ``Subscription`` and a ``RULES`` table;
this file merges them, so capabilities can grow without touching each other.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.pyutils import RefMap
from pydantic import ValidationError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types

from app.api import authz
from app.api.cost import OperationLimits
from app.api.doccache import DocumentCache
from app.api.errors import ErrorCodes
from app.api.schema import (
    agents,
    context,
    costs,
    events,
    inbox,
    locks,
    policies,
    principals,
    retention,
    search,
    sources,
    system,
    tasks,
    teams,
    traces,
    workflows,
)
from app.api.schema.common import SCALARS
from app.config import Settings
from app.core.errors import BatonError
from app.graph import GraphLimitExceeded, GraphTimeout, GraphUnavailable

GRAPH_LIMITS = (GraphTimeout, GraphLimitExceeded, GraphUnavailable)

MODULES: list[ModuleType] = [
    system,
    principals,
    events,
    agents,
    tasks,
    locks,
    policies,
    costs,
    context,
    inbox,
    workflows,
    traces,
    teams,
    retention,
    sources,
    search,
]


def _merged(kind: str) -> Any:
    parts = tuple(getattr(m, kind) for m in MODULES if hasattr(m, kind))
    return merge_types(kind, parts) if parts else None


class BatonSchema(strawberry.Schema):
    """Logs only unexpected errors: coded errors and invalid queries are the caller's."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [
            e
            for e in errors
            if e.original_error is not None
            and not isinstance(e.original_error, (BatonError, ValidationError, *GRAPH_LIMITS))
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


class BatonExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with a subscription's per-event memo of sub-fields dropped
    after each event.

    Why: graphql-core 3.3 memoizes ``collect_subfields`` on the identity of each event's
    field lists, keeping every list alive with its entry, in a dict that the per-event
    executors (shallow copies) share with the subscription's executor. The lists are new
    for every event, so nothing ever hits and a live subscription (an SDK agent's
    ``taskAssigned`` stream runs for the life of the agent) held on to a few objects per
    event it delivered: the app's memory grew with the event count under steady load
    (issue 19, bench/soak.py). The memo is only valid within one execution anyway."""

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        executor._stream_usages = RefMap()
        return executor


def build_schema(settings: Settings) -> strawberry.Schema:
    """The full schema with limits, error codes and deny-by-default authorization."""
    for m in MODULES:
        authz.register(m.RULES)
    return BatonSchema(
        query=_merged("Query"),
        mutation=_merged("Mutation"),
        subscription=_merged("Subscription"),
        extensions=[
            ErrorCodes,
            authz.Authorize,
            OperationLimits(settings),
            DocumentCache(),
            lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
            lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=30),
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
        execution_context_class=BatonExecutor,
    )
