"""Issue 21 (the first hour), API parts: what an integrator had to guess.

A trigger that matches an event but cannot start says so to the caller of ``emitEvent`` and
in the log (``trigger.skipped``); the README's example starts the security review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.core import triggers
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.graphs import GraphTarget

README = Path(__file__).resolve().parents[2] / "README.md"
EMIT = """mutation($t: String!, $s: String, $p: JSON, $k: String) {
  emitEvent(type: $t, subject: $s, payload: $p, key: $k) {
    seq triggers { triggerId workflow willStart code reason } } }"""
RUNS = "query($w: String) { runs(workflow: $w, first: 50) { nodes { id input } } }"
SKIPS = """{ events(types: ["trigger.skipped"], first: 50) { nodes { seq type actor subject
  payload } } }"""


@pytest.fixture
def app(seeded_app: App) -> App:
    return seeded_app


async def fire(app: App) -> int:
    return await triggers.fire(app.store, now=app.rt.now())


async def test_a_trigger_that_cannot_start_is_visible_to_the_caller_and_in_the_log(
    app: App,
) -> None:
    got = (
        await app.admin(EMIT, t="deployment.created", s="dep-checkout-412", p={"version": "4.12"})
    )["emitEvent"]
    assert got["triggers"] == [
        {
            "triggerId": "security-review#0",
            "workflow": "security-review",
            "willStart": False,
            "code": "BAD_INPUT",
            "reason": "missing input 'deployment' (workflow security-review needs deployment)",
        }
    ]
    assert await fire(app) == 0
    assert await fire(app) == 0  # read again: recorded once
    skips = (await app.admin(SKIPS))["events"]["nodes"]
    assert len(skips) == 1
    assert skips[0]["subject"] == "security-review#0"
    assert skips[0]["actor"] == "trigger:security-review#0"
    assert skips[0]["payload"] == {
        "triggerId": "security-review#0",
        "workflow": "security-review",
        "eventSeq": got["seq"],
        "eventType": "deployment.created",
        "code": "BAD_INPUT",
        "reason": "missing input 'deployment' (workflow security-review needs deployment)",
    }
    # a `when` that does not hold is no error: not listed, nothing recorded
    low = (await app.admin(EMIT, t="alert.fired", p={"severity": "low"}))["emitEvent"]
    assert low["triggers"] == []
    # an event nobody listens for
    assert (await app.admin(EMIT, t="nobody.listens"))["emitEvent"]["triggers"] == []
    await fire(app)
    assert len((await app.admin(SKIPS))["events"]["nodes"]) == 1
    # clients may not forge the engine's trigger.* events
    assert await app.admin.fails(EMIT, t="trigger.skipped") == ["BAD_INPUT"]


async def test_the_readme_emit_event_example_starts_the_security_review(app: App) -> None:
    line = next(
        x
        for x in README.read_text().splitlines()
        if 'emitEvent(type: \\"deployment.created\\"' in x
    )
    body = json.loads(line[line.index("'") + 1 : line.rindex("'")])
    got: dict[str, Any] = await app.admin(body["query"])
    assert got["emitEvent"]["triggers"] == [
        {"workflow": "security-review", "willStart": True, "reason": None}
    ]
    assert await fire(app) == 1
    runs = (await app.admin(RUNS, w="security-review"))["runs"]["nodes"]
    assert [r["input"]["deployment"] for r in runs] == ["dep-checkout-412"]
    assert (await app.admin(SKIPS))["events"]["nodes"] == []


SET = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"
PROPOSE = """mutation($i: ProposeActionInput!) { proposeAction(input: $i) {
  id status createdAt deadline policyId threshold } }"""


async def test_a_pending_proposal_names_its_policy_and_its_sla_deadline(app: App) -> None:
    from tests.support.coord import CLAIM, agent, submit

    await app.admin(
        SET,
        i={
            "id": "g",
            "name": "g",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.9,
            "approvers": ["alice"],
            "approvalSlaMs": 60_000,
        },
    )
    w = await agent(app, "fixer", ["fix"], team="sre")
    await submit(app.admin, capability="fix")
    t = (await w(CLAIM, a="fixer"))["claimTask"]
    p = (
        await w(
            PROPOSE,
            i={
                "taskId": t["id"],
                "agentId": "fixer",
                "fence": t["fence"],
                "kind": "restart",
                "summary": "restart",
                "confidence": 0.5,
            },
        )
    )["proposeAction"]
    assert p["status"] == "pending"
    assert p["policyId"] == "g"
    assert p["deadline"] == p["createdAt"] + 60_000
    alone = (
        await app.admin("query($id: ID!) { proposal(id: $id) { deadline policyId } }", id=p["id"])
    )["proposal"]
    assert alone == {"deadline": p["deadline"], "policyId": "g"}


REPORT = """mutation($t: String!, $a: String!, $f: Int!, $u: Float!, $k: String!) {
  reportCost(taskId: $t, agentId: $a, fence: $f, usd: $u, key: $k) }"""
COSTS = "query($id: ID!) { task(id: $id) { costUsd treeCostUsd } }"


async def test_report_cost_answers_an_error_for_a_task_not_held_and_tree_cost_rolls_up(
    app: App,
) -> None:
    from tests.support.coord import CLAIM, agent, submit

    mine = await agent(app, "mine", ["work"])
    theirs = await agent(app, "theirs", ["other"])
    parent = await submit(app.admin, capability="work")
    child = await submit(app.admin, capability="other", parentId=parent["id"])
    held = (await mine(CLAIM, a="mine"))["claimTask"]
    got = (await theirs(CLAIM, a="theirs"))["claimTask"]
    assert (held["id"], got["id"]) == (parent["id"], child["id"])
    assert (await mine(REPORT, t=held["id"], a="mine", f=held["fence"], u=1.25, k="a"))[
        "reportCost"
    ] is True
    assert (await mine(REPORT, t=held["id"], a="mine", f=held["fence"], u=1.25, k="a"))[
        "reportCost"
    ] is True  # a resend: counted once
    assert (await theirs(REPORT, t=got["id"], a="theirs", f=got["fence"], u=0.5, k="b"))[
        "reportCost"
    ] is True
    # another agent's task, a stale token, an unknown task: errors, not `false`
    assert await mine.fails(REPORT, t=got["id"], a="mine", f=got["fence"], u=9.0, k="x") == [
        "FORBIDDEN"
    ]
    assert await mine.fails(REPORT, t=held["id"], a="mine", f=held["fence"] + 1, u=9.0, k="y") == [
        "CONFLICT"
    ]
    assert await mine.fails(REPORT, t="task_nope", a="mine", f=1, u=9.0, k="z") == ["NOT_FOUND"]
    assert (await app.admin(COSTS, id=parent["id"]))["task"] == {
        "costUsd": 1.25,
        "treeCostUsd": 1.75,
    }
    assert (await app.admin(COSTS, id=child["id"]))["task"] == {"costUsd": 0.5, "treeCostUsd": 0.5}


BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "malformed JSON": (b'{"query": "{ me { id } }"', "application/json"),
    "empty body": (b"", "application/json"),
    "no query": (b"{}", "application/json"),
    "empty query": (b'{"query": ""}', "application/json"),
    "query not a string": (b'{"query": 5}', "application/json"),
    "variables not an object": (
        b'{"query": "{ me { id } }", "variables": [1]}',
        "application/json",
    ),
    "not JSON at all": (b"query { me { id } }", "text/plain"),
    "syntax error": (b'{"query": "{ me { id "}', "application/json"),
    "unknown field": (b'{"query": "{ nope }"}', "application/json"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
async def test_a_bad_request_answers_a_coded_graphql_error_logged_below_error(
    app: App, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, ctype = BAD_BODIES[case]
    with caplog.at_level("DEBUG"):
        r = await app.http.post(
            f"{app.url}/graphql",
            content=body,
            headers={"Authorization": f"Bearer {app.admin.token}", "content-type": ctype},
        )
    assert r.status_code in (200, 400), r.text
    assert r.headers["content-type"].startswith("application/json"), r.text
    errors = r.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_INPUT"], errors
    assert errors[0]["message"]
    loud = [x for x in caplog.records if x.levelno >= 40]
    assert not loud, [(x.name, x.getMessage()) for x in loud]


async def test_one_cursor_story_events_and_graph_changes_take_the_same_seq(app: App) -> None:
    from tests.support.gql import next_data, subscribe

    head = int((await app.admin("{ eventHead }"))["eventHead"])
    seqs = [
        (await app.admin(EMIT, t="cursor.tick", p={"i": i}))["emitEvent"]["seq"] for i in range(3)
    ]
    page = (
        await app.admin(
            'query($a: Long) { events(after: $a, first: 2, types: ["cursor.tick"]) { '
            "nodes { seq } pageInfo { endCursor hasNextPage } } }",
            a=head,
        )
    )["events"]
    assert [n["seq"] for n in page["nodes"]] == seqs[:2]
    assert page["pageInfo"] == {"endCursor": seqs[1], "hasNextPage": True}
    audit = (
        await app.admin(
            'query($a: Long) { auditLog(after: $a, types: ["cursor.tick"]) { nodes { seq } } }',
            a=page["pageInfo"]["endCursor"],
        )
    )["auditLog"]["nodes"]
    assert [n["seq"] for n in audit] == seqs[2:]
    sub = 'subscription($a: Long) { graphChanges(after: $a, types: ["cursor.tick"]) { seq } }'
    async with subscribe(app.url, app.admin.token, sub, {"a": page["pageInfo"]["endCursor"]}) as ws:
        assert (await next_data(ws))["graphChanges"]["seq"] == seqs[2]
    schema = (
        await app.admin(
            "{ __schema { subscriptionType { fields { name args { name "
            "type { name ofType { name } } } } } queryType { fields { name "
            "args { name type { name } } } } } }"
        )
    )["__schema"]
    subs = {
        f["name"]: {a["name"]: a["type"]["name"] or a["type"]["ofType"]["name"] for a in f["args"]}
        for f in schema["subscriptionType"]["fields"]
    }
    queries = {
        f["name"]: {a["name"]: a["type"]["name"] for a in f["args"]}
        for f in schema["queryType"]["fields"]
    }
    cursors = {n: a["after"] for n, a in subs.items() if "after" in a}
    cursors |= {n: queries[n]["after"] for n in ("events", "auditLog")}
    assert set(cursors.values()) == {"Long"}, cursors


async def test_a_pull_only_agent_is_never_pushed_work_and_its_leases_still_expire(
    graph: GraphTarget,
) -> None:
    from app.core.clock import ManualClock
    from tests.support.coord import CLAIM, recover, route, submit, task

    clock = ManualClock(1_700_000_000_000)
    app = await start_app(graph, fresh_name(), clock=clock, scheduler=False)
    try:
        made = await app.admin(
            "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
            i={
                "id": "p-puller",
                "kind": "agent",
                "name": "puller",
                "roles": ["AGENT"],
                "agentId": "puller",
            },
        )
        w = app.client(made["createPrincipal"]["token"])
        got = (
            await w(
                "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { mode } }",
                i={
                    "id": "puller",
                    "name": "puller",
                    "capabilities": ["pull"],
                    "maxConcurrency": 5,
                    "mode": "PULL",
                },
            )
        )["registerAgent"]
        assert got == {"mode": "PULL"}
        t = await submit(app.admin, capability="pull")
        assert await route(app) == 0  # the routing job leaves it alone
        assert (await task(app.admin, t["id"]))["status"] == "queued"
        held = (await w(CLAIM, a="puller"))["claimTask"]
        assert held["id"] == t["id"] and held["status"] == "running"  # a claim starts it
        clock.advance(app.settings.lease_ms + 1)
        await recover(app)  # its lease runs out like any other
        after = await task(app.admin, t["id"])
        assert after["status"] == "queued" and after["agentId"] is None
        assert await route(app) == 0
        listed = (await app.admin('{ agent(id: "puller") { mode } }'))["agent"]
        assert listed == {"mode": "PULL"}
    finally:
        await app.store.drop_all()
        await stop_app(app)
