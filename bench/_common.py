"""Shared bench plumbing: machine facts, percentiles, the table + last-line-JSON output."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from app.graph.store import StatementLimits

# Benchmarks run bulk statements (100,000 tasks in one submit) on purpose: they opt out of
# the API's 5 s statement timeout (docs/reliability.md, "Limits").
BENCH_TIMEOUT_MS = 300_000
BENCH_LIMITS = StatementLimits(timeout_ms=BENCH_TIMEOUT_MS)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/x.py`

console = Console(stderr=False)

if TYPE_CHECKING:
    from tests.support.graphs import GraphTarget

BACKENDS = ("falkordb", "neo4j")


@contextmanager
def graph_target(backend: str, fsync: str = "always") -> Iterator[GraphTarget]:
    """A private graph server for one bench run: embedded FalkorDB or Neo4j 5.26 (started
    from tools/neo4j in a temporary directory), the same way the test suite gets one, with
    the bench statement timeout (bulk statements on purpose)."""
    from tests.support.graphs import open_target

    # The data dir goes with the run (100k-task graphs are hundreds of MB; left behind, every
    # run used to leave one in /tmp).
    with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as tmp:
        with (
            console.status(f"starting {backend}"),
            open_target(backend, Path(tmp), timeout_ms=BENCH_TIMEOUT_MS, fsync=fsync) as target,
        ):
            yield target


def backend_label(target: GraphTarget) -> str:
    """How results name the backend."""
    return "falkordb-embedded" if target.backend == "falkordb" else "neo4j-5.26-community"


def aof_bytes(server: Any) -> int:
    """Size of an embedded FalkorDB server's append-only files."""
    return sum(p.stat().st_size for p in (server.data_dir / "appendonlydir").iterdir())


def restart_s(server: Any) -> float:
    """Stop an embedded server and time its start (the replay) until it answers."""
    server.stop()
    t0 = time.monotonic()
    server.start()
    return time.monotonic() - t0


def free_port() -> int:
    """A loopback port nobody listens on (for the servers a scenario starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def gql(http: Any, url: str, token: str, query: str, **variables: object) -> dict[str, Any]:
    """One GraphQL call through the public API; errors raise."""
    r = await http.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = r.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return dict(body["data"])


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def pct(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) of ``samples``, nearest-rank; 0.0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[k])


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    """p50/p99/mean of latencies given in seconds, reported in ms."""
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(pct(ms, 50), 3),
        "p99_ms": round(pct(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else 0.0,
    }


def report(title: str, rows: list[tuple[str, Any]], metrics: dict[str, Any], as_json: bool) -> None:
    """Print the table; with ``--json`` the last line is the metrics object."""
    table = Table("metric", "value", title=title)
    for k, v in rows:
        table.add_row(k, f"{v:,.2f}" if isinstance(v, float) else str(v))
    console.print(table)
    if as_json:
        print(json.dumps({**metrics, "machine": machine()}), flush=True)


def serve_app(target: GraphTarget, graph: str, token: str, **env: str) -> tuple[Any, str]:
    """Start `baton serve` on the given graph (a real process, like production); returns
    the process and its URL once /health answers."""
    import subprocess

    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full = {
        **os.environ,
        **target.env(graph),
        "BATON_ADMIN_TOKEN": token,
        "BATON_LOG_LEVEL": "WARNING",
        "BATON_RATE_LIMIT_PER_S": "1000000",
        "BATON_RATE_LIMIT_BURST": "1000000",
        "BATON_WS_MAX_SOCKETS": "100000",
        "BATON_WS_MAX_SUBSCRIPTIONS": "100000",
        "BATON_GRAPH_TIMEOUT_MS": str(BENCH_TIMEOUT_MS),
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("baton serve did not become healthy")
