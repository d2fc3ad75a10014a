"""Loads every ``cypher/**/*.cypher`` file once, keyed by path without extension.

``tasks/claim`` names ``cypher/tasks/claim.cypher``. A backend-specific override sits next to
the shared file as ``claim.<backend>.cypher``. Core modules declare the names they use with
:func:`q` at import time, so :func:`load` can refuse to start when one is missing instead of
failing at request time.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from app.resources import CYPHER_DIR

BACKENDS = ("falkordb", "neo4j")
_declared: set[str] = set()


class UnknownQuery(KeyError):
    """A statement name that has no file in ``cypher/``."""


def q(name: str) -> str:
    """Declare that code uses statement ``name``; returns the name for use as a constant."""
    _declared.add(name)
    return name


def declared() -> frozenset[str]:
    """All statement names declared so far by imported modules."""
    return frozenset(_declared)


class Queries:
    """Named statement texts for one backend."""

    def __init__(self, texts: dict[str, str], backend: str) -> None:
        self.backend = backend
        self._texts = texts

    def __getitem__(self, name: str) -> str:
        try:
            return self._texts[name]
        except KeyError:
            raise UnknownQuery(f"no Cypher statement named {name!r} in {CYPHER_DIR}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._texts

    def names(self) -> list[str]:
        """Sorted statement names."""
        return sorted(self._texts)


def _strip_comments(text: str) -> str:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("//")]
    return "\n".join(lines).strip().rstrip(";")


def _texts(root: Path, backend: str) -> dict[str, str]:
    """The statements under ``root`` for ``backend``, overrides applied."""
    texts: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for path in sorted(root.rglob("*.cypher")):
        rel = path.relative_to(root).as_posix()[: -len(".cypher")]
        if rel.startswith(("schema/", "browser/")):
            continue
        stem, _, suffix = rel.rpartition(".")
        if stem and suffix in BACKENDS:
            if suffix == backend:
                overrides[stem] = _strip_comments(path.read_text())
            continue
        texts[rel] = _strip_comments(path.read_text())
    return texts | overrides


@lru_cache(maxsize=4)
def load(backend: str, root: Path = CYPHER_DIR, extra: tuple[Path, ...] = ()) -> Queries:
    """Read all statements for ``backend``; raise :class:`UnknownQuery` if a declared one is
    missing. ``extra`` folders add statements of their own (the tests' conformance probes
    live in ``tests/graph/cypher/``, not among the app's)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    texts = _texts(root, backend)
    for folder in extra:
        more = _texts(folder, backend)
        if clash := sorted(more.keys() & texts.keys()):
            raise ValueError(f"statements in {folder} already in {root}: {clash}")
        texts |= more
    missing = declared() - texts.keys()
    if missing:
        raise UnknownQuery(f"Cypher statements missing from {root}: {sorted(missing)}")
    return Queries(texts, backend)


_MAP_KEY = re.compile(r"[{,]\s*([A-Za-z_]\w*)\s*:")
_PROPERTY = re.compile(r"[\w)]\.([A-Za-z_]\w*)")


@lru_cache(maxsize=4)
def property_keys(root: Path = CYPHER_DIR) -> tuple[str, ...]:
    """Every name that any statement in ``cypher/`` may use as a property (map keys and
    ``x.name`` accesses; a few extra names are harmless), sorted. See
    ``cypher/graph/intern_keys.cypher`` for why FalkorDB must know them all up front."""
    keys: set[str] = set()
    for path in root.rglob("*.cypher"):
        text = _strip_comments(path.read_text())
        keys.update(_MAP_KEY.findall(text), _PROPERTY.findall(text))
    return tuple(sorted(keys))


def schema_statements(backend: str, root: Path = CYPHER_DIR) -> list[str]:
    """The schema file for ``backend`` split into single statements."""
    text = (root / "schema" / f"{backend}.cypher").read_text()
    return [s for s in (_strip_comments(part) for part in text.split(";")) if s]
