"""Event-driven triggers: events in the log start workflow runs.

The trigger job tails the Event log from a ``Cursor`` node in the graph (so a restart or
another replica continues where it was), evaluates each enabled ``Trigger``'s declared
condition (no ``eval``), and starts a run whose id is derived from (trigger, event key): an
event delivered twice (same key), or read twice after a crash, starts one run. The SLA job
turns deadlines that passed into ``sla.breached`` events, which triggers can escalate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from app.core import workflows
from app.core.errors import BatonError, NotFound
from app.core.events import Event, dumps, events_after, head
from app.core.workflow_spec import Condition, matches, resolve
from app.graph import GraphStore
from app.graph.queries import q

log = logging.getLogger("baton.triggers")

LIST = q("triggers/list")
CURSOR = q("triggers/cursor")
ADVANCE = q("triggers/advance")
SLA = q("runs/sla_breaches")
SECRET = q("triggers/secret")
SKIPPED = q("triggers/skipped")
NAME = "triggers"
PAGE = 500


@dataclass(frozen=True)
class Trigger:
    id: str
    workflow: str
    event: str
    condition: Condition | None
    input: dict[str, Any]

    @classmethod
    def of(cls, t: dict[str, Any]) -> Trigger:
        cond = json.loads(t["condition"]) if t.get("condition") else None
        return cls(
            id=t["id"],
            workflow=t["workflow"],
            event=t["event"],
            condition=Condition.model_validate(cond) if cond else None,
            input=json.loads(t.get("input") or "{}"),
        )


def run_id_for(trigger_id: str, ev: Event, secret: str) -> str:
    """The same trigger and the same event key always name the same run. The id is an HMAC
    under the server's secret (kept in the graph), in the engine's ``run-`` namespace that
    clients may not use, so no client can predict or pre-create the run an event maps to."""
    key = ev.key or f"seq:{ev.seq}"
    mac = hmac.new(secret.encode(), f"{trigger_id}|{ev.type}|{key}".encode(), hashlib.sha256)
    return workflows.TRIGGER_RUN_PREFIX + mac.hexdigest()[:32]


async def run_id_secret(store: GraphStore) -> str:
    rows = await store.read(SECRET)
    if not rows or not rows[0]["value"]:  # pragma: no cover - prepare_graph makes it
        raise RuntimeError("the run-id secret is missing: start the app once (prepare_graph)")
    return str(rows[0]["value"])


def event_view(ev: Event) -> dict[str, Any]:
    """What conditions and input mappings see of an event."""
    return {
        "type": ev.type,
        "seq": ev.seq,
        "key": ev.key,
        "actor": ev.actor,
        "subject": ev.subject,
        "payload": ev.payload,
    }


async def list_triggers(store: GraphStore) -> list[Trigger]:
    return [Trigger.of(r["trigger"]) for r in await store.read(LIST)]


@dataclass(frozen=True)
class Outcome:
    """What one trigger does with one event whose type and ``when`` it matches."""

    trigger_id: str
    workflow: str
    will_start: bool
    code: str | None = None
    reason: str | None = None


async def consider(
    store: GraphStore,
    ev: Event,
    found: list[Trigger] | None = None,
    defs: dict[str, workflows.Workflow | None] | None = None,
) -> list[Outcome]:
    """The enabled triggers that listen for ``ev`` (its type and their ``when``), and
    whether each can start its workflow from it, checked against the current definitions
    exactly as the trigger job will: an unknown workflow or a mapping that leaves a declared
    input empty cannot start (the job records ``trigger.skipped``); a ``when`` that does not
    hold is not listed at all. ``found``/``defs`` are caches a caller may share."""
    view = event_view(ev)
    defs = {} if defs is None else defs
    out: list[Outcome] = []
    for t in found if found is not None else await list_triggers(store):
        if t.event != ev.type or not matches(t.condition, view):
            continue
        if t.workflow not in defs:
            defs[t.workflow] = await workflows.definition(store, t.workflow)
        wf = defs[t.workflow]
        try:
            if wf is None:
                raise NotFound(f"workflow {t.workflow!r} does not exist", field="workflow")
            workflows.check_input(wf.spec, t.workflow, resolve(t.input, {"event": view}))
        except BatonError as exc:
            out.append(Outcome(t.id, t.workflow, False, exc.code, exc.message))
            continue
        out.append(Outcome(t.id, t.workflow, True))
    return out


async def skipped(store: GraphStore, t: Trigger, ev: Event, exc: BatonError, *, now: int) -> bool:
    """Record (once) that ``t`` matched ``ev`` but could not start: a trigger.skipped event
    on the trigger, with the reason. Returns whether this call wrote it."""
    rows = await store.write(
        SKIPPED,
        triggerId=t.id,
        key=f"trigger:{t.id}:{ev.seq}",
        now=now,
        actor=f"trigger:{t.id}",
        payload=dumps(
            {
                "triggerId": t.id,
                "workflow": t.workflow,
                "eventSeq": ev.seq,
                "eventType": ev.type,
                "code": exc.code,
                "reason": exc.message,
            }
        ),
    )
    return bool(rows and rows[0]["written"])


async def fire(store: GraphStore, *, now: int, trace_id: str | None = None) -> int:
    """Scheduler job: start runs for new matching events; returns how many started."""
    top = await head(store)
    triggers = await list_triggers(store)
    cursor = int((await store.read(CURSOR, name=NAME))[0]["seq"])
    if not triggers or cursor < 0:  # nothing to watch: keep up with the log, cheaply
        if top > cursor:  # no work, no write
            await store.write(ADVANCE, name=NAME, seq=top, now=now)
        return 0
    batch = await events_after(store, cursor, sorted({t.event for t in triggers}), PAGE)
    secret = await run_id_secret(store) if batch else ""
    started = 0
    for ev in batch:
        view = event_view(ev)
        for t in triggers:
            if t.event != ev.type or not matches(t.condition, view):
                continue
            try:
                _, new = await workflows.start(
                    store,
                    t.workflow,
                    resolve(t.input, {"event": view}),
                    actor=f"trigger:{t.id}",
                    now=now,
                    run_id=run_id_for(t.id, ev, secret),
                    engine_run_id=True,
                    trigger=view,
                    trigger_id=t.id,
                    event_seq=ev.seq,
                    trace_id=trace_id,
                )
                started += int(new)
            except BatonError as exc:  # e.g. the event lacks an input: never block the log
                if await skipped(store, t, ev, exc, now=now):
                    log.info(
                        "trigger %s on event %s did not start %s: %s",
                        t.id,
                        ev.seq,
                        t.workflow,
                        exc.message,
                    )
    new_cursor = batch[-1].seq if len(batch) == PAGE else max(top, cursor)
    if new_cursor > cursor:
        await store.write(ADVANCE, name=NAME, seq=new_cursor, now=now)
    return started


async def sla_breaches(store: GraphStore, *, now: int, limit: int = 500) -> int:
    """Scheduler job: flag tasks and runs past their deadline once, with an sla.breached event."""
    rows = await store.write(SLA, now=now, limit=limit)
    return int(rows[0]["breached"]) if rows else 0
