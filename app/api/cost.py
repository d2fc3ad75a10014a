"""Per-operation limits on every transport: the rate limit and the GraphQL cost budget.

Runs once per operation (an HTTP request, each operation on a WebSocket), after parsing and
before validation, so a refused operation costs next to nothing. The cost is an estimate of
how many values the operation asks for: every selected field costs 1 per parent it is
resolved for; a field with ``first`` (or a list without one)
multiplies what is below it by its page size, so nested lists multiply and every alias is
counted on its own. Above ``max_query_cost`` the operation is refused with ``COST_LIMIT``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from app.api.authz import rate_limit
from app.config import Settings
from app.core.errors import BatonError

LIST_DEFAULT = 10  # assumed size of a list that has no ``first`` argument
PAGED = ("first", "limit")


def _unwrap(t: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        if isinstance(t, GraphQLList):
            is_list = True
        t = t.of_type
    return t, is_list


class _Estimator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        max_page: int,
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.max_page = max_page

    def _arg(self, node: FieldNode, names: tuple[str, ...], default: Any) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value not in names:
                continue
            value = arg.value
            # A page bigger than the maximum is refused by the resolver (BAD_INPUT); count it
            # as the maximum here, so that error, not this one, tells the caller why.
            if isinstance(value, IntValueNode):
                return max(1, min(int(value.value), self.max_page))
            if isinstance(value, VariableNode):
                v = self.variables.get(value.name.value)
                return max(1, min(v, self.max_page)) if isinstance(v, int) else self.max_page
            return self.max_page
        return default if isinstance(default, int) else None

    def cost(
        self, parent: Any, selection: SelectionSetNode | None, mult: int, seen: frozenset[str]
    ) -> int:
        if selection is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        total = 0
        for sel in selection.selections:
            if isinstance(sel, FieldNode):
                name = sel.name.value
                if name.startswith("__"):
                    total += mult
                    continue
                field = parent.fields.get(name)
                if field is None:
                    continue
                named, is_list = _unwrap(field.type)
                defaults = {a: d.default_value for a, d in field.args.items() if a in PAGED}
                size = self._arg(sel, PAGED, next(iter(defaults.values()), None))
                if size is None:
                    size = LIST_DEFAULT if is_list else 1
                if is_list and any(a in field.args for a in PAGED):
                    size = max(size, 1)
                elif is_list and parent.name.endswith(("Connection", "Page")):
                    size = 1  # a connection's nodes: already counted by the parent's ``first``
                total += mult + self.cost(named, sel.selection_set, mult * max(size, 1), seen)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                target = self.schema.get_type(cond.name.value) if cond else parent
                total += self.cost(target, sel.selection_set, mult, seen)
            elif isinstance(sel, FragmentSpreadNode):
                frag_name = sel.name.value
                frag = self.fragments.get(frag_name)
                if frag is None or frag_name in seen:
                    continue
                target = self.schema.get_type(frag.type_condition.name.value)
                total += self.cost(target, frag.selection_set, mult, seen | {frag_name})
        return total


def estimate(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    max_page: int,
) -> int:
    """The estimated cost of the operation that would run."""
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    frags = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    op = next((o for o in ops if o.name and o.name.value == operation_name), None)
    if op is None and ops:
        op = ops[0]
    if op is None:
        return 0
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[op.operation]
    est = _Estimator(schema, frags, variables or {}, max_page)
    return est.cost(root, op.selection_set, 1, frozenset())


class CostLimitError(BatonError):
    code = "COST_LIMIT"


def OperationLimits(settings: Settings) -> type[SchemaExtension]:  # noqa: N802 - a class factory
    """The extension class for these settings."""

    class _OperationLimits(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            # Before validation: refusing an over-budget (or rate-limited) operation must be
            # cheaper than validating it (30 aliased lists take ~100 ms to validate).
            ctx = self.execution_context
            error: BatonError | None = None
            try:
                rate_limit(ctx.context)
                document = ctx.graphql_document
                if document is not None:
                    cost = estimate(
                        ctx.schema._schema,
                        document,
                        ctx.operation_name,
                        ctx.variables,
                        settings.max_page_size,
                    )
                    if cost > settings.max_query_cost:
                        raise CostLimitError(
                            f"query too expensive: estimated cost {cost} exceeds the budget of "
                            f"{settings.max_query_cost} (fewer fields, aliases or a smaller "
                            "`first`)",
                            cost=cost,
                            budget=settings.max_query_cost,
                        )
            except BatonError as exc:
                error = exc
            if error is not None:
                # Setting the errors before validation skips it and ends the operation.
                ctx.pre_execution_errors = [
                    GraphQLError(
                        error.message,
                        original_error=error,
                        extensions={**error.details, "code": error.code},
                    )
                ]
            yield

    return _OperationLimits
