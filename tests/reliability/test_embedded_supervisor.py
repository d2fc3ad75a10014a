"""The app keeps its embedded graph server alive (issue 19, "survive the graph going away"):
SIGKILL the server under a `baton serve` that started it, keep submitting, and the app
answers coded UNAVAILABLE errors in JSON (never an HTTP 500), `/health` 503, then restarts
the server by itself and serves again with nothing acknowledged lost. No app restart."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, free_port
from tests.support.gql import GQL
from tests.support.procs import Served, redis_pids_for

pytestmark = pytest.mark.falkordb_only("the app's own embedded FalkorDB server")

SUBMIT = "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }"


@pytest.mark.timeout(180)
async def test_the_app_restarts_its_dead_graph_server(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    env = {
        "BATON_GRAPH_URI": f"embedded://{data}",
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_DATA_DIR": str(tmp_path / "baton"),
    }
    app = Served(env, free_port(), log=tmp_path / "app.log")
    try:
        await asyncio.to_thread(app.wait_healthy)
        acked: set[str] = set()
        codes: set[str] = set()
        health: list[int] = []
        async with httpx.AsyncClient(timeout=10) as http:
            admin = GQL(app.url, ADMIN_TOKEN, http)

            async def submit(n: int) -> None:
                r = await http.post(
                    f"{app.url}/graphql",
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                    json={
                        "query": SUBMIT,
                        "variables": {
                            "i": {
                                "kind": "k",
                                "capability": "work",
                                "payload": {"n": n},
                                "dedupKey": f"n-{n}",
                            }
                        },
                    },
                )
                assert r.status_code != 500 and r.headers["content-type"].startswith(
                    "application/json"
                ), r.text[:300]
                body = r.json()
                if body.get("errors"):
                    codes.update(e["extensions"]["code"] for e in body["errors"])
                else:
                    acked.add(body["data"]["submitTask"]["id"])

            for n in range(10):
                await submit(n)
            pids = redis_pids_for(data)
            assert len(pids) == 1, pids
            os.kill(pids[0], signal.SIGKILL)
            n, back = 10, None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                await submit(n)
                n += 1
                health.append((await http.get(f"{app.url}/health")).status_code)
                if health[-1] == 200 and redis_pids_for(data) and len(acked) > 10:
                    back = time.monotonic()
                    break
                await asyncio.sleep(0.05)
            assert back is not None, f"not back within 60 s: health {health[-5:]}, {codes}"
            assert codes <= {"UNAVAILABLE"}, codes
            assert redis_pids_for(data) != pids  # a new server process, same app process
            assert app.proc.poll() is None
            got = await admin("{ tasks(first: 500) { nodes { id } } }")
            present = {t["id"] for t in got["tasks"]["nodes"]}
            assert acked <= present, f"{len(acked - present)} acknowledged tasks lost"
    finally:
        app.kill()
    assert "restarting it" in (tmp_path / "app.log").read_text()
