"""Generate ``docs/compatibility.md``: ``connshift probe`` run against each sandbox cluster.

The matrix is never written by hand: this script runs the probe (the same code as
``connshift probe``) against Apache Kafka 3.9, Apache Kafka 4.4 and tansu on S3 — the
sandbox's three clusters — and renders one row per check, one column per cluster, with a
footnote of what was seen and the client's error for every cell that is not PASS.

Usage (the sandbox must be up with tansu: ``connshift sandbox up --with-tansu``)::

    make compatibility
    .venv/bin/python scripts/compatibility.py [--cluster "LABEL=HOST:PORT" ...]
        [--output docs/compatibility.md] [--save-runs DIR] [--from-runs DIR] [--wait SECONDS]

``--save-runs`` keeps each run's ``connshift.probe/1`` JSON; ``--from-runs`` renders from kept
runs instead of probing. A cluster that does not answer is waited for (``--wait``, default
120 s: the sandbox may be restarting), then the script exits 3 without writing anything.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from connshift import __version__
from connshift.app.probe import probe_cluster
from connshift.core.probe import ProbeResult, render_matrix
from connshift.errors import ConnshiftError, ExitCode
from connshift.io.artifacts import write_json_atomic, write_text_atomic
from connshift.io.kafka import KafkaCluster, client_versions

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "compatibility.md"


def sandbox_clusters() -> list[tuple[str, str]]:
    """(label, bootstrap) of the sandbox's three Kafka-API clusters, labelled by product."""
    from connshift.app.sandbox import Sandbox
    from connshift.io.sandbox.services import tansu_bin

    sb = Sandbox()
    out: list[tuple[str, str]] = []
    described = {s.name: s.describe() for s in sb.services()}
    for name in ("source-kafka", "destination-kafka"):
        label = described[name].split(" at ")[0]  # "Apache Kafka 3.9.2"
        out.append((label, f"127.0.0.1:{sb.ports[name]}"))
    try:
        tansu = subprocess.run(
            [tansu_bin(), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (ConnshiftError, OSError, subprocess.SubprocessError):
        tansu = "tansu"
    out.append((f"{tansu} on S3 (moto)", f"127.0.0.1:{sb.ports['tansu']}"))
    return out


def wait_reachable(cluster: KafkaCluster, wait: float) -> None:
    """Return once the cluster answers; re-raise its KafkaError after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            cluster.check_reachable(timeout=5)
            return
        except ConnshiftError:
            if time.monotonic() > deadline:
                raise
            time.sleep(3)


def run_one(label: str, bootstrap: str, wait: float) -> ProbeResult:
    """Probe one cluster; a cluster that drops out is waited for and probed once more."""
    for attempt in (1, 2):
        cluster = KafkaCluster({"bootstrap.servers": bootstrap}, name=label)
        wait_reachable(cluster, wait)
        print(f"probing {label} at {bootstrap} …", file=sys.stderr, flush=True)
        try:
            return probe_cluster(
                cluster,
                side="destination",
                report=lambda m: print(f"  {m}", file=sys.stderr, flush=True),
            )
        except ConnshiftError as exc:
            if attempt == 2:
                raise
            print(f"  {exc.one_line()} — waiting and probing again", file=sys.stderr)
    raise AssertionError("unreachable")


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def render(runs: list[tuple[str, ProbeResult]], generated: str) -> str:
    """The whole document: provenance first, then the matrix and its notes."""
    clients = client_versions()
    preamble = [
        f"> **Generated** by `scripts/compatibility.py` on {generated} from `connshift probe` "
        "runs — do not edit by hand; rerun `make compatibility` (the sandbox up with "
        "`--with-tansu`).",
        "",
        "Clusters probed (the sandbox's three Kafka-API clusters, one broker each):",
        "",
    ]
    for label, r in runs:
        seen = f"ApiVersions suggests Kafka {r.kafka_version}" if r.kafka_version else "-"
        preamble.append(
            f"- **{label}** at `{r.bootstrap}` ({seen}; {r.brokers} broker(s)); probe started "
            f"{r.started_at}, took {r.seconds:.0f} s."
        )
    preamble += [
        "",
        f"Client: connshift {__version__}, confluent-kafka {clients['confluent-kafka']} "
        f"(librdkafka {clients['librdkafka']}), and connshift's own raw client for "
        "DescribeLogDirs, DescribeProducers and the retried-batch part of "
        "`producer.idempotent`.",
        "",
        "**PASS**: the contract holds. **FAIL**: it does not hold, or the cluster refused the "
        "request; the note says what was seen and the error the client got. **SKIP**: "
        "not decidable within the probe's bounds (compaction is asynchronous: not observed "
        "within 20 s is inconclusive) or not checkable from this client. Each run works on "
        "scratch topics `connshift-probe-<id>-*`, deleted at its end.",
    ]
    return render_matrix(runs, title="Kafka-API compatibility", preamble=preamble)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="LABEL=BOOTSTRAP",
        help="probe this cluster instead of the sandbox's (repeatable, in column order)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--save-runs", type=Path, help="keep each run's JSON in this directory")
    parser.add_argument("--from-runs", type=Path, help="render from runs kept by --save-runs")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for a cluster")
    args = parser.parse_args(argv)

    runs: list[tuple[str, ProbeResult]] = []
    if args.from_runs:
        index = json.loads((args.from_runs / "index.json").read_text())
        for label, name in index:
            data = json.loads((args.from_runs / name).read_text())
            runs.append((label, ProbeResult.from_json(data)))
    else:
        clusters = [tuple(c.split("=", 1)) for c in args.cluster] or sandbox_clusters()
        try:
            for label, bootstrap in clusters:
                runs.append((label, run_one(label, bootstrap, args.wait)))
        except ConnshiftError as exc:
            print(f"error: {exc.one_line()}", file=sys.stderr)
            return int(ExitCode.UNREACHABLE)
    if args.save_runs:
        args.save_runs.mkdir(parents=True, exist_ok=True)
        index = []
        for label, r in runs:
            name = f"{slug(label)}.json"
            write_json_atomic(args.save_runs / name, r.to_json())
            index.append((label, name))
        write_json_atomic(args.save_runs / "index.json", index)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.from_runs:
        generated = f"{generated} (rendered from runs kept in {args.from_runs})"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.output, render(runs, generated), mode=0o644)
    for label, r in runs:
        counts = ", ".join(f"{n} {s}" for s, n in r.to_json()["tally"].items() if n)
        left = r.cleanup.get("leftover_topics") or []
        print(f"{label}: {counts}" + (f"; LEFT BEHIND {left}" if left else ""), file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
