"""``connshift validate``: the contract test of source vs destination."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress
from connshift.errors import ExitCode


def validate(
    config: Path = ConfigOpt,
    topics: list[str] = typer.Option([], "--topics", help="Only topics matching this regex."),
    as_json: bool = JsonOpt,
) -> None:
    """Contract test: source vs destination through the exact map; exit 1 on any FAIL."""
    STATE.json = as_json
    from connshift.app.validate import validate as run_validate

    m = open_migration(config)
    with progress("validating") as report:
        result = run_validate(m, topics or None, report=report)
    if as_json:
        emit_json(result.to_json())
    else:
        table = Table(title="connshift validate")
        for col in ("check", "subject", "status", "summary"):
            table.add_column(col)
        for c in result.checks:
            style = {"PASS": "green", "FAIL": "red"}.get(str(c.status), "yellow")
            table.add_row(c.id, c.subject, f"[{style}]{c.status}[/]", c.summary)
        console.print(table)
        console.print(result.throughput(), highlight=False)
    if not result.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(validate)
