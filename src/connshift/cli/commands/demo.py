"""``connshift demo``: start and seed the sandbox, then run the migration steps."""

from __future__ import annotations

from pathlib import Path

import typer

from connshift.cli.options import STATE, HomeOpt, JsonOpt, open_sandbox
from connshift.cli.render import console, emit_json, progress


def demo(
    with_tansu: bool = typer.Option(False, "--with-tansu", help="Also start tansu on S3."),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start and seed the sandbox, then run the migration steps that exist so far."""
    STATE.json = as_json
    from connshift.app.demo import run_demo

    with progress("running the demo") as report:
        result = run_demo(open_sandbox(home), with_tansu=with_tansu, report=report)
    if as_json:
        emit_json(result)
        return
    for line in result["summary"]:
        console.print(line, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(demo)
