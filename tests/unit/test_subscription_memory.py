"""A live subscription holds no memory per event it delivered (issue 19: the soak's RSS grew
with every task pushed to an SDK agent, through graphql-core's per-event sub-field memo)."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator

import strawberry
from graphql.execution.collect_fields import FieldDetails

from app.api.schema import BatonExecutor, build_schema
from app.config import Settings


@strawberry.type
class Item:
    n: int
    name: str


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def items(self, count: int) -> AsyncGenerator[Item, None]:
        for i in range(count):
            yield Item(n=i, name="x")


def _field_details() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is FieldDetails)


async def _retained_after(events: int, schema: strawberry.Schema) -> int:
    """FieldDetails still alive after ``events`` events, with the subscription still open."""
    before = _field_details()
    stream = await schema.subscribe(f"subscription {{ items(count: {events + 1}) {{ n name }} }}")
    assert not isinstance(stream, strawberry.types.ExecutionResult)
    try:
        for _ in range(events):
            result = await anext(stream)
            assert not result.errors, result.errors
        return _field_details() - before
    finally:
        await stream.aclose()


async def test_a_live_subscription_keeps_nothing_per_event() -> None:
    schema = strawberry.Schema(
        query=Query, subscription=Subscription, execution_context_class=BatonExecutor
    )
    few, many = await _retained_after(10, schema), await _retained_after(500, schema)
    assert many == few, f"{many - few} FieldDetails kept for 490 more events"


async def test_the_default_executor_would_keep_them() -> None:
    """The guard above means something: graphql-core's own executor grows (if a release fixes
    it, this fails and BatonExecutor can go)."""
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    few, many = await _retained_after(10, schema), await _retained_after(500, schema)
    assert many > few


def test_baton_schema_uses_the_executor() -> None:
    assert build_schema(Settings()).execution_context_class is BatonExecutor
