"""Races with real concurrent clients, repeated: FalkorDB serialises writers, Neo4j does not
(read-committed, row locks taken by the statements' first SET), so on Neo4j these prove the
lock-then-recheck idiom. Each round fires its requests at once over HTTP; every round must
have exactly one winner, and the Event log must stay gap-free and unique throughout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app import scheduler
from tests.api.test_inbox import DECIDE, PROPOSE, human, setup
from tests.conftest import App
from tests.support.coord import CLAIM, COMPLETE, agent, submit, task
from tests.support.gql import GQL
from tests.support.invariants import all_events, check_replay

ROUNDS = 20
HEARTBEAT = "mutation($a: String!) { heartbeat(agentId: $a) { status } }"
LOCK = """mutation($i: AcquireLockInput!) { acquireLock(input: $i) { outcome granted holder } }"""


def assert_log_is_gap_free(events: list[dict[str, Any]]) -> None:
    seqs = [int(e["seq"]) for e in events]
    assert seqs == list(range(1, len(seqs) + 1)), "Event.seq has a gap or a repeat"


async def agents(api: App, prefix: str, n: int, caps: list[str]) -> list[GQL]:
    return list(await asyncio.gather(*(agent(api, f"{prefix}{i}", caps) for i in range(n))))


async def test_fifty_concurrent_claims_of_one_task_have_one_winner(api: App) -> None:
    claimers = await agents(api, "c", 50, ["race"])
    ids: set[str] = set()
    for _ in range(ROUNDS):
        t = await submit(api.admin, capability="race")
        ids.add(t["id"])
        got = await asyncio.gather(*(w.raw(CLAIM, {"a": f"c{i}"}) for i, w in enumerate(claimers)))
        assert all(not g.get("errors") for g in got), got
        winners = [(i, g["data"]["claimTask"]) for i, g in enumerate(got) if g["data"]["claimTask"]]
        assert len(winners) == 1, f"{len(winners)} agents claimed {t['id']}"
        i, won = winners[0]
        assert won["id"] == t["id"] and won["fence"] == 1
        await claimers[i](COMPLETE, t=t["id"], a=f"c{i}", f=1, r={"ok": True})
    events = await all_events(api.admin)
    assert_log_is_gap_free(events)
    terminal = check_replay(events, ids, {f"c{i}": 1 for i in range(50)})
    assert all(terminal[t] == 1 for t in ids)


async def test_concurrent_dedup_submits_make_one_task(api: App) -> None:
    for r in range(ROUNDS):
        got = await asyncio.gather(
            *(
                api.admin.raw(
                    "mutation($i: SubmitTaskInput!) { submitTask(input: $i) { id } }",
                    {
                        "i": {
                            "kind": "t",
                            "capability": "x",
                            "dedupKey": f"k{r}",
                            "payload": {"n": r},
                        }
                    },
                )
                for _ in range(20)
            )
        )
        assert all(not g.get("errors") for g in got), got
        assert len({g["data"]["submitTask"]["id"] for g in got}) == 1
    rows = await api.store.execute_text(
        "MATCH (t:Task) RETURN t.dedupKey AS k, count(*) AS n ORDER BY k"
    )
    assert len(rows) == ROUNDS and all(r["n"] == 1 for r in rows)
    assert_log_is_gap_free(await all_events(api.admin))


async def test_concurrent_decisions_have_one_winner(api: App) -> None:
    await setup(api)  # rollbacks always need alice or secops' carol
    alice, carol = await human(api, "alice"), await human(api, "carol")
    w = await agent(api, "fixer", ["fix"], max_concurrency=ROUNDS, team="sre")
    for r in range(ROUNDS):
        await submit(api.admin, capability="fix", priority=90)
        t = (await w(CLAIM, a="fixer"))["claimTask"]
        p = (
            await w(
                PROPOSE,
                i={
                    "taskId": t["id"],
                    "agentId": "fixer",
                    "fence": t["fence"],
                    "kind": "rollback",
                    "summary": f"roll back {r}",
                    "confidence": 0.5,
                    "payload": {"n": r},
                },
            )
        )["proposeAction"]
        assert p["status"] == "pending"
        got = await asyncio.gather(
            *(
                who.raw(DECIDE, {"id": p["id"], "d": d, "r": f"{d} {k}"})
                for k in range(5)
                for who, d in ((alice, "APPROVE"), (carol, "REJECT"), (api.admin, "APPROVE"))
            )
        )
        wins = [g for g in got if not g.get("errors")]
        codes = {g["errors"][0]["extensions"]["code"] for g in got if g.get("errors")}
        assert len(wins) == 1 and codes == {"CONFLICT"}, got
    rows = await api.store.execute_text(
        "MATCH (e:Event {type: 'proposal.decided'}) RETURN e.subject AS p, count(*) AS n"
    )
    assert len(rows) == ROUNDS and all(r["n"] == 1 for r in rows), rows
    assert_log_is_gap_free(await all_events(api.admin))


async def test_lock_races_have_one_holder(api: App) -> None:
    n = 10
    lockers = await agents(api, "l", n, ["lock"])
    for _ in range(n):
        await submit(api.admin, capability="lock")
    running = {}
    for i, w in enumerate(lockers):
        running[i] = (await w(CLAIM, a=f"l{i}"))["claimTask"]
        assert running[i] is not None
    for r in range(ROUNDS):
        got = await asyncio.gather(
            *(
                w.raw(
                    LOCK,
                    {
                        "i": {
                            "resourceId": f"res-{r}",
                            "taskId": running[i]["id"],
                            "fence": running[i]["fence"],
                            "ttlMs": 60_000,
                        }
                    },
                )
                for i, w in enumerate(lockers)
            )
        )
        assert all(not g.get("errors") for g in got), got
        outcomes = [g["data"]["acquireLock"] for g in got]
        holders = [o for o in outcomes if o["outcome"] == "acquired"]
        assert len(holders) == 1, outcomes
        assert {o["holder"] for o in outcomes} == {holders[0]["holder"]}
    rows = await api.store.execute_text(
        "MATCH (r:Resource)-[:LOCKED_BY]->(t:Task) RETURN r.id AS r, count(t) AS n"
    )
    assert len(rows) == ROUNDS and all(x["n"] == 1 for x in rows)
    assert_log_is_gap_free(await all_events(api.admin))


async def test_stale_fence_loses_to_the_new_holder_after_lease_expiry(
    api_clock: tuple[App, Any],
) -> None:
    api, clock = api_clock
    a, b = await agent(api, "fa", ["f"]), await agent(api, "fb", ["f"])
    for _ in range(ROUNDS):
        t = await submit(api.admin, capability="f")
        first = (await a(CLAIM, a="fa"))["claimTask"]
        clock.advance(api.settings.lease_ms + 1)  # fa stalls past its lease
        await b(HEARTBEAT, a="fb")  # fb is alive; fa is silent
        await scheduler.recover(api.rt)
        await api.store.execute_text(
            "MATCH (t:Task {id: $id}) SET t.notBefore = 0", id=t["id"]
        )  # skip the retry back-off
        second = (await b(CLAIM, a="fb"))["claimTask"]
        assert second["id"] == t["id"] and second["fence"] == first["fence"] + 1
        got = await asyncio.gather(
            a.raw(COMPLETE, {"t": t["id"], "a": "fa", "f": first["fence"], "r": {"by": "a"}}),
            b.raw(COMPLETE, {"t": t["id"], "a": "fb", "f": second["fence"], "r": {"by": "b"}}),
        )
        assert got[0]["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert not got[1].get("errors")
        done = await task(api.admin, t["id"])
        assert done["status"] == "done" and done["result"] == {"by": "b"}
        await a(HEARTBEAT, a="fa")  # fa comes back for the next round
    assert_log_is_gap_free(await all_events(api.admin))


async def test_event_seq_is_unique_and_gap_free_under_concurrent_writers(api: App) -> None:
    emit = "mutation($t: String!, $p: JSON) { emitEvent(type: $t, payload: $p) { seq } }"
    for r in range(ROUNDS):
        got = await asyncio.gather(
            *(api.admin.raw(emit, {"t": "race.tick", "p": {"r": r, "i": i}}) for i in range(25)),
            *(submit(api.admin, capability="noop", payload={"r": r, "i": i}) for i in range(5)),
        )
        seqs = [g["data"]["emitEvent"]["seq"] for g in got[:25]]
        assert len(set(seqs)) == len(seqs)
    assert_log_is_gap_free(await all_events(api.admin))
