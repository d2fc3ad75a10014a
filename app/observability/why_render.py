"""Render ``whyDid`` (the decisions, facts, approvals, runs and events behind an outcome) for
``baton why ID``: a text list for the terminal, or a self-contained SVG picture laid out in
Python (no Graphviz): the outcome on the right, each column one hop further upstream."""

from __future__ import annotations

import html
from collections import defaultdict, deque
from typing import Any

WHY_QUERY = "query($id: ID!) { whyDid(id: $id) { root nodes edges decisions truncated } }"
COLOURS = {
    "Task": "#C990C0",
    "Step": "#A0C4E2",
    "Run": "#7FB7D9",
    "Event": "#D9D9D9",
    "Fact": "#FFC454",
    "Proposal": "#F16667",
    "Merge": "#D98C8F",
    "decision": "#F4A259",
}
ROUTINE = ("route", "complete", "claim", "step ")  # decisions the picture leaves out

BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN = 190, 44, 90, 22, 24


def graph(why: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """The picture's nodes (whyDid's nodes plus the non-routine decisions, each ``ON`` the
    node it was made on) and edges ``(from, type, to)``."""
    nodes = [
        {"id": n["id"], "kind": n["label"], "title": n["label"], "text": n.get("name") or ""}
        for n in why["nodes"]
    ]
    known = {n["id"] for n in nodes}
    edges = [
        (e["from"], e["type"], e["to"])
        for e in why["edges"]
        if e["type"] != "RAN" and e["from"] in known and e["to"] in known
    ]
    for i, d in enumerate(why["decisions"]):
        if d["name"].startswith(ROUTINE) or d.get("on") not in known:
            continue
        did = f"decision:{i}"
        nodes.append(
            {
                "id": did,
                "kind": "decision",
                "title": d["name"],
                "text": f"by {d.get('by') or 'baton'}",
            }
        )
        edges.append((did, "ON", d["on"]))
    return nodes, edges


def layout(
    root: str, nodes: list[dict[str, Any]], edges: list[tuple[str, str, str]]
) -> dict[str, tuple[float, float]]:
    """Top-left corner of every node: column = hops from the root (the root rightmost), rows
    ordered by the mean row of their neighbours in the column before (fewer crossings)."""
    near: dict[str, list[str]] = defaultdict(list)
    for a, _, b in edges:
        near[a].append(b)
        near[b].append(a)
    depth = {root: 0}
    todo = deque([root])
    while todo:
        here = todo.popleft()
        for m in near[here]:
            if m not in depth:
                depth[m] = depth[here] + 1
                todo.append(m)
    far = max(depth.values(), default=0)
    for node in nodes:  # not connected to the root (cannot happen for whyDid, but be safe)
        depth.setdefault(node["id"], far + 1)
    columns: dict[int, list[str]] = defaultdict(list)
    for node in nodes:
        columns[depth[node["id"]]].append(node["id"])
    row: dict[str, float] = {}
    for c in sorted(columns):

        def weight(nid: str) -> float:
            prev = [row[m] for m in near[nid] if m in row]
            return sum(prev) / len(prev) if prev else float("inf")

        for i, nid in enumerate(sorted(columns[c], key=weight)):
            row[nid] = float(i)
    ncols = max(columns) + 1
    tallest = max(len(v) for v in columns.values())
    pos: dict[str, tuple[float, float]] = {}
    for c, ids in columns.items():
        offset = (tallest - len(ids)) * (BOX_H + ROW_GAP) / 2  # centre short columns
        for nid in ids:
            x = float(MARGIN + (ncols - 1 - c) * (BOX_W + COL_GAP))
            pos[nid] = (x, MARGIN + offset + row[nid] * (BOX_H + ROW_GAP))
    return pos


def _clip(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def svg(why: dict[str, Any], title: str = "") -> str:
    """One SVG document, no external references."""
    nodes, edges = graph(why)
    pos = layout(why["root"], nodes, edges)
    width = max((x for x, _ in pos.values()), default=0) + BOX_W + MARGIN
    height = max((y for _, y in pos.values()), default=0) + BOX_H + MARGIN + 18
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        f"<title>{esc(title or 'why ' + str(why['root']))}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for a, kind, b in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        # from the side of a facing b to the side of b facing a
        x1 = ax + BOX_W if ax < bx else ax if ax > bx else ax + BOX_W / 2
        x2 = bx if ax < bx else bx + BOX_W if ax > bx else bx + BOX_W / 2
        y1 = ay + BOX_H / 2 if ax != bx else (ay + BOX_H if ay < by else ay)
        y2 = by + BOX_H / 2 if ax != bx else (by if ay < by else by + BOX_H)
        mx = (x1 + x2) / 2
        dash = ' stroke-dasharray="4 3"' if kind == "ON" else ""
        out.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1:.1f} {mx:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="#555"{dash} '
            f'marker-end="url(#arrow)"/>'
        )
        out.append(
            f'<text x="{mx:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" font-size="9" '
            f'text-anchor="middle" fill="#333">{esc(kind)}</text>'
        )
    for n in nodes:
        x, y = pos[n["id"]]
        fill = COLOURS.get(n["kind"], "#EEEEEE")
        stroke = ' stroke="#222" stroke-width="3"' if n["id"] == why["root"] else (' stroke="#666"')
        rx = BOX_H / 2 if n["kind"] == "decision" else 6
        out.append(
            f'<g><title>{esc(n["id"])}</title><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="{rx}" fill="{fill}"{stroke}/>'
            f'<text x="{x + BOX_W / 2:.1f}" y="{y + 18:.1f}" font-size="12" '
            f'font-weight="bold" text-anchor="middle">{esc(_clip(n["title"]))}</text>'
            f'<text x="{x + BOX_W / 2:.1f}" y="{y + 34:.1f}" font-size="10" '
            f'text-anchor="middle">{esc(_clip(n["text"], 32))}</text></g>'
        )
    if why.get("truncated"):
        out.append(
            f'<text x="{MARGIN}" y="{height - 8:.0f}" font-size="10" fill="#a00">'
            "truncated: the walk reached its budget</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def text(why: dict[str, Any]) -> str:
    """The same, as lines for the terminal: nodes, then the decisions in time order."""
    nodes, edges = graph(why)
    by_id = {n["id"]: n for n in nodes}
    lines = [f"why {why['root']}:"]
    for a, kind, b in edges:
        if kind != "ON":
            lines.append(f"  {by_id[a]['title']} {a} -{kind}-> {by_id[b]['title']} {b}")
    for n in nodes:
        if n["kind"] == "decision":
            on = next(b for a, _, b in edges if a == n["id"])
            lines.append(f"  decision {n['title']} ({n['text']}) on {on}")
    if why.get("truncated"):
        lines.append("  (truncated: the walk reached its budget)")
    return "\n".join(lines)
