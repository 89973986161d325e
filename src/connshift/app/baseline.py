"""``connshift baseline``: sample an estate's health over a window; ``baseline compare``.

Each interval, for both sides the spec names: connector and task states (Connect REST),
task error and retry counts (the workers' Prometheus JMX exporter at
``connect.metrics_url``; without one, the REST status only), Debezium's
MilliSecondsBehindSource, the lag and state of the consumer groups that read the
migrated topics, the brokers' stored bytes (DescribeLogDirs), and the produce and fetch
latency of one canary record on a scratch topic (``connshift-canary-…``, deleted after).
The aggregation and the regression rules are in :mod:`connshift.core.baseline`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from connshift.app.context import Migration
from connshift.app.rawsecurity import raw_security, raw_unsupported
from connshift.core import baseline as core
from connshift.core.spec import ConnectSpec, Spec
from connshift.errors import ConnshiftError, KafkaError, UsageError
from connshift.io.connect import ConnectClient
from connshift.io.evidence import EvidenceStore
from connshift.io.kafka import (
    OFFSET_END,
    KafkaCluster,
    KafkaConsumer,
    KafkaProducer,
    TopicPartition,
)
from connshift.io.kafka_security import PLAINTEXT, RawSecurity

Reporter = Callable[[str], None]
SIDES = ("source", "destination")
CANARY_PREFIX = "connshift-canary-"


def _client(spec_connect: ConnectSpec, side: str) -> ConnectClient:
    auth = None
    if spec_connect.auth is not None:
        auth = (spec_connect.auth.username, spec_connect.auth.password.get_secret_value())
    return ConnectClient(spec_connect.url, auth=auth, name=side, timeout=5.0)


def scrape(url: str, timeout: float = 5.0) -> core.ExporterReading:
    """One scrape of a JMX exporter endpoint (ConnshiftError-free: raises OSError-like
    ``httpx.HTTPError`` or ``ValueError`` when it cannot)."""
    resp = httpx.get(url, timeout=timeout)
    resp.raise_for_status()
    return core.parse_exporter_text(resp.text)


# --------------------------------------------------------------------------- canary


@dataclass
class Canary:
    """A one-partition scratch topic: one record produced and fetched per sample."""

    cluster: KafkaCluster
    topic: str = field(default_factory=lambda: f"{CANARY_PREFIX}{uuid.uuid4().hex[:12]}")
    producer: KafkaProducer | None = None
    consumer: KafkaConsumer | None = None
    created: bool = False

    def open(self) -> None:
        self.created = self.cluster.create_topic(self.topic, 1, exist_ok=True, timeout=20)
        self.producer = self.cluster.open_producer({"acks": "all", "linger.ms": 0})
        self.consumer = self.cluster.open_consumer(
            {"group.id": self.topic, "fetch.wait.max.ms": 5, "fetch.min.bytes": 1}
        )
        self.consumer.assign([TopicPartition(self.topic, 0, OFFSET_END)])
        self.consumer.poll(0.5)  # join the partition before the first record

    def measure(self, timeout: float = 10.0) -> tuple[float | None, float | None]:
        """(produce ms, fetch ms): produce -> acknowledged (acks=all), and produce ->
        fetched by a consumer at the end of the partition (end to end)."""
        assert self.producer is not None and self.consumer is not None, "open() first"
        marker = uuid.uuid4().hex.encode()
        acked: list[float] = []
        errors: list[str] = []

        def on_delivery(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            acked.append(time.perf_counter())

        start = time.perf_counter()
        self.producer.produce(self.topic, value=marker, partition=0, on_delivery=on_delivery)
        with contextlib.suppress(KafkaError):  # not acknowledged in time: no latency
            self.producer.flush(timeout)
        if errors or not acked:
            return None, None
        produce_ms = (acked[0] - start) * 1000.0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.05)
            if msg is not None and msg.error() is None and msg.value() == marker:
                return produce_ms, (time.perf_counter() - start) * 1000.0
        return produce_ms, None

    def close(self) -> None:
        if self.consumer is not None:
            self.consumer.close()
        if self.producer is not None:
            self.producer.close(5)
        with contextlib.suppress(ConnshiftError):
            self.cluster.delete_topic(self.topic, timeout=20)
        with contextlib.suppress(ConnshiftError):
            self.cluster.delete_groups([self.topic])


# --------------------------------------------------------------------------- one side


@dataclass
class SideProbe:
    """What a sample reads from one side of the spec."""

    name: str
    cluster: KafkaCluster
    topics: set[str]
    connect: ConnectClient | None = None
    metrics_url: str | None = None
    metrics_error: str | None = None
    servers: dict[str, str] = field(default_factory=dict)  # Debezium topic.prefix -> connector
    canary: Canary | None = None
    #: how connshift's raw client reaches this side (None: it cannot; storage is not read)
    raw: RawSecurity | None = PLAINTEXT

    def connectors(self, spec: Spec) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
        """connector -> entry; connector -> source lag ms."""
        if self.connect is None:
            return {}, {}
        reading: core.ExporterReading | None = None
        if self.metrics_url:
            try:
                reading = scrape(self.metrics_url)
                self.metrics_error = None
            except (httpx.HTTPError, ValueError) as exc:
                self.metrics_error = f"{type(exc).__name__}: {exc}"[:200]
        out: dict[str, dict[str, Any]] = {}
        for name in self.connect.connectors():
            if not spec.connectors.selects(name):
                continue
            try:
                st = self.connect.status(name)
            except ConnshiftError:
                continue
            if name not in self.servers.values():
                try:
                    cfg = self.connect.connector_config(name)
                except ConnshiftError:
                    cfg = {}
                server = cfg.get("topic.prefix") or cfg.get("database.server.name")
                if server:
                    self.servers[server] = name
            entry: dict[str, Any] = {
                "side": self.name,
                "state": st.state,
                "tasks": len(st.tasks),
                "tasks_running": sum(1 for t in st.tasks if t.state == "RUNNING"),
                "tasks_failed": len(st.failed_tasks),
                "task_errors": None,
                "task_retries": None,
            }
            if reading is not None:
                entry["task_errors"] = reading.errors.get(name, 0.0)
                entry["task_retries"] = reading.retries.get(name, 0.0)
            out[name] = entry
        lag: dict[str, float] = {}
        if reading is not None:
            for server, ms in reading.behind_ms.items():
                connector = self.servers.get(server)
                if connector is not None and connector in out:
                    lag[connector] = ms
        return out, lag

    @property
    def metrics_source(self) -> str:
        return "jmx" if self.metrics_url and self.metrics_error is None else "rest"

    def groups(self) -> dict[str, dict[str, Any]]:
        """group -> {lag, state, members} for groups with offsets on this side's topics."""
        out: dict[str, dict[str, Any]] = {}
        ends: dict[str, dict[int, int]] = {}
        for group in self.cluster.groups():
            if group.startswith(CANARY_PREFIX):
                continue
            try:
                offsets = {
                    tp: o
                    for tp, o in self.cluster.group_offsets(group).items()
                    if tp[0] in self.topics
                }
                if not offsets:
                    continue
                lag = 0
                for (topic, part), committed in offsets.items():
                    if topic not in ends:
                        parts = self.cluster.topics().get(topic)
                        n = parts.partitions if parts else 0
                        listed = self.cluster.list_offsets(topic, dict.fromkeys(range(n), "latest"))
                        ends[topic] = {p: off for p, (off, _ts) in listed.items()}
                    lag += max(ends[topic].get(part, committed) - committed, 0)
                state, members = self.cluster.group_state(group)
            except ConnshiftError:
                continue
            out[group] = {"lag": lag, "state": state.title(), "members": members}
        return out

    def storage(self) -> int | None:
        """Bytes the brokers store (every partition of every log dir), or None."""
        if self.raw is None:
            return None
        from connshift.io.kafka_raw import RawClient

        try:
            with RawClient(
                self.cluster.bootstrap, timeout=10.0, name=self.name, security=self.raw
            ) as raw:
                answers = raw.describe_log_dirs(None)
        except (ConnshiftError, OSError):
            self.raw = None
            return None
        return sum(
            size
            for _err, dirs in answers.values()
            for d in dirs
            for size, _lag, future in d.partitions.values()
            if not future
        )


# --------------------------------------------------------------------------- sampling


def _sides(migration: Migration) -> list[SideProbe]:
    spec, src, dst = migration.spec, migration.src, migration.dst
    src_topics = {t for t in src.topics() if spec.topics.selects(t)}
    dst_topics = {spec.topics.destination_name(t) for t in src_topics}
    out = []
    for name, cluster, topics in (("source", src, src_topics), ("destination", dst, dst_topics)):
        side_spec = getattr(spec, name)
        connect = _client(side_spec.connect, name) if side_spec.connect else None
        metrics = side_spec.connect.metrics_url if side_spec.connect else None
        out.append(SideProbe(name, cluster, topics, connect, metrics, raw=spec_raw(spec, name)))
    return out


def spec_raw(spec: Spec, side: str) -> RawSecurity | None:
    """How connshift's raw client reaches ``side`` of the spec (None: it cannot)."""
    kafka = getattr(spec, side).kafka
    return raw_security(kafka) if raw_unsupported(kafka) is None else None


def sample_once(spec: Spec, sides: list[SideProbe], t: float) -> dict[str, Any]:
    """One sample across both sides (see :mod:`connshift.core.baseline` for its shape)."""
    connectors: dict[str, dict[str, dict[str, Any]]] = {}
    source_lag: dict[str, float] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    storage: dict[str, int] = {}
    produce: dict[str, float] = {}
    fetch: dict[str, float] = {}
    for side in sides:
        try:
            found, lag = side.connectors(spec)
        except ConnshiftError:
            found, lag = {}, {}
        for name, entry in found.items():
            connectors.setdefault(name, {})[side.name] = entry
        source_lag.update(lag)
        try:
            for group, g in side.groups().items():
                groups.setdefault(group, {})[side.name] = g
        except ConnshiftError:
            pass
        size = side.storage()
        if size is not None:
            storage[side.name] = size
        if side.canary is not None:
            p_ms, f_ms = side.canary.measure()
            if p_ms is not None:
                produce[side.name] = round(p_ms, 3)
            if f_ms is not None:
                fetch[side.name] = round(f_ms, 3)
    live = {name: dict(core.pick_live(entries)[1]) for name, entries in connectors.items()}
    picked = {group: core.pick_group(entries) for group, entries in groups.items()}
    return {
        "t": round(t, 3),
        "connectors": live,
        "group_lag": {g: int(e["lag"]) for g, (_s, e) in picked.items()},
        "groups": {g: e["state"] for g, (_s, e) in picked.items()},
        "group_members": {g: int(e["members"]) for g, (_s, e) in picked.items()},
        "group_sides": {g: s for g, (s, _e) in picked.items()},
        "source_lag_ms": source_lag,
        "storage_bytes": storage,
        "produce_ms": produce,
        "fetch_ms": fetch,
    }


def run_baseline(
    migration: Migration,
    label: str,
    *,
    duration: float = 60.0,
    interval: float = 5.0,
    report: Reporter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    record: bool = True,
) -> dict[str, Any]:
    """Sample for ``duration`` seconds every ``interval`` seconds; the baseline document,
    recorded as ``baseline-<label>`` evidence."""
    spec = migration.spec
    report = report or (lambda _m: None)
    if interval <= 0 or duration <= 0:
        raise UsageError("--duration and --interval must be more than zero")
    if interval > duration:
        raise UsageError(
            f"--interval {interval:g}s is longer than --duration {duration:g}s",
            fix="pick an interval shorter than the window",
        )
    sides = _sides(migration)
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    samples: list[dict[str, Any]] = []
    canaries: list[Canary] = []
    try:
        for side in sides:
            canary = Canary(side.cluster)
            canaries.append(canary)
            try:
                canary.open()
                side.canary = canary
            except ConnshiftError as exc:
                report(f"{side.name}: no canary ({exc.one_line()})")
        begin = time.monotonic()
        k = 0
        while True:
            t = time.monotonic() - begin
            sample = sample_once(spec, sides, t)
            samples.append(sample)
            report(
                f"sample {k + 1} at {t:.0f}s: {len(sample['connectors'])} connector(s), "
                f"{len(sample['groups'])} group(s)"
            )
            k += 1
            next_t = k * interval
            if next_t > duration + 1e-9:
                break
            delay = begin + next_t - time.monotonic()
            if delay > 0:
                sleep(delay)
    finally:
        for canary in canaries:
            canary.close()
        for side in sides:
            if side.connect is not None:
                side.connect.close()
    out = {
        "schema": core.SCHEMA,
        "label": label,
        "started_at": started_at,
        "duration_seconds": duration,
        "interval_seconds": interval,
        "metrics_source": {s.name: s.metrics_source for s in sides},
        "metrics_url": {s.name: s.metrics_url for s in sides},
        "metrics_error": {s.name: s.metrics_error for s in sides if s.metrics_error},
        "canary_topics": {s.name: s.canary.topic for s in sides if s.canary is not None},
        "samples": samples,
        "summary": core.summarize(samples),
    }
    if record:
        migration.record(f"baseline-{label}", out)
    return out


# --------------------------------------------------------------------------- compare


def tolerances(spec: Spec) -> core.Tolerances:
    """Defaults, tightened or loosened by the criteria the spec declares."""
    criteria = spec.readiness.criteria
    kwargs: dict[str, float] = {}
    if criteria.max_lag_records is not None:
        kwargs["lag_records"] = float(criteria.max_lag_records)
    if criteria.max_lag_seconds is not None:
        kwargs["source_lag_ms"] = float(criteria.max_lag_seconds) * 1000.0
    return core.Tolerances(**kwargs)


def load_baseline(spec: Spec, label: str) -> Mapping[str, Any]:
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    found = store.load(f"baseline-{label}")
    if found is None:
        raise UsageError(
            f"no baseline labelled {label!r} in {store.root}",
            fix=f"run `connshift baseline -c SPEC --label {label}` first",
        )
    return found.data


def compare_baselines(
    migration: Migration, before: str, after: str, *, record: bool = True
) -> dict[str, Any]:
    """The ``connshift.baseline-compare/1`` document for two recorded labels, recorded as
    ``baseline-compare`` evidence."""
    spec = migration.spec
    b, a = load_baseline(spec, before), load_baseline(spec, after)
    tol = tolerances(spec)
    regs = core.compare(b.get("summary", {}), a.get("summary", {}), tol)
    out = core.compare_json(before, after, regs, tol)
    out["metrics_source"] = {
        "before": b.get("metrics_source"),
        "after": a.get("metrics_source"),
    }
    if record:
        migration.record("baseline-compare", out)
    return out
