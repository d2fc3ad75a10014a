"""Real `baton serve` processes for tests that kill and restart things."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
# PYTHONPATH for child processes: this checkout's server and SDK (sdk/python), not whatever
# the venv installed (the same code in CI; a git worktree's own code in development).
CHECKOUT_PATH = os.pathsep.join([str(REPO), str(REPO / "sdk" / "python")])


def redis_pids_for(data_dir: Path) -> list[int]:
    """PIDs of redis-server processes working in ``data_dir`` (redis chdirs to --dir and
    rewrites its own command line, so the working directory is what identifies it)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"redis-server" not in (proc / "cmdline").read_bytes():
                continue
            if Path(os.readlink(proc / "cwd")) == data_dir.resolve():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


class Served:
    """A `python -m app serve` child process on a loopback port."""

    def __init__(
        self, env: dict[str, str], port: int, seed: bool = False, log: Path | None = None
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "app", "serve", "--port", str(port)]
        if seed:
            args.append("--seed")
        self.log = log
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )

    def wait_healthy(self, timeout: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text()[-2000:] if self.log else ""
                raise RuntimeError(f"app exited {self.proc.returncode}: {tail}")
            try:
                r = httpx.get(f"{self.url}/health", timeout=1)
                if r.status_code == 200:
                    return dict(r.json())
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("app not healthy")

    def signal(self, sig: int) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
