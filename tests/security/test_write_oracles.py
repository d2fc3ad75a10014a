"""Finding 9: writes are no oracles.

An uncleared agent (sales: may read customers, not cleared for pii) guesses the value of a
pii fact by asserting the same key. The answer reveals nothing (no ``superseded``, no
``contradicted``), the sensitive fact stays current and unburied for the agents cleared to
read it, ``fact(id){contradicts, history}`` never names a fact the reader may not read, and
deriving from a hidden fact answers exactly like deriving from one that does not exist."""

from __future__ import annotations

from tests.conftest import App
from tests.security.org import ASSERT, fact, org
from tests.support.digest import graph_digest

CTX = """query($e: String!) { context(entityId: $e, hops: 0) { id key value } }"""
FACT = "query($id: ID!) { fact(id: $id) { id contradicts history { id } } }"


async def test_guessing_a_hidden_value_learns_nothing_and_buries_nothing(api: App) -> None:
    a = await org(api)
    hidden = (
        await fact(
            a["cs"], "agent-impact", "cust-acme", "contact", "jane@acme.test", sensitivity="pii"
        )
    )["fact"]
    got = await fact(a["sales"], "agent-sales", "cust-acme", "contact", "jane@acme.test")
    assert got["superseded"] is None and got["contradicted"] is False, got
    # A second guess supersedes only the first (the writer's own, readable) one.
    again = await fact(a["sales"], "agent-sales", "cust-acme", "contact", "joe@acme.test")
    assert again["superseded"] == got["fact"]["id"] and again["contradicted"] is False
    # The cleared team still sees the sensitive fact as current, alongside the guesses.
    cur = (await a["cs"](CTX, e="cust-acme"))["context"]
    assert hidden["id"] in {f["id"] for f in cur}
    one = (await a["cs"](FACT, id=hidden["id"]))["fact"]
    assert one["id"] == hidden["id"] and one["contradicts"] == []
    sales_cur = (await a["sales"](CTX, e="cust-acme"))["context"]
    assert [f["value"] for f in sales_cur if f["key"] == "contact"] == ["joe@acme.test"]


async def test_fact_never_names_what_the_reader_may_not_read(api: App) -> None:
    a = await org(api)
    mine = (await fact(a["sales"], "agent-sales", "cust-acme", "contact", "x@acme.test"))["fact"]
    # A cleared agent corrects it with a pii value: it supersedes and contradicts `mine`.
    theirs = await fact(
        a["cs"], "agent-impact", "cust-acme", "contact", "jane@acme.test", sensitivity="pii"
    )
    assert theirs["superseded"] == mine["id"] and theirs["contradicted"] is True
    seen = (await a["sales"](FACT, id=mine["id"]))["fact"]
    assert seen["contradicts"] == []  # the pii fact is not named to sales
    assert (await a["sales"](FACT, id=theirs["fact"]["id"]))["fact"] is None
    assert (await a["cs"](FACT, id=mine["id"]))["fact"]["contradicts"] == [theirs["fact"]["id"]]


async def test_deriving_from_a_hidden_fact_is_indistinguishable_from_a_missing_one(
    api: App,
) -> None:
    a = await org(api)
    hidden = (
        await fact(
            a["cs"], "agent-impact", "cust-acme", "contact", "jane@acme.test", sensitivity="pii"
        )
    )["fact"]
    pay = (await fact(a["pay"], "agent-payments", "svc-payments", "errors", 3))["fact"]
    before = await graph_digest(api.store)
    base = {
        "agentId": "agent-sales",
        "entityId": "cust-acme",
        "key": "k",
        "value": 1,
        "confidence": 0.5,
    }
    for source in (hidden["id"], pay["id"], "fact-does-not-exist"):
        body = await a["sales"].raw(ASSERT, {"i": {**base, "derivedFrom": [source]}})
        [err] = body["errors"]
        assert err["extensions"]["code"] == "NOT_FOUND"
        assert err["message"] == f"unknown derivedFrom ids: ['{source}']"
    assert await graph_digest(api.store) == before
