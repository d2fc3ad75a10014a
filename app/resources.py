"""Where Baton's own files are: the Cypher statements and the demo seeds.

In a source checkout (an editable install included) they are the repository's top-level
``cypher/`` and ``seeds/`` folders, the source of truth. A built wheel carries copies in
``app/_data/`` (setup.py's build hook), since an installed package has no repository around it.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``cypher`` or ``seeds``): the checkout's when this module runs
    from one (it has pyproject.toml next to ``app/``), else the installed package's copy."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / name).is_dir():
        return _CHECKOUT / name
    return _PACKAGE / "_data" / name


CYPHER_DIR = resource_dir("cypher")
SEEDS_DIR = resource_dir("seeds")
