"""``connshift report``: all the evidence as one report."""

from __future__ import annotations

from pathlib import Path

import typer

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec
from connshift.cli.render import console, emit_json, progress


def report(
    config: Path = ConfigOpt,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Where to write (default: report.html, .json or .md)."
    ),
    fmt: str = typer.Option("html", "--format", help="html (one self-contained page), json or md."),
    as_json: bool = JsonOpt,
) -> None:
    """Render all the evidence (scorecard, blockers, validation, charts, cost, decision)
    as one report; exits 0 once written — blockers are shown, not enforced."""
    STATE.json = as_json
    from connshift.app.report import write_report

    spec = load_spec(config)
    with progress("writing the report") as step:
        result = write_report(spec, config=config, output=output, fmt=fmt.lower(), report=step)
    if as_json:
        emit_json(result.to_json())
        return
    sections = result.summary["sections"]
    missing = [name for name, state in sections.items() if state != "present"]
    blockers = result.summary.get("blockers")
    if blockers:
        console.print(
            f"[red]{len(blockers)} blocker(s)[/] shown first in the report", highlight=False
        )
    if missing:
        console.print(f"no evidence yet for: {', '.join(missing)}", highlight=False)
    console.print(f"report: {result.path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(report)
