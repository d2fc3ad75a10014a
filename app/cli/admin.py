"""Operating commands on the local graph: ``seed``, ``admin-token``, ``schema``, ``audit
export``/``verify`` and ``bench``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.table import Table

from app.cli.common import _fail, _out_file, _settings, console
from app.resources import SEEDS_DIR


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


def schema() -> None:
    """Print the GraphQL schema (SDL)."""
    from app.api.schema import build_schema

    typer.echo(build_schema(_settings()).as_str())


audit_cli = typer.Typer(help="The audit trail (the Event log).", no_args_is_help=True)


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
