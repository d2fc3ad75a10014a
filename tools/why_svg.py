"""Render ``whyDid`` (the decisions, facts and approvals behind an outcome) as a graphviz
picture for the docs: ``python tools/why_svg.py URL TOKEN ID out.svg`` (needs ``dot``)."""

from __future__ import annotations

import subprocess
import sys

from app.sdk.client import Client

WHY = "query($id: ID!) { whyDid(id: $id) { root nodes edges decisions } }"
COLOURS = {"Task": "#C990C0", "Step": "#A0C4E2", "Run": "#2E86AB", "Event": "#D9D9D9",
           "Fact": "#FFC454", "Proposal": "#F16667", "Merge": "#BC4B51"}  # fmt: skip


def dot(why: dict[str, object]) -> str:
    lines = ["digraph why {", "rankdir=RL;", 'node [shape=box, style="rounded,filled", '
             'fontname="Helvetica", fontsize=10];', 'edge [fontname="Helvetica", fontsize=8];']  # fmt: skip
    for n in why["nodes"]:  # type: ignore[attr-defined]
        label = f"{n['label']}\\n{n['name'] or ''}"
        extra = ', penwidth=3' if n["id"] == why["root"] else ""
        lines.append(f'"{n["id"]}" [label="{label}", fillcolor="{COLOURS.get(n["label"], "#eeeeee")}"{extra}];')
    for e in why["edges"]:  # type: ignore[attr-defined]
        if e["type"] not in ("RAN",):  # RAN mirrors FOR_STEP
            lines.append(f'"{e["from"]}" -> "{e["to"]}" [label="{e["type"]}"];')
    for i, d in enumerate(why["decisions"]):  # type: ignore[attr-defined]
        if d["name"].startswith(("route", "complete", "claim", "step ")):
            continue  # routine or structural; the picture is about the choices
        who = d["by"] or "baton"
        lines.append(f'"d{i}" [label="{d["name"]}\\nby {who}", shape=ellipse, fillcolor="#F4A259"];')
        lines.append(f'"d{i}" -> "{d["on"]}" [style=dashed, label="ON"];')
    lines.append("}")
    return "\n".join(lines)


def main() -> None:
    url, token, node_id, out = sys.argv[1:5]
    with Client(url, token) as api:
        why = api.execute(WHY, {"id": node_id})["whyDid"]
    fmt = out.rsplit(".", 1)[-1]  # svg or png
    svg = subprocess.run(["dot", f"-T{fmt}"], input=dot(why).encode(), capture_output=True,
                         check=True).stdout  # fmt: skip
    with open(out, "wb") as f:
        f.write(svg)
    print(f"wrote {out}: {len(why['nodes'])} nodes, {len(why['edges'])} edges")


if __name__ == "__main__":
    main()
