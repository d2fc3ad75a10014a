"""The three showcases as scenario tests: ``baton demo NAME`` is run as a real CLI process
(its own demo-agent process, the workflow started by an event or the API, the human played
at approval steps) and must end with the run done, its timeline and its cost printed."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, free_port, fresh_name
from tests.support.graphs import GraphTarget
from tests.support.numbers import RUN, TRACE, numbers_agree
from tests.support.procs import REPO, Served

BROWSER = REPO / "cypher" / "browser"


def baton_demo(*args: str, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    if tmp is not None:  # where the demo makes (and must remove) its temporary directory
        env["TMPDIR"] = str(tmp)
    return subprocess.run(
        [sys.executable, "-m", "app", "demo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )


@pytest.fixture(scope="module")
def served(graph: GraphTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("demos")
    env = {
        **graph.env(fresh_name()),
        "BATON_DATA_DIR": str(tmp),
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_ROUTE_INTERVAL_MS": "50",
        "BATON_WORKFLOW_INTERVAL_MS": "100",
    }
    app = Served(env, free_port(), seed=True, log=tmp / "app.log")
    app.wait_healthy()
    app.graph_name = env["BATON_GRAPH_NAME"]  # type: ignore[attr-defined]
    yield app
    app.kill()


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        (
            "incident",
            [
                "alert.fired",
                "findings",
                "highest confidence",
                "approves decide",
                "remediate",
                "run done",
            ],
        ),
        (
            "compliance",
            [
                "startWorkflow compliance-review",
                "security_scan",
                "approves signoff",
                "report",
                "run done",
            ],
        ),
        (
            "onboarding",
            [
                "crm.customer_created",
                "gathered",
                "quality",
                "run done",
                "accountable: agent-supervisor",
            ],
        ),
    ],
)
def test_showcase_runs_end_to_end(
    served: Served, name: str, expect: list[str], tmp_path: Path
) -> None:
    got = baton_demo(name, "--url", served.url, "--token", ADMIN_TOKEN, tmp=tmp_path)
    assert got.returncode == 0, got.stdout + got.stderr
    for text in expect:
        assert text in got.stdout, (text, got.stdout)
    assert "total cost $" in got.stdout
    steps = demo_numbers(served, got.stdout, tmp_path)
    if name == "onboarding":  # its compensation step was not needed
        assert steps["deprovision"]["status"] == "skipped", steps


def test_demo_with_a_fault_shows_recovery(served: Served, tmp_path: Path) -> None:
    got = baton_demo(
        "onboarding",
        "--url",
        served.url,
        "--token",
        ADMIN_TOKEN,
        "--fail",
        "provision",
        tmp=tmp_path,
    )
    assert got.returncode == 1, got.stdout + got.stderr  # the run fails, cleanly
    assert "deprovision" in got.stdout and "compensated by deprovision" in got.stdout
    steps = demo_numbers(served, got.stdout, tmp_path)
    # nothing new started in the failing run: the supervisor's step never ran
    assert steps["quality"]["status"] == "cancelled" and not steps["quality"]["taskId"], steps


def demo_numbers(served: Served, stdout: str, tmp: Path) -> dict[str, dict[str, Any]]:
    """The demo's run (named in its summary) tells one story in its steps, tasks and trace
    (issue 21 finding 5), and the demo removed its temporary directory. Its steps by id."""
    assert not list(tmp.glob("baton-demo-*")), "the demo left its temporary directory"
    found = re.search(r"\brun (run[-_][0-9A-Za-z]+)", stdout)
    assert found, stdout
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    got = {}
    for key, query in (("run", RUN), ("trace", TRACE)):
        ask = {"query": query, "variables": {"id": found.group(1)}}
        body = httpx.post(f"{served.url}/graphql", headers=headers, json=ask, timeout=30).json()
        assert not body.get("errors"), body
        got[key] = body["data"][key]
    numbers_agree(got["run"], got["trace"]["spans"])
    return {s["stepId"]: s for s in got["run"]["steps"]}


@pytest.mark.falkordb_only("without --url the demo starts a private embedded Baton")
def test_private_stack_demo(tmp_path: Path) -> None:
    got = baton_demo("incident")
    assert got.returncode == 0, got.stdout + got.stderr
    assert "starting a private Baton" in got.stdout and "alice approves decide" in got.stdout


def _params(text: str, ids: dict[str, str]) -> dict[str, object]:
    """Values for a saved query's parameters, from the ``:param`` hint's id prefix."""
    out: dict[str, object] = {}
    for name in sorted(set(re.findall(r"\$([A-Za-z]+)", text))):
        hint = re.search(rf":param {name} => '?([a-z]+)", text)
        out[name] = 0 if name == "monthStart" else ids[hint.group(1) if hint else name]
    return out


async def test_browser_saved_queries_run_on_the_demo_graph(
    served: Served, graph: GraphTarget
) -> None:
    """Every saved query of the analyst's tour runs on the graph the demos left (after the
    showcases above), finds something, and on Neo4j reaches its start by an index."""
    store = graph.store(served.graph_name)  # type: ignore[attr-defined]
    try:
        one = (
            await store.execute_text(
                "MATCH (r:Run)<-[:STEP_OF]-(:Step)-[:RAN]->(t:Task)<-[:FOR]-(:Proposal) "
                "MATCH (f:Fact)-[:ASSERTED_BY]->(a:Agent) "
                "RETURN r.id AS run, t.id AS task, f.id AS fact, a.id AS agent LIMIT 1"
            )
        )[0]
        ids = {
            "run": one["run"],
            "runId": one["run"],
            "task": one["task"],
            "fact": one["fact"],
            "agent": one["agent"],
            "agentId": one["agent"],
        }
        files = sorted(BROWSER.glob("*.cypher"))
        assert len(files) >= 10
        for path in files:
            text = path.read_text()
            assert not re.search(r"\*\s*(\d+\s*)?(\.\.\s*)?\]", text), f"{path.name}: unbounded *"
            params = _params(text, ids)
            rows = await store.execute_text(text, **params)
            if path.stem not in {"policy_violations", "contradictions", "decisions_by_agent"}:
                assert rows, f"{path.name} found nothing on the demo graph"
            if graph.backend == "neo4j":
                plan = await store.execute_text("EXPLAIN " + text, **params)
                assert plan == []  # EXPLAIN runs nothing; the plan is checked below
                ops = await _neo4j_operators(graph, text, params)
                assert "AllNodesScan" not in ops, f"{path.name} scans every node: {ops}"
    finally:
        await store.close()


async def _neo4j_operators(graph: GraphTarget, text: str, params: dict[str, object]) -> set[str]:
    """The operator names of Neo4j's plan for ``text`` (EXPLAIN: nothing runs)."""
    import neo4j

    driver = neo4j.AsyncGraphDatabase.driver(graph.uri, auth=("neo4j", graph.password))
    try:
        async with driver.session(database="neo4j") as session:
            result = await session.run("EXPLAIN " + text, params)
            summary = await result.consume()
    finally:
        await driver.close()
    ops: set[str] = set()

    def walk(node: dict[str, object]) -> None:
        ops.add(str(node.get("operatorType", "")).split("@")[0])
        for child in node.get("children", []):  # type: ignore[attr-defined]
            walk(child)

    walk(summary.plan or {})
    return ops


def _one_line(cypher: str) -> str:
    """A saved query as one editor line (Enter runs what is typed in Browser's editor)."""
    lines = [ln.split("//")[0].strip() for ln in cypher.splitlines()]
    return " ".join(ln for ln in lines if ln)


def _drive_browser(url: str, bolt: str, password: str, run_id: str, shot: Path) -> str:
    """Connect Neo4j Browser, set the parameter, run the saved run trace; the status line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.test_inbox_page import _browser

    driver = _browser()
    try:
        wait = WebDriverWait(driver, 90)
        driver.get(f"{url}?dbms={bolt.replace('neo4j://', 'neo4j://neo4j@')}")
        pw = wait.until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=password]"))
        )
        user = driver.find_element(By.CSS_SELECTOR, "[data-testid=username]")
        user.clear()
        user.send_keys("neo4j")
        pw.send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[data-testid=connect]").click()
        wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, "[data-testid=password]")))
        saved = _one_line((BROWSER / "run_trace.cypher").read_text())
        for command in (f":param runId => '{run_id}'", saved):
            editor = wait.until(
                ec.presence_of_element_located(
                    (By.CSS_SELECTOR, "#monaco-main-editor textarea, .monaco-editor textarea")
                )
            )
            editor.send_keys(command)
            driver.find_element(By.CSS_SELECTOR, "button[data-testid=editor-Run]").click()
            if command.startswith(":param"):  # set before the query runs (it runs async)
                wait.until(
                    ec.presence_of_element_located(
                        (By.XPATH, "//*[contains(text(), 'Successfully set your parameters')]")
                    )
                )
        # The result frame of the saved query; Browser 5 shows its counts in the graph
        # view's overview ("Displaying 46 nodes, 980 relationships"), not in a status bar.
        frame = (
            By.XPATH,
            "//*[@data-testid='frame'][.//*[@data-testid='frameCommand']"
            "[contains(., 'MATCH (r:Run')]]",
        )

        def done(d: object) -> str | bool:  # frames re-render: find the frame afresh
            text = str(driver.find_element(*frame).text)
            if "ERROR" in text:
                return text  # no use waiting: the test fails with Browser's message
            found = re.search(r"Displaying \d+ nodes?|\d+ records?", text)
            return found.group(0) if found else False

        try:
            wait.until(ec.visibility_of_element_located(frame))
            text = str(wait.until(done))
        finally:  # on failure too: the picture says what Browser showed
            driver.save_screenshot(str(shot))
        return text
    finally:
        driver.quit()


@pytest.mark.skipif(
    shutil.which("chromium") is None or shutil.which("chromedriver") is None,
    reason="Debian chromium + chromium-driver are not installed (make test installs them)",
)
async def test_neo4j_browser_runs_the_run_trace_after_a_demo(
    served: Served, graph: GraphTarget
) -> None:
    """The analyst's tour for real: Neo4j Browser (served by the session's Neo4j), connect,
    set `runId` to the incident demo's run, run `cypher/browser/run_trace.cypher`."""
    browser_url = getattr(graph.server, "browser_url", "")
    if graph.backend != "neo4j" or not browser_url:
        pytest.skip("Neo4j Browser exists only on Neo4j (the session's own launcher serves it)")
    store = graph.store(served.graph_name)  # type: ignore[attr-defined]
    try:
        run = await store.execute_text(
            "MATCH (r:Run {workflow: 'incident-response'}) RETURN r.id AS id LIMIT 1"
        )
    finally:
        await store.close()
    assert run, "the incident demo left no run"
    shot = REPO / "tests" / "artifacts" / "neo4j-browser-run-trace.png"
    status = await asyncio.to_thread(
        _drive_browser, browser_url, graph.uri, graph.password, run[0]["id"], shot
    )
    assert re.fullmatch(r"Displaying [1-9]\d* nodes?|[1-9]\d* records?", status), status
    assert shot.stat().st_size > 10_000
