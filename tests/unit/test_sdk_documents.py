"""Every GraphQL document the SDK sends (``baton_sdk/documents.py``) is valid against the
committed ``schema.graphql`` (kept equal to the code by ``test_schema.py``), so a schema change
that would break agents, scripts or `baton mcp` fails here, as ``cypher/`` is checked against
Neo4j's grammar. And the SDK has no GraphQL anywhere else."""

from __future__ import annotations

import ast
from pathlib import Path

import graphql
import pytest

from baton_sdk import documents

REPO = Path(__file__).resolve().parents[2]
SDK = REPO / "sdk" / "python" / "baton_sdk"
SCHEMA = graphql.build_schema((REPO / "schema.graphql").read_text())


def sdk_documents() -> dict[str, str]:
    """The module's documents by name (``*_FIELDS`` are selections spliced into them)."""
    return {
        name: value
        for name, value in vars(documents).items()
        if name.isupper() and isinstance(value, str) and not name.endswith("_FIELDS")
    }


def errors_of(source: str) -> list[str]:
    try:
        doc = graphql.parse(source)
    except graphql.GraphQLError as exc:
        return [exc.message]
    ops = [d for d in doc.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    if len(ops) != 1 or len(doc.definitions) != 1:
        return [f"expected one operation, got {len(doc.definitions)} definitions"]
    return [e.message for e in graphql.validate(SCHEMA, doc)]


def test_the_module_holds_every_document_the_sdk_sends() -> None:
    found = sdk_documents()
    # The agent loop, the TaskContext helpers, the Client and the MCP tools.
    assert {
        "ASSIGNED",
        "CLAIM",
        "COMPLETE_MANY",
        "HEARTBEAT",
        "CONTEXT_FOR_TASK",
        "CLIENT_SUBMIT_TASK",
        "MCP_CONTEXT",
        "MCP_LINEAGE",
    } <= found.keys()
    assert len(found) >= 25


@pytest.mark.parametrize("name", sorted(sdk_documents()))
def test_document_is_valid_against_the_schema(name: str) -> None:
    assert errors_of(sdk_documents()[name]) == []


def test_a_document_the_schema_no_longer_answers_fails() -> None:
    stale = documents.CLAIM.replace("maxAttempts", "maxTries")
    assert any("maxTries" in e for e in errors_of(stale))
    renamed = documents.HEARTBEAT.replace("$l: [LeaseInput!]", "$l: [Lease!]")
    assert errors_of(renamed)


def _literals(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_graphql_outside_the_documents_module() -> None:
    """GraphQL lives in documents.py only: anywhere else it would escape this check."""
    inline = sorted(
        f"{path.name}: {text[:50]!r}"
        for path in SDK.glob("*.py")
        if path.name != "documents.py"
        for text in _literals(path)
        if _is_operation(text)
    )
    assert not inline, inline


def _is_operation(text: str) -> bool:
    try:
        return any(
            isinstance(d, graphql.OperationDefinitionNode) for d in graphql.parse(text).definitions
        )
    except graphql.GraphQLError:
        return False
