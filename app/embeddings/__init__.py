"""Embeddings for semantic context search (issue 23): the :class:`Embedder` port, its local
(default, offline) and OpenAI-compatible adapters, the factory, and the texts facts and
entities are embedded as. See docs/embeddings.md."""

from app.embeddings.base import Embedder, EmbeddingError, aembed, l2_normalised
from app.embeddings.factory import make_embedder
from app.embeddings.text import entity_text, fact_text

__all__ = [
    "Embedder",
    "EmbeddingError",
    "aembed",
    "entity_text",
    "fact_text",
    "l2_normalised",
    "make_embedder",
]
