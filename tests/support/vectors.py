"""Vectors for search tests without a model: a deterministic bag-of-words hashing embedder
(words that two texts share make them similar) and hand-made directions."""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable

from app.graph.store import DEFAULT_EMBEDDING_DIM

WORD = re.compile(r"[^\W_]+")


def normalised(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def hash_vector(text: str, dim: int = DEFAULT_EMBEDDING_DIM) -> list[float]:
    """Each word adds +-1 at a slot picked by its CRC32; L2-normalised. A text without words
    is the last axis (so it is still a unit vector)."""
    v = [0.0] * dim
    for w in WORD.findall(text.lower()):
        h = zlib.crc32(w.encode())
        v[h % (dim - 1)] += 1.0 if (h >> 16) & 1 else -1.0
    if not any(v):
        v[dim - 1] = 1.0
    return normalised(v)


def around(base: list[float], spread: float, rng: random.Random) -> list[float]:
    """``base`` plus Gaussian noise of about ``spread`` in length: cosine to a unit ``base``
    is about 1 / sqrt(1 + spread^2). Dense like a real model's vectors: FalkorDB 4.16's HNSW
    index loses nodes over axis-aligned toy vectors, and over a tight cluster that holds its
    own centre (a query for k neighbours then answers fewer than k)."""
    return normalised([b + rng.gauss(0, spread / math.sqrt(len(base))) for b in base])


class Embedder:
    """Anything with ``embed(texts)``: here a function per text, counting the calls."""

    def __init__(
        self, fn: Callable[[str], list[float]] | None = None, dim: int = DEFAULT_EMBEDDING_DIM
    ) -> None:
        self.fn = fn or (lambda t: hash_vector(t, dim))
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self.fn(t) for t in texts]
