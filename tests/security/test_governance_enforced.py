"""Finding 10: governance does what the README promises.

A completion over ``maxCostPerTask`` is refused: FORBIDDEN plus a ``policy.violation``
event, and nothing else changes (the cost, the result, the task's state); failing the task
is always accepted, and spend reported on its own (which already happened) is recorded and
audited. And one agent's actions are audited under ONE identity, its principal's id, with
the agent id beside it: ``auditLog(actor:)`` finds them all, ``auditLog(agent:)`` too."""

from __future__ import annotations

import hashlib
import json

from app.graph import GraphStore
from tests.conftest import App
from tests.support.coord import CLAIM, FAIL, submit
from tests.support.security import principal, registered_agent

POLICY = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"
COMPLETE = """mutation($t: String!, $a: String!, $f: Int!, $c: Float!) {
  completeTask(taskId: $t, agentId: $a, fence: $f, costUsd: $c, result: {ok: true}) {
    status costUsd } }"""
COMPLETE_MANY = """mutation($a: String!, $items: [CompletionInput!]!) {
  completeTasks(agentId: $a, items: $items) }"""
REPORT = """mutation($t: String!, $a: String!, $f: Int!, $u: Float!, $k: String!) {
  reportCost(taskId: $t, agentId: $a, fence: $f, usd: $u, key: $k) }"""
TASK = "query($id: ID!) { task(id: $id) { status costUsd result agentId fence } }"
AUDIT = """query($actor: String, $agent: String) {
  auditLog(actor: $actor, agent: $agent, first: 200) {
    nodes { seq type actor agentId subject } } }"""


async def digest_but_violations(store: GraphStore) -> str:
    """The graph digest, leaving out policy.violation events (their edges, and the event
    counter they advance)."""
    nodes = await store.execute_text(
        "MATCH (n) WHERE NOT (n:Event AND n.type = 'policy.violation') AND NOT n:Counter "
        "RETURN labels(n) AS l, properties(n) AS p"
    )
    for n in nodes:
        n["p"] = {k: v for k, v in (n["p"] or {}).items() if k != "_lk"}
    edges = await store.execute_text(
        "MATCH (a)-[r]->(b) WHERE NOT (a:Event AND a.type = 'policy.violation') "
        "RETURN type(r) AS t, properties(r) AS p, a.id AS a, b.id AS b"
    )
    items = sorted(json.dumps(x, sort_keys=True, default=str) for x in nodes + edges)
    return hashlib.sha256("\n".join(items).encode()).hexdigest()


async def violations(store: GraphStore) -> list[dict[str, object]]:
    return await store.execute_text(
        "MATCH (e:Event {type: 'policy.violation'}) "
        "RETURN e.subject AS subject, e.actor AS actor, e.agentId AS agent ORDER BY e.seq"
    )


async def test_a_completion_over_max_cost_per_task_is_refused(api: App) -> None:
    w = await registered_agent(api, "spender", ["diagnose"], max_concurrency=5)
    await api.admin(
        POLICY,
        i={
            "id": "cap",
            "name": "cap",
            "scope": "AGENT",
            "targetId": "spender",
            "maxCostPerTask": 0.5,
        },
    )
    t = await submit(api.admin)
    got = (await w(CLAIM, a="spender"))["claimTask"]
    before = await digest_but_violations(api.store)
    body = await w.raw(COMPLETE, {"t": t["id"], "a": "spender", "f": got["fence"], "c": 2.0})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    assert "maxCostPerTask" in body["errors"][0]["message"]
    assert await digest_but_violations(api.store) == before  # only the violation was written
    assert await violations(api.store) == [
        {"subject": t["id"], "actor": "p-spender", "agent": "spender"}
    ]
    held = (await api.admin(TASK, id=t["id"]))["task"]
    assert (held["status"], held["costUsd"], held["result"]) == ("running", 0.0, None)
    # Within the cap it completes; the spend is recorded.
    ok = await w(COMPLETE, t=t["id"], a="spender", f=got["fence"], c=0.3)
    assert ok["completeTask"] == {"status": "done", "costUsd": 0.3}

    # Spend reported on its own already happened: recorded and audited, and the task, now
    # over its cap, cannot complete; failing it is always accepted.
    t2 = await submit(api.admin)
    got2 = (await w(CLAIM, a="spender"))["claimTask"]
    assert (await w(REPORT, t=t2["id"], a="spender", f=got2["fence"], u=1.5, k="llm-1"))[
        "reportCost"
    ] is True
    before = await digest_but_violations(api.store)
    codes = await w.fails(COMPLETE, t=t2["id"], a="spender", f=got2["fence"], c=0.0)
    assert codes == ["FORBIDDEN"]
    assert await digest_but_violations(api.store) == before
    failed = await w(FAIL, t=t2["id"], a="spender", f=got2["fence"], e="over budget", retry=False)
    assert failed["failTask"]["status"] == "failed"

    # In bulk, an item over the cap is left untouched like any refused item.
    t3, t4 = await submit(api.admin), await submit(api.admin)
    a3 = (await w(CLAIM, a="spender"))["claimTask"]
    a4 = (await w(CLAIM, a="spender"))["claimTask"]
    assert {a3["id"], a4["id"]} == {t3["id"], t4["id"]}
    earlier = len(await violations(api.store))
    done = await w(
        COMPLETE_MANY,
        a="spender",
        items=[
            {"taskId": a3["id"], "fence": a3["fence"], "costUsd": 0.2},
            {"taskId": a4["id"], "fence": a4["fence"], "costUsd": 0.9},
        ],
    )
    assert done["completeTasks"] == [a3["id"]]
    left = (await api.admin(TASK, id=a4["id"]))["task"]
    assert (left["status"], left["costUsd"]) == ("running", 0.0)
    # ...and audited like a refused completeTask: one violation, naming the cost.
    seen = await violations(api.store)
    assert seen[-1] == {"subject": a4["id"], "actor": "p-spender", "agent": "spender"}
    assert len(seen) == earlier + 1, seen
    # A stale item is not a violation (nothing to audit): it is just not accepted.
    stale = await w(
        COMPLETE_MANY,
        a="spender",
        items=[{"taskId": a4["id"], "fence": a4["fence"] + 7, "costUsd": 0.1}],
    )
    assert stale["completeTasks"] == [] and len(await violations(api.store)) == earlier + 1
    rows = await api.store.execute_text(
        "MATCH (e:Event {type: 'policy.violation', subject: $s}) RETURN e.payload AS p", s=a4["id"]
    )
    assert "maxCostPerTask" in json.loads(rows[-1]["p"])["attempt"]


async def test_one_agent_has_one_audit_identity(api: App) -> None:
    w = await registered_agent(api, "audited", ["diagnose"], max_concurrency=2)
    await api.admin(
        POLICY,
        i={
            "id": "cap2",
            "name": "cap2",
            "scope": "AGENT",
            "targetId": "audited",
            "maxCostPerTask": 0.5,
        },
    )
    t = await submit(api.admin)
    got = (await w(CLAIM, a="audited"))["claimTask"]
    await w('mutation { heartbeat(agentId: "audited") { status } }')
    await w(REPORT, t=t["id"], a="audited", f=got["fence"], u=0.1, k="k1")
    await w.fails(COMPLETE, t=t["id"], a="audited", f=got["fence"], c=5.0)  # a violation
    await w(COMPLETE, t=t["id"], a="audited", f=got["fence"], c=0.1)
    by_actor = (await api.admin(AUDIT, actor="p-audited"))["auditLog"]["nodes"]
    types = [e["type"] for e in by_actor]
    for kind in (
        "agent.registered",
        "task.claimed",
        "cost.reported",
        "policy.violation",
        "task.completed",
    ):
        assert kind in types, (kind, types)
    assert {e["agentId"] for e in by_actor} == {"audited"}
    # Nothing the agent did is filed under its bare agent id as the actor.
    assert (await api.admin(AUDIT, actor="audited"))["auditLog"]["nodes"] == []
    by_agent = (await api.admin(AUDIT, agent="audited"))["auditLog"]["nodes"]
    assert [e["seq"] for e in by_agent] == [e["seq"] for e in by_actor]
    # An operator's own actions stay under the operator.
    op = await principal(api, "op-9", "OPERATOR", kind="human")
    await op('mutation { setAgentStatus(agentId: "audited", status: PAUSED) { status } }')
    mine = (await api.admin(AUDIT, actor="op-9"))["auditLog"]["nodes"]
    assert [e["type"] for e in mine] == ["agent.paused"]
