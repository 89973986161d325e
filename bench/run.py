"""connshift sync vs MirrorMaker 2 vs the destination's own produce limit, on the sandbox.

For each (record size, compression) case:

1. fill a fresh source topic ``bench.<size>.<compression>.<run-id>`` (N partitions, M records
   in total) with confluent-kafka, the producer compressing the batches;
2. copy it with ``connshift sync --once`` into ``<topic>.connshift`` on the destination;
3. copy it with MirrorMaker 2 (dedicated mode, IdentityReplicationPolicy, tasks.max = N)
   into ``<topic>`` on the destination;
4. measure what the destination accepts from Kafka's own ``ProducerPerformance`` (4.4.0
   jars) into ``<topic>.perf``: the produce limit a copier cannot beat.

Then one secured case (1000 B, lz4): the same four steps with connshift, MirrorMaker 2 and
ProducerPerformance on the SASL_SSL listeners of both clusters, all as the SCRAM user
``admin`` (the sandbox's super user); connshift's CPU per record there is compared with its
PLAINTEXT figure for the same case, net of an idle sync's CPU (``--no-secured`` leaves it out).

Each of those cases (not the secured one) also gets its raw ceiling (``bench/ceiling.py``):
the source's fetch-only and the destination's produce-only rate of its batches with
connshift's raw client; sync's rate is printed as a % of the lower one.

Then the estate case: 200 topics x 10 partitions x 100 records of 200 B, copied by connshift
with one and with two ``sync --once`` members (one group) and by MirrorMaker 2 (tasks.max=4),
each timed to catch-up, with its raw ceiling (``--only estate`` runs only this). Then
``bench/validate_scale.py`` when it exists (see :func:`run_validate_hook`).

Copies run one after the other, never together. A copy is timed from the moment its process
starts until the destination's high watermarks equal the source's end offsets ("total"), and
from the first record seen on the destination to the same point ("steady": excludes JVM /
interpreter start and connector set-up); the destination is polled with one batched
ListOffsets per 0.1 s (``watch.wait_caught_up``). Peak RSS of every contender is ``VmHWM``
from ``/proc/<pid>/status`` of its process tree, sampled every 0.1 s (``watch.ProcSampler``),
never ``ru_maxrss`` (a forked child's starts at the bench's own high-water mark).

Usage (the sandbox must be up: ``connshift sandbox up``)::

    make bench
    .venv/bin/python bench/run.py --partitions 4 --records 1000000 --sizes 100,1000 \
        --compression none,lz4 --quick

Results: a table per case on the terminal and ``bench/results/<timestamp>.json``.
Every topic the run created is deleted at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from rich.console import Console
from rich.table import Table

from connshift.errors import ConnshiftError
from connshift.io import artifacts
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox import jars
from connshift.io.sandbox.mm2 import (
    JVM_PERFORMANCE_OPTS,
    MirrorMaker2,
    MirrorProgress,
    props_text,
)
from connshift.io.sandbox.services import _java_cmd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ modules, however run

import ceiling as ceiling_mod
from watch import ProcSampler, wait_caught_up

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SCHEMA = "connshift.bench/1"
MIB = 1024 * 1024

#: The targets connshift is held to.
TARGET_VS_MM2 = 1.5
TARGET_VS_PRODUCE_LIMIT = 0.70
#: sync's steady rate as a share of the raw ceiling (the lower of fetch-only and produce-only)
TARGET_VS_CEILING = 0.90
#: the estate case: connshift at least this many times faster than MM2 (to catch-up), and
#: less peak RSS
TARGET_ESTATE_VS_MM2 = 2.0
#: connshift's copy CPU per record over SASL_SSL may be at most this times its PLAINTEXT one.
TARGET_TLS_CPU = 1.5

#: The secured case: (record size, compression), SASL_SSL on both sides.
SECURED_CASE = (1000, "lz4")
#: The SCRAM user both contenders use in the secured case: the sandbox's super user, so
#: neither is held back (or helped) by ACLs, and the bench's ``bench.*`` topics need none.
SECURED_USER = "admin"

#: Producer settings shared by MirrorMaker 2's worker producer and ProducerPerformance.
JAVA_PRODUCER = {"acks": "all", "linger.ms": "10", "batch.size": "262144"}

#: Producer settings of the source fill (librdkafka): big batches, like a busy producer.
FILL_PRODUCER = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 50,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 2_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
}

POLL_INTERVAL = 0.1

console = Console()
if not console.is_terminal:  # piped or logged: keep the tables on one line per row
    console = Console(width=132)

#: A steady-state window shorter than this many poll intervals is flagged as imprecise.
PRECISE_POLLS = 20


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Secured:
    """The secured case's connection: both clusters on their SASL_SSL listeners, one SCRAM
    user for both contenders (its password stays in ``password_file``; never printed)."""

    source: str
    destination: str
    source_mechanism: str
    destination_mechanism: str
    username: str
    password_file: Path
    ca_file: Path

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def describe(self) -> str:
        return (
            f"SASL_SSL both sides (source {self.source} {self.source_mechanism}, destination "
            f"{self.destination} {self.destination_mechanism}), user {self.username!r} for "
            f"connshift and MM2 alike, CA {self.ca_file}"
        )

    def to_json(self) -> dict[str, str]:
        return {
            "security_protocol": "SASL_SSL",
            "source": self.source,
            "source_mechanism": self.source_mechanism,
            "destination": self.destination,
            "destination_mechanism": self.destination_mechanism,
            "username": self.username,
            "password_file": str(self.password_file),
            "ca_file": str(self.ca_file),
        }


@dataclass(frozen=True)
class Estate:
    """The estate-shaped case: many small partitions over many topics."""

    topics: int = 200
    partitions: int = 10
    records: int = 100  # per partition
    size: int = 200
    compression: str = "none"
    members: tuple[int, ...] = (1, 2)
    mm2_tasks: int = 4

    @property
    def total_partitions(self) -> int:
        return self.topics * self.partitions

    @property
    def total_records(self) -> int:
        return self.topics * self.partitions * self.records


@dataclass(frozen=True)
class Options:
    partitions: int
    records: int
    perf_records: int
    sizes: list[int]
    compressions: list[str]
    timeout: float
    source: str
    destination: str
    contenders: list[str]
    keep: bool
    connshift: str
    results_dir: Path
    no_cutover: bool = False
    no_inventory: bool = False
    #: the secured case (lz4, 1000 B, SASL_SSL both sides), None when left out
    secured: Secured | None = None
    #: the four-partition cases (size x compression) run; False with ``--only estate``
    partition_cases: bool = True
    #: the estate-shaped case (None: left out)
    estate: Estate | None = None
    #: measure the raw fetch-only / produce-only ceiling of each case
    ceiling: bool = True
    #: call bench/validate_scale.py when it exists
    validate: bool = True


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="connshift sync vs MirrorMaker 2 vs the destination's produce limit.",
    )
    parser.add_argument("--partitions", type=int, default=4, help="partitions per topic (4)")
    parser.add_argument(
        "--records", type=int, default=None, help="records per case (2000000; --quick 100000)"
    )
    parser.add_argument("--sizes", default="100,1000", help="record value sizes in bytes")
    parser.add_argument(
        "--compression", default="none,lz4", help="producer compression per case (none,lz4)"
    )
    parser.add_argument("--quick", action="store_true", help="100000 records per case")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed per copy or fill (600)"
    )
    parser.add_argument("--source", default=None, help="source bootstrap (sandbox default)")
    parser.add_argument("--destination", default=None, help="destination bootstrap (sandbox)")
    parser.add_argument(
        "--only",
        default="connshift,mm2,perf",
        help="contenders to run, comma-separated: connshift, mm2, perf; 'estate' in the list "
        "runs only the estate case (with connshift and mm2 unless contenders are named too)",
    )
    parser.add_argument(
        "--no-estate", action="store_true", help="leave out the estate case (200 x 10 partitions)"
    )
    parser.add_argument("--estate-topics", type=int, default=Estate.topics, help="(200)")
    parser.add_argument(
        "--estate-partitions", type=int, default=Estate.partitions, help="per topic (10)"
    )
    parser.add_argument(
        "--estate-records", type=int, default=Estate.records, help="per partition (100)"
    )
    parser.add_argument("--estate-size", type=int, default=Estate.size, help="value bytes (200)")
    parser.add_argument(
        "--estate-members",
        default="1,2",
        help="connshift sync runs of the estate case, by members in the group (1,2)",
    )
    parser.add_argument(
        "--mm2-tasks", type=int, default=Estate.mm2_tasks, help="MM2 tasks.max, estate case (4)"
    )
    parser.add_argument(
        "--no-ceiling",
        action="store_true",
        help="skip the raw fetch-only / produce-only ceiling of each case",
    )
    parser.add_argument(
        "--no-validate", action="store_true", help="skip bench/validate_scale.py (if present)"
    )
    parser.add_argument(
        "--perf-records",
        type=int,
        default=None,
        help="records ProducerPerformance sends (default: --records); more gives a warmer JVM",
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the bench topics")
    parser.add_argument(
        "--no-cutover", action="store_true", help="skip the cutover pause measurement"
    )
    parser.add_argument(
        "--no-inventory",
        action="store_true",
        help="skip the inventory at scale (500 topics, 5,000 partitions, 100 connectors)",
    )
    parser.add_argument(
        "--no-secured",
        action="store_true",
        help="leave out the secured case (lz4, 1000 B, SASL_SSL on both sides)",
    )
    parser.add_argument(
        "--secured-user",
        default=SECURED_USER,
        help=f"SCRAM user of both contenders in the secured case ({SECURED_USER})",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    records = args.records or (100_000 if args.quick else 2_000_000)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    compressions = [c.strip() for c in args.compression.split(",") if c.strip()]
    valid = {"none", "gzip", "snappy", "lz4", "zstd"}
    if bad := [c for c in compressions if c not in valid]:
        parser.error(f"unknown compression {bad}; use {sorted(valid)}")
    only = [c.strip() for c in args.only.split(",") if c.strip()]
    if bad := [c for c in only if c not in ("connshift", "mm2", "perf", "estate")]:
        parser.error(f"unknown contender {bad}")
    only_estate = "estate" in only
    contenders = [c for c in only if c != "estate"]
    if only_estate and not contenders:
        contenders = ["connshift", "mm2"]
    try:
        members = tuple(int(m) for m in args.estate_members.split(",") if m.strip())
    except ValueError:
        parser.error("--estate-members takes numbers, e.g. 1,2")
    if only_estate and args.no_estate:
        parser.error("--only estate and --no-estate contradict each other")
    estate = (
        None
        if args.no_estate
        else Estate(
            topics=args.estate_topics,
            partitions=args.estate_partitions,
            records=args.estate_records,
            size=args.estate_size,
            members=members,
            mm2_tasks=args.mm2_tasks,
        )
    )
    if args.partitions < 1 or records < args.partitions or not sizes:
        parser.error("need partitions >= 1, records >= partitions and at least one size")

    source, destination = args.source, args.destination
    if source is None or destination is None:
        from connshift.app.sandbox import Sandbox

        ports = Sandbox().ports
        source = source or f"127.0.0.1:{ports['source-kafka']}"
        destination = destination or f"127.0.0.1:{ports['destination-kafka']}"
    secured = None if args.no_secured or only_estate else sandbox_secured(args.secured_user)
    exe = Path(sys.executable).parent / "connshift"
    return Options(
        partitions=args.partitions,
        records=records,
        perf_records=args.perf_records or records,
        sizes=sizes,
        compressions=compressions,
        timeout=args.timeout,
        source=source,
        destination=destination,
        contenders=contenders,
        keep=args.keep,
        connshift=str(exe) if exe.is_file() else (shutil.which("connshift") or "connshift"),
        results_dir=args.results_dir,
        no_cutover=args.no_cutover or only_estate,
        no_inventory=args.no_inventory or only_estate,
        secured=secured,
        partition_cases=not only_estate,
        estate=estate,
        ceiling=not args.no_ceiling,
        validate=not args.no_validate,
    )


def sandbox_secured(username: str) -> Secured:
    """The sandbox's SASL_SSL listeners, as ``username`` (its password file, the CA)."""
    from connshift.app.sandbox import DESTINATION_SCRAM, HOST, SOURCE_SCRAM, Sandbox

    sandbox = Sandbox()
    ports, files = sandbox.ports, sandbox.security
    return Secured(
        source=f"{HOST}:{ports['source-kafka-sasl']}",
        destination=f"{HOST}:{ports['destination-kafka-sasl']}",
        source_mechanism=SOURCE_SCRAM,
        destination_mechanism=DESTINATION_SCRAM,
        username=username,
        password_file=Path(files.password_file(username)),
        ca_file=Path(files.ca_file),
    )


# --------------------------------------------------------------------------- helpers


class Child:
    """A subprocess whose exit we collect with ``wait4`` (for its CPU time), its memory
    sampled from ``/proc`` while it runs (:class:`watch.ProcSampler`: ``VmHWM`` of it and its
    descendants every 0.1 s)."""

    def __init__(self, cmd: Sequence[str], workdir: Path, name: str) -> None:
        self.name = name
        self.stdout = workdir / f"{name}.out"
        self.stderr = workdir / f"{name}.err"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=workdir,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        self.sampler = ProcSampler(self.proc.pid).start()
        self.ended_at: float | None = None
        self.returncode: int | None = None
        self.rusage: resource.struct_rusage | None = None

    def running(self) -> bool:
        """Reap the child if it has exited (never through ``Popen.poll``: it would take the
        exit status and its rusage)."""
        if self.returncode is not None:
            return False
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return True
        self.ended_at = time.monotonic()
        self.sampler.stop()
        self.returncode = os.waitstatus_to_exitcode(status)
        self.rusage = usage
        self.proc.returncode = self.returncode  # so Popen does not wait for it again
        return False

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"{self.name} did not finish within {timeout:.0f}s")
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            self.sampler.sample()  # the last look before it goes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            while self.running():
                time.sleep(0.02)

    @property
    def peak_rss_bytes(self) -> int | None:
        """Peak RSS sampled from ``/proc`` (``ru_maxrss`` of a forked child starts at the
        bench's own high-water mark: not used)."""
        return self.sampler.peak_bytes

    @property
    def cpu_seconds(self) -> float | None:
        return self.rusage.ru_utime + self.rusage.ru_stime if self.rusage else None

    def text(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def alive_with_one_more_look(alive: Callable[[], bool]) -> Callable[[], bool]:
    """``alive`` that still says True once after the process exited, so the caller takes
    one last look at the destination before giving up."""
    seen_dead = False

    def check() -> bool:
        nonlocal seen_dead
        if alive():
            return True
        if not seen_dead:
            seen_dead = True
            return True
        return False

    return check


def payloads(size: int, count: int) -> Iterator[bytes]:
    """``count`` values of ``size`` random uppercase letters, all different (as
    ProducerPerformance sends), cut from one 16 MiB buffer without overlap."""
    pool_len = max(16 * MIB, size * 4)
    raw = os.urandom(pool_len)
    letters = bytes(65 + (b % 26) for b in range(256))
    pool = raw.translate(letters)
    slots = pool_len // size
    for i in range(count):
        start = (i % slots) * size
        yield pool[start : start + size]


def rate(records: int, value_bytes: int, seconds: float | None) -> dict[str, float | None]:
    if not seconds or seconds <= 0:
        return {"seconds": seconds, "records_per_s": None, "mib_per_s": None}
    return {
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds, 1),
        "mib_per_s": round(value_bytes / seconds / MIB, 2),
    }


def exact_regex(topic: str) -> str:
    return "^" + re.escape(topic) + "$"


# --------------------------------------------------------------------------- steps


def fill(
    src: KafkaCluster, topic: str, partitions: int, records: int, size: int, compression: str
) -> tuple[float, dict[tuple[str, int], int]]:
    """Create ``topic`` and produce ``records`` values round-robin over its partitions."""
    src.create_topic(topic, partitions)
    producer = src.producer({**FILL_PRODUCER, "compression.type": compression})
    produce, poll = producer.produce, producer.poll
    started = time.monotonic()
    for i, value in enumerate(payloads(size, records)):
        while True:
            try:
                produce(topic, value, None, i % partitions)
                break
            except BufferError:
                poll(0.05)
        if i % 10_000 == 0:
            poll(0)
    left = producer.flush(600)
    seconds = time.monotonic() - started
    if left:
        raise RuntimeError(f"{left} records of the fill were not delivered")
    ends = src.end_offsets(topic, list(range(partitions)))
    expected = {(topic, p): high for p, (_low, high) in ends.items()}
    if sum(expected.values()) != records:
        raise RuntimeError(f"fill wrote {sum(expected.values())} records, wanted {records}")
    return seconds, expected


def _secured_kafka(bootstrap: str, mechanism: str, secured: Secured) -> dict[str, Any]:
    """A spec's ``kafka`` block on a SASL_SSL listener; the password is a ``${file:...}``
    reference (the spec never holds it)."""
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl": {
            "mechanism": mechanism,
            "username": secured.username,
            "password": f"${{file:{secured.password_file}}}",
        },
        "tls": {"ca_file": str(secured.ca_file)},
    }


def spec_text(
    opts: Options,
    name: str,
    topic: str,
    dst_topic: str,
    state_dir: Path,
    secured: Secured | None = None,
) -> str:
    """A connshift spec (JSON is YAML) for one bench copy (on the SASL_SSL listeners when
    ``secured``)."""
    if secured is None:
        source: dict[str, Any] = {"bootstrap_servers": opts.source}
        destination: dict[str, Any] = {"bootstrap_servers": opts.destination}
    else:
        source = _secured_kafka(secured.source, secured.source_mechanism, secured)
        destination = _secured_kafka(secured.destination, secured.destination_mechanism, secured)
    spec = {
        "version": 1,
        "name": name,
        "source": {"kafka": source},
        "destination": {"kafka": destination},
        "topics": {"include": [exact_regex(topic)], "rename": {topic: dst_topic}},
        "state_dir": str(state_dir),
    }
    return json.dumps(spec, indent=2) + "\n"


def run_connshift(
    opts: Options,
    dst: KafkaCluster,
    topic: str,
    expected: dict[tuple[str, int], int],
    value_bytes: int,
    workdir: Path,
    run_id: str,
    secured: Secured | None = None,
) -> dict[str, Any]:
    """``connshift sync --once`` into ``<topic>.connshift``, timed against the destination."""
    dst_topic = f"{topic}.connshift"
    spec = workdir / "connshift.yaml"
    spec.write_text(
        spec_text(opts, f"bench-{run_id}", topic, dst_topic, workdir / "state", secured)
    )
    target = {(dst_topic, p): end for (_t, p), end in expected.items()}
    result = run_sync_members(
        opts, dst, [spec], exact_regex(topic), target, value_bytes, workdir, "connshift"
    )
    return {**result, "destination_topic": dst_topic}


def run_sync_members(
    opts: Options,
    dst: KafkaCluster,
    specs: Sequence[Path],
    topics_regex: str,
    target: dict[tuple[str, int], int],
    value_bytes: int,
    workdir: Path,
    name: str,
) -> dict[str, Any]:
    """``connshift sync --once`` as one process per spec (several: members of one sync group,
    started together), timed from the first start until ``target`` is reached on the
    destination. Peak RSS per member from ``/proc``; CPU from each one's ``wait4``."""
    cmd = [opts.connshift, "sync", "--once", "--topics", topics_regex, "--json"]
    children = [
        Child(
            [*cmd[:2], "-c", str(spec), *cmd[2:]],
            workdir,
            name if len(specs) == 1 else f"{name}-{i}",
        )
        for i, spec in enumerate(specs, 1)
    ]
    records = sum(target.values())
    result: dict[str, Any] = {
        "contender": "connshift",
        "members": len(specs),
        "command": " ".join([*cmd[:2], "-c", "SPEC", *cmd[2:]]),
    }

    def any_running() -> bool:
        return any([c.running() for c in children])

    progress: MirrorProgress | None = None
    try:
        progress = wait_caught_up(
            dst,
            target,
            opts.timeout,
            interval=POLL_INTERVAL,
            started_at=children[0].started_at,
            alive=alive_with_one_more_look(any_running),
        )
        for child in children:
            child.wait(120)
    except (ConnshiftError, TimeoutError) as exc:
        for child in children:
            child.kill()
        result["error"] = str(exc)
    codes = [c.returncode for c in children]
    output = "\n".join(c.text() for c in children)
    if 2 in codes and "not available" in output:
        return {**result, "status": "not available", "detail": output.strip()[-300:]}
    if any(code != 0 for code in codes) and (progress is None or len(children) == 1):
        return {**result, "status": "failed", "exit_code": codes, "detail": output.strip()[-600:]}
    if progress is None:
        return {**result, "status": "failed"}
    if any(code != 0 for code in codes):
        # the destination caught up, but a member exited with an error: the time is real,
        # the run is not a pass (shown as "member failed", with each member's last words)
        result.update(
            status="member failed",
            exit_code=codes,
            detail=" | ".join(
                f"member {i}: {_last_error(c.stderr.read_text(errors='replace'))}"
                for i, c in enumerate(children, 1)
                if c.returncode != 0
            ),
        )
    reported = []
    for child in children:
        with contextlib.suppress(ValueError):
            reported.append(_json_summary(child.stdout.read_text()))
    if len(children) == 1 and reported:
        result["reported"] = reported[0]
    elif reported:
        result["reported_by_member"] = reported
    cpu = sum(c.cpu_seconds or 0.0 for c in children)
    rss = [c.peak_rss_bytes or 0 for c in children]
    out = {
        **result,
        **_timings(progress, records, value_bytes, target),
        "status": result.get("status", "ok"),
        "exit_after_s": round(max(c.ended_at or 0 for c in children) - children[0].started_at, 3),
        "peak_rss_mib": round(sum(rss) / MIB, 1),
        "cpu_s": round(cpu, 3),
        "cpu_us_per_record": round(cpu / records * 1e6, 3) if records else None,
        "rss": [c.sampler.to_json() for c in children],
    }
    if len(children) > 1:
        out["peak_rss_mib_by_member"] = [round(r / MIB, 1) for r in rss]
        out["cpu_s_by_member"] = [round(c.cpu_seconds or 0.0, 3) for c in children]
    return out


def _last_error(stderr: str) -> str:
    """The ``error:`` line a connshift process printed last (else its last line), shortened."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or ["(nothing on stderr)"])[-1][:400]


def run_connshift_idle(
    opts: Options,
    src: KafkaCluster,
    topic: str,
    workdir: Path,
    run_id: str,
    secured: Secured | None = None,
) -> dict[str, Any]:
    """``connshift sync --once`` of an empty topic (``<topic>.idle``, same partitions, same
    listeners): the CPU of everything but the copy — interpreter start, imports, spec,
    connections (TLS handshakes and SASL included when ``secured``), metadata, producer id.
    Subtracted from the case's CPU it leaves what the records cost."""
    idle = f"{topic}.idle"
    src.create_topic(idle, opts.partitions)
    spec = workdir / "connshift-idle.yaml"
    spec.write_text(
        spec_text(
            opts, f"bench-{run_id}", idle, f"{idle}.connshift", workdir / "state-idle", secured
        )
    )
    cmd = [opts.connshift, "sync", "-c", str(spec), "--once", "--topics", exact_regex(idle)]
    child = Child([*cmd, "--json"], workdir, "connshift-idle")
    try:
        code = child.wait(120)
    except TimeoutError as exc:
        return {"status": "failed", "error": str(exc)}
    if code != 0:
        return {"status": "failed", "exit_code": code, "detail": child.text().strip()[-300:]}
    return {
        "status": "ok",
        "topic": idle,
        "cpu_s": round(child.cpu_seconds or 0.0, 3),
        "wall_s": round((child.ended_at or 0) - child.started_at, 3),
    }


def copy_cpu(result: dict[str, Any], idle: dict[str, Any], records: int) -> dict[str, Any]:
    """connshift's CPU per record, gross (whole process) and net of its idle run."""
    out: dict[str, Any] = {
        "cpu_s": result.get("cpu_s"),
        "cpu_us_per_record": result.get("cpu_us_per_record"),
    }
    if idle.get("status") == "ok" and result.get("cpu_s") is not None and records:
        net = max(result["cpu_s"] - idle["cpu_s"], 0.0)
        out.update(
            idle_cpu_s=idle["cpu_s"],
            copy_cpu_s=round(net, 3),
            copy_cpu_us_per_record=round(net / records * 1e6, 3),
        )
    return out


def _json_summary(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    keep = (
        "schema",
        "engine",
        "engine_reason",
        "records",
        "bytes",
        "seconds",
        "records_per_second",
    )
    return {k: data[k] for k in keep if k in data}


def _timings(
    progress: MirrorProgress,
    records: int,
    value_bytes: int,
    target: dict[tuple[str, int], int],
) -> dict[str, Any]:
    assert progress.done_at is not None and progress.first_record_at is not None
    total = progress.done_at - progress.started_at
    steady = progress.done_at - progress.first_record_at
    # count only what was copied after the first look that saw a record: the copy may have
    # run for up to one poll interval before that look
    after = records - progress.copied_at_first
    out: dict[str, Any] = {
        "total": rate(records, value_bytes, total),
        "steady": {
            **rate(after, value_bytes * after // max(records, 1), steady),
            "records": after,
        },
        "first_record_after_s": round(progress.first_record_at - progress.started_at, 3),
    }
    over = progress.overshoot(target)
    if over:
        out["overshoot"] = {f"{t}[{p}]": n for (t, p), n in over.items()}
    return out


class _PrivateMirrorMaker2(MirrorMaker2):
    """MirrorMaker 2 whose ``mm2.properties`` (it holds a password) is created mode 0600."""

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.properties.unlink()
        fd = os.open(self.properties, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(props_text(self.config()))
        return self.properties


def java_security(mechanism: str, secured: Secured, password: str) -> dict[str, str]:
    """A Java Kafka client's settings for a SASL_SSL/SCRAM listener (holds the password:
    goes into 0600 files only)."""

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f"username={quoted(secured.username)} password={quoted(password)};"
        ),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(secured.ca_file),
    }


def mm2_security(secured: Secured, src: str = "src", dst: str = "dst") -> dict[str, str]:
    """MM2 properties putting both clusters on SASL_SSL: per cluster alias, and again for the
    producer, consumer and admin clients MM2 builds for it."""
    password = secured.password()
    out: dict[str, str] = {}
    for alias, mechanism in ((src, secured.source_mechanism), (dst, secured.destination_mechanism)):
        for key, value in java_security(mechanism, secured, password).items():
            for client in ("", "producer.", "consumer.", "admin."):
                out[f"{alias}.{client}{key}"] = value
    return out


def _without_secret(log: Path, secret: str, keep: Path) -> str | None:
    """Copy ``log`` to ``keep`` unless it contains ``secret``; the kept path, or None."""
    try:
        text = log.read_bytes()
    except OSError:
        return None
    if secret.encode() in text:
        return None
    keep.write_bytes(text)
    return str(keep)


def run_mm2(
    opts: Options,
    dst: KafkaCluster,
    topic: str,
    expected: dict[tuple[str, int], int],
    value_bytes: int,
    compression: str,
    workdir: Path,
    run_id: str,
    secured: Secured | None = None,
    *,
    topics_regex: str | None = None,
    tasks_max: int | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """MirrorMaker 2 into ``<topic>`` (identity names), timed against the destination
    (``topics_regex`` instead of the one topic; ``tasks_max`` default: the partitions). When
    ``secured``, it reads and writes over SASL_SSL; its properties (with the password) go to
    a private temporary directory, deleted after the run (the log is kept if it holds no
    password)."""
    extra = {f"dst.producer.{k}": v for k, v in JAVA_PRODUCER.items()}
    extra["dst.producer.compression.type"] = compression
    source_bootstrap, destination_bootstrap = opts.source, opts.destination
    mm2_dir = workdir / "mm2"
    factory: type[MirrorMaker2] = MirrorMaker2
    if secured is not None:
        extra.update(mm2_security(secured))
        source_bootstrap, destination_bootstrap = secured.source, secured.destination
        mm2_dir = Path(tempfile.mkdtemp(prefix="connshift-bench-mm2-"))  # mode 0700
        factory = _PrivateMirrorMaker2
    try:
        return _run_mm2(
            opts,
            dst,
            topic,
            expected,
            value_bytes,
            run_id,
            factory(
                mm2_dir,
                source_bootstrap,
                destination_bootstrap,
                topics_regex or exact_regex(topic),
                groups_regex=r"bench\..*",
                tasks_max=tasks_max or opts.partitions,
                extra=extra,
                name=f"bench-{run_id}-{label or topic.split('.')[1] + '-' + topic.split('.')[2]}",
            ),
            secured,
            workdir,
        )
    finally:
        if secured is not None:
            shutil.rmtree(mm2_dir, ignore_errors=True)


def _run_mm2(
    opts: Options,
    dst: KafkaCluster,
    topic: str,
    expected: dict[tuple[str, int], int],
    value_bytes: int,
    run_id: str,
    mm2: MirrorMaker2,
    secured: Secured | None,
    workdir: Path,
) -> dict[str, Any]:
    records = sum(expected.values())
    result: dict[str, Any] = {
        "contender": "mm2",
        "destination_topic": topic,
        "version": jars.KAFKA_SOURCE_VERSION,
        "tasks_max": mm2.tasks_max,
        "heap": mm2.heap,
        "log": str(mm2.log),
    }
    if secured is not None:
        result["security"] = f"SASL_SSL as {secured.username!r} (source and destination)"
    mm2.start()
    assert mm2.record is not None
    sampler = ProcSampler(mm2.record.pid).start()
    try:
        progress = wait_caught_up(
            dst,
            expected,
            opts.timeout,
            interval=POLL_INTERVAL,
            started_at=mm2.started_at,
            alive=mm2.is_running,
        )
        sampler.sample()  # the last look, just before it is stopped
        rss, cpu = sampler.peak_bytes, sampler.cpu_seconds
    except ConnshiftError as exc:
        return {**result, "status": "failed", "error": str(exc), "detail": mm2.log_tail(3)}
    finally:
        sampler.stop()
        mm2.stop()
        with contextlib.suppress(ConnshiftError):
            internal = [n for n in mm2.internal_topics()["target"] if n in dst.topics()]
            delete_topics(dst, internal)
        if secured is not None:  # the private directory goes; keep the log if it is clean
            result["log"] = _without_secret(mm2.log, secured.password(), workdir / "mm2.log")
    return {
        **result,
        **_timings(progress, records, value_bytes, expected),
        "status": "ok",
        "peak_rss_mib": round((rss or 0) / MIB, 1),
        "cpu_s": round(cpu or 0, 2),
        "rss": sampler.to_json(),
    }


_PERF_SUMMARY = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
    r"([\d.]+) ms avg latency, ([\d.]+) ms max latency"
)


def parse_perf_summary(text: str) -> dict[str, float] | None:
    """The final summary line of ProducerPerformance (the last of its lines that match)."""
    matches = _PERF_SUMMARY.findall(text)
    if not matches:
        return None
    sent, rps, mbs, avg, mx = matches[-1]
    return {
        "records": int(sent),
        "records_per_s": float(rps),
        "mib_per_s": float(mbs),
        "avg_latency_ms": float(avg),
        "max_latency_ms": float(mx),
    }


def run_perf(
    opts: Options,
    dst: KafkaCluster,
    topic: str,
    records: int,
    size: int,
    compression: str,
    workdir: Path,
    secured: Secured | None = None,
) -> dict[str, Any]:
    """Kafka's ProducerPerformance (4.4.0) into ``<topic>.perf`` on the destination (over
    SASL_SSL when ``secured``: the settings in a 0600 ``--producer.config`` file in a private
    temporary directory, deleted after the run)."""
    perf_topic = f"{topic}.perf"
    dst.create_topic(perf_topic, opts.partitions)
    dist = jars.fetch(jars.KAFKA_DESTINATION_VERSION)
    bootstrap = opts.destination if secured is None else secured.destination
    props = {"bootstrap.servers": bootstrap, **JAVA_PRODUCER}
    props["compression.type"] = compression
    args = [
        *("--topic", perf_topic, "--num-records", str(records), "--record-size", str(size)),
        *("--throughput", "-1", "--producer-props"),
        *(f"{k}={v}" for k, v in props.items()),
    ]
    private: Path | None = None
    if secured is not None:
        private = Path(tempfile.mkdtemp(prefix="connshift-bench-perf-"))  # mode 0700
        config = private / "producer.properties"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        security = java_security(secured.destination_mechanism, secured, secured.password())
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{k}={v}\n" for k, v in security.items()))
        args += ["--producer.config", str(config)]
    cmd = _java_cmd(dist, "org.apache.kafka.tools.ProducerPerformance", *args, heap="512m")
    cmd = [cmd[0], *JVM_PERFORMANCE_OPTS, *cmd[1:]]
    child = Child(cmd, workdir, "perf")
    result: dict[str, Any] = {
        "contender": "perf",
        "destination_topic": perf_topic,
        "version": jars.KAFKA_DESTINATION_VERSION,
        "producer_props": props,
    }
    if secured is not None:
        result["security"] = f"SASL_SSL as {secured.username!r}"
    try:
        code = child.wait(opts.timeout)
    except TimeoutError as exc:
        return {**result, "status": "failed", "error": str(exc)}
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
    summary = parse_perf_summary(child.text())
    if code != 0 or summary is None:
        return {**result, "status": "failed", "exit_code": code, "detail": child.text()[-600:]}
    return {
        **result,
        "status": "ok",
        "steady": {
            "records_per_s": summary["records_per_s"],
            "mib_per_s": summary["mib_per_s"],
        },
        "latency_ms": {"avg": summary["avg_latency_ms"], "max": summary["max_latency_ms"]},
        "wall_s": round((child.ended_at or 0) - child.started_at, 3),
        "peak_rss_mib": round((child.peak_rss_bytes or 0) / MIB, 1),
        "cpu_s": round(child.cpu_seconds or 0, 2),
        "rss": child.sampler.to_json(),
    }


# --------------------------------------------------------------------------- verdicts


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def ratios(case: dict[str, Any]) -> dict[str, Any]:
    """connshift/MM2 and connshift/produce-limit on steady-state records/s (the verdict),
    and on total records/s (process start to caught up) for reference."""
    got = {c["contender"]: c for c in case["results"] if c.get("status") == "ok"}
    out: dict[str, Any] = {}
    cs = got.get("connshift")
    if cs is None:
        return out
    pairs = (
        ("vs_mm2", got.get("mm2"), "total", TARGET_VS_MM2),
        # ProducerPerformance's own figure excludes JVM start: it has no "total"
        ("vs_produce_limit", got.get("perf"), "steady", TARGET_VS_PRODUCE_LIMIT),
    )
    ceil = case.get("ceiling") or {}
    if ceil.get("records_per_s"):
        steady = ceiling_mod.percent_of(cs["steady"]["records_per_s"], ceil["records_per_s"])
        total = ceiling_mod.percent_of(cs["total"]["records_per_s"], ceil["records_per_s"])
        out["vs_ceiling"] = {
            "steady": None if steady is None else round(steady, 3),
            "total": None if total is None else round(total, 3),
            "target": TARGET_VS_CEILING,
            "met": None if steady is None else steady >= TARGET_VS_CEILING,
            "limited_by": ceil.get("limited_by"),
        }
    for key, other, other_total, target in pairs:
        if other is None:
            continue
        steady = _ratio(cs["steady"]["records_per_s"], other["steady"]["records_per_s"])
        total = _ratio(cs["total"]["records_per_s"], other[other_total]["records_per_s"])
        out[key] = {
            "steady": None if steady is None else round(steady, 3),
            "total": None if total is None else round(total, 3),
            "target": target,
            "met": None if steady is None else steady >= target,
        }
    return out


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "—" if value is None else format(value, spec)


def render_case(case: dict[str, Any]) -> None:
    title = (
        f"{case['records']:,} x {case['size']} B, compression {case['compression']}, "
        f"{case['partitions']} partitions (source fill {case['fill']['records_per_s']:,.0f} rec/s)"
    )
    table = Table(title=title, title_justify="left")
    for col in (
        "contender",
        "records/s steady",
        "MiB/s steady",
        "records/s total",
        "first rec (s)",
        "peak RSS MiB (/proc)",
        "CPU s",
        "status",
    ):
        table.add_column(col, justify="right" if col != "contender" else "left")
    names = {
        "connshift": "connshift sync",
        "mm2": f"MM2 {jars.KAFKA_SOURCE_VERSION}",
        "perf": f"produce limit {jars.KAFKA_DESTINATION_VERSION}",
    }
    for res in case["results"]:
        ok = res.get("status") == "ok"
        steady = res.get("steady", {}) if ok else {}
        total = res.get("total", {}) if ok else {}
        status = res.get("status", "?")
        if res.get("overshoot"):
            status += " (dups!)"
        table.add_row(
            names[res["contender"]],
            _fmt(steady.get("records_per_s")),
            _fmt(steady.get("mib_per_s"), ".1f"),
            _fmt(total.get("records_per_s")),
            _fmt(res.get("first_record_after_s"), ".1f"),
            _fmt(res.get("peak_rss_mib"), ".0f"),
            _fmt(res.get("cpu_s"), ".1f"),
            status,
        )
    console.print(table)
    r = case.get("ratios", {})
    lines = []
    marks = {True: "[green]met[/]", False: "[red]missed[/]", None: "[yellow]unknown[/]"}
    if "vs_mm2" in r:
        v = r["vs_mm2"]
        lines.append(
            f"connshift / MM2: {_fmt(v['steady'], '.2f')}x steady "
            f"({_fmt(v['total'], '.2f')}x total) — target ≥ {v['target']}x: {marks[v['met']]}"
        )
    ceil = case.get("ceiling")
    if ceil and ceil.get("status") == "failed":
        lines.append(f"[yellow]raw ceiling: failed[/] {ceil.get('error', '')[:300]}")
    elif ceil:
        lines.append(
            f"raw ceiling: fetch-only {_fmt(ceil['fetch']['records_per_s'])} rec/s "
            f"({_fmt(ceil['fetch']['mib_per_s'], '.0f')} MiB/s of batches), produce-only "
            f"{_fmt(ceil['produce']['records_per_s'])} rec/s "
            f"({_fmt(ceil['produce']['mib_per_s'], '.0f')} MiB/s) — limited by "
            f"{ceil['limited_by']}"
        )
    if "vs_ceiling" in r:
        v = r["vs_ceiling"]
        lines.append(
            f"connshift / raw ceiling: {_fmt(v['steady'], '.0%')} steady "
            f"({_fmt(v['total'], '.0%')} total) — goal ≥ {v['target']:.0%}: {marks[v['met']]}"
        )
    if "vs_produce_limit" in r:
        v = r["vs_produce_limit"]
        lines.append(
            f"connshift / produce limit: {_fmt(v['steady'], '.0%')} steady "
            f"({_fmt(v['total'], '.0%')} total) — target ≥ {v['target']:.0%}: {marks[v['met']]}"
        )
    for res in case["results"]:
        seconds = res.get("steady", {}).get("seconds") if res.get("status") == "ok" else None
        if seconds is not None and seconds < PRECISE_POLLS * POLL_INTERVAL:
            lines.append(
                f"[yellow]{res['contender']}: steady window {seconds:.2f}s is short against the "
                f"{POLL_INTERVAL}s poll; use more --records for a precise rate[/]"
            )
        if res.get("reported"):
            rep = res["reported"]
            lines.append(
                f"{res['contender']} reports {rep.get('records', 0):,} records in "
                f"{rep.get('seconds', 0):.2f}s ({_fmt(rep.get('records_per_second'))} records/s)"
            )
        if res.get("status") != "ok":
            why = res.get("error") or res.get("detail") or ""
            lines.append(f"[yellow]{res['contender']}: {res.get('status')}[/] {why[:300]}")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    console.print()


# --------------------------------------------------------------------------- main


def run_case(
    opts: Options,
    src: KafkaCluster,
    dst: KafkaCluster,
    size: int,
    compression: str,
    run_id: str,
    workdir: Path,
    created: dict[str, set[str]],
    secured: Secured | None = None,
) -> dict[str, Any]:
    flavour = compression if secured is None else f"{compression}-sasl"
    topic = f"bench.{size}.{flavour}.{run_id}"
    idle = f"{topic}.idle"
    created["source"].update({topic, idle})
    created["destination"].update(
        {topic, f"{topic}.connshift", f"{topic}.perf", f"{idle}.connshift"}
    )
    if secured is not None:
        console.print(f"[bold]secured case[/]: {secured.describe()}", highlight=False)
        console.print(
            "  (the bench fills the source and watches the destination on the PLAINTEXT "
            "listeners, the same way for every contender)",
            highlight=False,
        )
    console.print(f"[bold]{topic}[/]: filling {opts.records:,} records", highlight=False)
    fill_s, expected = fill(src, topic, opts.partitions, opts.records, size, compression)
    value_bytes = opts.records * size
    case: dict[str, Any] = {
        "topic": topic,
        "size": size,
        "compression": compression,
        "partitions": opts.partitions,
        "records": opts.records,
        "value_bytes": value_bytes,
        "security": "PLAINTEXT" if secured is None else secured.to_json(),
        "fill": rate(opts.records, value_bytes, fill_s),
        "results": [],
    }
    casedir = workdir / f"{size}-{flavour}"
    casedir.mkdir(parents=True, exist_ok=True)
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "connshift": lambda: run_connshift(
            opts, dst, topic, expected, value_bytes, casedir, run_id, secured
        ),
        "mm2": lambda: run_mm2(
            opts, dst, topic, expected, value_bytes, compression, casedir, run_id, secured
        ),
        "perf": lambda: run_perf(
            opts, dst, topic, opts.perf_records, size, compression, casedir, secured
        ),
    }
    for name in ("connshift", "mm2", "perf"):
        if name not in opts.contenders:
            continue
        console.print(f"  running {name}", highlight=False)
        try:
            res = steps[name]()
        except (ConnshiftError, OSError, RuntimeError) as exc:
            res = {"contender": name, "status": "failed", "error": str(exc)}
        if name == "connshift" and res.get("status") == "ok":
            try:
                idle_run = run_connshift_idle(opts, src, topic, casedir, run_id, secured)
            except (ConnshiftError, OSError) as exc:
                idle_run = {"status": "failed", "error": str(exc)}
            res["idle"] = idle_run
            res["cpu"] = copy_cpu(res, idle_run, opts.records)
        case["results"].append(res)
    if opts.ceiling and secured is None:
        console.print("  measuring the raw ceiling (fetch-only, produce-only)", highlight=False)
        ends = {topic: {p: end for (_t, p), end in expected.items()}}
        case["ceiling"] = run_ceiling(opts, dst, ends, opts.records, created)
    case["ratios"] = ratios(case)
    return case


def run_ceiling(
    opts: Options,
    dst: KafkaCluster,
    ends: dict[str, dict[int, int]],
    records: int,
    created: dict[str, set[str]],
) -> dict[str, Any]:
    """bench/ceiling.py on a case's topics; a failure is recorded, not raised."""
    try:
        return ceiling_mod.measure(
            opts.source, opts.destination, dst, ends, records, created["destination"]
        )
    except (ConnshiftError, OSError, RuntimeError, KafkaException) as exc:
        return {"status": "failed", "error": str(exc)}


# --------------------------------------------------------------------------- the estate case


def estate_topics(run_id: str, estate: Estate) -> list[str]:
    return [f"bench.estate.{run_id}.t{i:03d}" for i in range(estate.topics)]


def estate_regex(run_id: str) -> str:
    """The estate's source topics (spec ``include``, ``--topics`` and MM2's list alike)."""
    return "^" + re.escape(f"bench.estate.{run_id}.") + r"t[0-9]+$"


def create_topics(cluster: KafkaCluster, names: Sequence[str], partitions: int) -> None:
    """Create ``names`` in one admin call and wait until every partition has a leader."""
    ceiling_mod.create_topics(cluster, dict.fromkeys(names, partitions))
    deadline = time.monotonic() + 60
    waiting = set(names)
    while waiting and time.monotonic() < deadline:
        md = cluster.admin.list_topics(timeout=10)
        for name in list(waiting):
            t = md.topics.get(name)
            if (
                t is not None
                and t.error is None
                and len(t.partitions) == partitions
                and all(p.leader >= 0 for p in t.partitions.values())
            ):
                waiting.discard(name)
        if waiting:
            time.sleep(0.2)
    if waiting:
        raise RuntimeError(f"{len(waiting)} estate topics have no leaders after 60 s")


def fill_estate(
    src: KafkaCluster, topics: Sequence[str], estate: Estate
) -> tuple[float, dict[tuple[str, int], int]]:
    """Create the estate's topics and write ``records`` values into each partition, one
    partition after the other (so each partition's records go out as one batch, as a
    producer that wrote them in a burst would)."""
    create_topics(src, topics, estate.partitions)
    producer = src.producer({**FILL_PRODUCER, "compression.type": estate.compression})
    produce, poll = producer.produce, producer.poll
    values = payloads(estate.size, estate.total_records)
    started = time.monotonic()
    n = 0
    for topic in topics:
        for partition in range(estate.partitions):
            for _ in range(estate.records):
                value = next(values)
                while True:
                    try:
                        produce(topic, value, None, partition)
                        break
                    except BufferError:
                        poll(0.05)
                n += 1
            if n % 10_000 < estate.records:
                poll(0)
    left = producer.flush(600)
    seconds = time.monotonic() - started
    if left:
        raise RuntimeError(f"{left} records of the estate fill were not delivered")
    tps = [(t, p) for t in topics for p in range(estate.partitions)]
    marks = src.watermarks_of(tps)
    expected = {tp: high for tp, (_low, high) in marks.items()}
    if sum(expected.values()) != estate.total_records:
        raise RuntimeError(
            f"estate fill wrote {sum(expected.values())} records, wanted {estate.total_records}"
        )
    return seconds, expected


def estate_spec_text(opts: Options, name: str, run_id: str, prefix: str, state_dir: Path) -> str:
    spec = {
        "version": 1,
        "name": name,
        "source": {"kafka": {"bootstrap_servers": opts.source}},
        "destination": {"kafka": {"bootstrap_servers": opts.destination}},
        "topics": {"include": [estate_regex(run_id)], "prefix": prefix},
        "state_dir": str(state_dir),
    }
    return json.dumps(spec, indent=2) + "\n"


def run_estate(
    opts: Options,
    src: KafkaCluster,
    dst: KafkaCluster,
    run_id: str,
    workdir: Path,
    created: dict[str, set[str]],
) -> dict[str, Any]:
    """The estate-shaped case: fill, then connshift with each member count, then MM2, then
    the raw ceiling; each copy into topics of its own, timed to catch-up."""
    estate = opts.estate
    assert estate is not None
    topics = estate_topics(run_id, estate)
    created["source"].update(topics)
    console.print(
        f"[bold]estate case[/]: {estate.topics} topics x {estate.partitions} partitions x "
        f"{estate.records} records of {estate.size} B ({estate.total_records:,} records)",
        highlight=False,
    )
    fill_s, expected = fill_estate(src, topics, estate)
    value_bytes = estate.total_records * estate.size
    case: dict[str, Any] = {
        "shape": {
            "topics": estate.topics,
            "partitions_per_topic": estate.partitions,
            "partitions": estate.total_partitions,
            "records_per_partition": estate.records,
            "size": estate.size,
            "compression": estate.compression,
        },
        "records": estate.total_records,
        "value_bytes": value_bytes,
        "topics_regex": estate_regex(run_id),
        "fill": rate(estate.total_records, value_bytes, fill_s),
        "results": [],
    }
    casedir = workdir / "estate"
    casedir.mkdir(parents=True, exist_ok=True)
    if "connshift" in opts.contenders:
        for members in estate.members:
            prefix = f"cs{members}."
            name = f"bench-{run_id}-estate-m{members}"
            created["destination"].update(prefix + t for t in topics)
            specs = []
            for i in range(1, members + 1):
                spec = casedir / f"connshift-m{members}-{i}.yaml"
                state = casedir / f"state-m{members}-{i}"
                spec.write_text(estate_spec_text(opts, name, run_id, prefix, state))
                specs.append(spec)
            console.print(f"  running connshift, {members} member(s)", highlight=False)
            target = {(prefix + t, p): end for (t, p), end in expected.items()}
            try:
                res = run_sync_members(
                    opts,
                    dst,
                    specs,
                    estate_regex(run_id),
                    target,
                    value_bytes,
                    casedir,
                    f"connshift-m{members}",
                )
            except (ConnshiftError, OSError, RuntimeError, KafkaException) as exc:
                res = {"contender": "connshift", "status": "failed", "error": str(exc)}
            res.update(members=members, destination_prefix=prefix, specs=[str(s) for s in specs])
            case["results"].append(res)
    if "mm2" in opts.contenders:
        created["destination"].update(topics)
        console.print(f"  running mm2 (tasks.max={estate.mm2_tasks})", highlight=False)
        try:
            res = run_mm2(
                opts,
                dst,
                topics[0],
                expected,
                value_bytes,
                estate.compression,
                casedir,
                run_id,
                topics_regex=estate_regex(run_id),
                tasks_max=estate.mm2_tasks,
                label="estate",
            )
        except (ConnshiftError, OSError, RuntimeError, KafkaException) as exc:
            res = {"contender": "mm2", "status": "failed", "error": str(exc)}
        res["destination_topic"] = "(identity names)"
        case["results"].append(res)
    if opts.ceiling:
        console.print("  measuring the raw ceiling (fetch-only, produce-only)", highlight=False)
        ends: dict[str, dict[int, int]] = {}
        for (t, p), end in expected.items():
            ends.setdefault(t, {})[p] = end
        case["ceiling"] = run_ceiling(opts, dst, ends, estate.total_records, created)
    case["verdict"] = estate_verdict(case)
    return case


def estate_verdict(case: dict[str, Any]) -> dict[str, Any]:
    """connshift (each member count) against MM2 to catch-up (the verdict: ≥ 2x faster and
    less peak RSS), the scale-out speed-up against one member, and the share of the raw
    ceiling (steady and total)."""
    ok = [r for r in case["results"] if r.get("status") in ("ok", "member failed")]
    mm2 = next((r for r in ok if r["contender"] == "mm2"), None)
    single = next((r for r in ok if r["contender"] == "connshift" and r.get("members") == 1), None)
    ceil = (case.get("ceiling") or {}).get("records_per_s")
    out: dict[str, Any] = {"target_vs_mm2": TARGET_ESTATE_VS_MM2, "by_members": {}}
    for res in ok:
        if res["contender"] != "connshift":
            continue
        seconds = res["total"]["seconds"]
        row: dict[str, Any] = {
            "seconds": seconds,
            "peak_rss_mib": res.get("peak_rss_mib"),
            "status": res["status"],
        }
        if mm2 is not None:
            speed = _ratio(mm2["total"]["seconds"], seconds)
            row["vs_mm2"] = None if speed is None else round(speed, 3)
            row["rss_vs_mm2"] = _ratio(res.get("peak_rss_mib"), mm2.get("peak_rss_mib"))
            row["met"] = (
                None
                if speed is None or row["rss_vs_mm2"] is None
                else speed >= TARGET_ESTATE_VS_MM2
                and row["rss_vs_mm2"] < 1
                and res["status"] == "ok"
            )
        if single is not None and res is not single:
            speedup = _ratio(single["total"]["seconds"], seconds)
            row["speedup_vs_one_member"] = None if speedup is None else round(speedup, 3)
        if ceil:
            for key in ("steady", "total"):
                share = ceiling_mod.percent_of(res[key]["records_per_s"], ceil)
                row[f"vs_ceiling_{key}"] = None if share is None else round(share, 3)
        out["by_members"][str(res.get("members"))] = row
    return out


def render_estate(case: dict[str, Any]) -> None:
    shape = case["shape"]
    title = (
        f"estate: {shape['topics']} topics x {shape['partitions_per_topic']} partitions "
        f"({shape['partitions']:,}), {case['records']:,} x {shape['size']} B, "
        f"compression {shape['compression']} (source fill {case['fill']['records_per_s']:,.0f} "
        "rec/s)"
    )
    table = Table(title=title, title_justify="left")
    for col in (
        "contender",
        "to catch-up (s)",
        "records/s total",
        "records/s steady",
        "first rec (s)",
        "peak RSS MiB (/proc)",
        "CPU s",
        "status",
    ):
        table.add_column(col, justify="right" if col != "contender" else "left")
    for res in case["results"]:
        ok = "total" in res  # timed to catch-up (also when a member failed after it)
        if res["contender"] == "connshift":
            name = f"connshift sync, {res.get('members', 1)} member(s)"
        else:
            name = f"MM2 {jars.KAFKA_SOURCE_VERSION} (tasks.max={res.get('tasks_max', '?')})"
        rss = _fmt(res.get("peak_rss_mib"), ".0f")
        if res.get("peak_rss_mib_by_member"):
            rss += " (" + " + ".join(f"{m:.0f}" for m in res["peak_rss_mib_by_member"]) + ")"
        table.add_row(
            name,
            _fmt(res.get("total", {}).get("seconds") if ok else None, ".1f"),
            _fmt(res.get("total", {}).get("records_per_s") if ok else None),
            _fmt(res.get("steady", {}).get("records_per_s") if ok else None),
            _fmt(res.get("first_record_after_s") if ok else None, ".1f"),
            rss if ok else "—",
            _fmt(res.get("cpu_s") if ok else None, ".1f"),
            res.get("status", "?") + (" (dups!)" if res.get("overshoot") else ""),
        )
    console.print(table)
    marks = {True: "[green]met[/]", False: "[red]missed[/]", None: "[yellow]unknown[/]"}
    ceil = case.get("ceiling")
    if ceil and ceil.get("status") == "failed":
        console.print(f"[yellow]raw ceiling: failed[/] {ceil.get('error', '')[:300]}")
    elif ceil:
        console.print(
            f"raw ceiling: fetch-only {_fmt(ceil['fetch']['records_per_s'])} rec/s "
            f"({ceil['fetch']['seconds']:.2f} s), produce-only "
            f"{_fmt(ceil['produce']['records_per_s'])} rec/s ({ceil['produce']['seconds']:.2f} s)"
            f" — limited by {ceil['limited_by']}",
            highlight=False,
        )
    verdict = case.get("verdict", {})
    for members, row in verdict.get("by_members", {}).items():
        parts = [f"connshift, {members} member(s): {row['seconds']:.1f} s to catch-up"]
        if row.get("status") != "ok":
            parts[0] += f" [yellow]({row.get('status')})[/]"
        if "vs_mm2" in row:
            parts.append(
                f"{_fmt(row['vs_mm2'], '.2f')}x MM2's speed, "
                f"{_fmt(row['rss_vs_mm2'], '.0%')} of its peak RSS — target ≥ "
                f"{verdict['target_vs_mm2']}x and less memory: {marks[row.get('met')]}"
            )
        if "speedup_vs_one_member" in row:
            parts.append(f"scale-out {_fmt(row['speedup_vs_one_member'], '.2f')}x one member")
        if "vs_ceiling_steady" in row:
            parts.append(
                f"{_fmt(row['vs_ceiling_steady'], '.0%')} of the raw ceiling steady "
                f"({_fmt(row['vs_ceiling_total'], '.0%')} total)"
            )
        console.print("; ".join(parts), highlight=False, soft_wrap=True)
    for res in case["results"]:
        label = res["contender"] + (f", {res['members']} member(s)" if "members" in res else "")
        seconds = res.get("steady", {}).get("seconds") if res.get("status") == "ok" else None
        if seconds is not None and seconds < PRECISE_POLLS * POLL_INTERVAL:
            console.print(
                f"[yellow]{label}: steady window {seconds:.2f}s (first record to catch-up) is "
                "short against the poll: its steady rate is imprecise[/]",
                highlight=False,
            )
        for rep in res.get("reported_by_member") or (
            [res["reported"]] if "reported" in res else []
        ):
            console.print(
                f"{label} reports {rep.get('records', 0):,} records in "
                f"{rep.get('seconds', 0):.2f}s ({_fmt(rep.get('records_per_second'))} records/s)",
                highlight=False,
            )
        if res.get("status") != "ok":
            why = res.get("error") or res.get("detail") or ""
            console.print(
                f"[yellow]{label}: {res.get('status')}[/] {str(why)[:300]}",
                highlight=False,
            )
    console.print()


# --------------------------------------------------------------------------- validate hook


def run_validate_hook(
    workdir: Path, run_id: str, keep: bool, estate_case: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``bench/validate_scale.py`` (validate's records/s and peak RSS at 1M and 10M records,
    and on an estate against the sync that filled it), when the module exists; absent:
    None, nothing printed.

    The contract, as that module is being written: ``measure(workdir, **options) -> dict``
    and ``render(result)``. Passed when ``measure`` takes them: ``sandbox`` (first, as
    inventory_scale's), ``run_id``, ``keep``, and ``estate_case`` (this run's estate case:
    topics, specs, sync seconds). ``render`` gets ``console`` too when it takes a second
    parameter."""
    try:
        import validate_scale  # type: ignore[import-not-found]
    except ModuleNotFoundError:
        return None
    import inspect

    measure = validate_scale.measure
    params = inspect.signature(measure).parameters
    args: list[Any] = []
    if next(iter(params), None) == "sandbox":
        from connshift.app.sandbox import Sandbox

        args.append(Sandbox())
    (workdir / "validate-scale").mkdir(exist_ok=True)
    args.append(workdir / "validate-scale")
    offered = {"run_id": run_id, "keep": keep, "estate_case": estate_case}
    kwargs = {k: v for k, v in offered.items() if k in params}
    result: dict[str, Any] = measure(*args, **kwargs)
    render = getattr(validate_scale, "render", None)
    if render is not None:
        if len(inspect.signature(render).parameters) >= 2:
            render(result, console)
        else:
            render(result)
    return result


def secured_summary(cases: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The secured case against MM2 and against connshift's own PLAINTEXT figure for the
    same (size, compression) in the same run: CPU per record, net of the idle run (the
    verdict) and gross (whole process)."""
    secured = next((c for c in cases if c.get("security") != "PLAINTEXT"), None)
    if secured is None:
        return None
    plain = next(
        (
            c
            for c in cases
            if c.get("security") == "PLAINTEXT"
            and (c["size"], c["compression"]) == (secured["size"], secured["compression"])
        ),
        None,
    )

    def connshift_cpu(case: dict[str, Any] | None) -> dict[str, Any] | None:
        if case is None:
            return None
        got = [r for r in case["results"] if r["contender"] == "connshift"]
        return got[0].get("cpu") if got and got[0].get("status") == "ok" else None

    tls, clear = connshift_cpu(secured), connshift_cpu(plain)
    out: dict[str, Any] = {
        "case": f"{secured['size']} B, {secured['compression']}",
        "vs_mm2": secured.get("ratios", {}).get("vs_mm2"),
        "cpu": {"plaintext": clear, "sasl_ssl": tls, "target": TARGET_TLS_CPU},
    }
    if plain is None:
        out["cpu"]["note"] = (
            f"no PLAINTEXT {secured['size']} B {secured['compression']} case in this run"
        )
    for key, field_name in (("net", "copy_cpu_us_per_record"), ("gross", "cpu_us_per_record")):
        a = (tls or {}).get(field_name)
        b = (clear or {}).get(field_name)
        value = _ratio(a, b)
        out["cpu"][f"{key}_ratio"] = None if value is None else round(value, 3)
    net = out["cpu"]["net_ratio"]
    out["cpu"]["met"] = None if net is None else net <= TARGET_TLS_CPU
    return out


def render_secured(summary: dict[str, Any]) -> None:
    marks = {True: "[green]met[/]", False: "[red]missed[/]", None: "[yellow]unknown[/]"}
    console.print(f"[bold]secured case ({summary['case']}, SASL_SSL both sides)[/]")
    v = summary.get("vs_mm2")
    if v:
        console.print(
            f"connshift / MM2 over SASL_SSL: {_fmt(v['steady'], '.2f')}x steady "
            f"({_fmt(v['total'], '.2f')}x total) — target ≥ {v['target']}x: {marks[v['met']]}",
            highlight=False,
        )
    cpu = summary["cpu"]
    tls, clear = cpu.get("sasl_ssl") or {}, cpu.get("plaintext") or {}
    console.print(
        "connshift CPU per record, copy only (whole process minus an idle sync's): "
        f"PLAINTEXT {_fmt(clear.get('copy_cpu_us_per_record'), '.2f')} µs, "
        f"SASL_SSL {_fmt(tls.get('copy_cpu_us_per_record'), '.2f')} µs = "
        f"{_fmt(cpu.get('net_ratio'), '.2f')}x — target ≤ {cpu['target']}x: {marks[cpu['met']]}",
        highlight=False,
    )
    console.print(
        "connshift CPU per record, whole process: "
        f"PLAINTEXT {_fmt(clear.get('cpu_us_per_record'), '.2f')} µs "
        f"({_fmt(clear.get('cpu_s'), '.2f')} s, idle {_fmt(clear.get('idle_cpu_s'), '.2f')} s), "
        f"SASL_SSL {_fmt(tls.get('cpu_us_per_record'), '.2f')} µs "
        f"({_fmt(tls.get('cpu_s'), '.2f')} s, idle {_fmt(tls.get('idle_cpu_s'), '.2f')} s) = "
        f"{_fmt(cpu.get('gross_ratio'), '.2f')}x",
        highlight=False,
    )
    if cpu.get("note"):
        console.print(f"[yellow]{cpu['note']}[/]", highlight=False)
    console.print()


def delete_topics(cluster: KafkaCluster, names: Sequence[str], timeout: float = 60.0) -> list[str]:
    """Delete ``names`` in one admin call; what could not be deleted, as messages."""
    if not names:
        return []
    problems = []
    futs = cluster.admin.delete_topics(list(names), operation_timeout=timeout)
    for name, fut in futs.items():
        try:
            fut.result(timeout=timeout + 5)
        except Exception as exc:
            problems.append(f"could not delete {name} on the {cluster.name} cluster: {exc}")
    return problems


def cleanup(src: KafkaCluster, dst: KafkaCluster, created: dict[str, set[str]]) -> list[str]:
    """Delete every topic this run created (that exists); return what could not be."""
    problems = []
    for cluster, names in ((src, created["source"]), (dst, created["destination"])):
        try:
            existing = set(cluster.topics())
        except ConnshiftError as exc:
            problems.append(str(exc))
            continue
        problems += delete_topics(cluster, sorted(names & existing))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    src = KafkaCluster({"bootstrap.servers": opts.source}, name="source")
    dst = KafkaCluster({"bootstrap.servers": opts.destination}, name="destination")
    try:
        src.check_reachable()
        dst.check_reachable()
    except ConnshiftError as exc:
        console.print(f"[red]error:[/] {exc.one_line()}", highlight=False)
        console.print("start the sandbox first: `connshift sandbox up`")
        return 3
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%d%H%M%S")
    created: dict[str, set[str]] = {"source": set(), "destination": set()}
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "run_id": run_id,
        "started": now.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "source": {"bootstrap": opts.source, "version": jars.KAFKA_SOURCE_VERSION},
        "destination": {"bootstrap": opts.destination, "version": jars.KAFKA_DESTINATION_VERSION},
        "settings": {
            "partitions": opts.partitions,
            "records": opts.records,
            "perf_records": opts.perf_records,
            "sizes": opts.sizes,
            "compression": opts.compressions,
            "fill_producer": {k: str(v) for k, v in FILL_PRODUCER.items()},
            "java_producer": JAVA_PRODUCER,
            "poll_interval_s": POLL_INTERVAL,
            "targets": {
                "vs_ceiling": TARGET_VS_CEILING,
                "estate_vs_mm2": TARGET_ESTATE_VS_MM2,
                "vs_mm2": TARGET_VS_MM2,
                "vs_produce_limit": TARGET_VS_PRODUCE_LIMIT,
                "tls_cpu_vs_plaintext": TARGET_TLS_CPU,
            },
            "estate": None
            if opts.estate is None
            else {
                "topics": opts.estate.topics,
                "partitions_per_topic": opts.estate.partitions,
                "records_per_partition": opts.estate.records,
                "size": opts.estate.size,
                "members": list(opts.estate.members),
                "mm2_tasks_max": opts.estate.mm2_tasks,
            },
            "ceiling": None
            if not opts.ceiling
            else {
                "fetch_max_bytes": ceiling_mod.FETCH_MAX_BYTES,
                "fetch_partition_max_bytes": ceiling_mod.FETCH_PARTITION_MAX_BYTES,
                "fetch_depth": ceiling_mod.FETCH_DEPTH,
                "produce_in_flight": ceiling_mod.PRODUCE_IN_FLIGHT,
                "sample_budget_bytes": ceiling_mod.SAMPLE_BUDGET,
            },
            "rss": "VmHWM from /proc/<pid>/status of the process and its descendants, sampled "
            "every 0.1 s (and before a stop)",
            "secured_case": None
            if opts.secured is None
            else {
                "size": SECURED_CASE[0],
                "compression": SECURED_CASE[1],
                **opts.secured.to_json(),
            },
        },
        "cases": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix=f"connshift-bench-{run_id}-"))
    console.print(
        f"bench {run_id}: {opts.partitions} partitions x {opts.records:,} records per case"
        + ("" if opts.partition_cases else " (left out: --only estate)")
        + f"; work files in {workdir}",
        highlight=False,
    )
    code = 0
    try:
        for size in opts.sizes if opts.partition_cases else []:
            for compression in opts.compressions:
                case = run_case(opts, src, dst, size, compression, run_id, workdir, created)
                report["cases"].append(case)
                render_case(case)
        if opts.secured is not None:
            size, compression = SECURED_CASE
            case = run_case(
                opts, src, dst, size, compression, run_id, workdir, created, opts.secured
            )
            report["cases"].append(case)
            render_case(case)
            summary = secured_summary(report["cases"])
            if summary is not None:
                report["secured"] = summary
                render_secured(summary)
        if opts.estate is not None:
            try:
                estate = run_estate(opts, src, dst, run_id, workdir, created)
            except (ConnshiftError, OSError, RuntimeError, KafkaException) as exc:
                report["estate"] = {"status": "failed", "error": str(exc)}
                console.print(f"[red]estate case failed:[/] {exc}", highlight=False)
            else:
                report["estate"] = estate
                render_estate(estate)
        if opts.validate:
            # bench/validate_scale.py (another engineer's): called when it exists
            validated = run_validate_hook(workdir, run_id, opts.keep, report.get("estate"))
            if validated is not None:
                report["validate_scale"] = validated
        if not opts.no_cutover:
            from cutover_pause import measure, render

            from connshift.app.sandbox import Sandbox

            rows = measure(Sandbox(), workdir)
            report["cutover_pause"] = rows
            render(rows, console)
        if not opts.no_inventory:
            from inventory_scale import measure as measure_inventory
            from inventory_scale import render as render_inventory

            from connshift.app.sandbox import Sandbox

            (workdir / "inventory-scale").mkdir(exist_ok=True)
            scale = measure_inventory(Sandbox(), workdir / "inventory-scale")
            report["inventory_scale"] = scale
            render_inventory(scale)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        code = 130
    finally:
        if not opts.keep:
            problems = cleanup(src, dst, created)
            report["cleanup_problems"] = problems
            for p in problems:
                console.print(f"[yellow]cleanup:[/] {p}", highlight=False)
        report["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        report["workdir"] = str(workdir)
        path = opts.results_dir / f"{run_id}.json"
        artifacts.write_json_atomic(path, report)
        console.print(f"results: {path}", highlight=False)
    return code


if __name__ == "__main__":
    sys.exit(main())
