"""``POST /webhooks/{source}``: outside systems (CI, monitoring, CRM) append events that can
trigger workflows, authenticated by a per-source shared secret instead of a bearer token.

Signed the Standard Webhooks way (https://www.standardwebhooks.com): the sender sends
``webhook-id`` (its message id), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`` (several
space-separated signatures are accepted, for secret rotation); the secret is the source's
entry in ``BATON_INBOUND_WEBHOOK_SECRETS``, ``whsec_<base64>`` or a plain string. A timestamp
more than 5 minutes away from now is refused, so a captured request cannot be replayed
later; within those 5 minutes the id (which the signature covers) is the event's delivery
key, recorded by the statement that appends the event, so a replay (or the sender's own
retry) appends nothing and starts no second run, on any replica. An unknown source, a
missing header, a stale timestamp and a wrong signature all get the same answer.

The body is ``{"type": "deployment.created", "subject": "...", "payload": {...}}``; the
answer ``202 {"seq", "duplicate", "triggers": [{triggerId, workflow, willStart, code,
reason}]}`` says which workflows the event will start (as ``emitEvent { triggers }``).
"""

from __future__ import annotations

import hmac
import json
import os
import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core import events, triggers, wakeups
from app.core.errors import BadInput, BatonError
from app.core.webhooks import standard_signature
from app.runtime import Runtime

router = APIRouter()
TOLERANCE_S = 300
MAX_SIGNATURES = 8
_SECONDS = re.compile(r"^[0-9]{1,12}$")  # ASCII only (str.isdigit takes "²" and "١")
_DECOY = "whsec_" + os.urandom(24).hex()  # unknown sources are checked against this


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


def _refused() -> JSONResponse:
    """One answer for every authentication failure: no oracle for which sources exist."""
    return _error(401, "UNAUTHENTICATED", "missing, stale or wrong webhook signature")


def verified(secret: str, headers: dict[str, str], body: bytes, now_s: int) -> str | None:
    """The message id if the Standard Webhooks headers are present, fresh and signed with
    ``secret``; else None."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    want = standard_signature(secret, msg_id, stamp, body)  # computed always: even timing
    if not (msg_id and _SECONDS.match(stamp) and given):
        return None
    if abs(now_s - int(stamp)) > TOLERANCE_S:
        return None
    ok = False
    for candidate in given.split(" ")[:MAX_SIGNATURES]:
        if candidate.startswith("v1,"):
            ok |= hmac.compare_digest(candidate.encode(), want.encode())
    return msg_id if ok else None


@router.post("/webhooks/{source}", status_code=202)
async def receive(source: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    known = rt.settings.inbound_webhook_secrets.get(source)
    body = await request.body()
    headers = {
        k: request.headers.get(k, "")
        for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    msg_id = verified(known or _DECOY, headers, body, rt.now() // 1000)
    if known is None or msg_id is None:
        return _refused()
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "BAD_INPUT", "body must be JSON")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return _error(400, "BAD_INPUT", 'body must be an object with a "type"')
    subject, payload = data.get("subject"), data.get("payload", {})
    key = f"webhook:{source}:{msg_id}"
    try:
        if subject is not None and not isinstance(subject, str):
            raise BadInput("subject must be a string", field="subject")
        if not events.KEY.match(key):
            raise BadInput("webhook-id: up to 150 letters, digits and _.:/-", field="webhook-id")
        events.check_external(data["type"], subject, payload, key)
        ev, duplicate = await events.emit(
            rt.store,
            data["type"],
            now=rt.now(),
            actor=f"webhook:{source}",
            subject=subject,
            payload=payload,
            key=key,
        )
    except BatonError as exc:
        return _error(400, exc.code, exc.message)
    rt.wake(wakeups.after_event(duplicate))
    checks = await triggers.consider(rt.store, ev)  # as emitEvent { triggers } answers
    return JSONResponse(
        {
            "seq": ev.seq,
            "duplicate": duplicate,
            "triggers": [
                {
                    "triggerId": c.trigger_id,
                    "workflow": c.workflow,
                    "willStart": c.will_start,
                    "code": c.code,
                    "reason": c.reason,
                }
                for c in checks
            ],
        },
        202,
    )
