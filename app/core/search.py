"""Context search: facts and entities by meaning, by words and by graph proximity, with the
caller's grants applied inside every statement (issue 23, the graph side).

:func:`search` is the one entry point (GraphQL ``searchContext``, the SDK, MCP and the demo
call it): it runs up to three signals, each a named statement that filters by the reader's
grants itself (``search/vector_for``, ``search/fulltext_for``, ``search/near_for``), and
fuses their rankings by reciprocal rank (RRF, k = 60). Every hit says what it is and why it
matched (its score and rank per signal).

Writers give every fact and entity a ``text`` (:func:`fact_text`, :func:`entity_text`) and
flag it ``needsEmbedding``; :func:`embed_pending` (the embedding job) turns the flagged texts
into vectors in batches with any embedder (an object with ``embed(texts)``), and
:func:`pending_count` is the backlog (``embedding_pending``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from app.core.errors import BadInput
from app.core.search_text import bm25, query_terms, text_query, word_counts
from app.embeddings import text
from app.graph import GraphStore
from app.graph.queries import q

if TYPE_CHECKING:
    from app.core.context import Reader

PENDING = q("search/pending")
PENDING_COUNT = q("search/pending_count")
STORE_VECTORS = q("search/store_vectors")
VECTOR_FOR = q("search/vector_for")
FULLTEXT_FOR = q("search/fulltext_for")
NEAR_FOR = q("search/near_for")
TERM_DOCS = q("search/term_docs")

RRF_K = 60
"""Reciprocal rank fusion constant: a hit's fused score is the sum of 1 / (RRF_K + rank)."""
OVERFETCH = 4
"""The vector signal first asks the index for OVERFETCH x first neighbours per label."""
MAX_K = 1000
"""The most neighbours one vector query asks for (it doubles up to this while too few of
those it found are readable)."""
MAX_FIRST = 200
NEAR_HOPS = 2
TEXT_POOL = 60
"""Full-text candidates per label that BM25 ranks (the engines' own order of a many-word
query is poor: the best match may be 50th)."""
TEXT_CANDIDATES = 300
"""The engine's best matches per label that the grant check looks at: common words match
most of the graph, and checking 68,000 of 100,000 facts took seconds."""


class Embedder(Protocol):
    """What :func:`embed_pending` needs: texts in, one L2-normalised vector per text out
    (``embed`` may be a plain method, run on a worker thread, or an async one)."""

    def embed(self, texts: list[str]) -> Any: ...


# -- text -------------------------------------------------------------------------------


def fact_text(key: str, value: Any) -> str:
    """What a fact is about, as words (`app.embeddings.text`: one definition for the stored
    text, the full-text index and the vectors)."""
    return text.fact_text(key, value)


def entity_text(name: str | None, kind: str | None, attrs: dict[str, Any] | str | None) -> str:
    """What an entity is, as words: name, kind, and its title, description and tags."""
    if isinstance(attrs, str):
        try:
            attrs = json.loads(attrs)
        except ValueError:
            attrs = None
    a = attrs if isinstance(attrs, dict) else {}
    described = [
        x
        for x in (a.get("title"), a.get("description"), a.get("summary"))
        if isinstance(x, str) and x
    ]
    tags = (
        [str(t) for t in a.get("tags") or [] if isinstance(t, str | int | float)]
        if isinstance(a.get("tags"), list)
        else []
    )
    return text.entity_text(name or "", kind, " ".join(described) or None, tags or None)


# -- embedding job ----------------------------------------------------------------------


async def pending_count(store: GraphStore) -> int:
    """Facts and entities whose text has no vector yet (``embedding_pending``)."""
    rows = await store.read(PENDING_COUNT)
    return int(rows[0]["facts"]) + int(rows[0]["entities"]) if rows else 0


async def embed_pending(store: GraphStore, embedder: Embedder, *, batch: int = 64) -> int:
    """Embed up to ``batch`` flagged texts and store their vectors in one statement; returns
    how many were written (0: nothing to do, and then nothing was written). A text changed
    since it was read keeps its flag and is embedded again on the next run."""
    if batch < 1:
        raise BadInput("batch must be at least 1", field="batch")
    rows = (await store.read(PENDING, limit=batch))[:batch]
    rows = [r for r in rows if r.get("text")]
    if not rows:
        return 0
    texts = [r["text"] for r in rows]
    if inspect.iscoroutinefunction(embedder.embed):
        vectors = await embedder.embed(texts)
    else:  # a model is CPU work: the event loop keeps serving meanwhile
        vectors = await asyncio.to_thread(embedder.embed, texts)
    vectors = [[float(x) for x in v] for v in vectors]
    if len(vectors) != len(rows):
        raise ValueError(f"the embedder returned {len(vectors)} vectors for {len(rows)} texts")
    dim = _dim(store)
    if dim is not None and any(len(v) != dim for v in vectors):
        raise ValueError(f"the embedder's vectors are not {dim} long (settings.embedding_dim)")
    batch_rows = [
        {
            "fact": r["id"] if r["label"] == "fact" else None,
            "entity": r["id"] if r["label"] == "entity" else None,
            "text": r["text"],
            "vector": v,
        }
        for r, v in zip(rows, vectors, strict=True)
    ]
    done = await store.write(STORE_VECTORS, rows=batch_rows, terms=word_counts(texts))
    return int(done[0]["written"]) if done else 0


# -- search -----------------------------------------------------------------------------


@dataclass
class Signals:
    """Why a hit matched: per signal its raw score and its rank (1 = best), None when that
    signal did not find it. ``vector``: cosine similarity (-1..1, the same on both backends);
    ``text``: the full-text engine's relevance (RediSearch TF-IDF on FalkorDB, Lucene BM25
    on Neo4j: comparable within one search only); ``distance``: relations from the ``near``
    entity (0: a fact about it)."""

    vector: float | None = None
    vector_rank: int | None = None
    text: float | None = None
    text_rank: int | None = None
    distance: int | None = None
    graph_rank: int | None = None


@dataclass
class Hit:
    """One search result: a fact (key, value, entity_id) or an entity (name, kind)."""

    type: Literal["fact", "entity"]
    id: str
    score: float  # fused: sum over the signals that found it of 1 / (RRF_K + rank)
    domain: str | None
    signals: Signals = field(default_factory=Signals)
    key: str | None = None
    value: Any = None
    entity_id: str | None = None
    confidence: float | None = None
    observed_at: int | None = None
    name: str | None = None
    kind: str | None = None

    @classmethod
    def of(cls, h: dict[str, Any]) -> Hit:
        if h["label"] == "fact":
            return cls(
                "fact",
                h["id"],
                0.0,
                h.get("domain"),
                key=h.get("key"),
                value=_decoded(h.get("value")),
                entity_id=h.get("entityId"),
                confidence=h.get("confidence"),
                observed_at=h.get("observedAt"),
            )
        return cls("entity", h["id"], 0.0, h.get("domain"), name=h.get("name"), kind=h.get("kind"))


def _dim(store: GraphStore) -> int | None:
    """The length the store's vector indexes were made for (None: a store that does not say)."""
    dim = getattr(store, "embedding_dim", None)
    return dim if isinstance(dim, int) else None


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _hits(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [h for r in rows for h in (r.get("hits") or []) if h]


def _key(h: dict[str, Any]) -> tuple[str, str]:
    return (h["label"], h["id"])


async def _vector(
    store: GraphStore, params: dict[str, Any], vector: list[float], first: int
) -> list[dict[str, Any]]:
    """Readable nearest neighbours, best first. The index answers the k nearest of every
    reader's; the statement keeps the readable ones, so k starts at OVERFETCH x first and
    doubles (up to MAX_K) while fewer than ``first`` readable ones come back and the index
    still finds more."""
    k, seen_before = min(MAX_K, max(OVERFETCH * first, 1)), -1
    while True:
        rows = await store.read(VECTOR_FOR, vector=vector, k=k, **params)
        hits = _hits(rows)
        seen = sum(int(r.get("seen") or 0) for r in rows)
        # HNSW may answer fewer than k even when it holds more: only "no more than last
        # time" says the index is exhausted.
        if len(hits) >= first or k >= MAX_K or seen <= seen_before:
            break
        k, seen_before = min(MAX_K, k * 2), seen
    hits.sort(key=lambda h: (-float(h["similarity"]), h["label"], h["id"]))
    return hits


async def _none() -> list[dict[str, Any]]:
    return []


async def words_query(store: GraphStore, text: str) -> tuple[list[str], str | None]:
    """The words of ``text`` and the full-text query sent for them: its rare words when all
    of them would match too much (``text_query``, with search/term_docs' counts)."""
    terms = query_terms(text)
    counted = await store.read(TERM_DOCS, words=terms) if terms else []
    return terms, text_query(terms, {r["word"]: int(r["docs"]) for r in counted}, store.backend)


async def _text(
    store: GraphStore, params: dict[str, Any], text: str, first: int
) -> list[dict[str, Any]]:
    """Readable full-text matches of the words of ``text``, best (BM25) first."""
    terms, query = await words_query(store, text)
    if query is None:
        return []
    rows = await store.read(
        FULLTEXT_FOR,
        query=query,
        k=max(OVERFETCH * first, TEXT_POOL),
        pool=TEXT_CANDIDATES,
        **params,
    )
    return bm25(terms, _hits(rows))


async def _near(
    store: GraphStore, params: dict[str, Any], near: str, first: int
) -> list[dict[str, Any]]:
    """Readable facts and entities around ``near``, nearest first."""
    rows = await store.read(NEAR_FOR, near=near, k=max(OVERFETCH * first, 40), **params)
    return sorted(_hits(rows), key=lambda h: (int(h["distance"]), h["label"], h["id"]))


async def search(
    store: GraphStore,
    reader: Reader,
    *,
    vector: Sequence[float] | None,
    text: str,
    near: str | None = None,
    kinds: list[str] | None = None,
    first: int = 10,
    now: int | None = None,
) -> list[Hit]:
    """Facts and entities the reader may read that match: by ``vector`` (the embedded
    ``text``, cosine), by the words of ``text`` (full-text), and within 2 relations of the
    entity ``near``; fused by reciprocal rank, best first, at most ``first``.

    Only current facts (not superseded, not past ``validTo``) and entities not retired.
    ``kinds`` keeps entities of those kinds and facts whose key starts with one of them.
    Each signal is one statement that applies the reader's grants itself; an entity ``near``
    that the reader may not read gives no graph signal (as if it did not exist)."""
    if not 1 <= first <= MAX_FIRST:
        raise BadInput(f"first must be between 1 and {MAX_FIRST}", field="first")
    if kinds is not None and (len(kinds) > 32 or any(len(k) > 100 for k in kinds)):
        raise BadInput("kinds: at most 32, each at most 100 characters", field="kinds")
    now = int(time.time() * 1000) if now is None else now
    params = {**reader.params(), "now": now, "kinds": kinds}
    found: dict[tuple[str, str], Hit] = {}

    def hit(h: dict[str, Any]) -> Hit:
        got = found.get(_key(h))
        if got is None:
            got = found[_key(h)] = Hit.of(h)
        return got

    vec: list[float] | None = None
    if vector is not None:
        vec = [float(x) for x in vector]
        dim = _dim(store)
        if dim is not None and len(vec) != dim:
            raise BadInput(f"vector: {dim} numbers expected, not {len(vec)}", field="vector")
    # The signals are independent reads: they run at once (the graph answers reads on
    # several threads), so a hybrid search costs its slowest signal, not their sum.
    by_vector, by_text, by_near = await asyncio.gather(
        _vector(store, params, vec, first) if vec is not None else _none(),
        _text(store, params, text, first),
        _near(store, params, near, first) if near is not None else _none(),
    )
    for rank, h in enumerate(by_vector, 1):
        x = hit(h)
        # float32 rounding: an identical vector may come back as 1.0000001
        sim = max(-1.0, min(1.0, float(h["similarity"])))
        x.signals.vector, x.signals.vector_rank = sim, rank
        x.score += 1 / (RRF_K + rank)
    for rank, h in enumerate(by_text, 1):
        x = hit(h)
        x.signals.text, x.signals.text_rank = float(h["score"]), rank
        x.score += 1 / (RRF_K + rank)
    rank, last = 0, None
    for i, h in enumerate(by_near, 1):
        if h["distance"] != last:  # ties share the best rank (competition ranking)
            rank, last = i, h["distance"]
        x = hit(h)
        x.signals.distance, x.signals.graph_rank = int(h["distance"]), rank
        x.score += 1 / (RRF_K + rank)
    ranked = sorted(found.values(), key=lambda x: (-x.score, x.type, x.id))
    return ranked[:first]
