"""``baton serve`` (the API server, with its start-up banner) and ``baton demo``."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import typer

from app.cli.common import _fail, _settings, console
from app.config import Settings
from app.observability import logs
from app.resources import SEEDS_DIR


def serve(
    seed: bool = typer.Option(False, "--seed", help="Load seeds/ before serving (idempotent)."),
    host: str | None = typer.Option(None, help="Override BATON_HOST."),
    port: int | None = typer.Option(None, help="Override BATON_PORT."),
) -> None:
    """Run the API server (GraphQL at /graphql, /health, /metrics)."""
    import signal

    import uvicorn

    from app.api.app import create_app
    from app.graph import EmbeddedError, GraphError
    from app.runtime import open_runtime

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    logs.configure(settings.log_format, settings.log_level)

    class Server(uvicorn.Server):
        """uvicorn, with the banner once it listens and a quiet, one-line stop."""

        baton_app: Any = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                first = getattr(self.baton_app.state, "first_admin_token", None)
                typer.echo(banner(settings, first))

        async def _serve(self, sockets: list[socket.socket] | None = None) -> None:
            await super()._serve(sockets)
            # uvicorn raises a caught SIGINT/SIGTERM again once it has stopped (a
            # KeyboardInterrupt, or death by signal): the stop was clean, say so and exit 0.
            if self._captured_signals:
                names = {int(signal.SIGINT): "Ctrl-C", int(signal.SIGTERM): "SIGTERM"}
                sig = int(self._captured_signals[0])
                typer.echo(f"Baton stopped ({names.get(sig, sig)}): graph closed, jobs done.")
                self._captured_signals.clear()

    async def main() -> bool:
        # The graph is opened before uvicorn starts, so that a graph Baton cannot use (not
        # reachable, written by a newer Baton) is one line, not a lifespan traceback.
        try:
            rt = await open_runtime(settings)
        except (GraphError, EmbeddedError) as exc:
            typer.echo(f"baton: cannot start: {exc}", err=True)
            return False
        app = create_app(settings, seed_dir=SEEDS_DIR if seed else None, runtime=rt)
        # No per-message compression on WebSockets: events are small, and deflating the same
        # event once per subscriber was a large share of a fan-out's CPU (bench/fanout.py).
        server = Server(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                lifespan="on",
                ws_per_message_deflate=False,
            )
        )
        server.baton_app = app
        await server.serve()
        return server.started

    try:  # uvicorn's own event loop choice (uvloop when installed)
        with asyncio.Runner(loop_factory=uvicorn.Config("baton").get_loop_factory()) as runner:
            started = runner.run(main())
    except KeyboardInterrupt:  # a second Ctrl-C: uvicorn's forced exit
        typer.echo("Baton stopped (forced).")
        started = True
    if not started:
        raise typer.Exit(1)


def banner(settings: Settings, first_token: str | None) -> str:
    """What `baton serve` prints last at start-up: where everything is, and the admin token
    (in full only on the very first start)."""
    from app import __version__
    from app.runtime import admin_token_path

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    embedded = settings.graph_uri.startswith("embedded://")
    base = f"http://{host}:{settings.port}"
    if first_token:
        token = (
            f"    admin token  {first_token}\n"
            f"                 (shown once; kept in {admin_token_path(settings)}, mode 0600:"
            " `baton admin-token` prints it)"
        )
    elif settings.admin_token:
        token = "    admin token  the value of BATON_ADMIN_TOKEN"
    else:
        token = f"    admin token  `baton admin-token` (kept in {admin_token_path(settings)})"
    return (
        f"\n  Baton {__version__} is ready  (graph: {settings.graph_uri})\n"
        f"    GraphiQL     {base}/graphql\n"
        f"    inbox        {base}/inbox\n"
        f"    metrics      {base}/metrics   health {base}/health\n"
        f"{token}\n"
        f"  Ctrl-C stops Baton{' (and its embedded graph)' if embedded else ''}.\n"
    )


def demo(
    name: str = typer.Argument(..., help="incident | compliance | onboarding"),
    url: str | None = typer.Option(None, help="A running, seeded Baton (else a private one)."),
    token: str | None = typer.Option(None, help="Its admin token (with --url)."),
    fail: str = typer.Option("", help="Capabilities whose demo agent fails, e.g. provision."),
    keep: Path | None = typer.Option(
        None, "--keep", help="Keep the private Baton's data in this dir (to trace it later)."
    ),
) -> None:
    """Run a showcase workflow end to end with the built-in example agents: live timeline,
    then the run's trace and cost."""
    from app.demo.run import SHOWCASES
    from app.demo.run import demo as run_demo

    if name not in SHOWCASES:
        console.print(f"[red]unknown demo {name!r}; choose {', '.join(SHOWCASES)}[/red]")
        raise typer.Exit(2)
    if url and not token:
        console.print("[red]--url needs --token (an admin token)[/red]")
        raise typer.Exit(2)
    if keep is not None and url:
        _fail("--keep is for the private Baton (without --url): yours keeps its data anyway")
    if keep is not None and keep.exists() and not keep.is_dir():
        _fail(f"{keep}: not a directory")
    run = asyncio.run(run_demo(name, url, token, fail, console, keep))
    raise typer.Exit(0 if run["status"] == "done" else 1)
