"""``connshift offsets``: the destination offset a source offset maps to."""

from __future__ import annotations

from pathlib import Path

import typer

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json
from connshift.errors import ExitCode


def offsets(
    topic: str = typer.Argument(..., help="Source topic."),
    partition: int = typer.Argument(..., help="Source partition."),
    offset: int = typer.Argument(..., help="Source offset (a record or a consumer position)."),
    config: Path = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print the destination offset a source offset maps to (from sync's exact map)."""
    STATE.json = as_json
    from connshift.app.offsets import lookup

    result = lookup(open_migration(config), topic, partition, offset)
    if as_json:
        emit_json(result)
    else:
        console.print(result["text"], highlight=False)
    if result["destination_offset"] is None:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(offsets)
