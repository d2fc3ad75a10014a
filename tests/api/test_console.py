"""Issue 21, findings 1 and 8: what a newcomer sees in the terminal of `baton serve`.

A real `baton serve --seed` process on its own embedded graph: start-up ends with the banner
(GraphiQL, inbox, metrics, where the admin token is, the first token shown once), an idle
server then prints nothing (no scheduler chatter, no overrun warnings), requests add at most
one line each, Ctrl-C and SIGTERM stop it with one line and no traceback, and a SIGKILL's
stale ``server.json`` is replaced on the next start."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import free_port
from tests.support.procs import Served

pytestmark = pytest.mark.falkordb_only("a private embedded graph per process")

IDLE_S = 8.0
NOISE = (
    "run_job",
    "maximum number of running instances",
    "apscheduler",
    "httpx",
    "Traceback",
    "CancelledError",
    "ERROR",
)


def env(tmp: Path) -> dict[str, str]:
    return {
        "BATON_DATA_DIR": str(tmp / "data"),
        "BATON_GRAPH_URI": f"embedded://{tmp / 'graph'}",
        "BATON_ADMIN_TOKEN": "",
        "BATON_LOG_FORMAT": "text",
        "BATON_LOG_LEVEL": "INFO",
    }


def output(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines()


def after_banner(lines: list[str]) -> list[str]:
    """The lines printed after the start-up banner (whose last line names Ctrl-C)."""
    ends = [i for i, line in enumerate(lines) if "Ctrl-C stops Baton" in line]
    assert len(ends) == 1, "\n".join(lines)
    return [line for line in lines[ends[0] + 1 :] if line.strip()]


def serve(tmp: Path, log: Path) -> Served:
    app = Served(env(tmp), free_port(), seed=True, log=log)
    try:
        app.wait_healthy()
    except BaseException:
        if app.proc.poll() is None:
            app.kill()
        raise
    deadline = time.monotonic() + 10
    while "Ctrl-C stops Baton" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return app


async def _subscribe(url: str, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(
        url.replace("http", "ws") + "/graphql",
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {
                "type": "subscribe",
                "id": "1",
                "payload": {"query": "subscription { graphChanges(after: 0) { seq } }"},
            }
        )
    )
    assert json.loads(await ws.recv())["type"] == "next"
    return ws


async def stop(app: Served, sig: int, log: Path, token: str) -> None:
    """Stop with ``sig`` while a subscription is open (as GraphiQL keeps one) and jobs run:
    exit 0, one line after the banner, no traceback, no server.json left."""
    ws = await _subscribe(app.url, token)
    try:
        await asyncio.sleep(1.0)
        assert await asyncio.to_thread(app.signal, sig) == 0
    finally:
        await ws.close()
    lines = output(log)
    assert len(after_banner(lines)) == 1, "\n".join(lines)
    assert after_banner(lines)[0].startswith("Baton stopped"), "\n".join(lines)


@pytest.mark.timeout(400)  # several process starts on a loaded machine
async def test_quiet_console_banner_last_and_clean_stops(tmp_path: Path) -> None:
    started: list[Served] = []
    try:
        # 1. First start: the banner is the last start-up output, with the token shown once.
        log = tmp_path / "first.log"
        app = await asyncio.to_thread(serve, tmp_path, log)
        started.append(app)
        token = (tmp_path / "data" / "admin-token").read_text().strip()
        await asyncio.sleep(IDLE_S)  # idle: each scheduler job runs 1-5 times a second
        lines = output(log)
        assert after_banner(lines) == [], "\n".join(lines)
        assert len(lines) <= 20, "\n".join(lines)
        assert not [line for line in lines if any(n in line for n in NOISE)], "\n".join(lines)
        text = "\n".join(lines)
        assert text.count(token) == 1  # shown once, in the banner
        for where in ("/graphql", "/inbox", "/metrics", str(tmp_path / "data" / "admin-token")):
            assert where in text, text
        # Requests add at most one line each (the text console logs none).
        async with httpx.AsyncClient() as http:
            for _ in range(5):
                assert (await http.get(f"{app.url}/health")).status_code == 200
                await http.post(
                    f"{app.url}/graphql",
                    json={"query": "{ health }"},
                    headers={"Authorization": f"Bearer {token}"},
                )
        await asyncio.sleep(0.5)
        assert len(after_banner(output(log))) <= 10
        # 2. Ctrl-C: one line.
        await stop(app, signal.SIGINT, log, token)
        assert not (tmp_path / "graph" / "server.json").exists()

        # 3. A later start shows where the token is, not the token; a SIGKILL leaves a stale
        # server.json (nothing can remove it) that the next start detects and replaces.
        second = await asyncio.to_thread(serve, tmp_path, tmp_path / "second.log")
        started.append(second)
        text = (tmp_path / "second.log").read_text()
        assert token not in text and "baton admin-token" in text, text
        old = json.loads((tmp_path / "graph" / "server.json").read_text())
        await asyncio.to_thread(second.kill)
        await asyncio.sleep(0.5)
        assert (tmp_path / "graph" / "server.json").exists()
        log = tmp_path / "third.log"
        third = await asyncio.to_thread(serve, tmp_path, log)
        started.append(third)
        new = json.loads((tmp_path / "graph" / "server.json").read_text())
        assert new["owner_pid"] == third.proc.pid != old["owner_pid"]
        # 4. SIGTERM: one line too.
        await stop(third, signal.SIGTERM, log, token)
        assert not (tmp_path / "graph" / "server.json").exists()
    finally:
        for p in started:
            if p.proc.poll() is None:
                p.kill()
