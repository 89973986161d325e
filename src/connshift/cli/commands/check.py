"""``connshift check``: validate the spec and reach every service it names."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec, record
from connshift.cli.render import console, emit_json
from connshift.errors import ConnshiftError


def check(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Validate the spec and reach every Kafka cluster and Connect worker it names."""
    STATE.json = as_json
    from connshift.app.check import check_spec

    result = check_spec(config)
    record(load_spec(config), "check", result.to_json())
    if as_json:
        emit_json(result.to_json())
    else:
        table = Table(title=f"connshift check — {config}")
        for col in ("side", "service", "address", "status"):
            table.add_column(col, no_wrap=True)
        table.add_column("detail")
        for row in result.rows:
            style = "green" if row.ok else "red"
            status = "PASS" if row.ok else "FAIL"
            table.add_row(row.side, row.service, row.address, f"[{style}]{status}[/]", row.detail)
        console.print(table)
    if not result.ok:
        first = next(r for r in result.rows if not r.ok)
        raise first.error or ConnshiftError(f"{first.side} {first.service} check failed")


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(check)
