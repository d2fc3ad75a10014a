"""The commands that work through Baton's API with the Python SDK: ``trace``, ``why``,
``mcp`` and ``agent run``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from app.cli.common import (
    TOKEN_OPTION,
    URL_OPTION,
    _api_token,
    _fail,
    _out_file,
    _query,
    _settings,
    console,
)
from app.observability import logs


def trace(
    run_id: str = typer.Argument(..., help="The run whose decisions to show."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write the tree as a self-contained HTML timeline."
    ),
    url: str = URL_OPTION,
    token: str | None = TOKEN_OPTION,
) -> None:
    """Print a run's span tree (who decided what, when, with which facts)."""
    from app.observability import trace_render

    if html:
        _out_file(html)
    got = _query(url, _api_token(token), trace_render.TRACE_QUERY, {"id": run_id})["trace"]
    if got is None:
        _fail(f"no run {run_id!r} (or not yours to read)", 1)
    console.print(trace_render.tree(got, f"run {run_id}"))
    if html:
        html.write_text(trace_render.timeline_html(got, f"run {run_id}"))
        console.print(f"wrote {html} ({len(got['spans'])} spans)")


def why(
    node_id: str = typer.Argument(..., help="A task, fact, proposal or run id."),
    svg: Path | None = typer.Option(None, "--svg", help="Also draw it as an SVG picture."),
    url: str = URL_OPTION,
    token: str | None = TOKEN_OPTION,
) -> None:
    """Why does this exist: the decisions, facts and approvals upstream, back to the event
    that started it (``whyDid``); ``--svg`` draws the picture (no Graphviz needed)."""
    from app.observability import why_render

    if svg:
        _out_file(svg)
    got = _query(url, _api_token(token), why_render.WHY_QUERY, {"id": node_id})["whyDid"]
    if got is None:
        _fail(f"no task, fact, proposal or run {node_id!r} (or not yours to read)", 1)
    typer.echo(why_render.text(got))
    if svg:
        svg.write_text(why_render.svg(got, f"why {node_id}"))
        typer.echo(f"wrote {svg} ({len(got['nodes'])} nodes, {len(got['edges'])} edges)")


def mcp_serve(
    url: str = typer.Option("http://127.0.0.1:8000", envvar="BATON_URL", help="Baton API."),
    token: str = typer.Option(..., envvar="BATON_TOKEN", help="The agent's API token."),
    transport: str = typer.Option("stdio", help="stdio | streamable-http"),
    port: int = typer.Option(8765, help="Port for streamable-http."),
) -> None:
    """Serve Baton's tools over MCP, scoped by the token (stdio or streamable HTTP)."""
    from baton_sdk.mcp import build

    server = build(url, token)
    if transport == "stdio":
        server.run("stdio")
    elif transport == "streamable-http":
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        console.print("[red]--transport is stdio or streamable-http[/red]")
        raise typer.Exit(2)


agent_cli = typer.Typer(help="Run agent workers (the Python SDK).", no_args_is_help=True)


@agent_cli.command("run")
def agent_run(
    target: str = typer.Argument(..., help="module:object naming a baton_sdk.Agent."),
    url: str | None = typer.Option(
        None, help="Baton's URL (else the Agent's own, else $BATON_URL, else 127.0.0.1:8000)."
    ),
    token: str | None = typer.Option(
        None, help="The agent's API token (else the Agent's own, else $BATON_TOKEN)."
    ),
) -> None:
    """Start a worker: `baton agent run mypkg.workers:agent` (SIGTERM drains in-flight work)."""
    import importlib
    import sys

    from baton_sdk import Agent

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        console.print("[red]expected module:object, e.g. workers.rootcause:agent[/red]")
        raise typer.Exit(2)
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name.split(".")[0] and exc.name != module_name:
            raise  # the module exists; something it imports is missing: show where
        _fail(f"no module {module_name!r} (run from its folder, or set PYTHONPATH)")
    obj = getattr(module, attr, None)
    if not isinstance(obj, Agent):
        console.print(f"[red]{target} is not a baton_sdk.Agent[/red]")
        raise typer.Exit(2)
    obj.connect(url, token)
    if not obj.token:
        typer.echo(
            "baton: no API token for the agent: pass --token or set BATON_TOKEN "
            "(an admin issues one with createPrincipal)",
            err=True,
        )
        raise typer.Exit(2)
    settings = _settings()
    logs.configure(settings.log_format, settings.log_level)
    console.print(f"agent [bold]{obj.id}[/bold] on {obj.url} serving {', '.join(obj.capabilities)}")
    asyncio.run(obj.run())
