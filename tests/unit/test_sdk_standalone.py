"""The SDK stands alone: ``sdk/python`` is its own distribution (``baton-sdk``, package
``baton_sdk``) that imports nothing of the server, keeps its own copy of the API's error
codes, and installs and works in a fresh venv where the server and its dependencies are not.

The default run builds the wheel offline and installs it with only its dependency closure
taken from this venv (seconds, no network); ``-m slow`` also installs ``sdk/python`` with pip
from PyPI, as an agent author would.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import sysconfig
import warnings
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import baton_sdk
from app.core import errors as server_errors
from baton_sdk import errors

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "python"
# What the SDK may import besides the standard library and itself (mcp: the optional extra).
ALLOWED = {"httpx", "websockets", "mcp", "baton_sdk"}


def _imports(path: Path) -> set[str]:
    """Top-level names of the absolute imports in one module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_sdk_imports_nothing_of_the_server() -> None:
    modules = sorted((SDK / "baton_sdk").rglob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        used = _imports(path) - set(sys.stdlib_module_names) - {"__future__"}
        assert "app" not in used, f"{path.name} imports the server"
        assert used <= ALLOWED, f"{path.name} imports {sorted(used - ALLOWED)}"


def test_the_public_surface() -> None:
    assert sorted(baton_sdk.__all__) == [
        "Agent",
        "BatonError",
        "Client",
        "ProposalOutcome",
        "Retryable",
        "TaskContext",
        "Transport",
        "TransportError",
    ]
    for name in baton_sdk.__all__:
        assert getattr(baton_sdk, name).__module__.startswith("baton_sdk."), name
    assert re.fullmatch(r"\d+\.\d+\.\d+", baton_sdk.__version__)


def test_app_sdk_is_a_deprecated_alias() -> None:
    sys.modules.pop("app.sdk", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import app.sdk
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    assert app.sdk.Agent is baton_sdk.Agent and app.sdk.Client is baton_sdk.Client


def _classes(module: object) -> dict[str, type[Exception]]:
    return {
        name: obj
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, Exception)
    }


def test_the_sdk_knows_every_error_code_the_server_answers_with() -> None:
    server = _classes(server_errors)
    sdk = _classes(errors)
    for name, cls in server.items():
        assert name in sdk, f"the server's {name} ({cls.code}) has no SDK class"  # type: ignore[attr-defined]
        assert sdk[name].code == cls.code, name  # type: ignore[attr-defined]
    assert set(sdk) - set(server) == {"TransportError"}
    assert {code for code, cls in errors.CODES.items() if cls.code == code} == {
        cls.code  # type: ignore[attr-defined]
        for cls in server.values()
        if cls is not server_errors.BatonError
    }


def test_coded_errors_raise_as_their_classes() -> None:
    got = errors.from_graphql(
        {"message": "slow down", "extensions": {"code": "RATE_LIMITED", "retryAfterMs": 5}}
    )
    assert type(got) is errors.RateLimited and got.details == {"retryAfterMs": 5}
    assert type(errors.from_graphql({"message": "?", "extensions": {"code": "NEW"}})) is (
        errors.BatonError
    )


# -- installed alone ---------------------------------------------------------------------

# Run inside the fresh venv: the SDK works there, the server and its stack are absent.
PROBE = r"""
import importlib, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import baton_sdk
from baton_sdk import Client, errors

assert baton_sdk.__file__.startswith(sys.prefix), baton_sdk.__file__
absent = []
for name in ("app", "fastapi", "strawberry", "neo4j", "falkordb", "redis", "pydantic", "mcp"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        absent.append(name)
try:
    import baton_sdk.mcp  # noqa: F401
    mcp_hint = ""
except ImportError as exc:
    mcp_hint = str(exc)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "submitTask" in body["query"]:
            out = {"errors": [{"message": "stale fence", "extensions": {"code": "CONFLICT"}}]}
        else:
            out = {"data": {"task": {"id": body["variables"]["id"], "status": "done"}}}
        raw = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
with Client(f"http://127.0.0.1:{server.server_address[1]}", token="bt_x") as api:
    task = api.task("t-1")
    try:
        api.submit_task(kind="k", capability="c")
        raised = ""
    except errors.Conflict as exc:
        raised = f"{exc.code}: {exc.message}"
server.shutdown()
print(json.dumps({"absent": absent, "mcp_hint": mcp_hint, "task": task, "raised": raised}))
"""


def _clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH & co (which could show pip and the probe our
    checkout: the venv must see only what was installed into it) and Baton's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "PYTHON"))}


def _run(args: list[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    argv = [str(a) for a in args]
    kw.setdefault("env", _clean_env())
    got = subprocess.run(argv, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    assert got.returncode == 0, f"{argv}: {got.stdout[-3000:]}\n{got.stderr[-3000:]}"
    return got  # type: ignore[no-any-return]


def _probe(venv: Path, home: Path) -> dict[str, object]:
    """Run PROBE with the venv's python from an empty directory, nothing of ours on the path."""
    import json

    (home / "probe.py").write_text(PROBE)
    got = _run([venv / "bin" / "python", home / "probe.py"], cwd=home, timeout=60)
    out: dict[str, object] = json.loads(got.stdout.splitlines()[-1])
    return out


def _check(out: dict[str, object]) -> None:
    # The server and its stack are not there (pydantic: the SDK does not need it either).
    assert out["absent"] == [
        "app",
        "fastapi",
        "strawberry",
        "neo4j",
        "falkordb",
        "redis",
        "pydantic",
        "mcp",
    ], out
    assert "baton-sdk[mcp]" in str(out["mcp_hint"])
    assert out["task"] == {"id": "t-1", "status": "done"}
    assert out["raised"] == "CONFLICT: stale fence"


def _closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions these requirements need, transitively (no extras)."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        dist = metadata.distribution(req.name)
        assert dist.version in req.specifier, (str(req), dist.version)
        key = dist.metadata["Name"].lower()
        if key not in found:
            found[key] = dist
            todo.extend(Requirement(r) for r in dist.requires or [])
    return found


@pytest.mark.timeout(120)
def test_the_wheel_installs_and_works_in_a_fresh_venv_without_the_server(tmp_path: Path) -> None:
    # Built offline with this venv's setuptools, as a release would build it.
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run(
        [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", dist, SDK],
        timeout=120,
    )
    (wheel,) = dist.glob("baton_sdk-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = zf.read(meta_name).decode()
    assert {n.split("/")[0] for n in names} == {"baton_sdk", meta_name.split("/")[0]}, names
    assert "baton_sdk/py.typed" in names and "baton_sdk/documents.py" in names
    requires = [
        ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")
    ]
    plain = [r for r in requires if "extra ==" not in r]
    assert sorted(Requirement(r).name for r in plain) == ["httpx", "websockets"], requires
    assert [Requirement(r).name for r in requires if "extra ==" in r] == ["mcp"]

    # A fresh venv: no pip, no system site-packages; the wheel, and beside it only the
    # distributions its requirements need (linked from this venv: no network).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], timeout=60)
    _run(
        [
            *pip,
            "--python",
            venv / "bin" / "python",
            "install",
            "--quiet",
            "--no-compile",
            "--no-deps",
            "--no-index",
            wheel,
        ],
        timeout=120,
    )
    deps = _closure(plain)
    assert "httpx" in deps and not {"baton", "fastapi", "pydantic"} & deps.keys(), deps
    site = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path / "deps"
    view.mkdir()
    for d in deps.values():
        for f in d.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            if not (view / top).exists():
                (view / top).symlink_to(site / top)
    purelib = _run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    Path(purelib, "sdk-deps.pth").write_text(f"{view}\n")

    home = tmp_path / "home"
    home.mkdir()
    _check(_probe(venv, home))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_pip_installs_the_sdk_from_the_checkout_with_its_dependencies(tmp_path: Path) -> None:
    """What the README tells agent authors: `pip install ./sdk/python` (from PyPI: network)."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=120)
    _run(
        [
            venv / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SDK,
        ],
        timeout=540,
    )
    _run([venv / "bin" / "python", "-m", "pip", "check"], timeout=60)
    home = tmp_path / "home"
    home.mkdir()
    _check(_probe(venv, home))
