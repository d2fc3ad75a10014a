"""Fixtures on real parts: an embedded FalkorDB server per test session, a fresh graph per
test, and the real app served by uvicorn on a loopback port.

``--graph-backend=falkordb|neo4j|all`` picks the backends for ``backend_store`` (the
conformance suite); Neo4j needs ``BATON_NEO4J_URI`` (+ ``BATON_NEO4J_USER/PASSWORD``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.api.app import create_app
from app.config import Settings
from app.core.clock import Clock, ManualClock
from app.core.runtime import Runtime, prepare_graph
from app.graph import GraphStore
from app.graph.embedded import EmbeddedServer
from app.graph.falkordb import FalkorStore
from tests.support.gql import GQL

ADMIN_TOKEN = "bt_test-admin-token-0123456789abcdef"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--graph-backend",
        default="falkordb",
        choices=["falkordb", "neo4j", "all"],
        help="backends for the conformance suite",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--graph-backend")
        backends = ["falkordb", "neo4j"] if choice == "all" else [choice]
        if choice == "falkordb":
            backends.append("neo4j")  # shown as skipped unless BATON_NEO4J_URI is set
        metafunc.parametrize("backend", backends)


@pytest.fixture(scope="session")
def graph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """One embedded FalkorDB for the whole session; tests isolate by graph name."""
    server = EmbeddedServer(tmp_path_factory.mktemp("falkordb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def graph_port(graph_server: EmbeddedServer) -> str:
    """The session server's address: a ``falkordb+unix://`` URI (it has no TCP port)."""
    assert graph_server.info is not None
    return graph_server.info.uri


def fresh_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


async def _falkor(uri: str, name: str) -> FalkorStore:
    store = FalkorStore.at(uri, name, pool_size=64)
    await prepare_graph(store)
    return store


@pytest.fixture
async def store(graph_port: str) -> AsyncIterator[FalkorStore]:
    """A fresh, prepared graph on the embedded server."""
    s = await _falkor(graph_port, fresh_name())
    yield s
    await s.drop_all()
    await s.close()


@pytest.fixture
async def backend_store(backend: str, graph_port: str) -> AsyncIterator[GraphStore]:
    """A fresh, prepared graph on each selected backend."""
    if backend == "falkordb":
        s: GraphStore = await _falkor(graph_port, fresh_name())
    else:
        uri = os.environ.get("BATON_NEO4J_URI")
        if not uri:
            pytest.skip("Neo4j backend: set BATON_NEO4J_URI to run the conformance suite on it")
        from app.graph.neo4j import Neo4jStore

        s = Neo4jStore(
            uri,
            os.environ.get("BATON_NEO4J_USER", "neo4j"),
            os.environ.get("BATON_NEO4J_PASSWORD", "baton-dev-password"),
        )
        await s.drop_all()
        await prepare_graph(s)
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
        return self.server.config.app.state.rt  # type: ignore[no-any-return]

    @property
    def store(self) -> GraphStore:
        return self.rt.store

    def client(self, token: str | None) -> GQL:
        return GQL(self.url, token, self.http)


async def start_app(
    graph_port: str, graph_name: str, clock: Clock | None = None, **overrides: Any
) -> App:
    """Serve the real app with uvicorn on a loopback port, in this event loop
    (``graph_port``: the graph URI, see the fixture)."""
    port = free_port()
    settings = Settings(
        graph_uri=graph_port,
        graph_name=graph_name,
        admin_token=ADMIN_TOKEN,
        host="127.0.0.1",
        port=port,
        **overrides,
    )
    app = create_app(settings, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server.config.app = app  # keep a handle on the FastAPI app (uvicorn wraps it)
    task = asyncio.create_task(server.serve())
    server._baton_task = task  # type: ignore[attr-defined]
    for _ in range(500):
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
async def api(graph_port: str) -> AsyncIterator[App]:
    """The real app (scheduler off; tests drive jobs explicitly) on a fresh graph."""
    app = await start_app(graph_port, fresh_name(), scheduler=False)
    yield app
    await app.store.drop_all()
    await stop_app(app)


@pytest.fixture
async def api_clock(graph_port: str) -> AsyncIterator[tuple[App, ManualClock]]:
    """The real app with a manual clock (leases, SLAs, escalations)."""
    clock = ManualClock()
    app = await start_app(graph_port, fresh_name(), clock=clock, scheduler=False)
    yield app, clock
    await app.store.drop_all()
    await stop_app(app)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
