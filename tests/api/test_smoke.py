"""The app serves GraphQL, /health and /metrics on real HTTP."""

from __future__ import annotations

from tests.conftest import App


async def test_health_reports_backend_and_counts(api: App) -> None:
    r = await api.http.get(f"{api.url}/health")
    assert r.status_code == 200
    body = r.json()
    assert body["backend"] == api.store.backend and body["ok"] is True
    assert body["nodes"] >= 2  # event counter + admin principal


async def test_me_is_admin(api: App) -> None:
    data = await api.admin("{ me { id roles } }")
    assert data["me"] == {"id": "admin", "roles": ["admin"]}


async def test_metrics_exposed(api: App) -> None:
    await api.admin("{ me { id } }")
    r = await api.http.get(f"{api.url}/metrics")
    assert r.status_code == 200
    assert "baton_http_requests_total" in r.text and "baton_event_seq" in r.text


async def test_metrics_show_queue_depth_per_capability(api: App) -> None:
    for _ in range(3):
        await api.admin('mutation { submitTask(input: {kind: "k", capability: "triage"}) { id } }')
    text = (await api.http.get(f"{api.url}/metrics")).text
    assert 'baton_tasks{capability="triage",status="queued"} 3.0' in text
    assert 'baton_queue_oldest_age_seconds{capability="triage"}' in text


async def test_graphiql_served_to_browsers(api: App) -> None:
    r = await api.http.get(f"{api.url}/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "graphiql" in r.text.lower()
