"""Small operational queries."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.api.authz import ANY, Rules
from app.api.schema.common import CtxInfo

RULES: Rules = {"health": ANY}


@strawberry.type
class Query:
    @strawberry.field(description="Backend name and graph size, as GET /health reports.")
    async def health(self, info: CtxInfo) -> JSON:
        return cast(JSON, await info.context.rt.store.health())
