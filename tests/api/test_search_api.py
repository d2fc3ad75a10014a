"""Search by meaning through the API, with the real local model: the seeded incident history
is embedded by the scheduler's job, `relatedIncidents` finds incidents of the same root
cause, `searchContext` finds facts and entities under the caller's grants (an agent of a team
without the domain finds nothing there, and an incident it may not read answers NOT_FOUND),
what an agent is shown is recorded as a context read, and bad input is refused."""

from __future__ import annotations

import yaml

from app import scheduler
from app.resources import SEEDS_DIR
from tests.conftest import App
from tests.support.coord import agent

RELATED = """query($id: ID!, $n: Int!) { relatedIncidents(incidentId: $id, first: $n) {
  id type kind domain score signals { vector vectorRank text textRank distance } } }"""
SEARCH = """query($t: String!, $near: String, $k: [String!], $n: Int!, $task: String) {
  searchContext(text: $t, near: $near, kinds: $k, first: $n, taskId: $task) {
  id type kind key value entityId domain score signals { vector text distance } } }"""


async def embedded(api: App) -> None:
    while await scheduler.embed(api.rt):
        pass
    assert (await api.admin("{ embeddingPending }"))["embeddingPending"] == 0


async def test_related_incidents_and_search_under_grants(seeded_app: App) -> None:
    api = seeded_app
    assert (await api.admin("{ embeddingPending }"))["embeddingPending"] > 200
    await embedded(api)
    history = {
        i["id"]: i for i in yaml.safe_load((SEEDS_DIR / "incidents.yaml").read_text())["incidents"]
    }
    clustered = [i for i in history.values() if i["related"]]
    found = 0
    for inc in clustered[:20]:
        hits = (await api.admin(RELATED, id=inc["id"], n=5))["relatedIncidents"]
        assert hits and all(h["kind"] == "incident" and h["id"] != inc["id"] for h in hits)
        found += any(h["id"] in inc["related"] for h in hits)
    assert found >= 15, found  # the same root cause, mostly in the first five

    gc = (
        await api.admin(
            SEARCH, t="search cluster nodes stuck in garbage collection pauses", k=["incident"], n=5
        )
    )["searchContext"]
    assert gc[0]["id"] in {"INC-1001", *history["INC-1001"]["related"]}
    assert gc[0]["signals"]["vector"] > 0.3 and gc[0]["signals"]["text"] is not None

    # customer-success reads customers and commerce only
    cs = await agent(api, "agent-impact", ["business_impact"], team="customer-success")
    mine = (await cs(SEARCH, t="database connection pool exhausted", n=20))["searchContext"]
    assert mine and {h["domain"] for h in mine} <= {"customers", "commerce"}
    payments = next(i for i in clustered if i["service"] in ("svc-payments", "svc-ledger"))
    assert await cs.fails(RELATED, id=payments["id"], n=5) == ["NOT_FOUND"]
    assert await cs.fails("{ embeddingPending }") == ["FORBIDDEN"]

    # an agent's search of facts is recorded like any context read (SAW the facts shown)
    sre = await agent(api, "agent-rootcause", ["diagnose"], team="sre")
    await sre("""mutation { assertFact(input: {agentId: "agent-rootcause", entityId: "svc-checkout",
        key: "symptom", value: "checkout pods restarting with out of memory kills",
        confidence: 0.7}) { fact { id } } }""")
    await embedded(api)
    hits = (await sre(SEARCH, t="checkout containers OOM killed", near="svc-checkout", n=5))[
        "searchContext"
    ]
    fact = next(h for h in hits if h["type"] == "fact")
    assert fact["key"] == "symptom" and fact["signals"]["distance"] == 0
    saw = await api.store.execute_text(
        "MATCH (d:Decision {name: 'context.read'})-[:SAW]->(f:Fact {id: $f}) RETURN d.agentId AS a",
        f=fact["id"],
    )
    assert [r["a"] for r in saw] == ["agent-rootcause"]

    for bad in (
        {"t": "", "n": 5},
        {"t": "x" * 2001, "n": 5},
        {"t": "ok", "n": 0},
        {"t": "ok", "n": 5, "k": ["incident"] * 21},
    ):
        assert await sre.fails(SEARCH, bad) == ["BAD_INPUT"], bad
    assert await api.admin.fails(RELATED, id="svc-checkout", n=5) == ["NOT_FOUND"]
