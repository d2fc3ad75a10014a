"""DataLoaders (issue 22): a per-row field of a list read costs one batched read for the whole
list, not one read per row. Counted on the real store under the real app, on either backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.core import costs, loaders, task_reads, tasks
from app.core.context import Reader
from app.core.workflows import runs as run_reads
from tests.conftest import App
from tests.support.coord import CLAIM, agent, submit

N = 6
DEFINE = "mutation($d: JSON!) { defineWorkflow(definition: $d) { name } }"
START = 'mutation { startWorkflow(name: "one-step", input: {}) { id } }'


@contextmanager
def counted(app: App) -> Iterator[Counter[str]]:
    """Count the statements the app's store reads, by name, while the block runs."""
    store = app.store
    real = store.read
    seen: Counter[str] = Counter()

    async def read(name: str, /, **params: Any) -> Any:
        seen[name] += 1
        return await real(name, **params)

    store.read = read  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del store.read


async def test_task_history_and_survivor_are_one_read_for_the_whole_list(api: App) -> None:
    worker = await agent(api, "w", ["diagnose"], max_concurrency=N)
    ids = []
    for i in range(N):
        t = await submit(api.admin, dedupKey=f"k{i}", payload={"n": i})
        ids.append(t["id"])
        assert (await worker(CLAIM, a="w"))["claimTask"]["id"] == t["id"]
    merged = [
        await submit(api.admin, dedupKey=f"k{i}", payload={"n": i, "again": True}) for i in range(N)
    ]
    assert [m["status"] for m in merged] == ["merged"] * N, merged
    query = """{ tasks(first: 50) { nodes { id status history { attempt agentId }
      survivor { id history { attempt } } } } }"""
    with counted(api) as seen:
        nodes = (await api.admin(query))["tasks"]["nodes"]
    by_id = {n["id"]: n for n in nodes}
    assert len(nodes) == 2 * N
    for i, m in enumerate(merged):
        assert by_id[m["id"]]["survivor"]["id"] == ids[i]
        assert by_id[m["id"]]["survivor"]["history"] == [{"attempt": 1}]
        assert by_id[ids[i]]["history"] == [{"attempt": 1, "agentId": "w"}]
    # the claimed tasks' history and the merged tasks' survivors (the same tasks, whose own
    # history comes with them) are loaded in one tick: one batched read, never one per row
    assert seen[task_reads.GET_FOR] == 0
    assert seen[loaders.GET_MANY_FOR] == 1, seen


async def test_run_costs_are_one_read_for_the_whole_list(api: App) -> None:
    await agent(api, "w", ["diagnose"])
    await api.admin(
        DEFINE,
        d={"name": "one-step", "steps": [{"id": "a", "capability": "diagnose", "after": []}]},
    )
    runs = [(await api.admin(START))["startWorkflow"]["id"] for _ in range(N)]
    with counted(api) as seen:
        got = await api.admin("{ runs(first: 50) { nodes { id costUsd steps { stepId } } } }")
    nodes = got["runs"]["nodes"]
    assert sorted(n["id"] for n in nodes) == sorted(runs)
    assert all(n["costUsd"] == 0.0 and n["steps"] == [{"stepId": "a"}] for n in nodes), nodes
    assert seen[costs.RUN_COST] == 0 and seen[run_reads.STATE_FOR] == 0
    assert seen[costs.RUN_COSTS] == 1 and seen[loaders.RUNS_FOR] == 1, seen
    # a single read answers the same, through the same loader
    one = await api.admin("query($id: ID!) { run(id: $id) { costUsd } }", id=runs[0])
    assert one["run"]["costUsd"] == 0.0


async def test_loaders_batch_by_id_and_keep_the_grants(api: App) -> None:
    """The batched read answers what the single read does, row by row, for the caller."""
    t = await submit(api.admin, payload={"secret": 1})
    store = api.store
    reader = Reader(principal_id="nobody", caller="nobody")
    one = await tasks.get_for(store, reader, t["id"])
    many = await loaders.tasks_for(store, reader, [t["id"], "no-such-task", t["id"]])
    assert list(many) == [t["id"]] and many[t["id"]] == one
    assert await loaders.tasks_for(store, reader, []) == {}
    assert await loaders.runs_for(store, reader, []) == {}
    assert await costs.run_costs(store, []) == {}
