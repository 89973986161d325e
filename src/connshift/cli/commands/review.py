"""``connshift review``: findings from inventory and probe, each with its fix."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress
from connshift.errors import ExitCode


def review(
    config: Path = ConfigOpt,
    inventory_file: Path | None = typer.Option(
        None, "--inventory", help="An inventory.json (default: take one now)."
    ),
    probe_file: Path | None = typer.Option(
        None, "--probe", help="A `probe --json` result (default: probe the destination now)."
    ),
    replay_window_hours: float | None = typer.Option(
        None,
        "--replay-window-hours",
        help="Flag topics whose retention is shorter (default: readiness.replay_window_hours).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Findings from inventory and probe, each with a severity and the fix (exit 1 on high)."""
    STATE.json = as_json
    from connshift.app.review import run_review

    m = open_migration(config)
    with progress("reviewing") as report:
        data = run_review(
            m,
            inventory_file=inventory_file,
            probe_file=probe_file,
            replay_window_hours=replay_window_hours,
            report=report,
        )
    if as_json:
        emit_json(data)
    else:
        table = Table(title="connshift review")
        for col in ("severity", "subject", "finding", "fix"):
            table.add_column(col)
        styles = {"high": "red", "medium": "yellow", "low": "white"}
        for f in data["findings"]:
            sev = f["severity"]
            table.add_row(f"[{styles[sev]}]{sev}[/]", f["subject"], f["finding"], f["fix"])
        console.print(table)
        console.print(", ".join(f"{n} {s}" for s, n in data["counts"].items()))
    if data["counts"]["high"]:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(review)
