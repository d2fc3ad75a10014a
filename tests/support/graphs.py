"""The graph server a test session runs against: embedded FalkorDB or a private Neo4j 5.

FalkorDB isolates tests by graph name on one server. Neo4j Community has one user database,
so on Neo4j every graph name maps to it and a name the session has not used before starts
from an empty database (it is wiped when first claimed). Tests therefore use one graph at a
time on Neo4j, which is how the suite is written (module-wide rigs are torn down first).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.graph import GraphStore, StatementLimits
from app.graph.neo4j_launcher import DEFAULT_PASSWORD, Neo4jServer
from app.graph.queries import Queries
from app.graph.store import DEFAULT_EMBEDDING_DIM
from app.runtime import prepare_graph

NEO4J_DB = "neo4j"


@dataclass
class GraphTarget:
    """Where test apps, stores and child processes find the graph."""

    backend: str  # "falkordb" | "neo4j"
    uri: str  # falkordb+unix:///…/falkordb.sock | neo4j://127.0.0.1:P
    password: str = DEFAULT_PASSWORD
    server: Any = None  # the EmbeddedServer / Neo4jServer this session owns
    limits: StatementLimits | None = None  # statement bounds (None: the app's defaults)
    embedding_dim: int = DEFAULT_EMBEDDING_DIM  # the vector indexes' dimension
    _claimed: set[str] = field(default_factory=set)

    def claim(self, name: str) -> str:
        """The database/graph name to use for ``name``; on Neo4j a new name wipes the
        session's private database first, so it starts as empty as a new FalkorDB graph."""
        if self.backend == "falkordb" or name == NEO4J_DB:  # the latter: an app's own setting
            return name
        if name not in self._claimed:
            self._claimed.add(name)
            wipe_neo4j(self.uri, self.password)
        return NEO4J_DB

    def settings(self, name: str) -> dict[str, Any]:
        """``Settings`` overrides for an app on graph ``name``."""
        got: dict[str, Any] = {
            "graph_uri": self.uri,
            "graph_name": self.claim(name),
            "neo4j_password": self.password,
        }
        if self.limits is not None:
            got["graph_timeout_ms"] = self.limits.timeout_ms
        if self.embedding_dim != DEFAULT_EMBEDDING_DIM:
            got["embedding_dim"] = self.embedding_dim
        return got

    def env(self, name: str) -> dict[str, str]:
        """Environment for a ``baton`` child process on graph ``name``."""
        got = {
            "BATON_GRAPH_URI": self.uri,
            "BATON_GRAPH_NAME": self.claim(name),
            "BATON_NEO4J_PASSWORD": self.password,
        }
        if self.limits is not None:
            got["BATON_GRAPH_TIMEOUT_MS"] = str(self.limits.timeout_ms)
        if self.embedding_dim != DEFAULT_EMBEDDING_DIM:
            got["BATON_EMBEDDING_DIM"] = str(self.embedding_dim)
        return got

    def store(self, name: str, pool_size: int = 64, queries: Queries | None = None) -> GraphStore:
        """An unprepared store on graph ``name`` (``queries``: other statement texts)."""
        db = self.claim(name)
        if self.backend == "falkordb":
            from app.graph.falkordb import FalkorStore

            return FalkorStore.at(
                self.uri,
                db,
                pool_size,
                queries,
                limits=self.limits,
                embedding_dim=self.embedding_dim,
            )
        from app.graph.neo4j import Neo4jStore

        return Neo4jStore(
            self.uri,
            "neo4j",
            self.password,
            db,
            pool_size=pool_size,
            queries=queries,
            limits=self.limits,
            embedding_dim=self.embedding_dim,
        )

    async def open(self, name: str, queries: Queries | None = None) -> GraphStore:
        """A fresh, prepared store on graph ``name`` (``queries``: other statement texts)."""
        s = self.store(name, queries=queries)
        await prepare_graph(s)
        return s


def wipe_neo4j(uri: str, password: str) -> None:
    """Delete every node of the session's own Neo4j (in batches: no huge transaction)."""
    import neo4j

    from app.graph.neo4j import DROP_ALL

    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        with driver.session(database=NEO4J_DB) as session:
            session.run(DROP_ALL).consume()


def _neo4j_is_empty(uri: str, password: str) -> bool:
    import neo4j

    with neo4j.GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) RETURN count(n) AS n LIMIT 1", database_=NEO4J_DB
        )
        return int(records[0]["n"]) == 0


@contextmanager
def open_target(
    backend: str, tmp: Path, timeout_ms: int | None = None, fsync: str = "always"
) -> Iterator[GraphTarget]:
    """Start the session's graph server (or check an external Neo4j is empty) and stop it.
    ``timeout_ms`` overrides the statement timeout (benchmarks run bulk statements);
    ``fsync`` is the embedded server's appendfsync (benchmarks compare the two)."""
    limits = None if timeout_ms is None else StatementLimits(timeout_ms=timeout_ms)
    if backend == "falkordb":
        from app.graph.embedded import EmbeddedServer

        embedded = EmbeddedServer(
            tmp, fsync=fsync, **({} if timeout_ms is None else {"timeout_ms": timeout_ms})
        )
        info = embedded.start()
        try:
            yield GraphTarget("falkordb", info.uri, server=embedded, limits=limits)
        finally:
            embedded.stop()
        return
    external = os.environ.get("BATON_TEST_NEO4J_URI")
    password = os.environ.get("BATON_TEST_NEO4J_PASSWORD", DEFAULT_PASSWORD)
    if external:
        if not _neo4j_is_empty(external, password):
            raise RuntimeError(
                f"BATON_TEST_NEO4J_URI={external} holds data: the suite wipes the database it "
                "runs on, so it only runs on an empty one (or unset it: the suite then starts "
                "a private Neo4j)"
            )
        yield GraphTarget("neo4j", external, password, limits=limits)
        return
    # Tests wipe and refill a small graph all the time: keep compiled plans instead of
    # replanning on every statistics swing (the default suits production's steady graphs).
    conf = {"dbms.cypher.min_replan_interval": "1h"}
    server = Neo4jServer(tmp / "neo4j", http_port=0, password=password, conf=conf).start()
    try:
        yield GraphTarget(
            "neo4j",
            f"neo4j://127.0.0.1:{server.bolt_port_in_use}",
            password,
            server=server,
            limits=limits,
        )
    finally:
        server.kill()  # its data dir is the session's temporary one: no clean shutdown needed


class KillableGraph:
    """A graph server of the session's backend that a fault test owns: started in its own
    directory, SIGKILLed mid-workload, restarted on the same data at the same address."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.dir = tmp / "graph"
        if backend == "falkordb":
            from app.graph.embedded import EmbeddedServer

            self._embedded = EmbeddedServer(self.dir)
            self.uri = self._embedded.uri
        else:
            import socket

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            self._neo4j = Neo4jServer(self.dir, bolt_port=port)
            self.uri = f"neo4j://127.0.0.1:{port}"

    def env(self) -> dict[str, str]:
        """Environment for an app on this server."""
        return {"BATON_GRAPH_URI": self.uri, "BATON_NEO4J_PASSWORD": DEFAULT_PASSWORD}

    def start(self) -> None:
        if self.backend == "falkordb":
            self._embedded.start(detached=True)
        else:
            self._neo4j.start()

    def kill(self) -> None:
        """SIGKILL the server process: a crash, not a shutdown."""
        if self.backend == "falkordb":
            import signal

            from tests.support.procs import redis_pids_for

            for pid in redis_pids_for(self.dir):
                os.kill(pid, signal.SIGKILL)
        else:
            self._neo4j.kill()

    def stop(self) -> None:
        """Gone with its data: no clean shutdown to wait for (Neo4j's takes ~10 s)."""
        if self.backend == "falkordb":
            self._embedded.stop(force=True)
        else:
            self._neo4j.kill()
