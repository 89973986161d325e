"""``connshift score``: the readiness scorecard from recorded evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec
from connshift.cli.render import console, emit_json
from connshift.errors import ExitCode

_SCORE_STYLE = {0: "red", 1: "yellow", 2: "green"}


def _score_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in ("row", "score", "why", "evidence"):
        table.add_column(col, no_wrap=col == "score")
    for r in rows:
        style = _SCORE_STYLE[r["score"]]
        table.add_row(
            r["title"], f"[{style}]{r['score']}[/]", r["why"], "\n".join(r["evidence"]) or "-"
        )
    return table


def score(
    config: Path = ConfigOpt,
    connectors: bool = typer.Option(
        True, "--connectors/--estate-only", help="Also show each connector's rows."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Readiness scorecard from recorded evidence: 0 unknown, 1 documented, 2 tested (exit 1
    on any 0)."""
    STATE.json = as_json
    from connshift.app.score import run_score

    spec = load_spec(config)
    data = run_score(spec).to_json()
    if as_json:
        emit_json(data)
    else:
        console.print(
            _score_table(f"connshift score — {spec.name} (estate)", data["estate"]["rows"])
        )
        if connectors:
            for name, info in data["connectors"].items():
                console.print(_score_table(f"{name}", info["rows"]))
        for p in data["pilots"]:
            console.print(
                f"pilot: [bold]{p['connector']}[/] ({p['shape']}) — {p['why']}", highlight=False
            )
        if data["blockers"]:
            console.print(
                f"[red]{len(data['blockers'])} row(s) at 0 block the cutover:[/] "
                + "; ".join(f"{b['scope']} {b['row']}" for b in data["blockers"]),
                highlight=False,
            )
        else:
            console.print("[green]no row at 0: the scorecard does not block the cutover[/]")
        console.print(f"evidence: {Path(spec.state_dir) / 'evidence'}", highlight=False)
    if not data["ok"]:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(score)
