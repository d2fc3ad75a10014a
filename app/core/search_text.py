"""Search by words (app.core.search's full-text signal): which words of a text are asked for,
the query each engine is sent for them, the word counts kept beside the full-text index, and
BM25 over the candidates the engine finds (one ranking on both backends)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

TEXT_MAX = 2000
"""Characters of a fact's or entity's text (what is indexed and embedded)."""
QUERY_TERMS = 16
# Words that say nothing about what a text is about: left out of a full-text query (a long
# query text, e.g. an incident's description, would otherwise spend its terms on them and
# match everything a little). A query made only of them still searches them.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had
has have in into is it its may more most no not of on or our out over so such than that the
their them then there these they this those to too under up was we were what when where which
while who will with within without would after all also any because before being both each
few how just only other same some very via per one two new now got get""".split()
)
TERM_MAX = 40
TEXT_BUDGET = 5_000
"""Texts a full-text query may match (its words' counts summed) and still ask for any of its
words; above it the query asks for texts holding two of its RARE_WORDS rarest words."""
RARE_WORDS = 6

_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")


def _index_words(text: str) -> Iterator[str]:
    """The words of ``text`` a search asks for: lower-cased letters and digits, no stop
    words, no numbers, no words of one or two letters, at most TERM_MAX characters each."""
    for w in _WORD.findall(text[: TEXT_MAX * 2].lower()):
        if len(w) > 2 and w not in STOPWORDS and not w.isdigit():
            yield w[:TERM_MAX]


def query_terms(text: str) -> list[str]:
    """The user's words, deduplicated, at most QUERY_TERMS (``_index_words``; a text made
    only of short or stop words searches those): letters and digits only, so nothing the
    user writes is an operator of either engine's query language (quotes, ``*``, ``|``,
    ``-``, ``@field:``, parentheses, ``AND``/``OR``/``NOT``, ``~``, ``^``, ``:``, ``\\``)."""
    words = list(_index_words(text)) or [
        w[:TERM_MAX] for w in _WORD.findall(text[: TEXT_MAX * 2].lower())
    ]
    return list(dict.fromkeys(words))[:QUERY_TERMS]


def word_counts(texts: Sequence[str]) -> list[dict[str, Any]]:
    """How many of ``texts`` hold each word (what search/store_vectors adds to the Term
    counts, and search/term_docs reads back). Words longer than six characters that hold a
    digit are not counted: ids and hashes would add a Term each and are rare anyway (a word
    without a count is taken as rare)."""
    counts = Counter(
        w for t in texts for w in set(_index_words(t)) if len(w) <= 6 or not _DIGIT.search(w)
    )
    return [{"word": w, "docs": n} for w, n in sorted(counts.items())]


def text_query(terms: list[str], docs: dict[str, int], backend: str) -> str | None:
    """A safe full-text query for ``backend`` over ``terms`` (None when there are none).

    While the words' text counts (``docs``, from search/term_docs) sum to at most
    TEXT_BUDGET, any of the words matches. Above it, a text must hold two of the query's
    RARE_WORDS rarest words, or one of its two rarest if that alone stays within budget:
    the engine's work is then bounded, and its best candidates are those that BM25 ranks
    high (a union of 16 words matched 38 % of 100,000 facts, and its engine-ranked best 300
    held almost none of the exact BM25 top 10). Without counts (a graph not yet embedded)
    every word is asked for. RediSearch on FalkorDB (``(a b)|c``: space is AND, ``|`` OR),
    Lucene on Neo4j (``(a AND b) c``: OR is the default operator)."""
    if not terms:
        return None
    if sum(docs.get(t, 0) for t in terms) <= TEXT_BUDGET or len(terms) < 3:
        groups = [[t] for t in terms]
    else:
        rare = sorted(terms, key=lambda t: docs.get(t, 0))[:RARE_WORDS]  # stable: ties keep order
        groups = [[a, b] for i, a in enumerate(rare) for b in rare[i + 1 :]]
        groups += [[t] for t in rare[:2] if docs.get(t, 0) <= TEXT_BUDGET]
    falkordb = backend == "falkordb"
    parts = [
        g[0] if len(g) == 1 else "(" + (" " if falkordb else " AND ").join(g) + ")" for g in groups
    ]
    return ("|" if falkordb else " ").join(parts)


def tokens(text: str) -> list[str]:
    """Every word of ``text``, lower-cased, in order (what BM25 counts)."""
    return _WORD.findall(text.lower())


def bm25_scores(
    terms: Sequence[str], docs: Sequence[Counter[str]], k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Okapi BM25 of each text in ``docs`` (its word counts) for ``terms``; document
    frequencies and the average length are taken over ``docs`` themselves."""
    if not docs:
        return []
    sizes = [sum(d.values()) for d in docs]
    n, avg = len(docs), sum(sizes) / len(docs) or 1.0
    df = {t: sum(1 for d in docs if t in d) for t in terms}
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in terms}
    return [
        sum(
            idf[t] * d[t] * (k1 + 1) / (d[t] + k1 * (1 - b + b * size / avg))
            for t in terms
            if t in d
        )
        for d, size in zip(docs, sizes, strict=True)
    ]


def bm25(terms: list[str], hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The full-text candidates ranked by BM25 over the candidates themselves, best first
    (each hit's `score` becomes it). The engines only find the candidates: RediSearch's
    scores of a many-word union reward a short text with one word over a text holding them
    all, and the two engines' scales differ; one scoring keeps both backends alike."""
    scores = bm25_scores(terms, [Counter(tokens(str(h.get("text") or ""))) for h in hits])
    for h, score in zip(hits, scores, strict=True):
        h["score"] = score
    return sorted(hits, key=lambda h: (-float(h["score"]), h["label"], h["id"]))
