"""Finding 3: the reader is always the caller.

- ``contextForTask`` by someone other than the task's agent reads with the caller's grants,
  never with the task's agent's;
- ``context(agentId: X)`` by an operator is refused (and writes nothing); by an auditor it is
  an inspection, audited as a ``context.inspected`` event naming the auditor, never as X's
  ``context.read`` decision;
- only the task's own agent attaches a read to a task (``taskId``)."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.security.org import fact, org
from tests.support.coord import CLAIM, submit
from tests.support.digest import graph_digest

FOR_TASK = "query($t: String!) { contextForTask(taskId: $t, hops: 1) { id key } }"
CONTEXT = """query($e: String!, $a: String, $t: String) {
  context(entityId: $e, agentId: $a, hops: 1, taskId: $t) { id key } }"""


async def reads(api: App) -> list[dict[str, Any]]:
    return await api.store.execute_text(
        "MATCH (d:Decision {name: 'context.read'}) OPTIONAL MATCH (d)-[:ON]->(t:Task) "
        "RETURN d.agentId AS agentId, d.principalId AS principalId, t.id AS taskId"
    )


async def test_context_for_task_reads_with_the_callers_grants(api: App) -> None:
    a = await org(api)
    secret = (await fact(a["cs"], "agent-impact", "cust-acme", "tier", "gold"))["fact"]
    t = await submit(api.admin, capability="business_impact", entities=["cust-acme"])
    await a["cs"](CLAIM, a="agent-impact")
    # The task's own agent sees its context; the read is attached to its task.
    own = (await a["cs"](FOR_TASK, t=t["id"]))["contextForTask"]
    assert [f["id"] for f in own] == [secret["id"]]
    # bob (operator, payments-eng), an integration (no team), another agent (sales may read
    # customers), an agent of another team: each reads with its own grants.
    assert (await a["bob"](FOR_TASK, t=t["id"]))["contextForTask"] == []
    assert (await a["integ"](FOR_TASK, t=t["id"]))["contextForTask"] == []
    assert (await a["pay"](FOR_TASK, t=t["id"]))["contextForTask"] == []
    assert [f["id"] for f in (await a["sales"](FOR_TASK, t=t["id"]))["contextForTask"]] == [
        secret["id"]
    ]
    # Only the task's own agent's read is attached to the task.
    attached = [r for r in await reads(api) if r["taskId"] == t["id"]]
    assert [r["agentId"] for r in attached] == ["agent-impact"]


async def test_operator_may_not_read_as_an_agent(api: App) -> None:
    a = await org(api)
    await fact(a["cs"], "agent-impact", "cust-acme", "tier", "gold")
    before = await graph_digest(api.store)
    for who in ("alice", "bob", "integ", "sre"):
        codes = await a[who].fails(CONTEXT, e="cust-acme", a="agent-impact")
        assert codes == ["FORBIDDEN"], who
    assert await graph_digest(api.store) == before


async def test_auditor_inspection_is_audited_as_the_auditor(api: App) -> None:
    a = await org(api)
    f = (await fact(a["cs"], "agent-impact", "cust-acme", "tier", "gold"))["fact"]
    before = await reads(api)
    seen = (await a["dan"](CONTEXT, e="cust-acme", a="agent-impact"))["context"]
    assert [x["id"] for x in seen] == [f["id"]]
    # Not recorded as a decision of agent-impact.
    assert await reads(api) == before
    evs = await api.admin(
        '{ auditLog(types: ["context.inspected"]) { nodes { actor subject payload } } }'
    )
    [ev] = evs["auditLog"]["nodes"]
    assert ev["actor"] == "dan" and ev["subject"] == "agent-impact"
    assert ev["payload"]["factIds"] == [f["id"]]


async def test_only_the_tasks_agent_attaches_a_read_to_it(api: App) -> None:
    a = await org(api)
    await fact(a["cs"], "agent-impact", "cust-acme", "tier", "gold")
    t = await submit(api.admin, capability="business_impact", entities=["cust-acme"])
    await a["cs"](CLAIM, a="agent-impact")
    before = await graph_digest(api.store)
    for who, agent_id in (("sales", "agent-sales"), ("sre", "agent-rootcause")):
        codes = await a[who].fails(CONTEXT, e="cust-acme", a=agent_id, t=t["id"])
        assert codes == ["FORBIDDEN"], who
    for who in ("bob", "dan", "integ"):
        assert await a[who].fails(CONTEXT, e="cust-acme", t=t["id"]) == ["FORBIDDEN"], who
    assert await graph_digest(api.store) == before
    await a["cs"](CONTEXT, e="cust-acme", a="agent-impact", t=t["id"])
    assert [r["agentId"] for r in await reads(api) if r["taskId"] == t["id"]] == ["agent-impact"]
