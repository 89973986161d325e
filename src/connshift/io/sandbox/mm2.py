"""MirrorMaker 2 in dedicated mode: the baseline connshift is measured against.

``org.apache.kafka.connect.mirror.MirrorMaker mm2.properties`` runs one Connect herder per
replication flow inside a single JVM. We run one flow, ``src->dst``, from the source Kafka
version's jars (connect-mirror 4.4.0 is not served by the registry reachable here; a
dedicated MM2 is its own process, so its version is independent of both clusters').

The configuration keys come from Apache Kafka's ``MirrorMakerConfig``, ``MirrorSourceConfig``,
``MirrorCheckpointConfig`` and ``MirrorConnectorConfig``. How MM2 routes them:

* ``<alias>.bootstrap.servers`` — a cluster's connection;
* ``<src>-><dst>.<key>`` — connector settings of that flow (``enabled``, ``topics``,
  ``groups``); top-level keys that a Mirror connector defines (``tasks.max``,
  ``replication.factor``, ``emit.checkpoints.*``, ``sync.group.offsets.*``...) apply to
  every flow;
* ``<dst>.producer.*`` — the Connect worker's producer, which source tasks use to write
  to the target; ``<dst>.<worker key>`` — any worker setting (``group.id``...);
* ``<src>.consumer.*`` — the consumer each ``MirrorSourceTask`` reads the source with;
* ``offset.storage.*``, ``config.storage.*``, ``status.storage.*`` — the worker's internal
  topics (on the target cluster).

Internal topics MM2 creates: the three Connect storage topics on the target (named
``mm2it.<name>.{offsets,configs,status}`` here, so that two instances never share a worker
group or state), ``<src>.checkpoints.internal`` on the target and
``mm2-offset-syncs.<dst>.internal`` on the source, and ``heartbeats`` on the target (created
even with heartbeats disabled) — fixed names, shared by every MM2 that uses the same cluster
aliases.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from connshift.errors import KafkaError, SandboxError
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox import jars, procs
from connshift.io.sandbox.services import _java_cmd

MAIN_CLASS = "org.apache.kafka.connect.mirror.MirrorMaker"
IDENTITY_POLICY = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"

#: JVM options of Kafka's own launch scripts (``kafka-run-class.sh``), so MM2 runs as
#: ``connect-mirror-maker.sh`` would run it.
JVM_PERFORMANCE_OPTS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)

#: Client tuning applied unless ``extra`` overrides it (see bench/README.md for why).
#: Connect's worker producer defaults to one request in flight per connection; with the
#: idempotent producer, five keep per-partition order and are what a tuned MM2 runs with.
DEFAULT_TUNING: dict[str, str] = {
    "{dst}.producer.acks": "all",
    "{dst}.producer.enable.idempotence": "true",
    "{dst}.producer.max.in.flight.requests.per.connection": "5",
    "{dst}.producer.linger.ms": "10",
    "{dst}.producer.batch.size": "262144",
    "{dst}.producer.buffer.memory": "67108864",
    "{src}.consumer.max.poll.records": "2000",
    "{src}.consumer.max.partition.fetch.bytes": "2097152",
    "{src}.consumer.fetch.max.bytes": "52428800",
}

_NAME_OK = re.compile(r"[^A-Za-z0-9_-]+")


def props_text(values: Mapping[str, str]) -> str:
    """Java ``.properties`` text: ``:``/``=``/spaces in keys and backslashes escaped."""

    def esc_key(key: str) -> str:
        return key.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=").replace(" ", "\\ ")

    def esc_value(value: str) -> str:
        return value.replace("\\", "\\\\")

    lines = ["# MirrorMaker 2 (dedicated mode), written by connshift"]
    lines += [f"{esc_key(k)}={esc_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def _default_name(workdir: Path) -> str:
    return _NAME_OK.sub("-", workdir.name).strip("-") or "mm2"


class MirrorMaker2:
    """One dedicated-mode MirrorMaker 2 replicating ``topics_regex`` from source to target.

    Topic names are kept (``IdentityReplicationPolicy``); every internal topic has
    replication factor 1; heartbeats are off; checkpoints and (optionally) consumer-group
    offset sync run every second. ``extra`` keys are written last and override anything,
    including :data:`DEFAULT_TUNING`. ``topics_regex``/``groups_regex`` are MM2 lists:
    comma-separated regexes, each matching a whole name.

    Use as a context manager (``with MirrorMaker2(...) as mm2:``) or call :meth:`start` and
    :meth:`stop`. Files (``mm2.properties``, ``mm2.log``) live in ``workdir``.
    """

    def __init__(
        self,
        workdir: Path,
        source_bootstrap: str,
        target_bootstrap: str,
        topics_regex: str,
        groups_regex: str = ".*",
        *,
        tasks_max: int = 1,
        sync_group_offsets: bool = True,
        extra: Mapping[str, object] | None = None,
        name: str | None = None,
        source_alias: str = "src",
        target_alias: str = "dst",
        heap: str = "1g",
        dist: jars.KafkaDist | None = None,
    ) -> None:
        if tasks_max < 1:
            raise ValueError("tasks_max must be at least 1")
        self.workdir = Path(workdir)
        self.source_bootstrap = source_bootstrap
        self.target_bootstrap = target_bootstrap
        self.topics_regex = topics_regex
        self.groups_regex = groups_regex
        self.tasks_max = tasks_max
        self.sync_group_offsets = sync_group_offsets
        self.extra = {k: str(v) for k, v in (extra or {}).items()}
        self.name = name or _default_name(self.workdir)
        self.src = source_alias
        self.dst = target_alias
        self.heap = heap
        self.dist = dist
        self.record: procs.ProcRecord | None = None
        self.started_at: float | None = None  # time.monotonic() when the JVM was started

    # ------------------------------------------------------------------ configuration
    @property
    def properties(self) -> Path:
        return self.workdir / "mm2.properties"

    @property
    def log(self) -> Path:
        return self.workdir / "mm2.log"

    @property
    def flow(self) -> str:
        return f"{self.src}->{self.dst}"

    def storage_topics(self) -> dict[str, str]:
        """The Connect worker's internal topics (on the target), by role."""
        return {
            "offset": f"mm2it.{self.name}.offsets",
            "config": f"mm2it.{self.name}.configs",
            "status": f"mm2it.{self.name}.status",
        }

    def internal_topics(self, *, shared: bool = False) -> dict[str, list[str]]:
        """Topics this MM2 creates, keyed ``source``/``target``.

        Without ``shared`` only the topics no other MM2 uses (the storage topics); with it
        also the checkpoints and offset-syncs topics, whose names depend only on the
        cluster aliases.
        """
        out: dict[str, list[str]] = {"source": [], "target": list(self.storage_topics().values())}
        if shared:
            # MirrorHeartbeatConnector creates "heartbeats" even with heartbeats disabled
            out["target"] += [f"{self.src}.checkpoints.internal", "heartbeats"]
            location = self.extra.get("offset-syncs.topic.location", "source")
            side = "target" if location == "target" else "source"
            other = self.src if side == "target" else self.dst
            out[side].append(f"mm2-offset-syncs.{other}.internal")
        return out

    def config(self) -> dict[str, str]:
        """The ``mm2.properties`` entries, in the order they are written (pure)."""
        src, dst, flow = self.src, self.dst, self.flow
        storage = self.storage_topics()
        cfg: dict[str, str] = {
            "clusters": f"{src},{dst}",
            f"{src}.bootstrap.servers": self.source_bootstrap,
            f"{dst}.bootstrap.servers": self.target_bootstrap,
            f"{flow}.enabled": "true",
            f"{dst}->{src}.enabled": "false",
            f"{flow}.topics": self.topics_regex,
            f"{flow}.groups": self.groups_regex,
            "replication.policy.class": IDENTITY_POLICY,
            "tasks.max": str(self.tasks_max),
            # replication factor 1 for every topic MM2 creates
            "replication.factor": "1",
            "checkpoints.topic.replication.factor": "1",
            "heartbeats.topic.replication.factor": "1",
            "offset-syncs.topic.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "config.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.topic": storage["offset"],
            "config.storage.topic": storage["config"],
            "status.storage.topic": storage["status"],
            f"{dst}.group.id": f"mm2it.{self.name}",
            # heartbeats off: no heartbeat flow, so nothing is written back to the source
            "emit.heartbeats.enabled": "false",
            "emit.checkpoints.enabled": "true",
            "emit.checkpoints.interval.seconds": "1",
            "sync.group.offsets.enabled": "true" if self.sync_group_offsets else "false",
            "sync.group.offsets.interval.seconds": "1",
            "refresh.topics.interval.seconds": "2",
            "refresh.groups.interval.seconds": "2",
            # the sandbox brokers run no authorizer: describing ACLs only logs errors
            "sync.topic.acls.enabled": "false",
            # every Mirror plugin has a ServiceLoader manifest: skip the ~2.5 s classpath scan
            # (top level for MirrorMakerConfig's own plugin loader, <dst>. for the worker's)
            "plugin.discovery": "service_load",
            f"{dst}.plugin.discovery": "service_load",
        }
        for key, value in DEFAULT_TUNING.items():
            cfg[key.format(src=src, dst=dst)] = value
        cfg.update(self.extra)
        return cfg

    def write_config(self) -> Path:
        """Write ``mm2.properties`` into ``workdir`` and return its path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(props_text(self.config()))
        return self.properties

    def command(self) -> list[str]:
        """The ``java`` command line (fetches the source version's jars once)."""
        if self.dist is None:
            self.dist = jars.fetch(jars.KAFKA_SOURCE_VERSION)
        cmd = _java_cmd(self.dist, MAIN_CLASS, str(self.properties), heap=self.heap)
        return [cmd[0], *JVM_PERFORMANCE_OPTS, *cmd[1:]]

    # ------------------------------------------------------------------ process
    def start(self) -> procs.ProcRecord:
        """Write the configuration and start the JVM (detached); output goes to ``mm2.log``."""
        if self.is_running():
            raise SandboxError(
                "MirrorMaker 2 is already running",
                why=f"pid {self.record.pid if self.record else '?'}",
                fix="stop it first",
            )
        self.write_config()
        cmd = self.command()
        self.started_at = time.monotonic()
        self.record = procs.start(
            "mirrormaker2", cmd, log=self.log, marker=str(self.properties), cwd=self.workdir
        )
        return self.record

    def is_running(self) -> bool:
        """True while the JVM this object started runs."""
        return self.record is not None and procs.is_alive(self.record)

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (MM2 shuts its herders down cleanly), SIGKILL after ``timeout``."""
        if self.record is None:
            return False
        return procs.stop(self.record, timeout=timeout)

    def peak_rss_bytes(self) -> int | None:
        """The JVM's peak resident set size (``VmHWM``), or None when it is not running."""
        if not self.is_running() or self.record is None:
            return None
        return _proc_status_kb(self.record.pid, "VmHWM") * 1024

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the JVM used so far, or None when it is not running."""
        if not self.is_running() or self.record is None:
            return None
        return _proc_cpu_seconds(self.record.pid)

    def log_tail(self, lines: int = 5) -> str:
        return procs.log_tail(self.log, lines)

    def __enter__(self) -> MirrorMaker2:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- /proc


def _proc_status_kb(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _proc_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    # after "pid (comm)": state is field 0, utime 11, stime 12 (clock ticks)
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- waiting


@dataclass
class MirrorProgress:
    """What :func:`wait_until_mirrored` saw. Times are ``time.monotonic()`` values."""

    started_at: float
    first_record_at: float | None = None
    #: records already on the target (all partitions) when the first one was seen: a rate
    #: over ``first_record_at..done_at`` should count only the records copied after it
    copied_at_first: int = 0
    done_at: float | None = None
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    polls: int = 0

    @property
    def done(self) -> bool:
        return self.done_at is not None

    def overshoot(self, expected: Mapping[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        """Partitions whose end offset passed the expected one (duplicates), by how much."""
        return {
            tp: self.offsets.get(tp, 0) - end
            for tp, end in expected.items()
            if self.offsets.get(tp, 0) > end
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "first_record_after_s": (
                None if self.first_record_at is None else self.first_record_at - self.started_at
            ),
            "copied_at_first": self.copied_at_first,
            "done_after_s": None if self.done_at is None else self.done_at - self.started_at,
            "polls": self.polls,
            "offsets": {f"{t}[{p}]": o for (t, p), o in sorted(self.offsets.items())},
        }


def wait_until_mirrored(
    target: KafkaCluster,
    expected: Mapping[tuple[str, int], int],
    timeout: float,
    *,
    interval: float = 0.05,
    started_at: float | None = None,
    alive: Callable[[], bool] | None = None,
) -> MirrorProgress:
    """Poll the target's high watermarks until every ``(topic, partition)`` reaches its
    expected end offset.

    Records when the first record showed up anywhere (``first_record_at``) and when the
    last partition caught up (``done_at``). ``started_at`` (a ``time.monotonic()`` value,
    default now) is the origin of :meth:`MirrorProgress.to_json`'s durations. Raises
    :class:`SandboxError` on timeout, or as soon as ``alive()`` says the copier died.
    """
    progress = MirrorProgress(started_at=time.monotonic() if started_at is None else started_at)
    pending = {tp: end for tp, end in expected.items()}
    topics = {t for t, _ in pending}
    present: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        progress.polls += 1
        if present != topics:
            present = topics & set(target.topics())
        for (topic, partition), end in list(pending.items()):
            if topic not in present:
                continue
            try:
                _, high = target.watermarks(topic, partition)
            except KafkaError:
                continue  # created but not yet led: ask again next round
            progress.offsets[(topic, partition)] = high
            if high >= end:
                del pending[(topic, partition)]
        if progress.first_record_at is None and any(progress.offsets.values()):
            progress.first_record_at = time.monotonic()
            progress.copied_at_first = sum(progress.offsets.values())
        if not pending:
            progress.done_at = time.monotonic()
            if progress.first_record_at is None:  # nothing to copy
                progress.first_record_at = progress.done_at
            return progress
        if alive is not None and not alive():
            raise SandboxError(
                "the copier exited before the target caught up",
                why=f"{len(pending)} partition(s) behind, e.g. {_behind(pending, progress)}",
            )
        if time.monotonic() > deadline:
            raise SandboxError(
                f"the target did not catch up within {timeout:.0f}s",
                why=f"{len(pending)} partition(s) behind, e.g. {_behind(pending, progress)}",
            )
        time.sleep(interval)


def _behind(pending: Mapping[tuple[str, int], int], progress: MirrorProgress) -> str:
    (topic, partition), end = next(iter(pending.items()))
    have = progress.offsets.get((topic, partition), 0)
    return f"{topic}[{partition}] at {have} of {end}"
