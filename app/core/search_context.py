"""Searching the org's knowledge by meaning, as a reader (`searchContext`,
`relatedIncidents`): the query is embedded off the event loop, `search.search` fuses the
vector, full-text and graph signals under the reader's grants, and what facts a reader was
shown is recorded like any context read (SAW edges, through `context.CONTEXT_HOOKS`)."""

from __future__ import annotations

from app.core import context, entities, search
from app.core.context import Reader
from app.core.errors import BadInput, NotFound
from app.embeddings.base import Embedder, aembed
from app.graph import GraphStore

TEXT_MAX = 2_000
KINDS_MAX = 20


async def search_context(
    store: GraphStore,
    reader: Reader,
    embedder: Embedder | None,
    *,
    text: str,
    near: str | None,
    kinds: list[str] | None,
    first: int,
    now: int,
    task_id: str | None = None,
) -> list[search.Hit]:
    """Facts and entities the reader may read that are like ``text`` (and, with ``near``,
    close to that entity). Without an embedder: full-text and graph signals only."""
    text = text.strip()
    if not text or len(text) > TEXT_MAX:
        raise BadInput(f"text: 1 to {TEXT_MAX} characters", field="text")
    if kinds is not None and (len(kinds) > KINDS_MAX or any(not k.strip() for k in kinds)):
        raise BadInput(f"kinds: at most {KINDS_MAX} non-empty kinds", field="kinds")
    vector = (await aembed(embedder, [text]))[0] if embedder is not None else None
    hits = await search.search(
        store,
        reader,
        vector=vector,
        text=text,
        near=near,
        kinds=kinds or None,
        first=first,
        now=now,
    )
    facts = [h.id for h in hits if h.type == "fact"]
    if facts and reader.inspector is None:
        for hook in context.CONTEXT_HOOKS:
            await hook(store, reader, facts, task_id, now)
    return hits


async def related_incidents(
    store: GraphStore,
    reader: Reader,
    embedder: Embedder | None,
    incident_id: str,
    *,
    first: int,
    now: int,
) -> list[search.Hit]:
    """Past incidents like this one: its title and description searched among entities of
    kind `incident` by meaning and words. Not by closeness to its service: incidents of one
    root cause span services, and every incident of the same service would rank alike (on
    the seeded history, hit@5 fell from 0.95 to 0.6 with it). NOT_FOUND when the reader may
    not read it (like a missing one)."""
    incident = await entities.get(store, reader, incident_id)
    if incident is None or incident.kind != "incident":
        raise NotFound(f"no incident {incident_id!r}", id=incident_id)
    text = " ".join(x for x in (incident.name, str(incident.attrs.get("description") or "")) if x)[
        :TEXT_MAX
    ]
    hits = await search_context(
        store, reader, embedder, text=text, near=None, kinds=["incident"], first=first + 1, now=now
    )
    return [h for h in hits if h.id != incident_id][:first]
