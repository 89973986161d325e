"""``connshift sandbox up|status|down|fetch|seed``: a local estate to try connshift on."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, HomeOpt, JsonOpt, open_sandbox
from connshift.cli.render import console, emit_json, err_console, progress
from connshift.errors import ExitCode

sandbox_app = typer.Typer(
    help="A local estate to try connshift on: 2 Kafka clusters, 2 Connect workers, "
    "PostgreSQL + Debezium, optional tansu on S3.",
    no_args_is_help=True,
)


def _print_sandbox(info: Any) -> None:
    sizes = ", ".join(f"{side} {n} brokers" for side, n in info.brokers.items() if n > 1)
    table = Table(title=f"connshift sandbox — {info.home}" + (f" ({sizes})" if sizes else ""))
    for col in ("service", "what", "pid", "health"):
        table.add_column(col)
    for s in info.services:
        health = (
            "[green]healthy[/]"
            if s.healthy
            else ("[yellow]running, not answering[/]" if s.running else "[red]stopped[/]")
        )
        table.add_row(s.name, s.description, str(s.pid or "-"), health)
    console.print(table)


@sandbox_app.command("up")
def sandbox_up(
    with_tansu: bool = typer.Option(False, "--with-tansu", help="Also start tansu on S3 (moto)."),
    port: list[str] = typer.Option(
        [], "--port", help="Override a port: NAME=PORT (e.g. source-kafka=19192). Repeatable."
    ),
    brokers: int | None = typer.Option(
        None,
        "--brokers",
        help="Destination brokers (KRaft, 127.0.0.1): 3 gives replication factor 3 and "
        "min.insync.replicas 2. Default: what the sandbox runs (1 for a new one); changing "
        "it needs `sandbox down --purge` first.",
    ),
    source_brokers: int | None = typer.Option(
        None, "--source-brokers", help="Source brokers, as --brokers for the destination."
    ),
    spec: Path = typer.Option(
        Path("sandbox.yaml"), "--spec", help="Where to write the migration spec for the sandbox."
    ),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start the sandbox (idempotent) and write sandbox.yaml (and sandbox-secure.yaml,
    the secured listeners) pointing at it."""
    STATE.json = as_json
    from connshift.app.sandbox import (
        parse_ports,
        secure_spec_path,
        write_sandbox_spec,
        write_secure_spec,
    )

    ports = parse_ports(port)
    sb = open_sandbox(home)
    with progress("starting the sandbox") as report:
        info = sb.up(
            with_tansu=with_tansu,
            ports=ports,
            brokers=brokers,
            source_brokers=source_brokers,
            report=report,
        )
    info.spec_path = write_sandbox_spec(sb, spec)
    info.secure_spec_path = write_secure_spec(sb, secure_spec_path(spec))
    if as_json:
        emit_json(info.to_json())
        return
    _print_sandbox(info)
    console.print(f"migration spec for the sandbox: [bold]{info.spec_path}[/]")
    console.print(
        f"the same estate on the secured (SASL_SSL) listeners: [bold]{info.secure_spec_path}[/]"
    )
    console.print("next: `connshift sandbox seed` creates a small estate on the source side")


@sandbox_app.command("status")
def sandbox_status(home: Path | None = HomeOpt, as_json: bool = JsonOpt) -> None:
    """Show each sandbox service's process and health (exit 1 if any is down)."""
    STATE.json = as_json
    info = open_sandbox(home).status()
    if as_json:
        emit_json(info.to_json())
    else:
        _print_sandbox(info)
    if not info.healthy:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@sandbox_app.command("down")
def sandbox_down(
    purge: bool = typer.Option(False, "--purge", help="Also delete the sandbox's data."),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Stop what `sandbox up` started (by PID); --purge deletes its data too."""
    STATE.json = as_json
    sb = open_sandbox(home)
    with progress("stopping the sandbox") as report:
        stopped = sb.down(purge=purge, report=report)
    if as_json:
        emit_json({"schema": "connshift.sandbox-down/1", "stopped": stopped, "purged": purge})
    else:
        console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        if purge:
            console.print(f"deleted {sb.home}")


@sandbox_app.command("fetch")
def sandbox_fetch(as_json: bool = JsonOpt) -> None:
    """Resolve the sandbox's jars and plugins from Maven Central into the cache (once)."""
    STATE.json = as_json
    from connshift.io.sandbox import jars

    with progress("resolving jars from Maven Central") as report:
        report(f"cache: {jars.cache_dir()}")
        dists = jars.fetch_all()
    if as_json:
        emit_json({k: {"version": d.version, "lib": str(d.lib)} for k, d in dists.items()})
    else:
        for role, d in dists.items():
            console.print(f"{role}: Apache Kafka {d.version} — {d.lib}")


@sandbox_app.command("seed")
def sandbox_seed(
    live: bool = typer.Option(
        False, "--live", help="Then keep inserting/updating shop rows until Ctrl-C."
    ),
    rate: float = typer.Option(20.0, "--rate", help="--live: changes per second."),
    duration: float | None = typer.Option(None, "--duration", help="--live: stop after seconds."),
    count: int | None = typer.Option(None, "--count", help="--live: stop after N changes."),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a small realistic estate on the source side (connectors, topics, groups)."""
    STATE.json = as_json
    from connshift.app.seed import seed

    sb = open_sandbox(home)
    with progress("seeding the source estate") as report:
        result = seed(sb, report=report)
    out: dict[str, Any] = result.to_json()
    if not as_json:
        table = Table(title="seeded estate (source side)")
        table.add_column("kind")
        table.add_column("name")
        table.add_column("detail")
        for name, state in result.connectors.items():
            table.add_row("connector", name, state)
        for topic, n in sorted(result.topic_records.items()):
            table.add_row("topic", topic, f"high watermark {n}")
        console.print(table)
    if live:
        out["live"] = _run_live(sb, rate=rate, duration=duration, count=count)
    if as_json:
        emit_json(out)


def _run_live(sb: Any, *, rate: float, duration: float | None, count: int | None) -> dict[str, int]:
    from connshift.app.seed import live

    stop = threading.Event()

    def on_signal(_sig: int, _frame: Any) -> None:
        stop.set()

    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    try:
        if not STATE.json:
            err_console.print(
                f"live writer: changing shop rows at ~{rate:g}/s until Ctrl-C"
                + (f" or {duration:g}s" if duration else "")
                + (f" or {count} changes" if count else "")
            )
        stats = live(sb, rate=rate, duration=duration, max_changes=count, should_stop=stop.is_set)
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
    if not STATE.json:
        console.print(f"live writer: {stats.inserts} inserts, {stats.updates} updates")
    return {"inserts": stats.inserts, "updates": stats.updates}


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.add_typer(sandbox_app, name="sandbox")
