"""Context search (issue 23): index recall, latency with grants, embedding speed, quality.

1. **Recall@10 of the vector index against exact cosine**, at 10,000 and 100,000 facts.
   Facts get realistic text: a key (symptom, root cause, mitigation, ...) and a value built
   from the sentences of seeds/incidents.yaml, the org's entity names and varied figures
   (every text distinct), about the org's entities (seeds/org.yaml plus generated components,
   over its six domains). They are written in bulk with the node `context/assert_fact`
   creates (flagged needsEmbedding), then embedded by the app's own job,
   `search.embed_pending` (search/pending, the local model, search/store_vectors) with a
   large batch per statement. The index is queried through search's own statement
   (`search/vector_for`, an all-reading reader, k = 10; and k = 40, what `search()` asks
   first for 10 hits); exact top 10 is brute-force cosine over the same float32 vectors in
   numpy. Queries: held-out texts from the same generator, never stored. Recall counts an
   index hit as right when it is one of the exact top 10, or ties with the 10th (equal
   cosine). Beside it: how many stored facts find themselves (their own vector, k = 10), the
   check for FalkorDB 4.16's HNSW losing nodes.
2. **Search latency at 100,000 facts, grants applied**: `app.core.search.search()` in-process
   as the seed org's payments agent (team payments-eng: reads the payments and platform
   domains, ~1/3 of the facts), query text embedded then searched (vector + full-text; and
   with `near`), p50/p99. `--graphql` times the GraphQL `searchContext` query on a real
   `baton serve` instead (once the API has it: the schema is checked first).
3. **Embedding throughput** of the local model: texts/s in batches of 64 (fact-like texts and
   incident write-ups), the model's load time and the process's RSS.
4. **Retrieval quality** on seeds/incidents.yaml through the real search path: the incidents
   are entities of kind 'incident' (`context.upsert_entities`, text by `entity_text`, each
   RELATES_TO its service), embedded by the job; each incident that has related ones is
   queried with its own title + description (kinds=['incident'], first=200, itself
   excluded) as vector only, full-text only, hybrid (both, fused) and hybrid + near (graph
   proximity to its own entity). MRR and hit@5 with bench/search_eval.py's `evaluate`,
   beside its brute-force cosine and BM25 baselines.

Targets: recall@10 >= 0.95, search p99 < 50 ms, hybrid MRR above both single signals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from _common import BACKENDS, backend_label, console, gql, graph_target, report, summary_ms
from search_eval import Incident, bm25_ranker, evaluate, load_incidents, throughput, vector_ranker

from app.config import Settings
from app.core import context, search, search_text, seed
from app.core.context import EVERYONE, Reader
from app.embeddings import make_embedder
from app.graph.store import GraphLimitExceeded
from app.models import EntityIn, LinkIn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = 1_700_000_000_000
RECALL_TARGET = 0.95
P99_TARGET_MS = 50.0
READER = "agent-payments"  # seeds/org.yaml: team payments-eng, reads payments + platform
WRITER = "agent-triage"  # asserts the bench facts (team sre)
TOKEN = "bt_search_bench_admin_token_0123456789"
JOB_BATCH = 2_000  # texts per embed_pending call (the model still works in chunks of 64)
KEYS = [
    "symptom",
    "root_cause",
    "mitigation",
    "observation",
    "impact",
    "status_note",
    "alert.summary",
    "runbook.step",
    "finding",
    "timeline.entry",
    "customer_report",
    "deploy.note",
    "postmortem.action",
    "hypothesis",
]
FACT = """UNWIND $rows AS r
MATCH (e:Entity {id: r.e})-[:IN_DOMAIN]->(d:Domain)
MATCH (a:Agent {id: $agent})
CREATE (f:Fact {id: r.id, key: r.k, value: r.v, confidence: r.c, observedAt: r.t,
                current: true, agentId: a.id, entityId: e.id, domain: d.id,
                text: r.text, needsEmbedding: true})
CREATE (f)-[:ABOUT]->(e)
CREATE (f)-[:ASSERTED_BY]->(a)"""


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident set size now (Linux), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return float("nan")


class Timed:
    """An embedder that counts the texts it embedded and the seconds it took."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.texts, self.seconds = inner, 0, 0.0

    def embed(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        out: list[list[float]] = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out


# -- realistic fact texts ---------------------------------------------------------------


class Texts:
    """Fact keys and values from the incident write-ups' sentences, the org's entity names
    and figures; every text it hands out is new (held-out queries are never stored)."""

    def __init__(self, incidents: list[Incident], names: list[str]) -> None:
        self.sentences = [
            s.strip()
            for i in incidents
            for s in re.split(r"(?<=[.!?])\s+", f"{i.title}. {i.description}")
            if len(s.split()) >= 4
        ]
        self.names = names
        self.used: set[str] = set()

    def figure(self, rng: random.Random) -> str:
        return rng.choice(
            [
                f"p99 {rng.randrange(80, 9_000)} ms",
                f"error rate {rng.uniform(0.1, 40):.1f}%",
                f"{rng.randrange(2, 300)} pods restarted",
                f"at {rng.randrange(24):02d}:{rng.randrange(60):02d} UTC",
                f"ticket OPS-{rng.randrange(1_000, 99_999)}",
                f"version {rng.randrange(1, 9)}.{rng.randrange(30)}.{rng.randrange(20)}",
                f"{rng.randrange(1, 500)} customers affected",
                f"queue depth {rng.randrange(100, 2_000_000):,}",
            ]
        )

    def value(self, rng: random.Random) -> str:
        s = rng.choice(self.sentences)
        shape = rng.randrange(5)
        if shape == 0:
            return f"{s} ({self.figure(rng)})"
        if shape == 1:
            return f"{rng.choice(self.names)}: {s} {self.figure(rng).capitalize()}."
        if shape == 2:
            return f"{s} {rng.choice(self.sentences)}"
        if shape == 3:
            return f"Seen on {rng.choice(self.names)}, {self.figure(rng)}. {s}"
        return f"{s} {rng.choice(self.sentences)} {self.figure(rng).capitalize()}."

    def fact(self, rng: random.Random) -> tuple[str, str, str]:
        """(key, value, text), the text new."""
        while True:
            key, value = rng.choice(KEYS), self.value(rng)
            text = search.fact_text(key, value)
            if text not in self.used:
                self.used.add(text)
                return key, value, text


async def org(store: Any, n_components: int = 300) -> list[tuple[str, str]]:
    """The seed org (domains, teams, entities, agents) plus generated components spread over
    its domains; returns (entity id, name) of every entity."""
    await seed.load(store, ROOT / "seeds", now=NOW)
    rows = await store.execute_text("MATCH (d:Domain) RETURN d.id AS id ORDER BY id")
    domains = [r["id"] for r in rows]
    rng = random.Random(7)
    parts = ["cache", "worker", "api", "queue", "db", "cron", "gateway", "index", "proxy"]
    comps = [
        EntityIn(
            id=f"cmp-{i}",
            kind="component",
            domain=domains[i % len(domains)],
            name=f"{rng.choice(parts)}-{i}",
            attrs={"description": f"{rng.choice(parts)} component {i}"},
        )
        for i in range(n_components)
    ]
    await context.upsert_entities(store, comps, actor="bench", now=NOW)
    rows = await store.execute_text("MATCH (e:Entity) RETURN e.id AS id, e.name AS name")
    return [(r["id"], r["name"]) for r in rows]


async def add_facts(
    store: Any, texts: Texts, ents: list[str], start: int, end: int, rng: random.Random
) -> None:
    for s in range(start, end, 10_000):
        rows = []
        for i in range(s, min(end, s + 10_000)):
            key, value, text = texts.fact(rng)
            rows.append(
                {
                    "id": f"f{i}",
                    "e": rng.choice(ents),
                    "k": key,
                    "v": json.dumps(value),
                    "c": round(rng.random(), 3),
                    "t": NOW - rng.randrange(10**9),
                    "text": text,
                }
            )
        await store.execute_text(FACT, rows=rows, agent=WRITER)


async def embed_job(store: Any, embedder: Timed) -> tuple[int, float]:
    """Run the embedding job until nothing is pending; (vectors written, seconds)."""
    t0, total = time.perf_counter(), 0
    while n := await search.embed_pending(store, embedder, batch=JOB_BATCH):
        total += n
    return total, time.perf_counter() - t0


async def fact_matrix(store: Any, n: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The stored fact vectors, row i = fact f<i> (read back: the exact side of the recall
    uses what the index holds, float32)."""
    mat = np.zeros((n, 0), dtype=np.float32)
    for s in range(0, n, 5_000):
        rows = await store.execute_text(
            "UNWIND range($s, $e - 1) AS i MATCH (f:Fact {id: 'f' + toString(i)}) "
            "RETURN i, f.embedding AS v ORDER BY i",
            s=s,
            e=min(n, s + 5_000),
        )
        block = np.asarray([r["v"] for r in rows], dtype=np.float32)
        if mat.shape[1] == 0:
            mat = np.zeros((n, block.shape[1]), dtype=np.float32)
        mat[[int(r["i"]) for r in rows]] = block
    return mat


async def index_top(store: Any, vec: list[float], k: int) -> tuple[list[str], int]:
    """The fact ids search/vector_for answers for ``vec`` (all-reading reader), best first,
    and how many the index returned."""
    rows = await store.read(
        search.VECTOR_FOR, vector=vec, k=k, now=NOW, kinds=None, **EVERYONE.params()
    )
    fact = [r for r in rows if r["label"] == "fact"]
    hits = sorted(
        (h for r in fact for h in r["hits"] or [] if h), key=lambda h: -float(h["similarity"])
    )
    return [h["id"] for h in hits], sum(int(r["seen"]) for r in fact)


async def recall(
    store: Any, mat: np.ndarray[Any, Any], queries: list[list[float]], k: int
) -> dict[str, Any]:
    """Recall@10 of the index (asked for ``k``) against exact cosine over ``mat``."""
    strict, tied, short = [], [], 0
    for q in queries:
        got, _ = await index_top(store, q, k)
        got = got[:10]
        scores = mat @ np.asarray(q, dtype=np.float32)
        exact = np.argpartition(-scores, 10)[:10]
        tenth = float(scores[exact].min())
        rows = [int(i[1:]) for i in got]
        strict.append(len(set(rows) & {int(x) for x in exact}) / 10)
        tied.append(sum(scores[r] >= tenth - 1e-5 for r in rows) / 10)
        short += len(got) < 10
    return {
        "recall_at_10": round(float(np.mean(tied)), 4),
        "recall_at_10_strict": round(float(np.mean(strict)), 4),
        "queries_under_10": short,
    }


async def self_find(
    store: Any, mat: np.ndarray[Any, Any], sample: int, rng: random.Random
) -> dict[str, Any]:
    """How many stored facts the index finds with their own vector (k = 10: first, and at
    all)."""
    picks = rng.sample(range(len(mat)), min(sample, len(mat)))
    first = found = 0
    for i in picks:
        got, _ = await index_top(store, mat[i].tolist(), 10)
        first += bool(got) and got[0] == f"f{i}"
        found += f"f{i}" in got
    return {
        "self_sample": len(picks),
        "self_found": round(found / len(picks), 4),
        "self_first": round(first / len(picks), 4),
    }


# -- latency ----------------------------------------------------------------------------


SERIES = {  # name: (vector?, text?, near?)
    "hybrid": (True, True, False),  # what searchContext does with a text
    "vector": (True, False, False),
    "text": (False, True, False),
    "near": (True, True, True),
}
ALLOWED = {"payments", "platform"}  # the reader's domains
Latencies = tuple[dict[str, list[float]], int]  # per series, seconds; unreadable hits
ERRORS: dict[str, int] = {}  # per series: searches that failed (COST_LIMIT)
FAILED: dict[str, list[float]] = {}  # per series: seconds until the failure


class Clock:
    """Samples for one series, stopping at ``n`` or once ``budget_s`` is spent (at least
    ``floor`` samples): at 100,000 facts a search can take seconds."""

    def __init__(self, n: int, budget_s: float, floor: int = 20) -> None:
        self.n, self.budget_s, self.floor = n, budget_s, floor
        self.samples: list[float] = []
        self.tries = 0  # samples and failures
        self.t0 = time.perf_counter()

    def more(self) -> bool:
        spent = time.perf_counter() - self.t0
        return self.tries < self.n and (self.tries < self.floor or spent < self.budget_s)


async def latency_inprocess(
    store: Any, embedder: Any, queries: list[str], near: list[str], warm: int, budget_s: float
) -> Latencies:
    """Seconds per search, per series (SERIES: the signals used): embed the query text
    (when the vector signal is on), then search() as the payments agent; and how many hits
    came back from a domain the reader may not read."""
    reader = Reader(agent_id=READER)
    out: dict[str, list[float]] = {}
    leaks = 0
    for series, (use_vec, use_text, use_near) in SERIES.items():
        clock = Clock(len(queries), budget_s if series == "hybrid" else budget_s / 3)
        for n, text in enumerate(queries[:warm] + queries):
            if n >= warm and not clock.more():
                break
            t0 = time.perf_counter()
            vec = embedder.embed([text])[0] if use_vec else None
            try:
                hits = await search.search(
                    store,
                    reader,
                    vector=vec,
                    text=text if use_text else "",
                    near=near[n % len(near)] if use_near else None,
                    first=10,
                    now=NOW,
                )
            except GraphLimitExceeded:  # a statement over the server's memory cap: COST_LIMIT
                if n >= warm:
                    ERRORS[series] = ERRORS.get(series, 0) + 1
                    FAILED.setdefault(series, []).append(time.perf_counter() - t0)
                    clock.tries += 1
                continue
            if n >= warm:
                clock.samples.append(time.perf_counter() - t0)
                clock.tries += 1
            leaks += sum(h.domain not in ALLOWED for h in hits)
        out[series] = clock.samples
    return out, leaks


async def fulltext_cost(store: Any, queries: list[str]) -> dict[str, float]:
    """Why the text signal costs what it does: facts its query matches (the raw index
    procedure, counted), the procedure's time, and search/fulltext_for's (grants on the pool of
    match, then the top k)."""
    raw = (
        "CALL db.idx.fulltext.queryNodes('Fact', $query) YIELD node RETURN count(node) AS n"
        if store.backend == "falkordb"
        else "CALL db.index.fulltext.queryNodes('fact_text', "
        "$query) YIELD node RETURN count(node) AS n"
    )
    params = {
        **Reader(agent_id=READER).params(),
        "now": NOW,
        "kinds": None,
        "k": 40,
        "pool": search.TEXT_CANDIDATES,
    }
    matches, raw_s, stmt_s, failed = [], [], [], 0
    for text in queries:
        _, query = await search.words_query(store, text)
        t0 = time.perf_counter()
        rows = await store.execute_text(raw, query=query)
        t1 = time.perf_counter()
        try:
            await store.read(search.FULLTEXT_FOR, query=query, **params)
        except GraphLimitExceeded:
            failed += 1
        stmt_s.append(time.perf_counter() - t1)
        raw_s.append(t1 - t0)
        matches.append(int(rows[0]["n"]))
    return {
        "fulltext_matches_mean": round(float(np.mean(matches))),
        "fulltext_raw_ms_mean": round(float(np.mean(raw_s)) * 1000, 1),
        "fulltext_for_ms_mean": round(float(np.mean(stmt_s)) * 1000, 1),
        "fulltext_for_failed": failed,
        "fulltext_for_tried": len(queries),
    }


async def text_recall(store: Any, queries: list[str]) -> float:
    """How close the full-text signal comes to BM25 itself: of the exact BM25 top 10 over
    every fact the reader may read (document counts over all facts, as the index has them),
    the share that `search()` with words alone returns in its top 10 facts."""
    rows = await store.execute_text(
        "MATCH (f:Fact) RETURN f.id AS id, f.text AS text, f.domain AS domain"
    )
    docs = [Counter(search_text.tokens(str(r["text"]))) for r in rows]
    got = []
    for text in queries:
        scores = search_text.bm25_scores(search_text.query_terms(text), docs)
        readable = [
            (-s, r["id"]) for r, s in zip(rows, scores, strict=True) if s and r["domain"] in ALLOWED
        ]
        exact = {fid for _, fid in sorted(readable)[:10]}
        hits = await search.search(
            store, Reader(agent_id=READER), vector=None, text=text, first=40, now=NOW
        )
        top = [h.id for h in hits if h.type == "fact"][:10]
        got.append(len(exact & set(top)) / max(len(exact), 1))
    return round(float(np.mean(got)), 3)


def has_search_context() -> bool:
    return "searchContext" in (ROOT / "schema.graphql").read_text()


async def latency_graphql(
    target: Any, graph: str, queries: list[str], near: list[str], warm: int, budget_s: float
) -> Latencies:
    """As latency_inprocess, through `searchContext` on a real `baton serve` (the server
    embeds the text), as the payments agent's principal; the arguments and the leaf fields
    selected are read from the schema."""
    import httpx
    from _common import serve_app

    proc, url = await asyncio.to_thread(serve_app, target, graph, TOKEN, BATON_SCHEDULER="false")
    out: dict[str, list[float]] = {}
    leaks = 0
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            made = await gql(
                http,
                url,
                TOKEN,
                "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                i={
                    "id": "p-bench-reader",
                    "kind": "agent",
                    "name": READER,
                    "roles": ["AGENT"],
                    "agentId": READER,
                    "team": "payments-eng",
                },
            )
            token = made["createPrincipal"]["token"]
            field = (
                await gql(
                    http,
                    url,
                    TOKEN,
                    '{ __type(name: "Query") { fields { name '
                    "args { name } type { ...T ofType { ...T ofType { ...T "
                    "ofType { ...T } } } } } } } fragment T on __Type { name kind }",
                )
            )["__type"]["fields"]
            sc = next(f for f in field if f["name"] == "searchContext")
            args = {a["name"] for a in sc["args"]}
            t = sc["type"]
            while t.get("ofType"):
                t = t["ofType"]
            hit = await gql(
                http,
                url,
                TOKEN,
                "query($n: String!) { __type(name: $n) { "
                "fields { name type { kind ofType { kind } } } } }",
                n=t["name"],
            )
            leaf = [
                f["name"]
                for f in hit["__type"]["fields"]
                if "SCALAR" in (f["type"]["kind"], (f["type"]["ofType"] or {}).get("kind"))
            ]
            agent = "agentId" in args  # the reader is the caller unless the API takes one
            query = (
                f"query($t: String!, $near: String{', $a: String' if agent else ''}) {{ "
                f"searchContext(text: $t, near: $near, first: 10"
                f"{', agentId: $a' if agent else ''}) {{ {' '.join(leaf)} }} }}"
            )
            for series in ("hybrid", "near"):  # the API embeds any text: no vector-only
                clock = Clock(len(queries), budget_s if series == "hybrid" else budget_s / 3)
                for n, text in enumerate(queries[:warm] + queries):
                    if n >= warm and not clock.more():
                        break
                    t0 = time.perf_counter()
                    got = await gql(
                        http,
                        url,
                        token,
                        query,
                        t=text,
                        **({"a": READER} if agent else {}),
                        near=near[n % len(near)] if series == "near" else None,
                    )
                    if n >= warm:
                        clock.samples.append(time.perf_counter() - t0)
                        clock.tries += 1
                    leaks += sum(
                        h.get("domain") not in {*ALLOWED, None} for h in got["searchContext"]
                    )
                out[series] = clock.samples
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return out, leaks


# -- quality ----------------------------------------------------------------------------


async def quality(target: Any, embedder: Any, incidents: list[Incident]) -> dict[str, Any]:
    """MRR / hit@5 of the graph's search on the incident history (see the module doc)."""
    store = await target.open("search-incidents")
    try:
        await seed.load(store, ROOT / "seeds", now=NOW)
        rows = await store.execute_text(
            "MATCH (e:Entity)-[:IN_DOMAIN]->(d:Domain) RETURN e.id AS id, d.id AS d"
        )
        domain = {r["id"]: r["d"] for r in rows}
        await context.upsert_entities(
            store,
            [
                EntityIn(
                    id=i.id,
                    kind="incident",
                    name=i.title,
                    domain=domain[i.service],
                    attrs={
                        "description": i.description,
                        "service": i.service,
                        "severity": i.severity,
                        "date": i.date,
                    },
                )
                for i in incidents
            ],
            actor="bench",
            now=NOW,
        )
        await context.link_entities(
            store,
            [
                LinkIn.model_validate({"from": i.id, "to": i.service, "type": "RELATES_TO"})
                for i in incidents
            ],
            actor="bench",
            now=NOW,
        )
        await embed_job(store, Timed(embedder))
        reader = Reader(agent_id="agent-history")  # team sre: every incident's domain
        vecs = embedder.embed([i.text for i in incidents])
        ranked: dict[str, dict[str, list[str]]] = {
            m: {} for m in ("vector", "fulltext", "hybrid", "near")
        }
        for inc, vec in zip(incidents, vecs, strict=True):
            if not inc.related:
                continue
            for mode in ranked:
                hits = await search.search(
                    store,
                    reader,
                    vector=None if mode == "fulltext" else vec,
                    text="" if mode == "vector" else inc.text,
                    kinds=["incident"],
                    near=inc.id if mode == "near" else None,
                    first=search.MAX_FIRST,
                    now=NOW,
                )
                ranked[mode][inc.id] = [h.id for h in hits]
    finally:
        await store.close()
    out = {m: evaluate(incidents, lambda q, m=m: ranked[m][q.id]).as_dict() for m in ranked}  # type: ignore[misc]
    out["exact_cosine"] = evaluate(incidents, vector_ranker(incidents, embedder.embed)).as_dict()
    out["bm25"] = evaluate(incidents, bm25_ranker(incidents)).as_dict()
    return out


# -- the run ----------------------------------------------------------------------------


async def run(
    target: Any,
    quick: bool,
    use_graphql: bool,
    scales: list[int] | None = None,
    n_latency: int | None = None,
) -> dict[str, Any]:
    scales = scales or ([1_000, 2_000] if quick else [10_000, 100_000])
    n_queries = 20 if quick else 200
    warm = 5 if quick else 20
    budget_s = 20.0 if quick else 300.0  # per series: the hybrid one (a third for the others)
    n_latency = n_latency or (20 if quick else 500)
    incidents = load_incidents()
    rng = random.Random(23)

    # 3. the model: load, throughput, memory
    rss0 = rss_mb()
    t0 = time.perf_counter()
    model = make_embedder(Settings(embedder="local"))
    assert model is not None
    model.embed(["load the model"])
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    names = [e.name for e in seed.read_org(ROOT / "seeds" / "org.yaml").entities]
    texts = Texts(incidents, names)
    probe = Texts(incidents, names)
    short = [probe.fact(rng)[2] for _ in range(2_000)]
    total = 2_000 if quick else 20_000
    with console.status("embedding throughput"):
        fact_tps = throughput(model.embed, short, 64, total)
        inc_tps = throughput(model.embed, [i.text for i in incidents], 64, total)
    speed = {
        "fact_texts_per_s": round(fact_tps),
        "incident_texts_per_s": round(inc_tps),
        "batch": 64,
        "cpus": len(os.sched_getaffinity(0)),
        "load_s": round(load_s, 3),
        "rss_mb_before_load": rss0,
        "rss_mb_loaded": rss_loaded,
        "rss_mb_after": rss_mb(),
        "words_per_fact_text": round(float(np.mean([len(t.split()) for t in short])), 1),
        "words_per_incident_text": round(
            float(np.mean([len(i.text.split()) for i in incidents])), 1
        ),
    }
    console.print(
        f"embedding: {speed['fact_texts_per_s']:,} fact texts/s, "
        f"{speed['incident_texts_per_s']:,} incident write-ups/s"
    )

    # 4. quality on the incident history
    with console.status("retrieval quality on seeds/incidents.yaml"):
        qual = await quality(target, model, incidents)
    console.print("quality: " + ", ".join(f"{k} MRR {v['mrr']}" for k, v in qual.items()))

    # 1. recall at each scale (one graph, grown), then 2. latency at the largest
    store = await target.open("search-facts")
    growth: list[dict[str, Any]] = []
    lat: dict[str, list[float]] = {}
    leaks = 0
    try:
        ents = await org(store)
        ent_ids = [e for e, _ in ents]
        readable = await store.execute_text(
            "MATCH (e:Entity)-[:IN_DOMAIN]->(d:Domain) "
            "WHERE d.id IN ['payments', 'platform'] "
            "RETURN e.id AS id"
        )
        near = [r["id"] for r in readable]
        qtexts = [texts.fact(random.Random(99))[2] for _ in range(max(n_queries, n_latency))]
        qvecs = model.embed(qtexts[:n_queries])
        job = Timed(model)
        done = 0
        for n in scales:
            with console.status(f"{n:,} facts: writing"):
                t0 = time.perf_counter()
                await add_facts(store, texts, ent_ids, done, n, rng)
                write_s = time.perf_counter() - t0
            with console.status(f"{n:,} facts: embedding job"):
                before = (job.texts, job.seconds)
                written, job_s = await embed_job(store, job)
            with console.status(f"{n:,} facts: recall"):
                mat = await fact_matrix(store, n)
                r10 = await recall(store, mat, qvecs, 10)
                r40 = await recall(store, mat, qvecs, 4 * 10)
                selfs = await self_find(store, mat, 200 if quick else 2_000, rng)
            server = getattr(target.server, "info", None)
            row = {
                "facts": n,
                **r10,
                "recall_at_10_k40": r40["recall_at_10"],
                "recall_at_10_k40_strict": r40["recall_at_10_strict"],
                **selfs,
                "write_s": round(write_s, 1),
                "vectors_written": written,
                "job_s": round(job_s, 1),
                "job_embed_texts_per_s": round(
                    (job.texts - before[0]) / max(job.seconds - before[1], 1e-9)
                ),
                "job_vectors_per_s": round(written / max(job_s, 1e-9)),
                "rss_mb_bench": rss_mb(),
                "rss_mb_graph": rss_mb(server.pid) if server else None,
            }
            growth.append(row)
            console.print(
                f"{n:,} facts: recall@10 {row['recall_at_10']} (k=40: "
                f"{row['recall_at_10_k40']}), self-found {row['self_found']}"
            )
            done = n
        rows = await store.execute_text(
            "MATCH (f:Fact) RETURN count(f) AS n, "
            "sum(CASE WHEN f.domain IN ['payments', 'platform'] THEN 1 ELSE 0 END) AS r"
        )
        lat_q = qtexts[:n_latency]
        with console.status("full-text cost"):
            ft_cost = await fulltext_cost(store, lat_q[:10])
        with console.status("full-text recall against exact BM25"):
            ft_cost["fulltext_recall_vs_bm25"] = await text_recall(store, lat_q[:30])
        with console.status(f"search latency, {n_latency} queries"):
            if use_graphql:
                await store.close()
                lat, leaks = await latency_graphql(
                    target, "search-facts", lat_q, near, warm, budget_s
                )
            else:
                lat, leaks = await latency_inprocess(store, model, lat_q, near, warm, budget_s)
    finally:
        await store.close()
    top = growth[-1]
    # Any: a latency is None below when every search failed.
    hyb: dict[str, Any] = summary_ms(lat["hybrid"])
    nr: dict[str, Any] = summary_ms(lat["near"])
    for got, samples in ((hyb, lat["hybrid"]), (nr, lat["near"])):
        if not samples:  # every search failed: no latency to report
            got.update(p50_ms=None, p99_ms=None, mean_ms=None)
    q = dict(qual.items())
    best_single = max(q["vector"]["mrr"], q["fulltext"]["mrr"])
    m: dict[str, Any] = {
        "facts": top["facts"],
        "recall_at_10": top["recall_at_10"],
        "recall_at_10_by_scale": {g["facts"]: g["recall_at_10"] for g in growth},
        "recall_target": RECALL_TARGET,
        "recall_met": all(g["recall_at_10"] >= RECALL_TARGET for g in growth),
        "index_query": "search/vector_for, all-reading reader, k=10 (and k=40)",
        "search_via": "graphql searchContext" if use_graphql else "in-process search()",
        "search_p50_ms": hyb["p50_ms"],
        "search_p99_ms": hyb["p99_ms"],
        "search_mean_ms": hyb["mean_ms"],
        "search_near_p50_ms": nr["p50_ms"],
        "search_near_p99_ms": nr["p99_ms"],
        "search_samples": len(lat["hybrid"]),
        "search_series": {
            k: {
                **summary_ms(v),
                "samples": len(v),
                "errors": ERRORS.get(k, 0),
                "error_after_ms": summary_ms(FAILED.get(k, []))["p50_ms"],
            }
            for k, v in lat.items()
        },
        "search_errors": sum(ERRORS.values()),
        "search_p99_target_ms": P99_TARGET_MS,
        "search_p99_met": bool(lat["hybrid"])
        and hyb["p99_ms"] < P99_TARGET_MS
        and not ERRORS.get("hybrid"),
        **ft_cost,
        "readable_fact_share": round(int(rows[0]["r"]) / max(int(rows[0]["n"]), 1), 3),
        "unreadable_hits": leaks,
        "queries": n_queries,
        "growth": growth,
        "embedding": speed,
        "quality": qual,
        "hybrid_beats_both": q["hybrid"]["mrr"] > best_single,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "backend": backend_label(target),
    }
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    ap.add_argument(
        "--graphql",
        action="store_true",
        help="time searchContext over HTTP on `baton serve` (needs the API)",
    )
    ap.add_argument("--facts", help="fact counts to measure recall at, e.g. 10000,100000")
    ap.add_argument("--latency-queries", type=int, help="timed searches per series")
    args = ap.parse_args()
    if args.graphql and not has_search_context():
        raise SystemExit("--graphql: schema.graphql has no searchContext yet")
    with graph_target(args.backend) as target:
        m = asyncio.run(
            run(
                target,
                args.quick,
                args.graphql,
                [int(x) for x in args.facts.split(",")] if args.facts else None,
                args.latency_queries,
            )
        )
    qual = m["quality"]
    rows: list[tuple[str, Any]] = []
    for g in m["growth"]:
        rows.append(
            (
                f"{g['facts']:,} facts: recall@10 (target >= {RECALL_TARGET}); strict; k=40",
                f"{g['recall_at_10']} ; {g['recall_at_10_strict']} ; {g['recall_at_10_k40']}",
            )
        )
        rows.append(
            (
                f"{g['facts']:,} facts: found themselves (of {g['self_sample']:,}), "
                "first / in top 10",
                f"{g['self_first']} / {g['self_found']}",
            )
        )
        rows.append(
            (
                f"{g['facts']:,} facts: embedding job vectors/s (model texts/s)",
                f"{g['job_vectors_per_s']:,} ({g['job_embed_texts_per_s']:,})",
            )
        )
    rows += [
        (
            f"search p50 / p99 ms at {m['facts']:,} facts ({m['search_via']}, grants; "
            f"target p99 < {P99_TARGET_MS:g})",
            f"{m['search_p50_ms']} / {m['search_p99_ms']}",
        ),
        *(
            (
                f"  {k}: p50 / p99 ms ({v['samples']} searches, {v['errors']} COST_LIMIT)",
                f"{v['p50_ms']} / {v['p99_ms']}",
            )
            for k, v in m["search_series"].items()
        ),
        ("  hits the reader may not read", m["unreadable_hits"]),
        (
            "  full-text: facts a query matches; index ms; fulltext_for ms (grants on each); "
            "fulltext_for failed",
            f"{m['fulltext_matches_mean']:,} ; {m['fulltext_raw_ms_mean']} ; "
            f"{m['fulltext_for_ms_mean']} ; {m['fulltext_for_failed']} of "
            f"{m['fulltext_for_tried']}",
        ),
        (
            "  full-text: share of the exact BM25 top 10 facts in the text signal's top 10",
            m["fulltext_recall_vs_bm25"],
        ),
        (
            "embedding texts/s, batch 64: fact texts / incident write-ups",
            f"{m['embedding']['fact_texts_per_s']:,} / {m['embedding']['incident_texts_per_s']:,}",
        ),
        (
            "RSS MiB: before model / loaded / after",
            f"{m['embedding']['rss_mb_before_load']} / {m['embedding']['rss_mb_loaded']} / "
            f"{m['embedding']['rss_mb_after']}",
        ),
    ]
    for name, label in (
        ("vector", "vector only"),
        ("fulltext", "full-text only"),
        ("hybrid", "hybrid (target: above both)"),
        ("near", "hybrid + near"),
        ("exact_cosine", "ref: exact cosine, numpy"),
        ("bm25", "ref: BM25"),
    ):
        rows.append(
            (f"incidents MRR / hit@5: {label}", f"{qual[name]['mrr']} / {qual[name]['hit_at_5']}")
        )
    rows += [
        (
            "targets met: recall / p99 / hybrid",
            f"{m['recall_met']} / {m['search_p99_met']} / {m['hybrid_beats_both']}",
        ),
        ("load average (1, 5, 15 min)", m["load_avg"]),
        ("backend", m["backend"]),
    ]
    report("Context search", rows, m, args.json)


if __name__ == "__main__":
    main()
