"""``connshift acls diff|apply``: the ACLs of the migrated topics and groups."""

from __future__ import annotations

from pathlib import Path

import typer

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json
from connshift.errors import ExitCode, UsageError


def acls(
    action: str = typer.Argument(..., help="diff | apply"),
    config: Path = ConfigOpt,
    principal_map: Path | None = typer.Option(
        None, "--principal-map", help="YAML: source principal -> destination principal."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="apply: show, change nothing."),
    as_json: bool = JsonOpt,
) -> None:
    """Compare (diff) or copy (apply) the ACLs of the migrated topics and groups."""
    STATE.json = as_json
    from connshift.app import acls as acls_app

    m = open_migration(config)
    if action == "diff":
        result = acls_app.compare(m, principal_map)
    elif action == "apply":
        result = acls_app.apply(m, principal_map, dry_run=dry_run)
    else:
        raise UsageError(f"unknown acls action {action!r}", fix="use diff or apply")
    if as_json:
        emit_json(result.to_json())
    else:
        for a in result.diff.present:
            console.print(f"[green]present[/]  {a.describe()}", highlight=False)
        for a in result.diff.missing:
            verb = "created" if action == "apply" and not dry_run else "missing"
            console.print(f"[yellow]{verb}[/]  {a.describe()}", highlight=False)
        console.print(
            f"{len(result.source_relevant)} source ACL(s) cover the migrated topics and groups; "
            f"{len(result.diff.missing)} missing on the destination"
            + (" (now created)" if action == "apply" and not dry_run else "")
        )
    if action == "diff" and result.diff.missing:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(acls)
