"""Issue 21 finding 11: teams, grants and memberships through the API (admins only), each
change audited with before/after, and what they grant taking effect on the next read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import App
from tests.support.coord import submit
from tests.support.security import principal, refused

TEAM_FIELDS = "id name canRead canAct cleared members agents"
SET = f"mutation($i: TeamInput!) {{ setTeam(input: $i) {{ {TEAM_FIELDS} }} }}"
ADD = """mutation($p: String!, $t: String!) {
  addTeamMember(principalId: $p, teamId: $t) { principalId teams changed } }"""
REMOVE = """mutation($p: String!, $t: String!) {
  removeTeamMember(principalId: $p, teamId: $t) { principalId teams changed } }"""
DELETE = f"mutation($id: ID!) {{ deleteTeam(id: $id) {{ {TEAM_FIELDS} }} }}"
TEAM = f"query($id: ID!) {{ team(id: $id) {{ {TEAM_FIELDS} }} }}"
TEAMS = f"{{ teams {{ {TEAM_FIELDS} }} }}"
AUDIT = """query($t: [String!]) { auditLog(types: $t) { nodes { type actor subject payload } } }"""
TASK = "query($id: ID!) { task(id: $id) { id payload } }"


@pytest.fixture
def app(seeded_app: App) -> App:
    return seeded_app


async def audit(app: App, *types: str) -> list[dict[str, Any]]:
    return list((await app.admin(AUDIT, t=list(types)))["auditLog"]["nodes"])


async def test_an_admin_sets_a_team_and_its_grants_audited_with_before_and_after(
    app: App,
) -> None:
    made = (
        await app.admin(
            SET, i={"id": "data", "name": "Data", "canRead": ["commerce"], "cleared": ["pii"]}
        )
    )["setTeam"]
    assert made == {
        "id": "data",
        "name": "Data",
        "canRead": ["commerce"],
        "canAct": [],
        "cleared": ["pii"],
        "members": [],
        "agents": [],
    }
    changed = (
        await app.admin(
            SET,
            i={
                "id": "data",
                "name": "Data platform",
                "canRead": ["commerce", "payments"],
                "canAct": ["payments"],
            },
        )
    )["setTeam"]
    assert changed["canRead"] == ["commerce", "payments"] and changed["cleared"] == []
    again = (
        await app.admin(
            SET,
            i={
                "id": "data",
                "name": "Data platform",
                "canRead": ["payments", "commerce"],
                "canAct": ["payments"],
            },
        )
    )["setTeam"]
    assert again == changed
    events = await audit(app, "team.set")
    assert [e["payload"] for e in events] == [
        {
            "teamId": "data",
            "before": None,
            "after": {"name": "Data", "canRead": ["commerce"], "canAct": [], "cleared": ["pii"]},
        },
        {
            "teamId": "data",
            "before": {"name": "Data", "canRead": ["commerce"], "canAct": [], "cleared": ["pii"]},
            "after": {
                "name": "Data platform",
                "canRead": ["commerce", "payments"],
                "canAct": ["payments"],
                "cleared": [],
            },
        },
    ]
    assert {e["actor"] for e in events} == {"admin"} and {e["subject"] for e in events} == {"data"}
    assert (await app.admin(TEAM, id="data"))["team"] == changed
    listed = {t["id"]: t for t in (await app.admin(TEAMS))["teams"]}
    assert listed["data"] == changed and "sre" in listed
    assert listed["secops"]["cleared"] == ["pii"]
    assert "carol" in listed["secops"]["members"]


async def test_membership_changes_what_a_principal_reads_and_is_audited(app: App) -> None:
    ops = await principal(app, "ops", "OPERATOR")
    t = await submit(
        app.admin, capability="diagnose", entities=["svc-checkout"], payload={"secret": "commerce"}
    )
    assert (await ops(TASK, id=t["id"]))["task"]["payload"] is None
    added = (await app.admin(ADD, p="ops", t="sre"))["addTeamMember"]
    assert added == {"principalId": "ops", "teams": ["sre"], "changed": True}
    assert (await app.admin(ADD, p="ops", t="sre"))["addTeamMember"]["changed"] is False
    assert (await ops(TASK, id=t["id"]))["task"]["payload"] == {"secret": "commerce"}
    removed = (await app.admin(REMOVE, p="ops", t="sre"))["removeTeamMember"]
    assert removed == {"principalId": "ops", "teams": [], "changed": True}
    assert (await ops(TASK, id=t["id"]))["task"]["payload"] is None
    assert [e["payload"] for e in await audit(app, "team.member_added", "team.member_removed")] == [
        {"principalId": "ops", "teamId": "sre", "change": "added", "before": [], "after": ["sre"]},
        {
            "principalId": "ops",
            "teamId": "sre",
            "change": "removed",
            "before": ["sre"],
            "after": [],
        },
    ]
    assert "ops" not in (await app.admin(TEAM, id="sre"))["team"]["members"]


async def test_deleting_a_team_takes_its_grants_from_its_members_audited(app: App) -> None:
    ops = await principal(app, "ops", "OPERATOR")
    t = await submit(
        app.admin, capability="diagnose", entities=["svc-checkout"], payload={"secret": "commerce"}
    )
    await app.admin(SET, i={"id": "tmp", "name": "Temporary", "canRead": ["commerce"]})
    await app.admin(ADD, p="ops", t="tmp")
    assert (await ops(TASK, id=t["id"]))["task"]["payload"] == {"secret": "commerce"}
    gone = (await app.admin(DELETE, id="tmp"))["deleteTeam"]
    assert gone["id"] == "tmp" and gone["canRead"] == ["commerce"] and gone["members"] == ["ops"]
    assert (await ops(TASK, id=t["id"]))["task"]["payload"] is None  # from the next request
    assert (await app.admin(TEAM, id="tmp"))["team"] is None
    [event] = await audit(app, "team.deleted")
    assert event["subject"] == "tmp" and event["payload"]["after"] is None
    assert event["payload"]["before"]["canRead"] == ["commerce"]
    assert event["payload"]["before"]["members"] == ["ops"]
    await refused(app, app.admin, DELETE, ["NOT_FOUND"], id="tmp")


async def test_bad_team_input_is_refused_and_changes_nothing(app: App) -> None:
    for i, code in [
        ({"id": "x", "name": "X", "canRead": ["no-such-domain"]}, "BAD_INPUT"),
        ({"id": "x", "name": "X", "canAct": ["no-such-domain"]}, "BAD_INPUT"),
        ({"id": "bad id!", "name": "X"}, "BAD_INPUT"),
        ({"id": "x", "name": ""}, "BAD_INPUT"),
        ({"id": "x", "name": "X", "cleared": ["Not A Label"]}, "BAD_INPUT"),
    ]:
        await refused(app, app.admin, SET, [code], i=i)
    await refused(app, app.admin, ADD, ["NOT_FOUND"], p="nobody", t="sre")
    await refused(app, app.admin, ADD, ["NOT_FOUND"], p="alice", t="no-team")
    await refused(app, app.admin, REMOVE, ["NOT_FOUND"], p="nobody", t="sre")


@pytest.mark.parametrize("role", ["OPERATOR", "AUDITOR", "INTEGRATION", "AGENT"])
async def test_only_admins_change_teams_and_memberships(app: App, role: str) -> None:
    c = await principal(app, f"who-{role.lower()}", role, agent_id="x-1")
    await refused(
        app, c, SET, ["FORBIDDEN"], i={"id": "sre", "name": "mine", "canRead": ["payments"]}
    )
    await refused(app, c, SET, ["FORBIDDEN"], i={"id": "new", "name": "new"})
    await refused(app, c, ADD, ["FORBIDDEN"], p=f"who-{role.lower()}", t="secops")
    await refused(app, c, REMOVE, ["FORBIDDEN"], p="carol", t="secops")
    await refused(app, c, DELETE, ["FORBIDDEN"], id="secops")
    assert (await app.admin(TEAM, id="secops"))["team"]["id"] == "secops"
    if role == "AUDITOR":
        assert (await c(TEAM, id="sre"))["team"]["id"] == "sre"
    else:
        await refused(app, c, TEAMS, ["FORBIDDEN"])


EXPORT = """
domains:
  - {id: logistics, name: Logistics}
entities:
  - {id: wh-1, kind: warehouse, name: Warehouse 1, domain: logistics}
teams:
  - {id: log-ops, name: Logistics ops, canRead: [logistics, commerce], canAct: [logistics],
     cleared: [pii]}
humans:
  - {id: lena, name: Lena (logistics lead), roles: [operator], teams: [log-ops, sre]}
"""


async def test_baton_import_loads_teams_grants_and_memberships_audited(
    app: App, tmp_path: Path
) -> None:
    from tests.api.test_import import run_import

    f = tmp_path / "org.yaml"
    f.write_text(EXPORT)
    for _ in range(2):  # the second import changes nothing and audits nothing
        done = run_import(app, f)
        assert done.returncode == 0, done.stdout + done.stderr
    team = (await app.admin(TEAM, id="log-ops"))["team"]
    assert team == {
        "id": "log-ops",
        "name": "Logistics ops",
        "canRead": ["commerce", "logistics"],
        "canAct": ["logistics"],
        "cleared": ["pii"],
        "members": ["lena"],
        "agents": [],
    }
    assert "lena" in (await app.admin(TEAM, id="sre"))["team"]["members"]
    assert [e["subject"] for e in await audit(app, "team.set")] == ["log-ops"]
    added = await audit(app, "team.member_added")
    assert sorted(e["payload"]["teamId"] for e in added) == ["log-ops", "sre"]
    assert {e["actor"] for e in added} == {"import"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("humans:\n  - {id: lena, name: L, roles: [operator], teams: [no-team]}\n")
    done = run_import(app, bad)
    assert done.returncode == 2 and "NOT_FOUND" in done.stdout, done.stdout + done.stderr
