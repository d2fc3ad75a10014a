"""What every ``baton`` command shares: the console, settings that fail as one line, file
arguments checked up front, and one API call (for the commands that talk to a running Baton)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from app.config import Settings, get_settings

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
