"""``baton import``: an org export in Baton's own format, or a synced source (Backstage,
CODEOWNERS, Kubernetes manifests, CSV)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from app.cli.common import _fail, _read_file, _settings, console


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
