"""Shared context at scale, on the embedded graph.

1. Propagation: N agents, each working on a task that touches an entity depending on one
   hub entity, subscribed to `contextUpdates` over WebSocket on a real `baton serve`. A fact
   about the hub is asserted through the API; latency is from sending `assertFact` to each
   subscriber receiving it (every recipient, every fact).
   Each fact is one independent sample of "the slowest of its recipients" (the deliveries of
   one fact are correlated); the p99 over facts is reported beside the p99 over deliveries.
2. Context reads: an org of E entities (each DEPENDS_ON two others) and F facts; `context`
   with hops=2 for random entities, timed as a client sees it (the GraphQL query over HTTP
   on a real `baton serve`, as the reading agent) and as the core statement call. Two
   series: org size (100 to 10,000 entities at 10 facts each) and density (100 entities at
   10, 100 and 1,000 facts each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from _common import (
    BACKENDS,
    backend_label,
    console,
    gql,
    graph_target,
    report,
    serve_app,
    summary_ms,
)

from app.core import context, teams

HERE = Path(__file__).resolve().parent
TOKEN = "bt_context_bench_admin_token_0123456789"


async def propagation(target: Any, n_agents: int, n_facts: int) -> list[float]:
    app, url = await asyncio.to_thread(
        serve_app, target, "propagation", TOKEN, BATON_SCHEDULER="false"
    )
    sockets = []
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            g = lambda q, tok=TOKEN, **v: gql(http, url, tok, q, **v)  # noqa: E731
            store = target.store("propagation")
            await store.execute_text(
                "MERGE (d:Domain {id: 'd'}) MERGE (t:Team {id: 't'}) MERGE (t)-[:CAN_READ]->(d)"
            )
            await store.close()
            ents = [{"id": "hub", "kind": "service", "name": "hub", "domain": "d"}] + [
                {"id": f"e{i}", "kind": "service", "name": f"e{i}", "domain": "d"}
                for i in range(n_agents)
            ]
            await g("mutation($e: [EntityInput!]!) { upsertEntities(entities: $e) }", e=ents)
            await g(
                "mutation($l: [LinkInput!]!) { linkEntities(links: $l) }",
                l=[{"from": f"e{i}", "to": "hub"} for i in range(n_agents)],
            )
            tokens = {}
            for i in range(n_agents + 1):
                aid = f"a{i}"
                made = await g(
                    "mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }",
                    i={
                        "id": f"p-{aid}",
                        "kind": "agent",
                        "name": aid,
                        "roles": ["AGENT"],
                        "agentId": aid,
                        "team": "t",  # team membership is the admin's to grant
                    },
                )
                tokens[aid] = made["createPrincipal"]["token"]
                await g(
                    "mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id } }",
                    tok=tokens[aid],
                    i={"id": aid, "name": aid, "capabilities": [f"c{i}"], "team": "t"},
                )
                if i < n_agents:
                    await g(
                        "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }",
                        i={"kind": "watch", "capability": f"c{i}", "entities": [f"e{i}"]},
                    )
                    await g(
                        "mutation($a: String!) { claimTask(agentId: $a) { id } }",
                        tok=tokens[aid],
                        a=aid,
                    )
            got: dict[str, dict[str, float]] = {}
            ws_url = url.replace("http", "ws") + "/graphql"

            async def listen(aid: str, ready: asyncio.Event) -> None:
                ws = await websockets.connect(
                    ws_url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
                )
                sockets.append(ws)
                await ws.send(
                    json.dumps(
                        {
                            "type": "connection_init",
                            "payload": {"Authorization": f"Bearer {tokens[aid]}"},
                        }
                    )
                )
                await ws.recv()
                await ws.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {
                                "query": "subscription($a: String!) { contextUpdates(agentId: $a) "
                                "{ fact { key } } }",
                                "variables": {"a": aid},
                            },
                        }
                    )
                )
                ready.set()
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg["type"] == "next":
                        key = msg["payload"]["data"]["contextUpdates"]["fact"]["key"]
                        got.setdefault(key, {})[aid] = time.perf_counter()

            readies = []
            for i in range(n_agents):
                ev = asyncio.Event()
                readies.append(ev)
                asyncio.create_task(listen(f"a{i}", ev))
            await asyncio.gather(*(r.wait() for r in readies))
            await asyncio.sleep(0.5)
            lat: list[float] = []
            asserter = f"a{n_agents}"
            # Fact -1 warms the path (its statements' first plans: seconds on a fresh Neo4j)
            # and is reported apart as the first fact, not in the steady-state percentiles.
            for k in range(-1, n_facts):
                key = f"k{k}"
                t0 = time.perf_counter()
                await g(
                    "mutation($i: AssertFactInput!) { assertFact(input: $i) { recipients } }",
                    tok=tokens[asserter],
                    i={
                        "agentId": asserter,
                        "entityId": "hub",
                        "key": key,
                        "value": k,
                        "confidence": 0.9,
                    },
                )
                deadline = time.perf_counter() + 10
                while len(got.get(key, {})) < n_agents and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                seen = [t - t0 for t in got.get(key, {}).values()]
                if k < 0:
                    FIRST.extend(seen)
                else:
                    lat += seen
                    FACT_MAX.append(max(seen, default=0.0))
                missing = n_agents - len(got.get(key, {}))
                if missing:
                    raise RuntimeError(f"{missing} subscribers never got {key}")
            return lat
    finally:
        for ws in sockets:
            await ws.close()
        app.terminate()
        app.wait(timeout=20)


FIRST: list[float] = []  # the warm-up fact's deliveries
FACT_MAX: list[float] = []  # per fact, its slowest delivery: one independent sample each


async def context_reads(
    target: Any, n_entities: int, n_facts: int, reads: int, graph: str = "contextreads"
) -> tuple[list[float], list[float]]:
    """Latencies (s) of ``reads`` context reads: the core call, then the GraphQL query."""
    store = await target.open(graph)
    rng = random.Random(3)
    await store.execute_text(
        "MERGE (d:Domain {id: 'd'}) MERGE (t:Team {id: 't'}) MERGE (t)-[:CAN_READ]->(d) "
        "MERGE (a:Agent {id: 'reader'}) MERGE (a)-[:MEMBER_OF]->(t)"
    )
    await teams.refresh_readers(store, ["reader"])
    for s in range(0, n_entities, 5_000):
        await store.execute_text(
            "MATCH (d:Domain {id: 'd'}) UNWIND range($s, $e - 1) AS i "
            "CREATE (:Entity {id: 'e' + toString(i), kind: 'service', name: 'e'})"
            "-[:IN_DOMAIN]->(d)",
            s=s,
            e=min(n_entities, s + 5_000),
        )
    links = [[f"e{i}", f"e{rng.randrange(n_entities)}"] for i in range(n_entities) for _ in (0, 1)]
    for s in range(0, len(links), 10_000):
        await store.execute_text(
            "UNWIND $l AS l MATCH (a:Entity {id: l[0]}), (b:Entity {id: l[1]}) "
            "CREATE (a)-[:DEPENDS_ON]->(b)",
            l=links[s : s + 10_000],
        )
    with console.status(f"loading {n_facts:,} facts"):
        for s in range(0, n_facts, 10_000):
            rows = [
                {
                    "id": f"f{i}",
                    "e": f"e{rng.randrange(n_entities)}",
                    "k": f"k{i % 7}",
                    "v": str(i),
                    "c": rng.random(),
                }
                for i in range(s, min(n_facts, s + 10_000))
            ]
            await store.execute_text(
                "UNWIND $r AS r MATCH (e:Entity {id: r.e}) "
                "CREATE (f:Fact {id: r.id, key: r.k, value: r.v, confidence: r.c, "
                "observedAt: 1, current: true, agentId: 'reader', entityId: r.e, domain: 'd'})"
                "-[:ABOUT]->(e)",
                r=rows,
            )
    reader = context.Reader(agent_id="reader")
    core: list[float] = []
    for _ in range(reads):
        e = f"e{rng.randrange(n_entities)}"
        t0 = time.perf_counter()
        await context.context(store, reader, e, hops=2, now=2, limit=50)
        core.append(time.perf_counter() - t0)
    await store.close()
    app, url = await asyncio.to_thread(serve_app, target, graph, TOKEN, BATON_SCHEDULER="false")
    api: list[float] = []
    query = (
        'query($e: String!) { context(entityId: $e, agentId: "reader", hops: 2, '
        "first: 50) { id key value confidence distance } }"
    )
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            for k in range(reads + 20):  # the first 20 warm the connection and the plan
                e = f"e{rng.randrange(n_entities)}"
                t0 = time.perf_counter()
                await gql(http, url, TOKEN, query, e=e)
                if k >= 20:
                    api.append(time.perf_counter() - t0)
    finally:
        app.terminate()
        app.wait(timeout=20)
    return core, api


async def run(quick: bool, target: Any) -> dict[str, Any]:
    n_agents, n_facts_prop = (20, 10) if quick else (100, 200)
    scales = [1, 10] if quick else [1, 10, 100]  # x 100 entities / 1,000 facts
    densities = [100] if quick else [100, 1_000]  # facts per entity at 100 entities
    reads = 100 if quick else 500
    console.print(f"propagation: {n_agents} subscribed agents, {n_facts_prop} facts")
    FACT_MAX.clear()
    prop = await propagation(target, n_agents, n_facts_prop)
    series = [("size", scale, 100 * scale, 1_000 * scale) for scale in scales]
    series += [("density", d, 100, 100 * d) for d in densities]
    growth, density = [], []
    for kind, k, n_ent, n_facts in series:
        console.print(f"context reads, {n_ent:,} entities, {n_facts:,} facts")
        core, api = await context_reads(target, n_ent, n_facts, reads, f"reads-{kind}-{k}")
        c, a = summary_ms(core), summary_ms(api)
        row = {
            "entities": n_ent,
            "facts": n_facts,
            "facts_per_entity": n_facts // n_ent,
            "context_p50_ms": a["p50_ms"],
            "context_p99_ms": a["p99_ms"],
            "core_p50_ms": c["p50_ms"],
            "core_p99_ms": c["p99_ms"],
        }
        if kind == "size":
            growth.append({"scale": k, **row})
        else:
            density.append(row)
    density = [{k: v for k, v in growth[0].items() if k != "scale"}] + density
    p, fp, top = summary_ms(prop), summary_ms(FACT_MAX), growth[-1]
    return {
        "agents": n_agents,
        "entities": top["entities"],
        "facts": top["facts"],
        "propagation_p50_ms": p["p50_ms"],
        "propagation_p99_ms": p["p99_ms"],
        "propagation_samples": len(prop),
        "propagation_facts": len(FACT_MAX),
        "propagation_fact_p50_ms": fp["p50_ms"],
        "propagation_fact_p99_ms": fp["p99_ms"],
        "propagation_first_fact_max_ms": round(max(FIRST, default=0.0) * 1000, 1),
        "context_samples": reads * (len(growth) + len(density) - 1),
        "context_p50_ms": top["context_p50_ms"],
        "context_p99_ms": top["context_p99_ms"],
        "context_core_p99_ms": top["core_p99_ms"],
        "growth": growth,
        "density": density,
        "backend": backend_label(target),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backend", choices=BACKENDS, default="falkordb")
    ap.add_argument(
        "--fsync",
        choices=("always", "everysec"),
        default="always",
        help="Embedded FalkorDB's appendfsync (the app's default: always).",
    )
    args = ap.parse_args()
    with graph_target(args.backend, fsync=args.fsync) as target:
        m = asyncio.run(run(args.quick, target))
    m["fsync"] = args.fsync if args.backend == "falkordb" else "neo4j default"
    rows = [(k, v) for k, v in m.items() if k not in ("growth", "density")] + [
        (
            f"{g['entities']:,} entities x {g['facts_per_entity']} facts: context p50 / p99 ms "
            f"(GraphQL; core call)",
            f"{g['context_p50_ms']} / {g['context_p99_ms']} "
            f"({g['core_p50_ms']} / {g['core_p99_ms']})",
        )
        for g in [*m["growth"], *m["density"][1:]]
    ]
    report("Shared context", rows, m, args.json)


if __name__ == "__main__":
    main()
