"""Build hook: the wheel carries the top-level ``cypher/`` and ``seeds/`` folders.

They stay at the top of the repository (the source of truth, where the linter, the tests and
reviewers read them); building copies them into ``app/_data/`` of the built package, where
:mod:`app.resources` finds them in an installed wheel. An editable install (``make``) copies
nothing: :mod:`app.resources` reads the checkout's folders directly. Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = ("cypher", "seeds")  # MANIFEST.in puts them in the sdist too


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in DATA:
            src = ROOT / name
            if not src.is_dir():
                raise SystemExit(f"{src} is missing: the wheel cannot start without it")
            dst = Path(self.build_lib) / "app" / "_data" / name
            if dst.exists():
                shutil.rmtree(dst)
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))


setup(cmdclass={"build_py": BuildPyWithData})
