"""Parse and validate each distinct operation text once per process.

Agents send the same few operations over and over with new variables (``claimTask``,
``completeTask``, ``heartbeat``). Parsing and validating one of them cost more than the rest
of the request together: a profile of bench/claims.py had graphql-core's validation at 48%
and parsing at 4% of the app's CPU. Both are pure functions of the text, the schema and the
validation rules, which are fixed for a schema (depth, alias and token limits come from the
settings it was built with), so a document that parsed and validated once is kept and
reused for the same text.

Nothing here depends on who calls or on graph state: authorization, the rate limit and the
cost estimate (which reads the variables) still run for every operation. Only documents that
passed validation are kept (a refused text is checked again each time), the cache is bounded
in entries and in the length of a text it keeps, and it lives with the schema, so apps built
with other limits never share it. graphql-core does not mutate a document while executing
it, so concurrent operations share one safely (strawberry's own ParserCache does the same).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

MAX_ENTRIES = 256
MAX_TEXT = 8_192  # longer operation texts are parsed and validated every time


def DocumentCache(  # noqa: N802 - a class factory, like OperationLimits
    max_entries: int = MAX_ENTRIES, max_text: int = MAX_TEXT
) -> type[SchemaExtension]:
    """The extension class, with its own cache (one per schema)."""
    valid: OrderedDict[str, DocumentNode] = OrderedDict()

    class _DocumentCache(SchemaExtension):
        hit = False

        def on_parse(self) -> Iterator[None]:
            ctx = self.execution_context
            text = ctx.query
            doc = valid.get(text) if text else None
            if doc is not None and text is not None:
                valid.move_to_end(text)
                ctx.graphql_document = doc  # strawberry then skips parsing
                self.hit = True
            yield

        def on_validate(self) -> Iterator[None]:
            ctx = self.execution_context
            if self.hit and ctx.pre_execution_errors is None:
                ctx.pre_execution_errors = []  # validated when it was kept: skip it
            yield
            text, doc = ctx.query, ctx.graphql_document
            if (
                not self.hit
                and ctx.pre_execution_errors == []  # validation ran and found nothing
                and text
                and len(text) <= max_text
                and doc is not None
            ):
                valid[text] = doc
                if len(valid) > max_entries:
                    valid.popitem(last=False)

    return _DocumentCache
