"""Event-driven triggers: an event starts a run once (however often it is delivered), declared
conditions filter, inbound webhooks are signed, SLA breaches and budget thresholds start
their built-in workflows. Jobs are run explicitly here (scheduler off) for determinism."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.core import costs, seed, triggers
from app.core.webhooks import standard_headers
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import COMPLETE, agent, submit
from tests.support.graphs import GraphTarget

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
EMIT = """mutation($t: String!, $p: JSON, $k: String) {
  emitEvent(type: $t, payload: $p, key: $k) { seq } }"""
RUNS = """query($w: String) { runs(workflow: $w, first: 50) {
  nodes { id workflow input triggerId trigger } } }"""
SECRET = "inbound-test-secret"


@pytest.fixture
async def app(graph: GraphTarget) -> AsyncIterator[App]:
    a = await start_app(
        graph, fresh_name(), scheduler=False, inbound_webhook_secrets={"ci": SECRET}
    )
    await seed.load(a.store, SEEDS, now=a.rt.now())
    yield a
    await a.store.drop_all()
    await stop_app(a)


async def runs(app: App, workflow: str) -> list[dict[str, Any]]:
    return list((await app.admin(RUNS, w=workflow))["runs"]["nodes"])


async def fire(app: App) -> int:
    return await triggers.fire(app.store, now=app.rt.now())


async def test_an_event_delivered_twice_starts_one_run(app: App) -> None:
    payload = {"deployment": "dep-checkout-412", "service": "svc-checkout"}
    first = await app.admin(EMIT, t="deployment.created", p=payload, k="ci-build-77")
    again = await app.admin(EMIT, t="deployment.created", p=payload, k="ci-build-77")
    assert first == again  # the same event: a re-delivery appends nothing
    assert await fire(app) == 1
    assert await fire(app) == 0  # read again (e.g. after a crash before the cursor moved)
    got = await runs(app, "security-review")
    assert len(got) == 1
    assert got[0]["input"] == {"deployment": "dep-checkout-412", "service": "svc-checkout"}
    assert got[0]["triggerId"] == "security-review#0"
    assert got[0]["trigger"]["key"] == "ci-build-77"
    await app.admin(EMIT, t="deployment.created", p=payload, k="ci-build-78")  # a new one
    assert await fire(app) == 1
    assert len(await runs(app, "security-review")) == 2


async def test_a_crash_between_start_and_cursor_does_not_start_twice(app: App) -> None:
    await app.admin(EMIT, t="deployment.created", p={"deployment": "d1"}, k="k1")
    cursor = await app.store.execute_text("MATCH (k:Cursor {name: 'triggers'}) RETURN k.seq AS s")
    assert await fire(app) == 1
    # rewind the cursor as if the job died before saving it
    await app.store.execute_text(
        "MATCH (k:Cursor {name: 'triggers'}) SET k.seq = $s", s=cursor[0]["s"]
    )
    assert await fire(app) == 0
    assert len(await runs(app, "security-review")) == 1


async def test_conditions_filter_events(app: App) -> None:
    await app.admin(
        EMIT, t="alert.fired", p={"severity": "low", "service": "svc-web", "incident": "inc-1"}
    )
    assert await fire(app) == 0
    await app.admin(
        EMIT, t="alert.fired", p={"severity": "critical", "service": "svc-web", "incident": "inc-2"}
    )
    assert await fire(app) == 1
    (run,) = await runs(app, "incident-response")
    assert run["input"] == {"service": "svc-web", "incident": "inc-2"}


async def test_an_event_missing_an_input_starts_nothing_and_blocks_nothing(app: App) -> None:
    await app.admin(EMIT, t="alert.fired", p={"severity": "high"})  # no service / incident
    await app.admin(EMIT, t="deployment.created", p={"deployment": "d9"})
    assert await fire(app) == 1  # the second event still fires
    assert await runs(app, "incident-response") == []


async def post(
    app: App,
    body: Any,
    *,
    secret: str = SECRET,
    source: str = "ci",
    msg_id: str = "msg-1",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """A Standard Webhooks delivery, signed now."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    h = {
        **standard_headers(secret, msg_id, app.rt.now() // 1000, raw),
        "Content-Type": "application/json",
        **(headers or {}),
    }
    r = await app.http.post(f"{app.url}/webhooks/{source}", content=raw, headers=h)
    return r.status_code, r.json()


async def test_inbound_webhooks_are_signed_and_idempotent(app: App) -> None:
    body = {
        "type": "deployment.created",
        "payload": {"deployment": "dep-auth-88", "service": "svc-auth"},
    }
    code, first = await post(app, body, msg_id="gh-delivery-1")
    assert code == 202 and first["duplicate"] is False
    code, again = await post(app, body, msg_id="gh-delivery-1")
    assert first["triggers"] == [
        {
            "triggerId": "security-review#0",
            "workflow": "security-review",
            "willStart": True,
            "code": None,
            "reason": None,
        }
    ]
    assert code == 202 and again == {
        "seq": first["seq"],
        "duplicate": True,
        "triggers": first["triggers"],
    }
    assert await fire(app) == 1
    refused = {
        "error": {"code": "UNAUTHENTICATED", "message": "missing, stale or wrong webhook signature"}
    }
    assert await post(app, body, secret="wrong") == (401, refused)
    assert await post(app, body, source="nope") == (401, refused)  # same: no oracle
    code, err = await post(app, b"not json")
    assert code == 400 and err["error"]["code"] == "BAD_INPUT"
    code, err = await post(app, {"type": "task.completed", "payload": {}}, msg_id="m2")
    assert code == 400 and "reserved" in err["error"]["message"]
    code, err = await post(app, {"type": "x.y", "payload": {"a": "nul\x00"}}, msg_id="m3")
    assert code == 400 and err["error"]["code"] == "BAD_INPUT"
    assert len(await runs(app, "security-review")) == 1


async def test_sla_breach_starts_an_escalation_once(app: App) -> None:
    t = await submit(app.admin, capability="reconcile", deadline=app.rt.now() - 1)
    assert await triggers.sla_breaches(app.store, now=app.rt.now()) == 1
    assert await triggers.sla_breaches(app.store, now=app.rt.now()) == 0  # flagged once
    assert await fire(app) == 1
    (run,) = await runs(app, "sla-escalation")
    assert run["input"]["id"] == t["id"] and run["trigger"]["type"] == "sla.breached"


async def test_budget_threshold_starts_cost_optimisation(app: App) -> None:
    w = await agent(app, "spender", ["diagnose"], team="sre")
    await app.admin(
        "mutation($i: BudgetInput!) { setBudget(input: $i) { id } }",
        i={"id": "b-spender", "scope": "AGENT", "targetId": "spender", "limitUsd": 1.0},
    )
    t = await submit(app.admin)
    claimed = await w('mutation { claimTask(agentId: "spender") { id fence } }')
    await w(
        COMPLETE.replace("$r: JSON)", "$r: JSON, $c: Float)").replace(
            "result: $r)", "result: $r, costUsd: $c)"
        ),
        t=t["id"],
        a="spender",
        f=claimed["claimTask"]["fence"],
        r=None,
        c=0.85,
    )
    await costs.charge(app.store, now=app.rt.now())
    assert await fire(app) == 1
    (run,) = await runs(app, "cost-optimisation")
    assert run["input"] == {"budgetId": "b-spender", "scope": "agent", "target": "spender"}
