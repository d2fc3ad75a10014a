"""Spend: exact roll-ups along the chain, budgets with thresholds, stopping and resuming."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import CLAIM, COMPLETE, agent, route, submit, task
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget

REPORT = """mutation($t: String!, $a: String!, $f: Int!, $u: Float!, $k: String!) {
  reportCost(taskId: $t, agentId: $a, fence: $f, usd: $u, key: $k, tokensIn: 10) }"""
BUDGET = """mutation($i: BudgetInput!) { setBudget(input: $i) {
  id spentUsd exhausted crossed limitUsd } }"""
TREE = "query($id: ID!) { task(id: $id) { id } }"


async def claim_all(w: GQL, agent_id: str, n: int) -> dict[str, int]:
    got = await w(
        "mutation($a: String!, $n: Int!) { claimTasks(agentId: $a, max: $n) { id fence } }",
        a=agent_id,
        n=n,
    )
    return {t["id"]: t["fence"] for t in got["claimTasks"]}


async def tree_cost(api: App, task_id: str) -> float:
    rows = await api.store.execute_text(
        "MATCH (t:Task {id: $id}) RETURN t.treeCostUsd AS c", id=task_id
    )
    return float(rows[0]["c"] or 0.0)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parents=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=12),
    cents=st.lists(st.integers(min_value=0, max_value=5_000), min_size=12, max_size=12),
)
async def test_cost_rolls_up_exactly_over_random_task_trees(
    graph: GraphTarget, parents: list[int], cents: list[int]
) -> None:
    api = await start_app(graph, fresh_name(), scheduler=False)
    try:
        w = await agent(api, "spender", ["diagnose"], max_concurrency=100, team=None)
        ids: list[str] = []
        parent_of: dict[str, str | None] = {}  # the tree as generated, not as read back
        for p in parents:
            parent = ids[p % len(ids)] if ids and p < 20 else None
            ids.append((await submit(api.admin, parentId=parent))["id"])
            parent_of[ids[-1]] = parent
        held = await claim_all(w, "spender", len(ids))
        own = {t: cents[i] / 100 for i, t in enumerate(ids)}
        await asyncio.gather(
            *(w(REPORT, t=t, a="spender", f=held[t], u=own[t], k="work") for t in ids)
        )
        # A resent report (same key) counts once.
        await w(REPORT, t=ids[0], a="spender", f=held[ids[0]], u=own[ids[0]], k="work")

        def subtree(t: str) -> float:
            return own[t] + sum(subtree(c) for c, p in parent_of.items() if p == t)

        for t in ids:
            assert abs(await tree_cost(api, t) - subtree(t)) < 1e-6, (t, parent_of)
        report = await api.admin("{ costReport(groupBy: AGENT, period: TOTAL) { key usd } }")
        assert abs(report["costReport"][0]["usd"] - sum(own.values())) < 1e-6
    finally:
        await api.store.drop_all()
        await stop_app(api)


async def test_twenty_agents_reporting_on_one_run_at_once_total_exactly(api: App) -> None:
    budget = {
        "id": "b-run",
        "scope": "RUN",
        "targetId": "run-1",
        "limitUsd": 1000.0,
        "period": "TOTAL",
    }
    await api.admin(BUDGET, i=budget)
    workers = []
    for i in range(20):
        w = await agent(api, f"r{i}", [f"c{i}"])
        t = await submit(api.admin, capability=f"c{i}", runId="run-1")
        got = (await w(CLAIM, a=f"r{i}"))["claimTask"]
        workers.append((w, f"r{i}", t["id"], got["fence"]))
    await asyncio.gather(
        *(w(REPORT, t=t, a=a, f=f, u=0.37, k=f"k{j}") for w, a, t, f in workers for j in range(5))
    )
    got = await api.admin("{ budgets { nodes { id spentUsd } } }")
    assert abs(got["budgets"]["nodes"][0]["spentUsd"] - 20 * 5 * 0.37) < 1e-6
    rows = await api.admin("{ costReport(groupBy: RUN, period: TOTAL) { key usd entries } }")
    assert rows["costReport"][0]["key"] == "run-1" and rows["costReport"][0]["entries"] == 100
    assert abs(rows["costReport"][0]["usd"] - 37.0) < 1e-6


async def _events(api: App, type_: str) -> list[dict[str, Any]]:
    got = await api.admin(
        "query($t: [String!]) { events(types: $t, first: 100) { nodes { subject payload } } }",
        t=[type_],
    )
    return list(got["events"]["nodes"])


async def test_threshold_fires_once_and_the_limit_stops_then_resumes_work(api: App) -> None:
    w = await agent(api, "pricey", ["diagnose"], max_concurrency=10)
    await api.admin(
        BUDGET,
        i={
            "id": "b1",
            "scope": "AGENT",
            "targetId": "pricey",
            "limitUsd": 10.0,
            "thresholds": [50, 100],
        },
    )
    first = await submit(api.admin)
    got = (await w(CLAIM, a="pricey"))["claimTask"]
    await w(REPORT, t=first["id"], a="pricey", f=got["fence"], u=6.0, k="a")
    await w(REPORT, t=first["id"], a="pricey", f=got["fence"], u=1.0, k="b")
    assert [e["payload"]["threshold"] for e in await _events(api, "budget.threshold")] == [50]
    await w(COMPLETE, t=first["id"], a="pricey", f=got["fence"], r={"ok": 1})
    second = await submit(api.admin)
    got2 = (await w(CLAIM, a="pricey"))["claimTask"]
    await w(REPORT, t=second["id"], a="pricey", f=got2["fence"], u=3.5, k="c")
    assert [e["payload"]["threshold"] for e in await _events(api, "budget.threshold")] == [50, 100]
    # At the limit: queued work stays queued, nothing is routed or claimable, nothing lost.
    waiting = [await submit(api.admin) for _ in range(3)]
    assert await route(api) == 0
    assert await w.fails(CLAIM, a="pricey") == ["BUDGET_EXCEEDED"]
    raised = await api.admin(
        BUDGET,
        i={
            "id": "b1",
            "scope": "AGENT",
            "targetId": "pricey",
            "limitUsd": 50.0,
            "thresholds": [50, 100],
        },
    )
    assert raised["setBudget"]["exhausted"] is False and raised["setBudget"]["crossed"] == []
    assert await route(api) == 3
    assert [(await task(api.admin, t["id"]))["status"] for t in waiting] == ["assigned"] * 3
