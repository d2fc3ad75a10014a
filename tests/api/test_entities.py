"""Reading the org graph back (`entity`, `entities`) under the caller's grants: an entity in a
domain the caller may not read answers like a missing one, a relation to one is left out, a
filtered page walks every readable entity once; attacked by an agent and a human of teams
without the grant."""

from __future__ import annotations

from typing import Any

from app.core import seed
from app.resources import SEEDS_DIR
from tests.conftest import App
from tests.support.coord import agent
from tests.support.gql import GQL

ENTITY = """query($id: ID!) { entity(id: $id) { id kind name domain owner status attrs
  relations { type to status } } }"""
PAGE = """query($k: String, $d: String, $o: String, $n: Int!, $a: String) {
  entities(kind: $k, domain: $d, owner: $o, first: $n, after: $a) {
    nodes { id kind domain } pageInfo { endCursor hasNextPage } } }"""


async def _all(c: GQL, **filters: Any) -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        got = (await c(PAGE, n=4, a=after, **filters))["entities"]
        out += got["nodes"]
        if not got["pageInfo"]["hasNextPage"]:
            return out
        after = got["pageInfo"]["endCursor"]


async def test_entities_read_back_within_grants(api: App) -> None:
    await seed.load(api.store, SEEDS_DIR, now=api.rt.now())
    await api.admin("""mutation { linkEntities(links: [{from: "svc-checkout", to: "sys-k8s-prod",
                    type: "OWNED_BY"}]) }""")
    e = (await api.admin(ENTITY, id="svc-checkout"))["entity"]
    assert (e["kind"], e["name"], e["domain"], e["status"]) == (
        "service",
        "Checkout",
        "commerce",
        "active",
    )
    assert e["owner"] == "sys-k8s-prod"
    deps = {r["to"] for r in e["relations"] if r["type"] == "DEPENDS_ON"}
    assert deps == {"svc-payments", "svc-inventory", "svc-auth"}
    assert (await api.admin(ENTITY, id="no-such"))["entity"] is None

    # sre reads commerce, payments, identity, platform: not customers or security
    sre = await agent(api, "agent-rootcause", ["diagnose"], team="sre")
    assert (await sre(ENTITY, id="cust-acme"))["entity"] is None  # like a missing one
    web = (await sre(ENTITY, id="svc-web"))["entity"]
    assert {r["to"] for r in web["relations"]} == {"svc-checkout", "svc-catalog", "svc-auth"}
    # customer-success reads customers and commerce: svc-web's dependencies elsewhere vanish
    cs = await agent(api, "agent-impact", ["business_impact"], team="customer-success")
    acme = (await cs(ENTITY, id="cust-acme"))["entity"]
    assert [r["to"] for r in acme["relations"]] == ["svc-web"]  # svc-billing is payments
    assert (await cs(ENTITY, id="svc-payments"))["entity"] is None

    everything = [x for x in await _all(api.admin) if not x["id"].startswith("INC-")]  # history
    assert len(everything) == len({x["id"] for x in everything}) == 30  # seeds/org.yaml
    mine = [x for x in await _all(sre) if not x["id"].startswith("INC-")]
    assert {x["domain"] for x in mine} == {"commerce", "payments", "identity", "platform"}
    assert {x["id"] for x in mine} == {
        x["id"]
        for x in everything
        if x["domain"] in ("commerce", "payments", "identity", "platform")
    }
    services = await _all(sre, k="service", d="payments")
    assert sorted(x["id"] for x in services) == [
        "svc-billing",
        "svc-fraud",
        "svc-ledger",
        "svc-payments",
    ]
    assert [x["id"] for x in await _all(api.admin, o="sys-k8s-prod")] == ["svc-checkout"]
    # a human without a grant, by id and by filter
    bob = api.client(
        (await api.admin('mutation { rotateToken(principalId: "bob") }'))["rotateToken"]
    )
    assert (await bob(ENTITY, id="svc-web"))["entity"] is None
    assert await _all(bob, d="commerce") == []
    assert await bob.fails(PAGE, n=0) == ["BAD_INPUT"]
    assert await bob.fails(PAGE, n=5, a="a") == ["BAD_INPUT"]  # not a cursor
