"""The labelled incident history (seeds/incidents.yaml) and the retrieval metrics of
bench/search_eval.py that issue 23's search benchmark reports."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bench.search_eval import (
    INCIDENTS,
    Incident,
    bm25_ranker,
    evaluate,
    load_incidents,
    vector_ranker,
)

ROOT = Path(__file__).resolve().parents[2]


def inc(iid: str, *related: str) -> Incident:
    return Incident(
        iid, f"title {iid}", f"description {iid}", "svc-web", "sev3", "2024-01-01", related
    )


def test_mrr_and_hit_at_k_by_hand() -> None:
    items = [inc("a", "b"), inc("b", "a"), inc("c", "d"), inc("d", "c"), inc("e")]
    rankings = {
        "a": ["a", "b", "c"],  # own id skipped: related first -> 1
        "b": ["c", "d", "e", "a"],  # rank 4
        "c": ["a", "b", "e", "a", "b", "d"],  # rank 6: a miss at k=5
        "d": ["a", "b"],  # never ranked
    }
    r = evaluate(items, lambda q: rankings[q.id], k=5)
    assert r.queries == 4  # "e" has no related incidents: not a query
    assert r.first_ranks == {"a": 1, "b": 4, "c": 6, "d": None}
    assert r.mrr == pytest.approx((1 + 1 / 4 + 1 / 6 + 0) / 4)
    assert r.hit_at_k == pytest.approx(2 / 4)


def test_load_incidents_refuses_one_sided_links(tmp_path: Path) -> None:
    doc = {
        "incidents": [
            {
                "id": "A",
                "title": "t",
                "description": "d",
                "service": "s",
                "severity": "sev1",
                "date": "2024-01-01",
                "related": ["B"],
            },
            {
                "id": "B",
                "title": "t",
                "description": "d",
                "service": "s",
                "severity": "sev1",
                "date": "2024-01-01",
                "related": [],
            },
        ]
    }
    path = tmp_path / "i.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ValueError, match="not symmetric"):
        load_incidents(path)


def test_seeded_history_is_a_usable_benchmark() -> None:
    incidents = load_incidents(INCIDENTS)  # also checks ids and symmetry
    assert 180 <= len(incidents) <= 250
    org = yaml.safe_load((ROOT / "seeds" / "org.yaml").read_text())
    entity_ids = {e["id"] for e in org["entities"]}
    assert {i.service for i in incidents} <= entity_ids
    assert {i.severity for i in incidents} <= {"sev1", "sev2", "sev3", "sev4"}
    clusters = {frozenset((i.id, *i.related)) for i in incidents if i.related}
    assert len(clusters) >= 35
    assert sum(len(c) for c in clusters) == sum(1 for i in incidents if i.related)  # disjoint
    assert all(3 <= len(c) <= 8 for c in clusters)
    texts = Counter(i.title for i in incidents)
    assert texts.most_common(1)[0][1] == 1  # no copied titles
    assert len({i.description for i in incidents}) == len(incidents)


def test_rankers_find_related_incidents() -> None:
    """Sanity floor for the figures in docs/embeddings.md (vector 0.83 / BM25 0.79 MRR)."""
    from app.embeddings.local import LocalEmbedder

    incidents = load_incidents(INCIDENTS)
    vec = evaluate(incidents, vector_ranker(incidents, LocalEmbedder().embed))
    lex = evaluate(incidents, bm25_ranker(incidents))
    assert vec.mrr > 0.75 and vec.hit_at_k > 0.85
    assert lex.mrr > 0.7 and lex.hit_at_k > 0.85
