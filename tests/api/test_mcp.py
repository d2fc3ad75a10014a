"""`baton mcp` with the official MCP client over stdio: tools listed, context read and an
action proposed, with permissions following the token."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import TextContent

from tests.api.test_inbox import setup, working
from tests.conftest import App
from tests.support.procs import CHECKOUT_PATH

REPO = Path(__file__).resolve().parents[2]
ASSERT = "mutation($i: AssertFactInput!) { assertFact(input: $i) { fact { id } } }"


def payload(result: Any) -> Any:
    """A tool's value: structured content when the tool declares one, else its text."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        sc = result.structured_content
        return sc.get("result", sc) if isinstance(sc, dict) else sc
    return json.loads(result.content[0].text)


async def test_mcp_tools_over_stdio_follow_the_token(api: App) -> None:
    await setup(api)
    w, t = await working(api, "mcp-agent", "sre")
    await w(
        ASSERT,
        i={
            "agentId": "mcp-agent",
            "entityId": "svc-checkout",
            "key": "health",
            "value": "degraded",
            "confidence": 0.8,
        },
    )
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp", "--url", api.url],
        env={"BATON_TOKEN": w.token or "", "PYTHONPATH": CHECKOUT_PATH},
        cwd=str(REPO),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        names = {tool.name for tool in (await session.list_tools()).tools}
        assert names == {
            "get_context",
            "assert_fact",
            "propose_action",
            "claim_task",
            "complete_task",
            "lineage",
            "search_context",
        }
        facts = payload(await session.call_tool("get_context", {"entity_id": "svc-web"}))
        assert [(f["key"], f["distance"]) for f in facts] == [("health", 1)]
        found = payload(
            await session.call_tool(
                "search_context", {"text": "checkout health degraded", "near": "svc-checkout"}
            )
        )
        assert any(h["type"] == "fact" and h["key"] == "health" for h in found), found
        proposed = payload(
            await session.call_tool(
                "propose_action",
                {
                    "task_id": t["id"],
                    "fence": t["fence"],
                    "kind": "rollback",
                    "summary": "roll back checkout",
                    "confidence": 0.5,
                },
            )
        )
        assert proposed["status"] == "pending"
        # The token is an agent's: it cannot read or act as another agent.
        denied = await session.call_tool(
            "get_context", {"entity_id": "svc-web", "agent_id": "agent-compliance"}
        )
        assert denied.is_error and isinstance(denied.content[0], TextContent)
        assert "FORBIDDEN: p-mcp-agent may not act as agent" in denied.content[0].text
