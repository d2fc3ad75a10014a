"""What a handler receives: :class:`TaskContext` (the task, its fence, and the context, fact,
proposal and sub-task calls made on its behalf), :class:`ProposalOutcome`, and
:class:`Retryable` for a transient failure. Re-exported by ``baton_sdk`` and
``baton_sdk.agent``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from baton_sdk import documents as gql

if TYPE_CHECKING:
    from baton_sdk.agent import Agent


class Retryable(Exception):
    """Raise from a handler for a transient failure: the task is retried with backoff."""


@dataclass
class TaskContext:
    """What a handler receives: the task, the fence it must report under, and the shared
    context, fact and proposal calls made on its behalf."""

    id: str
    kind: str
    capability: str
    payload: dict[str, Any]
    fence: int
    attempts: int
    entities: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    run_id: str | None = None  # the workflow run it belongs to
    parent_id: str | None = None  # the supervisor's task, for a sub-task
    rounds: int = 0  # times a supervisor sent it back
    feedback: str | None = None  # the supervisor's feedback on the last round
    traceparent: str | None = None  # W3C: pass it to your own tracing / LLM calls
    agent: Agent | None = field(default=None, repr=False)

    def report_cost(self, usd: float) -> None:
        """Attribute spend to this task (sent with the result)."""
        self.cost_usd += usd

    def _api(self) -> Agent:
        assert self.agent is not None, "TaskContext is not bound to a running Agent"
        return self.agent

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """From a sync handler (which runs in a worker thread): run one of the async helpers
        on the agent's event loop and wait for it, e.g. ``task.call(task.context())``."""
        loop = self._api()._loop
        assert loop is not None, "the agent is not running"
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    async def context(self, entity_id: str | None = None, hops: int = 1) -> list[dict[str, Any]]:
        """What this agent may know around the task's entities (or one entity)."""
        a = self._api()
        if entity_id is None:
            got = await a.api.execute(gql.CONTEXT_FOR_TASK, {"t": self.id, "h": hops})
            return list(got["contextForTask"])
        got = await a.api.execute(
            gql.CONTEXT_AS_AGENT, {"e": entity_id, "a": a.id, "h": hops, "t": self.id}
        )
        return list(got["context"])

    async def search(
        self,
        text: str,
        *,
        near: str | None = None,
        kinds: list[str] | None = None,
        first: int = 10,
    ) -> list[dict[str, Any]]:
        """Facts and entities this agent may read that are like ``text`` (by meaning, words
        and, with ``near``, closeness to that entity), best first; recorded as this task's
        context read."""
        a = self._api()
        got = await a.api.execute(
            gql.SEARCH, {"q": text, "near": near, "k": kinds, "n": first, "t": self.id}
        )
        return list(got["searchContext"])

    async def assert_fact(
        self,
        entity_id: str,
        key: str,
        value: Any,
        confidence: float,
        derived_from: list[str] | None = None,
    ) -> str:
        """Record a finding; by default it is DERIVED_FROM this task. Returns the fact id."""
        a = self._api()
        i = {
            "agentId": a.id,
            "entityId": entity_id,
            "key": key,
            "value": value,
            "confidence": confidence,
            "derivedFrom": derived_from or [self.id],
        }
        got = await a.api.execute(gql.ASSERT_FACT, {"i": i})
        return str(got["assertFact"]["fact"]["id"])

    async def propose(
        self,
        kind: str,
        summary: str,
        confidence: float,
        *,
        payload: dict[str, Any] | None = None,
        rationale: str = "",
        fact_ids: list[str] | None = None,
        timeout: float | None = None,
    ) -> ProposalOutcome:
        """Propose an action and wait for the outcome: at once if policy auto-executes it,
        else when a human decides (the payload to act on is the modified one if they edited
        it)."""
        a = self._api()
        i = {
            "taskId": self.id,
            "agentId": a.id,
            "fence": self.fence,
            "kind": kind,
            "summary": summary,
            "confidence": confidence,
            "payload": payload or {},
            "rationale": rationale,
            "factIds": fact_ids or [],
        }
        got = (await a.api.execute(gql.PROPOSE, {"i": i}))["proposeAction"]
        if got["status"] != "pending":
            return ProposalOutcome(got["id"], got["status"], payload or {}, None)
        decision = await asyncio.wait_for(a._decision(got["id"]), timeout)
        p = (await a.api.execute(gql.PROPOSAL, {"id": got["id"]}))["proposal"]
        final = p["modifiedPayload"] if p["modifiedPayload"] is not None else p["payload"]
        return ProposalOutcome(p["id"], decision, final, p["reason"])

    # -- supervising (hierarchical workflows)

    async def delegate(self, capability: str, payload: dict[str, Any], kind: str = "") -> str:
        """Create a sub-task (``CHILD_OF`` this one, in the same run); returns its id."""
        i = {
            "kind": kind or f"{self.kind}.sub",
            "capability": capability,
            "payload": payload,
            "parentId": self.id,
        }
        got = await self._api().api.execute(gql.SUBMIT_CHILD, {"i": i})
        return str(got["submitTask"]["id"])

    async def outcome(self, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until a sub-task has ended (done, failed, dead or cancelled); returns it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            t = (await self._api().api.execute(gql.SUB_TASK, {"id": task_id}))["task"]
            if t and t["status"] in ("done", "failed", "dead", "cancelled"):
                return dict(t)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"sub-task {task_id} did not finish in {timeout} s")
            await asyncio.sleep(0.1)

    async def review(self, task_id: str, accept: bool, feedback: str = "") -> dict[str, Any]:
        """Accept a finished sub-task, or send it back with feedback (bounded rounds)."""
        got = await self._api().api.execute(
            gql.REVIEW, {"a": self._api().id, "t": task_id, "ok": accept, "f": feedback}
        )
        return dict(got["reviewTask"])


@dataclass(frozen=True)
class ProposalOutcome:
    """``approved`` / ``modified`` / ``auto_executed``: act on ``payload``; ``rejected``:
    re-plan or fail the task."""

    id: str
    status: str
    payload: dict[str, Any]
    reason: str | None

    @property
    def go(self) -> bool:
        return self.status in ("approved", "modified", "auto_executed")


# A handler is a coroutine function, or a plain function (run in the agent's thread pool,
# one thread per slot, so blocking code does not stall heartbeats and other tasks).
Handler = Callable[[TaskContext], Awaitable[Any]] | Callable[[TaskContext], Any]
