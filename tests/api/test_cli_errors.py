"""Issue 21, finding 4: a CLI mistake is one line on stderr with exit code 2 (a usage error)
or 1 (it did not work), never a traceback. No graph is needed: each is refused before
anything connects (the graph URI points nowhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support.procs import CHECKOUT_PATH

REPO = Path(__file__).resolve().parents[2]


def baton(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.update(
        {
            "BATON_GRAPH_URI": "falkordb://127.0.0.1:1",
            "BATON_DATA_DIR": str(tmp / "d"),
            "PYTHONPATH": CHECKOUT_PATH,
            "COLUMNS": "200",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(got: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    out = got.stdout + got.stderr
    assert got.returncode == code, out
    assert "Traceback" not in out, out
    assert got.stderr.strip() and got.stderr.strip().count("\n") == 0, out
    assert got.stderr.startswith("baton: "), out
    for w in words:
        assert w in got.stderr, (w, out)


def test_import_file_mistakes(tmp_path: Path) -> None:
    one_line(baton("import", "missing.yaml", tmp=tmp_path), 2, "missing.yaml: no such file")
    (tmp_path / "adir").mkdir()
    one_line(baton("import", "adir", tmp=tmp_path), 2, "is a directory")
    (tmp_path / "bad.yaml").write_text("entities: [\n  {id: x\n")
    one_line(baton("import", "bad.yaml", tmp=tmp_path), 2, "not YAML or JSON")
    (tmp_path / "list.json").write_text("[1, 2]")
    one_line(baton("import", "list.json", tmp=tmp_path), 2, "expected a mapping")


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["seed", "--path", "nowhere"], 2, ["nowhere: not a seed folder"]),
        (["audit", "export", "--out", "no/such/dir/a.jsonl"], 2, ["no such directory"]),
        (["trace", "run-x", "--html", "no/such/dir/t.html"], 2, ["no such directory"]),
        (["trace", "run-x"], 2, ["no API token", "--token or set BATON_TOKEN"]),
        (["why", "task-x"], 2, ["no API token"]),
        (["agent", "run", "nosuchmodule:agent", "--token", "bt_x"], 2, ["no module"]),
    ],
    ids=["seed-path", "audit-out", "trace-html", "trace-token", "why-token", "agent-module"],
)
def test_other_cli_mistakes(tmp_path: Path, args: list[str], code: int, words: list[str]) -> None:
    one_line(baton(*args, tmp=tmp_path), code, *words)


def test_trace_against_nothing_listening(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    got = baton("trace", "run-x", "--url", url, "--token", "bt_x", tmp=tmp_path)
    one_line(got, 1, f"cannot reach Baton at {url}")
