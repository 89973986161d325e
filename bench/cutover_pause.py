"""The cutover pause per connector shape: source connector stopped -> destination RUNNING.

Runs on the sandbox's seeded estate (``connshift sandbox seed``): each seeded connector
(CDC source, file source, sink) is cut over and rolled back, and the pause the journal
measured is reported against the target (<= 10 s). Part of ``make bench``; alone:
``.venv/bin/python bench/cutover_pause.py``.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connshift.app import cutover as mover
from connshift.app.config import parse_spec_text
from connshift.app.context import Migration
from connshift.app.sandbox import Sandbox
from connshift.app.seed import seed
from connshift.app.sync import SyncOptions, sync

TARGET_SECONDS = 10.0
CONNECTORS = ("shop-cdc", "files-source", "files-sink")


def measure(sandbox: Sandbox, workdir: Path) -> list[dict[str, Any]]:
    """Cut each seeded connector over and back; return its shape and pause."""
    seed(sandbox)
    p = sandbox.ports
    prefix = f"bench-cut-{uuid.uuid4().hex[:6]}."
    spec = parse_spec_text(
        "version: 1\nname: bench-cutover\n"
        f"source:\n  kafka: {{bootstrap_servers: '127.0.0.1:{p['source-kafka']}'}}\n"
        f"  connect: {{url: 'http://127.0.0.1:{p['source-connect']}'}}\n"
        f"destination:\n  kafka: {{bootstrap_servers: '127.0.0.1:{p['destination-kafka']}'}}\n"
        f"  connect: {{url: 'http://127.0.0.1:{p['destination-connect']}'}}\n"
        "topics:\n  include: ['app[.].*', 'shop[.].*', 'files[.].*']\n"
        f"  prefix: '{prefix}'\n"
        "cutover:\n  verify_timeout_seconds: 2\n"
        f"state_dir: '{workdir / 'cutover-state'}'\n"
    )
    with Migration(spec) as migration:
        return _measure(migration)


def _measure(migration: Migration) -> list[dict[str, Any]]:
    sync(migration, SyncOptions())
    rows = []
    for name in CONNECTORS:
        plans = mover.plan(migration, [name])
        # the pause is what is measured here, not readiness: not gated
        m = mover.Mover(migration, blockers={})
        result = m.cutover(plans)
        m.rollback([name])
        pause = result.pause_seconds.get(name)
        rows.append(
            {
                "connector": name,
                "shape": str(plans[0].shape),
                "pause_seconds": pause,
                "target_seconds": TARGET_SECONDS,
                "met": pause is not None and pause <= TARGET_SECONDS,
            }
        )
    return rows


def render(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="cutover pause (source stopped -> destination RUNNING)")
    for col in ("connector", "shape", "pause", "target", "verdict"):
        table.add_column(col)
    for r in rows:
        pause = f"{r['pause_seconds']:.1f} s" if r["pause_seconds"] is not None else "-"
        verdict = "[green]met[/]" if r["met"] else "[red]missed[/]"
        table.add_row(r["connector"], r["shape"], pause, f"<= {TARGET_SECONDS:.0f} s", verdict)
    console.print(table)


def main() -> int:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="connshift-cutover-bench-") as tmp:
        rows = measure(Sandbox(), Path(tmp))
    render(rows, console)
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
