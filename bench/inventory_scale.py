"""`connshift inventory` at scale: 500 topics, 5,000 partitions, 100 connectors in < 60 s.

On the sandbox's *source* side (Kafka 3.9.2 and its Connect worker) it builds an estate under
a unique prefix ``bench-inv-<id>``:

* 500 topics of 10 partitions (5,000 partitions); 100 of them get 50 keyed JSON records;
* 100 connectors: 50 ``FileStreamSource`` (each writes a 5-line file into its own topic, so
  Connect records the topic as active, then is stopped) and 50 ``FileStreamSink`` created
  ``STOPPED``, each naming 5 topics in ``topics``;
* 5 consumer groups with committed offsets on the filled topics.

Then it times ``connshift inventory -c SPEC -o FILE`` as a subprocess (interpreter start
included, default options: 2 s rate window, 20 records per partition) with a spec whose
``connectors`` and ``topics`` scopes select exactly that estate, checks what the inventory
found, and compares the time to the 60 s target. Everything it created (connectors, topics,
groups, files) is removed in a ``finally``.

Part of ``make bench``; alone: ``.venv/bin/python bench/inventory_scale.py``
(``--topics``, ``--partitions``, ``--connectors`` to change the shape, ``--keep`` to keep
the estate). Results: ``bench/results/inventory-<run-id>.json``
(``"schema": "connshift.bench.inventory/1"``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connshift.app.sandbox import Sandbox
from connshift.errors import ConnshiftError
from connshift.io import artifacts
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCHEMA = "connshift.bench.inventory/1"
TARGET_SECONDS = 60.0
FILLED_SHARE = 5  # one topic in 5 gets records
RECORDS_PER_FILLED_TOPIC = 50
SINK_TOPICS = 5
GROUPS = 5
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"

console = Console()


def _parallel(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


class Estate:
    """The bench's estate on the source side; :meth:`remove` deletes all of it."""

    def __init__(self, sandbox: Sandbox, prefix: str, workdir: Path) -> None:
        p = sandbox.ports
        self.bootstrap = f"127.0.0.1:{p['source-kafka']}"
        self.connect_url = f"http://127.0.0.1:{p['source-connect']}"
        self.destination = f"127.0.0.1:{p['destination-kafka']}"
        self.destination_connect = f"http://127.0.0.1:{p['destination-connect']}"
        self.kafka = KafkaCluster({"bootstrap.servers": self.bootstrap}, name="source")
        self.prefix = prefix
        # the Connect worker reads the source files: under the sandbox's shared files dir
        self.files = sandbox.files_dir() / prefix
        self.workdir = workdir
        self.topics: list[str] = []
        self.connectors: list[str] = []
        self.groups: list[str] = []

    def build(self, topics: int, partitions: int, connectors: int) -> dict[str, Any]:
        t0 = time.monotonic()
        names = [f"{self.prefix}.t{i:03d}" for i in range(topics)]

        def create(name: str) -> None:
            self.kafka.create_topic(name, partitions)
            self.topics.append(name)

        console.print(f"creating {topics} topics x {partitions} partitions", highlight=False)
        _parallel(create, names)
        filled = names[::FILLED_SHARE]
        console.print(f"producing {RECORDS_PER_FILLED_TOPIC} records into {len(filled)} topics")

        def fill(name: str) -> None:
            self.kafka.produce(
                name,
                (
                    (f"k{i}".encode(), json.dumps({"id": i, "topic": name}).encode())
                    for i in range(RECORDS_PER_FILLED_TOPIC)
                ),
            )

        _parallel(fill, filled)
        self.files.mkdir(parents=True, exist_ok=True)
        self.files.chmod(0o777)
        sources = connectors // 2
        sinks = connectors - sources
        # sources write into topics that are not filled by the bench, so more topics have data
        unfilled = [n for n in names if n not in set(filled)]
        console.print(f"creating {sources} file sources and {sinks} stopped file sinks")
        with ConnectClient(self.connect_url, name="source", timeout=60) as connect:

            def source(i: int) -> None:
                name = f"{self.prefix}-src-{i:03d}"
                path = self.files / f"src-{i:03d}.txt"
                path.write_text("".join(f"line {n} of {name}\n" for n in range(5)))
                path.chmod(0o666)
                connect.create(
                    name,
                    {
                        "connector.class": FILE_SOURCE,
                        "tasks.max": "1",
                        "file": str(path),
                        "topic": unfilled[i % len(unfilled)],
                    },
                )
                self.connectors.append(name)

            def sink(i: int) -> None:
                name = f"{self.prefix}-sink-{i:03d}"
                start = (i * SINK_TOPICS) % len(names)
                connect.create(
                    name,
                    {
                        "connector.class": FILE_SINK,
                        "tasks.max": "1",
                        "file": str(self.files / f"sink-{i:03d}.txt"),
                        "topics": ",".join(names[start : start + SINK_TOPICS]),
                    },
                    initial_state="STOPPED",
                )
                self.connectors.append(name)

            _parallel(source, range(sources), workers=4)
            _parallel(sink, range(sinks), workers=4)
            # wait until each source has written its file (Connect then lists its topic),
            # then stop it so 50 idle tasks do not share the 2 cores with the measurement
            src_names = [c for c in self.connectors if "-src-" in c]
            deadline = time.monotonic() + 180
            waiting = set(src_names)
            while waiting and time.monotonic() < deadline:
                got = _parallel(lambda n: (n, connect.topics(n)), sorted(waiting))
                waiting -= {n for n, topics in got if topics}
                if waiting:
                    time.sleep(2)
            if waiting:
                console.print(f"[yellow]{len(waiting)} source(s) listed no topic in 180 s[/]")
            _parallel(connect.stop, src_names, workers=4)
        console.print(f"committing offsets for {GROUPS} consumer groups")
        for g in range(GROUPS):
            group = f"{self.prefix}-group-{g}"
            reads = filled[g::GROUPS] or filled[g % len(filled) :][:1]
            offsets = {(t, p): 1 for t in reads for p in range(partitions)}
            self.kafka.commit_group_offsets(group, offsets)
            self.groups.append(group)
        return {
            "topics": len(self.topics),
            "partitions": len(self.topics) * partitions,
            "filled_topics": len(filled),
            "connectors": len(self.connectors),
            "sources": sources,
            "sinks": sinks,
            "sources_without_topics": sorted(waiting),
            "groups": len(self.groups),
            "build_seconds": round(time.monotonic() - t0, 1),
        }

    def spec(self) -> Path:
        path = self.workdir / "spec.yaml"
        path.write_text(
            "version: 1\nname: bench-inventory\n"
            f"source:\n  kafka: {{bootstrap_servers: '{self.bootstrap}'}}\n"
            f"  connect: {{url: '{self.connect_url}'}}\n"
            f"destination:\n  kafka: {{bootstrap_servers: '{self.destination}'}}\n"
            f"  connect: {{url: '{self.destination_connect}'}}\n"
            f"connectors:\n  include: ['{self.prefix}-.*']\n"
            f"topics:\n  include: ['{self.prefix.replace('.', '[.]')}[.].*']\n"
            f"state_dir: '{self.workdir / 'state'}'\n"
        )
        return path

    def remove(self) -> list[str]:
        """Delete the connectors, groups, topics and files; the problems met (if any)."""
        problems: list[str] = []

        def attempt(fn: Callable[[Any], None]) -> Callable[[Any], None]:
            def run(item: Any) -> None:
                try:
                    fn(item)
                except (ConnshiftError, OSError) as exc:
                    problems.append(f"{item}: {exc}")

            return run

        with ConnectClient(self.connect_url, name="source", timeout=60) as connect:
            left = [c for c in connect.connectors() if c.startswith(f"{self.prefix}-")]
            _parallel(attempt(connect.delete), left, workers=4)
        if self.groups:
            attempt(self.kafka.delete_groups)(self.groups)
        existing = [t for t in self.kafka.topics() if t.startswith(f"{self.prefix}.")]
        _parallel(attempt(self.kafka.delete_topic), existing)
        shutil.rmtree(self.files, ignore_errors=True)
        return problems


def time_inventory(spec: Path, out: Path, connshift: Sequence[str]) -> dict[str, Any]:
    """Run ``connshift inventory`` once; its wall time, exit code and what it found."""
    cmd = [*connshift, "inventory", "-c", str(spec), "-o", str(out)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.monotonic() - t0
    found: dict[str, Any] = {}
    if proc.returncode == 0 and out.is_file():
        inv = json.loads(out.read_text())
        topics = inv["topics"]
        found = {
            "connectors": len(inv["connectors"]),
            "connectors_with_active_topics": sum(1 for c in inv["connectors"] if c["topics"]),
            "topics": len(topics),
            "partitions": sum(t["partitions"] for t in topics),
            "topics_sampled": sum(1 for t in topics if t["sampled"]),
            "records_sampled": sum(t["sampled"] for t in topics),
            "topics_with_size": sum(1 for t in topics if t.get("size_bytes") is not None),
            "bytes_on_disk": sum(t.get("size_bytes") or 0 for t in topics),
            "groups": len(inv["groups"]),
            "rate_window_seconds": inv.get("rate_window_seconds"),
        }
    return {
        "command": " ".join(cmd),
        "exit_code": proc.returncode,
        "seconds": round(seconds, 2),
        "stderr_tail": proc.stderr[-2000:] if proc.returncode else "",
        "found": found,
    }


def measure(
    sandbox: Sandbox,
    workdir: Path,
    *,
    topics: int = 500,
    partitions: int = 10,
    connectors: int = 100,
    keep: bool = False,
    connshift: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Build the estate, time the inventory of it, remove the estate."""
    prefix = f"bench-inv-{uuid.uuid4().hex[:6]}"
    estate = Estate(sandbox, prefix, workdir)
    cmd = list(connshift or [sys.executable, "-m", "connshift.cli.main"])
    result: dict[str, Any] = {"prefix": prefix, "target_seconds": TARGET_SECONDS}
    try:
        result["estate"] = estate.build(topics, partitions, connectors)
        console.print("timing `connshift inventory` on the estate", highlight=False)
        run = time_inventory(estate.spec(), workdir / "inventory.json", cmd)
        result["inventory"] = run
        result["ratio_to_target"] = round(run["seconds"] / TARGET_SECONDS, 3)
        result["met"] = run["exit_code"] == 0 and run["seconds"] < TARGET_SECONDS
    finally:
        if not keep:
            console.print(f"removing the estate {prefix}", highlight=False)
            result["cleanup_problems"] = estate.remove()
    return result


def render(result: dict[str, Any]) -> None:
    run = result.get("inventory") or {}
    found = run.get("found") or {}
    estate = result.get("estate") or {}
    table = Table(title=f"connshift inventory at scale ({result['prefix']})")
    for col in ("estate", "found by inventory", "time", "target", "ratio", "verdict"):
        table.add_column(col)
    verdict = "[green]met[/]" if result.get("met") else "[red]missed[/]"
    if run.get("exit_code"):
        verdict = f"[red]exit {run['exit_code']}[/]"
    table.add_row(
        f"{estate.get('topics')} topics / {estate.get('partitions')} partitions / "
        f"{estate.get('connectors')} connectors / {estate.get('groups')} groups",
        f"{found.get('topics')} topics / {found.get('partitions')} partitions / "
        f"{found.get('connectors')} connectors / {found.get('groups')} groups",
        f"{run.get('seconds', float('nan')):.1f} s",
        f"< {TARGET_SECONDS:.0f} s",
        f"{result.get('ratio_to_target', float('nan')):.2f}",
        verdict,
    )
    console.print(table)
    if run.get("stderr_tail"):
        console.print(run["stderr_tail"], highlight=False, markup=False)
    for p in result.get("cleanup_problems") or []:
        console.print(f"[yellow]cleanup:[/] {p}", highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/inventory_scale.py", description=__doc__)
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=10, help="per topic")
    parser.add_argument("--connectors", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="do not remove the estate")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%d%H%M%S")
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "started": now.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {
            "topics": args.topics,
            "partitions_per_topic": args.partitions,
            "connectors": args.connectors,
        },
    }
    code = 1
    with tempfile.TemporaryDirectory(prefix="connshift-inventory-bench-") as tmp:
        try:
            result = measure(
                Sandbox(),
                Path(tmp),
                topics=args.topics,
                partitions=args.partitions,
                connectors=args.connectors,
                keep=args.keep,
            )
            report["result"] = result
            render(result)
            code = 0 if result.get("met") else 1
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            code = 130
        finally:
            report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            path = args.results_dir / f"inventory-{run_id}.json"
            artifacts.write_json_atomic(path, report)
            console.print(f"results: {path}", highlight=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
