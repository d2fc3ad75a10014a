"""What text stands for a fact or an entity when it is embedded (and full-text indexed).

Kept in one place so the embedding job, the search query and the benchmarks agree: a change
here changes every vector, so re-embed (bump :data:`TEXT_VERSION`) when it changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

TEXT_VERSION = 1
# Longer texts are cut (at a word boundary where possible): embeddings of very long texts say
# little more, and the local model's cost grows with the token count.
MAX_CHARS = 4_000

_SPLIT_KEY = re.compile(r"[_.:\-]+|(?<=[a-z0-9])(?=[A-Z])")
_SPACES = re.compile(r"\s+")


def _clip(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space > MAX_CHARS // 2 else cut


def humanise_key(key: str) -> str:
    """``incident.rootCause`` / ``root_cause`` -> ``incident root cause``."""
    words = [w for w in _SPLIT_KEY.split(key) if w]
    return " ".join(w.lower() for w in words) or key


def value_text(value: Any) -> str:
    """A fact value as text: strings as they are, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def fact_text(key: str, value: Any) -> str:
    """``"<key in words>: <value>"``, e.g. ``fact_text("root_cause", "pool exhausted")`` ->
    ``"root cause: pool exhausted"``."""
    return _clip(f"{humanise_key(key)}: {value_text(value)}")


def entity_text(
    name: str,
    kind: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
) -> str:
    """``"<name> (<kind>). <description> Tags: a, b."`` with the missing parts left out."""
    head = name.strip()
    if kind:
        head = f"{head} ({kind})"
    parts = [head]
    if description and description.strip():
        desc = description.strip()
        parts.append(desc if desc.endswith((".", "!", "?")) else desc + ".")
    tag_list = [t.strip() for t in tags or () if t and t.strip()]
    if tag_list:
        parts.append("Tags: " + ", ".join(tag_list) + ".")
    if len(parts) > 1 and not parts[0].endswith("."):
        parts[0] += "."
    return _clip(" ".join(parts))
