"""Neo4j 5 Community on loopback from ``tools/neo4j`` (a Maven project): build it once, start
it as a child process, wait for its ready line, stop it with SIGTERM.

Used by ``make neo4j``, the test suite (``BATON_TEST_BACKEND=neo4j``) and the benchmarks;
production runs the ``neo4j:5.26`` image instead. Needs Java 17 and Maven.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tools" / "neo4j"
SOURCES = [PROJECT / "pom.xml", PROJECT / "src/main/java/baton/Neo4jLauncher.java"]
CLASSPATH = PROJECT / "target" / "classpath.txt"
READY = re.compile(r"BATON_NEO4J_READY (\S+)(?: (\S+))?")
DEFAULT_PASSWORD = "baton-dev-password"


class Neo4jLaunchError(RuntimeError):
    """The launcher could not be built or did not become ready."""


def build(quiet: bool = True) -> Path:
    """Compile the launcher and resolve its classpath with Maven, unless already up to date."""
    newest = max(p.stat().st_mtime for p in SOURCES)
    if CLASSPATH.exists() and CLASSPATH.stat().st_mtime >= newest:
        return CLASSPATH
    args = ["mvn", "-B", "-DskipTests", "-f", str(PROJECT / "pom.xml"), "package"]
    if quiet:
        args.insert(1, "-q")
    done = subprocess.run(args, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout or "")[-3000:] + (done.stderr or "")[-3000:]
        raise Neo4jLaunchError(f"building tools/neo4j failed (mvn exit {done.returncode}):\n{tail}")
    CLASSPATH.touch()
    return CLASSPATH


def _classpath() -> str:
    """The launcher's classes and the Neo4j jars Maven resolved (after :func:`build`)."""
    return f"{PROJECT / 'target' / 'classes'}:{CLASSPATH.read_text().strip()}"


def command(home: Path, bolt_port: int, http_port: int, heap: str = "768m") -> list[str]:
    """The java command line that runs the launcher (after :func:`build`)."""
    return [
        "java",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-cp",
        _classpath(),
        "baton.Neo4jLauncher",
        str(home),
        str(bolt_port),
        str(http_port),
    ]


def admin(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Neo4j's own ``neo4j-admin`` (``org.neo4j.cli.AdminTool``, from the same jars) on a
    launcher home: ``admin(home, "database", "dump", "neo4j", "--to-path=DIR")``. Community
    dumps and loads only a stopped database; the tool says so if it is running."""
    build()
    conf = home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "neo4j.conf").touch()
    env = {**os.environ, "NEO4J_HOME": str(home.resolve()), "NEO4J_CONF": str(conf.resolve())}
    return subprocess.run(
        ["java", "-cp", _classpath(), "org.neo4j.cli.AdminTool", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@dataclass
class Neo4jServer:
    """A Neo4j child process with its own home directory (never a user's database)."""

    home: Path
    bolt_port: int = 0  # 0: a free port
    http_port: int = -1  # -1: no HTTP connector (no Browser); 0: a free port
    password: str = DEFAULT_PASSWORD
    heap: str = "768m"
    conf: dict[str, str] = field(default_factory=dict)  # extra neo4j.conf settings
    uri: str = ""
    browser_url: str = ""
    proc: subprocess.Popen[str] | None = None
    _log: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def start(self, timeout_s: float = 240.0) -> Neo4jServer:
        """Start and block until Bolt accepts connections; raise with the log tail if not."""
        build()
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "BATON_NEO4J_PASSWORD": self.password,
            "BATON_NEO4J_PARENT_PID": str(os.getpid()),
            "BATON_NEO4J_CONF": ";".join(f"{k}={v}" for k, v in self.conf.items()),
        }
        self.proc = subprocess.Popen(
            command(self.home, self.bolt_port, self.http_port, self.heap),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to forward
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not ready.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Neo4jLaunchError("Neo4j did not start:\n" + "\n".join(self._log))
        return self

    def _pump(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.append(line.rstrip())
            found = READY.search(line)
            if found:
                self.uri = found.group(1)
                self.browser_url = found.group(2) or ""
                ready.set()

    @property
    def bolt_port_in_use(self) -> int:
        """The Bolt port actually bound (after :meth:`start`)."""
        return int(self.uri.rsplit(":", 1)[1])

    def kill(self) -> None:
        """SIGKILL: a crash, for fault tests (the data dir stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM and wait for a clean shutdown (SIGKILL if it hangs)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
