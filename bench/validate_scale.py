"""`connshift validate` at scale: its records/s and peak RSS on one huge partition, and on
an estate of small ones against the `sync --once` that filled it.

Two measurements on the sandbox, each under a unique prefix ``vbench.<run-id>``:

* **size** (:func:`measure_size`): for each size (default 1,000,000 then 10,000,000
  records of 100 B values, lz4), fill a fresh 1-partition source topic with confluent-kafka
  (big batches), copy it with ``connshift sync --once``, then run ``connshift validate``
  on it as a child process while sampling the child's ``VmHWM`` from
  ``/proc/<pid>/status`` every 0.1 s. Printed per size: records/s (validate's own figure
  and records over the child's wall time), seconds and peak RSS. The target: peak RSS at
  the largest size no more than at the smallest (memory independent of partition size).
* **estate** (:func:`measure_estate`): 200 topics x 10 partitions x 100 records (the shape
  of issue 14), ``sync --once`` timed, then ``validate`` timed the same way. The target:
  validate takes less time than the sync that filled the destination.

Both contenders run as ``<python> -m connshift.cli.main`` (interpreter start included).
Every topic a measurement created is deleted afterwards, on both clusters (``--keep``
keeps them). Alone: ``.venv/bin/python bench/validate_scale.py`` (``--sizes``,
``--no-estate``, ``--no-size``, ``--topics/--partitions/--records`` for the estate);
``bench/run.py`` can call :func:`measure` and :func:`render`. Results:
``bench/results/validate-<run-id>.json`` (``"schema": "connshift.bench.validate/1"``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connshift.app.sandbox import Sandbox
from connshift.errors import ConnshiftError
from connshift.io import artifacts
from connshift.io.kafka import KafkaCluster

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCHEMA = "connshift.bench.validate/1"
MIB = 1024 * 1024
SIZES = (1_000_000, 10_000_000)
VALUE_BYTES = 100
ESTATE = (200, 10, 100)  # topics, partitions per topic, records per partition
SAMPLE_INTERVAL = 0.1
TIMEOUT = 3600.0
#: the fill: a busy producer's big lz4 batches
FILL_PRODUCER = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 100,
    "batch.size": 1_000_000,
    "compression.type": "lz4",
    "queue.buffering.max.messages": 2_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
}

console = Console()
if not console.is_terminal:
    console = Console(width=132)


# --------------------------------------------------------------------------- children


def vm_hwm(pid: int) -> int | None:
    """The process's peak resident set (``VmHWM``) in bytes, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_child(
    cmd: Sequence[str], workdir: Path, name: str, timeout: float = TIMEOUT
) -> dict[str, Any]:
    """Run ``cmd``, sampling its ``VmHWM`` every :data:`SAMPLE_INTERVAL` s; its wall time,
    CPU (``wait4``), exit code, peak RSS and stdout parsed as JSON when it is."""
    out_path, err_path = workdir / f"{name}.out", workdir / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    peak, samples = 0, 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        hwm = vm_hwm(proc.pid)
        if hwm is not None:
            peak, samples = max(peak, hwm), samples + 1
        if time.monotonic() - started > timeout:
            proc.kill()
        time.sleep(SAMPLE_INTERVAL)
    seconds = time.monotonic() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    parsed: Any = None
    with contextlib.suppress(ValueError):
        parsed = json.loads(stdout)
    return {
        "command": " ".join(cmd),
        "exit_code": code,
        "seconds": round(seconds, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mib": round(peak / MIB, 1),
        "rss_samples": samples,
        "json": parsed,
        "stderr_tail": err_path.read_text(errors="replace")[-2000:] if code else "",
    }


# --------------------------------------------------------------------------- steps


class Bench:
    """The sandbox's two clusters, a connshift command, and what this run created."""

    def __init__(
        self,
        workdir: Path,
        run_id: str,
        connshift: Sequence[str] | None = None,
        *,
        source: str | None = None,
        destination: str | None = None,
    ):
        if source is None or destination is None:
            ports = Sandbox().ports
            source = source or f"127.0.0.1:{ports['source-kafka']}"
            destination = destination or f"127.0.0.1:{ports['destination-kafka']}"
        self.source, self.destination = source, destination
        self.src = KafkaCluster({"bootstrap.servers": self.source}, name="source")
        self.dst = KafkaCluster({"bootstrap.servers": self.destination}, name="destination")
        self.workdir = workdir
        self.run_id = run_id
        self.connshift = list(connshift or [sys.executable, "-m", "connshift.cli.main"])
        self.created: set[str] = set()

    def fill(self, topics: Sequence[str], partitions: int, per_partition: int) -> float:
        """Create ``topics`` and put ``per_partition`` records of :data:`VALUE_BYTES` into
        each of their partitions (every value different); the seconds it took."""
        for topic in topics:
            self.src.create_topic(topic, partitions)
            self.created.add(topic)
        producer = self.src.producer(FILL_PRODUCER)
        produce, poll = producer.produce, producer.poll
        pool = os.urandom(1 << 20).translate(bytes(65 + b % 26 for b in range(256)))
        body = VALUE_BYTES - 12
        started = time.monotonic()
        i = 0
        for topic in topics:
            for part in range(partitions):
                for _ in range(per_partition):
                    start = (i * 7919) % (len(pool) - body)
                    value = b"%012d" % i + pool[start : start + body]
                    while True:
                        try:
                            produce(topic, value, None, part)
                            break
                        except BufferError:
                            poll(0.05)
                    i += 1
                    if i % 20_000 == 0:
                        poll(0)
        left = producer.flush(600)
        if left:
            raise RuntimeError(f"{left} records of the fill were not delivered")
        return time.monotonic() - started

    def spec(self, name: str, include: str) -> Path:
        """A migration spec for the topics matching ``include``, its own state dir."""
        path = self.workdir / f"{name}.yaml"
        doc = {
            "version": 1,
            "name": f"vbench-{self.run_id}-{name}",
            "source": {"kafka": {"bootstrap_servers": self.source}},
            "destination": {"kafka": {"bootstrap_servers": self.destination}},
            "topics": {"include": [include]},
            "state_dir": str(self.workdir / f"{name}-state"),
        }
        path.write_text(json.dumps(doc, indent=2))  # JSON is YAML
        return path

    def sync(self, spec: Path, name: str) -> dict[str, Any]:
        run = run_child(
            [*self.connshift, "sync", "-c", str(spec), "--once", "--json"],
            self.workdir,
            f"{name}-sync",
        )
        return run

    def validate(self, spec: Path, name: str) -> dict[str, Any]:
        run = run_child(
            [*self.connshift, "validate", "-c", str(spec), "--json"],
            self.workdir,
            f"{name}-validate",
        )
        report = run.pop("json") or {}
        run["ok"] = report.get("ok")
        run["tally"] = report.get("tally")
        run["throughput"] = report.get("throughput")
        run["failed"] = [
            f"{c['id']} {c['subject']}: {c['summary']}"
            for c in report.get("checks", [])
            if c.get("status") == "FAIL"
        ][:5]
        return run

    def remove(self, topics: Sequence[str]) -> list[str]:
        """Delete ``topics`` on both clusters (where they exist); what could not be."""
        problems = []
        for cluster in (self.src, self.dst):
            try:
                existing = set(cluster.topics())
            except ConnshiftError as exc:
                problems.append(str(exc))
                continue
            for name in sorted(set(topics) & existing):
                try:
                    cluster.delete_topic(name)
                except ConnshiftError as exc:
                    problems.append(str(exc))
        self.created -= set(topics)
        return problems


def _sync_summary(run: dict[str, Any]) -> dict[str, Any]:
    parsed = run.pop("json") or {}
    run["records"] = parsed.get("records") if isinstance(parsed, dict) else None
    return run


def measure_size(
    bench: Bench, sizes: Sequence[int] = SIZES, *, keep: bool = False
) -> list[dict[str, Any]]:
    """Per size: fill a 1-partition topic, sync it, validate it (peak RSS sampled)."""
    rows = []
    for records in sizes:
        topic = f"vbench.{bench.run_id}.size{records}"
        row: dict[str, Any] = {"records": records, "topic": topic}
        console.print(f"size {records:,}: filling {topic}", highlight=False)
        try:
            row["fill_s"] = round(bench.fill([topic], 1, records), 1)
            spec = bench.spec(f"size{records}", "^" + re.escape(topic) + "$")
            console.print(f"size {records:,}: connshift sync --once", highlight=False)
            row["sync"] = _sync_summary(bench.sync(spec, f"size{records}"))
            console.print(f"size {records:,}: connshift validate", highlight=False)
            row["validate"] = run = bench.validate(spec, f"size{records}")
            row["records_per_s_wall"] = (
                round(records / run["seconds"], 1) if run["seconds"] else None
            )
        finally:
            if not keep:
                row["cleanup_problems"] = bench.remove([topic])
        rows.append(row)
    return rows


def measure_estate(
    bench: Bench,
    topics: int = ESTATE[0],
    partitions: int = ESTATE[1],
    records: int = ESTATE[2],
    *,
    keep: bool = False,
) -> dict[str, Any]:
    """Fill topics x partitions x records, time ``sync --once`` and then ``validate``."""
    names = [f"vbench.{bench.run_id}.estate.{i:04d}" for i in range(topics)]
    result: dict[str, Any] = {
        "topics": topics,
        "partitions": topics * partitions,
        "records": topics * partitions * records,
    }
    try:
        console.print(
            f"estate: filling {topics} topics x {partitions} partitions x {records} records",
            highlight=False,
        )
        result["fill_s"] = round(bench.fill(names, partitions, records), 1)
        spec = bench.spec("estate", re.escape(f"vbench.{bench.run_id}.estate.") + ".*")
        console.print("estate: connshift sync --once", highlight=False)
        result["sync"] = _sync_summary(bench.sync(spec, "estate"))
        console.print("estate: connshift validate", highlight=False)
        result["validate"] = bench.validate(spec, "estate")
        s, v = result["sync"]["seconds"], result["validate"]["seconds"]
        result["validate_over_sync"] = round(v / s, 3) if s else None
        result["met"] = (
            bool(result["validate"]["ok"]) and result["sync"]["exit_code"] == 0 and v < s
        )
    finally:
        if not keep:
            result["cleanup_problems"] = bench.remove(names)
    return result


def measure(
    workdir: Path,
    *,
    sizes: Sequence[int] = SIZES,
    estate: tuple[int, int, int] | None = ESTATE,
    keep: bool = False,
    connshift: Sequence[str] | None = None,
    run_id: str | None = None,
    source: str | None = None,
    destination: str | None = None,
) -> dict[str, Any]:
    """Both measurements (``sizes`` empty or ``estate`` None leaves one out): what
    ``bench/run.py`` calls. Returns the figures and the verdicts. ``source`` and
    ``destination``: bootstrap servers (default: the sandbox's)."""
    run_id = run_id or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    bench = Bench(workdir, run_id, connshift, source=source, destination=destination)
    result: dict[str, Any] = {
        "run_id": run_id,
        "value_bytes": VALUE_BYTES,
        "source": bench.source,
        "destination": bench.destination,
    }
    try:
        if sizes:
            rows = measure_size(bench, sizes, keep=keep)
            result["size"] = rows
            rss = [r["validate"]["peak_rss_mib"] for r in rows if "validate" in r]
            ok = all(r.get("validate", {}).get("ok") for r in rows)
            if len(rss) == len(rows) and len(rows) >= 2:
                result["rss_largest_over_smallest"] = round(rss[-1] / rss[0], 3)
                result["size_met"] = ok and rss[-1] <= rss[0]
        if estate is not None:
            result["estate"] = measure_estate(bench, *estate, keep=keep)
    finally:
        if not keep and bench.created:
            result.setdefault("cleanup_problems", []).extend(bench.remove(sorted(bench.created)))
    return result


def _f(value: Any, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def render(result: dict[str, Any]) -> None:
    rows = result.get("size") or []
    if rows:
        table = Table(title="connshift validate: one partition, by size")
        for col in (
            "records",
            "validate records/s",
            "records/s (wall)",
            "seconds",
            "peak RSS MiB",
            "CPU s",
            "ok",
            "sync s",
        ):
            table.add_column(col)
        for r in rows:
            v = r.get("validate") or {}
            tp = v.get("throughput") or {}
            table.add_row(
                f"{r['records']:,}",
                _f(tp.get("records_per_second")),
                _f(r.get("records_per_s_wall")),
                _f(v.get("seconds"), ".1f"),
                _f(v.get("peak_rss_mib"), ".1f"),
                _f(v.get("cpu_s"), ".1f"),
                str(v.get("ok")),
                _f((r.get("sync") or {}).get("seconds"), ".1f"),
            )
        console.print(table)
        if "size_met" in result:
            verdict = "[green]met[/]" if result["size_met"] else "[red]missed[/]"
            console.print(
                f"peak RSS at {rows[-1]['records']:,} / at {rows[0]['records']:,} records: "
                f"{result['rss_largest_over_smallest']:.2f} (target <= 1.00) {verdict}",
                highlight=False,
            )
    estate = result.get("estate")
    if estate:
        s, v = estate.get("sync") or {}, estate.get("validate") or {}
        tp = v.get("throughput") or {}
        table = Table(
            title=f"estate: {estate['topics']} topics, {estate['partitions']:,} partitions, "
            f"{estate['records']:,} records"
        )
        for col in ("", "seconds", "records/s", "peak RSS MiB", "CPU s", "exit"):
            table.add_column(col)
        n = estate["records"]
        table.add_row(
            "sync --once",
            _f(s.get("seconds"), ".1f"),
            _f(n / s["seconds"] if s.get("seconds") else None),
            _f(s.get("peak_rss_mib"), ".1f"),
            _f(s.get("cpu_s"), ".1f"),
            str(s.get("exit_code")),
        )
        table.add_row(
            "validate",
            _f(v.get("seconds"), ".1f"),
            _f(tp.get("records_per_second")),
            _f(v.get("peak_rss_mib"), ".1f"),
            _f(v.get("cpu_s"), ".1f"),
            str(v.get("exit_code")),
        )
        console.print(table)
        verdict = "[green]met[/]" if estate.get("met") else "[red]missed[/]"
        console.print(
            f"validate / sync: {_f(estate.get('validate_over_sync'), '.2f')} "
            f"(target < 1.00) {verdict}",
            highlight=False,
        )
    for part in (result, *(rows or []), estate or {}):
        for p in part.get("cleanup_problems") or []:
            console.print(f"[yellow]cleanup:[/] {p}", highlight=False)
    for r in [*(rows or []), estate or {}]:
        for key in ("sync", "validate"):
            run = r.get(key) or {}
            if run.get("stderr_tail"):
                console.print(f"{key} failed:", run["stderr_tail"], highlight=False, markup=False)
            for line in run.get("failed") or []:
                console.print(f"FAIL {line}", highlight=False, markup=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/validate_scale.py", description=__doc__)
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="records, comma-separated"
    )
    parser.add_argument("--no-size", action="store_true", help="leave the size measurement out")
    parser.add_argument("--no-estate", action="store_true", help="leave the estate out")
    parser.add_argument("--topics", type=int, default=ESTATE[0])
    parser.add_argument("--partitions", type=int, default=ESTATE[1], help="per topic")
    parser.add_argument("--records", type=int, default=ESTATE[2], help="per partition")
    parser.add_argument("--keep", action="store_true", help="do not delete the topics")
    parser.add_argument("--source", help="source bootstrap servers (default: the sandbox's)")
    parser.add_argument("--destination", help="destination bootstrap (default: the sandbox's)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%d%H%M%S")
    sizes = [] if args.no_size else [int(s) for s in args.sizes.split(",") if s]
    estate = None if args.no_estate else (args.topics, args.partitions, args.records)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "started": now.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {"sizes": sizes, "estate": estate, "value_bytes": VALUE_BYTES},
    }
    code = 1
    with tempfile.TemporaryDirectory(prefix="connshift-validate-bench-") as tmp:
        try:
            result = measure(
                Path(tmp),
                sizes=sizes,
                estate=estate,
                keep=args.keep,
                run_id=run_id,
                source=args.source,
                destination=args.destination,
            )
            report["result"] = result
            render(result)
            verdicts = [result[k] for k in ("size_met",) if k in result]
            if estate is not None:
                verdicts.append(bool(result["estate"].get("met")))
            code = 0 if verdicts and all(verdicts) else 1
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            code = 130
        finally:
            report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            path = args.results_dir / f"validate-{run_id}.json"
            artifacts.write_json_atomic(path, report)
            console.print(f"results: {path}", highlight=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
