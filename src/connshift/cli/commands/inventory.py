"""``connshift inventory``: record the source estate."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from connshift.cli.options import STATE, ConfigOpt, JsonOpt, open_migration
from connshift.cli.render import console, emit_json, progress


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

    m = open_migration(config)
    with progress("taking the inventory") as report:
        inv = run_inventory(
            m,
            sample=sample,
            rate_window=rate_window,
            sample_budget=sample_budget,
            report=report,
        )
    data = inv.to_json()
    write_json_atomic(output, data)
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


def register(app: typer.Typer) -> None:
    """Add this module's command(s) to ``app``."""
    app.command()(inventory)
