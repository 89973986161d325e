"""``connshift probe``: the Kafka-API contract a migration relies on, checked on a cluster.

Every check runs on scratch topics under a prefix of its own (``connshift-probe-<id>-``),
with short timeouts, and yields a :class:`~connshift.core.checks.CheckResult`: PASS, FAIL or
SKIP with its evidence — what was sent, what was observed, and the error text the client saw.
A cluster refusing a request makes that check FAIL; it never ends the run. At the end (always,
in a ``finally``) every topic and group with the prefix is deleted, and the ACL the probe
created; what could not be deleted is reported in ``cleanup``.

Decisions worth knowing:

* ``compaction.honoured`` waits at most ``compaction_wait`` seconds (20 by default) for the
  log cleaner, with ``segment.ms`` and ``min.cleanable.dirty.ratio`` set small and a record
  appended every second so the written segment closes. Compaction is asynchronous and a
  cluster may legitimately run its cleaner later, so *not observed within the bound* is a SKIP
  (with what was seen), never a PASS; a compaction that drops or changes the latest record
  of a key is a FAIL. Apache Kafka with ``log.cleaner.backoff.ms=1000`` (the sandbox) passes.
* ``logdirs.describe`` and ``producers.describe`` use connshift's raw client
  (:mod:`connshift.io.kafka_raw`): librdkafka exposes neither DescribeLogDirs nor
  DescribeProducers. The raw client speaks PLAINTEXT only: on TLS/SASL clusters both SKIP.
  A broker that does not list the API in ApiVersions FAILs them.
* ``topics.auto-create`` FAILs when producing to a missing topic does not create it and the
  estate's connectors rely on it, or when no inventory says whether they do; with an
  inventory and no connector relying on it, it SKIPs.
* ``configs.rejected-keys`` FAILs when a config of
  :data:`~connshift.core.probe.COMMON_TOPIC_CONFIGS` is refused, or when the cluster does not
  honour ``validate_only`` (the topic appears: its answers prove nothing); the configs Kafka
  4.0 removed are asked too and only reported (``legacy_rejected``).
* ``acls.api`` creates one ACL for a scratch principal on a scratch topic only when
  ApiVersions lists DescribeAcls, CreateAcls *and* DeleteAcls: the probe never creates what
  it cannot delete (and librdkafka 2.16 aborts the process on tansu 0.6's CreateAcls answer).
  A cluster without an authorizer (SECURITY_DISABLED) SKIPs it.
* A native crash of librdkafka (an assertion) would end the process before the cleanup:
  rerunning the probe does not remove an earlier run's topics; they all start with
  ``connshift-probe-``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from connshift.core.acls import Acl
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import (
    CHECKS,
    COMMON_TOPIC_CONFIGS,
    CONNECT_INTERNAL_TOPICS,
    CREATE_TIME,
    LEGACY_TOPIC_CONFIGS,
    LOG_APPEND_TIME,
    SCHEMA,
    ProbeResult,
    compaction_view,
    connector_needs,
    record_differences,
)
from connshift.core.recordbatch import Rec, encode_batch
from connshift.core.spec import Spec
from connshift.errors import ConnshiftError, KafkaError, UsageError
from connshift.io.kafka import Delivery, KafkaCluster, OutRecord, Record
from connshift.io.kafka_raw import (
    DESCRIBE_LOG_DIRS_KEY,
    DESCRIBE_LOG_DIRS_VERSION,
    DESCRIBE_PRODUCERS_KEY,
    DESCRIBE_PRODUCERS_VERSION,
    RawClient,
    error_name,
)

__all__ = ["SCHEMA", "ProbeOptions", "ProbeResult", "probe", "probe_cluster"]

Reporter = Callable[[str], None]

PREFIX = "connshift-probe-"

#: API key -> name of the ACL APIs: all three are needed to create and remove an ACL
ACL_APIS = {29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls"}


@dataclass(frozen=True)
class ProbeOptions:
    """Bounds of one probe run, in seconds."""

    op_timeout: float = 10.0
    compaction_wait: float = 20.0
    group_timeout: float = 20.0
    cleanup_timeout: float = 20.0


def probe(
    spec: Spec,
    side: str = "destination",
    *,
    inventory: Mapping[str, Any] | None = None,
    options: ProbeOptions | None = None,
    report: Reporter | None = None,
) -> ProbeResult:
    """Run every contract check against the spec's ``side`` ("destination" or "source").

    ``inventory`` (an ``inventory.json``) says which checks the estate relies on. Raises
    :class:`~connshift.errors.KafkaError` (exit 3) when the cluster cannot be reached at all;
    every other refusal is a FAIL in the result.
    """
    if side not in ("destination", "source"):
        raise UsageError(f"unknown side {side!r}", fix="use destination or source")
    kafka = getattr(spec, side).kafka
    cluster = KafkaCluster(kafka.client_config(), name=side)
    return probe_cluster(
        cluster,
        side=side,
        plaintext=kafka.security_protocol == "PLAINTEXT",
        inventory=inventory,
        options=options,
        report=report,
    )


def probe_cluster(
    cluster: KafkaCluster,
    *,
    side: str = "destination",
    plaintext: bool = True,
    inventory: Mapping[str, Any] | None = None,
    options: ProbeOptions | None = None,
    report: Reporter | None = None,
) -> ProbeResult:
    """Run every contract check against ``cluster`` (see :func:`probe`).

    ``plaintext`` says whether connshift's raw client may speak to it (PLAINTEXT listeners).
    """
    opts = options or ProbeOptions()
    say = report or (lambda _msg: None)
    started = time.monotonic()
    info = cluster.check_reachable(timeout=opts.op_timeout)  # KafkaError: exit 3
    result = ProbeResult(
        side=side,
        bootstrap=cluster.bootstrap,
        prefix=f"{PREFIX}{uuid.uuid4().hex[:8]}-",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cluster_id=info.cluster_id,
        brokers=len(info.brokers),
        needs=connector_needs(inventory),
    )
    api_keys = None
    if plaintext:
        result.kafka_version, api_keys = _kafka_version(cluster.bootstrap, opts.op_timeout)
    run = _Probe(
        cluster,
        result,
        opts,
        say,
        plaintext=plaintext,
        controller=info.controller_id,
        api_keys=api_keys,
    )
    try:
        for check_id, _what in CHECKS:
            say(f"{check_id} …")
            t0 = time.monotonic()
            check = run.run_one(check_id)
            result.timings[check_id] = time.monotonic() - t0
            result.checks.append(check)
            say(f"{check_id}: {check.status} — {check.summary}")
    finally:
        say(f"cleaning up {result.prefix}*")
        result.cleanup = run.cleanup()
        result.seconds = time.monotonic() - started
    return result


def _kafka_version(
    bootstrap: str, timeout: float
) -> tuple[str | None, dict[int, tuple[int, int]] | None]:
    """The release ApiVersions suggests, and the API version ranges it lists."""
    from connshift.core.versions import infer_kafka_version
    from connshift.io.kafka_wire import api_versions

    try:
        av = api_versions(bootstrap, timeout=timeout)
    except ConnshiftError:
        return None, None
    ver = infer_kafka_version(av.api_keys, av.finalized_features)
    return ver.release or ver.basis, dict(av.api_keys)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ConnshiftError):
        return f"{exc.what}: {exc.why}" if exc.why else exc.what
    return f"{type(exc).__name__}: {exc}"


def _refused(check_id: str, subject: str, exc: ConnshiftError, **evidence: Any) -> CheckResult:
    why = exc.why or exc.what
    return CheckResult(
        check_id,
        Status.FAIL,
        subject,
        f"refused: {why}",
        {**evidence, "error": _error_text(exc)},
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


def _delivered(deliveries: list[Delivery]) -> list[str]:
    """The errors among ``deliveries`` (empty when every record was delivered)."""
    return [f"record {i}: {d.error}" for i, d in enumerate(deliveries) if d.error is not None]


def _records_refused(
    cid: str, subject: str, errors: list[str], evidence: dict[str, Any]
) -> CheckResult:
    """The FAIL of a check whose test records the cluster refused (first error shown)."""
    return CheckResult(
        cid, Status.FAIL, subject, "records were refused", {**evidence, "error": errors[0]}
    )


class _Probe:
    """One probe run: the checks as methods, the scratch names they share, the cleanup."""

    def __init__(
        self,
        cluster: KafkaCluster,
        result: ProbeResult,
        options: ProbeOptions,
        report: Reporter,
        *,
        plaintext: bool,
        controller: int | None,
        api_keys: Mapping[int, tuple[int, int]] | None = None,
    ) -> None:
        self.cluster = cluster
        self.result = result
        self.prefix = result.prefix
        self.opts = options
        self.report = report
        self.plaintext = plaintext
        self.controller = controller
        #: the API version ranges the bootstrap broker lists (None: not asked, not PLAINTEXT)
        self.api_keys = api_keys
        self.acls_created: list[Acl] = []
        #: topics later checks reuse: role -> name (set when the topic exists with records)
        self.topics: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def name(self, role: str) -> str:
        return f"{self.prefix}{role}"

    def make_topic(
        self, role: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> str:
        name = self.name(role)
        self.cluster.create_topic(
            name,
            partitions,
            replication_factor=-1,
            config=config,
            exist_ok=False,
            timeout=self.opts.op_timeout,
        )
        return name

    def read(self, topic: str, partition: int = 0, **kwargs: Any) -> list[Record]:
        return list(self.cluster.read(topic, partition, timeout=self.opts.op_timeout, **kwargs))

    def run_one(self, check_id: str) -> CheckResult:
        """Run one check; a refusal or an unforeseen answer is a FAIL, never an exception."""
        method = getattr(self, "check_" + check_id.replace(".", "_").replace("-", "_"))
        subject = self.cluster.bootstrap
        try:
            result: CheckResult = method()
            return result
        except ConnshiftError as exc:
            return _refused(check_id, subject, exc)
        except Exception as exc:  # an answer we did not foresee must not end the probe
            return CheckResult(
                check_id,
                Status.FAIL,
                subject,
                f"unexpected {type(exc).__name__} while checking: {exc}",
                {"error": _error_text(exc), "unexpected": True},
            )

    def _with_needs(self, check: CheckResult) -> CheckResult:
        needs = self.result.needs
        if not needs or check.id not in needs:
            return check
        return CheckResult(
            check.id,
            check.status,
            check.subject,
            check.summary,
            {**check.evidence, "needed_by": needs[check.id]},
        )

    # ------------------------------------------------------------------ records
    def check_produce_keys_headers_nulls(self) -> CheckResult:
        cid = "produce.keys-headers-nulls"
        topic = self.make_topic("records")
        sent = [
            OutRecord(b"k1", b"v1", [("h", b"a"), ("h", b"b"), ("h-null", None), ("h-empty", b"")]),
            OutRecord(b"k2", None),
            OutRecord(None, b"no key"),
            OutRecord(b"", b""),
            OutRecord(b"\x00\xff", bytes(range(256)), [("bin", bytes(range(256)))]),
        ]
        deliveries = self.cluster.deliver(topic, sent, timeout=self.opts.op_timeout)
        errors = _delivered(deliveries)
        evidence: dict[str, Any] = {
            "topic": topic,
            "sent": [
                "key k1, value v1, headers h=a, h=b, h-null=null, h-empty=''",
                "key k2, null value (tombstone)",
                "null key, value 'no key'",
                "empty key, empty value",
                "binary key, 256-byte binary value and header",
            ],
        }
        if errors:
            return _records_refused(cid, topic, errors, evidence)
        got = self.read(topic)
        diffs = record_differences(
            [(r.key, r.value, r.headers or []) for r in sent],
            [(r.key, r.value, r.headers) for r in got],
        )
        evidence["offsets"] = [r.offset for r in got]
        if diffs:
            return CheckResult(
                cid,
                Status.FAIL,
                topic,
                f"{len(diffs)} difference(s) reading back what was sent",
                {**evidence, "differences": diffs[:10]},
            )
        self.topics["records"] = topic
        return CheckResult(
            cid, Status.PASS, topic, f"{len(sent)} records read back identical", evidence
        )

    def check_timestamps_create_time(self) -> CheckResult:
        cid = "timestamps.create-time"
        topic = self.make_topic("create-time")
        ts = _now_ms() - 3_600_000
        sent = [OutRecord(b"a", b"1", timestamp=ts), OutRecord(b"b", b"2", timestamp=ts + 1)]
        errors = _delivered(self.cluster.deliver(topic, sent, timeout=self.opts.op_timeout))
        evidence: dict[str, Any] = {"topic": topic, "sent_timestamps": [ts, ts + 1]}
        if errors:
            return _records_refused(cid, topic, errors, evidence)
        got = self.read(topic)
        evidence["read"] = [{"timestamp": r.timestamp, "type": r.timestamp_type} for r in got]
        ok = [(r.timestamp, r.timestamp_type) for r in got] == [
            (ts, CREATE_TIME),
            (ts + 1, CREATE_TIME),
        ]
        if not ok:
            return CheckResult(
                cid,
                Status.FAIL,
                topic,
                "the timestamps read back are not the CreateTime sent",
                evidence,
            )
        return CheckResult(
            cid, Status.PASS, topic, "CreateTime kept as sent (an hour in the past)", evidence
        )

    def check_timestamps_log_append_time(self) -> CheckResult:
        cid = "timestamps.log-append-time"
        config = {"message.timestamp.type": "LogAppendTime"}
        try:
            topic = self.make_topic("log-append-time", config=config)
        except KafkaError as exc:
            return self._with_needs(_refused(cid, self.name("log-append-time"), exc, config=config))
        sent_ts = _now_ms() - 3_600_000
        before = _now_ms()
        deliveries = self.cluster.deliver(
            topic, [OutRecord(b"a", b"1", timestamp=sent_ts)], timeout=self.opts.op_timeout
        )
        after = _now_ms()
        errors = _delivered(deliveries)
        evidence: dict[str, Any] = {
            "topic": topic,
            "config": config,
            "sent_timestamp": sent_ts,
            "local_clock_ms": [before, after],
            "delivery_report_timestamp": deliveries[0].timestamp,
        }
        if errors:
            return self._with_needs(
                CheckResult(
                    cid,
                    Status.FAIL,
                    topic,
                    "the record was refused",
                    {**evidence, "error": errors[0]},
                )
            )
        got = self.read(topic)
        if not got:
            return self._with_needs(
                CheckResult(cid, Status.FAIL, topic, "the record could not be read back", evidence)
            )
        rec = got[0]
        evidence["read"] = {"timestamp": rec.timestamp, "type": rec.timestamp_type}
        if rec.timestamp_type != LOG_APPEND_TIME or rec.timestamp == sent_ts:
            kind = {CREATE_TIME: "CreateTime", LOG_APPEND_TIME: "LogAppendTime"}.get(
                rec.timestamp_type, str(rec.timestamp_type)
            )
            return self._with_needs(
                CheckResult(
                    cid,
                    Status.FAIL,
                    topic,
                    f"the record kept the producer's timestamp ({kind}): the topic's "
                    "message.timestamp.type=LogAppendTime is not applied",
                    evidence,
                )
            )
        skew = rec.timestamp - after if rec.timestamp > after else min(0, rec.timestamp - before)
        evidence["broker_minus_local_ms"] = skew
        return self._with_needs(
            CheckResult(
                cid,
                Status.PASS,
                topic,
                "stamped with the broker's time (LogAppendTime)",
                evidence,
            )
        )

    def check_producer_idempotent(self) -> CheckResult:
        cid = "producer.idempotent"
        topic = self.make_topic("idempotent")
        n = 200
        sent = [OutRecord(str(i).encode(), f"value-{i}".encode()) for i in range(n)]
        deliveries = self.cluster.deliver(
            topic,
            sent,
            extra={"enable.idempotence": True, "acks": "all", "linger.ms": 5},
            timeout=self.opts.op_timeout,
        )
        errors = _delivered(deliveries)
        evidence: dict[str, Any] = {"topic": topic, "client_records": n}
        if errors:
            return CheckResult(
                cid,
                Status.FAIL,
                topic,
                "the idempotent producer's records were refused",
                {**evidence, "error": errors[0]},
            )
        got = self.read(topic)
        offsets = [r.offset for r in got]
        values = [r.value for r in got]
        evidence["client_read_back"] = len(got)
        if offsets != list(range(n)) or values != [r.value for r in sent]:
            return CheckResult(
                cid,
                Status.FAIL,
                topic,
                f"read back {len(got)} records, not the {n} sent in order at offsets 0..{n - 1}",
                {**evidence, "offsets_read": offsets[:20]},
            )
        self.topics["idempotent"] = topic
        if not self.plaintext:
            evidence["retry_dedup"] = "not checked: the raw client speaks PLAINTEXT only"
            return CheckResult(
                cid, Status.PASS, topic, f"{n} records in order, no duplicates", evidence
            )
        return self._idempotent_retry(cid, topic, n, evidence)

    def _idempotent_retry(
        self, cid: str, topic: str, base: int, evidence: dict[str, Any]
    ) -> CheckResult:
        """Send one idempotent batch twice (a retry), then one with a sequence gap."""
        ts = _now_ms()
        recs = [Rec(0, ts, f"retry-{i}".encode(), b"x") for i in range(3)]
        with RawClient(
            self.cluster.bootstrap, timeout=self.opts.op_timeout, name=self.cluster.name
        ) as raw:
            pid, epoch = raw.init_producer_id(retry_for=self.opts.op_timeout)
            batch = encode_batch(recs, producer_id=pid, producer_epoch=epoch, base_sequence=0)
            first = raw.produce(topic, {0: batch})[0]
            again = raw.produce(topic, {0: batch})[0]
            gap = encode_batch(recs[:1], producer_id=pid, producer_epoch=epoch, base_sequence=10)
            gapped = raw.produce(topic, {0: gap})[0]
        got = self.read(topic, start=base)
        retry_copies = sum(1 for r in got if r.key == b"retry-0")
        evidence.update(
            {
                "raw_producer": {"producer_id": pid, "epoch": epoch},
                "first_send": {"error": error_name(first.error), "base_offset": first.base_offset},
                "retried_send": {
                    "error": error_name(again.error),
                    "base_offset": again.base_offset,
                },
                "sequence_gap_send": {
                    "error": error_name(gapped.error),
                    "message": gapped.error_message,
                },
                "copies_of_retried_batch": retry_copies,
            }
        )
        problems = []
        if first.error != 0:
            problems.append(f"the first idempotent batch was refused ({error_name(first.error)})")
        if retry_copies != 1:
            problems.append(f"a retried batch was written {retry_copies} times")
        if gapped.error == 0:
            problems.append("a batch with a sequence gap was accepted")
        if problems:
            return CheckResult(cid, Status.FAIL, topic, "; ".join(problems), evidence)
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"{base} records in order; a retried batch written once "
            f"({error_name(again.error)}); a sequence gap refused ({error_name(gapped.error)})",
            evidence,
        )

    def check_transactions_commit_abort(self) -> CheckResult:
        cid = "transactions.commit-abort"
        topic = self.make_topic("transactions")
        txns = [
            ([OutRecord(b"c", f"commit-{i}".encode()) for i in (1, 2, 3)], True),
            ([OutRecord(b"a", f"abort-{i}".encode()) for i in (1, 2)], False),
            ([OutRecord(b"c", b"commit-4")], True),
        ]
        evidence: dict[str, Any] = {
            "topic": topic,
            "transactional_id": self.name("txn"),
            "sent": "commit [commit-1..3], abort [abort-1, abort-2], commit [commit-4]",
        }
        try:
            self.cluster.run_transactions(
                topic, txns, transactional_id=self.name("txn"), timeout=self.opts.op_timeout
            )
        except KafkaError as exc:
            return self._with_needs(_refused(cid, topic, exc, **evidence))
        committed = self.read(topic, isolation="read_committed")
        uncommitted = self.read(topic, isolation="read_uncommitted")
        evidence["read_committed"] = [(r.offset, (r.value or b"").decode()) for r in committed]
        evidence["read_uncommitted"] = [(r.offset, (r.value or b"").decode()) for r in uncommitted]
        want_committed = [b"commit-1", b"commit-2", b"commit-3", b"commit-4"]
        want_all = [b"commit-1", b"commit-2", b"commit-3", b"abort-1", b"abort-2", b"commit-4"]
        problems = []
        seen_committed = [r.value for r in committed]
        if seen_committed != want_committed:
            extra = [(v or b"").decode() for v in seen_committed if v not in want_committed]
            missing = [v.decode() for v in want_committed if v not in seen_committed]
            problems.append(
                "read_committed does not see exactly the committed records"
                + (f": it also sees {', '.join(extra)}" if extra else "")
                + (f"; it misses {', '.join(missing)}" if missing else "")
            )
        if [r.value for r in uncommitted] != want_all:
            problems.append(
                "read_uncommitted does not see every record written (it sees "
                + ", ".join((r.value or b"").decode() for r in uncommitted)
                + ")"
            )
        self.topics["transactions"] = topic
        if problems:
            return self._with_needs(
                CheckResult(cid, Status.FAIL, topic, "; ".join(problems), evidence)
            )
        return self._with_needs(
            CheckResult(
                cid,
                Status.PASS,
                topic,
                "2 committed transactions visible, the aborted one hidden under read_committed",
                evidence,
            )
        )

    def check_compaction_honoured(self) -> CheckResult:
        cid = "compaction.honoured"
        config = {
            "cleanup.policy": "compact",
            "segment.ms": "100",
            "min.cleanable.dirty.ratio": "0.001",
            "min.compaction.lag.ms": "0",
            "delete.retention.ms": "100",
        }
        try:
            topic = self.make_topic("compacted", config=config)
        except KafkaError as exc:
            return self._with_needs(_refused(cid, self.name("compacted"), exc, config=config))
        sent = [
            OutRecord(b"a", b"a1"),
            OutRecord(b"a", b"a2"),
            OutRecord(b"b", b"b1"),
            OutRecord(b"a", b"a3"),
            OutRecord(b"c", b"c1"),
            OutRecord(b"c", None),
            OutRecord(b"a", b"a4"),
        ]
        deliveries = self.cluster.deliver(topic, sent, timeout=self.opts.op_timeout)
        evidence: dict[str, Any] = {
            "topic": topic,
            "config": config,
            "written": "a=a1, a=a2, b=b1, a=a3, c=c1, c=null, a=a4 then a record every second",
            "wait_bound_seconds": self.opts.compaction_wait,
        }
        errors = _delivered(deliveries)
        if errors:
            return self._with_needs(_records_refused(cid, topic, errors, evidence))
        written = [
            (d.offset if d.offset is not None else -1, r.key, r.value)
            for d, r in zip(deliveries, sent, strict=True)
        ]
        deadline = time.monotonic() + self.opts.compaction_wait
        rolls = 0
        view = compaction_view(written, [(o, k, v) for o, k, v in written])
        got: list[Record] = []
        read_errors: list[str] = []
        while time.monotonic() < deadline:
            time.sleep(1.0)
            # appending after segment.ms has passed rolls the segment holding the records above
            self.cluster.deliver(topic, [OutRecord(b"roll", str(rolls).encode())], timeout=5)
            rolls += 1
            try:  # a read racing the cleaner's segment swap may time out: try again
                got = self.read(topic)
            except KafkaError as exc:
                read_errors.append(_error_text(exc))
                continue
            view = compaction_view(written, [(r.offset, r.key, r.value) for r in got])
            if view.lost or view.done:
                break
        evidence.update(
            {
                "superseded_offsets": view.superseded,
                "removed_offsets": view.removed,
                "lost_latest_offsets": view.lost,
                "seconds_waited": round(
                    self.opts.compaction_wait - (deadline - time.monotonic()), 1
                ),
                "offsets_remaining": [r.offset for r in got if r.key != b"roll"],
            }
        )
        if read_errors:
            evidence["read_errors"] = read_errors[:3]
        if view.lost:
            return self._with_needs(
                CheckResult(
                    cid,
                    Status.FAIL,
                    topic,
                    "compaction lost or changed the latest record of a key",
                    evidence,
                )
            )
        if view.done:
            return self._with_needs(
                CheckResult(
                    cid,
                    Status.PASS,
                    topic,
                    f"superseded records {view.superseded} removed, latest per key kept at its "
                    "offset",
                    evidence,
                )
            )
        what = "partly" if view.started else "not"
        return self._with_needs(
            CheckResult(
                cid,
                Status.SKIP,
                topic,
                f"compaction {what} observed within {self.opts.compaction_wait:g}s "
                f"({len(view.removed)}/{len(view.superseded)} superseded records removed): "
                "the cleaner may run later — inconclusive",
                evidence,
            )
        )

    def check_message_max_size(self) -> CheckResult:
        cid = "message.max-size"
        topic = self.make_topic("max-size")
        configs = self.cluster.topic_configs(topic, timeout=self.opts.op_timeout)
        stated = configs.get("max.message.bytes")
        limit = int(stated) if stated else 1048588
        extra = {"message.max.bytes": 16 << 20}
        under = self.cluster.deliver(
            topic,
            [OutRecord(None, os.urandom(limit - 1024))],
            extra=extra,
            timeout=self.opts.op_timeout,
        )[0]
        over = self.cluster.deliver(
            topic,
            [OutRecord(None, os.urandom(limit + 1024))],
            extra=extra,
            timeout=self.opts.op_timeout,
        )[0]
        raised_limit = 2 * limit
        raised_topic = self.name("max-size-raised")
        big = os.urandom(limit + limit // 2)
        evidence: dict[str, Any] = {
            "topic": topic,
            "max.message.bytes": stated if stated else "not described (assumed 1048588)",
            "under_limit": {"bytes": limit - 1024, "error": under.error},
            "over_limit": {"bytes": limit + 1024, "error": over.error},
        }
        try:
            self.make_topic("max-size-raised", config={"max.message.bytes": str(raised_limit)})
            raised = self.cluster.deliver(
                raised_topic, [OutRecord(None, big)], extra=extra, timeout=self.opts.op_timeout
            )[0]
            raised_error = raised.error
        except KafkaError as exc:
            raised_error = _error_text(exc)
        read_ok = False
        if raised_error is None:
            got = self.read(raised_topic, extra={"fetch.message.max.bytes": 16 << 20})
            read_ok = len(got) == 1 and got[0].value == big
        evidence["raised_topic"] = {
            "topic": raised_topic,
            "max.message.bytes": raised_limit,
            "bytes": len(big),
            "error": raised_error,
            "read_back_identical": read_ok,
        }
        problems = []
        if under.error is not None:
            problems.append(f"a record under the limit was refused ({under.error})")
        if over.error is None:
            stated_as = "its stated" if stated else "Kafka's default (it describes none)"
            problems.append(f"a record over {stated_as} limit of {limit} B was accepted")
        elif "MSG_SIZE_TOO_LARGE" not in over.error:
            problems.append(f"a record over the limit failed otherwise ({over.error})")
        if raised_error is not None:
            problems.append(f"a raised max.message.bytes was not honoured ({raised_error})")
        elif not read_ok:
            problems.append("the large record did not read back identical")
        if problems:
            evidence["error"] = next(
                (e for e in (under.error, raised_error) if e is not None), None
            )
            if evidence["error"] is None:
                del evidence["error"]
            return self._with_needs(
                CheckResult(cid, Status.FAIL, topic, "; ".join(problems), evidence)
            )
        return self._with_needs(
            CheckResult(
                cid,
                Status.PASS,
                topic,
                f"limit {limit} B enforced (MSG_SIZE_TOO_LARGE above it); {len(big)} B "
                f"accepted under a raised {raised_limit} B limit",
                evidence,
            )
        )

    # ------------------------------------------------------------------ groups and offsets
    def check_groups_join_commit_alter_delete(self) -> CheckResult:
        cid = "groups.join-commit-alter-delete"
        topic = self.make_topic("group")
        n = 10
        errors = _delivered(
            self.cluster.deliver(
                topic,
                [OutRecord(b"k", str(i).encode()) for i in range(n)],
                timeout=self.opts.op_timeout,
            )
        )
        group = self.name("group")
        evidence: dict[str, Any] = {"topic": topic, "group": group}
        if errors:
            return self._with_needs(_records_refused(cid, topic, errors, evidence))
        stage = "join and read"
        try:
            t0 = time.monotonic()
            records, committed = self.cluster.consume_in_group(
                group, topic, n, timeout=self.opts.group_timeout
            )
            evidence["join_and_read_seconds"] = round(time.monotonic() - t0, 1)
            evidence["read"] = len(records)
            evidence["committed"] = {f"{t}[{p}]": o for (t, p), o in committed.items()}
            if len(records) != n:
                return self._with_needs(
                    CheckResult(
                        cid,
                        Status.FAIL,
                        group,
                        f"the group member read {len(records)} of {n} records in "
                        f"{self.opts.group_timeout:g}s",
                        evidence,
                    )
                )
            stage = "read committed offsets"
            stored = self.cluster.group_offsets(group, timeout=self.opts.op_timeout)
            evidence["offsets_after_commit"] = {f"{t}[{p}]": o for (t, p), o in stored.items()}
            stage = "alter offsets"
            self.cluster.commit_group_offsets(group, {(topic, 0): 3}, timeout=self.opts.op_timeout)
            altered = self.cluster.group_offsets(group, timeout=self.opts.op_timeout)
            evidence["offsets_after_alter"] = {f"{t}[{p}]": o for (t, p), o in altered.items()}
            stage = "delete group"
            self.cluster.delete_groups([group], timeout=self.opts.op_timeout)
            still = group in self.cluster.groups(timeout=self.opts.op_timeout)
            evidence["listed_after_delete"] = still
        except KafkaError as exc:
            return self._with_needs(_refused(cid, group, exc, stage=stage, **evidence))
        problems = []
        if stored.get((topic, 0)) != n:
            problems.append(f"committed offset {stored.get((topic, 0))}, expected {n}")
        if altered.get((topic, 0)) != 3:
            problems.append(f"altered offset reads {altered.get((topic, 0))}, expected 3")
        if still:
            problems.append("the group is still listed after being deleted")
        if problems:
            return self._with_needs(
                CheckResult(cid, Status.FAIL, group, "; ".join(problems), evidence)
            )
        return self._with_needs(
            CheckResult(
                cid,
                Status.PASS,
                group,
                f"joined and read {n} records in {evidence['join_and_read_seconds']}s, committed "
                f"{n}, altered to 3, deleted",
                evidence,
            )
        )

    def check_offsets_by_timestamp(self) -> CheckResult:
        cid = "offsets.by-timestamp"
        topic = self.make_topic("by-timestamp")
        t0 = _now_ms() - 600_000
        sent = [OutRecord(b"k", str(i).encode(), timestamp=t0 + 1000 * i) for i in range(3)]
        errors = _delivered(self.cluster.deliver(topic, sent, timeout=self.opts.op_timeout))
        evidence: dict[str, Any] = {"topic": topic, "timestamps": "t0, t0+1000, t0+2000"}
        if errors:
            return _records_refused(cid, topic, errors, evidence)
        self.topics["by-timestamp"] = topic
        expected = {
            "t0-1": (t0 - 1, 0),
            "t0": (t0, 0),
            "t0+500": (t0 + 500, 1),
            "t0+2000": (t0 + 2000, 2),
            "t0+10000": (t0 + 10_000, -1),
        }
        got: dict[str, int] = {}
        for label, (ts, _want) in expected.items():
            got[label] = self.cluster.list_offsets(topic, {0: ts}, timeout=self.opts.op_timeout)[0][
                0
            ]
        evidence["expected"] = {k: w for k, (_t, w) in expected.items()}
        evidence["got"] = got
        with suppress(KafkaError):
            evidence["max_timestamp_offset"] = self.cluster.list_offsets(
                topic, {0: "max_timestamp"}, timeout=self.opts.op_timeout
            )[0][0]
        wrong = [k for k, (_t, w) in expected.items() if got[k] != w]
        if wrong:
            return CheckResult(
                cid,
                Status.FAIL,
                topic,
                "wrong offsets for "
                + ", ".join(f"{k} (got {got[k]}, expected {expected[k][1]})" for k in wrong),
                evidence,
            )
        return CheckResult(
            cid, Status.PASS, topic, "every timestamp lookup found the right offset", evidence
        )

    def check_records_delete(self) -> CheckResult:
        cid = "records.delete"
        topic = self.make_topic("delete-records")
        errors = _delivered(
            self.cluster.deliver(
                topic,
                [OutRecord(b"k", str(i).encode()) for i in range(10)],
                timeout=self.opts.op_timeout,
            )
        )
        evidence: dict[str, Any] = {"topic": topic, "records": 10, "delete_before": 4}
        if errors:
            return _records_refused(cid, topic, errors, evidence)
        try:
            self.cluster.delete_records(topic, {0: 4}, timeout=self.opts.op_timeout)
        except KafkaError as exc:
            return _refused(cid, topic, exc, **evidence)
        low, high = self.cluster.end_offsets(topic, [0], timeout=self.opts.op_timeout)[0]
        got = self.read(topic)
        evidence.update(
            {
                "log_start_in_fetch": low,
                "high_watermark_in_fetch": high,
                "first_offset_read": got[0].offset if got else None,
            }
        )
        self.topics["delete-records"] = topic
        if low != 4 or not got or got[0].offset != 4:
            return CheckResult(
                cid, Status.FAIL, topic, f"the log start is {low}, not 4, after deleting", evidence
            )
        return CheckResult(
            cid, Status.PASS, topic, "log start moved to 4; reading starts there", evidence
        )

    def check_offsets_earliest_latest(self) -> CheckResult:
        cid = "offsets.earliest-latest"
        expected: dict[str, tuple[str, int | str, str, int]] = {}
        if "by-timestamp" in self.topics:
            t = self.topics["by-timestamp"]
            expected[f"{t} earliest"] = (t, "earliest", "read_uncommitted", 0)
            expected[f"{t} latest"] = (t, "latest", "read_uncommitted", 3)
        if "delete-records" in self.topics:
            t = self.topics["delete-records"]
            expected[f"{t} earliest (after delete-records)"] = (
                t,
                "earliest",
                "read_uncommitted",
                4,
            )
            expected[f"{t} latest"] = (t, "latest", "read_uncommitted", 10)
        if "transactions" in self.topics:
            t = self.topics["transactions"]
            # 6 records and 3 transaction markers: the end (and LSO, nothing open) is 9
            expected[f"{t} latest (read_committed)"] = (t, "latest", "read_committed", 9)
        if not expected:
            return CheckResult(
                cid,
                Status.SKIP,
                self.cluster.bootstrap,
                "no topic of the earlier checks to ask about (they failed)",
                {},
            )
        got: dict[str, int] = {}
        for label, (topic, spec, isolation, _want) in expected.items():
            got[label] = self.cluster.list_offsets(
                topic, {0: spec}, isolation=isolation, timeout=self.opts.op_timeout
            )[0][0]
        evidence = {"expected": {k: v[3] for k, v in expected.items()}, "got": got}
        wrong = [k for k, v in expected.items() if got[k] != v[3]]
        subject = self.prefix + "*"
        if wrong:
            return CheckResult(
                cid,
                Status.FAIL,
                subject,
                "ListOffsets answered wrongly for "
                + ", ".join(
                    f"{k.removeprefix(self.prefix)} (got {got[k]}, expected {expected[k][3]})"
                    for k in wrong
                ),
                evidence,
            )
        return CheckResult(cid, Status.PASS, subject, f"{len(expected)} answers right", evidence)

    def check_partitions_create(self) -> CheckResult:
        cid = "partitions.create"
        topic = self.make_topic("partitions")
        try:
            self.cluster.create_partitions(topic, 3, timeout=self.opts.op_timeout)
        except KafkaError as exc:
            return _refused(cid, topic, exc, topic=topic, asked="1 -> 3 partitions")
        deadline = time.monotonic() + self.opts.op_timeout
        count = 1
        while time.monotonic() < deadline:
            info = self.cluster.topics(timeout=self.opts.op_timeout).get(topic)
            count = info.partitions if info else 0
            if count == 3:
                break
            time.sleep(0.2)
        d = self.cluster.deliver(
            topic, [OutRecord(b"k", b"v", partition=2)], timeout=self.opts.op_timeout
        )[0]
        evidence = {
            "topic": topic,
            "asked": "1 -> 3 partitions",
            "partitions_seen": count,
            "write_to_partition_2": {"offset": d.offset, "error": d.error},
        }
        if count != 3 or d.error is not None or d.partition != 2:
            if d.error:
                evidence["error"] = d.error
            return CheckResult(
                cid, Status.FAIL, topic, f"{count} partitions seen after growing to 3", evidence
            )
        return CheckResult(
            cid, Status.PASS, topic, "grew 1 -> 3 partitions and wrote to the new one", evidence
        )

    # ------------------------------------------------------------------ configs and ACLs
    def check_configs_describe_alter(self) -> CheckResult:
        cid = "configs.describe-alter"
        topic = self.topics.get("records") or self.make_topic("configs")
        evidence: dict[str, Any] = {"topic": topic}
        stage = "describe topic"
        try:
            described = self.cluster.topic_configs(topic, timeout=self.opts.op_timeout)
            evidence["topic_configs_described"] = len(described)
            stage = "set retention.ms"
            self.cluster.alter_topic_configs(
                topic, set_values={"retention.ms": "86400123"}, timeout=self.opts.op_timeout
            )
            after_set = self.cluster.explicit_topic_configs(topic, timeout=self.opts.op_timeout)
            evidence["after_set"] = after_set
            stage = "delete retention.ms"
            self.cluster.alter_topic_configs(
                topic, delete=["retention.ms"], timeout=self.opts.op_timeout
            )
            after_delete = self.cluster.explicit_topic_configs(topic, timeout=self.opts.op_timeout)
            evidence["after_delete"] = after_delete
            stage = "describe broker"
            if self.controller is not None:
                broker = self.cluster.broker_configs(self.controller, timeout=self.opts.op_timeout)
                evidence["broker_configs_described"] = len(broker)
        except KafkaError as exc:
            return _refused(cid, topic, exc, stage=stage, **evidence)
        problems = []
        if not described:
            problems.append("DescribeConfigs returned no topic config")
        if after_set.get("retention.ms") != "86400123":
            problems.append(
                f"retention.ms reads {after_set.get('retention.ms')!r} after setting 86400123"
            )
        if "retention.ms" in after_delete:
            problems.append("retention.ms is still set on the topic after deleting it")
        if self.controller is not None and not evidence.get("broker_configs_described"):
            problems.append("DescribeConfigs returned no broker config")
        if problems:
            return CheckResult(cid, Status.FAIL, topic, "; ".join(problems), evidence)
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"{len(described)} topic configs described; retention.ms set and deleted",
            evidence,
        )

    def check_configs_rejected_keys(self) -> CheckResult:
        cid = "configs.rejected-keys"
        name = self.name("validate-only")
        rejected = self.cluster.rejected_topic_configs(
            name, 1, COMMON_TOPIC_CONFIGS, timeout=self.opts.op_timeout
        )
        legacy = self.cluster.rejected_topic_configs(
            name, 1, LEGACY_TOPIC_CONFIGS, timeout=self.opts.op_timeout
        )
        created = name in self.cluster.topics(timeout=self.opts.op_timeout)
        evidence: dict[str, Any] = {
            "asked": COMMON_TOPIC_CONFIGS,
            "rejected": rejected,
            "accepted": sorted(k for k in COMMON_TOPIC_CONFIGS if k not in rejected),
            "legacy_asked": LEGACY_TOPIC_CONFIGS,
            "legacy_rejected": legacy,
            "validate_only_created_the_topic": created,
        }
        if created:
            return CheckResult(
                cid,
                Status.FAIL,
                name,
                "a validate_only CreateTopics created the topic: the cluster does not honour "
                "validate_only, so its answers do not show which configs it refuses "
                f"({len(rejected)} refused, legacy {len(legacy)} refused)",
                evidence,
            )
        if rejected:
            first = next(iter(rejected.items()))
            evidence["error"] = f"{first[0]}: {first[1]}"
            return CheckResult(
                cid,
                Status.FAIL,
                name,
                f"{len(rejected)} of {len(COMMON_TOPIC_CONFIGS)} common topic configs refused: "
                + ", ".join(sorted(rejected)),
                evidence,
            )
        note = f"; legacy refused: {', '.join(sorted(legacy))}" if legacy else ""
        return CheckResult(
            cid,
            Status.PASS,
            name,
            f"all {len(COMMON_TOPIC_CONFIGS)} common topic configs accepted{note}",
            evidence,
        )

    def check_acls_api(self) -> CheckResult:
        cid = "acls.api"
        principal = f"User:{self.prefix}principal"
        acl = Acl(
            resource_type="TOPIC",
            name=self.name("acl"),
            pattern_type="LITERAL",
            principal=principal,
            host="*",
            operation="READ",
            permission="ALLOW",
        )
        evidence: dict[str, Any] = {"acl": acl.describe()}
        stage = "describe"
        try:
            before = self.cluster.acls(timeout=self.opts.op_timeout)
            evidence["acls_before"] = len(before)
            if self.api_keys is not None:
                served = {api: self.api_keys.get(key) for key, api in ACL_APIS.items()}
                evidence["api_versions"] = {
                    api: f"v{r[0]}-v{r[1]}" if r else "not served" for api, r in served.items()
                }
                missing = [api for api, r in served.items() if r is None]
                if missing:
                    # never create what cannot be deleted (and librdkafka 2.16 aborts the
                    # process on tansu 0.6's CreateAcls answer)
                    return CheckResult(
                        cid,
                        Status.FAIL,
                        self.cluster.bootstrap,
                        f"{', '.join(missing)} not served (ApiVersions): ACLs cannot be "
                        "managed (nothing created)",
                        {**evidence, "error": f"{', '.join(missing)} not served (ApiVersions)"},
                    )
            stage = "create"
            self.acls_created.append(acl)
            self.cluster.create_acls([acl], timeout=self.opts.op_timeout)
            stage = "describe after create"
            listed = self._wait_acl(principal, present=True)
            evidence["listed_after_create"] = listed
            stage = "delete"
            deleted = self.cluster.delete_acls([acl], timeout=self.opts.op_timeout)
            evidence["deleted"] = [a.describe() for a in deleted]
            if acl in deleted:
                self.acls_created.remove(acl)
            stage = "describe after delete"
            gone = not self._wait_acl(principal, present=False)
            evidence["gone_after_delete"] = gone
        except KafkaError as exc:
            if exc.why == "SECURITY_DISABLED":
                return CheckResult(
                    cid,
                    Status.SKIP,
                    self.cluster.bootstrap,
                    "the cluster has no authorizer: it keeps no ACLs",
                    {**evidence, "error": _error_text(exc)},
                )
            return _refused(cid, self.cluster.bootstrap, exc, stage=stage, **evidence)
        problems = []
        if not listed:
            problems.append("the created ACL was not described")
        if acl not in deleted:
            problems.append("DeleteAcls did not report the ACL deleted")
        if not gone:
            problems.append("the ACL is still described after deleting it")
        if problems:
            return CheckResult(
                cid, Status.FAIL, self.cluster.bootstrap, "; ".join(problems), evidence
            )
        return CheckResult(
            cid, Status.PASS, self.cluster.bootstrap, "ACL created, described and deleted", evidence
        )

    def _wait_acl(self, principal: str, *, present: bool) -> bool:
        """Whether an ACL of ``principal`` is described, waiting up to 5 s for ``present``."""
        deadline = time.monotonic() + 5.0
        while True:
            found = any(
                a.principal == principal for a in self.cluster.acls(timeout=self.opts.op_timeout)
            )
            if found == present or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    # ------------------------------------------------------------------ raw APIs
    def _raw_unavailable(self, cid: str, api: str, key: int, version: int) -> CheckResult | None:
        """SKIP when the raw client cannot ask (not PLAINTEXT); FAIL when ApiVersions does not
        list the version it would ask; None when it can go ahead."""
        if not self.plaintext:
            return CheckResult(
                cid,
                Status.SKIP,
                self.cluster.bootstrap,
                f"not checked: librdkafka does not expose {api}, and connshift's raw client "
                "speaks PLAINTEXT only",
                {"api": api},
            )
        served = None if self.api_keys is None else self.api_keys.get(key)
        if self.api_keys is not None and (served is None or not served[0] <= version <= served[1]):
            have = "not served" if served is None else f"v{served[0]}-v{served[1]}"
            return CheckResult(
                cid,
                Status.FAIL,
                self.cluster.bootstrap,
                f"{api} not served (ApiVersions)"
                if served is None
                else f"{api} {have} served (ApiVersions); connshift asks v{version}",
                {"api": api, "served": have, "error": f"{api} {have} (ApiVersions)"},
            )
        return None

    def check_logdirs_describe(self) -> CheckResult:
        cid = "logdirs.describe"
        gap = self._raw_unavailable(
            cid, "DescribeLogDirs", DESCRIBE_LOG_DIRS_KEY, DESCRIBE_LOG_DIRS_VERSION
        )
        if gap is not None:
            return gap
        topic = self.topics.get("records") or self.make_topic("logdirs")
        with RawClient(
            self.cluster.bootstrap, timeout=self.opts.op_timeout, name=self.cluster.name
        ) as raw:
            answers = raw.describe_log_dirs({topic: [0]})
        dirs = [d for _err, ds in answers.values() for d in ds]
        errors = {node: error_name(err) for node, (err, _ds) in answers.items() if err}
        found = [d for d in dirs if (topic, 0) in d.partitions]
        evidence: dict[str, Any] = {
            "topic": topic,
            "brokers_asked": sorted(answers),
            "log_dirs": [
                {
                    "broker": d.broker,
                    "path": d.path,
                    "error": error_name(d.error),
                    "total_bytes": d.total_bytes,
                    "usable_bytes": d.usable_bytes,
                    "scratch_partition_bytes": d.partitions.get((topic, 0), (None,))[0],
                }
                for d in dirs
            ],
        }
        if errors or not dirs or not found:
            why = (
                f"errors {errors}"
                if errors
                else "no log dir described"
                if not dirs
                else f"{topic}[0] is in no log dir described"
            )
            return CheckResult(
                cid, Status.FAIL, topic, f"DescribeLogDirs answered, but {why}", evidence
            )
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"{len(dirs)} log dir(s) on {len(answers)} broker(s); the scratch partition holds "
            f"{found[0].partitions[(topic, 0)][0]} B",
            evidence,
        )

    def check_producers_describe(self) -> CheckResult:
        cid = "producers.describe"
        gap = self._raw_unavailable(
            cid, "DescribeProducers", DESCRIBE_PRODUCERS_KEY, DESCRIBE_PRODUCERS_VERSION
        )
        if gap is not None:
            return gap
        topic = self.topics.get("idempotent")
        if topic is None:
            topic = self.make_topic("producers")
            errors = _delivered(
                self.cluster.deliver(
                    topic,
                    [OutRecord(b"k", b"v")],
                    extra={"enable.idempotence": True},
                    timeout=self.opts.op_timeout,
                )
            )
            if errors:
                return CheckResult(
                    cid, Status.FAIL, topic, "records were refused", {"error": errors[0]}
                )
        with RawClient(
            self.cluster.bootstrap, timeout=self.opts.op_timeout, name=self.cluster.name
        ) as raw:
            state = raw.describe_producers(topic, [0])[0]
        evidence: dict[str, Any] = {
            "topic": topic,
            "error": error_name(state.error) if state.error else None,
            "error_message": state.error_message,
            "active_producers": [
                {
                    "producer_id": p.producer_id,
                    "epoch": p.producer_epoch,
                    "last_sequence": p.last_sequence,
                }
                for p in state.producers
            ],
        }
        if evidence["error"] is None:
            del evidence["error"]
        if state.error or not state.producers:
            why = error_name(state.error) if state.error else "no active producer listed"
            return CheckResult(cid, Status.FAIL, topic, f"DescribeProducers: {why}", evidence)
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"{len(state.producers)} active idempotent producer(s) listed",
            evidence,
        )

    # ------------------------------------------------------------------ Connect and connectors
    def check_connect_internal_topics(self) -> CheckResult:
        cid = "connect.internal-topics"
        rf = max(1, min(3, self.result.brokers))
        evidence: dict[str, Any] = {"replication_factor": rf, "topics": {}}
        problems: list[str] = []
        for role, partitions in CONNECT_INTERNAL_TOPICS.items():
            name = self.name(f"connect-{role}")
            entry: dict[str, Any] = {"partitions_asked": partitions}
            evidence["topics"][name] = entry
            try:
                self.cluster.create_topic(
                    name,
                    partitions,
                    replication_factor=rf,
                    config={"cleanup.policy": "compact"},
                    exist_ok=False,
                    timeout=self.opts.op_timeout,
                )
            except KafkaError as exc:
                entry["error"] = _error_text(exc)
                problems.append(f"{role} topic refused ({exc.why})")
                continue
            info = self.cluster.topics(timeout=self.opts.op_timeout).get(name)
            entry["partitions"] = info.partitions if info else None
            policy = self.cluster.topic_configs(name, timeout=self.opts.op_timeout).get(
                "cleanup.policy"
            )
            entry["cleanup.policy"] = policy
            if entry["partitions"] != partitions:
                problems.append(
                    f"{role} topic has {entry['partitions']} partitions, not {partitions}"
                )
            if policy != "compact":
                problems.append(
                    f"{role} topic describes cleanup.policy={policy!r}: Connect refuses to start "
                    "unless it reads 'compact'"
                )
        configs = self.name("connect-configs")
        if "error" not in evidence["topics"][configs]:
            errors = _delivered(
                self.cluster.deliver(
                    configs,
                    [OutRecord(f"connector-{i}".encode(), b"{}") for i in range(3)],
                    extra={"enable.idempotence": True, "acks": "all"},
                    timeout=self.opts.op_timeout,
                )
            )
            if errors:
                problems.append(f"writing to the config topic failed ({errors[0]})")
            else:
                # Connect's KafkaBasedLog reads to the end ListOffsets(LATEST) reports
                latest = self.cluster.list_offsets(
                    configs, {0: "latest"}, timeout=self.opts.op_timeout
                )[0][0]
                evidence["config_topic_end"] = {"written": 3, "list_offsets_latest": latest}
                if latest != 3:
                    problems.append(
                        f"ListOffsets(LATEST) of the config topic is {latest} after 3 records: "
                        "Connect's read-to-end would stop short or wait"
                    )
        if problems:
            first_error = next(
                (t["error"] for t in evidence["topics"].values() if "error" in t), None
            )
            if first_error:
                evidence["error"] = first_error
            return self._with_needs(
                CheckResult(
                    cid, Status.FAIL, self.prefix + "connect-*", "; ".join(problems), evidence
                )
            )
        return self._with_needs(
            CheckResult(
                cid,
                Status.PASS,
                self.prefix + "connect-*",
                f"config/offset/status topics created compacted (1/25/5 partitions, RF {rf}); "
                "the config topic reads to its end",
                evidence,
            )
        )

    def check_topics_auto_create(self) -> CheckResult:
        cid = "topics.auto-create"
        topic = self.name("auto-created")
        d = self.cluster.deliver(topic, [OutRecord(b"k", b"v")], timeout=self.opts.op_timeout)[0]
        info = self.cluster.topics(timeout=self.opts.op_timeout).get(topic)
        evidence: dict[str, Any] = {
            "topic": topic,
            "delivery": {"partition": d.partition, "offset": d.offset, "error": d.error},
            "created": info is not None,
            "partitions": info.partitions if info else None,
        }
        if d.error is None and info is not None:
            return self._with_needs(
                CheckResult(
                    cid,
                    Status.PASS,
                    topic,
                    f"producing to a missing topic created it ({info.partitions} partition(s))",
                    evidence,
                )
            )
        if d.error:
            evidence["error"] = d.error
        needs = self.result.needs
        if needs is not None and not needs.get(cid):
            return CheckResult(
                cid,
                Status.SKIP,
                topic,
                "producing to a missing topic does not create it; no connector of the "
                "inventory relies on it",
                evidence,
            )
        who = (
            "connectors of the inventory rely on it"
            if needs
            else "no inventory says whether a connector (e.g. Debezium) relies on it"
        )
        return self._with_needs(
            CheckResult(
                cid,
                Status.FAIL,
                topic,
                f"producing to a missing topic does not create it; {who} — set "
                "topic.creation.default.* on those connectors, or create their topics first",
                evidence,
            )
        )

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> dict[str, Any]:
        """Delete every topic and group with the prefix, and the ACLs created; report it.

        Best effort: each deletion is tried on its own and whatever goes wrong (a refusal, a
        timeout, a cluster gone away) is recorded in ``errors``, never raised.
        """
        out: dict[str, Any] = {"topics_deleted": [], "groups_deleted": [], "errors": []}
        timeout = self.opts.op_timeout

        def attempt(what: Callable[[], Any]) -> tuple[bool, Any]:
            try:
                return True, what()
            except Exception as exc:  # cleanup must finish whatever the cluster does
                out["errors"].append(_error_text(exc))
                return False, None

        _ok, topics = attempt(lambda: self._scratch(self.cluster.topics(timeout=timeout)))
        for t in topics or []:
            if attempt(partial(self.cluster.delete_topic, t, timeout=timeout))[0]:
                out["topics_deleted"].append(t)
        _ok, groups = attempt(lambda: self._scratch(self.cluster.groups(timeout=timeout)))
        for g in groups or []:
            if attempt(partial(self.cluster.delete_groups, [g], timeout=timeout))[0]:
                out["groups_deleted"].append(g)
        if self.acls_created:
            _ok, deleted = attempt(
                lambda: self.cluster.delete_acls(self.acls_created, timeout=timeout)
            )
            out["acls_deleted"] = [a.describe() for a in deleted or []]
        out["leftover_topics"] = self._leftovers()
        out["not_removable"] = [
            f"transactional id {self.name('txn')} (expires with transactional.id.expiration.ms)"
        ]
        return out

    def _scratch(self, names: Any) -> list[str]:
        return sorted(n for n in names if n.startswith(self.prefix))

    def _leftovers(self) -> list[str]:
        """Scratch topics still listed, after waiting up to ``cleanup_timeout`` for deletions."""
        deadline = time.monotonic() + self.opts.cleanup_timeout
        while True:
            try:
                left = self._scratch(self.cluster.topics(timeout=self.opts.op_timeout))
            except Exception as exc:  # reported, not raised: the run is over
                left = [f"(could not list topics: {_error_text(exc)})"]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
