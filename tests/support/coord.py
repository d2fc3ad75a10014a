"""Helpers for coordination tests: agent principals, GraphQL snippets, running jobs."""

from __future__ import annotations

from typing import Any

from app import scheduler
from tests.conftest import App
from tests.support.gql import GQL, Endpoint

TASK_FIELDS = (
    "id status fence attempts agentId priority capability result errors mergedInto "
    "deferredBehind notBefore history { attempt fence agentId outcome via }"
)
SUBMIT = f"mutation($i: SubmitTaskInput!) {{ submitTask(input: $i) {{ {TASK_FIELDS} }} }}"
CLAIM = f"mutation($a: String!) {{ claimTask(agentId: $a) {{ {TASK_FIELDS} }} }}"
START = f"""mutation($t: String!, $a: String!, $f: Int!) {{
  startTask(taskId: $t, agentId: $a, fence: $f) {{ {TASK_FIELDS} }} }}"""
COMPLETE = f"""mutation($t: String!, $a: String!, $f: Int!, $r: JSON) {{
  completeTask(taskId: $t, agentId: $a, fence: $f, result: $r) {{ {TASK_FIELDS} }} }}"""
FAIL = f"""mutation($t: String!, $a: String!, $f: Int!, $e: String!, $retry: Boolean!) {{
  failTask(taskId: $t, agentId: $a, fence: $f, error: $e, retryable: $retry) {{ {TASK_FIELDS} }}
}}"""
TASK = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
ASSIGNED = """subscription($a: String!, $after: Long) {
  taskAssigned(agentId: $a, after: $after) {
    seq type taskId fence decision proposalId task { id status } } }"""


async def agent(
    app: Endpoint, agent_id: str, caps: list[str], max_concurrency: int = 1, team: str | None = None
) -> GQL:
    """A registered agent and a client holding its own agent token."""
    made = await app.admin(
        """mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }""",
        i={
            "id": f"p-{agent_id}",
            "kind": "agent",
            "name": agent_id,
            "roles": ["AGENT"],
            "agentId": agent_id,
            "team": team,
        },
    )
    client = app.client(made["createPrincipal"]["token"])
    await client(
        """mutation($i: RegisterAgentInput!) { registerAgent(input: $i) { id status } }""",
        i={
            "id": agent_id,
            "name": agent_id,
            "capabilities": caps,
            "maxConcurrency": max_concurrency,
            "team": team,
        },
    )
    return client


async def submit(client: GQL, **task: Any) -> dict[str, Any]:
    task.setdefault("kind", "test")
    task.setdefault("capability", "diagnose")
    return dict((await client(SUBMIT, i=task))["submitTask"])


async def route(app: App) -> int:
    """Run the routing job once, as the scheduler would."""
    return int(await scheduler.route(app.rt))


async def recover(app: App) -> int:
    """Run the recovery job (offline agents, expired leases) once."""
    return int(await scheduler.recover(app.rt))


async def task(client: GQL, task_id: str) -> dict[str, Any]:
    return dict((await client(TASK, id=task_id))["task"])
