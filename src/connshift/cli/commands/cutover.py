"""``connshift cutover``, ``rollback`` and ``status``: move connectors, undo a move, show
the cutover journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress
from connshift.errors import UsageError


def _plans_from(spec: Any, connectors: list[str], plan_file: Path | None) -> Any:
    """``spec`` is the command's migration context (plans are read from its source)."""
    from connshift.app import cutover as mover
    from connshift.core.plan import Strategy

    strategy = Strategy.RESUME
    if plan_file is not None:
        try:
            data = json.loads(plan_file.read_text())
            by_name = {c["name"]: Strategy(c["strategy"]) for c in data["connectors"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"cannot read the plan {plan_file}",
                why=str(exc),
                fix="pass a plan.json written by `connshift plan -o`",
            ) from exc
        mover.check_plan_file(data, str(plan_file), spec.spec.name)
        plans = mover.plan(spec, connectors or list(by_name))
        mover.check_plan_file(data, str(plan_file), spec.spec.name, plans)
        for p in plans:
            if by_name.get(p.name, strategy) is not p.strategy:
                p2 = mover.plan(spec, [p.name], by_name[p.name])[0]
                p.strategy, p.destination_config = p2.strategy, p2.destination_config
        return plans
    return mover.plan(spec, connectors or None, strategy)


def _print_steps(result: Any, title: str) -> None:
    table = Table(title=title)
    for col in ("connector", "step", "status", "detail"):
        table.add_column(col)
    styles = {"done": "green", "failed": "red", "would": "cyan", "skipped": "yellow"}
    for s in result.steps:
        style = styles.get(s.status, "white")
        table.add_row(s.connector, s.step, f"[{style}]{s.status}[/]", s.detail)
    console.print(table)
    for name, secs in result.pause_seconds.items():
        console.print(f"{name}: paused {secs:.1f}s (source stopped -> destination RUNNING)")


MetricsPortOpt = typer.Option(
    None,
    "--metrics-port",
    help="Serve Prometheus metrics (step durations and states) on 127.0.0.1:PORT.",
)


def _step_metrics(port: int | None) -> Any:
    """The Mover's step hook serving metrics on ``port`` (None: no metrics)."""
    if port is None:
        return None
    from connshift.io.metrics import start_cutover_metrics

    return start_cutover_metrics(port).on_step


def cutover(
    connectors: list[str] = typer.Argument(None, help="Connector names (default: the spec's)."),
    config: Path = ConfigOpt,
    plan_file: Path | None = typer.Option(None, "--plan", help="A plan.json from `plan -o`."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Walk the steps, change nothing."),
    repoint_workers: bool = typer.Option(
        False,
        "--repoint-workers",
        help="Instead: copy the (stopped) source Connect cluster's internal topics and sink "
        "groups so its workers restart against the destination and resume every connector.",
    ),
    config_topic: str | None = typer.Option(
        None,
        "--config-topic",
        help="--repoint-workers: config.storage.topic (default connect-configs)",
    ),
    offset_topic: str | None = typer.Option(
        None,
        "--offset-topic",
        help="--repoint-workers: offset.storage.topic (default connect-offsets)",
    ),
    status_topic: str | None = typer.Option(
        None,
        "--status-topic",
        help="--repoint-workers: status.storage.topic (default connect-status)",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Run even when the readiness scorecard has rows at 0 (recorded in the journal).",
    ),
    metrics_port: int | None = MetricsPortOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Move connectors: stop on the source, catch up, create STOPPED, write offsets, resume."""
    STATE.json = as_json
    topic_opts = (config_topic, offset_topic, status_topic)
    if repoint_workers:
        from connshift.app import repoint

        if connectors or plan_file is not None:
            raise UsageError(
                "--repoint-workers moves the whole Connect cluster: it takes no connector "
                "names and no --plan",
                fix="drop them, or move connectors one by one without --repoint-workers",
            )
        with progress("repoint") as report:
            res = repoint.repoint_workers(
                open_migration(config),
                force=force,
                config_topic=config_topic or repoint.DEFAULT_CONFIG_TOPIC,
                offset_topic=offset_topic or repoint.DEFAULT_OFFSET_TOPIC,
                status_topic=status_topic or repoint.DEFAULT_STATUS_TOPIC,
                dry_run=dry_run,
                report=report,
            )
        if as_json:
            emit_json(res.to_json())
            return
        table = Table(title="connshift cutover --repoint-workers" + (" (dry run)" * dry_run))
        for col in ("topic", "partitions", "source end", "created", "offsets"):
            table.add_column(col)
        for t in res.topics:
            same = {None: "-", True: "identical", False: "mapped"}[t.identical_offsets]
            made = ("would" if dry_run else "yes") if t.created else "no (exists)"
            table.add_row(t.topic, str(t.partitions), str(t.source_end), made, same)
        console.print(table)
        console.print(f"{res.source_connect}", highlight=False)
        verb = "would apply" if dry_run else "applied"
        console.print(f"sink groups {verb}: {', '.join(res.groups_applied) or 'none'}")
        for group, why in res.groups_refused.items():
            console.print(f"[yellow]group {group} would be refused:[/] {why}", highlight=False)
        for w in res.warnings:
            console.print(f"[yellow]warning:[/] {w}", highlight=False)
        console.print("[bold]next, restart the workers against the destination:[/]")
        for i, step in enumerate(res.checklist, 1):
            console.print(f"  {i}. {step}", highlight=False, soft_wrap=True)
        return
    if any(topic_opts):
        raise UsageError(
            "--config-topic/--offset-topic/--status-topic go with --repoint-workers",
            fix="add --repoint-workers, or drop them",
        )
    from connshift.app import cutover as mover

    m = open_migration(config)
    plans = _plans_from(m, connectors or [], plan_file)
    with progress("cutover") as report:
        # the readiness gate is the Mover's: a library caller is refused the same way
        result = mover.Mover(
            m, dry_run=dry_run, report=report, force=force, on_step=_step_metrics(metrics_port)
        ).cutover(plans)
    if as_json:
        emit_json(result.to_json())
    else:
        _print_steps(result, "connshift cutover" + (" (dry run)" if dry_run else ""))


def rollback(
    connectors: list[str] = typer.Argument(..., help="Connector names."),
    config: Path = ConfigOpt,
    force: bool = typer.Option(False, "--force", help="Even outside the rollback window."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Walk the steps, change nothing."),
    metrics_port: int | None = MetricsPortOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Undo a cutover: stop on the destination, copy back its records, resume on the source."""
    STATE.json = as_json
    from connshift.app import cutover as mover

    m = open_migration(config)
    with progress("rollback") as report:
        # the reverse of each connector's journaled cutover
        result = mover.Mover(
            m, dry_run=dry_run, report=report, on_step=_step_metrics(metrics_port)
        ).rollback(connectors, force=force)
    if as_json:
        emit_json(result.to_json())
    else:
        _print_steps(result, "connshift rollback" + (" (dry run)" if dry_run else ""))


def status(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Show the cutover journal: each connector's latest attempt and its steps."""
    STATE.json = as_json
    from connshift.app import cutover as mover

    data = mover.status(open_migration(config))
    if as_json:
        emit_json(data)
        return
    table = Table(title="connshift status")
    for col in ("connector", "attempt", "kind", "step", "status", "error"):
        table.add_column(col)
    for name, info in data["connectors"].items():
        for e in info["entries"]:
            table.add_row(
                name, str(info["attempt"]), e["kind"], e["step"], e["status"], e["error"] or ""
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(cutover)
    app.command()(rollback)
    app.command()(status)
