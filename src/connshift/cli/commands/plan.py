"""``connshift plan``: each connector's move, step by step with its undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration, record
from connshift.cli.render import console, emit_json
from connshift.errors import UsageError


def _strategy(value: str) -> Any:
    from connshift.core.plan import Strategy

    try:
        return Strategy(value)
    except ValueError as exc:
        raise UsageError(
            f"unknown --strategy {value!r}", fix="use resume, fresh or snapshot"
        ) from exc


def plan(
    connectors: list[str] = typer.Argument(None, help="Connector names (default: the spec's)."),
    config: Path = ConfigOpt,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write plan.json here."),
    strategy: str = typer.Option("resume", "--strategy", help="resume | fresh | snapshot"),
    as_json: bool = JsonOpt,
) -> None:
    """Plan each connector's move: shape, offset strategy, topics, groups, steps and undo."""
    STATE.json = as_json
    from connshift.app import cutover as mover
    from connshift.io.artifacts import write_json_atomic

    m = open_migration(config)
    spec = m.spec
    plans = mover.plan(m, connectors or None, _strategy(strategy))
    data = mover.plan_json(plans, spec.name)
    record(spec, "plan", data)
    if output is not None:
        write_json_atomic(output, data)
    if as_json:
        emit_json(data)
        return
    for p in plans:
        table = Table(title=f"{p.name} — {p.shape}, strategy {p.strategy}")
        table.add_column("step")
        table.add_column("does")
        table.add_column("undo")
        for s in p.steps:
            table.add_row(str(s.step), s.does, s.undo)
        console.print(table)
        console.print(
            f"topics: {', '.join(p.topics) or '-'} -> {', '.join(p.destination_topics) or '-'}"
            + (f"; groups: {', '.join(p.groups)}" if p.groups else ""),
            highlight=False,
        )
        for w in p.warnings:
            console.print(f"[yellow]warning:[/] {w}")
    if output is not None:
        console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(plan)
