"""The ``connshift`` command: thin typer commands that parse, call one library function,
and render. Every error the library raises on purpose is printed as one line (what,
why, what to do) with its documented exit code; a traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from connshift import __version__
from connshift.errors import ConnshiftError, ExitCode
from connshift.errors import UsageError as UsageError_

console = Console()
err_console = Console(stderr=True)

#: The command-line parser's own errors (bad option, unknown command, ...). Newer typer
#: vendors click (``typer._click``, not installing click) and raises ``TyperException``
#: subclasses; older typer raises click's ``ClickException``.
_ParserError: type[Exception]
if hasattr(typer, "TyperException"):
    _ParserError = typer.TyperException
else:  # pragma: no cover - typer that still depends on click
    import click

    _ParserError = click.exceptions.ClickException


class _State:
    debug = False
    json = False


STATE = _State()

app = typer.Typer(
    name="connshift",
    help=(
        "Move a Kafka Connect estate — connectors, topics, offsets, consumer groups — "
        "between Kafka clusters, and prove it. Exit codes: 0 ok, 1 a check failed, "
        "2 usage or config error, 3 a cluster or service could not be reached."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
sandbox_app = typer.Typer(
    help="A local estate to try connshift on: 2 Kafka clusters, 2 Connect workers, "
    "PostgreSQL + Debezium, optional tansu on S3.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")

ConfigOpt = typer.Option(
    Path("connshift.yaml"), "-c", "--config", help="Migration spec (YAML).", show_default=True
)
JsonOpt = typer.Option(False, "--json", help="Machine-readable output on stdout.")


def _version(value: bool) -> None:
    if value:
        console.print(f"connshift {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and librdkafka logs."),
) -> None:
    """connshift: an open, exact-offset Kafka Connect migration tool."""
    STATE.debug = debug
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        lib = logging.getLogger("connshift.librdkafka")
        lib.propagate = True


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner showing the latest step; yields the ``report`` callback for the library."""
    if STATE.json or not err_console.is_terminal:

        def plain(msg: str) -> None:
            if not STATE.json:
                err_console.print(f"  {msg}", highlight=False)

        yield plain
        return
    with err_console.status(message) as status:

        def report(msg: str) -> None:
            err_console.print(f"  {msg}", highlight=False)
            status.update(msg)

        yield report


# ---------------------------------------------------------------------------- init / check


@app.command()
def init(
    output: Path = typer.Option(
        Path("connshift.yaml"), "-o", "--output", "-c", "--config", help="Where to write."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    as_json: bool = JsonOpt,
) -> None:
    """Write a commented migration spec template."""
    STATE.json = as_json
    from connshift.app.config import write_template

    path = write_template(output, force=force)
    if as_json:
        emit_json({"schema": "connshift.init/1", "written": str(path)})
    else:
        console.print(f"wrote {path} — edit it, then run `connshift check -c {path}`")


@app.command()
def check(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Validate the spec and reach every Kafka cluster and Connect worker it names."""
    STATE.json = as_json
    from connshift.app.check import check_spec

    result = check_spec(config)
    _record(_load(config), "check", result.to_json())
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


# ---------------------------------------------------------------------------- sandbox


def _sandbox(home: Path | None) -> Any:
    from connshift.app.sandbox import Sandbox

    return Sandbox(home)


HomeOpt = typer.Option(
    None,
    "--home",
    help="Sandbox data and state directory (default: $CONNSHIFT_SANDBOX_HOME, or a per-user dir).",
)


def _print_sandbox(info: Any) -> None:
    table = Table(title=f"connshift sandbox — {info.home}")
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
    spec: Path = typer.Option(
        Path("sandbox.yaml"), "--spec", help="Where to write the migration spec for the sandbox."
    ),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start the sandbox (idempotent) and write sandbox.yaml pointing at it."""
    STATE.json = as_json
    from connshift.app.sandbox import parse_ports, write_sandbox_spec

    ports = parse_ports(port)
    sb = _sandbox(home)
    with progress("starting the sandbox") as report:
        info = sb.up(with_tansu=with_tansu, ports=ports, report=report)
    info.spec_path = write_sandbox_spec(sb, spec)
    if as_json:
        emit_json(info.to_json())
        return
    _print_sandbox(info)
    console.print(f"migration spec for the sandbox: [bold]{info.spec_path}[/]")
    console.print("next: `connshift sandbox seed` creates a small estate on the source side")


@sandbox_app.command("status")
def sandbox_status(home: Path | None = HomeOpt, as_json: bool = JsonOpt) -> None:
    """Show each sandbox service's process and health (exit 1 if any is down)."""
    STATE.json = as_json
    info = _sandbox(home).status()
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
    sb = _sandbox(home)
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

    sb = _sandbox(home)
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


# ---------------------------------------------------------------------------- demo


@app.command()
def demo(
    with_tansu: bool = typer.Option(False, "--with-tansu", help="Also start tansu on S3."),
    home: Path | None = HomeOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Start and seed the sandbox, then run the migration steps that exist so far."""
    STATE.json = as_json
    from connshift.app.demo import run_demo

    with progress("running the demo") as report:
        result = run_demo(_sandbox(home), with_tansu=with_tansu, report=report)
    if as_json:
        emit_json(result)
        return
    for line in result["summary"]:
        console.print(line, highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------- sync


def _load(config: Path) -> Any:
    from connshift.app.config import load_spec

    return load_spec(config)


def _record(spec: Any, kind: str, data: dict[str, Any]) -> None:
    """Keep ``data`` as the latest ``kind`` evidence for the scorecard; a state directory
    that cannot be written costs the evidence, not the command's result."""
    from connshift.io.evidence import try_record_evidence

    try_record_evidence(spec, kind, data, warn=_warn)


def _warn(message: str) -> None:
    """One warning line on stderr (never on stdout: ``--json`` stays one JSON document)."""
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@app.command()
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
        help="raw: copy record batches as bytes (PLAINTEXT only, fastest); record: "
        "librdkafka consume+produce (any security); auto: raw where possible.",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Copy topics so every offset is kept, or mapped exactly (default: --once)."""
    if engine not in ("auto", "raw", "record"):
        raise UsageError_(f"unknown --engine {engine!r}", fix="use auto, raw or record")
    STATE.json = as_json
    if once and follow:
        raise UsageError_("--once and --follow exclude each other", fix="pick one")
    from connshift.app.sync import SyncOptions
    from connshift.app.sync import sync as run_sync

    spec = _load(config)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _progress_bars(as_json) as progress:
            result = run_sync(
                spec,
                SyncOptions(
                    topics=topics or None,
                    follow=follow,
                    stop=stop,
                    progress=progress,
                    metrics_port=metrics_port,
                    engine=engine,
                ),
            )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    _record(spec, "sync", result.to_json())
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


@contextmanager
def _progress_bars(as_json: bool) -> Iterator[Callable[[dict[str, tuple[int, int]]], None] | None]:
    """Rich progress bars per topic, fed with {topic: (done, total)}."""
    if as_json or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(per_topic: dict[str, tuple[int, int]]) -> None:
            for topic, (done, total) in per_topic.items():
                if topic not in tasks:
                    tasks[topic] = bars.add_task(topic, total=total)
                bars.update(tasks[topic], completed=done, total=total)

        yield update


@app.command()
def offsets(
    topic: str = typer.Argument(..., help="Source topic."),
    partition: int = typer.Argument(..., help="Source partition."),
    offset: int = typer.Argument(..., help="Source offset (a record or a consumer position)."),
    config: Path = ConfigOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Print the destination offset a source offset maps to (from sync's exact map)."""
    STATE.json = as_json
    from connshift.app.offsets import lookup

    result = lookup(_load(config), topic, partition, offset)
    if as_json:
        emit_json(result)
    else:
        console.print(result["text"], highlight=False)
    if result["destination_offset"] is None:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@app.command()
def groups(
    action: str = typer.Argument(..., help="translate | apply"),
    config: Path = ConfigOpt,
    groups_regex: str | None = typer.Option(
        None, "--groups", help="Only groups matching this regex (whole id)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="apply: show, change nothing."),
    reverse: bool = typer.Option(
        False, "--reverse", help="Destination groups back to the source (after a rollback)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Translate every committed group offset exactly through sync's map; apply commits them."""
    STATE.json = as_json
    from connshift.app import groups as groups_app

    spec = _load(config)
    if action == "translate":
        result = (
            groups_app.translate_back(spec, groups_regex)
            if reverse
            else groups_app.translate(spec, groups_regex)
        )
    elif action == "apply":
        result = groups_app.apply(spec, groups_regex, dry_run=dry_run, reverse=reverse)
    else:
        raise UsageError_(f"unknown groups action {action!r}", fix="use translate or apply")
    if as_json:
        emit_json(result.to_json())
    else:
        table = Table(title=f"connshift groups {action}" + (" (dry run)" if dry_run else ""))
        for col in ("group", "source", "destination", "translation"):
            table.add_column(col)
        for o in result.offsets:
            dst = (
                f"{o.destination_topic}[{o.partition}]@{o.destination_offset}"
                if o.destination_offset is not None
                else "-"
            )
            table.add_row(
                o.group, f"{o.topic}[{o.partition}]@{o.source_offset}", dst, o.translation
            )
        console.print(table)
        if action == "apply":
            verb = "would apply" if dry_run else "applied"
            console.print(f"{verb}: {', '.join(result.applied) or 'none'}")
    if action == "apply":
        groups_app.raise_if_refused(result)
    elif result.untranslated:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@app.command()
def validate(
    config: Path = ConfigOpt,
    topics: list[str] = typer.Option([], "--topics", help="Only topics matching this regex."),
    as_json: bool = JsonOpt,
) -> None:
    """Contract test: source vs destination through the exact map; exit 1 on any FAIL."""
    STATE.json = as_json
    from connshift.app.validate import validate as run_validate

    spec = _load(config)
    with progress("validating") as report:
        result = run_validate(spec, topics or None, report=report)
    _record(spec, "validate", {**result.to_json(), "topics_filter": topics})
    if as_json:
        emit_json(result.to_json())
    else:
        table = Table(title="connshift validate")
        for col in ("check", "subject", "status", "summary"):
            table.add_column(col)
        for c in result.checks:
            style = {"PASS": "green", "FAIL": "red"}.get(str(c.status), "yellow")
            table.add_row(c.id, c.subject, f"[{style}]{c.status}[/]", c.summary)
        console.print(table)
    if not result.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


@app.command()
def acls(
    action: str = typer.Argument(..., help="diff | apply"),
    config: Path = ConfigOpt,
    principal_map: Path | None = typer.Option(
        None, "--principal-map", help="YAML: source principal -> destination principal."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="apply: show, change nothing."),
    as_json: bool = JsonOpt,
) -> None:
    """Compare (diff) or copy (apply) the ACLs of the migrated topics and groups."""
    STATE.json = as_json
    from connshift.app import acls as acls_app

    spec = _load(config)
    if action == "diff":
        result = acls_app.compare(spec, principal_map)
        _record(spec, "acls", result.to_json())
    elif action == "apply":
        result = acls_app.apply(spec, principal_map, dry_run=dry_run)
    else:
        raise UsageError_(f"unknown acls action {action!r}", fix="use diff or apply")
    if as_json:
        emit_json(result.to_json())
    else:
        for a in result.diff.present:
            console.print(f"[green]present[/]  {a.describe()}", highlight=False)
        for a in result.diff.missing:
            verb = "created" if action == "apply" and not dry_run else "missing"
            console.print(f"[yellow]{verb}[/]  {a.describe()}", highlight=False)
        console.print(
            f"{len(result.source_relevant)} source ACL(s) cover the migrated topics and groups; "
            f"{len(result.diff.missing)} missing on the destination"
            + (" (now created)" if action == "apply" and not dry_run else "")
        )
    if action == "diff" and result.diff.missing:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


# ---------------------------------------------------------------------------- connectors


def _strategy(value: str) -> Any:
    from connshift.core.plan import Strategy

    try:
        return Strategy(value)
    except ValueError as exc:
        raise UsageError_(
            f"unknown --strategy {value!r}", fix="use resume, fresh or snapshot"
        ) from exc


@app.command()
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

    spec = _load(config)
    plans = mover.plan(spec, connectors or None, _strategy(strategy))
    data = mover.plan_json(plans)
    _record(spec, "plan", data)
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


def _plans_from(spec: Any, connectors: list[str], plan_file: Path | None) -> Any:
    from connshift.app import cutover as mover
    from connshift.core.plan import Strategy

    strategy = Strategy.RESUME
    if plan_file is not None:
        try:
            data = json.loads(plan_file.read_text())
            by_name = {c["name"]: Strategy(c["strategy"]) for c in data["connectors"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError_(f"cannot read the plan {plan_file}", why=str(exc)) from exc
        plans = mover.plan(spec, connectors or list(by_name))
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


@app.command()
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
            raise UsageError_(
                "--repoint-workers moves the whole Connect cluster: it takes no connector "
                "names and no --plan",
                fix="drop them, or move connectors one by one without --repoint-workers",
            )
        spec = _load(config)
        from connshift.app.score import gate_workers

        gate_workers(spec, force=force, dry_run=dry_run)
        with progress("repoint") as report:
            res = repoint.repoint_workers(
                spec,
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
        raise UsageError_(
            "--config-topic/--offset-topic/--status-topic go with --repoint-workers",
            fix="add --repoint-workers, or drop them",
        )
    from connshift.app import cutover as mover

    spec = _load(config)
    plans = _plans_from(spec, connectors or [], plan_file)
    from connshift.app.score import gate

    blockers = gate(spec, [p.name for p in plans])
    with progress("cutover") as report:
        m = mover.Mover(
            spec,
            dry_run=dry_run,
            report=report,
            blockers=blockers,
            force=force,
            on_step=_step_metrics(metrics_port),
        )
        try:
            result = m.cutover(plans)
        finally:
            m.close()
    if as_json:
        emit_json(result.to_json())
    else:
        _print_steps(result, "connshift cutover" + (" (dry run)" if dry_run else ""))


@app.command()
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

    spec = _load(config)
    plans = mover.plan(spec, connectors)
    with progress("rollback") as report:
        m = mover.Mover(spec, dry_run=dry_run, report=report, on_step=_step_metrics(metrics_port))
        try:
            result = m.rollback(plans, force=force)
        finally:
            m.close()
    if as_json:
        emit_json(result.to_json())
    else:
        _print_steps(result, "connshift rollback" + (" (dry run)" if dry_run else ""))


@app.command()
def status(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Show the cutover journal: each connector's latest attempt and its steps."""
    STATE.json = as_json
    from connshift.app import cutover as mover

    data = mover.status(_load(config))
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


# ---------------------------------------------------------------------------- estate


@app.command()
def inventory(
    config: Path = ConfigOpt,
    output: Path = typer.Option(
        Path("inventory.json"), "-o", "--output", help="Where to write the inventory."
    ),
    sample: int = typer.Option(20, "--sample", help="Records sampled per partition."),
    rate_window: float = typer.Option(
        2.0, "--rate-window", help="Seconds over which message rates are sampled."
    ),
    sample_budget: int = typer.Option(
        200, "--sample-budget", help="Records sampled per topic at most (over its partitions)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Record the source estate: connectors, topics, formats, groups, ACLs, versions."""
    STATE.json = as_json
    from connshift.app.inventory import inventory as run_inventory
    from connshift.core.disksize import human_bytes
    from connshift.io.artifacts import write_json_atomic

    spec = _load(config)
    with progress("taking the inventory") as report:
        inv = run_inventory(
            spec,
            sample=sample,
            rate_window=rate_window,
            sample_budget=sample_budget,
            report=report,
        )
    data = inv.to_json()
    write_json_atomic(output, data)
    _record(spec, "inventory", data)
    if as_json:
        emit_json(data)
        return
    table = Table(title="connectors")
    for col in ("name", "shape", "class", "state", "topics", "notes"):
        table.add_column(col)
    for c in data["connectors"]:
        notes = []
        if c["inline_secrets"]:
            notes.append("inline secrets: " + ", ".join(c["inline_secrets"]))
        if c["transforms"]:
            notes.append(f"{len(c['transforms'])} SMT(s)")
        if c["errors"]["dead_letter_topic"]:
            notes.append("DLQ " + c["errors"]["dead_letter_topic"])
        table.add_row(
            c["name"],
            c["shape"],
            c["class"].rsplit(".", 1)[-1],
            c["state"],
            ", ".join(c["topics"]),
            "; ".join(notes),
        )
    console.print(table)
    table = Table(title="topics")
    cols = ("topic", "partitions", "RF", "cleanup", "records", "size", "rate/s", "key", "value")
    for col in cols:
        table.add_column(col, justify="right" if col == "size" else "left", no_wrap=col == "size")
    for t in data["topics"]:
        table.add_row(
            t["name"],
            str(t["partitions"]),
            str(t["replication_factor"]),
            str(t["configs"].get("cleanup.policy")),
            str(t["records_retained_approx"]),
            human_bytes(t.get("size_bytes")),
            str(t["rate_per_second"]),
            str(t["key_format"].get("dominant")),
            str(t["value_format"].get("dominant")),
        )
    console.print(table)
    unsized = {t.get("size_note") for t in data["topics"] if t.get("size_bytes") is None}
    if unsized:
        console.print(f"size on disk not known: {'; '.join(sorted(map(str, unsized)))}")
    console.print(
        f"{len(data['groups'])} consumer group(s), {len(data['acls'])} ACL(s), "
        f"{len(data['connect_internal_topics'])} Connect internal topic(s); wrote {output}"
    )


# ---------------------------------------------------------------------------- probe


@app.command()
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
        raise UsageError_(f"unknown --side {side!r}", fix="use destination or source")
    from connshift.app.probe import probe as run_probe
    from connshift.core.probe import error_adds

    spec = _load(config)
    inventory_data = None
    if inventory_file is not None:
        try:
            inventory_data = json.loads(inventory_file.read_text())
        except (OSError, ValueError) as exc:
            raise UsageError_(
                f"cannot read the inventory {inventory_file}",
                why=str(exc),
                fix="run `connshift inventory -o inventory.json` first",
            ) from exc
    with progress(f"probing the {side} cluster") as report:
        result = run_probe(spec, side, inventory=inventory_data, report=report)
    _record(spec, f"probe-{side}", result.to_json())
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


@app.command()
def review(
    config: Path = ConfigOpt,
    inventory_file: Path | None = typer.Option(
        None, "--inventory", help="An inventory.json (default: take one now)."
    ),
    probe_file: Path | None = typer.Option(
        None, "--probe", help="A `probe --json` result (default: probe the destination now)."
    ),
    replay_window_hours: float | None = typer.Option(
        None,
        "--replay-window-hours",
        help="Flag topics whose retention is shorter (default: readiness.replay_window_hours).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Findings from inventory and probe, each with a severity and the fix (exit 1 on high)."""
    STATE.json = as_json
    from connshift.app.review import run_review

    spec = _load(config)
    with progress("reviewing") as report:
        data = run_review(
            spec,
            inventory_file=inventory_file,
            probe_file=probe_file,
            replay_window_hours=replay_window_hours,
            report=report,
        )
    _record(spec, "review", data)
    if as_json:
        emit_json(data)
    else:
        table = Table(title="connshift review")
        for col in ("severity", "subject", "finding", "fix"):
            table.add_column(col)
        styles = {"high": "red", "medium": "yellow", "low": "white"}
        for f in data["findings"]:
            sev = f["severity"]
            table.add_row(f"[{styles[sev]}]{sev}[/]", f["subject"], f["finding"], f["fix"])
        console.print(table)
        console.print(", ".join(f"{n} {s}" for s, n in data["counts"].items()))
    if data["counts"]["high"]:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


# ---------------------------------------------------------------------------- readiness

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


@app.command()
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

    spec = _load(config)
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


# ---------------------------------------------------------------------------- baseline

baseline_app = typer.Typer(
    help="Sample an observability baseline (--label before|after); `baseline compare` "
    "flags regressions between two.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(baseline_app, name="baseline")


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
        raise UsageError_(
            "baseline needs --label",
            fix="e.g. `connshift baseline -c SPEC --label before`, or `baseline compare`",
        )
    if not all(c.isalnum() or c in "._-" for c in label):
        raise UsageError_(f"bad --label {label!r}", why="use letters, digits, '.', '_', '-'")
    seconds = parse_duration(duration)
    every = parse_duration(interval, what="--interval")
    spec = _load(config)
    with progress(f"baseline {label}") as report:
        data = run_baseline(spec, label, duration=seconds, interval=every, report=report)
    _record(spec, f"baseline-{label}", data)
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

    spec = _load(config)
    data = compare_baselines(spec, before, after)
    _record(spec, "baseline-compare", data)
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


@app.command()
def rehearse(
    connector: str = typer.Argument(..., help="The connector to rehearse."),
    config: Path = ConfigOpt,
    target: Path | None = typer.Option(
        None,
        "--target",
        help="A spec of the rehearsal environment, where the connector runs "
        "(default: the sandbox).",
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Rehearse one connector: sync, validate, cutover, validate, rollback, validate on a
    rehearsal target; recorded as evidence (exit 1 if a step failed)."""
    STATE.json = as_json
    from connshift.app.rehearse import STEPS
    from connshift.app.rehearse import rehearse as run_rehearse

    spec = _load(config)
    target_spec = _load(target) if target is not None else None
    with progress(f"rehearsing {connector}") as report:
        result = run_rehearse(
            spec,
            connector,
            target=target_spec,
            target_label=str(target) if target else None,
            report=report,
        )
    data = result.to_json()
    if as_json:
        emit_json(data)
    else:
        table = Table(title=f"connshift rehearse {connector} on {result.target}")
        for col in ("step", "status", "seconds", "summary"):
            table.add_column(col)
        for st in data["steps"]:
            status = "[green]PASS[/]" if st["ok"] else "[red]FAIL[/]"
            table.add_row(st["step"], status, f"{st['seconds']:.1f}", st["summary"])
        for name in data["not_run"]:
            table.add_row(name, "[yellow]not run[/]", "-", "an earlier step failed")
        console.print(table)
        verdict = "[green]rehearsal passed[/]" if result.ok else "[red]rehearsal failed[/]"
        console.print(
            f"{verdict}; recorded as evidence/rehearsal-{connector}.json "
            f"({len(STEPS)} steps, copies under {result.prefix} removed)",
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


# ---------------------------------------------------------------------------- cost / decide


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}"


@app.command()
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

    spec = _load(config)
    with progress("pricing the estate"):
        data = run_cost(spec, profile=profile, warn=_warn)
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


@app.command()
def decide(config: Path = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Which migration path the measured pressure favours, with reasons and what stays hard."""
    STATE.json = as_json
    from connshift.app.decide import run_decide

    spec = _load(config)
    with progress("weighing the evidence"):
        data = run_decide(spec, warn=_warn)
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


@app.command()
def report(
    config: Path = ConfigOpt,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Where to write (default: report.html, .json or .md)."
    ),
    fmt: str = typer.Option("html", "--format", help="html (one self-contained page), json or md."),
    as_json: bool = JsonOpt,
) -> None:
    """Render all the evidence (scorecard, blockers, validation, charts, cost, decision)
    as one report; exits 0 once written — blockers are shown, not enforced."""
    STATE.json = as_json
    from connshift.app.report import write_report

    spec = _load(config)
    with progress("writing the report") as step:
        result = write_report(spec, config=config, output=output, fmt=fmt.lower(), report=step)
    if as_json:
        emit_json(result.to_json())
        return
    sections = result.summary["sections"]
    missing = [name for name, state in sections.items() if state != "present"]
    blockers = result.summary.get("blockers")
    if blockers:
        console.print(
            f"[red]{len(blockers)} blocker(s)[/] shown first in the report", highlight=False
        )
    if missing:
        console.print(f"no evidence yet for: {', '.join(missing)}", highlight=False)
    console.print(f"report: {result.path}", highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------- entry point


def _report_error(exc: ConnshiftError) -> int:
    if STATE.json:
        emit_json(exc.as_dict())
    err_console.print(f"[red]error:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
    return int(exc.exit_code)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app and map errors to exit codes."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except ConnshiftError as exc:
        if STATE.debug:
            err_console.print_exception()
        sys.exit(_report_error(exc))
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except _ParserError as exc:
        # with no arguments, typer has already printed the help
        if type(exc).__name__ != "NoArgsIsHelpError" and hasattr(exc, "show"):
            ctx = getattr(exc, "ctx", None)
            where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            if STATE.json:
                emit_json(
                    {"error": "UsageError", "what": message, "exit_code": int(ExitCode.USAGE)}
                )
            err_console.print(f"[red]error:[/] {message}{where}", highlight=False, soft_wrap=True)
        sys.exit(int(ExitCode.USAGE))
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: one line unless --debug
        if STATE.debug:
            err_console.print_exception()
        else:
            err_console.print(
                f"[red]internal error:[/] {type(exc).__name__}: {exc} "
                "(run with --debug for the traceback, and please report it)",
                highlight=False,
                soft_wrap=True,
            )
        sys.exit(4)
    sys.exit(int(rv or 0))


if __name__ == "__main__":
    run()
