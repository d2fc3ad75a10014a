"""Finding 8: a lock is released only by its holder. Another agent (or a stale attempt of
the holder itself) cannot drop a lock while the holding task still runs, and so cannot take
the resource over; every refused call changes nothing."""

from __future__ import annotations

from tests.conftest import App
from tests.support.coord import CLAIM, submit
from tests.support.security import refused, registered_agent

LOCK = """mutation($i: AcquireLockInput!) { acquireLock(input: $i) { outcome granted holder } }"""
RELEASE = """mutation($r: String!, $t: String!, $f: Int!) {
  releaseLock(resourceId: $r, taskId: $t, fence: $f) }"""


async def test_another_agent_cannot_release_or_steal_a_held_lock(api: App) -> None:
    alice = await registered_agent(api, "lock-a", ["diagnose"])
    mallory = await registered_agent(api, "lock-m", ["diagnose"])
    t1 = await submit(api.admin, capability="diagnose")
    held = (await alice(CLAIM, a="lock-a"))["claimTask"]
    t2 = await submit(api.admin, capability="diagnose")
    mine = (await mallory(CLAIM, a="lock-m"))["claimTask"]
    assert (held["id"], mine["id"]) == (t1["id"], t2["id"])
    got = await alice(LOCK, i={"resourceId": "db-prod", "taskId": t1["id"], "fence": held["fence"]})
    assert got["acquireLock"]["outcome"] == "acquired"
    wait = await mallory(
        LOCK, i={"resourceId": "db-prod", "taskId": t2["id"], "fence": mine["fence"]}
    )
    assert wait["acquireLock"]["outcome"] == "waiting"

    # The attack: release alice's lock (her task id is visible to anyone who can read tasks),
    # with her fence or any other, then take the lock.
    for fence in (held["fence"], held["fence"] + 1, 7):
        await refused(api, mallory, RELEASE, ["FORBIDDEN"], r="db-prod", t=t1["id"], f=fence)
    # The holder itself with a stale token is refused too (a presumed-dead worker).
    await refused(api, alice, RELEASE, ["CONFLICT"], r="db-prod", t=t1["id"], f=held["fence"] + 1)
    again = await mallory(
        LOCK, i={"resourceId": "db-prod", "taskId": t2["id"], "fence": mine["fence"]}
    )
    assert again["acquireLock"] == {"outcome": "waiting", "granted": False, "holder": t1["id"]}

    # The holder releases with its current token: the waiter may now take it.
    out = await alice(RELEASE, r="db-prod", t=t1["id"], f=held["fence"])
    assert out["releaseLock"] == [t2["id"]]
    took = await mallory(
        LOCK, i={"resourceId": "db-prod", "taskId": t2["id"], "fence": mine["fence"]}
    )
    assert took["acquireLock"]["outcome"] == "acquired"
    # A lock its task no longer holds: NOT_FOUND, nothing changes.
    await refused(api, alice, RELEASE, ["NOT_FOUND"], r="db-prod", t=t1["id"], f=held["fence"])


async def test_lock_events_name_the_principal_and_the_agent(api: App) -> None:
    a = await registered_agent(api, "lock-b", ["diagnose"])
    t = await submit(api.admin, capability="diagnose")
    got = (await a(CLAIM, a="lock-b"))["claimTask"]
    await a(LOCK, i={"resourceId": "r1", "taskId": t["id"], "fence": got["fence"]})
    await a(RELEASE, r="r1", t=t["id"], f=got["fence"])
    rows = await api.store.execute_text(
        "MATCH (e:Event) WHERE e.type IN ['lock.acquired', 'lock.released'] "
        "RETURN e.type AS type, e.actor AS actor, e.agentId AS agent ORDER BY e.seq"
    )
    assert rows == [
        {"type": "lock.acquired", "actor": "p-lock-b", "agent": "lock-b"},
        {"type": "lock.released", "actor": "p-lock-b", "agent": "lock-b"},
    ]
