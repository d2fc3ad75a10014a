"""Decision traces after a real showcase run (demo agents in their own process): every task
has its spans, a context read SAW exactly the facts the agent received, and whyDid on the
final action reaches the event that triggered the run."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.core import seed
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.flows import demo_agents, follow, step, stop
from tests.support.graphs import GraphTarget
from tests.support.procs import REPO

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
TRACE = """query($id: ID!) { trace(runId: $id) { traceId spans { spanId parentSpanId name kind
  agentId principalId taskId saw produced startedAt endedAt } } }"""
WHY = "query($id: ID!) { whyDid(id: $id) { root nodes edges decisions } }"
EMIT = """mutation($p: JSON, $k: String) { emitEvent(type: "alert.fired", payload: $p, key: $k) {
  seq } }"""


@pytest.fixture(scope="module")
async def traced(graph: GraphTarget) -> AsyncIterator[tuple[App, dict[str, Any], int]]:
    """Two incident runs; the second is triggered by an alert and sees the first's facts."""
    app = await start_app(
        graph, fresh_name(), scheduler=True, route_interval_ms=50, workflow_interval_ms=100
    )
    await seed.load(app.store, SEEDS, now=app.rt.now())
    agents = demo_agents(app.url, app.admin.token or "")
    try:
        first = await app.admin(
            'mutation { startWorkflow(name: "incident-response", input: '
            '{service: "svc-checkout", incident: "inc-1"}) { id } }'
        )
        await follow(app.admin, first["startWorkflow"]["id"])
        ev = await app.admin(
            EMIT,
            p={"severity": "critical", "service": "svc-checkout", "incident": "inc-2"},
            k="pagerduty-42",
        )
        rid = None
        for _ in range(100):
            got = await app.admin(
                '{ runs(workflow: "incident-response", first: 5) { nodes { id trigger } } }'
            )
            rid = next(
                (
                    r["id"]
                    for r in got["runs"]["nodes"]
                    if (r["trigger"] or {}).get("key") == "pagerduty-42"
                ),
                None,
            )
            if rid:
                break
            await asyncio.sleep(0.1)
        assert rid, "the alert did not trigger a run"
        run = await follow(app.admin, rid)
        assert run["status"] == "done", run
        yield app, run, ev["emitEvent"]["seq"]
    finally:
        # in a thread: the agents drain through this event loop's app (a blocking wait
        # here held them until the 15 s kill)
        await asyncio.to_thread(stop, agents)
        await app.store.drop_all()
        await stop_app(app)


async def spans_of(app: App, run_id: str) -> list[dict[str, Any]]:
    got = await app.admin(TRACE, id=run_id)
    return list(got["trace"]["spans"])


async def test_every_task_has_its_spans(traced: tuple[App, dict[str, Any], int]) -> None:
    app, run, _ = traced
    spans = await spans_of(app, run["id"])
    by_id = {s["spanId"]: s for s in spans}
    for st in run["steps"]:
        if st["kind"] == "join":
            assert any(s["name"] == f"merge {st['stepId']}" for s in spans)
            continue
        tid = st["taskId"]
        task = next(s for s in spans if s["kind"] == "task" and s["taskId"] == tid)
        assert by_id[task["parentSpanId"]]["name"] == f"step {st['stepId']}"  # nested in its step
        names = {s["name"] for s in spans if s["taskId"] == tid and s["kind"] == "decision"}
        assert "complete" in names, (st, names)
        assert any(n in ("route", "claim") or n.startswith("propose") for n in names), names
        assert all(s["parentSpanId"] in by_id for s in spans if s["taskId"] == tid)
    assert len({s["spanId"] for s in spans}) == len(spans)
    (root,) = [s for s in spans if s["parentSpanId"] is None]
    assert root["name"] == "run incident-response" and root["endedAt"] >= root["startedAt"]


async def test_a_context_read_saw_exactly_what_the_agent_received(
    traced: tuple[App, dict[str, Any], int],
) -> None:
    app, run, _ = traced
    rc = step(run, "root_cause")
    received = rc["result"]["factsSeen"]  # what the agent got back from the context API
    assert received, "the second run should see the first run's findings"
    spans = await spans_of(app, run["id"])
    (read,) = [s for s in spans if s["name"] == "context.read" and s["taskId"] == rc["taskId"]]
    assert read["saw"] == received and read["agentId"] == "agent-rootcause"
    merge = next(s for s in spans if s["name"] == "merge findings")
    assert len(merge["saw"]) == 2  # the two contradicting root-cause facts it weighed


async def test_why_did_the_final_action_reaches_the_triggering_event(
    traced: tuple[App, dict[str, Any], int],
) -> None:
    app, run, seq = traced
    got = (await app.admin(WHY, id=step(run, "remediate")["taskId"]))["whyDid"]
    ids = {n["id"] for n in got["nodes"]}
    assert f"event:{seq}" in ids  # ... back to the alert
    labels = {n["label"] for n in got["nodes"]}
    assert {"Task", "Step", "Proposal", "Merge", "Fact", "Run", "Event"} <= labels
    names = {d["name"] for d in got["decisions"]}
    assert "approval approved" in names and "fact.assert rootCause" in names
    assert {"from": run["id"], "type": "TRIGGERED_BY", "to": f"event:{seq}"} in got["edges"]
    assert (await app.admin(WHY, id="nope"))["whyDid"] is None


async def baton(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """The CLI in a child process, without blocking this loop (it serves the app)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode()


async def test_trace_cli_prints_the_tree_and_writes_html(
    traced: tuple[App, dict[str, Any], int], tmp_path: Path
) -> None:
    app, run, _ = traced
    env = {
        **os.environ,
        "BATON_URL": app.url,
        "BATON_TOKEN": app.admin.token or "",
        "COLUMNS": "200",
    }
    code, out = await baton("trace", run["id"], env=env)
    assert code == 0, out
    assert "step root_cause" in out and "context.read" in out
    page = tmp_path / "t.html"
    code, out = await baton("trace", run["id"], "--html", str(page), env=env)
    assert code == 0, out
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "merge findings" in text and "http" not in text


async def test_metrics_after_real_runs(traced: tuple[App, dict[str, Any], int]) -> None:
    import re

    app, _, _ = traced
    text = (await app.http.get(f"{app.url}/metrics")).text

    def value(name: str) -> float:
        m = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
        assert m, f"{name} missing"
        return float(m.group(1))

    assert value('baton_runs{status="done"}') == 2
    assert value('baton_events_total{type="proposal.decided"}') == 2
    assert value('baton_events_total{type="task.completed"}') >= 14
    assert value('baton_events_total{type="fact.contradicted"}') >= 1
    assert value("baton_approvals_pending") == 0
    assert value("baton_approval_decision_seconds_mean") > 0
    assert value('baton_spend_usd{team="sre"}') > 0
    assert value('baton_job_seconds_count{job="route"}') > 0
    assert value('baton_job_items_total{job="workflows"}') >= 12  # 6 task steps per run
    # The demo agents' subscriptions are live: the hub keeps up with the log (no events left
    # undelivered once the runs are over), so the lag settles at zero.
    for _ in range(100):
        if value("baton_subscription_lag_events") == 0:
            break
        await asyncio.sleep(0.05)
        text = (await app.http.get(f"{app.url}/metrics")).text
    assert value("baton_subscription_lag_events") == 0
    assert value("baton_subscribers") >= 1  # the lag was measured against live subscribers


async def test_trace_and_why_need_no_token_on_the_serving_machine(
    traced: tuple[App, dict[str, Any], int], tmp_path: Path
) -> None:
    """Issue 21: `baton trace` and `baton why` fall back to the admin token kept in the data
    dir (what `baton admin-token` prints); `--html` still prints the tree; `why --svg` draws
    the picture in Python (no Graphviz on this machine)."""
    import xml.etree.ElementTree as ET

    app, run, seq = traced
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "admin-token").write_text((app.admin.token or "") + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("BATON_TOKEN", "BATON_ADMIN_TOKEN")}
    env.update(
        {
            "BATON_URL": app.url,
            "BATON_DATA_DIR": str(data),
            "COLUMNS": "200",
            "PATH": os.path.dirname(sys.executable),
        }
    )
    page = tmp_path / "t.html"
    code, out = await baton("trace", run["id"], "--html", str(page), env=env)
    assert code == 0, out
    assert "step root_cause" in out and "context.read" in out  # the tree, as it says
    assert f"wrote {page}" in out and "merge findings" in page.read_text()
    picture = tmp_path / "why.svg"
    code, out = await baton("why", step(run, "remediate")["taskId"], "--svg", str(picture), env=env)
    assert code == 0, out
    assert "TRIGGERED_BY" in out and f"wrote {picture}" in out
    root = ET.fromstring(picture.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for label in ("Task", "Proposal", "Merge", "Fact", "Run", "Event", "approval approved"):
        assert label in texts, (label, texts)
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) >= 10  # the edges
    # No token at all: one line, no traceback.
    (data / "admin-token").unlink()
    code, out = await baton("trace", run["id"], env=env)
    assert code == 2 and out.strip().count("\n") == 0, out
    assert "pass --token or set BATON_TOKEN" in out
