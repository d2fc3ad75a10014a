"""``POST /webhooks/{source}``: outside systems (CI, monitoring, CRM) append events that can
trigger workflows, authenticated by a per-source shared secret instead of a bearer token.

The body is ``{"type": "deployment.created", "id": "<delivery id>", "subject": "...",
"payload": {...}}``, signed as ``X-Baton-Signature: sha256=<hex HMAC of the raw body>`` (the
same scheme Baton uses for its own outgoing webhooks). The delivery id (``X-Baton-Delivery``
or ``id``) makes re-deliveries idempotent: the event is appended once, so it starts its
triggered runs once.
"""

from __future__ import annotations

import hmac
import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core import events
from app.core.errors import BadInput, BatonError
from app.core.runtime import Runtime
from app.core.webhooks import sign

router = APIRouter()


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


@router.post("/webhooks/{source}", status_code=202)
async def receive(source: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    secret = rt.settings.inbound_webhook_secrets.get(source)
    if secret is None:
        return _error(404, "NOT_FOUND", f"no webhook source {source!r} is configured")
    body = await request.body()
    if not hmac.compare_digest(request.headers.get("x-baton-signature", ""), sign(secret, body)):
        return _error(401, "UNAUTHENTICATED", "missing or wrong X-Baton-Signature")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "BAD_INPUT", "body must be JSON")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return _error(400, "BAD_INPUT", 'body must be an object with a "type"')
    key = request.headers.get("x-baton-delivery") or data.get("id")
    subject, payload = data.get("subject"), data.get("payload", {})
    try:
        if key is not None and not isinstance(key, str):
            key = str(key)
        if subject is not None and not isinstance(subject, str):
            raise BadInput("subject must be a string", field="subject")
        events.check_external(data["type"], subject, payload, key)
        ev, duplicate = await events.emit(
            rt.store, data["type"], now=rt.now(), actor=f"webhook:{source}", subject=subject,
            payload=payload, key=key,
        )  # fmt: skip
    except BatonError as exc:
        return _error(400, exc.code, exc.message)
    rt.nudge("triggers")
    return JSONResponse({"seq": ev.seq, "duplicate": duplicate}, 202)
