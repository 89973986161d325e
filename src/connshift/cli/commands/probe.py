"""``connshift probe``: Kafka-API contract checks on a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, load_spec, record
from connshift.cli.render import console, emit_json, progress
from connshift.errors import ExitCode, UsageError


def probe(
    config: Path = ConfigOpt,
    side: str = typer.Option(
        "destination", "--side", help="Which cluster of the spec: destination | source."
    ),
    inventory_file: Path | None = typer.Option(
        None,
        "--inventory",
        help="An inventory.json: marks the checks the estate's connectors and topics rely on.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Kafka-API contract checks on a cluster (scratch topics, removed after); exit 1 on FAIL."""
    STATE.json = as_json
    if side not in ("destination", "source"):
        raise UsageError(f"unknown --side {side!r}", fix="use destination or source")
    from connshift.app.probe import probe as run_probe
    from connshift.core.probe import error_adds

    spec = load_spec(config)
    inventory_data = None
    if inventory_file is not None:
        try:
            inventory_data = json.loads(inventory_file.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot read the inventory {inventory_file}",
                why=str(exc),
                fix="run `connshift inventory -o inventory.json` first",
            ) from exc
    with progress(f"probing the {side} cluster") as report:
        result = run_probe(spec, side, inventory=inventory_data, report=report)
    record(spec, f"probe-{side}", result.to_json())
    if as_json:
        emit_json(result.to_json())
    else:
        version = f"Kafka {result.kafka_version}, " if result.kafka_version else ""
        table = Table(
            title=f"connshift probe — {side} {result.bootstrap} ({version}"
            f"{result.brokers} broker(s))"
        )
        for col in ("check", "status", "summary"):
            table.add_column(col, no_wrap=col != "summary")
        for c in result.checks:
            style = {"PASS": "green", "FAIL": "red"}.get(str(c.status), "yellow")
            summary = c.summary
            error = c.evidence.get("error")
            if c.status.value != "PASS" and error_adds(summary, error):
                summary += f" [dim](client: {error})[/]"
            if c.evidence.get("needed_by") and c.status.value != "PASS":
                summary += f" [bold]needed by: {', '.join(c.evidence['needed_by'])}[/]"
            table.add_row(c.id, f"[{style}]{c.status}[/]", summary)
        console.print(table)
        counts = ", ".join(f"{n} {s}" for s, n in result.to_json()["tally"].items() if n)
        needed = result.needed_failures()
        if needed:
            console.print(
                f"[red]the estate relies on {len(needed)} check(s) that did not pass:[/] "
                + "; ".join(f"{cid} ({', '.join(who)})" for cid, who in needed.items()),
                highlight=False,
            )
        left = result.cleanup.get("leftover_topics") or []
        console.print(
            f"{counts} in {result.seconds:.0f}s; scratch prefix {result.prefix} "
            + (f"[red]left behind: {', '.join(left)}[/]" if left else "cleaned up"),
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(probe)
