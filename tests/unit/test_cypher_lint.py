"""The offline Cypher lint (`make lint`: Neo4j's JavaScript parser) catches what it should.

Whether cypher/ itself is clean is checked in the suite by Neo4j's own planner
(tests/graph/test_statements_compile.py), which takes seconds where this parser's semantic
pass takes over a minute on two cores."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = ROOT / "tools" / "cypher-lint" / "lint.mjs"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (LINT.parent / "node_modules").exists(),
    reason="node or the cypher-lint package is missing (make test installs it)",
)


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(LINT), str(folder)], capture_output=True, text=True, timeout=110
    )


def test_lint_catches_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "broken.cypher").write_text("// a comment\nMATCH (n RETURN n\n")
    (tmp_path / "fine.cypher").write_text("MATCH (n:Task {id: $id}) RETURN n.id AS id\n")
    run = lint(tmp_path)
    assert run.returncode == 1
    assert "broken.cypher" in run.stderr and "fine.cypher" not in run.stderr


def test_falkordb_only_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "thing.falkordb.cypher").write_text("GRAPH.CONSTRAINT nonsense\n")
    run = lint(tmp_path)
    assert run.returncode == 0, run.stderr
