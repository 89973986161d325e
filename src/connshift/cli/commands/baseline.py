"""``connshift baseline`` and ``baseline compare``: an observability baseline and its
regressions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress
from connshift.errors import ExitCode, UsageError

baseline_app = typer.Typer(
    help="Sample an observability baseline (--label before|after); `baseline compare` "
    "flags regressions between two.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@baseline_app.callback()
def baseline(
    ctx: typer.Context,
    config: Path = ConfigOpt,
    label: str | None = typer.Option(
        None, "--label", help="Name of this window, e.g. before or after (required)."
    ),
    duration: str = typer.Option("60s", "--duration", help="Window: seconds, or 30s, 5m, 1h."),
    interval: str = typer.Option("5s", "--interval", help="Time between samples."),
    as_json: bool = JsonOpt,
) -> None:
    """Sample connector/task states, task errors and retries, source and group lag, broker
    storage and canary latency over a window; recorded as evidence baseline-LABEL."""
    if ctx.invoked_subcommand is not None:
        return
    STATE.json = as_json
    from connshift.app.baseline import run_baseline
    from connshift.core.baseline import parse_duration

    if not label:
        raise UsageError(
            "baseline needs --label",
            fix="e.g. `connshift baseline -c SPEC --label before`, or `baseline compare`",
        )
    if not all(c.isalnum() or c in "._-" for c in label):
        raise UsageError(f"bad --label {label!r}", why="use letters, digits, '.', '_', '-'")
    seconds = parse_duration(duration)
    every = parse_duration(interval, what="--interval")
    m = open_migration(config)
    with progress(f"baseline {label}") as report:
        data = run_baseline(m, label, duration=seconds, interval=every, report=report)
    if as_json:
        emit_json(data)
        return
    _print_baseline(data)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}{unit}"
    if isinstance(value, float):
        value = int(value)
    return f"{value:,}{unit}"


def _print_baseline(data: dict[str, Any]) -> None:
    summary = data["summary"]
    src = ", ".join(f"{k}: {v}" for k, v in data["metrics_source"].items())
    console.print(
        f"baseline [bold]{data['label']}[/]: {summary['samples']} samples over "
        f"{data['duration_seconds']:g}s (task metrics from {src})",
        highlight=False,
    )
    table = Table(title="connectors")
    for col in ("connector", "side", "state", "tasks running", "failed (max)", "errors", "retries"):
        table.add_column(col)
    for name, c in sorted(summary["connectors"].items()):
        table.add_row(
            name,
            str(c["side"]),
            " → ".join(c["states"]),
            _fmt(c["tasks_running_last"]),
            _fmt(c["tasks_failed_max"]),
            _fmt(c["task_errors_last"]),
            _fmt(c["task_retries_last"]),
        )
    console.print(table)
    table = Table(title="consumer groups and lag")
    for col in ("group", "state", "lag max", "lag last"):
        table.add_column(col)
    for group, g in sorted(summary["groups"].items()):
        lag = summary["group_lag"].get(group, {})
        table.add_row(group, str(g["last"]), _fmt(lag.get("max")), _fmt(lag.get("last")))
    console.print(table)
    for name, lag in summary["source_lag_ms"].items():
        console.print(f"source lag {name}: max {_fmt(lag['max'], ' ms')}", highlight=False)
    for side in ("source", "destination"):
        p, f = summary["produce_ms"].get(side), summary["fetch_ms"].get(side)
        st = summary["storage_bytes"].get(side)
        parts = []
        if p:
            parts.append(f"canary produce p50 {_fmt(p['p50'], ' ms')} p99 {_fmt(p['p99'], ' ms')}")
        if f:
            parts.append(f"fetch p50 {_fmt(f['p50'], ' ms')} p99 {_fmt(f['p99'], ' ms')}")
        if st:
            parts.append(f"storage {_fmt(st['last'])} bytes")
        if parts:
            console.print(f"{side}: " + "; ".join(parts), highlight=False)


@baseline_app.command("compare")
def baseline_compare(
    config: Path = ConfigOpt,
    before: str = typer.Option("before", "--before", help="Label of the earlier baseline."),
    after: str = typer.Option("after", "--after", help="Label of the later baseline."),
    as_json: bool = JsonOpt,
) -> None:
    """Flag regressions from one recorded baseline to another (exit 1 when any)."""
    STATE.json = as_json
    from connshift.app.baseline import compare_baselines

    data = compare_baselines(open_migration(config), before, after)
    if as_json:
        emit_json(data)
    else:
        if data["ok"]:
            console.print(f"no regression from {before} to {after}", highlight=False)
        else:
            table = Table(title=f"regressions {before} → {after}")
            for col in ("metric", "subject", "before", "after", "why"):
                table.add_column(col)
            for r in data["regressions"]:
                table.add_row(
                    r["metric"], r["subject"], _fmt(r["before"]), _fmt(r["after"]), r["why"]
                )
            console.print(table)
    if not data["ok"]:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.add_typer(baseline_app, name="baseline")
