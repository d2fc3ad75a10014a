"""Teams and their grants, and who is a member: admin acts, each audited with before/after.

A team's grants decide what its members read (README "Who may read what"): ``canRead``
domains (facts, tasks, proposals, entities, runs in them), ``cleared`` sensitivity labels (a
labelled fact needs the label on top of the domain) and ``canAct`` domains (recorded as
CAN_ACT: the domains the team is accountable for acting in; see README). A principal reads
with the grants of the teams it is a MEMBER_OF; an agent with its own team's.

What a reader may read is materialised on its own node: ``readDomains`` and ``readLabels``
(the CAN_READ domains and CLEARED_FOR labels of its teams), which every read statement filters
by. Every statement that changes a membership or a grant recomputes its readers' lists from
the edges itself, so the very next read sees the change.

Each change is one statement that re-checks, under the event-counter lock, that the team
(its revision) or the principal's memberships are still what the app read, so the Event's
before/after is exactly what changed; a concurrent change makes it read and try again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core import policies
from app.core.errors import BadInput, Conflict, NotFound
from app.core.events import dumps
from app.graph import GraphStore
from app.graph.queries import q
from app.models import MembershipIn, TeamIn

GET = q("teams/get")
LIST = q("teams/list")
SET = q("teams/set")
ADD_MEMBER = q("teams/add_member")
REMOVE_MEMBER = q("teams/remove_member")
MEMBERSHIPS = q("teams/memberships")
KNOWN_DOMAINS = q("teams/known_domains")
DELETE = q("teams/delete")
REFRESH_READERS = q("teams/refresh_readers")
ATTEMPTS = 5


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    rev: int
    can_read: list[str] = field(default_factory=list)
    can_act: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, r: dict[str, Any]) -> Team:
        def ids(k: str) -> list[str]:
            return sorted(set(r.get(k) or []))

        return cls(
            id=r["id"],
            name=r.get("name") or r["id"],
            rev=int(r["rev"]),
            can_read=ids("canRead"),
            can_act=ids("canAct"),
            cleared=ids("cleared"),
            members=ids("members"),
            agents=ids("agents"),
        )

    def grants(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "canRead": self.can_read,
            "canAct": self.can_act,
            "cleared": self.cleared,
        }


async def get(store: GraphStore, team_id: str) -> Team | None:
    rows = await store.read(GET, id=team_id)
    return Team.of(rows[0]) if rows else None


async def list_teams(store: GraphStore, limit: int = 1_000) -> list[Team]:
    return [Team.of(r) for r in await store.read(LIST, limit=limit)]


async def set_team(store: GraphStore, data: TeamIn, *, actor: str, now: int) -> tuple[Team, bool]:
    """Create a team or replace its name and grants. Returns (the team, whether it changed);
    an unchanged definition writes nothing. BAD_INPUT names an unknown domain."""
    after = data.grants()
    for _ in range(ATTEMPTS):
        current = await get(store, data.id)
        if current is not None and current.grants() == after:
            return current, False
        rows = await store.write(
            SET,
            id=data.id,
            name=data.name,
            canRead=after["canRead"],
            canAct=after["canAct"],
            cleared=after["cleared"],
            rev=current.rev if current else 0,
            absent=current is None,
            now=now,
            actor=actor,
            payload=dumps(
                {"teamId": data.id, "before": current.grants() if current else None, "after": after}
            ),
        )
        if rows:
            team = await get(store, data.id)
            assert team is not None
            return team, True
        named = sorted(set(after["canRead"]) | set(after["canAct"]))
        known = set((await store.read(KNOWN_DOMAINS, ids=named))[0]["known"] or [])
        unknown = [d for d in named if d not in known]
        if unknown:
            where = "canRead" if unknown[0] in after["canRead"] else "canAct"
            raise BadInput(f"unknown domain {unknown[0]!r}", field=where)
    raise Conflict(f"team {data.id!r} keeps changing; retry", id=data.id)


async def delete_team(store: GraphStore, team_id: str, *, actor: str, now: int) -> Team:
    """Delete a team with its grants and memberships (audited as ``team.deleted`` with its
    grants before); its former members read without them from their next request. Returns the
    team as it was; NOT_FOUND if there is none."""
    for _ in range(ATTEMPTS):
        current = await get(store, team_id)
        if current is None:
            raise NotFound(f"team {team_id!r} does not exist", field="teamId")
        before = {**current.grants(), "members": current.members, "agents": current.agents}
        rows = await store.write(
            DELETE,
            id=team_id,
            rev=current.rev,
            now=now,
            actor=actor,
            payload=dumps({"teamId": team_id, "before": before, "after": None}),
        )
        if rows:
            if current.agents:  # their policies may have applied through the team
                await policies.refresh(store, current.agents)
            return current
    raise Conflict(f"team {team_id!r} keeps changing; retry", id=team_id)


async def refresh_readers(store: GraphStore, ids: list[str] | None = None) -> int:
    """Recompute the readable domains and cleared labels of the readers ``ids`` (agents and
    principals; None: every one) from their teams' edges. The statements that change
    memberships and grants do this themselves; this repairs a graph written around them.
    Returns how many readers it recomputed."""
    rows = await store.write(REFRESH_READERS, ids=ids)
    return int(rows[0]["refreshed"]) if rows else 0


async def _membership(
    store: GraphStore, data: MembershipIn, *, add: bool, actor: str, now: int
) -> tuple[list[str], bool]:
    statement, kind = (ADD_MEMBER, "added") if add else (REMOVE_MEMBER, "removed")
    for _ in range(ATTEMPTS):
        rows = await store.read(MEMBERSHIPS, principalId=data.principal_id)
        if not rows or not rows[0]["found"]:
            raise NotFound(f"principal {data.principal_id!r} does not exist", field="principalId")
        if await get(store, data.team_id) is None:
            raise NotFound(f"team {data.team_id!r} does not exist", field="teamId")
        before = sorted(set(rows[0]["teams"] or []))
        if (data.team_id in before) == add:
            return before, False  # already so: nothing to change, nothing to audit
        after = sorted({*before, data.team_id} if add else set(before) - {data.team_id})
        done = await store.write(
            statement,
            principalId=data.principal_id,
            teamId=data.team_id,
            before=before,
            now=now,
            actor=actor,
            payload=dumps(
                {
                    "principalId": data.principal_id,
                    "teamId": data.team_id,
                    "change": kind,
                    "before": before,
                    "after": after,
                }
            ),
        )
        if done:
            return after, True
    raise Conflict(f"the teams of {data.principal_id!r} keep changing; retry", id=data.principal_id)


async def add_member(
    store: GraphStore, data: MembershipIn, *, actor: str, now: int
) -> tuple[list[str], bool]:
    """Make a principal a member of a team. Returns (its teams now, whether it changed)."""
    return await _membership(store, data, add=True, actor=actor, now=now)


async def remove_member(
    store: GraphStore, data: MembershipIn, *, actor: str, now: int
) -> tuple[list[str], bool]:
    """Take a principal out of a team. Returns (its teams now, whether it changed)."""
    return await _membership(store, data, add=False, actor=actor, now=now)


HUMANS = q("seed/humans")


@dataclass(frozen=True)
class Human:
    """A human principal of an org export (``baton import``): no token until an admin
    rotates one; its memberships are added (audited), never taken away by an import."""

    id: str
    name: str
    roles: list[str]
    teams: list[str]


async def import_access(
    store: GraphStore, teams_in: list[TeamIn], humans: list[Human], *, actor: str, now: int
) -> dict[str, int]:
    """Teams with their grants (each ``setTeam``), then human principals and their
    memberships (each ``addTeamMember``): every change audited like the API's, nothing
    written twice when the same export is imported again."""
    changed = 0
    for t in teams_in:
        changed += int((await set_team(store, t, actor=actor, now=now))[1])
    if humans:
        rows = [{"id": h.id, "name": h.name, "roles": h.roles, "teams": []} for h in humans]
        await store.write(HUMANS, now=now, rows=rows)
    joined = 0
    for h in humans:
        for team_id in h.teams:
            ms = MembershipIn(principal_id=h.id, team_id=team_id)
            joined += int((await add_member(store, ms, actor=actor, now=now))[1])
    return {"teams": changed, "humans": len(humans), "memberships": joined}
