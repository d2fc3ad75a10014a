"""The ``Embedder`` port: text in, unit-length vectors out.

Two adapters implement it: :class:`app.embeddings.local.LocalEmbedder` (the default, a static
model shipped in a PyPI wheel, no network) and
:class:`app.embeddings.openai.OpenAIEmbedder` (any OpenAI-compatible ``/v1/embeddings``
server). :func:`app.embeddings.make_embedder` picks one from the settings.

Embedding is blocking work (CPU for the local model, an HTTP round trip for the remote one):
async code calls :func:`aembed`, which runs it on a worker thread.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable


class EmbeddingError(RuntimeError):
    """Embedding failed (model missing, endpoint refused or broke, bad response). The
    message says what and where, without secrets."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of ``dim`` floats, each of L2 norm 1 (so cosine similarity
    is a dot product), in the order of the texts."""

    @property
    def name(self) -> str:
        """Identifies the model (stored with the vectors: vectors of different models must
        never be compared)."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector ``embed`` returns."""
        ...

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text, same order; raises :class:`EmbeddingError` (or
        ``ValueError`` for an empty text)."""
        ...


async def aembed(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    """``embedder.embed`` off the event loop (on a worker thread)."""
    return await asyncio.to_thread(embedder.embed, texts)


def check_texts(texts: Sequence[str]) -> None:
    """Refuse input no model can give a meaningful vector for."""
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is {type(t).__name__}, not str")
        if not t.strip():
            raise ValueError(f"text {i} is empty: there is nothing to embed")


def l2_normalised(vec: Sequence[float]) -> list[float]:
    """``vec`` scaled to length 1; a zero or non-finite vector is an :class:`EmbeddingError`."""
    norm = math.sqrt(math.fsum(x * x for x in vec))
    if not math.isfinite(norm) or norm == 0.0:
        raise EmbeddingError("the model returned a zero or non-finite vector")
    return [x / norm for x in vec]
