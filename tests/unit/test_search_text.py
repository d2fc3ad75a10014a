"""The full-text query a search sends (app.core.search_text): any of a text's words while
their counts stay within budget, pairs of its rarest words above it, in each engine's syntax,
and never an operator the user typed."""

from __future__ import annotations

from app.core.search_text import RARE_WORDS, TEXT_BUDGET, query_terms, text_query, word_counts

WORDS = ["checkout", "latency", "spike", "ledger", "gateway", "quokka", "zebra", "timeout"]


def test_within_budget_any_word_matches() -> None:
    docs = dict.fromkeys(WORDS, 10)
    assert text_query(WORDS, docs, "falkordb") == "|".join(WORDS)
    assert text_query(WORDS, docs, "neo4j") == " ".join(WORDS)
    assert text_query(WORDS, {}, "falkordb") == "|".join(WORDS)  # no counts yet: every word
    assert text_query([], docs, "neo4j") is None


def test_over_budget_asks_for_pairs_of_the_rarest_words() -> None:
    docs = dict.fromkeys(WORDS, TEXT_BUDGET) | {"quokka": 3, "zebra": 7}
    rare = ["quokka", "zebra", "checkout", "latency", "spike", "ledger"]  # ties keep order
    assert len(rare) == RARE_WORDS
    pairs = [(a, b) for i, a in enumerate(rare) for b in rare[i + 1 :]]
    assert text_query(WORDS, docs, "falkordb") == "|".join(
        [f"({a} {b})" for a, b in pairs] + ["quokka", "zebra"]
    )
    assert text_query(WORDS, docs, "neo4j") == " ".join(
        [f"({a} AND {b})" for a, b in pairs] + ["quokka", "zebra"]
    )
    # A rarest word that alone matches more than the budget is asked for only in a pair.
    common = dict.fromkeys(WORDS, TEXT_BUDGET + 1)
    assert all(p.startswith("(") for p in str(text_query(WORDS, common, "falkordb")).split("|"))
    # Two words are never narrowed to their intersection alone.
    assert text_query(["a1b", "c2d"], {"a1b": 10**6, "c2d": 10**6}, "falkordb") == "a1b|c2d"


def test_words_are_letters_and_digits_only() -> None:
    assert query_terms("Checkout|latency (p99) -@x:{y} AND \\ spike* ~ ^2") == [
        "checkout",
        "latency",
        "p99",
        "spike",
    ]
    assert text_query(query_terms("a|b (c) -d @e:{f}"), {}, "falkordb") == "a|b|c|d|e|f"
    assert text_query(query_terms("A AND b OR NOT c*"), {}, "neo4j") == "a and b or not c"
    assert len(query_terms(" ".join(f"w{i}x" for i in range(100)))) == 16


def test_word_counts_count_texts_not_occurrences() -> None:
    assert word_counts(["Ledger ledger disk", "ledger latency", "the a 42"]) == [
        {"word": "disk", "docs": 1},
        {"word": "latency", "docs": 1},
        {"word": "ledger", "docs": 2},
    ]
    # Ids and hashes are not counted (a Term each, and rare anyway); short codes are.
    assert word_counts(["p99 http2 fact_1m96vpcdr7 sha256 deadbeef00"]) == [
        {"word": "fact", "docs": 1},
        {"word": "http2", "docs": 1},
        {"word": "p99", "docs": 1},
        {"word": "sha256", "docs": 1},
    ]
