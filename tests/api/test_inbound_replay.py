"""Inbound webhooks follow Standard Webhooks: signed over id + timestamp + body, a 5-minute
tolerance, replayed ids append nothing, and every refusal looks the same (issue 18,
finding 4). Signatures here are computed independently of the app's helper."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.core.clock import ManualClock
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.graphs import GraphTarget

KEY = os.urandom(24)
WHSEC = "whsec_" + base64.b64encode(KEY).decode()
PLAIN = "plain-shared-secret-0123"
BODY = {"type": "deployment.created", "subject": "dep-1", "payload": {"service": "svc-a"}}


def signature(key: bytes, msg_id: str, ts: int | str, raw: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + raw, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@pytest.fixture
async def app(graph: GraphTarget) -> AsyncIterator[tuple[App, ManualClock]]:
    clock = ManualClock()
    a = await start_app(
        graph,
        fresh_name(),
        clock=clock,
        scheduler=False,
        inbound_webhook_secrets={"ci": WHSEC, "crm": PLAIN},
    )
    yield a, clock
    await a.store.drop_all()
    await stop_app(a)


async def send(
    app: App, headers: dict[str, Any], raw: bytes, source: str = "ci"
) -> tuple[int, bytes]:
    r = await app.http.post(
        f"{app.url}/webhooks/{source}",
        content=raw,
        headers={"content-type": "application/json", **headers},
    )
    return r.status_code, r.content


def signed(msg_id: str, ts: int, raw: bytes, key: bytes = KEY) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(key, msg_id, ts, raw),
    }


async def events_keyed(app: App) -> list[dict[str, Any]]:
    return await app.store.execute_text(
        "MATCH (e:Event) WHERE e.key STARTS WITH 'webhook:' RETURN e.key AS key, e.seq AS seq "
        "ORDER BY e.seq"
    )


async def test_a_captured_request_cannot_be_replayed(app: tuple[App, ManualClock]) -> None:
    api, clock = app
    raw = json.dumps(BODY).encode()
    now = api.rt.now() // 1000
    captured = signed("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, raw)
    code, first = await send(api, captured, raw)
    assert code == 202 and json.loads(first)["duplicate"] is False
    # Replayed as is: nothing appended (the id is recorded with the event).
    code, again = await send(api, captured, raw)
    assert code == 202 and json.loads(again) == {**json.loads(first), "duplicate": True}
    # Replayed with a new id (or timestamp): the signature no longer matches.
    refused_new_id = await send(api, {**captured, "webhook-id": "msg_other"}, raw)
    refused_new_ts = await send(api, {**captured, "webhook-timestamp": str(now + 1)}, raw)
    refused_new_body = await send(api, captured, raw.replace(b"svc-a", b"svc-b"))
    # Replayed later: stale.
    clock.advance(301_000)
    refused_late = await send(api, captured, raw)
    assert len(await events_keyed(api)) == 1
    # Old-style body-only signatures are not accepted any more.
    old = {
        "X-Baton-Signature": "sha256=" + hmac.new(WHSEC.encode(), raw, "sha256").hexdigest(),
        "X-Baton-Delivery": "d-9",
    }
    refused_old = await send(api, old, raw)
    refusals = {refused_new_id, refused_new_ts, refused_new_body, refused_late, refused_old}
    assert len(refusals) == 1
    code, text = refusals.pop()
    assert code == 401 and json.loads(text)["error"]["code"] == "UNAUTHENTICATED"
    assert len(await events_keyed(api)) == 1


async def test_timestamp_tolerance_is_five_minutes(app: tuple[App, ManualClock]) -> None:
    api, _ = app
    raw = json.dumps(BODY).encode()
    now = api.rt.now() // 1000
    for n, (skew, ok) in enumerate(
        [(-299, True), (299, True), (-301, False), (301, False), (-86_400, False)]
    ):
        code, _ = await send(api, signed(f"m{n}", now + skew, raw), raw)
        assert code == (202 if ok else 401), (skew, code)
    bad_ts = signed("m9", now, raw)
    for ts in ("", "abc", "-5", f"{now}.0", "9" * 40, "\u00b2".encode("latin-1"), f"0{now}x"):
        code, _ = await send(api, {**bad_ts, "webhook-timestamp": ts}, raw)
        assert code == 401, ts
    assert [e["key"] for e in await events_keyed(api)] == ["webhook:ci:m0", "webhook:ci:m1"]


async def test_signature_forms_and_plain_secrets(app: tuple[App, ManualClock]) -> None:
    api, _ = app
    raw = json.dumps(BODY).encode()
    now = api.rt.now() // 1000
    h = signed("rot-1", now, raw)
    rotated = {
        **h,
        "webhook-signature": f"v1,{base64.b64encode(b'x' * 32).decode()} {h['webhook-signature']}",
    }
    assert (await send(api, rotated, raw))[0] == 202  # several signatures: one matches
    asym = {**signed("rot-2", now, raw), "webhook-signature": "v1a,AAAA"}
    assert (await send(api, asym, raw))[0] == 401
    # A source whose secret is a plain string: the key is its bytes.
    assert (await send(api, signed("crm-1", now, raw, PLAIN.encode()), raw, "crm"))[0] == 202
    assert (await send(api, signed("crm-2", now, raw, KEY), raw, "crm"))[0] == 401
    # The same id from another source is another delivery.
    assert (await send(api, signed("crm-1", now, raw), raw, "ci"))[0] == 202
    keys = [e["key"] for e in await events_keyed(api)]
    assert keys == ["webhook:ci:rot-1", "webhook:crm:crm-1", "webhook:ci:crm-1"]


async def test_unknown_sources_and_bad_signatures_answer_alike(
    app: tuple[App, ManualClock],
) -> None:
    api, _ = app
    raw = json.dumps(BODY).encode()
    now = api.rt.now() // 1000
    answers = {
        "unknown source": await send(api, signed("u1", now, raw), raw, "nope"),
        "wrong secret": await send(api, signed("u2", now, raw, b"wrong"), raw),
        "no headers": await send(api, {}, raw),
        "no signature": await send(api, {"webhook-id": "u3", "webhook-timestamp": str(now)}, raw),
        "unknown and unsigned": await send(api, {}, raw, "nope"),
    }
    assert len(set(answers.values())) == 1, answers
    assert answers["unknown source"][0] == 401
    assert await events_keyed(api) == []


async def test_webhook_delivery_keys_cannot_be_taken_by_emit_event(
    app: tuple[App, ManualClock],
) -> None:
    """Otherwise a principal could pre-empt a sender's future id (its delivery would then
    read as a duplicate)."""
    api, _ = app
    emit = 'mutation($k: String) { emitEvent(type: "deployment.created", key: $k) { seq } }'
    assert await api.admin.fails(emit, k="webhook:ci:msg-9") == ["BAD_INPUT"]
    raw = json.dumps(BODY).encode()
    code, body = await send(api, signed("msg-9", api.rt.now() // 1000, raw), raw)
    assert code == 202 and json.loads(body)["duplicate"] is False
