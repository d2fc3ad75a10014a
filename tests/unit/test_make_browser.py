"""`make test` installs Chromium with apt-get as root only after saying what and why.

Runs the real Makefile's `browser` target with a PATH holding stand-ins for the system tools
it calls (`id`, `apt-get`, `dpkg-query`, and `chromium`/`chromedriver` when present), which
log each call to the same file make's output goes to, so the order is checked too. Nothing
is installed on this machine.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="no make")


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def run_browser(tmp_path: Path, uid: int, have_chromium: bool = False, *args: str) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    out = tmp_path / "out.log"
    _tool(bin_dir, "id", f"echo {uid}")
    _tool(bin_dir, "apt-get", f'echo "CALLED apt-get $*" >> {out}')
    _tool(bin_dir, "dpkg-query", 'echo "chromium 1.0  chromium-driver 1.0  "')
    if have_chromium:
        _tool(bin_dir, "chromium", "true")
        _tool(bin_dir, "chromedriver", "true")
    assert MAKE is not None
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        got = subprocess.run(
            [MAKE, "-s", "-C", str(REPO), "browser", *args],
            env=env,
            stdout=fd,
            stderr=fd,
            timeout=60,
        )
    finally:
        os.close(fd)
    text = out.read_text()
    assert got.returncode == 0, text
    return text


def test_as_root_it_says_what_it_installs_and_why_before_installing(tmp_path: Path) -> None:
    lines = run_browser(tmp_path, uid=0).splitlines()
    calls = [n for n, ln in enumerate(lines) if ln.startswith("CALLED apt-get")]
    assert [lines[n] for n in calls] == [
        "CALLED apt-get update -qq",
        "CALLED apt-get install -y -qq chromium chromium-driver",
    ], lines
    said = "\n".join(lines[: calls[0]])
    assert "apt-get" in said and "root" in said and "chromium chromium-driver" in said, said
    assert "browser tests" in said and "NO_APT=1" in said, said  # why, and how to decline
    assert "installed chromium 1.0  chromium-driver 1.0" in "\n".join(lines[calls[-1] :])


def test_it_installs_nothing_unless_needed_and_allowed_and_says_the_tests_skip(
    tmp_path: Path,
) -> None:
    assert run_browser(tmp_path / "present", 0, True) == ""  # chromium there: silent
    refused = run_browser(tmp_path / "no-apt", 0, False, "NO_APT=1")
    user = run_browser(tmp_path / "user", 1000)
    for text in (refused, user):
        assert "CALLED" not in text, text
        assert "browser tests will be skipped" in text, text
    assert "sudo apt-get install chromium chromium-driver" in user, user
