"""Headers and small leaks (issue 18, finding 7): security headers on every response (with a
CSP that fits the inbox pages and GraphiQL), "exists but not yours" reads look exactly like
"does not exist", and /metrics label values from clients are bounded."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.observability.metrics import OTHER
from tests.api.test_context import ASSERT, CONTEXT, org
from tests.api.test_inbox import propose, setup, working
from tests.conftest import App, fresh_name, start_app, stop_app
from tests.support.coord import submit
from tests.support.graphs import GraphTarget

STATIC = Path(__file__).resolve().parents[2] / "app" / "api" / "static"
LINEAGE = """query($id: String!) { lineage(id: $id, direction: BOTH, depth: 2) {
  nodes { id } edges { from to } } }"""


def csp(value: str) -> dict[str, set[str]]:
    out = {}
    for part in value.split(";"):
        name, *sources = part.split()
        out[name] = set(sources)
    return out


async def test_every_response_carries_security_headers(api: App) -> None:
    answers = {
        "inbox": await api.http.get(f"{api.url}/inbox"),
        "lineage": await api.http.get(f"{api.url}/inbox/lineage?id=x"),
        "graphiql": await api.http.get(f"{api.url}/graphql", headers={"accept": "text/html"}),
        "graphql": await api.http.post(f"{api.url}/graphql", json={"query": "{ __typename }"}),
        "health": await api.http.get(f"{api.url}/health"),
        "metrics": await api.http.get(f"{api.url}/metrics"),
        "missing": await api.http.get(f"{api.url}/nope"),
        "webhook": await api.http.post(f"{api.url}/webhooks/x", content=b"{}"),
    }
    for name, r in answers.items():
        h = r.headers
        assert h.get("x-content-type-options") == "nosniff", name
        assert h.get("x-frame-options") == "DENY", name
        assert h.get("referrer-policy") == "no-referrer", name
        policy = csp(h.get("content-security-policy", ""))
        assert policy.get("frame-ancestors") == {"'none'"}, name
        assert policy.get("base-uri") == {"'none'"}, name
    assert "text/html" in answers["graphiql"].headers["content-type"]
    for name in ("graphql", "health", "metrics", "missing"):
        assert csp(answers[name].headers["content-security-policy"])["default-src"] == {"'none'"}


async def test_inbox_csp_allows_its_own_inline_code_only(api: App) -> None:
    r = await api.http.get(f"{api.url}/inbox")
    policy = csp(r.headers["content-security-policy"])
    html = (STATIC / "inbox.html").read_text()
    for tag, directive in (("script", "script-src"), ("style", "style-src")):
        for body in re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in policy[directive]
        assert "'unsafe-inline'" not in policy[directive] and "*" not in policy[directive]
    assert policy["default-src"] == {"'none'"} and policy["connect-src"] == {"'self'"}
    # GraphiQL is served from this origin: no CDN, no inline script (finding 2 of issue 21).
    g = await api.http.get(f"{api.url}/graphql", headers={"accept": "text/html"})
    gp = csp(g.headers["content-security-policy"])
    assert gp["script-src"] == {"'self'"} and gp["connect-src"] == {"'self'"}
    allowed = {"'self'", "data:", "'none'", "'unsafe-inline'"}  # inline: styles only
    assert all(v <= allowed for v in gp.values()) and "'unsafe-inline'" not in gp["script-src"]
    assert not re.search(r"<script>|https?://", g.text)
    for asset in re.findall(r'(?:src|href)="(/graphiql/[^"]+)"', g.text):
        got = await api.http.get(f"{api.url}{asset}")
        assert got.status_code == 200 and len(got.content) > 1_000, asset


async def test_unreadable_objects_look_absent(api: App) -> None:
    a = await org(api)
    i = {"agentId": "agent-rootcause", "key": "k", "value": 1, "confidence": 0.5}
    hidden = await a["sre"].raw(ASSERT, {"i": {**i, "entityId": "cust-acme"}})
    missing = await a["sre"].raw(ASSERT, {"i": {**i, "entityId": "cust-nope"}})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    def strip(e: dict[str, Any]) -> dict[str, Any]:
        message = e["message"].replace("cust-acme", "X").replace("cust-nope", "X")
        return {**e, "message": message, "extensions": {**e["extensions"], "id": None}}

    assert strip(hidden["errors"][0]) == strip(missing["errors"][0])
    # Reads: context and lineage of an entity the agent may not read answer like nothing.
    await api.admin(ASSERT, i={**i, "agentId": "agent-impact", "entityId": "cust-acme"})
    for q, v in ((CONTEXT, {"a": "agent-rootcause", "h": 1}), (LINEAGE, {})):
        key = "e" if q is CONTEXT else "id"
        seen = await a["sre"].raw(q, {**v, key: "cust-acme"})
        none = await a["sre"].raw(q, {**v, key: "cust-nope"})
        assert seen == none, (seen, none)


async def test_other_agents_proposals_look_absent(api: App) -> None:
    await setup(api)
    mine, t = await working(api, "proposer", "sre")
    p = await propose(mine, "proposer", t, "rollback", 0.5)
    other, _ = await working(api, "snoop", "sre")
    q = "query($id: ID!) { proposal(id: $id) { id status } }"
    assert (await mine(q, id=p["id"]))["proposal"]["id"] == p["id"]
    assert await other.raw(q, {"id": p["id"]}) == await other.raw(q, {"id": "prop_nope"})
    assert (await other(q, id=p["id"]))["proposal"] is None


@pytest.fixture
async def capped(graph: GraphTarget) -> AsyncIterator[App]:
    app = await start_app(graph, fresh_name(), scheduler=False, metrics_max_label_values=10)
    yield app
    await app.store.drop_all()
    await stop_app(app)


async def test_metrics_labels_from_clients_are_bounded(capped: App) -> None:
    for n in range(60):
        await submit(capped.admin, capability=f"cap-{n:03d}")
    for _ in range(5):
        await submit(capped.admin, capability="busy")
    text = (await capped.http.get(f"{capped.url}/metrics")).text
    tasks = re.findall(r'^baton_tasks\{capability="([^"]+)",status="([^"]+)"\} (\S+)$', text, re.M)
    caps = {c for c, _, _ in tasks}
    assert len(caps) <= 10 and OTHER in caps and "busy" in caps, caps
    assert sum(float(n) for _, _, n in tasks) == 65  # nothing lost, only folded
    ages = set(re.findall(r'^baton_queue_oldest_age_seconds\{capability="([^"]+)"\}', text, re.M))
    assert ages <= caps
    series = [line for line in text.splitlines() if line.startswith("baton_") and "{" in line]
    assert len(series) < 400, len(series)
