"""Issue 21 finding 12: a field means the same wherever its type appears. Every type that has
both a list read and a single read is read both ways, with every field the schema gives it
(no-argument fields, one level of objects), over objects that exercise the relations that
used to differ (a deferred and a merged task, routed proposals, triggered workflows)."""

from __future__ import annotations

from typing import Any

import pytest

from app.core import triggers
from tests.conftest import App
from tests.support.coord import CLAIM, agent, submit
from tests.support.gql import GQL

SET = "mutation($i: PolicyInput!) { setPolicy(input: $i) { id } }"
PROPOSE = "mutation($i: ProposeActionInput!) { proposeAction(input: $i) { id } }"
DEFINE = "mutation($d: JSON!) { defineWorkflow(definition: $d) { FIELDS } }"
TYPE = """query($n: String!) { __type(name: $n) { fields { name args { name }
  type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }"""
SKIP = {"Fact": {"distance"}}  # relative to the entity a context read asks about


def _named(t: dict[str, Any]) -> tuple[str, str]:
    while t.get("ofType"):
        t = t["ofType"]
    return t["kind"], t["name"]


async def selection(client: GQL, type_name: str, depth: int = 2) -> str:
    """Every field of ``type_name`` without arguments, objects ``depth - 1`` levels deep."""
    fields = (await client(TYPE, n=type_name))["__type"]["fields"]
    out: list[str] = []
    for f in fields:
        if f["args"] or f["name"] in SKIP.get(type_name, set()):
            continue
        kind, name = _named(f["type"])
        if kind in ("SCALAR", "ENUM"):
            out.append(f["name"])
        elif kind == "OBJECT" and depth > 1:
            out.append(f"{f['name']} {{ {await selection(client, name, depth - 1)} }}")
    return " ".join(out)


@pytest.fixture
def app(seeded_app: App) -> App:
    return seeded_app


async def scene(app: App) -> None:
    """Objects whose relations used to read differently in lists."""
    first = await submit(
        app.admin, capability="diagnose", entities=["svc-checkout"], dedupKey="k1", payload={"n": 1}
    )
    behind = await submit(app.admin, capability="diagnose", entities=["svc-checkout"])
    assert behind["status"] == "deferred" and behind["deferredBehind"] == [first["id"]]
    merged = await submit(app.admin, capability="diagnose", dedupKey="k1", payload={"n": 2})
    assert merged["status"] == "merged"
    await app.admin(
        SET,
        i={
            "id": "g",
            "name": "g",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.9,
            "approvers": ["alice", "team:secops"],
            "approvalSlaMs": 60_000,
        },
    )
    w = await agent(app, "fixer", ["fix"], team="sre")
    await submit(app.admin, capability="fix")
    t = (await w(CLAIM, a="fixer"))["claimTask"]
    await w(
        PROPOSE,
        i={
            "taskId": t["id"],
            "agentId": "fixer",
            "fence": t["fence"],
            "kind": "restart",
            "summary": "restart it",
            "confidence": 0.5,
            "payload": {"target": "svc-web"},
        },
    )
    await app.admin(
        'mutation($p: JSON) { emitEvent(type: "deployment.created", payload: $p) { seq } }',
        p={"deployment": "dep-auth-88"},
    )
    assert await triggers.fire(app.store, now=app.rt.now()) == 1
    await app.admin(
        "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }",
        i={
            "agentId": "fixer",
            "entityId": "svc-web",
            "key": "status",
            "value": "degraded",
            "confidence": 0.9,
        },
    )


async def compare(client: GQL, type_name: str, many: str, one: str, key: str = "id") -> int:
    """``many`` selects a list of ``type_name`` (``{fields}`` marks the selection), ``one``
    reads a single object by ``$id``; every object of the list reads the same alone."""
    fields = await selection(client, type_name)
    got = await client(many.replace("{fields}", fields))
    nodes: list[dict[str, Any]] = got
    while isinstance(nodes, dict):
        nodes = next(iter(nodes.values()))
    assert nodes, f"no {type_name} to compare"
    for node in nodes:
        single = await client(one.replace("{fields}", fields), id=node[key])
        alone = next(iter(single.values()))
        assert alone == node, f"{type_name} {node[key]}: list and single reads differ"
    return len(nodes)


async def test_list_and_single_reads_agree_for_every_type(app: App) -> None:
    await scene(app)
    assert (
        await compare(
            app.admin,
            "Task",
            "{ tasks(first: 100) { nodes { {fields} } } }",
            "query($id: ID!) { task(id: $id) { {fields} } }",
        )
        >= 4
    )
    alice = app.client(
        (await app.admin('mutation { rotateToken(principalId: "alice") }'))["rotateToken"]
    )
    got = await compare(
        alice,
        "Proposal",
        "{ inbox { nodes { {fields} } } }",
        "query($id: ID!) { proposal(id: $id) { {fields} } }",
    )
    assert got == 1
    assert (
        await compare(
            app.admin,
            "Workflow",
            "{ workflows { {fields} } }",
            "query($id: String!) { workflow(name: $id) { {fields} } }",
            key="name",
        )
        >= 3
    )
    assert (
        await compare(
            app.admin,
            "Run",
            "{ runs(first: 50) { nodes { {fields} } } }",
            "query($id: ID!) { run(id: $id) { {fields} } }",
        )
        == 1
    )
    assert (
        await compare(
            app.admin,
            "Agent",
            "{ agents(first: 100) { nodes { {fields} } } }",
            "query($id: ID!) { agent(id: $id) { {fields} } }",
        )
        >= 2
    )
    facts = '{ context(entityId: "svc-web", hops: 0) { {fields} } }'
    assert (
        await compare(app.admin, "Fact", facts, "query($id: ID!) { fact(id: $id) { {fields} } }")
        == 1
    )


async def test_redefining_an_unchanged_workflow_answers_as_workflow_reads(app: App) -> None:
    fields = await selection(app.admin, "Workflow")
    wf = await app.admin('{ workflow(name: "security-review") { definition } }')
    define = DEFINE.replace("FIELDS", fields)
    again = (await app.admin(define, d=wf["workflow"]["definition"]))["defineWorkflow"]
    assert again["triggers"] == ["deployment.created"]
    one = "query($n: String!) { workflow(name: $n) { FIELDS } }".replace("FIELDS", fields)
    alone = (await app.admin(one, n="security-review"))["workflow"]
    assert again == alone
    many = "{ workflows { FIELDS } }".replace("FIELDS", fields)
    listed = [w for w in (await app.admin(many))["workflows"] if w["name"] == "security-review"]
    assert listed == [alone]
