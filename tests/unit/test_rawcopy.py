"""Unit tests of connshift.app.rawcopy: the planner (pure) and the engine against fake clients.

The fake source serves a list of record batches the way a broker does (from the batch holding
the fetch offset, up to a byte limit, possibly ending with a partial batch, with the aborted
transactions of the fetched range); the fake destination validates every produced batch the way
Apache Kafka's LogValidator does (CRC, offset range = record count, no control batch, sequence
continuity) and keeps the records with the offsets it assigned.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import crc32c
import pytest

from connshift.app.rawcopy import (
    Chunk,
    CopyOptions,
    PartitionPlanner,
    PartitionRange,
    RawPartitionCopier,
    RawTopicCopier,
    copy_many,
    runs_of,
)
from connshift.core.recordbatch import (
    BatchView,
    ControlType,
    Rec,
    TimestampType,
    decode_records,
    encode_batch,
    increment_sequence,
    iter_batches,
)
from connshift.errors import KafkaError
from connshift.io.kafka_raw import (
    ErrorCode,
    FetchResult,
    PendingFetch,
    PendingProduce,
    ProduceResult,
    RawClient,
)

# --------------------------------------------------------------------------------------------
# batch builders
# --------------------------------------------------------------------------------------------


def patch(raw: bytes, *, attributes: int | None = None, **fields: int) -> bytes:
    out = bytearray(raw)
    if attributes is not None:
        struct.pack_into(">h", out, 21, attributes)
    where = {"base_offset": (0, ">q"), "last_offset_delta": (23, ">i"), "max_ts": (35, ">q")}
    for name, value in fields.items():
        pos, fmt = where[name]
        struct.pack_into(fmt, out, pos, value)
    struct.pack_into(">I", out, 17, crc32c.crc32c(bytes(out[21:])))
    return bytes(out)


def rec(offset: int) -> Rec:
    return Rec(
        offset,
        1_700_000_000_000 + offset,
        f"k{offset}".encode(),
        f"v{offset}".encode(),
        (("h", str(offset).encode()),),
    )


def plain(base: int, n: int, *, pid: int = 100, tx: bool = False, codec: int = 0) -> bytes:
    raw = encode_batch(
        [rec(base + i) for i in range(n)],
        producer_id=pid,
        producer_epoch=0,
        base_sequence=base,
        compression=codec,
    )
    return patch(raw, attributes=(0x10 if tx else 0) | codec, base_offset=base)


def holed(offsets: list[int], *, last: int) -> bytes:
    """A compacted batch: records at ``offsets`` kept, its offset range up to ``last``."""
    base = offsets[0]
    raw = encode_batch(
        [rec(o) for o in offsets], producer_id=100, producer_epoch=0, base_sequence=0
    )
    # rewrite the records' offset deltas: re-encode each record with its real delta
    body = b"".join(
        _record(o - base, r) for o, r in zip(offsets, (rec(o) for o in offsets), strict=True)
    )
    head = bytearray(raw[:61])
    struct.pack_into(">i", head, 8, 49 + len(body))
    return patch(bytes(head) + body, base_offset=base, last_offset_delta=last - base)


def _record(delta: int, r: Rec) -> bytes:
    from connshift.core.recordbatch import encode_record

    return encode_record(
        delta, r.timestamp - rec(r.offset - delta).timestamp, r.key, r.value, r.headers
    )


def empty(base: int, last: int) -> bytes:
    """An empty batch compaction keeps for producer state: no records, an offset range."""
    raw = encode_batch([rec(base)], producer_id=100, producer_epoch=0, base_sequence=0)
    head = bytearray(raw[:61])
    struct.pack_into(">i", head, 8, 49)
    struct.pack_into(">i", head, 57, 0)
    return patch(bytes(head), base_offset=base, last_offset_delta=last - base)


def marker(offset: int, pid: int, kind: ControlType) -> bytes:
    raw = encode_batch(
        [Rec(0, 1, struct.pack(">hh", 0, int(kind)), b"\0\0\0\0\0\0")],
        producer_id=pid,
        producer_epoch=0,
    )
    return patch(raw, attributes=0x30, base_offset=offset)


def lat(base: int, n: int, append_time: int) -> bytes:
    raw = encode_batch(
        [rec(base + i) for i in range(n)],
        producer_id=100,
        producer_epoch=0,
        base_sequence=0,
        timestamp_type=TimestampType.LOG_APPEND_TIME,
    )
    return patch(raw, base_offset=base, max_ts=append_time)


def decoded(data: bytes) -> list[tuple[bytes | None, bytes | None]]:
    return [(r.key, r.value) for b in iter_batches(data) for r in decode_records(b)]


def planner(
    start: int = 0, until: int | None = 1000, dst: int = 0, seq: int = 0
) -> PartitionPlanner:
    return PartitionPlanner(
        start=start, dst_next=dst, until=until, producer_id=7, producer_epoch=2, base_sequence=seq
    )


def kv(offsets: range | list[int]) -> list[tuple[bytes, bytes]]:
    return [(f"k{o}".encode(), f"v{o}".encode()) for o in offsets]


# --------------------------------------------------------------------------------------------
# runs and the planner
# --------------------------------------------------------------------------------------------


def test_runs_of() -> None:
    assert runs_of([], 5) == []
    assert runs_of([3, 4, 5], 0) == [(3, 0, 3)]
    assert runs_of([0, 1, 5, 6, 9], 10) == [(0, 10, 2), (5, 12, 2), (9, 14, 1)]


def test_contiguous_batches_pass_through_restamped() -> None:
    log = plain(0, 3) + plain(3, 4, tx=True) + plain(7, 2, codec=3)
    pl = planner(seq=10)
    pieces = pl.plan(log)
    assert [p.runs for p in pieces] == [[(0, 0, 3)], [(3, 3, 4)], [(7, 7, 2)]]
    assert [p.src_next for p in pieces] == [3, 7, 9]
    batches = [BatchView(memoryview(p.batch or b"")) for p in pieces]
    assert all(b.crc_valid() and b.producer_id == 7 and b.producer_epoch == 2 for b in batches)
    assert [b.base_sequence for b in batches] == [10, 13, 17]
    assert not any(b.is_transactional for b in batches)
    assert batches[2].compression == 3
    # records untouched: same bytes after the header
    assert [p.batch[61:] for p in pieces if p.batch] == [b.raw[61:] for b in iter_batches(log)]
    assert (pl.pos, pl.dst_next, pl.sequence) == (9, 9, 19)


def test_partial_trailing_batch_waits() -> None:
    log = plain(0, 3) + plain(3, 3)
    pl = planner()
    assert [p.runs for p in pl.plan(log[:-5])] == [[(0, 0, 3)]]
    assert pl.pos == 3
    assert [p.runs for p in pl.plan(log[len(plain(0, 3)) :])] == [[(3, 3, 3)]]


def test_start_inside_a_batch_reencodes_the_rest() -> None:
    pl = planner(start=2)
    (piece,) = pl.plan(plain(0, 5, codec=1))
    assert piece.runs == [(2, 0, 3)] and piece.records == 3 and piece.src_next == 5
    batch = BatchView(memoryview(piece.batch or b""))
    assert batch.crc_valid() and batch.is_contiguous and batch.compression == 1
    assert decoded(piece.batch or b"") == kv(range(2, 5))


def test_until_inside_a_batch_splits_it() -> None:
    pl = planner(until=6)
    pieces = pl.plan(plain(0, 4) + plain(4, 4) + plain(8, 4))
    assert [p.runs for p in pieces] == [[(0, 0, 4)], [(4, 4, 2)]]
    assert decoded(pieces[1].batch or b"") == kv([4, 5])
    assert pl.pos == 6 and pl.done


def test_batch_before_start_is_skipped() -> None:
    pl = planner(start=5)
    assert [p.runs for p in pl.plan(plain(0, 5) + plain(5, 2))] == [[(5, 0, 2)]]


def test_holed_batch_reencoded_contiguously_with_exact_runs() -> None:
    pl = planner()
    (piece,) = pl.plan(holed([0, 3, 4, 9], last=11))
    assert piece.runs == [(0, 0, 1), (3, 1, 2), (9, 3, 1)]
    assert piece.src_next == 12 and pl.dst_next == 4
    batch = BatchView(memoryview(piece.batch or b""))
    assert batch.is_contiguous and batch.record_count == 4 and batch.crc_valid()
    assert decoded(piece.batch or b"") == kv([0, 3, 4, 9])


def test_control_aborted_and_empty_batches_are_gaps() -> None:
    log = b"".join(
        [
            plain(0, 3, pid=1, tx=True),
            marker(3, 1, ControlType.COMMIT),
            plain(4, 3, pid=1, tx=True),  # aborted
            marker(7, 1, ControlType.ABORT),
            empty(8, 12),
            plain(13, 2),
        ]
    )
    pl = planner()
    pieces = pl.plan(log, [(1, 4)])
    assert [p.runs for p in pieces] == [[(0, 0, 3)], [(13, 3, 2)]]
    assert [p.src_next for p in pieces] == [13, 15]  # the gap rides on the previous piece
    assert pl.pos == 15 and pl.dst_next == 5


def test_only_skipped_offsets_make_one_empty_piece() -> None:
    pl = planner(start=3)
    (piece,) = pl.plan(marker(3, 1, ControlType.COMMIT) + empty(4, 9))
    assert piece.batch is None and piece.runs == [] and piece.src_next == 10
    assert pl.plan(b"") == []


def test_log_append_time_becomes_create_time_with_the_append_time() -> None:
    pl = planner()
    (piece,) = pl.plan(lat(0, 3, append_time=123_456))
    batch = BatchView(memoryview(piece.batch or b""))
    assert batch.timestamp_type is TimestampType.CREATE_TIME
    assert [r.timestamp for r in decode_records(batch)] == [123_456] * 3


def test_sequence_wraps() -> None:
    pl = planner(seq=2**31 - 2)
    pieces = pl.plan(plain(0, 3) + plain(3, 3))
    seqs = [BatchView(memoryview(p.batch or b"")).base_sequence for p in pieces]
    assert seqs == [2**31 - 2, 1] and pl.sequence == 4


def test_planning_needs_until() -> None:
    with pytest.raises(ValueError):
        planner(until=None).plan(plain(0, 1))


# a fragmented source: one record per batch, as a Connect source task's polls, a rollback's
# copy-back or any trickle of single records write it (the shape of files.access-log after a
# few cutovers and rollbacks in the sandbox)
TRICKLE = b"".join(plain(i, 1, pid=100 + i) for i in range(40))


def coalescing(**kw: int) -> PartitionPlanner:
    return PartitionPlanner(
        start=kw.get("start", 0),
        dst_next=kw.get("dst", 0),
        until=kw.get("until", 1000),
        producer_id=7,
        producer_epoch=2,
        base_sequence=kw.get("seq", 0),
        coalesce_below=kw.get("below", 1024),
        coalesce_bytes=kw.get("most", 64 << 10),
    )


def test_tiny_batches_stay_tiny_without_coalescing() -> None:
    assert len(planner().plan(TRICKLE)) == 40  # what the raw copy wrote before: 40 batches


def test_tiny_batches_coalesce_into_one_batch_with_exact_offsets() -> None:
    pl = coalescing(seq=5)
    (piece,) = pl.plan(TRICKLE)
    assert piece.runs == [(0, 0, 40)] and piece.records == 40 and piece.src_next == 40
    batch = BatchView(memoryview(piece.batch or b""))
    assert batch.crc_valid() and batch.is_contiguous and batch.record_count == 40
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (7, 2, 5)
    assert batch.timestamp_type is TimestampType.CREATE_TIME
    # every record as it was: key, value, headers, timestamp
    assert decode_records(batch) == [rec(i) for i in range(40)]
    assert (pl.pos, pl.dst_next, pl.sequence) == (40, 40, 45)


def test_coalescing_keeps_gaps_exact_and_big_batches_byte_for_byte() -> None:
    log = b"".join(
        [
            plain(0, 1),
            plain(1, 1, pid=1, tx=True),
            marker(2, 1, ControlType.COMMIT),
            plain(3, 1, pid=2, tx=True),  # aborted
            marker(4, 2, ControlType.ABORT),
            holed([5, 7], last=8),
            big := plain(9, 30),  # not small: restamped, its records untouched
            plain(39, 1),
            empty(40, 44),
        ]
    )
    small = len(plain(0, 1)) + 200
    assert len(big) > small
    pl = coalescing(below=small)
    pieces = pl.plan(log, [(2, 3)])
    assert [p.runs for p in pieces] == [
        [(0, 0, 2), (5, 2, 1), (7, 3, 1)],
        [(9, 4, 30)],
        [(39, 34, 1)],
    ]
    # each piece covers the gaps after it: the marker and aborted batch ride on the first
    assert [p.src_next for p in pieces] == [9, 39, 45]
    assert [p.dst_start for p in pieces] == [0, 4, 34]
    assert (pieces[1].batch or b"")[61:] == big[61:]
    assert decoded(pieces[0].batch or b"") == kv([0, 1, 5, 7])
    assert (pl.pos, pl.dst_next) == (45, 35)


def test_coalescing_respects_its_size_limit_codec_start_and_until() -> None:
    one = len(plain(0, 1))
    pl = coalescing(below=one + 1, most=3 * one)
    assert [p.runs for p in pl.plan(TRICKLE[: 7 * one])] == [
        [(0, 0, 3)],
        [(3, 3, 3)],
        [(6, 6, 1)],
    ]
    mixed = plain(0, 1) + plain(1, 1, codec=1) + plain(2, 1, codec=1) + plain(3, 1)
    pieces = coalescing(below=1024).plan(mixed)
    assert [p.runs for p in pieces] == [[(0, 0, 1)], [(1, 1, 2)], [(3, 3, 1)]]
    assert [BatchView(memoryview(p.batch or b"")).compression for p in pieces] == [0, 1, 0]
    pl = coalescing(start=2, until=6)
    (piece,) = pl.plan(plain(0, 3) + TRICKLE[3 * one :])
    assert piece.runs == [(2, 0, 4)] and piece.src_next == 6 and pl.done


def test_coalescing_options_validate() -> None:
    with pytest.raises(ValueError):
        CopyOptions(coalesce_below=2048, coalesce_bytes=1024)


def test_copier_coalesces_across_fetches_and_keeps_offsets() -> None:
    source = FakeSource({0: Log([plain(i, 1) for i in range(30)], [])}, fetch_bytes=400)
    destination = FakeDestination()
    options = CopyOptions(coalesce_below=1024, coalesce_bytes=64 << 10)
    chunks = list(RawPartitionCopier(source, destination, "t", 0, dst_next=0, options=options))
    check(chunks, destination.records[0], list(range(30)), 30)
    assert [o for o, _ in destination.records[0]] == list(range(30))  # identical offsets
    # one destination batch per fetch answer (5 records each), not one per source batch
    assert len(destination.requests) == len(source.fetches) == 6


# --------------------------------------------------------------------------------------------
# fakes
# --------------------------------------------------------------------------------------------


@dataclass
class Log:
    """A partition: its batches, and its aborted transactions as (producer, first, marker)."""

    batches: list[bytes]
    aborted: list[tuple[int, int, int]]
    log_start: int = 0

    @property
    def end(self) -> int:
        return max((BatchView(memoryview(b)).next_offset for b in self.batches), default=0)


class FakeSource(RawClient):
    def __init__(self, logs: Mapping[int, Log], *, fetch_bytes: int = 400, error: int = 0) -> None:
        super().__init__("127.0.0.1:1", name="source")
        self.logs = logs
        self.fetch_bytes = fetch_bytes
        self.error = error
        self.fetches: list[dict[int, int]] = []
        self.discarded = 0

    def list_offsets(
        self, topic: str, partitions: Mapping[int, int], **_: object
    ) -> dict[int, int]:
        return {p: self.logs[p].log_start for p in partitions}

    def send_fetch(self, topic: str, partitions: Mapping[int, int], **_: object) -> PendingFetch:
        self.fetches.append(dict(partitions))
        return PendingFetch(topic, [(None, 0, list(partitions.items()))])  # type: ignore[list-item]

    def receive_fetch(self, pending: PendingFetch) -> dict[int, FetchResult]:
        out = {}
        for p, offset in pending.requests[0][2]:  # type: ignore[misc]
            log = self.logs[p]
            chosen: list[bytes] = []
            size = 0
            for raw in log.batches:
                if BatchView(memoryview(raw)).next_offset <= offset:
                    continue
                if chosen and size + len(raw) > self.fetch_bytes:
                    room = self.fetch_bytes - size
                    if room > 0:
                        chosen.append(raw[:room])  # a partial batch at the end
                    break
                chosen.append(raw)
                size += len(raw)
            records = memoryview(b"".join(chosen))
            complete = list(iter_batches(records))
            upper = complete[-1].next_offset if complete else offset + 1
            # like the broker: the transactions aborted at or after the fetch offset that began
            # before the end of what is returned
            aborted = [
                (pid, first) for pid, first, last in log.aborted if last >= offset and first < upper
            ]
            out[p] = FetchResult(p, self.error, log.end, log.end, log.log_start, aborted, records)
        return out

    # the copier asks for many topics at once; these fakes hold one topic's partitions
    def list_offsets_many(
        self, partitions: Mapping[tuple[str, int], int], **_: object
    ) -> dict[tuple[str, int], int]:
        return {(t, p): self.logs[p].log_start for t, p in partitions}

    def send_fetch_many(
        self, positions: Mapping[tuple[str, int], int], **kw: object
    ) -> PendingFetch:
        (topic,) = {t for t, _p in positions}
        return self.send_fetch(topic, {p: o for (_t, p), o in positions.items()}, **kw)

    def receive_fetch_many(self, pending: PendingFetch) -> dict[tuple[str, int], FetchResult]:
        return {(pending.topic, p): r for p, r in self.receive_fetch(pending).items()}

    def discard_pending(self) -> None:
        self.discarded += 1


class FakeDestination(RawClient):
    def __init__(
        self, *, start: Mapping[int, int] | None = None, shift: int = 0, error: int = 0
    ) -> None:
        super().__init__("127.0.0.1:1", name="destination")
        self.records: dict[int, list[tuple[int, Rec]]] = defaultdict(list)
        self.next = defaultdict(int, start or {})
        self.sequence: dict[int, int] = {}
        self.requests: list[dict[int, bytes]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.shift = shift
        self.error = error
        self.discarded = 0
        self.waited: list[tuple[str, list[int]]] = []

    def init_producer_id(self) -> tuple[int, int]:
        return 42, 0

    def wait_leaders(self, topic: str, partitions: Iterable[int], **_: object) -> None:
        self.waited.append((topic, sorted(partitions)))

    def send_produce(
        self, topic: str, batches: Mapping[int, bytes | bytearray | memoryview], **_: object
    ) -> PendingProduce:
        self.requests.append({p: bytes(b) for p, b in batches.items()})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        results = []
        for p, raw in batches.items():
            batches_in = list(iter_batches(raw))
            assert len(batches_in) == 1, "one batch per partition per request"
            b = batches_in[0]
            assert b.crc_valid(), "CRC"
            assert b.is_contiguous and b.record_count > 0, "Inconsistent batch offset range"
            assert not b.is_control and not b.is_transactional
            assert b.timestamp_type is TimestampType.CREATE_TIME
            assert (b.producer_id, b.producer_epoch) == (42, 0)
            want = self.sequence.get(p, b.base_sequence)
            assert b.base_sequence == want, "OUT_OF_ORDER_SEQUENCE_NUMBER"
            self.sequence[p] = increment_sequence(b.base_sequence, b.record_count)
            base = self.next[p]
            for i, r in enumerate(decode_records(b)):
                self.records[p].append((base + i, r))
            self.next[p] += b.record_count
            results.append(ProduceResult(p, self.error, -1 if self.error else base + self.shift))
        return PendingProduce(topic, [(None, 0, results)])  # type: ignore[list-item]

    def receive_produce(self, pending: PendingProduce) -> dict[int, ProduceResult]:
        self.in_flight -= 1
        return {r.partition: r for r in pending.requests[0][2]}  # type: ignore[attr-defined]

    def wait_leaders_many(self, partitions: Iterable[tuple[str, int]], **_: object) -> None:
        by_topic: dict[str, list[int]] = {}
        for t, p in partitions:
            by_topic.setdefault(t, []).append(p)
        for t, ps in by_topic.items():
            self.wait_leaders(t, ps)

    def send_produce_many(
        self, batches: Mapping[tuple[str, int], bytes | bytearray | memoryview], **kw: object
    ) -> PendingProduce:
        (topic,) = {t for t, _p in batches}
        return self.send_produce(topic, {p: b for (_t, p), b in batches.items()}, **kw)

    def receive_produce_many(self, pending: PendingProduce) -> dict[tuple[str, int], ProduceResult]:
        return {(pending.topic, p): r for p, r in self.receive_produce(pending).items()}

    def discard_pending(self) -> None:
        self.discarded += 1


def mixed_log() -> Log:
    """Committed and aborted transactions, markers, compaction holes, an empty batch, LAT."""
    return Log(
        batches=[
            plain(0, 5),
            plain(5, 3, pid=1, tx=True),
            plain(8, 2, pid=2, tx=True),  # aborted (producer 2)
            marker(10, 1, ControlType.COMMIT),
            plain(11, 4, pid=2, tx=True),  # aborted
            marker(15, 2, ControlType.ABORT),
            holed([16, 18, 19, 23], last=24),
            empty(25, 29),
            lat(30, 3, append_time=42),
            plain(33, 6, codec=4),
            marker(39, 1, ControlType.COMMIT),
        ],
        aborted=[(2, 8, 15)],
    )


COMMITTED = [*range(0, 8), 16, 18, 19, 23, 30, 31, 32, *range(33, 39)]


def copy_all(copier: RawTopicCopier) -> dict[int, list[Chunk]]:
    chunks: dict[int, list[Chunk]] = defaultdict(list)
    for p, chunk in copier:
        chunks[p].append(chunk)
    return chunks


def check(
    chunks: list[Chunk], dst: list[tuple[int, Rec]], src_offsets: list[int], until: int
) -> None:
    mapping = {s + i: d + i for c in chunks for s, d, n in c.runs for i in range(n)}
    assert sorted(mapping) == src_offsets
    assert [(o, r.key, r.value) for o, r in dst] == [
        (mapping[s], f"k{s}".encode(), f"v{s}".encode()) for s in src_offsets
    ]
    nexts = [c.src_next for c in chunks]
    assert nexts == sorted(nexts) and nexts[-1] == until
    assert sum(c.records for c in chunks) == len(src_offsets)


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fetch_bytes", [1, 150, 400, 10_000])
def test_copy_mixed_log_read_committed(fetch_bytes: int) -> None:
    source = FakeSource({0: mixed_log()}, fetch_bytes=fetch_bytes)
    destination = FakeDestination()
    copier = RawPartitionCopier(source, destination, "t", 0, dst_next=0)
    chunks = list(copier)
    check(chunks, destination.records[0], COMMITTED, 40)
    assert [r.timestamp for o, r in destination.records[0] if r.key in (b"k30", b"k31")] == [42, 42]
    assert (copier.src_next, copier.dst_next, copier.until) == (40, len(COMMITTED), 40)
    assert copier.producer == (42, 0) and copier.next_sequence == len(COMMITTED)
    assert destination.max_in_flight <= 5
    assert source.discarded == 0 and destination.discarded == 0


def test_contiguous_source_keeps_its_offsets() -> None:
    source = FakeSource({0: Log([plain(0, 4), plain(4, 4), plain(8, 1)], [])})
    destination = FakeDestination()
    chunks = list(RawPartitionCopier(source, destination, "t", 0, dst_next=0))
    assert [c.runs for c in chunks] == [[(0, 0, 4)], [(4, 4, 4)], [(8, 8, 1)]]
    assert [o for o, _ in destination.records[0]] == list(range(9))


def test_start_and_until_inside_batches() -> None:
    source = FakeSource({0: mixed_log()})
    destination = FakeDestination(start={0: 100})
    chunks = list(
        RawPartitionCopier(
            source, destination, "t", 0, dst_next=100, start=6, until=32, base_sequence=9
        )
    )
    expected = [o for o in COMMITTED if 6 <= o < 32]
    check(chunks, destination.records[0], expected, 32)
    assert chunks[0].runs[0] == (6, 100, 2)
    assert destination.sequence[0] == 9 + len(expected)


def test_a_log_ending_in_markers_reports_the_skip() -> None:
    log = Log([plain(0, 2, pid=1, tx=True), marker(2, 1, ControlType.COMMIT)], [])
    source = FakeSource({0: log}, fetch_bytes=1)  # one batch per fetch
    chunks = list(RawPartitionCopier(source, FakeDestination(), "t", 0, dst_next=0))
    # the marker, fetched while the batch before it was in flight, extends that batch's chunk
    assert [(c.src_next, c.runs, c.records) for c in chunks] == [(3, [(0, 0, 2)], 2)]
    assert source.fetches == [{0: 0}, {0: 2}]


def test_only_markers_yield_a_progress_chunk() -> None:
    log = Log([plain(0, 2, pid=1, tx=True), marker(2, 1, ControlType.ABORT)], [(1, 0, 2)])
    chunks = list(RawPartitionCopier(FakeSource({0: log}), FakeDestination(), "t", 0, dst_next=0))
    assert chunks == [Chunk(3, [], 0, 0)]


def test_nothing_to_copy() -> None:
    source = FakeSource({0: Log([], [])})
    assert list(RawPartitionCopier(source, FakeDestination(), "t", 0, dst_next=0)) == []
    source = FakeSource({0: Log([plain(0, 3)], [])})
    assert list(RawPartitionCopier(source, FakeDestination(), "t", 0, dst_next=0, start=3)) == []


def test_copy_many_round_robin() -> None:
    logs = {p: Log([plain(o, 3) for o in range(0, 30, 3)], []) for p in range(3)}
    logs[1] = mixed_log()
    source = FakeSource(logs, fetch_bytes=200)
    destination = FakeDestination()
    chunks: dict[int, list[Chunk]] = defaultdict(list)
    for p, chunk in copy_many(
        source,
        destination,
        "t",
        {p: PartitionRange(0) for p in range(3)},
        options=CopyOptions(max_in_flight=2),
    ):
        chunks[p].append(chunk)
    check(chunks[0], destination.records[0], list(range(30)), 30)
    check(chunks[1], destination.records[1], COMMITTED, 40)
    check(chunks[2], destination.records[2], list(range(30)), 30)
    assert destination.max_in_flight <= 2
    assert any(len(req) == 3 for req in destination.requests)  # partitions share requests
    assert destination.waited == [("t", [0, 1, 2])]  # leaders serve before the first produce
    assert all(len(f) >= 1 for f in source.fetches)


def test_destination_offset_mismatch_is_an_error() -> None:
    source = FakeSource({0: Log([plain(0, 3)], [])})
    with pytest.raises(KafkaError, match="not where the copy expected") as info:
        list(RawPartitionCopier(source, FakeDestination(shift=1), "t", 0, dst_next=0))
    assert info.value.context["partition"] == 0


def test_produce_error_is_a_kafka_error() -> None:
    source = FakeSource({0: Log([plain(0, 3)], [])})
    with pytest.raises(KafkaError, match="refused a batch") as info:
        destination = FakeDestination(error=ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        list(RawPartitionCopier(source, destination, "t", 0, dst_next=0))
    assert "OUT_OF_ORDER_SEQUENCE_NUMBER" in str(info.value)
    assert info.value.context == {
        "cluster": "destination",
        "topic": "t",
        "partition": 0,
        "error_code": 45,
    }


def test_deleted_source_records_are_an_error() -> None:
    log = Log([plain(10, 3)], [], log_start=10)
    source = FakeSource({0: log}, error=ErrorCode.OFFSET_OUT_OF_RANGE)
    with pytest.raises(KafkaError, match="is gone"):
        list(RawPartitionCopier(source, FakeDestination(), "t", 0, dst_next=0, start=0))


def test_until_beyond_the_end_times_out() -> None:
    source = FakeSource({0: Log([plain(0, 3)], [])})
    options = CopyOptions(idle_timeout=0.2)
    with pytest.raises(KafkaError, match="no progress"):
        list(
            RawPartitionCopier(
                source, FakeDestination(), "t", 0, dst_next=0, until=10, options=options
            )
        )
    assert source.discarded == 1  # the fetch in flight was abandoned


def test_abandoned_iteration_discards_pending_requests() -> None:
    source = FakeSource({0: Log([plain(o, 1) for o in range(20)], [])}, fetch_bytes=200)
    destination = FakeDestination()
    it = iter(RawPartitionCopier(source, destination, "t", 0, dst_next=0))
    next(it)
    it.close()
    assert destination.discarded == 1 and source.discarded == 1


def test_options_validate_in_flight() -> None:
    with pytest.raises(ValueError):
        CopyOptions(max_in_flight=6)


class _LeaderlessFor(RawClient):
    """ListOffsets answers ``errors`` in turn, then succeeds."""

    def __init__(self, errors: list[int]) -> None:
        super().__init__("127.0.0.1:1", name="destination")
        self.errors = list(errors)
        self.calls = 0

    def list_offsets_many(
        self, partitions: Mapping[tuple[str, int], int], **_: object
    ) -> dict[tuple[str, int], int]:
        self.calls += 1
        if self.errors:
            code = self.errors.pop(0)
            raise KafkaError("could not list offsets", why="x", partition=0, error_code=code)
        return dict.fromkeys(partitions, 0)


def test_wait_leaders_retries_retriable_errors_until_served() -> None:
    client = _LeaderlessFor(
        [
            ErrorCode.NOT_LEADER_OR_FOLLOWER,
            ErrorCode.LEADER_NOT_AVAILABLE,
            ErrorCode.NOT_LEADER_OR_FOLLOWER,
        ]
    )
    client.wait_leaders("t", [0, 1], timeout=10)
    assert client.calls == 4
    client.wait_leaders("t", [1, 0], timeout=10)  # seen answering: not asked again
    assert client.calls == 4
    client._forget_leader("t", 1)  # a leader error since: ask again, for that one
    client.wait_leaders("t", [0, 1], timeout=10)
    assert client.calls == 5


def test_wait_leaders_raises_other_errors_at_once_and_retriable_ones_at_the_deadline() -> None:
    fatal = _LeaderlessFor([ErrorCode.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaError):
        fatal.wait_leaders("t", [0], timeout=10)
    assert fatal.calls == 1
    stuck = _LeaderlessFor([ErrorCode.NOT_LEADER_OR_FOLLOWER] * 1000)
    with pytest.raises(KafkaError):
        stuck.wait_leaders("t", [0], timeout=0.3)
    assert 1 < stuck.calls < 20
