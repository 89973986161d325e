"""``connshift groups translate|apply``: consumer group offsets through sync's map."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json
from connshift.errors import ExitCode, UsageError


def groups(
    action: str = typer.Argument(..., help="translate | apply"),
    config: Path = ConfigOpt,
    groups_regex: str | None = typer.Option(
        None, "--groups", help="Only groups matching this regex (whole id)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="apply: show, change nothing."),
    reverse: bool = typer.Option(
        False, "--reverse", help="Destination groups back to the source (after a rollback)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Translate every committed group offset exactly through sync's map; apply commits them."""
    STATE.json = as_json
    from connshift.app import groups as groups_app

    m = open_migration(config)
    if action == "translate":
        result = (
            groups_app.translate_back(m, groups_regex)
            if reverse
            else groups_app.translate(m, groups_regex)
        )
    elif action == "apply":
        result = groups_app.apply(m, groups_regex, dry_run=dry_run, reverse=reverse)
    else:
        raise UsageError(f"unknown groups action {action!r}", fix="use translate or apply")
    if as_json:
        emit_json(result.to_json())
    else:
        table = Table(title=f"connshift groups {action}" + (" (dry run)" if dry_run else ""))
        for col in ("group", "source", "destination", "translation"):
            table.add_column(col)
        for o in result.offsets:
            dst = (
                f"{o.destination_topic}[{o.partition}]@{o.destination_offset}"
                if o.destination_offset is not None
                else "-"
            )
            table.add_row(
                o.group, f"{o.topic}[{o.partition}]@{o.source_offset}", dst, o.translation
            )
        console.print(table)
        if action == "apply":
            verb = "would apply" if dry_run else "applied"
            console.print(f"{verb}: {', '.join(result.applied) or 'none'}")
    if action == "apply":
        groups_app.raise_if_refused(result)
    elif result.untranslated:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(groups)
