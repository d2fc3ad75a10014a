"""The agent worker: register, receive work (push subscription, pull fallback), run handlers
with bounded concurrency, heartbeat with leases, report results, drain on SIGTERM.

Only the public GraphQL API is used. Results are reported in small batches
(``completeTasks``), the way a broker client pipelines acknowledgements. What a handler
receives is ``baton_sdk.task_context``; the agent's set-up (identity, URL and token,
handlers) is ``baton_sdk._agent_base``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton_sdk import documents as gql
from baton_sdk import errors
from baton_sdk._agent_base import DEFAULT_URL, AgentBase
from baton_sdk._transport import TransportError, backoff
from baton_sdk.task_context import Handler, ProposalOutcome, Retryable, TaskContext

log = logging.getLogger("baton.sdk.agent")

__all__ = [
    "DEFAULT_URL",
    "TRANSIENT",
    "Agent",
    "Handler",
    "ProposalOutcome",
    "Retryable",
    "TaskContext",
]


_RUNNING: set[Agent] = set()
# The control plane (or its graph) was briefly unable to answer, not the work wrong: another
# attempt may succeed. TIMEOUT is the server's bound on a request, hit when its graph is busy.
TRANSIENT = ("INTERNAL", "UNAVAILABLE", "RATE_LIMITED", "TIMEOUT")


def _on_signal(agent: Agent) -> None:
    """SIGTERM/SIGINT stop every agent running in this process (one handler for all of them:
    a second ``add_signal_handler`` would replace the first)."""
    _RUNNING.add(agent)

    def stop_all() -> None:
        for a in list(_RUNNING):
            a.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop_all)


class Agent(AgentBase):
    """An agent worker. ``await agent.run()`` until stopped (SIGTERM/SIGINT or ``stop()``).

    ``url`` and ``token`` may be left out: `baton agent run --url/--token` supplies them, or
    else the ``BATON_URL`` / ``BATON_TOKEN`` environment variables (URL default
    ``http://127.0.0.1:8000``), so no token needs to live in source code."""

    async def run(self) -> None:
        """Register, then work until stopped; returns after draining."""
        self._loop = asyncio.get_running_loop()
        head = await self._register()
        _on_signal(self)
        await self._resume()
        background = [
            asyncio.create_task(self._listen(head), name="baton-listen"),
            asyncio.create_task(self._heartbeat(), name="baton-heartbeat"),
            asyncio.create_task(self._flusher(), name="baton-flush"),
        ]
        try:
            await self._pull()
        finally:
            _RUNNING.discard(self)
            # Draining: pause first so the router stops sending work this process won't do.
            with contextlib.suppress(Exception):
                await self.api.execute(gql.PAUSE, {"a": self.id})
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            await self._flush()
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.api.close()
            if self._threads is not None:
                self._threads.shutdown(wait=False)

    async def _register(self) -> int:
        """Register (retrying while the control plane is unreachable or its graph busy: a
        worker outlives restarts of the app; registering twice is one agent); returns the
        event cursor to subscribe from."""
        attempt = 0
        while True:
            try:
                head = int((await self.api.execute(gql.EVENT_HEAD))["eventHead"])
                await self.api.execute(
                    gql.REGISTER,
                    {
                        "i": {
                            "id": self.id,
                            "name": self.name,
                            "capabilities": self.capabilities,
                            "maxConcurrency": self.max_concurrency,
                            "team": self.team,
                        }
                    },
                )
                return head
            except (TransportError, errors.Timeout, errors.Unavailable) as exc:
                attempt += 1
                log.warning("cannot register yet (%s); retrying", exc)
                await asyncio.sleep(backoff(attempt, 0.2, 5.0))

    # -- receiving work ---------------------------------------------------------------

    async def _listen(self, after: int) -> None:
        """Pushed assignments since just before registering (so none made in between is
        missed); the transport resumes its cursor after a reconnect. If the subscription
        itself fails, pulling carries on and the subscription is re-opened."""
        cursor = after
        while True:
            try:
                async for seq in self._assignments(cursor):
                    cursor = seq
            except errors.BatonError as exc:
                log.warning("assignment subscription failed (%s); re-opening", exc)
                await asyncio.sleep(1.0)

    async def _assignments(self, after: int) -> Any:
        async for data in self.api.subscribe(
            gql.ASSIGNED,
            {"a": self.id},
            cursor=after,
            seq_of=lambda d: d["taskAssigned"]["seq"],
        ):
            ev = data["taskAssigned"]
            if ev["type"] == "task.assigned" and ev["task"] and not self._stop.is_set():
                if self._new(ev["task"]):
                    await self._slots.acquire()
                    self._launch(ev["task"], start=self.mark_running)
            elif ev["type"] in ("task.cancelled", "task.preempted"):
                self._abandon(ev["taskId"])
            elif ev["type"] == "proposal.decided" and ev.get("proposalId"):
                self._decided(ev["proposalId"], ev["decision"])
            yield ev["seq"]

    async def _pull(self) -> None:
        """Claim when there are free slots: the fallback when pushes stop arriving."""
        while not self._stop.is_set():
            free = self.max_concurrency - len(self.held)
            if free > 0:
                try:
                    got = await self.api.execute(gql.CLAIM, {"a": self.id, "n": free})
                except errors.BatonError as exc:
                    log.warning("claim failed: %s", exc)
                    got = {"claimTasks": []}
                for t in got["claimTasks"]:
                    await self._slots.acquire()
                    self._launch(t, start=False)
                if got["claimTasks"]:
                    continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self._wake.wait()

    async def _resume(self) -> None:
        """Work already assigned to this agent id (pushed to a previous incarnation of this
        worker that died, or while this one was starting) is done now, not after its lease
        runs out: the fencing token still guards against a zombie predecessor."""
        try:
            got = await self.api.execute(gql.MINE, {"a": self.id})
        except errors.BatonError as exc:
            log.warning("could not list assigned work: %s", exc)
            return
        for status in ("assigned", "running"):
            for t in got[status]["nodes"]:
                if self._new(t) and len(self.held) < self.max_concurrency:
                    await self._slots.acquire()
                    self._launch(t, start=False)

    def _new(self, task: dict[str, Any]) -> bool:
        """Not running and not run before with this fencing token."""
        return task["id"] not in self.held and (task["id"], task["fence"]) not in self._started

    def _launch(self, task: dict[str, Any], *, start: bool) -> None:
        """Run ``task`` in the slot the caller holds (released here if it is a repeat that
        arrived while the caller waited for the slot)."""
        if not self._new(task):
            self._slots.release()
            return
        self._started[(task["id"], task["fence"])] = None
        while len(self._started) > 10_000:
            self._started.popitem(last=False)
        self.held[task["id"]] = task["fence"]
        job = asyncio.create_task(self._execute(task, start), name=task["id"])
        self._running.add(job)
        job.add_done_callback(self._running.discard)

    def _decision_future(self, proposal_id: str) -> asyncio.Future[str]:
        fut = self._decisions.get(proposal_id)
        if fut is None:
            fut = self._decisions[proposal_id] = asyncio.get_running_loop().create_future()
        return fut

    def _decided(self, proposal_id: str, decision: str) -> None:
        fut = self._decision_future(proposal_id)  # the answer may beat the waiter
        if not fut.done():
            fut.set_result(decision)

    async def _decision(self, proposal_id: str) -> str:
        try:
            return await self._decision_future(proposal_id)
        finally:
            self._decisions.pop(proposal_id, None)

    def _abandon(self, task_id: str) -> None:
        self.held.pop(task_id, None)
        for job in list(self._running):
            if job.get_name() == task_id:
                job.cancel()

    # -- doing work ---------------------------------------------------------------------

    async def _execute(self, task: dict[str, Any], start: bool) -> None:
        ctx = TaskContext(
            id=task["id"],
            kind=task["kind"],
            capability=task["capability"],
            payload=task.get("payload") or {},
            fence=task["fence"],
            attempts=task["attempts"],
            entities=task.get("entities") or [],
            resources=task.get("resources") or [],
            agent=self,
            run_id=task.get("runId"),
            parent_id=task.get("parentId"),
            rounds=task.get("rounds") or 0,
            feedback=task.get("feedback"),
            traceparent=task.get("traceparent"),
        )
        try:
            if ctx.rounds and ctx.feedback is None:  # pushed: the event does not carry free text
                got = await self.api.execute(gql.SUB_TASK, {"id": ctx.id})
                ctx.feedback = (got["task"] or {}).get("feedback")
            if start:
                await self.api.execute(gql.START, {"t": ctx.id, "a": self.id, "f": ctx.fence})
            handler = self.handlers.get(ctx.capability)
            if handler is None:
                raise LookupError(f"no handler for capability {ctx.capability!r}")
            result = await self._call(handler, ctx)
            self.done.append(
                {"taskId": ctx.id, "fence": ctx.fence, "result": result, "costUsd": ctx.cost_usd}
            )
            self._flushed.set()
        except asyncio.CancelledError:
            return  # taken away (cancelled / pre-empted): nothing to report
        except errors.Conflict:
            log.info("task %s is no longer ours", ctx.id)
        except Exception as exc:
            await self._report_failure(ctx, exc)
        finally:
            self.held.pop(ctx.id, None)
            self._slots.release()
            self._wake.set()

    async def _call(self, handler: Handler, ctx: TaskContext) -> Any:
        """Run a handler: a coroutine function here, a plain function in a worker thread."""
        if inspect.iscoroutinefunction(handler):
            return await handler(ctx)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.max_concurrency, f"baton-{self.id}")
        got = await asyncio.get_running_loop().run_in_executor(self._threads, handler, ctx)
        return await got if inspect.isawaitable(got) else got

    def _transient(self, exc: Exception) -> bool:
        """Worth another attempt: the declared retryable types, and API errors that say the
        control plane (or its graph) was briefly unavailable rather than that the work is
        wrong."""
        if isinstance(exc, self.retryable):
            return True
        return isinstance(exc, errors.BatonError) and exc.code in TRANSIENT

    async def _report_failure(self, ctx: TaskContext, exc: Exception) -> None:
        details = {"type": type(exc).__name__, "traceback": traceback.format_exc()[-4000:]}
        try:
            await self.api.execute(
                gql.FAIL,
                {
                    "t": ctx.id,
                    "a": self.id,
                    "f": ctx.fence,
                    "e": str(exc) or type(exc).__name__,
                    "r": self._transient(exc),
                    "d": details,
                },
            )
        except errors.Conflict:
            log.info("failure of %s not recorded: no longer ours", ctx.id)

    async def _flusher(self) -> None:
        while True:
            await self._flushed.wait()
            await asyncio.sleep(self.flush_s)  # let a few results gather
            self._flushed.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self.done = self.done, []
        if not batch:
            return
        try:
            got = await self.api.execute(gql.COMPLETE_MANY, {"a": self.id, "items": batch})
            self.completed += len(got["completeTasks"])
        except (TransportError, errors.Timeout, errors.Unavailable) as exc:
            # the app is restarting or its graph busy: keep the results and resend them (a
            # batch that did commit is answered without those tasks: they are no longer ours)
            log.warning("could not report %d results yet (%s); retrying", len(batch), exc)
            self.done = batch + self.done
            if not self._stop.is_set():
                await asyncio.sleep(1.0)
                self._flushed.set()
        except errors.BatonError as exc:
            log.error("could not report %d results: %s", len(batch), exc)

    async def _heartbeat(self) -> None:
        while True:
            leases = [{"taskId": t, "fence": f} for t, f in self.held.items()]
            try:
                got = await self.api.execute(gql.HEARTBEAT, {"a": self.id, "l": leases})
                for lost in got["heartbeat"]["lost"]:
                    self._abandon(lost)
            except errors.BatonError as exc:
                log.warning("heartbeat failed: %s", exc)
            await asyncio.sleep(self.heartbeat_s)
