"""``make_embedder(settings)``: the embedder ``BATON_EMBEDDER`` names, or None when off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.embeddings.base import Embedder

if TYPE_CHECKING:
    from app.config import Settings


def make_embedder(settings: Settings) -> Embedder | None:
    """``local`` (default): the bundled WordLlama model, loaded on first use; ``openai``: the
    OpenAI-compatible server at ``embedding_url`` (``embedding_model`` required); ``off``:
    None (no vectors are written; semantic search is unavailable)."""
    kind = settings.embedder
    if kind == "off":
        return None
    if kind == "local":
        from app.embeddings.local import LocalEmbedder

        return LocalEmbedder()
    if kind == "openai":
        from app.embeddings.openai import OpenAIEmbedder

        if not settings.embedding_url:
            raise ValueError("BATON_EMBEDDER=openai needs BATON_EMBEDDING_URL")
        if not settings.embedding_model:
            raise ValueError("BATON_EMBEDDER=openai needs BATON_EMBEDDING_MODEL")
        key = settings.embedding_api_key
        return OpenAIEmbedder(
            settings.embedding_url,
            settings.embedding_model,
            key.get_secret_value() if key is not None else None,
            batch=settings.embedding_batch,
            timeout_s=settings.embedding_timeout_ms / 1000,
            dim=settings.embedding_dim,
        )
    raise ValueError(f"unknown embedder {kind!r}")
