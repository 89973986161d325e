"""Helpers for integration tests: write specs, run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from connshift.app.sandbox import Sandbox
from connshift.errors import KafkaError
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.postgres import WriterStats

CLI = [sys.executable, "-m", "connshift.cli.main"]


def run_cli(
    *args: str,
    timeout: float = 300,
    check: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would (``env``: added to this process's environment)."""
    proc = subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **env} if env else None,
        cwd=cwd,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"connshift {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def run_json(*args: str, timeout: float = 300, check: bool = True) -> Any:
    """Run the CLI with --json and parse stdout (``check``: exit code 0 required)."""
    proc = run_cli(*args, "--json", timeout=timeout, check=check)
    return json.loads(proc.stdout)


def unique_prefix(tag: str) -> str:
    return f"it-{tag}-{uuid.uuid4().hex[:6]}."


def write_spec(
    path: Path,
    *,
    source: str,
    destination: str,
    include: list[str] | None = None,
    prefix: str = "",
    state_dir: Path,
    name: str = "it",
    source_connect: str | None = None,
    destination_connect: str | None = None,
    metrics: tuple[str, str] | None = None,
    rename: dict[str, str] | None = None,
    connectors: list[str] | None = None,
    cutover: dict[str, Any] | None = None,
) -> Path:
    """The one spec writer of the integration tests (the ``spec_for`` fixture fills in
    the sandbox's addresses): a migration spec at ``path``, as a user would write it."""
    doc: dict[str, Any] = {"version": 1, "name": name}
    for side, kafka, connect, metrics_url in (
        ("source", source, source_connect, metrics[0] if metrics else None),
        ("destination", destination, destination_connect, metrics[1] if metrics else None),
    ):
        doc[side] = {"kafka": {"bootstrap_servers": kafka}}
        if connect is not None:
            doc[side]["connect"] = {"url": connect}
            if metrics_url is not None:
                doc[side]["connect"]["metrics_url"] = metrics_url
    if connectors is not None:
        doc["connectors"] = {"include": connectors}
    topics: dict[str, Any] = {}
    if include is not None:
        topics["include"] = include
    if prefix:
        topics["prefix"] = prefix
    if rename:
        topics["rename"] = rename
    if topics:
        doc["topics"] = topics
    if cutover:
        doc["cutover"] = cutover
    doc["state_dir"] = str(state_dir)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def kafka(sandbox: Sandbox, side: str) -> KafkaCluster:
    """The sandbox's ``source`` or ``destination`` Kafka cluster."""
    return KafkaCluster({"bootstrap.servers": sandbox.bootstrap(side)})


def connect(sandbox: Sandbox, side: str) -> ConnectClient:
    """The sandbox's ``source`` or ``destination`` Connect worker."""
    return ConnectClient(f"http://127.0.0.1:{sandbox.ports[side + '-connect']}", name=side)


def copied_so_far(cluster: KafkaCluster, topic: str, partitions: int) -> int:
    """The sum of ``topic``'s high watermarks on ``cluster``; 0 while the topic is missing or
    not served yet (sync creates topics without waiting: a topic can be listed a moment
    before its partitions answer)."""
    if topic not in cluster.topics():
        return 0
    try:
        ends = cluster.watermarks_of([(topic, p) for p in range(partitions)], timeout=10)
        return sum(high for _low, high in ends.values())
    except KafkaError:
        return 0


def wait_for(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Poll ``check`` every 0.5 s; fail the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def live_writer(sandbox: Sandbox, changes: int, into: list[WriterStats]) -> threading.Thread:
    """Insert and update ``changes`` rows of the sandbox's ``shop`` database (one
    transaction each) on a thread; its statistics land in ``into``."""
    from connshift.app.seed import live

    def run() -> None:
        into.append(live(sandbox, rate=40, max_changes=changes))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def cdc_events(cluster: KafkaCluster, topics: list[str]) -> list[dict[str, Any]]:
    """Debezium change events on ``topics`` (tombstones skipped): table, row id, LSN,
    transaction id, operation."""
    out = []
    for topic in topics:
        if topic not in cluster.topics():
            continue
        for r in cluster.read(topic, 0, timeout=120):
            if r.value is None:
                continue  # tombstone
            doc = json.loads(r.value)
            out.append(
                {
                    "table": doc["source"]["table"],
                    "id": json.loads(r.key)["id"] if r.key else None,
                    "lsn": doc["source"].get("lsn"),
                    "txid": doc["source"].get("txId"),
                    "op": doc["op"],
                }
            )
    return out
