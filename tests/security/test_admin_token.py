"""Finding 7: setting up the admin token can neither lock the admin out nor lose the token.

``BATON_ADMIN_TOKEN=""`` (what docker-compose passes when it is unset) means unset; a short
or malformed token is refused at start-up with a clear message; the first admin token is
shown once and kept in a 0600 file in the data dir that ``baton admin-token`` prints, even
when ``baton seed`` ran before the first ``baton serve``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.core import principals
from app.graph import GraphStore
from app.runtime import close_runtime, open_runtime
from tests.conftest import fresh_name
from tests.support.graphs import GraphTarget

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def empty(graph: GraphTarget) -> AsyncIterator[tuple[str, GraphStore]]:
    """A fresh, empty graph (nothing prepared: the first start happens in the test)."""
    name = fresh_name()
    store = graph.store(name)
    yield name, store
    await store.drop_all()
    await store.close()


def settings(graph: GraphTarget, name: str, data_dir: Path, token: str | None) -> Settings:
    return Settings(**graph.settings(name), data_dir=data_dir, admin_token=token)


def cli(
    *args: str, graph: GraphTarget | None, name: str, data_dir: Path, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    where = (
        graph.env(name)
        if graph
        else {"BATON_GRAPH_URI": "falkordb://127.0.0.1:1", "BATON_GRAPH_NAME": name}
    )
    env = {**os.environ, **where, "BATON_DATA_DIR": str(data_dir)}
    env.pop("BATON_ADMIN_TOKEN", None)
    if token is not None:
        env["BATON_ADMIN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_empty_means_unset_and_weak_tokens_are_refused() -> None:
    assert Settings(admin_token="").admin_token is None
    assert Settings(admin_token="   ").admin_token is None
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(admin_token="bt_x")
    with pytest.raises(ValidationError, match="start with 'bt_'"):
        Settings(admin_token="x" * 40)
    assert Settings(admin_token="bt_" + "a" * 29).admin_token == "bt_" + "a" * 29


def test_a_short_token_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    got = cli("serve", graph=None, name="unused", data_dir=tmp_path, token="abcd")
    assert got.returncode == 2, got
    assert "BATON_ADMIN_TOKEN is 4 characters; it must be at least 32" in got.stderr
    assert "Traceback" not in got.stdout + got.stderr


async def test_seed_before_serve_keeps_the_first_token(
    graph: GraphTarget, empty: tuple[str, GraphStore], tmp_path: Path
) -> None:
    name, store = empty
    data = tmp_path / "data"
    seeded = cli("seed", graph=graph, name=name, data_dir=data, token="")
    assert seeded.returncode == 0, seeded.stderr
    kept = data / "admin-token"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    token = kept.read_text().strip()
    assert token in seeded.stdout  # shown once, by the process that minted it
    shown = cli("admin-token", graph=graph, name=name, data_dir=data)
    assert shown.returncode == 0 and shown.stdout.strip() == token
    admin = await principals.authenticate(store, token, now=int(time.time() * 1000))
    assert admin is not None and admin.id == "admin"
    # Later starts (empty BATON_ADMIN_TOKEN as docker-compose passes it, or none) neither
    # mint another token nor rotate the admin's: the first token keeps working.
    for t in ("", None):
        rt = await open_runtime(settings(graph, name, data, t), hub=False)
        try:
            assert rt.admin_token is None
        finally:
            await close_runtime(rt)
    assert kept.read_text().strip() == token
    assert await principals.authenticate(store, token, now=int(time.time() * 1000)) is not None


def test_admin_token_without_a_first_start_says_so(tmp_path: Path) -> None:
    got = cli("admin-token", graph=None, name="unused", data_dir=tmp_path / "none")
    assert got.returncode == 1 and "no admin token" in got.stderr
