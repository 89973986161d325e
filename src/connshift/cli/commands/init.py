"""``connshift init``: write a commented migration spec template."""

from __future__ import annotations

from pathlib import Path

import typer

from connshift.cli.options import STATE, JsonOpt
from connshift.cli.render import console, emit_json


def init(
    output: Path = typer.Option(
        Path("connshift.yaml"), "-o", "--output", "-c", "--config", help="Where to write."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    as_json: bool = JsonOpt,
) -> None:
    """Write a commented migration spec template."""
    STATE.json = as_json
    from connshift.app.config import write_template

    path = write_template(output, force=force)
    if as_json:
        emit_json({"schema": "connshift.init/1", "written": str(path)})
    else:
        console.print(f"wrote {path} — edit it, then run `connshift check -c {path}`")


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(init)
