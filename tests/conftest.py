"""Fixtures on real parts: an embedded FalkorDB server per test session, a fresh graph per
test, and the real app served by uvicorn on a loopback port.

``--graph-backend=falkordb|neo4j`` (or ``BATON_TEST_BACKEND``) picks the backend for the
whole suite; on Neo4j the session starts a private Neo4j 5 Community from ``tools/neo4j``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.api.app import create_app
from app.config import Settings
from app.core.clock import Clock, ManualClock
from app.graph import GraphStore
from app.graph.queries import load
from app.runtime import Runtime
from tests.support.gql import GQL
from tests.support.graphs import GraphTarget, open_target
from tests.support.procs import Served

ADMIN_TOKEN = "bt_test-admin-token-0123456789abcdef"
TEST_CYPHER = Path(__file__).parent / "graph" / "cypher"  # statements only tests run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--graph-backend",
        default=os.environ.get("BATON_TEST_BACKEND", "falkordb"),
        choices=["falkordb", "neo4j"],
        help="the graph backend the whole suite runs on (env BATON_TEST_BACKEND)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"baton graph backend: {config.getoption('--graph-backend')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``falkordb_only`` tests (the embedded server itself) are skipped on Neo4j, and
    ``neo4j_only`` ones (Neo4j's own tools) on FalkorDB, with why."""
    other = "falkordb_only" if config.getoption("--graph-backend") == "neo4j" else "neo4j_only"
    for item in items:
        mark = item.get_closest_marker(other)
        if mark is not None:
            why = mark.args[0] if mark.args else "tests one backend's own server"
            label = "FalkorDB" if other == "falkordb_only" else "Neo4j"
            item.add_marker(pytest.mark.skip(reason=f"{label} only: {why}"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", [metafunc.config.getoption("--graph-backend")])


_SESSION: dict[str, Any] = {}  # the Neo4j server started before the first test
# The statement timeout of the Neo4j pass (production's default is 5 s): Neo4j plans each
# statement text on first use, up to a few seconds for the largest ones on a loaded 2-core
# machine, and the suite meets every statement cold. Tests of timeouts set their own.
NEO4J_TEST_TIMEOUT_MS = int(os.environ.get("BATON_TEST_NEO4J_TIMEOUT_MS", "15000"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """On Neo4j, start the session's server once collection is done, before any test: a JVM
    start on a loaded 2-core machine can take minutes, and inside the first test's setup it
    would count against that test's timeout (and fail every test after it)."""
    config = session.config
    if config.getoption("--graph-backend") != "neo4j" or config.option.collectonly:
        return
    if not any("graph" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    tmp = config._tmp_path_factory.mktemp("neo4j")  # type: ignore[attr-defined]
    stack = contextlib.ExitStack()
    _SESSION["target"] = stack.enter_context(
        open_target("neo4j", tmp, timeout_ms=NEO4J_TEST_TIMEOUT_MS)
    )
    _SESSION["stack"] = stack


def pytest_sessionfinish(session: pytest.Session) -> None:
    stack = _SESSION.pop("stack", None)
    if stack is not None:
        stack.close()


@pytest.fixture(scope="session")
def graph(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GraphTarget]:
    """The session's graph server: an embedded FalkorDB, or a private Neo4j 5 that the
    session starts itself (``BATON_TEST_NEO4J_URI`` points at an external, empty one)."""
    if "target" in _SESSION:
        yield _SESSION["target"]
        return
    backend = request.config.getoption("--graph-backend")
    with open_target(backend, tmp_path_factory.mktemp(backend)) as target:
        yield target


def fresh_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(graph: GraphTarget) -> AsyncIterator[GraphStore]:
    """A fresh, prepared graph on the session's backend."""
    s = await graph.open(fresh_name())
    yield s
    await s.drop_all()
    await s.close()


@pytest.fixture
async def backend_store(backend: str, graph: GraphTarget) -> AsyncIterator[GraphStore]:
    """The conformance suite's store (parametrised by backend name for its ids), which also
    knows the suite's own probe statements (``tests/graph/cypher/``)."""
    assert backend == graph.backend
    s = await graph.open(fresh_name(), queries=load(backend, extra=(TEST_CYPHER,)))
    yield s
    await s.drop_all()
    await s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class App:
    """A running app: its URL, runtime, admin client and settings."""

    url: str
    settings: Settings
    admin: GQL
    http: httpx.AsyncClient
    server: uvicorn.Server

    @property
    def rt(self) -> Runtime:
        app = cast(FastAPI, self.server.config.app)  # start_app put the FastAPI app there
        rt: Runtime = app.state.rt
        return rt

    @property
    def store(self) -> GraphStore:
        return self.rt.store

    def client(self, token: str | None) -> GQL:
        return GQL(self.url, token, self.http)


async def start_app(
    graph: GraphTarget, graph_name: str, clock: Clock | None = None, **overrides: Any
) -> App:
    """Serve the real app with uvicorn on a loopback port, in this event loop (a graph name
    the session has not used before starts empty, on either backend)."""
    port = free_port()
    settings = Settings(
        **{
            **graph.settings(graph_name),
            "admin_token": ADMIN_TOKEN,
            "host": "127.0.0.1",
            "port": port,
            **overrides,
        }
    )
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.config.app = app  # keep a handle on the FastAPI app (uvicorn wraps it)
    task = asyncio.create_task(server.serve())
    server._baton_task = task  # type: ignore[attr-defined]
    for _ in range(6000):  # up to 60 s: a loaded machine, a first schema on Neo4j
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    http = httpx.AsyncClient(timeout=30)
    url = f"http://127.0.0.1:{port}"
    return App(url, settings, GQL(url, ADMIN_TOKEN, http), http, server)


async def stop_app(app: App) -> None:
    await app.http.aclose()
    app.server.should_exit = True
    await app.server._baton_task  # type: ignore[attr-defined]


@pytest.fixture
async def api(graph: GraphTarget) -> AsyncIterator[App]:
    """The real app (scheduler off; tests drive jobs explicitly) on a fresh graph."""
    app = await start_app(graph, fresh_name(), scheduler=False)
    yield app
    await app.store.drop_all()
    await stop_app(app)


@pytest.fixture
async def api_clock(graph: GraphTarget) -> AsyncIterator[tuple[App, ManualClock]]:
    """The real app with a manual clock (leases, SLAs, escalations)."""
    clock = ManualClock()
    app = await start_app(graph, fresh_name(), clock=clock, scheduler=False)
    yield app, clock
    await app.store.drop_all()
    await stop_app(app)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@contextlib.asynccontextmanager
async def second_replica(api: App, graph: GraphTarget, log: Path) -> AsyncIterator[Served]:
    """Another `baton serve` process on ``api``'s graph (no scheduler), healthy, stopped after."""
    other = Served(
        {
            **graph.env(api.settings.graph_name),
            "BATON_ADMIN_TOKEN": ADMIN_TOKEN,
            "BATON_SCHEDULER": "false",
        },
        free_port(),
        log=log,
    )
    try:
        await asyncio.to_thread(other.wait_healthy)
        yield other
    finally:
        await asyncio.to_thread(other.signal, signal.SIGTERM)


@pytest.fixture
async def seeded_app(graph: GraphTarget) -> AsyncIterator[App]:
    """The app on a fresh graph holding the demo org (seeds/), without its scheduler: tests
    drive the jobs themselves."""
    from app.core import seed
    from app.resources import SEEDS_DIR

    a = await start_app(graph, fresh_name(), scheduler=False)
    await seed.load(a.store, SEEDS_DIR, now=a.rt.now())
    yield a
    await a.store.drop_all()
    await stop_app(a)
