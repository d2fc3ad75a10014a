"""Who is reading: the ``Reader`` every grant-filtered read takes (its ``params`` are the
filter's parameters in the Cypher statement). Its own module so that the reads built on it
(context, lineage, tasks, runs) need not import each other; ``app.core.context`` re-exports it.
Also who a principal reads as (:func:`reader_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models import Principal, Role


@dataclass(frozen=True)
class Reader:
    """Who is reading: an agent, or a human principal, or someone who sees all.

    The reader is always the caller. ``inspector`` marks the one exception: an auditor (or
    admin) reading *as* agent ``agent_id`` sees what that agent may see, and the read is
    audited as the inspector's own ``context.inspected`` event, never as the agent's decision.
    """

    agent_id: str | None = None
    principal_id: str | None = None
    everything: bool = False
    inspector: str | None = None
    caller: str | None = None  # the calling principal's id (what it submitted, approves)

    def params(self) -> dict[str, Any]:
        return {
            "agentId": self.agent_id,
            "principalId": self.principal_id,
            "all": self.everything,
            "callerId": self.caller,
        }


EVERYONE = Reader(everything=True)
"""The reader for internal reads (the engine, exports run by an admin)."""


def reader_of(caller: Principal) -> Reader:
    """The caller as a reader, the rule every read by a caller starts from (README "Who may
    read what"): an agent reads as itself, any other principal with its own teams' grants;
    auditors and admins read everything. In core so that the API's resolvers and its batched
    loaders apply it alike."""
    if caller.agent_id is not None and Role.AGENT in caller.roles:
        return Reader(agent_id=caller.agent_id, caller=caller.id)
    return Reader(principal_id=caller.id, everything=caller.has(Role.AUDITOR), caller=caller.id)
