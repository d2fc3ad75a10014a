"""Coordination core end to end: real app over HTTP/WS, real graph, manual clock.

Scheduler jobs are run explicitly (``route``/``recover``), exactly as the scheduler runs them.
"""

from __future__ import annotations

import asyncio

from app.core.clock import ManualClock
from tests.conftest import App
from tests.support.coord import (
    ASSIGNED,
    CLAIM,
    COMPLETE,
    FAIL,
    START,
    agent,
    recover,
    route,
    submit,
    task,
)
from tests.support.digest import graph_digest
from tests.support.gql import GraphQLFailure, event_head, next_data, subscribe
from tests.support.invariants import all_events

Clocked = tuple[App, ManualClock]


async def test_push_routing_reaches_the_agent_through_its_subscription(api: App) -> None:
    a1 = await agent(api, "rootcause", ["diagnose"], max_concurrency=2)
    head = await event_head(api.admin)
    async with subscribe(api.url, a1.token, ASSIGNED, {"a": "rootcause", "after": head}) as q:
        t = await submit(api.admin, priority=70, payload={"service": "svc-web"})
        assert t["status"] == "queued"
        assert await route(api) == 1
        got = (await next_data(q))["taskAssigned"]
    assert got["type"] == "task.assigned" and got["taskId"] == t["id"] and got["fence"] == 1
    started = (await a1(START, t=t["id"], a="rootcause", f=1))["startTask"]
    assert started["status"] == "running"
    done = (await a1(COMPLETE, t=t["id"], a="rootcause", f=1, r={"cause": "db"}))["completeTask"]
    assert done["status"] == "done" and done["result"] == {"cause": "db"}
    assert [h["outcome"] for h in done["history"]] == ["done"]
    a = (await api.admin('{ agent(id: "rootcause") { active done status } }'))["agent"]
    assert a == {"active": 0, "done": 1, "status": "online"}


async def test_assignment_events_carry_payloads_of_every_length(api: App) -> None:
    """The task.assigned payload is built in Cypher around the task's own JSON; whatever its
    length (FalkorDB's `+` drops data when its left side is exactly 512 characters long), the
    event decodes and carries the payload whole."""
    await agent(api, "wide", ["bulk"], max_concurrency=500)
    sizes = range(150, 650)
    subs = [{"kind": "sweep", "capability": "bulk", "payload": {"pad": "x" * n}} for n in sizes]
    made = await api.admin(
        "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id } }", i=subs
    )
    want = {t["id"]: s["payload"] for t, s in zip(made["submitTasks"], subs, strict=True)}
    while await route(api):
        pass
    got = {
        e["subject"]: e["payload"]
        for e in await all_events(api.admin)
        if e["type"] == "task.assigned"
    }
    assert set(got) == set(want)
    for tid, payload in got.items():
        assert payload["payload"] == want[tid] and payload["agentId"] == "wide", tid


async def test_routing_prefers_priority_then_least_loaded_and_respects_capacity(api: App) -> None:
    await agent(api, "a1", ["diagnose"], max_concurrency=2)
    await agent(api, "a2", ["diagnose"], max_concurrency=2)
    await agent(api, "other", ["remediate"], max_concurrency=5)
    low = [await submit(api.admin, priority=10) for _ in range(3)]
    high = [await submit(api.admin, priority=90) for _ in range(2)]
    assert await route(api) == 4
    states = {t["id"]: await task(api.admin, t["id"]) for t in low + high}
    assert all(states[t["id"]]["status"] == "assigned" for t in high)
    assert sum(states[t["id"]]["status"] == "queued" for t in low) == 1
    holders = [s["agentId"] for s in states.values() if s["agentId"]]
    assert sorted(holders) == ["a1", "a1", "a2", "a2"]  # spread, never over capacity
    assert {s["agentId"] for t in high for s in [states[t["id"]]]} == {"a1", "a2"}


async def test_claim_pulls_the_best_task_and_only_for_itself(api: App) -> None:
    a1 = await agent(api, "puller", ["diagnose", "triage"], max_concurrency=3)
    await submit(api.admin, priority=20)
    best = await submit(api.admin, capability="triage", priority=80)
    got = (await a1(CLAIM, a="puller"))["claimTask"]
    assert got["id"] == best["id"] and got["status"] == "running" and got["fence"] == 1
    assert await a1.fails(CLAIM, a="someone-else") == ["FORBIDDEN"]
    nothing = await agent(api, "idle", ["paint"])
    assert (await nothing(CLAIM, a="idle"))["claimTask"] is None


async def test_dedup_key_submitted_concurrently_yields_one_task(api: App) -> None:
    results = await asyncio.gather(
        *(submit(api.admin, dedupKey="incident-42", payload={"n": 1}) for _ in range(20))
    )
    assert len({r["id"] for r in results}) == 1
    rows = await api.store.execute_text(
        "MATCH (t:Task {dedupKey: 'incident-42'}) RETURN count(t) AS n"
    )
    assert rows[0]["n"] == 1
    # Other content under the same key while it is active: merged into the survivor.
    merged = await submit(api.admin, dedupKey="incident-42", payload={"n": 2})
    assert merged["status"] == "merged" and merged["mergedInto"] == results[0]["id"]
    survivor = await api.admin(
        "query($id: ID!) { task(id: $id) { survivor { id status } } }", id=merged["id"]
    )
    assert survivor["task"]["survivor"]["id"] == results[0]["id"]


async def test_crashed_agent_loses_its_task_and_its_late_result(api_clock: Clocked) -> None:
    api, clock = api_clock
    first = await agent(api, "first", ["diagnose"])
    second = await agent(api, "second", ["diagnose"])
    await api.admin('mutation { setAgentStatus(agentId: "second", status: PAUSED) { status } }')
    t = await submit(api.admin)
    got = (await first(CLAIM, a="first"))["claimTask"]
    assert got["id"] == t["id"] and got["fence"] == 1
    # "first" stops heartbeating; the lease (30 s) runs out.
    clock.advance(api.settings.lease_ms + 1)
    await second("""mutation { heartbeat(agentId: "second") { status } }""")
    assert await recover(api) == 1
    requeued = await task(api.admin, t["id"])
    assert requeued["status"] == "queued" and requeued["attempts"] == 1
    assert requeued["errors"][0]["error"] == "lease expired"
    await api.admin('mutation { setAgentStatus(agentId: "second", status: ONLINE) { status } }')
    clock.advance(120_000)  # past any backoff
    await second("""mutation { heartbeat(agentId: "second") { status } }""")
    again = (await second(CLAIM, a="second"))["claimTask"]
    assert again["id"] == t["id"] and again["fence"] == 2
    done = await second(COMPLETE, t=t["id"], a="second", f=2, r={"by": "second"})
    assert done["completeTask"]["status"] == "done"
    # The presumed-dead worker wakes up and reports: refused, and the result stays.
    assert await first.fails(COMPLETE, t=t["id"], a="first", f=1, r={"by": "first"}) == ["CONFLICT"]
    final = await task(api.admin, t["id"])
    assert final["result"] == {"by": "second"} and final["attempts"] == 2
    assert [(h["agentId"], h["outcome"]) for h in final["history"]] == [
        ("first", "lease_expired"),
        ("second", "done"),
    ]


async def test_retries_back_off_then_dead_letter_and_requeue(api_clock: Clocked) -> None:
    api, clock = api_clock
    w = await agent(api, "flaky", ["diagnose"])
    t = await submit(api.admin, maxAttempts=2)
    got = (await w(CLAIM, a="flaky"))["claimTask"]
    failed = await w(FAIL, t=t["id"], a="flaky", f=got["fence"], e="timeout", retry=True)
    retry = failed["failTask"]
    assert retry["status"] == "queued" and retry["notBefore"] > clock.now()
    assert (await w(CLAIM, a="flaky"))["claimTask"] is None  # still backing off
    clock.advance(60_001)
    got = (await w(CLAIM, a="flaky"))["claimTask"]
    assert got["fence"] == 2
    dead = (await w(FAIL, t=t["id"], a="flaky", f=2, e="timeout again", retry=True))["failTask"]
    assert dead["status"] == "dead"
    assert [e["error"] for e in dead["errors"]] == ["timeout", "timeout again"]
    back = await api.admin(
        "mutation($t: String!) { requeueDead(taskId: $t) { status attempts fence } }", t=t["id"]
    )
    assert back["requeueDead"] == {"status": "queued", "attempts": 0, "fence": 2}
    got = (await w(CLAIM, a="flaky"))["claimTask"]
    assert got["fence"] == 3  # fencing tokens never go backwards
    final = (await w(FAIL, t=t["id"], a="flaky", f=3, e="bad input", retry=False))["failTask"]
    assert final["status"] == "failed"


async def test_tasks_on_one_resource_never_run_together(api: App) -> None:
    workers = {
        "x1": await agent(api, "x1", ["remediate"]),
        "x2": await agent(api, "x2", ["remediate"]),
    }
    one = await submit(api.admin, capability="remediate", resources=["db-main"])
    two = await submit(api.admin, capability="remediate", resources=["db-main"])
    free = await submit(api.admin, capability="remediate", resources=["cache"])
    assert await route(api) == 2
    states = {t["id"]: (await task(api.admin, t["id"]))["status"] for t in (one, two, free)}
    assert states[free["id"]] == "assigned"
    assert sorted([states[one["id"]], states[two["id"]]]) == ["assigned", "queued"]
    holder_id = one["id"] if states[one["id"]] == "assigned" else two["id"]
    waiting_id = two["id"] if holder_id == one["id"] else one["id"]
    holder = await task(api.admin, holder_id)
    assert await route(api) == 0  # still locked
    done = await workers[holder["agentId"]](
        COMPLETE, t=holder_id, a=holder["agentId"], f=holder["fence"]
    )  # the holder itself reports
    assert done["completeTask"]["status"] == "done"
    assert await route(api) == 1
    assert (await task(api.admin, waiting_id))["status"] == "assigned"


LOCK = """mutation($i: AcquireLockInput!) { acquireLock(input: $i) { outcome granted holder } }"""


async def test_explicit_locks_wait_expire_and_preempt(api_clock: Clocked) -> None:
    api, clock = api_clock
    a = await agent(api, "la", ["remediate"])
    b = await agent(api, "lb", ["remediate"])
    t1 = await submit(api.admin, capability="remediate", priority=10)
    got1 = (await a(CLAIM, a="la"))["claimTask"]
    t2 = await submit(api.admin, capability="remediate", priority=95)
    got2 = (await b(CLAIM, a="lb"))["claimTask"]
    assert (got1["id"], got2["id"]) == (t1["id"], t2["id"])
    r1 = await a(LOCK, i={"resourceId": "k8s", "taskId": t1["id"], "fence": 1, "ttlMs": 5_000})
    assert r1["acquireLock"]["outcome"] == "acquired"
    r2 = await b(LOCK, i={"resourceId": "k8s", "taskId": t2["id"], "fence": 1})
    assert r2["acquireLock"] == {"outcome": "waiting", "granted": False, "holder": t1["id"]}
    # Agents lock only for their own tasks; a stale token is refused.
    assert await b.fails(LOCK, i={"resourceId": "k8s", "taskId": t1["id"], "fence": 1}) == [
        "CONFLICT"
    ]
    clock.advance(5_001)  # the holder's TTL runs out (it crashed, say)
    r3 = await b(LOCK, i={"resourceId": "k8s", "taskId": t2["id"], "fence": 1})
    assert r3["acquireLock"]["outcome"] == "acquired"
    # Pre-emption: the critical task takes a lock held by a lower-priority one.
    await b(
        "mutation($r: String!, $t: String!) { releaseLock(resourceId: $r, taskId: $t, fence: 1) }",
        r="k8s",
        t=t2["id"],
    )
    r4 = await a(LOCK, i={"resourceId": "k8s", "taskId": t1["id"], "fence": 1, "priority": 10})
    assert r4["acquireLock"]["outcome"] == "acquired"
    head = await event_head(api.admin)
    async with subscribe(api.url, a.token, ASSIGNED, {"a": "la", "after": head}) as q:
        r5 = await b(
            LOCK,
            i={
                "resourceId": "k8s",
                "taskId": t2["id"],
                "fence": 1,
                "priority": 95,
                "preempt": True,
            },
        )
        assert r5["acquireLock"]["outcome"] == "preempted"
        told = (await next_data(q))["taskAssigned"]
    assert told["type"] == "task.preempted" and told["taskId"] == t1["id"]
    back = await task(api.admin, t1["id"])
    assert back["status"] == "queued" and back["history"][-1]["outcome"] == "preempted"
    assert await a.fails(COMPLETE, t=t1["id"], a="la", f=1) == ["CONFLICT"]


async def test_rate_limits_refuse_and_routing_waits(api_clock: Clocked) -> None:
    api, clock = api_clock
    await api.admin(
        """mutation { defineResource(input: {id: "openai", rateLimit: 2, windowMs: 1000})
           { id tokens } }"""
    )
    w = await agent(api, "caller", ["summarise"], max_concurrency=5)
    consume = 'mutation { consumeRate(resourceId: "openai") { allowed retryAfterMs } }'
    assert (await w(consume))["consumeRate"]["allowed"] is True
    assert (await w(consume))["consumeRate"]["allowed"] is True
    third = (await w(consume))["consumeRate"]
    assert third["allowed"] is False and 0 < third["retryAfterMs"] <= 1000
    t = await submit(api.admin, capability="summarise", resources=["openai"])
    assert await route(api) == 0  # no tokens: the task waits
    clock.advance(600)
    assert await route(api) == 1
    assert (await task(api.admin, t["id"]))["status"] == "assigned"


async def test_overlapping_work_is_deferred_then_released(api: App) -> None:
    await api.store.execute_text(
        "CREATE (:Domain {id: 'd'})<-[:IN_DOMAIN]-(:Entity {id: 'svc-web', kind: 'service'})"
    )
    w = await agent(api, "diag", ["diagnose"], max_concurrency=3)
    first = await submit(api.admin, entities=["svc-web"])
    second = await submit(api.admin, entities=["svc-web"])
    other = await submit(api.admin, capability="diagnose", entities=[])
    assert second["status"] == "deferred" and second["deferredBehind"] == [first["id"]]
    assert await route(api) == 2  # first and other; second waits behind first
    f = await task(api.admin, first["id"])
    await w(COMPLETE, t=first["id"], a="diag", f=f["fence"])
    assert await route(api) == 1
    assert (await task(api.admin, second["id"]))["status"] == "assigned"
    assert (await task(api.admin, other["id"]))["status"] == "assigned"


async def test_cancel_tells_the_agent_and_fences_it_out(api: App) -> None:
    w = await agent(api, "worker", ["diagnose"])
    t = await submit(api.admin)
    head = await event_head(api.admin)
    async with subscribe(api.url, w.token, ASSIGNED, {"a": "worker", "after": head}) as q:
        await route(api)
        assert (await next_data(q))["taskAssigned"]["type"] == "task.assigned"
        await api.admin(
            'mutation($t: String!) { cancelTask(taskId: $t, reason: "superseded") { status } }',
            t=t["id"],
        )
        told = (await next_data(q))["taskAssigned"]
    assert told["type"] == "task.cancelled" and told["taskId"] == t["id"]
    assert await w.fails(COMPLETE, t=t["id"], a="worker", f=1) == ["CONFLICT"]
    a = (await api.admin('{ agent(id: "worker") { active } }'))["agent"]
    assert a["active"] == 0


async def test_silent_agent_goes_offline_and_its_work_is_requeued(api_clock: Clocked) -> None:
    api, clock = api_clock
    w = await agent(api, "sleepy", ["diagnose"])
    t = await submit(api.admin)
    await w(CLAIM, a="sleepy")
    clock.advance(api.settings.heartbeat_timeout_ms + 1)
    await recover(api)
    a = (await api.admin('{ agent(id: "sleepy") { status active } }'))["agent"]
    assert a == {"status": "offline", "active": 0}
    assert (await task(api.admin, t["id"]))["status"] == "queued"
    hb = await w(
        'mutation($t: String!) { heartbeat(agentId: "sleepy", leases: [{taskId: $t, fence: 1}])'
        " { status lost } }",
        t=t["id"],
    )
    assert hb["heartbeat"] == {"status": "online", "lost": [t["id"]]}


BAD_SUBMITS = [
    {"kind": "x", "capability": "Not A Cap"},
    {"kind": "x", "capability": "diagnose", "priority": 500},
    {"kind": "x", "capability": "diagnose", "entities": ["no-such-entity"]},
    {"kind": "x", "capability": "diagnose", "parentId": "task_missing"},
    {"kind": "x", "capability": "diagnose", "resources": ["bad id!"]},
    {"kind": "x", "capability": "diagnose", "payload": [1, 2]},
    {"kind": "", "capability": "diagnose"},
]


async def test_bad_submissions_are_coded_and_write_nothing(api: App) -> None:
    before = await graph_digest(api.store)
    for bad in BAD_SUBMITS:
        try:
            await api.admin(
                "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }", i=bad
            )
        except GraphQLFailure as exc:
            assert exc.codes[0] in ("BAD_INPUT", "NOT_FOUND"), (bad, exc.codes)
        else:
            raise AssertionError(f"accepted {bad}")
        assert await graph_digest(api.store) == before, bad


async def test_agents_act_only_as_themselves(api: App) -> None:
    me = await agent(api, "me", ["diagnose"])
    await agent(api, "you", ["diagnose"])
    t = await submit(api.admin)
    got = (await me(CLAIM, a="me"))["claimTask"]
    assert got["id"] == t["id"]
    you_tok = await api.admin(
        """mutation { createPrincipal(input: {id: "p-you2", kind: "agent", name: "you",
           roles: [AGENT], agentId: "you"}) { token } }"""
    )
    you = api.client(you_tok["createPrincipal"]["token"])
    assert await you.fails(COMPLETE, t=t["id"], a="me", f=1) == ["FORBIDDEN"]
    assert await you.fails(COMPLETE, t=t["id"], a="you", f=1) == ["FORBIDDEN"]
    assert await you.fails(
        'mutation { registerAgent(input: {id: "me", name: "x", capabilities: ["a"]}) { id } }'
    ) == ["FORBIDDEN"]
