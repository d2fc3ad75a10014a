"""Finding 1: ids the workflow engine owns cannot be forged by clients.

Attacks, as the roles that would try them: an agent or an integration squats a step's task
(dedupKey ``run:<run>:<step>:<attempt>``) before the engine makes it, pre-creates the run a
trigger will map an event to, registers the engine's approval capability or identity, and
an operator who is not a step's approver (but is the policy's) decides the checkpoint. Each
is refused with a code and changes nothing; the run's step results come only from the
engine's own tasks and its approval only from the step's named approver, never from a
policy's auto-approval."""

from __future__ import annotations

import hashlib
from typing import Any

from app.core import triggers, workflows
from app.core.events import Event
from tests.conftest import App
from tests.support.coord import CLAIM, COMPLETE, SUBMIT
from tests.support.security import REGISTER, principal, refused, registered_agent

DEFINE = "mutation($d: JSON) { defineWorkflow(definition: $d) { name version } }"
START = """mutation($n: String!, $i: JSON, $r: String) {
  startWorkflow(name: $n, input: $i, runId: $r) { id status } }"""
SUBMIT_MANY = "mutation($i: [SubmitTaskInput!]!) { submitTasks(inputs: $i) { id } }"
RUN = """query($id: ID!) { run(id: $id) { id status result
  steps { stepId status taskId proposalId result } } }"""
PROPOSAL = "query($id: ID!) { proposal(id: $id) { id status routedTo } }"
DECIDE = """mutation($id: ID!, $d: Decision!) {
  decideProposal(id: $id, decision: $d, reason: "r") { status } }"""
POLICY = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"
EMIT = "mutation($t: String!, $p: JSON, $k: String) { emitEvent(type: $t, payload: $p, key: $k) { seq } }"  # noqa: E501

FLOW = {
    "name": "guarded-change",
    "inputs": ["service"],
    "steps": [
        {"id": "diag", "capability": "diagnose", "input": {"service": "$input.service"}},
        {
            "id": "approve",
            "kind": "approval",
            "approvers": ["alice"],
            "summary": "Ship it?",
            "input": {"confidence": 0.99, "cause": "$steps.diag.result.cause"},
        },
    ],
    "triggers": [{"event": "alert.fired", "input": {"service": "$event.payload.service"}}],
}


async def advance(app: App, run_id: str) -> None:
    await workflows.advance(app.store, run_id, now=app.rt.now(), lease_ms=30_000)


async def run_of(app: App, run_id: str) -> dict[str, Any]:
    return dict((await app.admin(RUN, id=run_id))["run"])


async def setup(api: App) -> dict[str, Any]:
    worker = await registered_agent(api, "diag-worker", ["diagnose"])
    mallory = await registered_agent(api, "mallory", ["triage"])
    alice = await principal(api, "alice", "OPERATOR", kind="human")
    bob = await principal(api, "bob", "OPERATOR", kind="human")
    hook = await principal(api, "hook", "INTEGRATION")
    # A policy meant for agents' proposals: auto-approve almost anything, route the rest to
    # bob, approve what nobody answers. None of it may settle a workflow checkpoint.
    await api.admin(
        POLICY,
        i={
            "id": "lenient",
            "name": "lenient",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.1,
            "approvers": ["bob"],
            "onExpiry": "approve",
            "approvalSlaMs": 1_000,
        },
    )
    await api.admin(DEFINE, d=FLOW)
    return {"worker": worker, "mallory": mallory, "alice": alice, "bob": bob, "hook": hook}


async def test_squatting_a_step_and_deciding_its_checkpoint_fail(api: App) -> None:
    p = await setup(api)
    mallory, hook, bob, alice = p["mallory"], p["hook"], p["bob"], p["alice"]
    # Runs in the engine's namespace cannot be named by a client.
    for rid in ("run-0123456789abcdef", "run_01abcdefghjkmnpqrstvwxyz"):
        for who in (hook, bob, mallory):
            await refused(
                api, who, START, ["BAD_INPUT"], n=FLOW["name"], i={"service": "svc-web"}, r=rid
            )
    rid = (await bob(START, n=FLOW["name"], i={"service": "svc-web"}))["startWorkflow"]["id"]

    # Squat the steps' tasks before the engine makes them: refused for every submitter.
    for key, cap in (
        (f"run:{rid}:diag:1", "diagnose"),
        (f"run:{rid}:approve:1", "workflow.approval"),
    ):
        task = {"kind": "x", "capability": cap, "dedupKey": key, "payload": {"cause": "forged"}}
        for who in (mallory, hook, bob):
            await refused(api, who, SUBMIT, ["BAD_INPUT"], i=task)
            await refused(api, who, SUBMIT_MANY, ["BAD_INPUT"], i=[task])
    # Nor can an agent take the engine's approval capability or identity.
    await refused(
        api,
        mallory,
        REGISTER,
        ["BAD_INPUT"],
        i={"id": "mallory", "name": "m", "capabilities": ["triage", "workflow.approval"]},
    )
    await refused(
        api,
        api.admin,
        "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
        ["BAD_INPUT"],
        i={"id": "p-baton", "kind": "agent", "name": "b", "roles": ["AGENT"], "agentId": "baton"},
    )

    await advance(api, rid)
    diag_task = (await run_of(api, rid))["steps"][0]["taskId"]
    got = (await p["worker"](CLAIM, a="diag-worker"))["claimTask"]
    assert got["id"] == diag_task
    await p["worker"](COMPLETE, t=got["id"], a="diag-worker", f=got["fence"], r={"cause": "db"})
    await advance(api, rid)
    run = await run_of(api, rid)
    approve = run["steps"][1]
    assert approve["status"] == "awaiting_approval"
    prop = (await alice(PROPOSAL, id=approve["proposalId"]))["proposal"]
    # Above the policy's threshold, yet pending; routed to the step's approver only.
    assert prop["status"] == "pending" and prop["routedTo"] == ["alice"]
    rows = await api.store.execute_text(
        f"MATCH (p:Proposal {{id: '{prop['id']}'}}) RETURN p.chain AS chain, "
        "p.onExpiry AS exp, p.engine AS engine"
    )
    assert rows == [{"chain": ["alice"], "exp": "reject", "engine": True}]
    # The policy's approver (and an agent) cannot decide the checkpoint.
    await refused(api, bob, DECIDE, ["FORBIDDEN"], id=prop["id"], d="APPROVE")
    await refused(api, mallory, DECIDE, ["FORBIDDEN"], id=prop["id"], d="APPROVE")
    assert (await alice(DECIDE, id=prop["id"], d="APPROVE"))["decideProposal"]["status"] == (
        "approved"
    )
    await advance(api, rid)
    run = await run_of(api, rid)
    assert run["status"] == "done"
    diag, appr = run["steps"]
    assert diag["result"] == {"cause": "db"}
    assert appr["result"]["decidedBy"] == "alice" and appr["result"]["decision"] == "approved"
    # Every task and proposal the run's steps stand on is the engine's own.
    made = await api.store.execute_text(
        f"MATCH (t:Task)-[:FOR_STEP]->(:Step)-[:STEP_OF]->(:Run {{id: '{rid}'}}) "
        "RETURN t.engine AS engine, t.submittedBy AS by ORDER BY t.createdAt"
    )
    assert made == [{"engine": True, "by": "workflow"}] * 2


async def test_the_engine_never_adopts_a_task_it_did_not_make(api: App) -> None:
    """A task that carries a step's dedupKey but was not made by the engine (as old data,
    or any path around the API's check) is ignored: the step runs on the engine's own."""
    p = await setup(api)
    rid = (await p["bob"](START, n=FLOW["name"], i={"service": "svc-web"}))["startWorkflow"]["id"]
    await api.store.execute_text(
        "CREATE (:Task {id: 'squat', kind: 'x', capability: 'diagnose', status: 'done', "
        "dedupKey: $key, contentHash: 'x', submittedBy: 'p-mallory', result: $res, "
        "createdAt: 0, updatedAt: 0, priority: 50, attempts: 1, maxAttempts: 3, fence: 1, "
        "costUsd: 0.0, errors: [], payload: '{}', resources: [], entities: []})",
        key=f"run:{rid}:diag:1",
        res='{"cause": "forged"}',
    )
    await advance(api, rid)
    step = (await run_of(api, rid))["steps"][0]
    assert step["status"] == "running" and step["taskId"] != "squat"
    got = (await p["worker"](CLAIM, a="diag-worker"))["claimTask"]
    assert got["id"] == step["taskId"]


async def test_trigger_run_ids_cannot_be_predicted_or_precreated(api: App) -> None:
    p = await setup(api)
    hook = p["hook"]
    ev = Event(
        seq=0,
        type="alert.fired",
        at=0,
        actor="hook",
        subject=None,
        payload={"service": "svc-web"},
        key="alert-1",
    )
    # What the old scheme named the run: public values only.
    old = "run-" + hashlib.sha256(f"{FLOW['name']}#0|alert.fired|alert-1".encode()).hexdigest()[:24]
    await refused(api, hook, START, ["BAD_INPUT"], n=FLOW["name"], i={"service": "x"}, r=old)
    await hook(EMIT, t="alert.fired", p={"service": "svc-web"}, k="alert-1")
    assert await triggers.fire(api.store, now=api.rt.now()) == 1
    rows = await api.store.execute_text(
        "MATCH (r:Run) WHERE r.triggerId IS NOT NULL RETURN r.id AS id"
    )
    assert len(rows) == 1
    rid = rows[0]["id"]
    secret = await triggers.run_id_secret(api.store)
    assert rid == triggers.run_id_for(f"{FLOW['name']}#0", ev, secret) and rid != old
    assert len(secret) >= 64  # 256 random bits, kept in the graph (every replica, restarts)


async def test_client_dedup_keys_are_scoped_to_their_submitter(api: App) -> None:
    a = await registered_agent(api, "sub-a", ["triage"])
    b = await principal(api, "sub-b", "INTEGRATION")
    task = {"kind": "x", "capability": "diagnose", "dedupKey": "incident-7", "payload": {}}
    first = (await a(SUBMIT, i=task))["submitTask"]
    assert (await a(SUBMIT, i=task))["submitTask"]["id"] == first["id"]  # a retry
    other = (await b(SUBMIT, i=task))["submitTask"]
    assert other["id"] != first["id"] and other["status"] == "queued"  # not a's task
