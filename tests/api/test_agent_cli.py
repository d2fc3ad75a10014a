"""`baton agent run module:object` starts a real worker process that does the work."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.api.test_sdk import token_for, wait_for
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import task
from tests.support.graphs import GraphTarget
from tests.support.procs import CHECKOUT_PATH

WORKER = """
import asyncio
import os
from baton_sdk import Agent, TaskContext

agent = Agent(os.environ["BATON_URL"], os.environ["AGENT_TOKEN"], name="cli-agent",
              poll_s=0.2)

@agent.handles("echo")
async def echo(t: TaskContext) -> dict:
    if t.payload.get("slow"):
        open("slow-started", "w").close()  # the test sends SIGTERM after this
        await asyncio.sleep(1.5)  # still running when SIGTERM arrives
    return {"echo": t.payload["text"]}
"""


async def test_agent_run_cli_serves_tasks_and_drains_on_sigterm(
    graph: GraphTarget, tmp_path: Path
) -> None:
    app: App = await start_app(graph, fresh_name(), scheduler=True, route_interval_ms=50)
    proc: subprocess.Popen[bytes] | None = None
    try:
        (tmp_path / "myworker.py").write_text(WORKER)
        env = {**os.environ, "BATON_URL": app.url, "AGENT_TOKEN": await token_for(app, "cli-agent")}
        log = tmp_path / "worker.log"  # a file, not an unread pipe that can fill and block it
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app", "agent", "run", "myworker:agent"],
                cwd=tmp_path,
                env={**env, "PYTHONPATH": CHECKOUT_PATH},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        got = await app.admin(
            'mutation { submitTask(input: {kind: "k", capability: "echo", '
            'payload: {text: "hi"}}) { id } }'
        )
        tid = got["submitTask"]["id"]

        async def done() -> bool:
            return (await task(app.admin, tid))["status"] == "done"

        await wait_for(done, 30)
        assert (await task(app.admin, tid))["result"] == {"echo": "hi"}
        got = await app.admin(
            'mutation { submitTask(input: {kind: "k", capability: "echo", '
            'payload: {text: "slow", slow: true}}) { id } }'
        )
        slow = got["submitTask"]["id"]

        async def started() -> bool:  # the handler runs: assigned alone may be a push still
            return (tmp_path / "slow-started").exists()  # in flight, not the worker's to drain

        await wait_for(started, 30)
        proc.send_signal(signal.SIGTERM)  # drain: finish and report what it holds, then exit
        assert await asyncio.to_thread(proc.wait, 15) == 0, log.read_text()[-2000:]
        drained = await task(app.admin, slow)
        assert drained["status"] == "done" and drained["result"] == {"echo": "slow"}
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        await app.store.drop_all()
        await stop_app(app)
