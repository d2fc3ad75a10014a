"""Every statement in cypher/ compiles on Neo4j 5's own planner (``EXPLAIN``: planned, not
run). Why: the Neo4j pass of the suite runs most statements, but not every branch of every
file; this catches the rest (syntax, scoping, types) in seconds. ``make lint`` runs the
same check offline with Neo4j's JavaScript parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.graph.queries import CYPHER_DIR, load
from tests.support.graphs import GraphTarget


def _browser_statements() -> dict[str, str]:
    out = {}
    for path in sorted((CYPHER_DIR / "browser").glob("*.cypher")):
        text = "\n".join(
            ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("//")
        )
        out[f"browser/{path.stem}"] = text.strip().rstrip(";")
    return out


def test_every_statement_compiles_on_neo4j(graph: GraphTarget) -> None:
    if graph.backend != "neo4j":
        pytest.skip("compiles with Neo4j's planner: runs in the Neo4j pass")
    import neo4j

    queries = load("neo4j")
    texts = {name: queries[name] for name in queries.names()} | _browser_statements()
    assert len(texts) > 100, "the statements were not found"
    failures = []
    with neo4j.GraphDatabase.driver(graph.uri, auth=("neo4j", graph.password)) as driver:
        with driver.session(database="neo4j") as session:
            for name, text in texts.items():
                try:
                    session.run("EXPLAIN " + text).consume()  # type: ignore[arg-type]
                except neo4j.exceptions.Neo4jError as exc:
                    failures.append(f"{name}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_a_broken_statement_fails_to_compile(graph: GraphTarget, tmp_path: Path) -> None:
    """The check above can fail: Neo4j refuses an unbound variable at EXPLAIN time."""
    if graph.backend != "neo4j":
        pytest.skip("compiles with Neo4j's planner: runs in the Neo4j pass")
    import neo4j

    with neo4j.GraphDatabase.driver(graph.uri, auth=("neo4j", graph.password)) as driver:
        with driver.session(database="neo4j") as session:
            with pytest.raises(neo4j.exceptions.CypherSyntaxError):
                session.run("EXPLAIN MATCH (t:Task {id: $id}) RETURN x.id").consume()
