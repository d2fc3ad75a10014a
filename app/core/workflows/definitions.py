"""Workflow definitions: validate, version (an unchanged definition is not a new version) and
read them back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.core.errors import BadInput, Conflict
from app.core.events import dumps
from app.core.workflow_spec import APPROVAL_CAPABILITY, WorkflowError, check, parse
from app.core.workflows.model import Workflow
from app.graph import GraphStore
from app.graph.queries import q

DEFINE = q("workflows/define")
GET_WORKFLOW = q("workflows/get")
DEFINITION = q("workflows/definition")
LIST_WORKFLOWS = q("workflows/list")
CAPABILITIES = q("workflows/capabilities")


async def capabilities(store: GraphStore) -> set[str]:
    rows = await store.read(CAPABILITIES)
    return set(rows[0]["capabilities"] or []) if rows else set()


def _bad(exc: WorkflowError) -> BadInput:
    return BadInput(str(exc), field=exc.field or "definition", step=exc.step)


async def define(store: GraphStore, data: Any, *, actor: str, now: int) -> tuple[Workflow, bool]:
    """Validate and store a definition; an unchanged one is not a new version.
    Returns (the workflow, whether a new version was written)."""
    try:
        spec = parse(data)
        check(spec, await capabilities(store) | {APPROVAL_CAPABILITY})
    except WorkflowError as exc:
        raise _bad(exc) from None
    canonical = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    latest = await definition(store, spec.name)
    if latest is not None and latest.hash == digest:
        return await get_workflow(store, spec.name, latest.version) or latest, False
    rows = await store.write(
        DEFINE,
        name=spec.name,
        prevVersion=latest.version if latest else 0,
        hash=digest,
        definition=text,
        description=spec.description,
        pattern=spec.pattern,
        steps=[s.id for s in spec.steps],
        triggers=[
            {
                "id": f"{spec.name}#{i}",
                "event": t.event,
                "condition": dumps(t.when.model_dump(mode="json", by_alias=True, exclude_none=True))
                if t.when
                else None,
                "input": dumps(t.input),
            }
            for i, t in enumerate(spec.triggers)
        ],
        eventPayload=dumps(
            {
                "name": spec.name,
                "steps": len(spec.steps),
                "triggers": [t.event for t in spec.triggers],
            }
        ),
        now=now,
        actor=actor,
    )
    if not rows:
        raise Conflict(f"workflow {spec.name!r} was redefined meanwhile; retry", name=spec.name)
    written = Workflow.of(rows[0]["workflow"])
    # read back as workflow(name) and workflows answer it (triggers, runs of all versions)
    return await get_workflow(store, spec.name, written.version) or written, True


async def definition(store: GraphStore, name: str, version: int | None = None) -> Workflow | None:
    """The definition alone (``triggers`` and ``runs`` not read): for the engine."""
    rows = await store.read(DEFINITION, name=name, version=version)
    return Workflow.of(rows[0]["workflow"]) if rows else None


async def get_workflow(store: GraphStore, name: str, version: int | None = None) -> Workflow | None:
    """A workflow as ``workflow(name)`` and ``workflows`` show it."""
    rows = await store.read(GET_WORKFLOW, name=name, version=version)
    return (
        Workflow.of(rows[0]["workflow"], rows[0]["triggers"], int(rows[0]["runs"]))
        if rows
        else None
    )


async def list_workflows(store: GraphStore) -> list[Workflow]:
    rows = await store.read(LIST_WORKFLOWS)
    return [Workflow.of(r["workflow"], r["triggers"], int(r["runs"])) for r in rows]
