"""The Kafka-API contract checks of ``connshift probe``: their catalogue, the pure judgements
behind them, the result they add up to, and the compatibility matrix rendered from results.

No I/O here: :mod:`connshift.app.probe` talks to the cluster and hands what it sent and what it
observed to these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connshift.core.checks import CheckResult, Status, tally

SCHEMA = "connshift.probe/1"
"""The ``schema`` of a probe result's JSON form."""

CREATE_TIME = 1
LOG_APPEND_TIME = 2
"""Timestamp types as a consumer reports them (librdkafka's TIMESTAMP_* values)."""

#: Every check, in the order it runs, with what a PASS proves.
CHECKS: tuple[tuple[str, str], ...] = (
    (
        "produce.keys-headers-nulls",
        "records keep keys, headers (repeated, null, empty), null "
        "values and null keys, byte for byte",
    ),
    ("timestamps.create-time", "a producer's CreateTime is stored and returned as sent"),
    (
        "timestamps.log-append-time",
        "a topic with message.timestamp.type=LogAppendTime stamps records with the broker's time",
    ),
    (
        "producer.idempotent",
        "an idempotent producer writes in order without duplicates; a "
        "retried batch is not written twice and a sequence gap is refused",
    ),
    (
        "transactions.commit-abort",
        "committed transactions are visible, aborted ones hidden "
        "from read_committed consumers and present for read_uncommitted ones",
    ),
    (
        "compaction.honoured",
        "a compacted topic keeps the latest record per key at its offset "
        "and drops superseded ones (bounded wait for the cleaner)",
    ),
    (
        "message.max-size",
        "records up to max.message.bytes are accepted, larger ones refused "
        "with MESSAGE_TOO_LARGE, and a raised topic limit is honoured",
    ),
    (
        "groups.join-commit-alter-delete",
        "a consumer group joins, reads, commits; its offsets "
        "can be read, altered by an admin, and the group deleted",
    ),
    ("offsets.by-timestamp", "ListOffsets by timestamp finds the first record at or after it"),
    ("records.delete", "DeleteRecords moves the log start offset"),
    (
        "offsets.earliest-latest",
        "ListOffsets EARLIEST/LATEST match the log start and the end "
        "(after delete-records; the LSO under read_committed)",
    ),
    ("partitions.create", "partitions can be added to a topic and written to"),
    (
        "configs.describe-alter",
        "topic and broker configs can be described; a topic config set and deleted incrementally",
    ),
    ("configs.rejected-keys", "the topic configs estates commonly set are accepted on create"),
    ("acls.api", "ACLs can be created, described and deleted"),
    ("logdirs.describe", "DescribeLogDirs answers with each broker's log dirs and partition sizes"),
    ("producers.describe", "DescribeProducers lists a partition's active idempotent producers"),
    (
        "connect.internal-topics",
        "Kafka Connect's config, offset and status topics can be "
        "created compacted with their partition counts, and read to their end",
    ),
    (
        "topics.auto-create",
        "producing to a missing topic creates it (what Debezium relies on "
        "unless the connector sets topic.creation.default.*)",
    ),
)
CHECK_IDS: tuple[str, ...] = tuple(c for c, _ in CHECKS)

#: Topic configs estates commonly set, with a valid value: Apache Kafka 3.9 and 4.x accept
#: every one of them when a topic is created.
COMMON_TOPIC_CONFIGS: dict[str, str] = {
    "cleanup.policy": "compact,delete",
    "compression.type": "zstd",
    "delete.retention.ms": "86400000",
    "file.delete.delay.ms": "60000",
    "flush.messages": "9223372036854775807",
    "flush.ms": "9223372036854775807",
    "index.interval.bytes": "4096",
    "local.retention.bytes": "-2",
    "local.retention.ms": "-2",
    "max.compaction.lag.ms": "9223372036854775807",
    "max.message.bytes": "2097152",
    "message.timestamp.after.max.ms": "3600000",
    "message.timestamp.before.max.ms": "9223372036854775807",
    "message.timestamp.type": "CreateTime",
    "min.cleanable.dirty.ratio": "0.5",
    "min.compaction.lag.ms": "0",
    "min.insync.replicas": "1",
    "preallocate": "false",
    "retention.bytes": "-1",
    "retention.ms": "604800000",
    "segment.bytes": "1073741824",
    "segment.index.bytes": "10485760",
    "segment.jitter.ms": "0",
    "segment.ms": "604800000",
    "unclean.leader.election.enable": "false",
}

#: Topic configs Apache Kafka 4.0 removed (KIP-724, KIP-937): a 3.x topic carrying them loses
#: them on a 4.x cluster. Reported, never failed on.
LEGACY_TOPIC_CONFIGS: dict[str, str] = {
    "message.format.version": "3.0-IV1",
    "message.downconversion.enable": "true",
    "message.timestamp.difference.max.ms": "9223372036854775807",
}

#: Connect's internal topics: role -> partitions (Connect's defaults; config must be 1).
CONNECT_INTERNAL_TOPICS: dict[str, int] = {"configs": 1, "offsets": 25, "status": 5}

#: Connector classes that write to topics named after upstream tables (created on demand).
CDC_PREFIXES = ("io.debezium.connector.",)


# --------------------------------------------------------------------------- judgements


RecordTuple = tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes | None]]]


def _show(b: bytes | None, limit: int = 24) -> str:
    if b is None:
        return "null"
    text = repr(b[:limit]) + ("…" if len(b) > limit else "")
    return f"{text} ({len(b)} B)"


def record_differences(sent: Sequence[RecordTuple], got: Sequence[RecordTuple]) -> list[str]:
    """How the records read back differ from those sent (key, value, headers in order)."""
    out: list[str] = []
    if len(got) != len(sent):
        out.append(f"sent {len(sent)} records, read {len(got)}")
    for i, (s, g) in enumerate(zip(sent, got, strict=False)):
        for part, a, b in (("key", s[0], g[0]), ("value", s[1], g[1])):
            if a != b:
                out.append(f"record {i}: {part} sent {_show(a)}, read {_show(b)}")
        sh, gh = list(s[2]), list(g[2])
        if sh != gh:
            shown_s = [(k, _show(v, 8)) for k, v in sh]
            shown_g = [(k, _show(v, 8)) for k, v in gh]
            out.append(f"record {i}: headers sent {shown_s}, read {shown_g}")
    return out


@dataclass(frozen=True)
class CompactionView:
    """What a compacted partition looks like compared to what was written to it.

    ``superseded`` are the offsets of records a later record with the same key replaces;
    ``removed`` those of them that are gone; ``lost`` the offsets of the latest record of a key
    (not a tombstone) that are gone or changed: a compaction that loses them is wrong.
    """

    superseded: list[int]
    removed: list[int]
    lost: list[int]

    @property
    def done(self) -> bool:
        return bool(self.superseded) and self.removed == self.superseded and not self.lost

    @property
    def started(self) -> bool:
        return bool(self.removed)


def compaction_view(
    written: Sequence[tuple[int, bytes | None, bytes | None]],
    read: Sequence[tuple[int, bytes | None, bytes | None]],
) -> CompactionView:
    """Compare ``(offset, key, value)`` written with what a read of the partition returns."""
    latest: dict[bytes | None, int] = {}
    for offset, key, _value in written:
        latest[key] = offset
    present = {offset: (key, value) for offset, key, value in read}
    superseded = sorted(o for o, k, _v in written if latest[k] != o)
    removed = [o for o in superseded if o not in present]
    lost = sorted(
        o for o, k, v in written if latest[k] == o and v is not None and present.get(o) != (k, v)
    )
    return CompactionView(superseded, removed, lost)


def connector_needs(inventory: Mapping[str, Any] | None) -> dict[str, list[str]] | None:
    """Which checks the estate's connectors and topics rely on: ``check id -> who``.

    ``inventory`` is an ``inventory.json`` (``connshift.inventory/1``); None when none was
    given (the needs are then unknown). Rules:

    * a CDC source (Debezium) without ``topic.creation.default.replication.factor`` and
      ``...partitions`` relies on broker topic auto-creation for new tables' topics;
    * a source with ``exactly.once.support=required`` or a ``transaction.boundary`` needs
      transactions;
    * a sink connector needs consumer groups;
    * any connector needs Connect's internal topics (when its workers move to the cluster);
    * a compacted topic needs compaction; a topic with ``max.message.bytes`` above Kafka's
      default needs a raised limit honoured; a LogAppendTime topic needs LogAppendTime.
    """
    if inventory is None:
        return None
    needs: dict[str, list[str]] = {}

    def need(check: str, who: str) -> None:
        needs.setdefault(check, [])
        if who not in needs[check]:
            needs[check].append(who)

    for c in inventory.get("connectors", []) or []:
        name = str(c.get("name", "?"))
        cls = str(c.get("class") or c.get("config", {}).get("connector.class", ""))
        ctype = str(c.get("type", ""))
        config = c.get("config", {}) or {}
        label = f"connector {name}"
        need("connect.internal-topics", label)
        if ctype == "sink":
            need("groups.join-commit-alter-delete", label)
        if cls.startswith(CDC_PREFIXES) and not (
            "topic.creation.default.replication.factor" in config
            and "topic.creation.default.partitions" in config
        ):
            need("topics.auto-create", label)
        if config.get("exactly.once.support") == "required" or "transaction.boundary" in config:
            need("transactions.commit-abort", label)
    for t in inventory.get("topics", []) or []:
        name = str(t.get("name", "?"))
        configs = t.get("configs", {}) or {}
        if "compact" in str(configs.get("cleanup.policy", "")):
            need("compaction.honoured", f"topic {name}")
        try:
            if int(configs.get("max.message.bytes", 0)) > 1048588:
                need("message.max-size", f"topic {name}")
        except (TypeError, ValueError):
            pass
        if configs.get("message.timestamp.type") == "LogAppendTime":
            need("timestamps.log-append-time", f"topic {name}")
    return needs


# --------------------------------------------------------------------------- the result


@dataclass
class ProbeResult:
    """Every check of one probe run against one cluster, and how the run cleaned up."""

    side: str
    bootstrap: str
    prefix: str
    started_at: str
    kafka_version: str | None = None
    cluster_id: str | None = None
    brokers: int = 0
    seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    needs: dict[str, list[str]] | None = None
    cleanup: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No check failed (SKIPs do not fail a probe)."""
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status is Status.FAIL]

    def status_of(self, check_id: str) -> Status | None:
        """The status of one check (None when it did not run)."""
        return next((c.status for c in self.checks if c.id == check_id), None)

    def needed_failures(self) -> dict[str, list[str]]:
        """Failed or skipped checks the estate relies on: ``check id -> who needs it``."""
        if not self.needs:
            return {}
        return {
            c.id: self.needs[c.id]
            for c in self.checks
            if c.id in self.needs and c.status in (Status.FAIL, Status.SKIP)
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "side": self.side,
            "bootstrap": self.bootstrap,
            "kafka_version": self.kafka_version,
            "cluster_id": self.cluster_id,
            "brokers": self.brokers,
            "prefix": self.prefix,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 2),
            "ok": self.ok,
            "tally": tally(self.checks),
            "checks": [
                {**c.to_json(), "seconds": round(self.timings.get(c.id, 0.0), 2)}
                for c in self.checks
            ],
            "needs": self.needs,
            "needed_failures": self.needed_failures(),
            "cleanup": self.cleanup,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeResult:
        """Read back :meth:`to_json` output (ValueError for another schema)."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema {data.get('schema')!r})")
        checks = [
            CheckResult(
                id=c["id"],
                status=Status(c["status"]),
                subject=c.get("subject", ""),
                summary=c.get("summary", ""),
                evidence=dict(c.get("evidence", {})),
            )
            for c in data.get("checks", [])
        ]
        return cls(
            side=data["side"],
            bootstrap=data["bootstrap"],
            prefix=data["prefix"],
            started_at=data["started_at"],
            kafka_version=data.get("kafka_version"),
            cluster_id=data.get("cluster_id"),
            brokers=int(data.get("brokers", 0)),
            seconds=float(data.get("seconds", 0.0)),
            checks=checks,
            timings={c["id"]: float(c.get("seconds", 0.0)) for c in data.get("checks", [])},
            needs=data.get("needs"),
            cleanup=dict(data.get("cleanup", {})),
        )


# --------------------------------------------------------------------------- the matrix


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_adds(summary: str, error: object) -> bool:
    """Whether the client's error says something ``summary`` does not already say.

    A refusal's summary quotes the cause (``refused: UNKNOWN_TOPIC...``) and its error adds
    only the headline (``could not ...: UNKNOWN_TOPIC...``): not worth showing twice.
    """
    if not error:
        return False
    text = str(error)
    return text not in summary and text.split(": ", 1)[-1] not in summary


def note_for(check: CheckResult) -> str:
    """The footnote of a non-PASS cell: the summary, then the error the client saw."""
    text = check.summary
    error = check.evidence.get("error")
    if error_adds(text, error):
        text += f" — client error: {error}"
    return _one_line(text)


def render_matrix(
    runs: Sequence[tuple[str, ProbeResult]],
    *,
    title: str,
    preamble: Iterable[str] = (),
) -> str:
    """A Markdown matrix: one row per check, one column per ``(label, result)``.

    PASS cells are plain; FAIL and SKIP cells carry a footnote with the check's summary and
    the client's error. Checks are in catalogue order; a check a run did not report is ``—``.
    """
    lines = [f"# {title}", ""]
    lines.extend(preamble)
    lines.append("")
    lines.append("| check | " + " | ".join(label for label, _ in runs) + " |")
    lines.append("|---|" + "---|" * len(runs))
    notes: list[str] = []
    for check_id, _what in CHECKS:
        cells = []
        for label, result in runs:
            check = next((c for c in result.checks if c.id == check_id), None)
            if check is None:
                cells.append("—")
            elif check.status is Status.PASS:
                cells.append("PASS")
            else:
                notes.append(f"[^{len(notes) + 1}]: **{check_id}** on {label}: {note_for(check)}")
                cells.append(f"**{check.status}** [^{len(notes)}]")
        lines.append(f"| `{check_id}` | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("| | " + " | ".join(label for label, _ in runs) + " |")
    lines.append("|---|" + "---|" * len(runs))
    for status in (Status.PASS, Status.FAIL, Status.SKIP):
        counts = [str(tally(r.checks)[status.value]) for _, r in runs]
        lines.append(f"| {status} | " + " | ".join(counts) + " |")
    lines.append("")
    lines.append("## What each check proves")
    lines.append("")
    for check_id, what in CHECKS:
        lines.append(f"- `{check_id}`: {what}.")
    if notes:
        lines.append("")
        lines.append("## Notes")
        lines.append("")
        lines.extend(notes)
    lines.append("")
    return "\n".join(lines)
