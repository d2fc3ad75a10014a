"""The ``baton`` command: serve, seed, demo, trace, db, schema, bench, agent run."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app.config import Settings, get_settings
from app.observability import logs
from app.resources import SEEDS_DIR

cli = typer.Typer(
    help="Baton: orchestration control plane for fleets of AI agents.", no_args_is_help=True
)
db_cli = typer.Typer(help="The embedded FalkorDB server.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
console = Console()


def _settings() -> Settings:
    """The settings, or a clear message (not a traceback) when one is refused."""
    try:
        return get_settings()
    except ValidationError as exc:
        for err in exc.errors():
            msg = str(err["msg"]).removeprefix("Value error, ")
            typer.echo(f"baton: configuration refused: {msg}", err=True)
        raise typer.Exit(2) from None


def _embedded_dir(settings: Settings) -> Path:
    uri = settings.graph_uri
    if not uri.startswith("embedded://"):
        console.print(f"[red]BATON_GRAPH_URI is {uri!r}, not an embedded graph[/red]")
        raise typer.Exit(2)
    return Path(uri[len("embedded://") :] or settings.data_dir / "graph")


@cli.command()
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


@cli.command()
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


def _fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, no traceback, and the exit code (2: usage, 1: it did not work)."""
    typer.echo(f"baton: {message}", err=True)
    raise typer.Exit(code)


def _read_file(path: Path, what: str = "file") -> str:
    """A CLI file argument's text, or a one-line usage error."""
    if not path.exists():
        _fail(f"{path}: no such {what}")
    if path.is_dir():
        _fail(f"{path}: is a directory, expected a {what}")
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read: {exc.strerror if isinstance(exc, OSError) else exc}")


def _out_file(path: Path) -> Path:
    """A CLI output path whose directory exists, or a one-line usage error."""
    if path.is_dir():
        _fail(f"{path}: is a directory, expected a file name")
    if not path.parent.is_dir():
        _fail(f"{path}: no such directory {path.parent}")
    return path


def _api_token(token: str | None) -> str:
    """--token, else $BATON_TOKEN (typer), else the first-start admin token kept in the data
    dir (what `baton admin-token` prints): the same machine that runs `baton serve` needs no
    copy-paste."""
    if token:
        return token
    from app.runtime import admin_token_path

    path = admin_token_path(_settings())
    try:
        kept = path.read_text().strip()
    except OSError:
        kept = ""
    if not kept:
        _fail(f"no API token: pass --token or set BATON_TOKEN (no admin token in {path})")
    return kept


def _query(url: str, token: str, query: str, variables: dict[str, object]) -> dict[str, Any]:
    """One API call for a CLI command; failures are one line."""
    import httpx

    from baton_sdk import BatonError, Client

    try:
        with Client(url, token) as api:
            return api.execute(query, variables)
    except httpx.HTTPError as exc:
        _fail(f"cannot reach Baton at {url}: {exc}", 1)
    except BatonError as exc:
        _fail(f"{exc.code}: {exc.message}", 1)
    except ValueError:  # not GraphQL JSON: not a Baton at that URL
        _fail(f"{url} did not answer as Baton's API", 1)


URL_OPTION = typer.Option("http://127.0.0.1:8000", envvar="BATON_URL", help="Baton's URL.")
TOKEN_OPTION = typer.Option(
    None,
    envvar="BATON_TOKEN",
    help="An operator/auditor token (default: the admin token kept in the data dir).",
)


@cli.command()
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


@cli.command()
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


@cli.command()
def seed(path: Path = typer.Option(SEEDS_DIR, help="Seed folder (default: the demo org).")) -> None:
    """Load the demo organisation (idempotent: MERGE by id)."""
    from app.core import seed as seeding
    from app.runtime import admin_token_path, close_runtime, open_runtime

    if not (path / "org.yaml").is_file():
        _fail(f"{path}: not a seed folder (no org.yaml in it)")
    settings = _settings()
    minted: list[str] = []

    async def run() -> dict[str, int]:
        rt = await open_runtime(settings, hub=False)
        try:
            if rt.admin_token and not settings.admin_token:
                minted.append(rt.admin_token)  # the very first start: never swallow it
            return await seeding.load(rt.store, path, now=rt.now())
        finally:
            await close_runtime(rt)

    counts = asyncio.run(run())
    table = Table("kind", "count", title="Seeds loaded")
    for k, v in counts.items():
        table.add_row(k, str(v))
    console.print(table)
    if minted:
        typer.echo(
            f"\n  Baton admin token (first start, keep it safe): {minted[0]}\n"
            f"  (kept in {admin_token_path(settings)}, mode 0600: `baton admin-token`)\n"
        )


@cli.command("admin-token")
def admin_token() -> None:
    """Print the admin token minted on the first start (kept in the data dir, mode 0600)."""
    from app.runtime import admin_token_path

    settings = _settings()
    if settings.admin_token:
        typer.echo("baton: BATON_ADMIN_TOKEN is set: the admin token is that value", err=True)
        raise typer.Exit(1)
    path = admin_token_path(settings)
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        typer.echo(
            f"baton: no admin token in {path}: start Baton once (baton serve) first, "
            "or an admin rotates one with rotateToken",
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(token)


@cli.command()
def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from app.api.schema import build_schema

    typer.echo(build_schema(_settings()).as_str())


@cli.command("import")
def import_org(
    path: str = typer.Argument(
        ...,
        help="A file, folder or (Backstage) URL; Baton's own format: YAML or JSON "
        "{domains, entities, links, teams, humans}.",
    ),
    fmt: str = typer.Option("baton", "--format", help="baton | backstage | codeowners | k8s | csv"),
    source: str | None = typer.Option(None, help="Source id (default: format:name of the path)."),
    precedence: int = typer.Option(100, help="Lower wins when two sources claim an entity."),
    domain: str = typer.Option("catalog", help="Domain for entities that name none."),
    repo: str | None = typer.Option(None, help="codeowners: the repository the file is of."),
    mapping: Path | None = typer.Option(None, help="csv: the column mapping file (YAML)."),
    token_env: str | None = typer.Option(None, help="backstage URL: env var with the token."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the diff; write nothing."),
    as_json: bool = typer.Option(False, "--json", help="End with the counts as one JSON line."),
    batch: int = typer.Option(500, help="Rows per statement."),
) -> None:
    """Load an org export, or sync a source: a Backstage catalog (files or its REST API),
    a CODEOWNERS file, a folder of Kubernetes manifests or a CSV export.

    Sources are synced: an unchanged one writes nothing, what left it is retired, every
    entity records where it came from. Exit 0: all imported; 2: some documents rejected
    (listed with file and line; the rest is imported); 1: nothing could be read.

    Baton's own format: entities {id, kind, name, domain, attrs?, dependsOn?: [ids]}; links
    {from, to, type} (DEPENDS_ON | PART_OF | OWNED_BY | RELATES_TO); domains {id, name};
    teams {id, name, canRead?, canAct?, cleared?}; humans {id, name, roles, teams?}.
    """
    if fmt != "baton":
        _import_source(
            path,
            fmt,
            source,
            precedence,
            domain,
            {
                "repo": repo,
                "tokenEnv": token_env,
                "mapping": str(mapping.resolve()) if mapping else None,
            },
            dry_run,
            as_json,
            batch,
        )
        return
    _import_org(Path(path), batch)


def _import_org(path: Path, batch: int) -> None:
    import yaml
    from pydantic import ValidationError
    from rich.progress import Progress

    from app.core import context, teams
    from app.core import seed as seeding
    from app.core.errors import BatonError
    from app.core.seed import HumanSeed, TeamSeed
    from app.models import EntityIn, LinkIn, TeamIn
    from app.runtime import close_runtime, open_runtime

    try:
        raw = yaml.safe_load(_read_file(path))  # JSON is YAML too
    except yaml.YAMLError as exc:
        _fail(f"{path}: not YAML or JSON: {str(exc).splitlines()[0]}")
    if not isinstance(raw, dict):
        _fail(f"{path}: expected a mapping with domains, entities and links")
    try:
        domains = [{"id": d["id"], "name": d.get("name", d["id"])} for d in raw.get("domains", [])]
        ents = [
            EntityIn.model_validate({k: v for k, v in e.items() if k != "dependsOn"})
            for e in raw.get("entities", [])
        ]
        links = [LinkIn.model_validate(x) for x in raw.get("links", [])] + [
            LinkIn.model_validate({"from": e["id"], "to": t, "type": "DEPENDS_ON"})
            for e in raw.get("entities", [])
            for t in e.get("dependsOn", [])
        ]
        team_rows = [TeamSeed.model_validate(t) for t in raw.get("teams", [])]
        org_teams = [
            TeamIn(id=t.id, name=t.name, can_read=t.can_read, can_act=t.can_act, cleared=t.cleared)
            for t in team_rows
        ]
        people = [HumanSeed.model_validate(x) for x in raw.get("humans", [])]
        humans = [teams.Human(h.id, h.name, [r.value for r in h.roles], h.teams) for h in people]
    except (ValidationError, KeyError, TypeError, AttributeError) as exc:
        first = str(exc).splitlines()
        _fail(f"{path}: invalid export: {' '.join(first[:3])}")

    async def run() -> dict[str, int]:
        rt = await open_runtime(_settings(), hub=False)
        try:
            with Progress(console=console) as bar:
                await seeding.domains(rt.store, domains, now=rt.now())
                job = bar.add_task("entities", total=len(ents))
                for i in range(0, len(ents), batch):
                    part = ents[i : i + batch]
                    await context.upsert_entities(
                        rt.store, part, actor="import", now=rt.now(), may_move=True
                    )
                    bar.advance(job, len(part))
                job = bar.add_task("relations", total=len(links))
                for i in range(0, len(links), batch):
                    part2 = links[i : i + batch]
                    await context.link_entities(rt.store, part2, actor="import", now=rt.now())
                    bar.advance(job, len(part2))
                if org_teams or humans:
                    return await teams.import_access(
                        rt.store, org_teams, humans, actor="import", now=rt.now()
                    )
                return {}
        finally:
            await close_runtime(rt)

    try:
        access = asyncio.run(run())
    except BatonError as exc:
        console.print(f"[red]{path}: {exc.code}: {exc.message}[/red]")
        raise typer.Exit(2) from None
    console.print(f"imported {len(ents)} entities and {len(links)} relations from {path}")
    if access:
        console.print(
            f"teams: {len(org_teams)} ({access['teams']} changed), humans: "
            f"{access['humans']}, memberships added: {access['memberships']}"
        )


def _import_source(
    path: str,
    fmt: str,
    source: str | None,
    precedence: int,
    domain: str,
    options: dict[str, str | None],
    dry_run: bool,
    as_json: bool,
    batch: int,
) -> None:
    """`baton import --format …`: register the source (or update it), read it, sync it."""
    import re

    from rich.progress import Progress

    from app.connectors.model import ConnectorError
    from app.connectors.sources import is_url, read_snapshot, spec_of
    from app.connectors.sync import register, sync
    from app.core.errors import BatonError
    from app.graph import GraphError
    from app.models import SourceIn
    from app.runtime import close_runtime, open_runtime

    location = path if is_url(path) else str(Path(path).expanduser().resolve())
    if not is_url(path) and not Path(location).exists():
        _fail(f"{path}: no such file or directory", 1)
    if source is None:
        stem = (
            Path(location.rstrip("/")).parent.name
            if location.endswith((".yaml", ".yml"))
            else Path(location.rstrip("/")).name
        )
        source = f"{fmt}:" + (re.sub(r"[^a-z0-9_.-]+", "-", stem.lower()).strip("-") or "source")
    try:
        spec = spec_of(
            SourceIn(
                id=source,
                format=fmt,
                location=location,
                precedence=precedence,
                domain=domain,
                repo=options.get("repo"),
                mapping=options.get("mapping"),
                token_env=options.get("tokenEnv"),
            )
        )
    except ValidationError as exc:
        _fail(f"{path}: {str(exc.errors()[0]['msg']).removeprefix('Value error, ')}")

    async def run() -> Any:
        rt = await open_runtime(_settings(), hub=False)
        try:
            if not dry_run:
                await register(rt.store, spec, actor="import", now=rt.now())
            with console.status(f"reading {path}"):
                snap = await read_snapshot(rt.store, spec)
            with Progress(console=console, transient=True) as bar:
                jobs: dict[str, Any] = {}

                def show(step: str, done: int, total: int) -> None:
                    if step not in jobs:
                        jobs[step] = bar.add_task(step, total=total)
                    bar.update(jobs[step], completed=done)

                return await sync(
                    rt.store,
                    spec,
                    snap,
                    actor="import",
                    now=rt.now(),
                    batch=batch,
                    dry_run=dry_run,
                    progress=show,
                )
        finally:
            await close_runtime(rt)

    try:
        report = asyncio.run(run())
    except (ConnectorError, BatonError, GraphError, OSError) as exc:
        msg = exc.message if isinstance(exc, BatonError) else str(exc)
        _fail(f"{path}: {msg}", 1)
    for line in report.diff() if dry_run else []:
        console.print(line, highlight=False, markup=False)
    for bad in report.rejected:
        console.print(f"[yellow]rejected[/yellow] {bad}", highlight=False)
    counts = report.summary()
    verb = "would write" if dry_run else "wrote"
    console.print(
        f"{source}: {verb} {report.changed} changes ({counts['created']} new, "
        f"{counts['updated']} changed, {counts['revived']} back, {counts['retired']} "
        f"retired), {counts['unchanged']} unchanged, {counts['rejected']} rejected, "
        f"{counts['skipped']} skipped; {counts['events']} events"
    )
    if as_json:
        typer.echo(json.dumps({"source": source, "rev": report.rev, **counts}))
    raise typer.Exit(2 if report.rejected else 0)


audit_cli = typer.Typer(help="The audit trail (the Event log).", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("export")
def audit_export(
    from_: int = typer.Option(0, "--from", help="Start, epoch ms (inclusive)."),
    to: int | None = typer.Option(None, "--to", help="End, epoch ms (exclusive)."),
    out: Path = typer.Option(Path("audit.jsonl"), "--out", help="JSON Lines file to write."),
) -> None:
    """Write every event in [from, to) as JSON Lines, oldest first (with a progress bar)."""
    from rich.progress import Progress

    from app.core import events
    from app.runtime import close_runtime, open_runtime

    _out_file(out)

    async def run() -> int:
        rt = await open_runtime(_settings(), hub=False)
        written, after = 0, 0
        try:
            total = await events.head(rt.store)
            with out.open("w") as fh, Progress(console=console) as bar:
                job = bar.add_task("exporting events", total=total or 1)
                while True:
                    page = await events.query(
                        rt.store,
                        after=after,
                        types=None,
                        actor=None,
                        subject=None,
                        from_=from_,
                        to=to,
                        limit=1_000,
                    )
                    for ev in page:
                        fh.write(events.dumps(ev.__dict__) + "\n")
                    written += len(page)
                    if len(page) < 1_000:
                        bar.update(job, completed=total or 1)
                        return written
                    after = page[-1].seq
                    bar.update(job, completed=after)
        finally:
            await close_runtime(rt)

    n = asyncio.run(run())
    console.print(f"{n} events written to {out}")


@audit_cli.command("verify")
def audit_verify(
    directory: Path = typer.Argument(..., help="The audit archive (BATON_ARCHIVE_DIR)."),
    head: str | None = typer.Option(
        None,
        "--head",
        help="The graph's chain head (auditArchive { chainHead }): the chain "
        "must end there, so a rewritten or truncated chain is caught too.",
    ),
) -> None:
    """Check the audit archive: every file's SHA-256, the hash chain across files, seqs with
    no gap from 1, no file missing or unlisted. Exit 1 on any problem."""
    from app.core import archive

    if not directory.is_dir():
        _fail(f"{directory} is not a directory")
    with console.status("verifying the archive..."):
        chain, problems = archive.verify(directory, head)
    for p in problems:
        console.print(f"[red]{p}[/red]")
    if problems:
        raise typer.Exit(1)
    last = chain[-1] if chain else None
    console.print(
        f"archive intact: {len(chain)} files, seq 1..{last.last_seq if last else 0}, "
        f"chain head {last.chain if last else archive.GENESIS}"
    )


@cli.command("mcp")
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
cli.add_typer(agent_cli, name="agent")


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


@cli.command()
def bench(
    quick: bool = typer.Option(False, "--quick", help="Reduced sizes (smoke run)."),
    only: list[str] = typer.Option([], "--only", help="Run only these scenarios (file stems)."),
) -> None:
    """Run every bench/*.py scenario; write bench/results/<name>.json and print a summary."""
    import subprocess
    import sys

    folder = Path("bench")
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    scripts = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if only:
        scripts = [p for p in scripts if p.stem in only]
    summary = Table("scenario", "status", "metrics", title="Baton benchmarks")
    failed = False
    for script in scripts:
        args = [sys.executable, str(script), "--json", *(["--quick"] if quick else [])]
        console.rule(f"[bold]{script.stem}")
        proc = subprocess.run(args, stdout=subprocess.PIPE, text=True)
        lines = proc.stdout.strip().splitlines()
        print("\n".join(lines[:-1]))
        try:
            metrics = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            metrics = {}
        ok = proc.returncode == 0 and bool(metrics)
        failed |= not ok
        if ok:
            (results / f"{script.stem}.json").write_text(json.dumps(metrics, indent=2) + "\n")
        numbers = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
        headline = sorted(numbers, key=lambda k: (not _headline(k), list(numbers).index(k)))
        shown = ", ".join(f"{k}={numbers[k]}" for k in headline)
        summary.add_row(script.stem, "ok" if ok else "[red]failed", shown[:200])
    console.print(summary)
    if failed:
        raise typer.Exit(1)


def _headline(metric: str) -> bool:
    """Metrics the benchmark summary shows first (the ones issues set targets for)."""
    return any(m in metric for m in ("ratio", "_per_s", "p99"))


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
    from rich.table import Table

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


@cli.command("neo4j")
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


@cli.command(
    "neo4j-admin",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
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


def main() -> None:
    """Console-script entry point."""
    cli()
