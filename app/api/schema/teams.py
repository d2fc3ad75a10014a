"""Teams, grants and memberships over GraphQL: ``teams``, ``team``, ``setTeam``,
``deleteTeam``, ``addTeamMember``, ``removeTeamMember`` (admins; every change audited with
before/after)."""

from __future__ import annotations

import strawberry

from app.api.authz import Rules, roles
from app.api.schema.common import CtxInfo
from app.core import teams
from app.models import MembershipIn, Role, TeamIn

RULES: Rules = {
    "teams": roles(Role.AUDITOR),
    "team": roles(Role.AUDITOR),
    "setTeam": roles(),
    "deleteTeam": roles(),
    "addTeamMember": roles(),
    "removeTeamMember": roles(),
}


@strawberry.type(name="Team")
class TeamType:
    """A group of principals and agents and what they may read and act on."""

    id: strawberry.ID
    name: str
    can_read: list[str] = strawberry.field(
        description="Domains whose facts, tasks, proposals, entities and runs members read."
    )
    can_act: list[str] = strawberry.field(
        description="Domains the team is accountable for acting in (CAN_ACT edges): recorded "
        "for analysis and audit (Neo4j Browser query `customer_data_access`); who may act "
        "is enforced by roles and policies, not by this list."
    )
    cleared: list[str] = strawberry.field(
        description="Sensitivity labels members may read (a labelled fact needs its label "
        "here on top of the domain in canRead)."
    )
    members: list[str] = strawberry.field(
        description="Principals that are MEMBER_OF it (they read with its grants)."
    )
    agents: list[str] = strawberry.field(
        description="Agents in it (registerAgent's team; they read with its grants)."
    )

    @classmethod
    def of(cls, t: teams.Team) -> TeamType:
        return cls(
            id=strawberry.ID(t.id),
            name=t.name,
            can_read=t.can_read,
            can_act=t.can_act,
            cleared=t.cleared,
            members=t.members,
            agents=t.agents,
        )


@strawberry.input
class TeamInput:
    id: str
    name: str
    can_read: list[str] = strawberry.field(default_factory=list)
    can_act: list[str] = strawberry.field(default_factory=list)
    cleared: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class Membership:
    """A principal's teams after a membership change."""

    principal_id: str
    teams: list[str]
    changed: bool = strawberry.field(description="False: it already was (or was not) a member.")


@strawberry.type
class Query:
    @strawberry.field(description="Every team with its grants and members, by id.")
    async def teams(self, info: CtxInfo) -> list[TeamType]:
        return [TeamType.of(t) for t in await teams.list_teams(info.context.rt.store)]

    @strawberry.field(description="One team with its grants and members.")
    async def team(self, info: CtxInfo, id: strawberry.ID) -> TeamType | None:
        t = await teams.get(info.context.rt.store, str(id))
        return TeamType.of(t) if t else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create a team or replace its name and grants (admins). The lists are "
        "the whole grant: a domain or label left out is taken away. Domains must exist. "
        "Audited as `team.set` with before and after; an unchanged team writes nothing."
    )
    async def set_team(self, info: CtxInfo, input: TeamInput) -> TeamType:
        data = TeamIn(
            id=input.id,
            name=input.name,
            can_read=input.can_read,
            can_act=input.can_act,
            cleared=input.cleared,
        )
        rt = info.context.rt
        t, _ = await teams.set_team(rt.store, data, actor=info.context.caller.id, now=rt.now())
        return TeamType.of(t)

    @strawberry.mutation(
        description="Delete a team with its grants and memberships (admins): its former "
        "members read without them from their next request. Returns the team as it was; "
        "audited as `team.deleted` with what it granted and who was in it."
    )
    async def delete_team(self, info: CtxInfo, id: strawberry.ID) -> TeamType:
        rt = info.context.rt
        t = await teams.delete_team(rt.store, str(id), actor=info.context.caller.id, now=rt.now())
        return TeamType.of(t)

    @strawberry.mutation(
        description="Make a principal (a human, a service) a member of a team: it reads "
        "with the team's grants from its next request (admins). Audited as "
        "`team.member_added` with the principal's teams before and after."
    )
    async def add_team_member(self, info: CtxInfo, principal_id: str, team_id: str) -> Membership:
        data = MembershipIn(principal_id=principal_id, team_id=team_id)
        rt = info.context.rt
        now_in, changed = await teams.add_member(
            rt.store, data, actor=info.context.caller.id, now=rt.now()
        )
        return Membership(principal_id=principal_id, teams=now_in, changed=changed)

    @strawberry.mutation(
        description="Take a principal out of a team (admins). Audited as "
        "`team.member_removed` with its teams before and after."
    )
    async def remove_team_member(
        self, info: CtxInfo, principal_id: str, team_id: str
    ) -> Membership:
        data = MembershipIn(principal_id=principal_id, team_id=team_id)
        rt = info.context.rt
        now_in, changed = await teams.remove_member(
            rt.store, data, actor=info.context.caller.id, now=rt.now()
        )
        return Membership(principal_id=principal_id, teams=now_in, changed=changed)
