"""An MCP server that lets any MCP-capable agent join Baton (`baton mcp`).

It speaks to Baton only through the public GraphQL API with the token it was started with,
so every tool is scoped exactly as that token is: an agent token reads the context its team
may read and acts only as its own agent.
"""

from __future__ import annotations

from typing import Any

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("baton_sdk.mcp needs the MCP SDK: pip install 'baton-sdk[mcp]'") from exc

from baton_sdk import __version__
from baton_sdk import documents as gql
from baton_sdk._transport import Transport
from baton_sdk.errors import BatonError


def build(url: str, token: str) -> MCPServer[Any]:
    """The MCP server with Baton's tools, bound to one API endpoint and token."""
    api = Transport(url, token)
    server: MCPServer[Any] = MCPServer(
        name="baton",
        version=__version__,
        log_level="WARNING",  # its own request log would drown the console (stdio uses stderr)
        instructions="Baton is the control plane for this organisation's agents. Read shared "
        "context before acting, assert what you learn, propose actions for human approval.",
    )
    me: dict[str, Any] = {}

    async def call(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call; Baton's coded errors reach the model as tool errors it can read."""
        try:
            return await api.execute(query, variables)
        except BatonError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from exc

    async def resolve_agent(given: str | None) -> str:
        if given:
            return given
        if "agentId" not in me:
            me.update((await call(gql.MCP_ME))["me"])
        if not me.get("agentId"):
            raise ValueError("this token is not an agent's: pass agent_id")
        return str(me["agentId"])

    @server.tool(
        description="Current facts about an entity and its neighbourhood that you may "
        "read, nearest, newest and surest first."
    )
    async def get_context(
        entity_id: str, hops: int = 2, agent_id: str | None = None
    ) -> list[dict[str, Any]]:
        v = {"e": entity_id, "a": await resolve_agent(agent_id), "h": hops}
        got = await call(gql.MCP_CONTEXT, v)
        return list(got["context"])

    @server.tool(
        description="Search what you may read by meaning: facts and entities like `text` "
        "(e.g. past incidents: kinds=['incident']), optionally close to entity `near`."
    )
    async def search_context(
        text: str, near: str | None = None, kinds: list[str] | None = None, first: int = 10
    ) -> list[dict[str, Any]]:
        got = await call(gql.SEARCH, {"q": text, "near": near, "k": kinds, "n": first, "t": None})
        return list(got["searchContext"])

    @server.tool(
        description="Record what you learned about an entity, how sure you are, and "
        "the fact or task ids it was based on."
    )
    async def assert_fact(
        entity_id: str,
        key: str,
        value: Any,
        confidence: float,
        derived_from: list[str] | None = None,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        i = {
            "agentId": await resolve_agent(agent_id),
            "entityId": entity_id,
            "key": key,
            "value": value,
            "confidence": confidence,
            "derivedFrom": derived_from or [],
        }
        return dict((await call(gql.MCP_ASSERT_FACT, {"i": i}))["assertFact"])

    @server.tool(
        description="Propose an action for a task you hold. It runs at once if policy "
        "trusts your confidence, else waits for a human decision."
    )
    async def propose_action(
        task_id: str,
        fence: int,
        kind: str,
        summary: str,
        confidence: float,
        rationale: str = "",
        payload: dict[str, Any] | None = None,
        fact_ids: list[str] | None = None,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        i = {
            "taskId": task_id,
            "agentId": await resolve_agent(agent_id),
            "fence": fence,
            "kind": kind,
            "summary": summary,
            "confidence": confidence,
            "rationale": rationale,
            "payload": payload or {},
            "factIds": fact_ids or [],
        }
        return dict((await call(gql.MCP_PROPOSE, {"i": i}))["proposeAction"])

    @server.tool(description="Take the best task you are eligible for (or nothing).")
    async def claim_task(
        capability: str | None = None, agent_id: str | None = None
    ) -> dict[str, Any] | None:
        got = await call(gql.MCP_CLAIM, {"a": await resolve_agent(agent_id), "c": capability})
        task: dict[str, Any] | None = got["claimTask"]
        return task

    @server.tool(description="Report a task done, with its fencing token and result.")
    async def complete_task(
        task_id: str,
        fence: int,
        result: Any = None,
        cost_usd: float = 0.0,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        v = {
            "t": task_id,
            "a": await resolve_agent(agent_id),
            "f": fence,
            "r": result,
            "c": cost_usd,
        }
        return dict((await call(gql.MCP_COMPLETE, v))["completeTask"])

    @server.tool(
        description="What a fact, task or proposal was derived from (UPSTREAM) or what "
        "it influenced (DOWNSTREAM), as nodes and edges."
    )
    async def lineage(id: str, direction: str = "UPSTREAM", depth: int = 3) -> dict[str, Any]:
        got = await call(gql.MCP_LINEAGE, {"id": id, "d": direction, "n": depth})
        return dict(got["lineage"])

    return server
