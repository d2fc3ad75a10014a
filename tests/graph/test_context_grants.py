"""Property test over random grant layouts: no read path ever returns a fact outside the
reader's grants (context, context for a task, fact, lineage, and the recipients of live
updates), and each returns exactly what the reader may see there: the facts within the
asked hops (context, context for a task), the fact itself (fact, lineage), the permitted
agents working within two relations (recipients)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import context, teams
from app.graph import GraphStore
from app.models import FactIn

DOMAINS = ["d0", "d1", "d2"]
TEAMS = ["t0", "t1", "t2"]

Layout = st.fixed_dictionaries(
    {
        "grants": st.lists(st.tuples(st.sampled_from(TEAMS), st.sampled_from(DOMAINS)), max_size=9),
        "cleared": st.lists(st.sampled_from(TEAMS), max_size=3),
        "entity_domains": st.lists(st.sampled_from(DOMAINS), min_size=2, max_size=6),
        "links": st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=8),
        "facts": st.lists(
            st.tuples(st.integers(0, 5), st.booleans(), st.integers(0, 3)),
            min_size=1,
            max_size=10,
        ),
        "tasks": st.lists(st.tuples(st.sampled_from(TEAMS), st.integers(0, 5)), max_size=4),
    }
)


async def build(store: GraphStore, lay: dict[str, Any]) -> list[str]:
    n = len(lay["entity_domains"])
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
        g=[list(x) for x in lay["grants"]] + [["root", d] for d in DOMAINS],
    )
    await store.execute_text(
        "UNWIND $c AS c MATCH (t:Team {id: c}), (l:Label {name: 'secret'}) "
        "MERGE (t)-[:CLEARED_FOR]->(l)",
        c=[*lay["cleared"], "root"],
    )
    await store.execute_text(
        "UNWIND range(0, size($d) - 1) AS i MATCH (d:Domain {id: $d[i]}) "
        "CREATE (:Entity {id: 'e' + toString(i), kind: 'service', name: 'e'})-[:IN_DOMAIN]->(d)",
        d=lay["entity_domains"],
    )
    links = [[f"e{a % n}", f"e{b % n}"] for a, b in lay["links"] if a % n != b % n]
    await store.execute_text(
        "UNWIND $l AS l MATCH (a:Entity {id: l[0]}), (b:Entity {id: l[1]}) "
        "MERGE (a)-[:DEPENDS_ON]->(b)",
        l=links,
    )
    agents = [*TEAMS, "root"]
    await store.execute_text(
        "UNWIND $a AS a MATCH (t:Team {id: a}) "
        "CREATE (:Agent {id: 'ag-' + a, status: 'online', capabilities: ['x'], "
        "maxConcurrency: 5, active: 0})-[:MEMBER_OF]->(t)",
        a=agents,
    )
    await teams.refresh_readers(store)  # written around the statements that keep the lists
    for team, e in set(lay["tasks"]):
        await store.execute_text(
            "MATCH (x:Entity {id: $e}) CREATE (t:Task {id: $id, status: 'running', "
            "agentId: $a, resources: [], capability: 'x'})-[:TOUCHES]->(x)",
            e=f"e{e % n}",
            id=f"task-{team}-{e}",
            a=f"ag-{team}",
        )
    return agents


def distances(lay: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Hops between entities over the relations, either way (what context walks)."""
    n = len(lay["entity_domains"])
    nbrs: dict[str, set[str]] = {f"e{i}": set() for i in range(n)}
    for a, b in lay["links"]:
        if a % n != b % n:
            nbrs[f"e{a % n}"].add(f"e{b % n}")
            nbrs[f"e{b % n}"].add(f"e{a % n}")
    out: dict[tuple[str, str], int] = {}
    for start in nbrs:
        frontier, seen, d = {start}, {start}, 0
        while frontier:
            for x in frontier:
                out[(start, x)] = d
            frontier = {y for x in frontier for y in nbrs[x]} - seen
            seen |= frontier
            d += 1
    return out


def allowed(lay: dict[str, Any], team: str, fact: dict[str, Any]) -> bool:
    if team == "root":
        return True
    ok = (team, fact["domain"]) in {tuple(g) for g in lay["grants"]}
    return ok and (not fact["secret"] or team in lay["cleared"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lay=Layout)
async def test_no_read_path_leaks_a_fact(store: GraphStore, lay: dict[str, Any]) -> None:
    await store.execute_text("MATCH (n) WHERE NOT n:Counter DETACH DELETE n")
    await build(store, lay)
    n = len(lay["entity_domains"])
    dist = distances(lay)
    facts: dict[str, dict[str, Any]] = {}
    for k, (e, secret, key) in enumerate(lay["facts"]):
        ent = f"e{e % n}"
        made = await context.assert_fact(
            store,
            FactIn(
                agent_id="ag-root",
                entity_id=ent,
                key=f"k{key}-{k}",
                value=k,
                confidence=0.5,
                sensitivity="secret" if secret else None,
            ),
            now=1_000 + k,
        )
        meta = {"domain": lay["entity_domains"][e % n], "secret": secret, "entity": ent}
        facts[made.fact.id] = meta
        # Recipients: exactly the agents working within 2 relations that may read it.
        near = {
            f"ag-{t}"
            for t, te in set(lay["tasks"])
            if dist.get((ent, f"e{te % n}"), 99) <= 2 and allowed(lay, t, meta)
        }
        assert set(made.recipients) == near, (made.recipients, near, meta)
    for team in TEAMS:
        reader = context.Reader(agent_id=f"ag-{team}")
        visible = {f for f, meta in facts.items() if allowed(lay, team, meta)}
        seen: set[str] = set()
        for i in range(n):
            for hops in (0, 1, 3):
                got = {
                    f.id
                    for f in await context.context(store, reader, f"e{i}", hops=hops, now=2_000)
                }
                want = {f for f in visible if dist.get((f"e{i}", facts[f]["entity"]), 99) <= hops}
                assert got == want, (team, f"e{i}", hops)
                seen |= got
        assert seen == visible
        for fid in facts:
            one = await context.fact(store, reader, fid)
            assert (one is not None) == (fid in visible)
            lin = await context.lineage(store, reader, fid, direction="BOTH", depth=3)
            assert {x["id"] for x in lin.nodes if x["label"] == "Fact"} == {fid} & visible
        for tname, e in set(lay["tasks"]):
            if tname == team:
                tid = f"task-{team}-{e}"
                for_task = await context.context_for_task(store, reader, tid, hops=2, now=2_000)
                want = {f for f in visible if dist.get((f"e{e % n}", facts[f]["entity"]), 99) <= 2}
                assert {f.id for f in for_task} == want, (team, tid)
