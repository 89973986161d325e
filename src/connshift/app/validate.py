"""``connshift validate``: a contract test between the source and its copy.

Per partition, over the range sync has copied: counts, first and last offsets, an
order-sensitive digest over key, value, headers and timestamp, missing records,
duplicates and foreign records, each checked *through the exact offset map*, and the
first difference named by its offset on each side; and, per consumer group applied on
the destination, that its committed offset is the exact translation and points at the
same record on both sides. A stream of :class:`CheckResult`; any FAIL makes the command
exit 1.

Both sides are read as streams (:class:`connshift.core.streamdiff.StreamDiff`): one
consumer per cluster holds up to :data:`WINDOW` partitions at once, each read from the
start of its copied range, and a partition whose side runs ahead of the other by more
than its share of :data:`BACKLOG` records is paused on that side until the other catches
up. Memory does not grow with partition size (compacted topics: with the distinct keys
whose records wait to be found superseded); no per-partition set-up beyond adding it to
the two consumers' assignments. The consumer positions the group checks need are
collected before the read, and the digest of the record each one points at kept as the
stream passes it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.app.context import Migration
from connshift.app.groups import GroupOffset, Translation, translate
from connshift.app.steps import ended
from connshift.app.sync import select_topics
from connshift.core.checks import CheckResult, Status, tally
from connshift.core.digest import record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.core.streamdiff import Entry, PartitionDiff, StreamDiff, same_next_record
from connshift.errors import KafkaError
from connshift.io.kafka import KafkaCluster, KafkaConsumer, TopicPartition

Reporter = Callable[[str], None]
TP = tuple[str, int]

WINDOW = 256  # partitions read at once (each costs ~0.1 MB of librdkafka state per side)
BACKLOG = 100_000  # records held per side, over all partitions, waiting for the other side
SHARE = 1000  # ... but each partition may hold at least this many
BATCH = 5000  # messages per consume call
STALL = 120.0  # seconds without a record or an end on any partition before giving up
PROGRESS = 5.0  # seconds between progress lines
LEARN = 300.0  # seconds between the readers' metadata requests for every topic
_NO_END = 1 << 62  # read to the end fetches report

#: the readers' librdkafka settings: committed records only, partition ends reported,
#: bounded prefetch (the consumer's queue, not per partition)
READER = {
    "group.id": "connshift-validate",
    "isolation.level": "read_committed",
    "enable.partition.eof": True,
    "fetch.wait.max.ms": 50,
    "fetch.queue.backoff.ms": 10,
    "queued.max.messages.kbytes": 32 * 1024,
    "fetch.max.bytes": 32 * 1024 * 1024,
}


@dataclass
class ValidateResult:
    """Every check of one validate run, and how fast it compared."""

    checks: list[CheckResult] = field(default_factory=list)
    partitions: int = 0  # partitions compared
    source_records: int = 0
    destination_records: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.status is not Status.FAIL for c in self.checks)

    @property
    def records_per_second(self) -> float:
        """Source records compared with their copies per second of the whole run."""
        return self.source_records / self.seconds if self.seconds > 0 else 0.0

    def throughput(self) -> str:
        return (
            f"compared {self.source_records:,} records in {self.partitions:,} partitions "
            f"in {self.seconds:.1f} s: {self.records_per_second:,.0f} records/s"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.validate/1",
            "ok": self.ok,
            "tally": tally(self.checks),
            "throughput": {
                "partitions": self.partitions,
                "source_records": self.source_records,
                "destination_records": self.destination_records,
                "seconds": round(self.seconds, 3),
                "records_per_second": round(self.records_per_second, 1),
            },
            "checks": [c.to_json() for c in self.checks],
        }


@dataclass
class _Part:
    """One partition to compare: where to read on each side, and its comparison."""

    topic: str
    partition: int
    dst_topic: str
    pmap: PartitionMap
    compacted: bool
    boundary: int | None  # a cut-over connector writes the destination from here
    src_positions: list[int] = field(default_factory=list)  # for the group checks
    dst_positions: list[int] = field(default_factory=list)
    diff: StreamDiff | None = None
    result: PartitionDiff | None = None
    paused: list[bool] = field(default_factory=lambda: [False, False])  # source, destination

    @property
    def subject(self) -> str:
        return f"{self.topic}[{self.partition}]"

    def started(self) -> StreamDiff:
        self.diff = StreamDiff(
            self.pmap,
            compacted=self.compacted,
            source_positions=self.src_positions,
            destination_positions=self.dst_positions,
        )
        return self.diff


def validate(
    migration: Migration,
    topics: Sequence[str] | None = None,
    *,
    groups: bool = True,
    report: Reporter = lambda _m: None,
    record: bool = True,
) -> ValidateResult:
    """Compare source and destination over what sync copied; check applied groups. The
    result is recorded as ``validate`` evidence (with the ``--topics`` filter)."""
    began = time.monotonic()
    result = ValidateResult()
    subjects, parts = _plan(migration, topics)
    rows = _group_rows(migration, parts) if groups else []
    result.partitions = len(parts)
    if parts:
        report(
            f"comparing {len(parts):,} partitions of "
            f"{len({topic for topic, _ in parts}):,} topics with their copies"
        )
        _compare(migration.src, migration.dst, list(parts.values()), report)
    after = _produced_after_cutover(migration.dst, list(parts.values()))
    for subject in subjects:
        if isinstance(subject, CheckResult):
            result.checks.append(subject)
            continue
        part = parts[subject]
        assert part.result is not None
        result.source_records += part.result.source_records
        result.destination_records += part.result.destination_records
        result.checks.append(_stream_check(part, part.result, after.get(subject, 0)))
    if groups:
        result.checks.extend(_group_checks(migration, rows, parts))
    result.seconds = time.monotonic() - began
    if record:
        migration.record("validate", {**result.to_json(), "topics_filter": list(topics or [])})
    return result


def _plan(
    migration: Migration, topics: Sequence[str] | None
) -> tuple[list[CheckResult | TP], dict[TP, _Part]]:
    """The partitions in scope, in order: a FAIL for each one sync has not copied, a
    :class:`_Part` for the others."""
    spec, src = migration.spec, migration.src
    src_topics = src.topics()
    selected = select_topics(list(src_topics), spec, topics)
    configs = src.topics_configs(selected) if selected else {}
    moved = cutover_boundaries(migration)
    subjects: list[CheckResult | TP] = []
    parts: dict[TP, _Part] = {}
    for topic in selected:
        compacted = "compact" in configs.get(topic, {}).get("cleanup.policy", "delete")
        for part in range(src_topics[topic].partitions):
            found = migration.maps.get(topic, part)
            if found is None:
                subjects.append(
                    CheckResult(
                        "stream.copied",
                        Status.FAIL,
                        f"{topic}[{part}]",
                        "not copied: sync has no offset map for this partition",
                    )
                )
                continue
            subjects.append((topic, part))
            parts[(topic, part)] = _Part(
                topic, part, found.dst_topic, found.map, compacted, moved.get((topic, part))
            )
    return subjects, parts


def _stream_check(part: _Part, diff: PartitionDiff, after: int) -> CheckResult:
    pmap = part.pmap
    evidence = {
        "destination": f"{part.dst_topic}[{part.partition}]",
        "copied_source_range": [pmap.src_start, pmap.src_next],
        "destination_range": [pmap.dst_start, pmap.dst_next],
        "offsets_identical": pmap.contiguous,
        "map_runs": len(pmap.runs),
        "compacted": part.compacted,
        "produced_on_destination_after_cutover": after,
        **diff.evidence(),
    }
    if diff.ok:
        summary = (
            f"{diff.matched} records identical in order"
            + (", same offsets" if pmap.contiguous else f", mapped in {len(pmap.runs)} runs")
            + (f"; {diff.superseded} superseded by compaction" if diff.superseded else "")
        )
        return CheckResult("stream.diff", Status.PASS, part.subject, summary, evidence)
    summary = (
        f"{diff.missing_count} missing, {diff.duplicates_count} duplicated, "
        f"{diff.mismatched_count} different, {diff.foreign_count} foreign"
        + (f", {diff.unclassified} beyond the map" if diff.unclassified else "")
    )
    if diff.first_difference is not None:
        summary += f"; {diff.first_difference.describe()}"
    return CheckResult("stream.diff", Status.FAIL, part.subject, summary, evidence)


# ---------------------------------------------------------------------------- reading


class _Range:
    """One partition a :class:`_Reader` reads: up to ``end`` (exclusive; None: to the
    end fetches report), the last offset delivered."""

    __slots__ = ("compacted", "end", "last", "part", "tp")

    def __init__(self, tp: TP, end: int | None, compacted: bool, part: _Part) -> None:
        self.tp = tp
        self.end = _NO_END if end is None else end
        self.compacted = compacted
        self.part = part
        self.last = -1


class _Reader:
    """One consumer reading many partitions of one cluster as :data:`Entry` streams.

    Each partition is read from a start offset until its end (or the end fetches report:
    partition EOF), then dropped from the assignment; a record delivered twice (after a
    pause) is skipped. Errors other than a partition's end raise :class:`KafkaError`.
    """

    def __init__(self, cluster: KafkaCluster) -> None:
        self.cluster = cluster
        self.consumer: KafkaConsumer = cluster.open_consumer(READER)
        self.open: dict[TP, _Range] = {}
        self.last_news = time.monotonic()
        self._learned = -LEARN  # when the consumer last learnt every topic's leaders

    def add(self, ranges: Sequence[tuple[_Range, int]]) -> None:
        """Start reading each range from its offset."""
        for rng, _start in ranges:
            self.open[rng.tp] = rng
        if ranges:
            if time.monotonic() - self._learned > LEARN:
                self.consumer.learn_topics()
                self._learned = time.monotonic()
            self.consumer.incremental_assign(
                [TopicPartition(r.tp[0], r.tp[1], start) for r, start in ranges]
            )
            self.last_news = time.monotonic()

    def pause(self, tp: TP, paused: bool) -> None:
        if tp in self.open:
            (self.consumer.pause if paused else self.consumer.resume)([TopicPartition(*tp)])

    def read(self, timeout: float) -> list[tuple[_Range, list[Entry], bool]]:
        """What the next consume brought: per range, its new entries and whether it ended."""
        msgs = self.consumer.consume(BATCH, timeout)
        if not msgs:
            return []
        self.last_news = time.monotonic()
        out: dict[TP, tuple[_Range, list[Entry]]] = {}
        ended: set[TP] = set()
        digest = record_digest
        cur_tp: TP | None = None
        cur: _Range | None = None
        entries: list[Entry] = []
        append = entries.append
        last = end = 0
        compacted = False
        for msg in msgs:
            tp = (msg.topic(), msg.partition())
            if tp != cur_tp:  # messages come in runs of one partition
                if cur is not None:
                    cur.last = last
                cur_tp = tp
                cur = None if tp in ended else self.open.get(tp)
                if cur is not None:
                    entries = out.setdefault(tp, (cur, []))[1]
                    append = entries.append
                    last, end, compacted = cur.last, cur.end, cur.compacted
            if msg.error() is not None:
                self.consumer.eof_offset(msg)  # raises unless it is a partition's end
                if cur is not None:
                    cur.last = last
                    ended.add(tp)
                    cur = None
                continue
            if cur is None:
                continue
            off = msg.offset()
            if off <= last:
                continue  # delivered again after a pause
            if off >= end:
                ended.add(tp)
                cur = None
                continue
            key = msg.key()
            append(
                (
                    off,
                    digest(key, msg.value(), msg.headers(), msg.timestamp()[1]),
                    (-1 if key is None else hash(key)) if compacted else 0,
                )
            )
            last = off
            if off + 1 >= end:
                cur.last = last
                ended.add(tp)
                cur = None
        if cur is not None:
            cur.last = last
        if ended:
            self.consumer.incremental_unassign([TopicPartition(*tp) for tp in ended])
            for tp in ended:
                del self.open[tp]
        return [(rng, ents, tp in ended) for tp, (rng, ents) in out.items()]

    def stall_error(self) -> KafkaError:
        first = sorted(self.open)[0]
        return KafkaError(
            f"timed out reading {len(self.open)} partition(s) on the {self.cluster.name} cluster",
            why=f"{first[0]}[{first[1]}] and others gave no record and no end for {STALL:.0f}s",
            topic=first[0],
            partition=first[1],
        )

    def close(self) -> None:
        self.consumer.close()


def _compare(src: KafkaCluster, dst: KafkaCluster, parts: list[_Part], report: Reporter) -> None:
    """Compare every partition, :data:`WINDOW` at a time, both sides streamed in step;
    each :class:`_Part` gets its ``result``."""
    readers = (_Reader(src), _Reader(dst))
    try:
        lookups = _stream(readers, parts, report)
        if lookups:
            _look_up_on_source(readers[0], lookups)
    finally:
        for reader in readers:
            reader.close()


def _stream(readers: tuple[_Reader, _Reader], parts: list[_Part], report: Reporter) -> list[_Part]:
    """The main read; the partitions whose destination holds records beyond the map (their
    digests are to be looked up on the source) are returned unfinished."""
    waiting = deque(parts)
    active: set[int] = set()  # id() of the parts being read
    lookups: list[_Part] = []
    total, done, records = len(parts), 0, 0
    began = last_report = time.monotonic()
    idle = 0.0

    def finish(part: _Part) -> None:
        nonlocal done, records
        diff = part.diff
        assert diff is not None
        active.discard(id(part))
        done += 1
        records += diff.records[0]
        if diff.beyond_map_digests():
            lookups.append(part)
        else:
            part.result = diff.result()
            part.diff = None

    while waiting or active:
        adding: tuple[list[tuple[_Range, int]], list[tuple[_Range, int]]] = ([], [])
        while waiting and len(active) < WINDOW:
            part = waiting.popleft()
            diff = part.started()
            pmap = part.pmap
            if pmap.src_next > pmap.src_start:
                rng = _Range((part.topic, part.partition), pmap.src_next, part.compacted, part)
                adding[0].append((rng, pmap.src_start))
            else:
                diff.end_source()
            # the destination to its end (its ListOffsets may be wrong: tansu), or to where
            # a cut-over connector's own records begin
            end = part.boundary
            if end is None or end > pmap.dst_start:
                rng = _Range((part.dst_topic, part.partition), end, part.compacted, part)
                adding[1].append((rng, pmap.dst_start))
            else:
                diff.end_destination()
            if diff.ended:
                finish(part)
            else:
                active.add(id(part))
        for reader, ranges in zip(readers, adding, strict=True):
            reader.add(ranges)
        share = max(SHARE, BACKLOG // max(1, len(active)))
        news = False
        for side, reader in enumerate(readers):
            for rng, entries, ended_now in reader.read(idle):
                news = True
                part = rng.part
                fed = part.diff
                assert fed is not None
                if side == 0:
                    fed.add_source(entries)
                    if ended_now:
                        fed.end_source()
                else:
                    fed.add_destination(entries)
                    if ended_now:
                        fed.end_destination()
                if fed.ended:
                    finish(part)
                    continue
                _flow(readers, part, fed.backlog(), share)
        idle = 0.0 if news else min(0.05, idle + 0.005)
        _check_stall(readers)
        now = time.monotonic()
        if now - last_report >= PROGRESS:
            last_report = now
            rate = records / (now - began)
            report(f"compared {done:,}/{total:,} partitions, {records:,} records ({rate:,.0f}/s)")
    return lookups


def _check_stall(readers: Sequence[_Reader]) -> None:
    """:class:`KafkaError` when no reader has had news for :data:`STALL` seconds (one side
    may wait, paused, while the other delivers)."""
    if time.monotonic() - max(r.last_news for r in readers) > STALL:
        stuck = next((r for r in readers if r.open), None)
        if stuck is not None:
            raise stuck.stall_error()


def _flow(
    readers: tuple[_Reader, _Reader], part: _Part, backlog: tuple[int, int], share: int
) -> None:
    """Pause a side of ``part`` that holds more than ``share`` records the other side has
    not reached; resume it once it holds less than half that."""
    for side in (0, 1):
        held = backlog[side]
        tp = (part.topic, part.partition) if side == 0 else (part.dst_topic, part.partition)
        if not part.paused[side] and held > share:
            part.paused[side] = True
            readers[side].pause(tp, True)
        elif part.paused[side] and held <= share // 2:
            part.paused[side] = False
            readers[side].pause(tp, False)


def _look_up_on_source(reader: _Reader, parts: list[_Part]) -> None:
    """Read the copied range of each part's source again for the digests of its
    destination records beyond the map (duplicates if found, else foreign); finish it."""
    for i in range(0, len(parts), WINDOW):
        chunk = parts[i : i + WINDOW]
        wanted: dict[TP, tuple[set[bytes], set[bytes]]] = {}
        ranges = []
        for part in chunk:
            assert part.diff is not None
            tp = (part.topic, part.partition)
            wanted[tp] = (part.diff.beyond_map_digests(), set())
            if part.pmap.src_next > part.pmap.src_start:
                ranges.append((_Range(tp, part.pmap.src_next, False, part), part.pmap.src_start))
        reader.add(ranges)
        while reader.open:
            for rng, entries, _ended in reader.read(0.05):
                look, found = wanted[rng.tp]
                found.update(e[1] for e in entries if e[1] in look)
            _check_stall((reader,))
        for part in chunk:
            assert part.diff is not None
            part.result = part.diff.result(wanted[(part.topic, part.partition)][1])
            part.diff = None


def _produced_after_cutover(dst: KafkaCluster, parts: list[_Part]) -> dict[TP, int]:
    """Records a cut-over connector wrote on the destination after the copied range."""
    by_topic: dict[str, list[_Part]] = {}
    for part in parts:
        if part.boundary is not None:
            by_topic.setdefault(part.dst_topic, []).append(part)
    out: dict[TP, int] = {}
    for dst_topic, moved in by_topic.items():
        ends = dst.end_offsets(dst_topic, [p.partition for p in moved])
        for p in moved:
            assert p.boundary is not None
            out[(p.topic, p.partition)] = ends[p.partition][1] - p.boundary
    return out


def cutover_boundaries(migration: Migration) -> dict[tuple[str, int], int]:
    """(source topic, partition) -> destination offset where a cut-over connector's own
    records begin, for connectors whose latest cutover is not rolled back."""
    if not (Path(migration.spec.state_dir) / "journal.db").is_file():
        return {}
    out: dict[tuple[str, int], int] = {}
    journal = migration.journal
    for name in journal.connectors():
        attempt = journal.attempt(name)
        if ended(journal, name, attempt):  # rolled back: nothing of it stays moved
            continue
        done = journal.done_steps(name, attempt)
        if "resume" not in done or "catch-up" not in done:
            continue
        for key, end in done["catch-up"].data.get("ends", {}).items():
            topic, _, part = key.rpartition("/")
            out[(topic, int(part))] = int(end["dst_next"])
    return out


# ---------------------------------------------------------------------------- groups


def _group_rows(migration: Migration, parts: dict[TP, _Part]) -> list[GroupOffset]:
    """The source groups' committed offsets on the partitions compared, translated; the
    positions on each side are handed to the comparisons, which keep the digest of the
    record each one points at as the stream passes it."""
    rows = [
        row
        for row in translate(migration).offsets
        if row.translation is not Translation.NOT_MIGRATED and (row.topic, row.partition) in parts
    ]
    for row in rows:
        if row.destination_offset is not None:
            part = parts[(row.topic, row.partition)]
            part.src_positions.append(row.source_offset)
            part.dst_positions.append(row.destination_offset)
    return rows


def _group_checks(
    migration: Migration, rows: list[GroupOffset], parts: dict[TP, _Part]
) -> Iterator[CheckResult]:
    dst = migration.dst
    dst_groups = set(dst.groups())
    applied: dict[str, dict[tuple[str, int], int]] = {}
    for row in rows:
        subject = f"group {row.group} {row.topic}[{row.partition}]@{row.source_offset}"
        if row.destination_offset is None:
            yield CheckResult(
                "group.translated",
                Status.FAIL,
                subject,
                "committed beyond what sync has copied: not translated",
                {"translation": str(row.translation)},
            )
            continue
        part = parts[(row.topic, row.partition)]
        assert part.result is not None
        dst_topic = part.dst_topic
        same = same_next_record(
            part.result.source_next.get(row.source_offset),
            part.result.destination_next.get(row.destination_offset),
        )
        evidence: dict[str, Any] = {
            "translation": str(row.translation),
            "destination": f"{dst_topic}[{row.partition}]@{row.destination_offset}",
            "same_next_record": same,
        }
        if row.group in dst_groups and row.group not in applied:
            applied[row.group] = dst.group_offsets(row.group)
        committed = applied.get(row.group, {}).get((dst_topic, row.partition))
        if committed is None:  # not applied on the destination (for this copy)
            yield CheckResult(
                "group.translated",
                Status.PASS if same is not False else Status.FAIL,
                subject,
                f"translates to {dst_topic}[{row.partition}]@{row.destination_offset} "
                f"({row.translation}); not applied on the destination",
                evidence,
            )
            continue
        evidence["destination_committed"] = committed
        ok = committed == row.destination_offset and same is not False
        yield CheckResult(
            "group.resume",
            Status.PASS if ok else Status.FAIL,
            subject,
            (
                f"resumes at {dst_topic}[{row.partition}]@{committed}: the same record"
                if ok
                else f"destination committed {committed}, exact translation is "
                f"{row.destination_offset}"
            ),
            evidence,
        )
