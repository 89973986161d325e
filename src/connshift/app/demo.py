"""``connshift demo`` / ``make demo``: the whole journey on the local sandbox.

Each later feature adds its step here; today: start the sandbox, seed the source
estate, check the spec against both sides, and show what a migration would move.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connshift.app.check import check_spec
from connshift.app.sandbox import Sandbox, write_sandbox_spec
from connshift.app.seed import seed
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster

Reporter = Callable[[str], None]


def run_demo(
    sandbox: Sandbox,
    *,
    with_tansu: bool = False,
    spec_path: Path = Path("sandbox.yaml"),
    report: Reporter = lambda _m: None,
) -> dict[str, Any]:
    """Run every step that exists; return a JSON-ready account of what happened."""
    summary: list[str] = []
    info = sandbox.up(with_tansu=with_tansu, report=report)
    spec = write_sandbox_spec(sandbox, spec_path)
    summary.append(f"1. sandbox up: {len(info.services)} services healthy under {sandbox.home}")
    summary.append(f"   spec written to {spec}")
    seeded = seed(sandbox, report=report)
    summary.append(
        f"2. seeded the source estate: {len(seeded.connectors)} connectors RUNNING, "
        f"{len(seeded.topic_records)} topics with records"
    )
    checked = check_spec(spec)
    summary.append(
        "3. connshift check: "
        + ", ".join(f"{r.side} {r.service} {'PASS' if r.ok else 'FAIL'}" for r in checked.rows)
    )

    source = KafkaCluster({"bootstrap.servers": checked.rows[0].address}, name="source")
    topics = {n: t for n, t in source.topics().items() if not n.startswith("_")}
    groups = source.groups()
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['source-connect']}", name="source") as c:
        connectors = {n: c.status(n).state for n in c.connectors()}
    summary.append("4. what a migration would move (source side):")
    for name, state in sorted(connectors.items()):
        summary.append(f"   connector {name}: {state}")
    for name, t in sorted(topics.items()):
        summary.append(f"   topic {name}: {t.partitions} partition(s)")
    for g in groups:
        summary.append(f"   consumer group {g}")
    summary.append(
        "next steps (not built yet): inventory, probe, sync, validate, cutover, rollback, score, "
        "report — see README"
    )
    return {
        "schema": "connshift.demo/1",
        "sandbox": info.to_json(),
        "seed": seeded.to_json(),
        "check": checked.to_json(),
        "estate": {"connectors": connectors, "topics": sorted(topics), "groups": groups},
        "summary": summary,
    }
