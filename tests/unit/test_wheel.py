"""The built package starts on its own, away from the source checkout.

Builds the sdist and the wheel from it as a release would (`python -m build`, offline: the
build backend comes from the lock), checks the wheel carries every Cypher statement, seed and
static asset, installs it into a fresh venv that sees only the runtime dependencies of
requirements-app.lock (the image's lock; no dev packages, no source tree), then runs
`baton serve --seed` from an empty directory and asks it for /health, the seeded org and a
static page. Runs once, in the FalkorDB pass (tests/unit), on the embedded graph.
"""

from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.unit.test_lock import normalise, parse_lock

REPO = Path(__file__).resolve().parents[2]
APP_LOCK = REPO / "requirements-app.lock"
pytestmark = pytest.mark.timeout(180)


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def _runtime_view(dst: Path) -> dict[str, str]:
    """Symlinks to exactly the distributions requirements-app.lock pins (code, data and
    .dist-info, as installed in this venv), so the wheel runs with what the image has."""
    site = Path(sysconfig.get_paths()["purelib"])
    dst.mkdir()
    pins = parse_lock(APP_LOCK.read_text())
    for name in pins:
        dist = metadata.distribution(name)
        for f in dist.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            link = dst / top
            if not link.exists() and not link.is_symlink():
                link.symlink_to(site / top)
    return pins


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    args: list[str | Path], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [str(a) for a in args]
    got = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, f"{argv}: {got.stdout[-3000:]}\n{got.stderr[-3000:]}"
    return got


def test_the_built_wheel_serves_the_seeded_org_outside_the_checkout(tmp_path: Path) -> None:
    # Build: sdist, then the wheel from the unpacked sdist (what a release publishes).
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, REPO])
    log = (built.stdout + built.stderr).lower()
    assert "deprecat" not in log, [ln for ln in log.splitlines() if "deprecat" in ln]
    (wheel,) = dist.glob("baton-*.whl")

    # Contents: every statement, seed and served file; the licence as SPDX plus its text.
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_string(zf.read(meta_name).decode())
    for folder, inside in [
        (REPO / "cypher", "app/_data/cypher/"),
        (REPO / "seeds", "app/_data/seeds/"),
        (REPO / "app" / "api" / "static", "app/api/static/"),
    ]:
        expected = {inside + rel for rel in _files(folder)}
        assert expected and not expected - names, sorted(expected - names)[:10]
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    # A fresh venv (no pip, no system site-packages) with the wheel and the runtime lock only.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    py = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(py), "--disable-pip-version-check"]
    # Without PYTHONPATH: a checkout on it (a worktree's tests) holds the baton.egg-info the
    # build just wrote, and pip would take the wheel for installed already.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    _run([*pip, "install", "--quiet", "--no-compile", "--no-deps", "--no-index", wheel], env=clean)
    runtime = _runtime_view(tmp_path / "runtime")
    purelib = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    Path(purelib.stdout.strip(), "baton-runtime.pth").write_text(f"{tmp_path / 'runtime'}\n")
    assert "fastapi" in runtime and "pytest" not in runtime
    for line in meta.get_all("Requires-Dist") or []:  # the app lock satisfies the wheel
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            pinned = runtime.get(normalise(req.name))
            assert pinned is not None and req.specifier.contains(pinned), (line, pinned)

    # Serve from an empty directory: nothing of the checkout is reachable.
    home = tmp_path / "run"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "PYTHON"))}
    env["HOME"] = str(home)
    where = _run(
        [py, "-c", "import app, app.graph.queries as q; print(app.__file__); print(q.CYPHER_DIR)"],
        cwd=home,
        env=env,
    ).stdout.split()
    assert all(w.startswith(str(venv)) for w in where), where
    port = _free_port()
    out = (home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [venv / "bin" / "baton", "serve", "--seed", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        health: httpx.Response | None = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"{url}/health", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        log_text = (home / "serve.log").read_text(errors="replace")[-3000:]
        assert health is not None and health.status_code == 200, log_text
        assert health.json()["backend"] == "falkordb", health.json()

        token = (home / ".baton" / "admin-token").read_text().strip()
        got = httpx.post(
            f"{url}/graphql",
            json={"query": "{ agents(first: 100) { nodes { id } } workflows { name } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        assert "errors" not in got, got
        assert len(got["data"]["agents"]["nodes"]) >= 5, got
        assert {"incident-response", "customer-onboarding"} <= {
            w["name"] for w in got["data"]["workflows"]
        }, got
        inbox = httpx.get(f"{url}/inbox", timeout=10)
        assert inbox.status_code == 200 and "<html" in inbox.text.lower()
        ide = httpx.get(f"{url}/graphql", headers={"accept": "text/html"}, timeout=10)
        assert "/graphiql/graphiql.js" in ide.text  # GraphiQL from the wheel, no CDN
        bundle = httpx.get(f"{url}/graphiql/graphiql.js", timeout=10)
        assert bundle.status_code == 200 and len(bundle.content) > 100_000
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        out.close()
