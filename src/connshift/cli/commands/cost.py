"""``connshift cost``: monthly cost of the current and destination models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec
from connshift.cli.render import console, emit_json, progress, warn


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def cost(
    config: Path = ConfigOpt,
    profile: Path | None = typer.Option(
        None,
        "--profile",
        help="Pricing profile YAML (default: readiness.cost.profile, else the shipped one).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Monthly cost lines of the current and destination models, from the inventory."""
    STATE.json = as_json
    from connshift.app.cost import run_cost

    spec = load_spec(config)
    with progress("pricing the estate"):
        data = run_cost(spec, profile=profile, warn=warn)
    if as_json:
        emit_json(data)
        return
    currency = data["currency"]
    for name, model in data["models"].items():
        table = Table(
            title=f"{name} model — {model['storage_model']}, workers {model['worker_boundary']}"
        )
        for col in ("line", "monthly", "formula", "owner"):
            table.add_column(col, justify="right" if col == "monthly" else "left")
        for line in model["lines"]:
            owner = line["owner"] or "[red]no owner[/]"
            table.add_row(line["label"], _money(line["monthly"], currency), line["formula"], owner)
        table.add_row("[bold]total[/]", f"[bold]{_money(model['total'], currency)}[/]", "", "")
        console.print(table)
        for note in model["assumed"]:
            console.print(f"  assumed: {note}", highlight=False)
    diff = data["difference"]
    pct = f" ({diff['percent']:+.1f}%)" if diff["percent"] is not None else ""
    console.print(
        f"destination - current: [bold]{diff['monthly']:+,.2f} {currency}[/] a month{pct}; "
        f"profile {data['profile']['name']} ({data['profile']['path']})",
        highlight=False,
    )
    for note in data["inputs"]["notes"]:
        console.print(f"  [yellow]note:[/] {note}", highlight=False)
    if data["unowned"]:
        console.print(
            "[yellow]lines without an owner:[/] "
            + ", ".join(data["unowned"])
            + " — add them under readiness.cost.owners",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(cost)
