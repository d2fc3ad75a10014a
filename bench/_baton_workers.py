"""Baton side of the peer benchmark: SDK agents in their own process (as Celery's workers
are), doing the same no-op work. Args: URL, then agent_id=token pairs."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baton_sdk import Agent, TaskContext  # noqa: E402


async def main(url: str, pairs: list[str]) -> None:
    agents = []
    for pair in pairs:
        agent_id, token = pair.split("=", 1)
        agent = Agent(url, token, name=agent_id, max_concurrency=4, heartbeat_s=5, poll_s=0.5)

        @agent.handles("noop")
        async def noop(t: TaskContext) -> dict[str, float]:
            return {"i": int(t.payload["i"]), "started": time.time()}

        agents.append(agent)
    await asyncio.gather(*(a.run() for a in agents))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
