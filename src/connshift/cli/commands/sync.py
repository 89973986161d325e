"""``connshift sync``: copy topics with every offset kept or mapped exactly."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress_bars, warn
from connshift.errors import UsageError


def sync(
    config: Path = ConfigOpt,
    topics: list[str] = typer.Option(
        [], "--topics", help="Only topics matching this regex (whole name). Repeatable."
    ),
    once: bool = typer.Option(
        False, "--once", help="Copy up to the ends seen at start, then exit."
    ),
    follow: bool = typer.Option(False, "--follow", help="Keep tailing until SIGINT/SIGTERM."),
    metrics_port: int | None = typer.Option(
        None, "--metrics-port", help="Serve Prometheus metrics on 127.0.0.1:PORT."
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="raw: copy record batches as bytes (fastest; PLAINTEXT, TLS, SASL PLAIN/SCRAM); "
        "record: librdkafka consume+produce (any security); auto: raw where possible.",
    ),
    retry_seconds: float = typer.Option(
        300.0,
        "--retry-seconds",
        help="Wait out one outage (a broker restarting, a leader moving, a lost connection) "
        "this long, retrying with backoff, before giving up with exit 3.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Copy topics so every offset is kept, or mapped exactly (default: --once)."""
    if engine not in ("auto", "raw", "record"):
        raise UsageError(f"unknown --engine {engine!r}", fix="use auto, raw or record")
    if retry_seconds < 0:
        raise UsageError(
            f"--retry-seconds must be 0 or more, not {retry_seconds:g}",
            fix="0 gives up at the first failure",
        )
    STATE.json = as_json
    if once and follow:
        raise UsageError("--once and --follow exclude each other", fix="pick one")
    from connshift.app.sync import SyncOptions
    from connshift.app.sync import sync as run_sync

    m = open_migration(config)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with progress_bars(as_json) as progress:
            result = run_sync(
                m,
                SyncOptions(
                    topics=topics or None,
                    follow=follow,
                    stop=stop,
                    progress=progress,
                    metrics_port=metrics_port,
                    engine=engine,
                    notice=warn,
                    retry_seconds=retry_seconds,
                ),
            )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if as_json:
        emit_json(result.to_json())
        return
    table = Table(title="connshift sync")
    for col in ("topic", "partition", "→ destination", "source next", "dest next", "offsets"):
        table.add_column(col)
    for row in result.partitions:
        table.add_row(
            row["topic"],
            str(row["partition"]),
            row["dst_topic"],
            str(row["source_next"]),
            str(row["destination_next"]),
            "identical" if row["contiguous"] else f"mapped ({row['runs']} runs)",
        )
    console.print(table)
    rate = f", {result.records / result.seconds:,.0f} records/s" if result.seconds else ""
    console.print(f"copied {result.records:,} records in {result.seconds:.1f}s{rate}")
    for topic, n in result.recovered.items():
        console.print(f"recovered {n} records already on the destination for {topic}")
    for t in result.topics:
        if t.created and t.dropped_configs:
            for key, why in t.dropped_configs.items():
                console.print(f"[yellow]{t.dst_topic}: config {key} not copied: {why}[/]")


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(sync)
