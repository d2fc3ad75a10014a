"""Deterministic example agents for the showcase workflows, written with the public SDK.

Each seed agent (``seeds/org.yaml``) gets an SDK :class:`Agent` with handlers for its
capabilities. The answers are canned but the work is real: they read context, assert facts
(two of them disagree on the root cause, on purpose), report cost, and the supervisor creates
and reviews sub-tasks. ``faults`` makes chosen capabilities fail, to show recovery.

Run them as a process: ``python -m app.demo.agents URL ADMIN_TOKEN [--fail provision]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from baton_sdk import Agent, BatonError, TaskContext, Transport
from baton_sdk.agent import TRANSIENT

Handler = Callable[[TaskContext], Awaitable[Any]]
PRINCIPAL = """mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { token } }"""


class DemoFailure(Exception):
    """A fault the demo asked for (not retryable)."""


def _entity(service: Any) -> str:
    return service if isinstance(service, str) and service else "svc-checkout"


async def triage(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.002)
    return {"severity": "high", "service": t.payload.get("service"), "confidence": 0.9}


async def root_cause(t: TaskContext) -> dict[str, Any]:
    service = _entity(t.payload.get("service"))
    seen = await t.context(service)
    cause = "bad deploy dep-checkout-412 (connection pool size 5)"
    fact = await t.assert_fact(service, "rootCause", cause, 0.82)
    t.report_cost(0.04)
    return {
        "rootCause": cause,
        "confidence": 0.82,
        "fact": fact,
        "factsSeen": [f["id"] for f in seen],
    }


async def related_incidents(t: TaskContext) -> dict[str, Any]:
    """Searches the incident history by meaning (searchContext) and offers the closest past
    incident's cause: a second opinion the join weighs against root_cause's."""
    service = _entity(t.payload.get("service"))
    symptom = str(
        t.payload.get("symptom")
        or f"{service} degraded: checkout requests slow and failing, database connections exhausted"
    )
    hits = await t.search(symptom, near=service, kinds=["incident"], first=3)
    similar = [h["id"] for h in hits]
    cause = f"{hits[0]['name']} (as in {hits[0]['id']})" if hits else "no similar incident"
    fact = await t.assert_fact(service, "rootCause", cause, 0.55)
    t.report_cost(0.01)
    return {"rootCause": cause, "confidence": 0.55, "similar": similar, "fact": fact}


async def business_impact(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.03)
    return {"ordersPerMinuteLost": 140, "customers": ["cust-initech"], "confidence": 0.7}


async def draft_comms(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.01)
    if t.payload.get("kind") == "training":
        sections = ["getting started", "billing"] + (["SSO set-up"] if t.rounds else [])
        return {"material": sections, "version": t.rounds + 1, "feedback": t.feedback}
    return {
        "draft": f"We are investigating degraded {t.payload.get('service')}; next update "
        "in 30 minutes.",
        "severity": t.payload.get("severity"),
    }


async def notify(t: TaskContext) -> dict[str, Any]:
    return {"sent": True, "kind": t.payload.get("kind"), "to": t.payload.get("customer")}


async def rollback(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.02)
    return {
        "rolledBack": True,
        "service": t.payload.get("service"),
        "decision": t.payload.get("decision"),
    }


async def evidence(t: TaskContext) -> dict[str, Any]:
    if t.payload.get("report"):
        return {"report": f"compliance report for {t.payload.get('system')}", "complete": True}
    return {"items": ["access-logs-q3", "iam-policy-export", "dpa-register"]}


async def compliance_check(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.02)
    return {
        "check": t.payload.get("check"),
        "verdict": "pass",
        "evidence": t.payload.get("evidence"),
    }


async def scan(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.06)
    return {"verdict": "clean", "findings": []}


async def security_review(t: TaskContext) -> dict[str, Any]:
    return {"approved": not t.payload.get("findings"), "deployment": t.payload.get("deployment")}


async def contract_analysis(t: TaskContext) -> dict[str, Any]:
    t.report_cost(0.08)
    return {"risk": "low", "terms": ["99.9% SLA", "EU data residency"]}


async def provision(t: TaskContext) -> dict[str, Any]:
    customer = t.payload.get("customer")
    if t.payload.get("undo"):
        return {"deprovisioned": True, "tenant": f"tenant-{customer}"}
    t.report_cost(0.01)
    return {"tenant": f"tenant-{customer}", "plan": t.payload.get("plan")}


async def quality_check(t: TaskContext) -> dict[str, Any]:
    """The supervisor: asks for a fresh training-material draft, sends the first version back
    with feedback, accepts the second, then signs the onboarding off."""
    customer = t.payload.get("customer")
    sub = await t.delegate(
        "draft_comms", {"customer": customer, "kind": "training"}, kind="onboarding.training-review"
    )
    rounds = 0
    while True:
        out = await t.outcome(sub, timeout=60)
        if out["status"] != "done":
            raise DemoFailure(f"sub-task {sub} {out['status']}")
        if "SSO set-up" in (out["result"] or {}).get("material", []):
            await t.review(sub, True)
            break
        rounds += 1
        await t.review(sub, False, "add the SSO set-up section: the customer uses Okta")
    t.report_cost(0.05)
    return {
        "approved": True,
        "customer": customer,
        "subTasks": [sub],
        "sentBack": rounds,
        "checked": sorted((t.payload.get("results") or {}).keys()),
    }


async def cost_optimisation(t: TaskContext) -> dict[str, Any]:
    return {"recommendation": "route diagnose tasks to the cheaper analyst", "savingUsd": 1.2}


# seed agent -> its team and the handlers it runs
ROSTER: dict[str, tuple[str, dict[str, Handler]]] = {
    "agent-triage": ("sre", {"triage": triage}),
    "agent-rootcause": ("sre", {"root_cause": root_cause}),
    "agent-history": ("sre", {"related_incidents": related_incidents}),
    "agent-impact": ("customer-success", {"business_impact": business_impact}),
    "agent-comms": ("customer-success", {"draft_comms": draft_comms, "notify": notify}),
    "agent-remediate": ("sre", {"rollback": rollback}),
    "agent-compliance": (
        "compliance",
        {"evidence": evidence, "compliance_check": compliance_check},
    ),
    "agent-secreview": ("secops", {"scan": scan, "security_review": security_review}),
    "agent-contracts": ("customer-success", {"contract_analysis": contract_analysis}),
    "agent-provision": ("sre", {"provision": provision}),
    "agent-supervisor": ("sre", {"quality_check": quality_check}),
    "agent-finops": ("sre", {"cost_optimisation": cost_optimisation}),
}


def _failing(handler: Handler, capability: str) -> Handler:
    async def fail(t: TaskContext) -> Any:
        if t.payload.get("undo"):  # compensation still works
            return await handler(t)
        raise DemoFailure(f"{capability} failed (demo fault)")

    return fail


async def build(
    url: str, admin_token: str, *, faults: frozenset[str] = frozenset(), poll_s: float = 0.2
) -> list[Agent]:
    """One SDK agent per seed agent, each with a fresh agent principal and token."""
    admin = Transport(url, admin_token)
    tag = secrets.token_hex(3)
    out = []
    try:
        for agent_id, (team, handlers) in ROSTER.items():
            got = await _patiently(
                admin,
                PRINCIPAL,
                {
                    "i": {
                        "id": f"p-{agent_id}-{tag}",
                        "kind": "agent",
                        "name": agent_id,
                        "roles": ["AGENT"],
                        "agentId": agent_id,
                        "team": team,
                    }
                },
            )
            a = Agent(
                url,
                got["createPrincipal"]["token"],
                agent_id,
                team=team,
                max_concurrency=4,
                heartbeat_s=1.0,
                poll_s=poll_s,
            )
            for cap, fn in handlers.items():
                a.handles(cap)(_failing(fn, cap) if cap in faults else fn)
            out.append(a)
    finally:
        await admin.close()
    return out


async def _patiently(api: Transport, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Retry while the control plane (or its graph) restarts: workers outlive restarts."""
    for attempt in range(120):
        try:
            return await api.execute(query, variables)
        except BatonError as exc:
            if exc.code not in TRANSIENT or attempt == 119:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


async def run_all(agents: list[Agent]) -> None:
    await asyncio.gather(*(a.run() for a in agents))


async def _until_orphaned(parent: int) -> None:
    """Return once the process that started us is gone (we were re-parented)."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description="Run the demo agents against a Baton.")
    ap.add_argument("url")
    ap.add_argument("token", help="an admin token (to create the agents' principals)")
    ap.add_argument("--fail", default="", help="comma-separated capabilities that fail")
    ap.add_argument(
        "--with-parent",
        action="store_true",
        help="exit once the process that started the agents is gone",
    )
    args = ap.parse_args()
    faults = frozenset(f for f in args.fail.split(",") if f)
    parent = os.getppid()

    async def go() -> None:
        built: list[Agent] = []

        async def build_and_run() -> None:
            built.extend(await build(args.url, args.token, faults=faults))
            await run_all(built)

        work = asyncio.ensure_future(build_and_run())
        if args.with_parent:  # a `baton demo` killed outright must not leave its agents working
            orphaned = asyncio.ensure_future(_until_orphaned(parent))
            await asyncio.wait([work, orphaned], return_when=asyncio.FIRST_COMPLETED)
            orphaned.cancel()
            if not work.done():
                for a in built:
                    a.stop()  # drain what is in flight
                if not (await asyncio.wait([work], timeout=10))[0]:
                    os._exit(0)  # nothing to drain to (the demo's app went with it)
        await work

    asyncio.run(go())


if __name__ == "__main__":
    main()
