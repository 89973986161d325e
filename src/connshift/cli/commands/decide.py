"""``connshift decide``: which migration path the measured pressure favours."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec
from connshift.cli.render import console, emit_json, progress, warn


def decide(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Which migration path the measured pressure favours, with reasons and what stays hard."""
    STATE.json = as_json
    from connshift.app.decide import run_decide

    spec = load_spec(config)
    with progress("weighing the evidence"):
        data = run_decide(spec, warn=warn)
    if as_json:
        emit_json(data)
        return
    table = Table(title="connshift decide")
    for col in ("path", "fit", "reasons", "stays hard"):
        table.add_column(col)
    for p in data["paths"]:
        chosen = p["id"] == data["path"]
        name = f"[bold green]{p['id']}[/] (chosen)" if chosen else p["id"]
        reasons = "\n".join(
            f"{'+' if r['effect'] == 'for' else '-'} {r['text']} [dim]({r['evidence']})[/]"
            for r in p["reasons"]
        )
        table.add_row(
            name,
            str(p["fit"]),
            reasons or "[dim]none measured[/]",
            "\n".join(f"• {h}" for h in p["stays_hard"]),
        )
    console.print(table)
    style = {"low": "yellow", "medium": "white", "high": "green"}[data["confidence"]]
    console.print(
        f"{data['summary']} — confidence [{style}]{data['confidence']}[/]", highlight=False
    )
    for note in data["thin_evidence"]:
        console.print(f"  [yellow]thin:[/] {note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(decide)
