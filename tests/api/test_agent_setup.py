"""Issue 21, finding 6: setting up an SDK agent needs no token in source code.

`baton agent run` takes ``--url``/``--token`` and honours ``BATON_URL``/``BATON_TOKEN`` (an
``Agent`` may name neither), handlers may be plain functions (run in a worker thread) as
well as coroutines, and ``baton mcp`` reports Baton's version to MCP clients."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from app import __version__
from tests.api.test_sdk import token_for, wait_for
from tests.conftest import ADMIN_TOKEN, App, fresh_name, start_app, stop_app
from tests.support.coord import task
from tests.support.graphs import GraphTarget
from tests.support.procs import CHECKOUT_PATH

REPO = Path(__file__).resolve().parents[2]

WORKER = """
import threading
import time
from baton_sdk import Agent, TaskContext

agent = Agent(name="setup-agent", poll_s=0.2)   # no URL, no token: the command line has them

@agent.handles("blocking")
def blocking(t: TaskContext) -> dict:            # a plain function: runs in a worker thread
    time.sleep(0.2)                               # blocking code is fine here
    facts = t.call(t.context())                   # the async helpers, from the thread
    return {"echo": t.payload["text"], "thread": threading.current_thread().name,
            "facts": len(facts)}

@agent.handles("async")
async def coro(t: TaskContext) -> dict:
    return {"echo": t.payload["text"], "thread": threading.current_thread().name}
"""

SUBMIT = (
    'mutation($c: String!, $t: String!) { submitTask(input: {kind: "k", capability: $c, '
    "payload: {text: $t}}) { id } }"
)


def start_worker(cwd: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if k not in ("BATON_URL", "BATON_TOKEN")}
    return subprocess.Popen(
        [sys.executable, "-m", "app", "agent", "run", "setupworker:agent", *args],
        cwd=cwd,
        env={**base, **env, "PYTHONPATH": CHECKOUT_PATH},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.timeout(400)  # several process starts on a loaded machine
async def test_agent_run_takes_url_and_token_and_runs_sync_handlers(
    graph: GraphTarget, tmp_path: Path
) -> None:
    app: App = await start_app(graph, fresh_name(), scheduler=True, route_interval_ms=50)
    try:
        (tmp_path / "setupworker.py").write_text(WORKER)
        token = await token_for(app, "setup-agent")
        # No token anywhere: one line, exit 2, no traceback.
        none = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app", "agent", "run", "setupworker:agent", "--url", app.url],
            cwd=tmp_path,
            env={
                **{k: v for k, v in os.environ.items() if k != "BATON_TOKEN"},
                "PYTHONPATH": CHECKOUT_PATH,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert none.returncode == 2, none.stdout + none.stderr
        assert "--token or set BATON_TOKEN" in none.stderr and "Traceback" not in none.stderr
        # The URL from --url, the token from BATON_TOKEN; then the other way round.
        for args, env in (
            (["--url", app.url], {"BATON_TOKEN": token}),
            (["--token", token], {"BATON_URL": app.url}),
        ):
            proc = start_worker(tmp_path, args, env)
            try:
                ids = {
                    c: (await app.admin(SUBMIT, c=c, t=f"hi {c}"))["submitTask"]["id"]
                    for c in ("blocking", "async")
                }

                async def done(ids: dict[str, str] = ids) -> bool:
                    got = [await task(app.admin, i) for i in ids.values()]
                    return all(t["status"] == "done" for t in got)

                await wait_for(done, 60)
                sync = (await task(app.admin, ids["blocking"]))["result"]
                assert sync["echo"] == "hi blocking" and sync["facts"] == 0
                assert sync["thread"].startswith("baton-setup-agent")  # not the event loop's
                coro = (await task(app.admin, ids["async"]))["result"]
                assert coro == {"echo": "hi async", "thread": "MainThread"}
            finally:
                proc.send_signal(signal.SIGTERM)
                out = (await asyncio.to_thread(proc.communicate, timeout=30))[0].decode()
            assert proc.returncode == 0, out
            assert app.url in out and "Traceback" not in out, out
    finally:
        await app.store.drop_all()
        await stop_app(app)


async def test_mcp_reports_the_server_version(api: App) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp", "--url", api.url],
        env={"BATON_TOKEN": ADMIN_TOKEN, "PYTHONPATH": CHECKOUT_PATH},
        cwd=str(REPO),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        assert init.server_info.name == "baton"
        assert init.server_info.version == __version__
