"""``baton demo incident|compliance|onboarding``: one showcase end to end.

Without ``--url`` it brings up a private stack (``baton serve --seed`` on a temporary embedded
graph), starts the demo agents as their own process, starts the workflow the way production
would (an alert event, an API call, a CRM event), plays the human at approval steps, prints a
live timeline, and ends with the run's trace and cost.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from app.observability import trace_render as traceview
from baton_sdk import Transport

REPO = Path(__file__).resolve().parents[2]
RUN = """query($id: ID!) { run(id: $id) { id workflow status error result accountable costUsd
  traceId steps { stepId kind status attempt taskId proposalId result note startedAt endedAt
  agentId costUsd } } }"""
FIND = """query($w: String!) { runs(workflow: $w, first: 20) { nodes { id trigger } } }"""
EMIT = """mutation($t: String!, $p: JSON, $k: String) { emitEvent(type: $t, payload: $p, key: $k) {
  seq } }"""
START = """mutation($n: String!, $i: JSON) { startWorkflow(name: $n, input: $i) { id } }"""
ROTATE = """mutation($p: String!) { rotateToken(principalId: $p) }"""
DECIDE = """mutation($id: ID!, $r: String!) {
  decideProposal(id: $id, decision: APPROVE, reason: $r) { status decidedBy } }"""
TRACE = traceview.TRACE_QUERY


@dataclass(frozen=True)
class Showcase:
    workflow: str
    how: str  # "event" or "api"
    event: str = ""
    payload: dict[str, Any] | None = None
    human: str = "alice"


SHOWCASES = {
    "incident": Showcase(
        "incident-response",
        "event",
        "alert.fired",
        {"severity": "critical", "service": "svc-checkout", "incident": "inc-2291"},
    ),
    "compliance": Showcase(
        "compliance-review",
        "api",
        payload={"system": "sys-postgres-payments", "control": "ctl-pci-dss"},
        human="carol",
    ),
    "onboarding": Showcase(
        "customer-onboarding",
        "event",
        "crm.customer_created",
        {"customer": "cust-acme", "plan": "enterprise"},
    ),
}


def _die_with_parent() -> None:
    """In the private app's process (Linux): SIGTERM once the demo is gone, so a demo killed
    outright (no clean-up) does not leave its app and embedded graph running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """A private app on a temporary embedded graph, plus the demo agents process."""

    def __init__(
        self, url: str | None, token: str | None, fail: str = "", keep: Path | None = None
    ) -> None:
        self.token = token or f"bt_demo_{secrets.token_hex(16)}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.keep = keep.resolve() if keep is not None else None
        if self.keep is not None:  # the data dir stays, so the run can be opened again
            self.keep.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.tmp = self.keep
        else:
            self.tmp = Path(tempfile.mkdtemp(prefix="baton-demo-"))
        if url is None:
            if self.keep is not None:  # `baton admin-token` / `baton trace` find it there
                fd = os.open(self.tmp / "admin-token", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(self.token + "\n")
            port = _free_port()
            env = {
                **os.environ,
                "BATON_DATA_DIR": str(self.tmp),
                "BATON_GRAPH_URI": f"embedded://{self.tmp / 'graph'}",
                "BATON_ADMIN_TOKEN": self.token,
                "BATON_ROUTE_INTERVAL_MS": "50",
                "BATON_WORKFLOW_INTERVAL_MS": "100",
            }
            log = open(self.tmp / "app.log", "ab")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app", "serve", "--seed", "--port", str(port)],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            )
            url = f"http://127.0.0.1:{port}"
        self.url = url
        self.fail = fail

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs and self.procs[0].poll() is not None:
                raise RuntimeError(f"the app exited: {(self.tmp / 'app.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the app did not become healthy")

    def start_agents(self) -> None:
        args = [sys.executable, "-m", "app.demo.agents", self.url, self.token, "--with-parent"]
        if self.fail:
            args += ["--fail", self.fail]
        self.procs.append(
            subprocess.Popen(
                args,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=open(self.tmp / "agents.log", "ab"),
            )
        )  # noqa: SIM115

    def check_agents(self) -> None:
        """Raise with the agents' log tail if their process has ended (a run would wait for
        them for ever)."""
        agents = self.procs[-1] if self.procs else None
        if agents is not None and agents.poll() is not None:
            tail = (self.tmp / "agents.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the demo agents exited ({agents.returncode}):\n{tail}")

    def close(self) -> None:
        """Stop the app and the agents; remove the temporary data dir unless it is kept."""
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.keep is None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _short(value: Any, n: int = 70) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= n else text[: n - 1] + "…"


async def _start(api: Transport, show: Showcase, console: Console) -> str:
    if show.how == "api":
        got = await api.execute(START, {"n": show.workflow, "i": show.payload})
        console.print(f"[bold]startWorkflow[/bold] {show.workflow} {_short(show.payload)}")
        return str(got["startWorkflow"]["id"])
    key = f"demo-{secrets.token_hex(4)}"
    ev = await api.execute(EMIT, {"t": show.event, "p": show.payload, "k": key})
    console.print(
        f"[bold]event[/bold] {show.event} #{ev['emitEvent']['seq']} "
        f"{_short(show.payload)} -> trigger starts {show.workflow}"
    )
    for _ in range(200):  # the trigger job picks it up within a few hundred ms
        for r in (await api.execute(FIND, {"w": show.workflow}))["runs"]["nodes"]:
            if (r["trigger"] or {}).get("key") == key:
                return str(r["id"])
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no run of {show.workflow} was triggered")


async def follow(
    api: Transport,
    run_id: str,
    show: Showcase,
    console: Console,
    human: Transport | None = None,
    timeout: float = 120,
    stack: Stack | None = None,
) -> dict[str, Any]:
    """Print each step's transitions as they happen; approve checkpoints as the human (with
    their own token when we have one, else as the admin)."""
    approver = show.human if human else "admin"
    human = human or api
    t0 = time.monotonic()
    seen: dict[str, str] = {}
    decided: set[str] = set()
    while True:
        if stack is not None:
            stack.check_agents()
        run = (await api.execute(RUN, {"id": run_id}))["run"]
        for s in run["steps"]:
            if seen.get(s["stepId"]) == s["status"] or s["status"] == "waiting":
                continue
            seen[s["stepId"]] = s["status"]
            who = f" by {s['agentId']}" if s["agentId"] and s["status"] == "done" else ""
            detail = f" {_short(s['result'])}" if s["status"] == "done" and s["result"] else ""
            note = f" ({s['note']})" if s["note"] else ""
            colour = {
                "done": "green",
                "failed": "red",
                "skipped": "yellow",
                "awaiting_approval": "magenta",
            }.get(s["status"], "cyan")
            console.print(
                f"[dim]{time.monotonic() - t0:6.2f}s[/dim] [{colour}]{s['stepId']:<14} "
                f"{s['status']}[/{colour}]{who}{note}{detail}"
            )
            if s["status"] == "awaiting_approval" and s["proposalId"] not in decided:
                decided.add(s["proposalId"])
                await human.execute(DECIDE, {"id": s["proposalId"], "r": "looks right (demo)"})
                console.print(
                    f"[dim]{time.monotonic() - t0:6.2f}s[/dim] [magenta]{approver} "
                    f"approves {s['stepId']} in the inbox[/magenta]"
                )
        if run["status"] != "running":
            colour = "green" if run["status"] == "done" else "red"
            console.print(
                f"[bold {colour}]run {run['status']}[/bold {colour}] in "
                f"{time.monotonic() - t0:.2f}s" + (f": {run['error']}" if run["error"] else "")
            )
            return dict(run)
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"run {run_id} still running after {timeout} s")
        await asyncio.sleep(0.1)


def summary(run: dict[str, Any], trace: dict[str, Any] | None, console: Console) -> None:
    """The run's trace (span tree, when the trace API is there) and its cost per step."""
    if trace and trace.get("spans"):
        console.print(traceview.tree(trace, f"{run['workflow']} {run['id']}"))
    table = Table("step", "kind", "agent", "status", "ms", "cost $", title=f"run {run['id']}")
    for s in run["steps"]:
        ms = (s["endedAt"] - s["startedAt"]) if s["endedAt"] and s["startedAt"] else None
        table.add_row(
            s["stepId"],
            s["kind"],
            s["agentId"] or "",
            s["status"],
            str(ms) if ms is not None else "",
            f"{s['costUsd']:.3f}",
        )
    console.print(table)
    console.print(
        f"[bold]total cost[/bold] ${run['costUsd']:.3f}; accountable: {run['accountable']}"
    )


def reopen_hint(stack: Stack, url: str | None, run_id: str) -> str:
    """The exact commands to look at the run again after the demo has ended."""
    if url is not None:  # a Baton of the user's: the run is there
        return f"trace it again: BATON_URL={shlex.quote(url)} baton trace {run_id} --token …"
    if stack.keep is None:
        return (
            f"the private Baton is removed; `baton demo … --keep DIR` keeps it, so "
            f"`baton trace {run_id}` works afterwards"
        )
    d = shlex.quote(str(stack.keep))
    return (
        f"kept the private Baton in {stack.keep}; trace the run again with\n"
        f"  BATON_DATA_DIR={d} BATON_GRAPH_URI=embedded://{d}/graph baton serve &\n"
        f"  BATON_DATA_DIR={d} baton trace {run_id}"
    )


async def demo(
    name: str,
    url: str | None = None,
    token: str | None = None,
    fail: str = "",
    console: Console | None = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Run one showcase end to end; returns the finished run. ``keep``: the private stack's
    data dir, kept afterwards (else a temporary one, removed)."""
    console = console or Console()
    show = SHOWCASES[name]
    stack = Stack(url, token, fail, keep)
    run_id = None
    try:
        if url is None:
            console.print(f"[dim]starting a private Baton (graph in {stack.tmp})…[/dim]")
            await asyncio.to_thread(stack.wait_healthy)
        stack.start_agents()
        api = Transport(stack.url, stack.token, retries=8)
        human = None
        try:
            if url is None:  # our private stack: the seeded human signs in with a fresh token
                tok = (await api.execute(ROTATE, {"p": show.human}))["rotateToken"]
                human = Transport(stack.url, tok)
            run_id = await _start(api, show, console)
            run = await follow(api, run_id, show, console, human, stack=stack)
            try:
                trace = (await api.execute(TRACE, {"id": run_id}))["trace"]
            except Exception as exc:  # an older server without the trace API
                console.print(f"[dim]no trace: {exc}[/dim]")
                trace = None
            summary(run, trace, console)
            return run
        finally:
            await api.close()
            if human is not None:
                await human.close()
    finally:
        await asyncio.to_thread(stack.close)
        if run_id is not None:
            console.print(reopen_hint(stack, url, run_id), highlight=False, soft_wrap=True)
