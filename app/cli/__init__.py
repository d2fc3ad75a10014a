"""The ``baton`` command: serve, seed, demo, trace, db, schema, bench, agent run.

One module per group of commands (``server``, ``remote``, ``admin``, ``importing``, ``db``;
``common`` holds what they share); they define the commands and this module registers them,
in one place and in the order ``baton --help`` lists them.
"""

from __future__ import annotations

import typer

from app.cli import admin, db, importing, remote, server

cli = typer.Typer(
    help="Baton: orchestration control plane for fleets of AI agents.", no_args_is_help=True
)
cli.add_typer(db.db_cli, name="db")
cli.command()(server.serve)
cli.command()(server.demo)
cli.command()(remote.trace)
cli.command()(remote.why)
cli.command()(admin.seed)
cli.command("admin-token")(admin.admin_token)
cli.command()(admin.schema)
cli.command("import")(importing.import_org)
cli.add_typer(admin.audit_cli, name="audit")
cli.command("mcp")(remote.mcp_serve)
cli.add_typer(remote.agent_cli, name="agent")
cli.command()(admin.bench)
cli.command("neo4j")(db.neo4j_server)
cli.command(
    "neo4j-admin",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(db.neo4j_admin)


def main() -> None:
    """Console-script entry point."""
    cli()
