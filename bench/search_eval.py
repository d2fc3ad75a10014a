"""Retrieval quality on the labelled incident history (``seeds/incidents.yaml``, issue 23).

Every incident whose ``related`` list is not empty is a query: its title and description are
searched against all the other incidents, and a ranking is good when the incidents that
share its root cause come first. Two figures:

- **MRR**: the mean over queries of 1 / rank of the first related incident (0 if none is
  ranked at all);
- **hit@k** (k = 5): the share of queries with at least one related incident in the top k.

A *ranking function* takes the query incident and returns incident ids, best first; the
query's own id is dropped wherever it appears, so rankers may return it. :func:`vector_ranker`
(brute-force cosine over an embedder's vectors) and :func:`bm25_ranker` (a plain lexical
baseline) are provided; the graph's own search will be measured through the same
:func:`evaluate`.

Run ``python bench/search_eval.py [--json] [--embedder local|openai]`` for vector-only and
BM25 figures with the configured embedder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python bench/search_eval.py`

INCIDENTS = ROOT / "seeds" / "incidents.yaml"


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    description: str
    service: str
    severity: str
    date: str
    related: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """What is embedded / searched for this incident."""
        return incident_text(self)


@dataclass
class EvalResult:
    mrr: float
    hit_at_k: float
    k: int
    queries: int
    # Per query: the rank (1-based) of its first related incident, or None.
    first_ranks: dict[str, int | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mrr": round(self.mrr, 4),
            f"hit_at_{self.k}": round(self.hit_at_k, 4),
            "queries": self.queries,
        }


Ranker = Callable[[Incident], Sequence[str]]


def incident_text(inc: Incident) -> str:
    return f"{inc.title}. {inc.description}"


def load_incidents(path: Path | str = INCIDENTS) -> list[Incident]:
    """The incidents of a seeds file, checked: unique ids, ``related`` naming existing
    incidents, never itself, and symmetric."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = [
        Incident(
            id=str(r["id"]),
            title=str(r["title"]),
            description=str(r["description"]),
            service=str(r["service"]),
            severity=str(r["severity"]),
            date=str(r["date"]),
            related=tuple(str(x) for x in r.get("related") or ()),
        )
        for r in raw["incidents"]
    ]
    by_id = {i.id: i for i in out}
    if len(by_id) != len(out):
        raise ValueError(f"{path}: duplicate incident ids")
    for inc in out:
        for other in inc.related:
            if other == inc.id or other not in by_id:
                raise ValueError(f"{path}: {inc.id} relates to {other!r}")
            if inc.id not in by_id[other].related:
                raise ValueError(f"{path}: {inc.id} -> {other} is not symmetric")
    return out


def evaluate(incidents: Sequence[Incident], rank: Ranker, k: int = 5) -> EvalResult:
    """MRR and hit@k of ``rank`` over every incident that has related incidents."""
    reciprocal = 0.0
    hits = 0
    firsts: dict[str, int | None] = {}
    queries = [i for i in incidents if i.related]
    for q in queries:
        relevant = set(q.related)
        first: int | None = None
        pos = 0
        for cand in rank(q):
            if cand == q.id:
                continue
            pos += 1
            if cand in relevant:
                first = pos
                break
        firsts[q.id] = first
        if first is not None:
            reciprocal += 1.0 / first
            hits += first <= k
    n = len(queries) or 1
    return EvalResult(reciprocal / n, hits / n, k, len(queries), firsts)


def vector_ranker(
    incidents: Sequence[Incident], embed: Callable[[list[str]], list[list[float]]]
) -> Ranker:
    """Exact cosine ranking over ``embed``'s vectors (all incidents embedded once; the query
    is the incident's own text, as "find incidents like this one" would use)."""
    import numpy as np

    ids = [i.id for i in incidents]
    mat = np.asarray(embed([i.text for i in incidents]), dtype=np.float32)
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    row = {iid: n for n, iid in enumerate(ids)}

    def rank(q: Incident) -> list[str]:
        scores = mat @ mat[row[q.id]]
        return [ids[j] for j in np.argsort(-scores, kind="stable")]

    return rank


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from had has have in is it its of on or our the this to "
    "was we were which with".split()
)


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def bm25_ranker(incidents: Sequence[Incident], k1: float = 1.2, b: float = 0.75) -> Ranker:
    """Okapi BM25 over title + description: a lexical baseline (the graph's full-text
    indexes are measured separately; the same scoring as Baton's re-ranking)."""
    from app.core.search_text import bm25_scores

    docs = [Counter(_terms(i.text)) for i in incidents]
    n = len(docs)
    ids = [i.id for i in incidents]
    by_id = {i.id: i for i in incidents}

    def rank(q: Incident) -> list[str]:
        terms = list(set(_terms(by_id[q.id].text)))
        scores = bm25_scores(terms, docs, k1, b)
        order = sorted(range(n), key=lambda j: -scores[j])
        return [ids[j] for j in order]

    return rank


def _rss_mb() -> float:
    """This process's resident set size now (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def throughput(
    embed: Callable[[list[str]], list[list[float]]],
    texts: Sequence[str],
    batch: int = 64,
    total: int = 10_000,
) -> float:
    """Texts embedded per second, ``total`` texts (``texts`` cycled) in calls of ``batch``."""
    pool = [texts[i % len(texts)] for i in range(total)]
    embed(list(pool[:batch]))  # warm up (loads a lazy model)
    t0 = time.perf_counter()
    for i in range(0, total, batch):
        embed(pool[i : i + batch])
    return total / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    from app.config import Settings
    from app.embeddings import make_embedder

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="end with one JSON line")
    p.add_argument("--embedder", choices=["local", "openai"], default=None)
    p.add_argument("--incidents", default=str(INCIDENTS))
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--no-throughput", action="store_true", help="quality figures only")
    p.add_argument("--quick", action="store_true", help="fewer texts for the throughput runs")
    args = p.parse_args(argv)
    settings = Settings() if args.embedder is None else Settings(embedder=args.embedder)
    embedder = make_embedder(settings)
    if embedder is None:
        raise SystemExit("BATON_EMBEDDER=off: nothing to evaluate")
    incidents = load_incidents(args.incidents)
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    embedder.embed(["load the model"])
    load_s = time.perf_counter() - t0
    rss_loaded = _rss_mb()
    vec = evaluate(incidents, vector_ranker(incidents, embedder.embed), k=args.k)
    lex = evaluate(incidents, bm25_ranker(incidents), k=args.k)
    print(f"{len(incidents)} incidents, {vec.queries} queries, embedder {embedder.name}")
    print(f"{'ranking':<14}{'MRR':>8}{'hit@' + str(args.k):>8}")
    for name, r in (("vector", vec), ("bm25", lex)):
        print(f"{name:<14}{r.mrr:>8.3f}{r.hit_at_k:>8.3f}")
    speed: dict[str, float] = {}
    if not args.no_throughput:
        short = [f"{i.service} {i.severity}: {i.title}" for i in incidents]
        total = 2_000 if args.quick or settings.embedder == "openai" else 20_000
        batch = settings.embedding_batch
        speed["incident_texts_per_s"] = round(
            throughput(embedder.embed, [i.text for i in incidents], batch, total)
        )
        speed["short_texts_per_s"] = round(throughput(embedder.embed, short, batch, total))
        print(
            f"throughput (batch {batch}, {os.cpu_count()} CPUs): "
            f"{speed['incident_texts_per_s']} incident texts/s (~60 words), "
            f"{speed['short_texts_per_s']} short texts/s (~10 words)"
        )
    rss_after = _rss_mb()
    print(
        f"model load {load_s:.2f} s; RSS {rss_before:.0f} MiB before, {rss_loaded:.0f} MiB "
        f"loaded, {rss_after:.0f} MiB after the runs"
    )
    if args.json:
        out = {
            "incidents": len(incidents),
            "embedder": embedder.name,
            "dim": embedder.dim,
            "vector": vec.as_dict(),
            "bm25": lex.as_dict(),
            "load_s": round(load_s, 3),
            "rss_mb": {
                "before_load": round(rss_before, 1),
                "loaded": round(rss_loaded, 1),
                "after": round(rss_after, 1),
            },
            **speed,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(terse=True),
            },
        }
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
