"""Finding 4: grants cover more than facts. Each attack is tried by the role that would try it
over the real API: an agent, an operator and an integration of teams that may not read the
customers domain try to read a customers task's payload and result, a proposal's payload and
rationale, the events about them (pull and live), and lineage through them. They see the
rows with null content (traversals skip the node); the task's own agent, the named approver,
a team that may read customers and the auditor see everything."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core import workflows
from tests.conftest import App
from tests.security.org import fact, org
from tests.security.ws import Socket
from tests.support.coord import CLAIM, COMPLETE, submit
from tests.support.gql import GQL
from tests.support.security import refused

TASK = "query($id: ID!) { task(id: $id) { id status payload result } }"
TASKS = "{ tasks(first: 100) { nodes { id payload result } } }"
PROPOSAL = "query($id: ID!) { proposal(id: $id) { id status payload rationale } }"
EVENTS = "{ events(first: 500) { nodes { seq type subject payload } } }"
AUDIT = "{ auditLog(first: 500) { nodes { seq type subject payload } } }"
LINEAGE = """query($id: ID!) { lineage(id: $id, direction: UPSTREAM, depth: 2) {
  nodes { id label } } }"""
PROPOSE = """mutation($i: ProposeActionInput!) { proposeAction(input: $i) { id status } }"""
SET = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"


async def scene(api: App) -> tuple[dict[str, GQL], dict[str, Any]]:
    """A customers task worked by agent-impact (customer-success), a proposal on it routed to
    erin, and a fact derived from it; submitted by the admin."""
    a = await org(api)
    await api.admin(
        SET,
        i={
            "id": "g",
            "name": "g",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.99,
            "approvers": ["erin"],
        },
    )
    a["erin"] = api.client(
        (await api.admin('mutation { rotateToken(principalId: "erin") }'))["rotateToken"]
    )
    t = await submit(
        api.admin,
        capability="business_impact",
        entities=["cust-acme"],
        payload={"customer": "ACME", "arr": 1_200_000},
    )
    got = (await a["cs"](CLAIM, a="agent-impact"))["claimTask"]
    p = (
        await a["cs"](
            PROPOSE,
            i={
                "taskId": t["id"],
                "agentId": "agent-impact",
                "fence": got["fence"],
                "kind": "refund",
                "summary": "refund ACME",
                "confidence": 0.5,
                "payload": {"amount": 50_000},
                "rationale": "ACME is churning",
            },
        )
    )["proposeAction"]
    f = (
        await fact(a["cs"], "agent-impact", "cust-acme", "churn", "likely", derivedFrom=[t["id"]])
    )["fact"]
    return a, {"task": t["id"], "proposal": p["id"], "fact": f["id"], "fence": got["fence"]}


def by_id(nodes: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    return {n[key]: n for n in nodes}


async def test_task_payload_and_result_only_for_readers(api: App) -> None:
    a, ids = await scene(api)
    await a["cs"](COMPLETE, t=ids["task"], a="agent-impact", f=ids["fence"], r={"impact": "high"})
    for who in ("pay", "sre", "bob", "alice", "integ"):  # no customers grant
        t = (await a[who](TASK, id=ids["task"]))["task"]
        assert t["status"] == "done" and t["payload"] is None and t["result"] is None, who
        row = by_id((await a[who](TASKS))["tasks"]["nodes"])[ids["task"]]
        assert row["payload"] is None and row["result"] is None, who
    for who in ("cs", "sales", "erin", "dan"):  # its agent, customers readers, the auditor
        t = (await a[who](TASK, id=ids["task"]))["task"]
        assert t["payload"] == {"customer": "ACME", "arr": 1_200_000}, who
        assert t["result"] == {"impact": "high"}, who


async def test_proposal_payload_and_rationale_only_for_readers(api: App) -> None:
    a, ids = await scene(api)
    for who in ("bob", "alice", "integ"):
        p = (await a[who](PROPOSAL, id=ids["proposal"]))["proposal"]
        assert p["status"] == "pending" and p["payload"] is None and p["rationale"] is None, who
    for who in ("cs", "erin", "dan"):  # its agent, the named approver, the auditor
        p = (await a[who](PROPOSAL, id=ids["proposal"]))["proposal"]
        assert p["payload"] == {"amount": 50_000} and p["rationale"] == "ACME is churning", who


async def test_events_about_unreadable_things_carry_no_payload(api: App) -> None:
    a, ids = await scene(api)
    about = {ids["task"], ids["proposal"], ids["fact"]}
    for who, query, field in (
        ("integ", EVENTS, "events"),
        ("bob", EVENTS, "events"),
        ("alice", AUDIT, "auditLog"),
    ):
        nodes = (await a[who](query))[field]["nodes"]
        mine = [n for n in nodes if n["subject"] in about]
        assert mine and all(n["payload"] is None for n in mine), (who, mine)
    nodes = (await a["dan"](AUDIT))["auditLog"]["nodes"]
    assert all(n["payload"] is not None for n in nodes if n["subject"] in about)


async def test_graph_changes_hide_payloads_live(api: App) -> None:
    a, ids = await scene(api)
    integ = a["integ"]
    sock = await Socket.open(api.url, integ.token or "")
    try:
        op = await sock.start(
            "subscription($after: Long) { graphChanges(after: $after) "
            "{ seq type subject payload } }",
            after=0,
        )
        seen: dict[int, dict[str, Any]] = {}
        async with asyncio.timeout(10):
            while not any(
                e["subject"] == ids["fact"] and e["type"] == "fact.asserted" for e in seen.values()
            ):
                msg = await sock.next(op)
                e = msg["payload"]["data"]["graphChanges"]
                seen[e["seq"]] = e
        about = {ids["task"], ids["proposal"], ids["fact"]}
        mine = [e for e in seen.values() if e["subject"] in about]
        assert mine and all(e["payload"] is None for e in mine), mine
    finally:
        await sock.close()


async def test_lineage_does_not_pass_through_unreadable_tasks(api: App) -> None:
    a, ids = await scene(api)
    sre = a["sre"]  # may read commerce, not customers: neither the fact nor the task
    nodes = by_id((await sre(LINEAGE, id=ids["task"]))["lineage"]["nodes"])
    assert ids["task"] not in nodes
    nodes = by_id((await a["sales"](LINEAGE, id=ids["fact"]))["lineage"]["nodes"])
    assert ids["task"] in nodes  # sales reads customers: fact and task
    nodes = by_id((await a["alice"](LINEAGE, id=ids["proposal"]))["lineage"]["nodes"])
    assert ids["task"] not in nodes and ids["proposal"] not in nodes


WHY = "query($id: ID!) { whyDid(id: $id) { root nodes edges decisions } }"


async def test_why_did_shows_only_what_the_operator_may_read(api: App) -> None:
    a, ids = await scene(api)
    # alice (operator, sre) may not read customers: nothing about the fact or its task.
    assert (await a["alice"](WHY, id=ids["fact"]))["whyDid"] is None
    assert (await a["alice"](WHY, id=ids["task"]))["whyDid"] is None
    # erin (operator, customer-success) and the auditor see the chain back to the task.
    for who in ("erin", "dan"):
        why = (await a[who](WHY, id=ids["fact"]))["whyDid"]
        assert {n["id"] for n in why["nodes"]} >= {ids["fact"], ids["task"]}, who


RUN = """query($id: ID!) { run(id: $id) { id status input result error
  steps { stepId status result note } } }"""
RUNS = "{ runs(first: 50) { nodes { id input result } } }"
TRACE = "query($id: ID!) { trace(runId: $id) { spans { taskId kind } } }"
START_RUN = """mutation($n: String!, $i: JSON, $r: String) {
  startWorkflow(name: $n, input: $i, runId: $r) { id input result } }"""
FLOW = {
    "name": "acme-review",
    "inputs": ["customer"],
    "steps": [{"id": "look", "capability": "diagnose", "input": {"customer": "$input.customer"}}],
}


async def run_scene(api: App) -> tuple[dict[str, GQL], dict[str, Any]]:
    """A run started by the integration whose one step (worked by agent-rootcause, sre)
    handed a sub-task on cust-acme (customers) to agent-impact; both done, the run done."""
    a = await org(api)
    await api.admin("mutation($d: JSON) { defineWorkflow(definition: $d) { name } }", d=FLOW)
    run = (await a["integ"](START_RUN, n=FLOW["name"], i={"customer": "ACME"}, r="acme-1"))[
        "startWorkflow"
    ]
    await workflows.advance(api.store, run["id"], now=api.rt.now(), lease_ms=30_000)
    step = (await a["sre"](CLAIM, a="agent-rootcause"))["claimTask"]
    sub = await submit(
        a["sre"],
        capability="business_impact",
        entities=["cust-acme"],
        parentId=step["id"],
        payload={"customer": "ACME", "arr": 1_200_000},
    )
    got = (await a["cs"](CLAIM, a="agent-impact"))["claimTask"]
    assert got["id"] == sub["id"]
    await a["cs"](COMPLETE, t=sub["id"], a="agent-impact", f=got["fence"], r={"churn": "likely"})
    await a["sre"](
        COMPLETE, t=step["id"], a="agent-rootcause", f=step["fence"], r={"cause": "ACME churn risk"}
    )
    await workflows.advance(api.store, run["id"], now=api.rt.now(), lease_ms=30_000)
    return a, {"run": run["id"], "step": step["id"], "sub": sub["id"]}


async def test_runs_and_traces_show_only_what_the_caller_may_read(api: App) -> None:
    a, ids = await run_scene(api)
    full = (await api.admin(RUN, id=ids["run"]))["run"]
    assert full["status"] == "done" and full["input"] == {"customer": "ACME"}
    assert full["result"] is not None
    # alice (operator, sre) and agent-payments may not read the customers sub-task: the run's
    # input and result stay hidden, and the trace leaves the sub-task out.
    for who in ("alice", "pay", "bob"):
        r = (await a[who](RUN, id=ids["run"]))["run"]
        assert (r["status"], r["input"], r["result"]) == ("done", None, None), who
        row = by_id((await a[who](RUNS))["runs"]["nodes"])[ids["run"]]
        assert row["input"] is None and row["result"] is None, who
    for who in ("alice", "bob"):  # trace is an operator's and auditor's read
        t = (await a[who](TRACE, id=ids["run"]))["trace"]
        seen = {s["taskId"] for s in t["spans"]}
        assert ids["sub"] not in seen and ids["step"] in seen, who
    # The integration started it: it sees the input it gave, not what came of it.
    r = (await a["integ"](RUN, id=ids["run"]))["run"]
    assert (r["input"], r["result"]) == ({"customer": "ACME"}, None)
    # Readers of customers and the auditor see the whole run, and the sub-task in the trace.
    for who in ("sales", "dan"):
        r = (await a[who](RUN, id=ids["run"]))["run"]
        assert (r["input"], r["result"], r["steps"]) == (
            full["input"],
            full["result"],
            full["steps"],
        ), who
    t = (await a["dan"](TRACE, id=ids["run"]))["trace"]
    assert ids["sub"] in {s["taskId"] for s in t["spans"]}


async def test_a_client_run_id_is_its_starters_alone(api: App) -> None:
    a, ids = await run_scene(api)
    # Another principal naming the same run id gets CONFLICT, not the integration's run;
    # the integration itself gets its run back (idempotent), and changes nothing either way.
    for who in ("alice", "bob"):
        errors = await refused(
            api,
            a[who],
            START_RUN,
            ["CONFLICT"],
            n=FLOW["name"],
            i={"customer": "Other"},
            r="acme-1",
        )
        assert "ACME" not in str(errors)
    again = (await a["integ"](START_RUN, n=FLOW["name"], i={"customer": "ACME"}, r="acme-1"))[
        "startWorkflow"
    ]
    assert again["id"] == ids["run"] and again["input"] == {"customer": "ACME"}
