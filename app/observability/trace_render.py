"""Render a run's trace (the ``trace`` query's spans) as a rich tree for the terminal or a
self-contained HTML timeline (``baton trace RUN_ID [--html out.html]``, ``baton demo``)."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from typing import Any

from rich.tree import Tree

TRACE_QUERY = """query($id: ID!) { trace(runId: $id) { traceId spans { spanId parentSpanId name
  kind agentId principalId taskId status startedAt endedAt costUsd saw produced attributes } } }"""


def _children(
    spans: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    ids = {s["spanId"] for s in spans}
    kids: dict[str, list[dict[str, Any]]] = defaultdict(list)
    roots = []
    for s in sorted(spans, key=lambda x: (x["startedAt"], x["spanId"])):
        if s["parentSpanId"] in ids and s["parentSpanId"] != s["spanId"]:
            kids[s["parentSpanId"]].append(s)
        else:
            roots.append(s)
    return roots, kids


def _label(s: dict[str, Any]) -> str:
    who = s["agentId"] or s["principalId"] or "baton"
    ms = (s["endedAt"] or s["startedAt"]) - s["startedAt"]
    extra = []
    if s["saw"]:
        extra.append(f"saw {len(s['saw'])} fact{'s' if len(s['saw']) != 1 else ''}")
    if s.get("costUsd"):
        extra.append(f"${s['costUsd']:.3f}")
    if s.get("status") and s["kind"] == "task":
        extra.append(s["status"])
    colour = "bold" if s["kind"] == "task" else ""
    name = f"[{colour}]{s['name']}[/{colour}]" if colour else s["name"]
    return f"{name} [dim]{who} {ms} ms{'; ' + ', '.join(extra) if extra else ''}[/dim]"


def tree(trace: dict[str, Any], title: str) -> Tree:
    """Spans nested under their parents (a task under its step, a decision under its task)."""
    root = Tree(f"[bold]{title}[/bold] trace {trace['traceId']}")
    roots, kids = _children(trace["spans"])

    def add(node: Tree, s: dict[str, Any], depth: int = 0) -> None:
        branch = node.add(_label(s))
        if depth < 50:
            for k in kids.get(s["spanId"], []):
                add(branch, k, depth + 1)

    for s in roots:
        add(root, s)
    return root


def timeline_html(trace: dict[str, Any], title: str) -> str:
    """One HTML file, no external assets: a bar per span on a shared time axis."""
    spans = trace["spans"]
    if not spans:
        return f"<!doctype html><title>{html.escape(title)}</title><p>no spans</p>"
    t0 = min(s["startedAt"] for s in spans)
    t1 = max((s["endedAt"] or s["startedAt"]) for s in spans)
    width = max(t1 - t0, 1)
    roots, kids = _children(spans)
    rows: list[str] = []

    def add(s: dict[str, Any], depth: int) -> None:
        left = 100 * (s["startedAt"] - t0) / width
        span_w = max(100 * ((s["endedAt"] or s["startedAt"]) - s["startedAt"]) / width, 0.4)
        who = s["agentId"] or s["principalId"] or "baton"
        tip = html.escape(
            json.dumps(
                {k: s[k] for k in ("spanId", "taskId", "saw", "produced", "attributes") if s.get(k)}
            )
        )
        cls = "task" if s["kind"] == "task" else "dec"
        rows.append(
            f'<tr><td style="padding-left:{depth * 14}px">{html.escape(s["name"])}</td>'
            f"<td>{html.escape(who)}</td><td>{(s['endedAt'] or s['startedAt']) - s['startedAt']}"
            f' ms</td><td class="axis"><div class="{cls}" title="{tip}" style="margin-left:'
            f'{left:.2f}%;width:{span_w:.2f}%"></div></td></tr>'
        )
        for k in kids.get(s["spanId"], []):
            add(k, depth + 1)

    for s in roots:
        add(s, 0)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:13px system-ui,sans-serif;margin:20px}}
table{{border-collapse:collapse;width:100%}}
td{{padding:2px 8px;border-bottom:1px solid #eee;white-space:nowrap}}td.axis{{width:55%}}
.task,.dec{{height:12px;border-radius:3px}}.task{{background:#3b82f6}}
.dec{{background:#f59e0b}}</style>
</head><body><h2>{html.escape(title)}</h2><p>trace {html.escape(trace["traceId"])}, {len(spans)}
spans, {width} ms. Blue: tasks; amber: decisions (hover for what each saw and produced).</p>
<table><tr><th>span</th><th>by</th><th>time</th><th>timeline</th></tr>{"".join(rows)}</table>
</body></html>"""
