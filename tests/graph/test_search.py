"""Context search (app.core.search) on the session's backend: the embedding job writes vectors
in batches (and nothing when idle), the vector, full-text and graph signals find what they
should, the caller's grants hold inside every statement (a property test over random grant
layouts), user text cannot break or widen the full-text query, and the vector signal
over-fetches until enough readable hits come back."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import context, search, search_text, teams
from app.core.context import Reader
from app.core.errors import BadInput
from app.graph import GraphStore
from app.graph.store import DEFAULT_EMBEDDING_DIM
from app.models import EntityIn, FactIn, LinkIn
from tests.support.vectors import Embedder, around, hash_vector

DOMAINS = ["d0", "d1", "d2"]
TEAMS = ["t0", "t1", "t2"]
WORDS = ["checkout", "payments", "ledger"]
ROOT = Reader(agent_id="ag-root")


async def grants(store: GraphStore, pairs: list[tuple[str, str]], cleared: list[str]) -> None:
    """Domains d0..d2, a `secret` label, teams t0..t2 with the given CAN_READ pairs and
    clearances, and root (reads and is cleared for everything); one agent per team
    (ag-<team>) and one human principal per team (h-<team>)."""
    await store.execute_text(
        "UNWIND $d AS d CREATE (:Domain {id: d}) WITH count(*) AS _ "
        "UNWIND $t AS t CREATE (:Team {id: t}) WITH count(*) AS _ "
        "CREATE (:Label {name: 'secret'})",
        d=DOMAINS,
        t=[*TEAMS, "root"],
    )
    await store.execute_text(
        "UNWIND $g AS g MATCH (t:Team {id: g[0]}), (d:Domain {id: g[1]}) "
        "MERGE (t)-[:CAN_READ]->(d)",
        g=[list(x) for x in pairs] + [["root", d] for d in DOMAINS],
    )
    await store.execute_text(
        "UNWIND $c AS c MATCH (t:Team {id: c}), (l:Label {name: 'secret'}) "
        "MERGE (t)-[:CLEARED_FOR]->(l)",
        c=[*cleared, "root"],
    )
    await store.execute_text(
        "UNWIND $a AS a MATCH (t:Team {id: a}) "
        "CREATE (:Agent {id: 'ag-' + a, status: 'online', capabilities: ['x'], "
        "maxConcurrency: 5, active: 0})-[:MEMBER_OF]->(t) "
        "CREATE (:Principal {id: 'h-' + a, kind: 'human', roles: ['operator'], revoked: false})"
        "-[:MEMBER_OF]->(t)",
        a=[*TEAMS, "root"],
    )
    await teams.refresh_readers(store)  # written around the statements that keep the lists


async def fact(
    store: GraphStore,
    entity: str,
    key: str,
    value: Any,
    *,
    now: int = 1_000,
    secret: bool = False,
    valid_to: int | None = None,
) -> str:
    got = await context.assert_fact(
        store,
        FactIn(
            agent_id="ag-root",
            entity_id=entity,
            key=key,
            value=value,
            confidence=0.5,
            sensitivity="secret" if secret else None,
            valid_to=valid_to,
        ),
        now=now,
    )
    return got.fact.id


async def embed_all(store: GraphStore, embedder: Embedder | None = None) -> int:
    embedder = embedder or Embedder()
    total = 0
    while n := await search.embed_pending(store, embedder, batch=50):
        total += n
    return total


def ids(hits: list[search.Hit]) -> set[str]:
    return {h.id for h in hits}


# -- the embedding job ------------------------------------------------------------------


async def test_the_job_embeds_in_batches_and_an_idle_run_writes_nothing(
    store: GraphStore,
) -> None:
    await grants(store, [], [])
    await context.upsert_entities(
        store,
        [
            EntityIn(
                id=f"svc-{i}",
                kind="service",
                name=f"service {i}",
                domain="d0",
                attrs={"description": "handles checkout", "tags": ["tier1"]},
            )
            for i in range(3)
        ],
        actor="admin",
        now=1_000,
    )
    for i in range(4):
        await fact(store, "svc-0", f"note_{i}", {"summary": f"checkout latency {i}"})
    assert await search.pending_count(store) == 7
    rows = await store.execute_text(
        "MATCH (f:Fact {key: 'note_0'}) MATCH (e:Entity {id: 'svc-1'}) RETURN f.text AS f, "
        "e.text AS e"
    )
    assert rows == [
        {
            "f": 'note 0: {"summary": "checkout latency 0"}',
            "e": "service 1 (service). handles checkout. Tags: tier1.",
        }
    ]
    embedder = Embedder()
    assert await search.embed_pending(store, embedder, batch=3) == 3
    assert await search.pending_count(store) == 4
    assert await search.embed_pending(store, embedder, batch=3) == 3
    assert await search.embed_pending(store, embedder, batch=3) == 1
    assert [len(c) for c in embedder.calls] == [3, 3, 1]
    writes: list[int] = []
    store.on_write.append(lambda: writes.append(1))
    assert await search.embed_pending(store, embedder, batch=3) == 0
    assert writes == [] and len(embedder.calls) == 3  # idle: one read, no write, no model
    store.on_write.clear()
    # An unchanged upsert keeps the vector; a changed text is flagged again.
    await context.upsert_entities(
        store,
        [
            EntityIn(
                id="svc-0",
                kind="service",
                name="service 0",
                domain="d0",
                attrs={"description": "handles checkout", "tags": ["tier1"]},
            ),
            EntityIn(id="svc-1", kind="service", name="service one", domain="d0"),
        ],
        actor="admin",
        now=2_000,
    )
    assert await search.pending_count(store) == 1
    # A superseded fact leaves the backlog with its successor's arrival.
    await fact(store, "svc-0", "health", "degraded", now=3_000)
    await fact(store, "svc-0", "health", "ok", now=3_001)
    assert await search.pending_count(store) == 2


async def test_a_text_changed_while_embedding_keeps_its_flag(store: GraphStore) -> None:
    await grants(store, [], [])
    await context.upsert_entities(
        store,
        [EntityIn(id="svc", kind="service", name="old name", domain="d0")],
        actor="admin",
        now=1_000,
    )

    class Racing(Embedder):
        async def embed(self, texts: list[str]) -> list[list[float]]:  # type: ignore[override]
            await context.upsert_entities(
                store,
                [EntityIn(id="svc", kind="service", name="new name", domain="d0")],
                actor="admin",
                now=2_000,
            )
            return super().embed(texts)

    assert await search.embed_pending(store, Racing(), batch=10) == 0
    assert await search.pending_count(store) == 1
    assert await search.embed_pending(store, Embedder(), batch=10) == 1


# -- the signals ------------------------------------------------------------------------


async def small_org(store: GraphStore) -> dict[str, str]:
    """svc-web -> svc-checkout -> svc-payments -> svc-ledger (DEPENDS_ON), all in d0; t0
    reads d0; facts on each; everything embedded."""
    await grants(store, [("t0", "d0")], [])
    names = {
        "svc-web": "web frontend",
        "svc-checkout": "checkout service",
        "svc-payments": "payments gateway",
        "svc-ledger": "ledger database",
    }
    await context.upsert_entities(
        store,
        [EntityIn(id=i, kind="service", name=n, domain="d0") for i, n in names.items()],
        actor="admin",
        now=1_000,
    )
    await context.link_entities(
        store,
        [
            LinkIn.model_validate({"from": a, "to": b})
            for a, b in [
                ("svc-web", "svc-checkout"),
                ("svc-checkout", "svc-payments"),
                ("svc-payments", "svc-ledger"),
            ]
        ],
        actor="admin",
        now=1_000,
    )
    out = {
        "latency": await fact(store, "svc-checkout", "latency", "checkout latency p99 high"),
        "errors": await fact(store, "svc-payments", "error_rate", "payments errors spiking"),
        "disk": await fact(store, "svc-ledger", "disk", "ledger disk almost full"),
        "deploy": await fact(store, "svc-web", "deploy", "frontend deployed friday"),
    }
    await embed_all(store)
    return out


async def test_vector_signal_finds_the_nearest_with_its_cosine(store: GraphStore) -> None:
    f = await small_org(store)
    hits = await search.search(
        store,
        Reader(agent_id="ag-t0"),
        vector=hash_vector(search.fact_text("latency", "checkout latency p99 high")),
        text="",
        first=3,
        now=2_000,
    )
    top = hits[0]
    assert (top.type, top.id, top.key, top.entity_id, top.domain) == (
        "fact",
        f["latency"],
        "latency",
        "svc-checkout",
        "d0",
    )
    assert top.value == "checkout latency p99 high"
    assert top.signals.vector == pytest.approx(1.0, abs=1e-4) and top.signals.vector_rank == 1
    assert top.signals.text is None and top.signals.distance is None
    assert top.score == pytest.approx(1 / 61)
    assert len(hits) == 3
    assert all(-1.0 <= (h.signals.vector or 0) <= 1.0 for h in hits)
    ents = await search.search(
        store,
        Reader(agent_id="ag-t0"),
        vector=hash_vector("ledger database service"),
        text="",
        kinds=["service"],
        first=2,
        now=2_000,
    )
    assert ents[0].type == "entity" and ents[0].id == "svc-ledger"
    assert (ents[0].name, ents[0].kind, ents[0].domain) == ("ledger database", "service", "d0")
    assert {h.type for h in ents} == {"entity"}  # kinds: entity kinds, fact key prefixes
    only = await search.search(
        store, ROOT, vector=hash_vector("x"), text="", kinds=["error"], first=10, now=2_000
    )
    assert ids(only) == {f["errors"]}


async def test_text_signal_matches_words_and_the_graph_signal_walks_two_relations(
    store: GraphStore,
) -> None:
    f = await small_org(store)
    t0 = Reader(agent_id="ag-t0")
    hits = await search.search(store, t0, vector=None, text="Payments!", first=10, now=2_000)
    assert ids(hits) == {f["errors"], "svc-payments"}
    assert all(h.signals.text is not None and h.signals.text_rank for h in hits)
    near = await search.search(
        store, t0, vector=None, text="", near="svc-checkout", first=20, now=2_000
    )
    dist = {h.id: h.signals.distance for h in near}
    assert dist == {
        f["latency"]: 0,
        f["errors"]: 1,
        f["deploy"]: 1,
        f["disk"]: 2,
        "svc-web": 1,
        "svc-payments": 1,
        "svc-ledger": 2,
    }
    assert {h.signals.graph_rank for h in near if h.signals.distance == 1} == {2}
    # Fused: the checkout latency fact is first by text, vector and graph at once.
    fused = await search.search(
        store,
        t0,
        vector=hash_vector("checkout latency"),
        text="checkout latency",
        near="svc-checkout",
        first=3,
        now=2_000,
    )
    top = fused[0]
    assert top.id == f["latency"]
    assert top.signals.vector_rank == 1 and top.signals.text_rank == 1
    assert top.signals.graph_rank == 1 and top.score == pytest.approx(3 / 61)
    # Superseded and expired facts are not searched.
    await fact(store, "svc-checkout", "latency", "checkout latency fine now", now=3_000)
    await fact(store, "svc-web", "banner", "checkout banner", now=3_000, valid_to=3_500)
    await embed_all(store)
    later = await search.search(
        store,
        t0,
        vector=hash_vector("checkout latency"),
        text="checkout latency",
        first=10,
        now=4_000,
    )
    assert f["latency"] not in ids(later)
    assert not any(h.key == "banner" for h in later)
    assert any(h.key == "latency" for h in later)


async def test_unreadable_anchor_gives_no_graph_signal(store: GraphStore) -> None:
    await small_org(store)
    hits = await search.search(
        store,
        Reader(agent_id="ag-t1"),
        vector=None,
        text="",
        near="svc-checkout",
        first=10,
        now=2_000,
    )
    assert hits == []
    assert await search.search(store, ROOT, vector=None, text="", near="nope", first=5) == []
    with pytest.raises(BadInput):
        await search.search(store, ROOT, vector=[1.0, 0.0], text="", first=5)
    with pytest.raises(BadInput):
        await search.search(store, ROOT, vector=None, text="x", first=0)


ATTACKS = [
    '"checkout',
    'checkout"',
    "'checkout'",
    "*",
    "check*",
    "checkout*",
    "checkout | *",
    "checkout|payments",
    "-checkout",
    "checkout -payments",
    "@text:checkout",
    "@text:(checkout)",
    "@key:{x}",
    "(checkout",
    "checkout)",
    ")(",
    "text:checkout",
    "checkout AND payments",
    "checkout OR *",
    "NOT checkout",
    "checkout~2",
    "checkout^10",
    "[a TO z]",
    "{a TO z}",
    "/chec.*/",
    "\\",
    "\\\\*",
    "%checkout%",
    "$checkout",
    "checkout && payments",
    "!checkout",
    "",
    "   ",
    "~",
    "?",
    "checkout:*",
    "x" * 5000,
    "checkout " * 500,
    "ledger " + "(" * 300 + "checkout" + ")" * 300,
    "\x00checkout",
    "checkout\n|payments",
    "ünïcödé checkout",
]


async def test_full_text_injection_neither_errors_nor_widens(store: GraphStore) -> None:
    await small_org(store)
    texts = {
        r["id"]: r["text"]
        for r in await store.execute_text(
            "MATCH (n) WHERE n:Fact OR n:Entity RETURN n.id AS id, n.text AS text"
        )
    }
    t0 = Reader(agent_id="ag-t0")
    for attack in ATTACKS:
        hits = await search.search(store, t0, vector=None, text=attack, first=50, now=2_000)
        terms = search_text.query_terms(attack)
        assert all(t.isalnum() for t in terms), attack
        # Only nodes holding one of the words typed (stemmed alike: all words here are plain).
        allowed = {i for i, t in texts.items() if set(terms) & set(t.lower().split())}
        assert ids(hits) <= allowed, (attack, ids(hits) - allowed)
    assert await search.search(store, t0, vector=None, text="*", first=50) == []
    assert (
        search_text.text_query(search_text.query_terms("a|b (c) -d @e:{f}"), {}, "falkordb")
        == "a|b|c|d|e|f"
    )
    assert (
        search_text.text_query(search_text.query_terms("A AND b OR NOT c*"), {}, "neo4j")
        == "a and b or not c"
    )
    assert search_text.text_query(search_text.query_terms(""), {}, "neo4j") is None


async def test_the_job_counts_words_and_a_common_query_asks_for_rare_pairs(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """search/store_vectors keeps how many texts hold each word; once a query's words match
    more than TEXT_BUDGET texts, only texts with two of its rarest words are candidates (the
    engine's work is bounded), and the one holding the rare words still comes first."""
    await grants(store, [("t0", "d0")], [])
    await context.upsert_entities(
        store, [EntityIn(id="svc", kind="service", name="svc", domain="d0")], actor="a", now=1
    )
    common = [await fact(store, "svc", f"note_{i}", f"checkout latency high {i}") for i in range(6)]
    rare = await fact(store, "svc", "quirk", "checkout quokka zebra stall")
    await embed_all(store)
    rows = await store.execute_text(
        "MATCH (t:Term) WHERE t.word IN $w RETURN t.word AS word, t.docs AS docs",
        w=["checkout", "latency", "quokka", "note", "svc"],
    )
    counts = {r["word"]: r["docs"] for r in rows}
    assert counts["checkout"] == 7 and counts["latency"] == 6 and counts["quokka"] == 1
    assert counts["note"] == 6  # the key is part of a fact's text; entities count too
    await embed_all(store)  # nothing left to embed: nothing counted twice
    again = await store.execute_text("MATCH (t:Term {word: 'checkout'}) RETURN t.docs AS d")
    assert again == [{"d": 7}]
    t0 = Reader(agent_id="ag-t0")
    text = "checkout quokka zebra stall"  # the common facts hold one of the words
    terms, query = await search.words_query(store, text)
    assert terms == ["checkout", "quokka", "zebra", "stall"]
    assert query == search_text.text_query(
        search_text.query_terms(text), {}, store.backend
    )  # 10 <= TEXT_BUDGET
    wide = await search.search(store, t0, vector=None, text=text, first=10, now=2_000)
    assert ids(wide) == {rare, *common} and wide[0].id == rare
    monkeypatch.setattr(search_text, "TEXT_BUDGET", 5)
    _, narrow_query = await search.words_query(store, text)
    assert narrow_query is not None and narrow_query != query
    narrow = await search.search(store, t0, vector=None, text=text, first=10, now=2_000)
    assert [h.id for h in narrow] == [rare]


# -- over-fetch -------------------------------------------------------------------------


async def test_overfetch_finds_readable_hits_behind_forty_unreadable(store: GraphStore) -> None:
    """The 40 facts nearest the query are in d1 (t0 cannot read them); 10 readable ones in d0
    lie further away. first=5 asks the index for 20, then 40, then 80 neighbours."""
    await grants(store, [("t0", "d0")], [])
    await context.upsert_entities(
        store,
        [
            EntityIn(id="hidden", kind="service", name="hidden", domain="d1"),
            EntityIn(id="open", kind="service", name="open", domain="d0"),
        ],
        actor="admin",
        now=1_000,
    )
    rng = random.Random(7)
    query = around([0.0] * DEFAULT_EMBEDDING_DIM, 1.0, random.Random(999))
    vectors: dict[str, list[float]] = {}
    for i in range(40):  # cosine to the query about 0.96
        vectors[search.fact_text(f"n{i}", f"near {i}")] = around(query, 0.3, rng)
        await fact(store, "hidden", f"n{i}", f"near {i}")
    for i in range(10):  # about 0.55
        vectors[search.fact_text(f"f{i}", f"far {i}")] = around(query, 1.5, rng)
        await fact(store, "open", f"f{i}", f"far {i}")
    await embed_all(store, Embedder(lambda t: vectors.get(t) or around(query, 20.0, rng)))
    reads: list[int] = []
    real = store.read

    async def counted(name: str, /, **params: Any) -> Any:
        if name == search.VECTOR_FOR:
            reads.append(params["k"])
        return await real(name, **params)

    store.read = counted  # type: ignore[method-assign]
    try:
        hits = await search.search(
            store, Reader(agent_id="ag-t0"), vector=query, text="", first=5, now=2_000
        )
    finally:
        del store.read

    def cos(v: list[float]) -> float:
        return sum(a * b for a, b in zip(query, v, strict=True))

    def far(key: str) -> list[float]:
        return vectors[search.fact_text(key, f"far {key[1:]}")]

    best = sorted((f"f{i}" for i in range(10)), key=lambda k: -cos(far(k)))
    assert [h.key for h in hits] == best[:5]
    assert [h.signals.vector_rank for h in hits] == [1, 2, 3, 4, 5]
    assert all(h.signals.vector == pytest.approx(cos(far(str(h.key))), abs=1e-4) for h in hits)
    assert reads == [20, 40, 80]
    everyone = await search.search(store, ROOT, vector=query, text="", first=5)
    assert {h.key for h in everyone} <= {f"n{i}" for i in range(40)}


# -- grants: a property test ------------------------------------------------------------

Layout = st.fixed_dictionaries(
    {
        "grants": st.lists(st.tuples(st.sampled_from(TEAMS), st.sampled_from(DOMAINS)), max_size=9),
        "cleared": st.lists(st.sampled_from(TEAMS), max_size=3),
        # (domain, word) per entity
        "entities": st.lists(
            st.tuples(st.sampled_from(DOMAINS), st.sampled_from(WORDS)), min_size=1, max_size=5
        ),
        "links": st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=6),
        # (entity index, key index, word, secret, expired)
        "facts": st.lists(
            st.tuples(
                st.integers(0, 4),
                st.integers(0, 2),
                st.sampled_from(WORDS),
                st.booleans(),
                st.booleans(),
            ),
            max_size=8,
        ),
    }
)


def hops(n: int, links: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    nbrs: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in links:
        if a % n != b % n:
            nbrs[a % n].add(b % n)
            nbrs[b % n].add(a % n)
    out: dict[tuple[int, int], int] = {}
    for s in nbrs:
        frontier, seen, d = {s}, {s}, 0
        while frontier:
            for x in frontier:
                out[(s, x)] = d
            frontier = {y for x in frontier for y in nbrs[x]} - seen
            seen |= frontier
            d += 1
    return out


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lay=Layout)
async def test_search_never_returns_what_the_reader_cannot_read(
    store: GraphStore, lay: dict[str, Any]
) -> None:
    await store.execute_text("MATCH (n) WHERE NOT n:Counter DETACH DELETE n")
    await grants(store, lay["grants"], lay["cleared"])
    n = len(lay["entities"])
    await context.upsert_entities(
        store,
        [
            EntityIn(
                id=f"e{i}", kind="incident" if i % 2 else "service", name=f"{w} e{i}", domain=d
            )
            for i, (d, w) in enumerate(lay["entities"])
        ],
        actor="admin",
        now=1_000,
    )
    links = [(a % n, b % n) for a, b in lay["links"] if a % n != b % n]
    if links:
        await context.link_entities(
            store,
            [LinkIn.model_validate({"from": f"e{a}", "to": f"e{b}"}) for a, b in links],
            actor="admin",
            now=1_000,
        )
    dist = hops(n, links)
    # item id -> (domain, secret, entity index, word, kind or key); only what is current
    items: dict[str, tuple[str, bool, int, str, str]] = {
        f"e{i}": (d, False, i, w, "incident" if i % 2 else "service")
        for i, (d, w) in enumerate(lay["entities"])
    }
    current: dict[tuple[int, int], str] = {}
    for k, (e, key, word, secret, expired) in enumerate(lay["facts"]):
        fid = await fact(
            store,
            f"e{e % n}",
            f"k{key}",
            f"{word} x{k}",
            now=1_000 + k,
            secret=secret,
            valid_to=1_500 if expired else None,
        )
        old = current.pop((e % n, key), None)
        items.pop(old or "", None)
        current[(e % n, key)] = fid
        if not expired:
            items[fid] = (lay["entities"][e % n][0], secret, e % n, word, f"k{key}")
    await embed_all(store)
    readers: dict[str, tuple[Reader, str | None]] = {"auditor": (Reader(everything=True), None)}
    for t in TEAMS:
        readers[f"agent-{t}"] = (Reader(agent_id=f"ag-{t}"), t)
        readers[f"human-{t}"] = (Reader(principal_id=f"h-{t}", caller=f"h-{t}"), t)
    readers["nobody"] = (Reader(principal_id="nobody"), "")
    ents = {f"e{i}" for i in range(n)}

    def may(team: str | None, item: str) -> bool:
        if team is None:
            return True
        domain, secret, *_ = items[item]
        return (team, domain) in set(lay["grants"]) and (not secret or team in lay["cleared"])

    for name, (reader, team) in readers.items():
        visible = {i for i in items if may(team, i)}
        word = WORDS[hash(name) % len(WORDS)]
        got = await search.search(
            store, reader, vector=hash_vector(word), text="", first=50, now=2_000
        )
        assert ids(got) <= visible, (name, ids(got) - visible)
        # Everything readable holding the word is among the nearest (cosine > 0).
        assert {i for i in visible if items[i][3] == word} <= ids(got), name
        got = await search.search(store, reader, vector=None, text=word, first=50, now=2_000)
        assert ids(got) == {i for i in visible if items[i][3] == word}, name
        got = await search.search(
            store,
            reader,
            vector=None,
            text="",
            kinds=["incident", "k1"],
            near=None,
            first=50,
            now=2_000,
        )
        assert got == []
        got = await search.search(
            store,
            reader,
            vector=hash_vector(word),
            text=word,
            kinds=["incident", "k1"],
            first=50,
            now=2_000,
        )
        assert ids(got) <= {i for i in visible if items[i][4] in ("incident", "k1")}, name
        for a in range(n):
            got = await search.search(
                store, reader, vector=None, text="", near=f"e{a}", first=50, now=2_000
            )
            if f"e{a}" not in visible:
                assert got == [], (name, a)
                continue
            want = {
                i
                for i in visible
                if (i in ents and 1 <= dist.get((a, items[i][2]), 9) <= 2)
                or (i not in ents and dist.get((a, items[i][2]), 9) <= 2)
            }
            assert ids(got) == want, (name, a)
            assert all(h.signals.distance == dist[(a, items[h.id][2])] for h in got)
