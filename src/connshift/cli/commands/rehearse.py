"""``connshift rehearse``: rehearse one connector's move on a rehearsal target."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec
from connshift.cli.render import console, emit_json, progress
from connshift.errors import ExitCode


def rehearse(
    connector: str = typer.Argument(..., help="The connector to rehearse."),
    config: Path = ConfigOpt,
    target: Path | None = typer.Option(
        None,
        "--target",
        help="A spec of the rehearsal environment, where the connector runs "
        "(default: the sandbox).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Rehearse one connector: sync, validate, cutover, validate, rollback, validate on a
    rehearsal target; recorded as evidence (exit 1 if a step failed)."""
    STATE.json = as_json
    from connshift.app.rehearse import STEPS
    from connshift.app.rehearse import rehearse as run_rehearse

    spec = load_spec(config)
    target_spec = load_spec(target) if target is not None else None
    with progress(f"rehearsing {connector}") as report:
        result = run_rehearse(
            spec,
            connector,
            target=target_spec,
            target_label=str(target) if target else None,
            report=report,
        )
    data = result.to_json()
    if as_json:
        emit_json(data)
    else:
        table = Table(title=f"connshift rehearse {connector} on {result.target}")
        for col in ("step", "status", "seconds", "summary"):
            table.add_column(col)
        for st in data["steps"]:
            status = "[green]PASS[/]" if st["ok"] else "[red]FAIL[/]"
            table.add_row(st["step"], status, f"{st['seconds']:.1f}", st["summary"])
        for name in data["not_run"]:
            table.add_row(name, "[yellow]not run[/]", "-", "an earlier step failed")
        console.print(table)
        verdict = "[green]rehearsal passed[/]" if result.ok else "[red]rehearsal failed[/]"
        console.print(
            f"{verdict}; recorded as evidence/rehearsal-{connector}.json "
            f"({len(STEPS)} steps, copies under {result.prefix} removed)",
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(rehearse)
