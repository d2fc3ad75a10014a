"""``GET /metrics`` after real work through GraphQL: event counts by type, approvals pending
and time to a human decision, spend per team, and subscription lag, all read from the graph
at scrape time."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from app.core import events, seed
from app.core.clock import ManualClock
from tests.api.test_context import fact
from tests.api.test_costs import REPORT
from tests.api.test_inbox import DECIDE, SET, propose
from tests.conftest import App
from tests.support.coord import CLAIM, COMPLETE, FAIL, agent, recover, submit
from tests.support.gql import subscribe

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


async def scrape(api: App) -> dict[str, float]:
    r = await api.http.get(f"{api.url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\S+) ([0-9.e+-]+)$", r.text, re.M)}


async def test_metrics_after_real_work(api_clock: tuple[App, ManualClock]) -> None:
    api, clock = api_clock
    await seed.load(api.store, SEEDS, now=api.rt.now())
    await api.admin(
        SET,
        i={
            "id": "g",
            "name": "g",
            "scope": "GLOBAL",
            "autoApproveThreshold": 0.9,
            "approvers": ["admin"],
        },
    )
    before = await scrape(api)
    assert before['baton_events_total{type="task.completed"}'] == 0  # listed even at zero
    assert before["baton_approvals_pending"] == 0 and before["baton_approvals_decided"] == 0

    w = await agent(api, "worker", ["diagnose"], max_concurrency=4, team="sre")
    for _ in range(4):
        await submit(api.admin, priority=50)
    held = [(await w(CLAIM, a="worker"))["claimTask"] for _ in range(4)]
    done, retried, proposing, waiting = held
    await w(REPORT, t=done["id"], a="worker", f=done["fence"], u=1.25, k="llm")
    await w(COMPLETE, t=done["id"], a="worker", f=done["fence"], r={"ok": True})
    await w(FAIL, t=retried["id"], a="worker", f=retried["fence"], e="flaky", retry=True)
    await fact(w, "worker", "svc-checkout", "error_rate", 0.4)
    decided = await propose(w, "worker", proposing, "restart", 0.5)
    pending = await propose(w, "worker", waiting, "rollback", 0.5)
    assert decided["status"] == pending["status"] == "pending"
    clock.advance(30_000)  # a human takes 30 s to decide
    await api.admin(DECIDE, id=decided["id"], d="APPROVE", r="fine")

    m = await scrape(api)
    assert m['baton_events_total{type="task.completed"}'] == 1
    assert m['baton_events_total{type="task.retrying"}'] == 1
    assert m['baton_events_total{type="task.claimed"}'] == 4
    assert m['baton_events_total{type="fact.asserted"}'] == 1
    assert m['baton_events_total{type="proposal.pending"}'] == 2
    assert m['baton_events_total{type="proposal.decided"}'] == 1
    assert m["baton_approvals_pending"] == 1 and m["baton_approvals_decided"] == 1
    assert m["baton_approval_decision_seconds_mean"] == 30.0
    assert m['baton_approval_decision_seconds{quantile="0.5"}'] == 30.0
    assert m['baton_approval_decision_seconds{quantile="0.99"}'] == 30.0
    assert m['baton_spend_usd{team="sre"}'] == 1.25
    assert m["baton_subscription_lag_events"] == 0  # nobody subscribed: nothing to deliver
    assert m["baton_event_seq"] > before["baton_event_seq"]

    # The waiting proposal's task outlives its lease: the expiry shows up as its own type.
    clock.advance(api.settings.lease_ms * 4)
    await api.admin(DECIDE, id=pending["id"], d="REJECT", r="no")  # 30 s + 4 leases later
    assert await recover(api) >= 1
    m = await scrape(api)
    expired = m['baton_events_total{type="task.lease_expired"}']
    assert expired + m['baton_events_total{type="task.dead"}'] >= 1
    assert m["baton_approvals_pending"] == 0 and m["baton_approvals_decided"] == 2
    slow = 30 + api.settings.lease_ms * 4 / 1000
    assert m["baton_approval_decision_seconds_mean"] == (30 + slow) / 2
    assert m['baton_approval_decision_seconds{quantile="0.99"}'] > 30


async def test_subscription_lag_is_head_minus_the_hubs_cursor(api: App) -> None:
    hub = api.rt.hub
    assert hub is not None
    async with subscribe(api.url, api.admin.token, "subscription { graphChanges { seq } }"):
        for _ in range(200):
            if hub.subscribers:
                break
            await asyncio.sleep(0.01)
        await submit(api.admin)
        for _ in range(200):  # the hub catches up with the log
            m = await scrape(api)
            if m["baton_subscription_lag_events"] == 0:
                break
            await asyncio.sleep(0.02)
        assert m["baton_subscription_lag_events"] == 0 and m["baton_subscribers"] >= 1
        # The live hub held mid-poll (its lock taken, as a slow poll would hold it): three
        # events written meanwhile show as a lag of three, read from the real graph; let go,
        # the hub catches up and the lag is back to zero.
        async with hub._lock:
            for _ in range(3):
                await api.admin('mutation { emitEvent(type: "lag.probe") { seq } }')
            m = await scrape(api)
            assert m["baton_subscription_lag_events"] == 3
            assert hub.cursor == await events.head(api.store) - 3
        for _ in range(200):
            m = await scrape(api)
            if m["baton_subscription_lag_events"] == 0:
                break
            await asyncio.sleep(0.02)
        assert m["baton_subscription_lag_events"] == 0
