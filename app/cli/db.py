"""The graph server's commands: ``baton db`` (the embedded FalkorDB: start, stop, status,
backup, restore, prune) and ``baton neo4j``/``neo4j-admin`` (a development Neo4j)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from app.cli.common import _embedded_dir, _fail, _settings, console
from app.config import Settings

db_cli = typer.Typer(help="The embedded FalkorDB server.", no_args_is_help=True)


def _server(settings: Settings) -> Any:
    from app.graph import embedded_server

    _embedded_dir(settings)  # refuses a URI that is not embedded://
    return embedded_server(settings)


@db_cli.command("start")
def db_start() -> None:
    """Start the embedded graph server detached (apps then attach to it)."""
    info = _server(_settings()).start(detached=True)
    console.print(f"FalkorDB running: pid {info.pid}, {info.uri}")


@db_cli.command("stop")
def db_stop() -> None:
    """Stop the embedded graph server for this data dir."""
    from app.graph.embedded import EmbeddedServer

    stopped = EmbeddedServer(_embedded_dir(_settings())).stop(force=True)
    console.print("stopped" if stopped else "not running")


@db_cli.command("status")
def db_status() -> None:
    """Show whether the embedded graph server is running."""
    from app.graph.embedded import EmbeddedServer

    console.print_json(json.dumps(EmbeddedServer(_embedded_dir(_settings())).status()))


@db_cli.command("backup")
def db_backup(dest: Path = typer.Argument(..., help="A new directory for the backup.")) -> None:
    """Snapshot the embedded graph while Baton serves (BGSAVE) into DEST, with a manifest."""
    from app import backup
    from app.graph.embedded import EmbeddedError

    settings = _settings()
    try:
        with console.status("taking a snapshot of the graph..."):
            m = backup.backup(_server(settings), settings.graph_name, dest)
    except (backup.BackupError, EmbeddedError) as exc:
        _fail(str(exc))
    console.print(
        f"backup in {dest}: {m['bytes']:,} bytes, event head {m['eventHeadRange'][1]}, "
        f"schema version {m['schemaVersion']}"
    )


@db_cli.command("restore")
def db_restore(
    src: Path = typer.Argument(..., help="A directory made by `baton db backup`."),
) -> None:
    """Replace the embedded graph by the backup in SRC (Baton must be stopped; the replaced
    files are kept aside in the data dir)."""
    from app import backup
    from app.graph.embedded import EmbeddedError

    try:
        with console.status("restoring the graph..."):
            m, kept = backup.restore(_server(_settings()), src)
    except (backup.BackupError, EmbeddedError) as exc:
        _fail(str(exc))
    console.print(
        f"restored {src} (event head {m['eventHeadRange'][1]}, taken "
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(m['createdAt'] / 1000))})"
    )
    if kept is not None:
        console.print(f"the graph it replaced is kept in {kept}")


@db_cli.command("prune")
def db_prune(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would go; change nothing."),
) -> None:
    """Apply the retention policy now (README "Operating Baton"): archive whole days of
    events, then delete what the policy lets go, in bounded batches (any backend)."""
    import os
    import socket

    from rich.progress import Progress

    from app.core import archive, retention
    from app.runtime import close_runtime, open_runtime

    settings = _settings()
    policy = retention.Policy.of(settings)

    async def run() -> retention.Report:
        rt = await open_runtime(settings, hub=False)
        try:
            with Progress(console=console, transient=True) as bar:
                job = bar.add_task("pruning" if not dry_run else "counting", total=None)

                def progress(kind: str, n: int) -> None:
                    bar.update(job, description=f"{kind}: {n:,}")

                return await retention.run(
                    rt.store,
                    policy,
                    holder=f"{socket.gethostname()}:cli{os.getpid()}",
                    clock=rt.now,
                    dry=dry_run,
                    actor="cli",
                    progress=progress,
                )
        finally:
            await close_runtime(rt)

    try:
        report = asyncio.run(run())
    except (retention.Busy, archive.ArchiveMismatch, OSError) as exc:
        _fail(str(exc))
    table = Table(title="would be deleted now" if dry_run else "deleted")
    table.add_column("kind")
    table.add_column("count", justify="right")
    table.add_column("kept for")
    for kind in retention.WINDOW:
        n, d = report.counts.get(kind), policy.days(kind)
        table.add_row(kind, "-" if n is None else f"{n:,}", f"{d} days" if d else "ever")
    console.print(table)
    for e in report.archived:
        console.print(f"archived {e.file}: seq {e.first_seq}..{e.last_seq} ({e.events:,} events)")
    if dry_run and policy.events_days:
        console.print("events are counted only once archived; a real run archives first")


def neo4j_server(
    home: Path = typer.Option(Path(".baton/neo4j"), help="Data directory (kept across runs)."),
    bolt_port: int = typer.Option(7687, help="Bolt port on 127.0.0.1 (0: a free one)."),
    http_port: int = typer.Option(7474, help="HTTP/Browser port (0: free, -1: off)."),
) -> None:
    """Run Neo4j 5 Community on loopback in the foreground (development; needs Java + Maven)."""
    import signal

    from app.graph.neo4j_launcher import DEFAULT_PASSWORD, Neo4jLaunchError, Neo4jServer

    password = os.environ.get("BATON_NEO4J_PASSWORD") or DEFAULT_PASSWORD
    server = Neo4jServer(home, bolt_port, http_port, password)
    with console.status("building and starting Neo4j 5.26 (first build downloads ~150 MB)..."):
        try:
            server.start()
        except Neo4jLaunchError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"Neo4j ready: [bold]{server.uri}[/bold]  Browser: {server.browser_url or 'off'}")
    console.print(
        f"Serve Baton on it: BATON_GRAPH_URI=neo4j://127.0.0.1:{server.bolt_port_in_use}"
        f" BATON_NEO4J_PASSWORD=… make run    (Ctrl-C stops Neo4j)"
    )
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops Neo4j too
    try:
        assert server.proc is not None
        server.proc.wait()
    except KeyboardInterrupt:
        console.print("stopping Neo4j…")
    finally:
        server.stop()


def neo4j_admin(
    ctx: typer.Context,
    home: Path = typer.Option(Path(".baton/neo4j"), help="The `baton neo4j` data directory."),
) -> None:
    """Neo4j's own neo4j-admin on the `baton neo4j` home, with Neo4j stopped, e.g.
    `baton neo4j-admin database dump neo4j --to-path=DIR` (backup) and
    `baton neo4j-admin database load neo4j --from-path=DIR --overwrite-destination=true`."""
    from app.graph.neo4j_launcher import Neo4jLaunchError, admin

    try:
        done = admin(home, *ctx.args)
    except Neo4jLaunchError as exc:
        _fail(str(exc), 1)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    raise typer.Exit(done.returncode)
