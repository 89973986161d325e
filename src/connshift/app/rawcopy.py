"""The raw record-batch copy engine: source partition -> destination partition, as bytes.

Batches are fetched from the source (READ_COMMITTED), re-stamped for our own idempotent
producer (:func:`connshift.core.recordbatch.restamp`) and produced to the destination partition
as they are, so a destination written from its start gets the source's offsets wherever the
source is contiguous. Where it is not, the copy keeps an exact map: every acknowledged produce
yields a :class:`Chunk` with its runs ``(src_start, dst_start, length)``.

What does not go across as it is:

- control batches (transaction markers) cannot be produced by a client: skipped, a gap;
- batches of aborted transactions: dropped, a gap (Kafka's consumer algorithm, from the fetch's
  aborted-transaction list: :class:`~connshift.core.recordbatch.AbortedTransactionFilter`);
- committed transactional batches: produced with the transactional bit cleared (no transactions
  on the destination: their markers would shift offsets);
- empty batches (compaction keeps them for producer state): skipped;
- a batch that starts before ``start``, crosses ``until``, has offset holes (compaction) or
  LogAppendTime timestamps: decoded, and the records in range re-encoded as one contiguous
  CreateTime batch (same compression); Kafka rejects a batch whose offset range disagrees with
  its record count.
- with ``CopyOptions.coalesce_below``: runs of small batches decoded and re-encoded as one
  CreateTime batch (what ``sync`` does, so that tiny source batches do not become as many
  destination objects on a broker that stores each batch as one object).

Pipelining: the next fetch is in flight while the batches of the last one are produced, and up
to ``max_in_flight`` produce requests (one batch per partition each; Apache Kafka accepts no
more) are in flight at once; answers come in order, chunks are yielded in order per partition.
Memory is bounded by one fetch (``max_bytes``) plus the produces in flight.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from connshift.core.recordbatch import (
    AbortedTransactionFilter,
    Compression,
    Rec,
    TimestampType,
    decode_records,
    encode_batch,
    increment_sequence,
    iter_batches,
    restamp,
)
from connshift.errors import KafkaError
from connshift.io.kafka_raw import (
    EARLIEST,
    READ_COMMITTED,
    RETRIABLE,
    ErrorCode,
    FetchResult,
    PendingFetch,
    PendingProduce,
    RawClient,
    error_name,
)

__all__ = [
    "Chunk",
    "CopyOptions",
    "PartitionPlanner",
    "PartitionRange",
    "Piece",
    "RawCopier",
    "RawPartitionCopier",
    "RawTopicCopier",
    "copy_many",
    "runs_of",
]

Run = tuple[int, int, int]


@dataclass(frozen=True)
class Chunk:
    """What one acknowledged produce (or one stretch of skipped offsets) moved.

    Every source offset below ``src_next`` has been copied or deliberately skipped; ``runs``
    map the copied ones, in order, as ``(src_start, dst_start, length)``; ``records`` and
    ``bytes`` are what was written (0 for a chunk that only skipped offsets).
    """

    src_next: int
    runs: list[Run]
    records: int
    bytes: int


@dataclass(frozen=True)
class CopyOptions:
    """Tuning of a copy.

    ``max_bytes`` bounds one fetch answer and ``partition_max_bytes`` each partition in it
    (a first batch larger than that still comes whole, KIP-74); ``max_in_flight`` produce
    requests may await their answers (at most 5: the broker deduplicates the last 5 batches
    of a producer); ``idle_timeout`` is how long a partition may make no progress before the
    copy fails (an open transaction holding the LSO, an ``until`` beyond the source's end).

    ``coalesce_below`` (bytes, 0 = off): consecutive source batches smaller than this are
    decoded and written as one destination batch of up to ``coalesce_bytes`` (a change of
    compression codec starts a new one). Offsets stay exact (the runs say where each record
    went); what changes is only how the records are cut into batches. It keeps a source whose
    producers wrote many tiny batches (a Connect source task's poll, a copy-back, a trickle of
    single records) from becoming as many tiny batches on the destination, which some
    Kafka-API brokers that store each batch as one object (tansu 0.6 on S3: every fetch lists
    all of a partition's objects, then reads them one by one, within the fetch's max wait)
    serve too slowly for a consumer ever to reach the end.
    """

    max_bytes: int = 4 << 20
    partition_max_bytes: int = 1 << 20
    max_in_flight: int = 5
    max_wait_ms: int = 500
    produce_timeout_ms: int = 30_000
    idle_timeout: float = 60.0
    coalesce_below: int = 0
    coalesce_bytes: int = 64 << 10

    def __post_init__(self) -> None:
        if not 1 <= self.max_in_flight <= 5:
            raise ValueError("max_in_flight must be 1-5")
        if self.coalesce_below < 0 or self.coalesce_bytes < self.coalesce_below:
            raise ValueError("coalesce_below must be >= 0 and at most coalesce_bytes")


@dataclass(frozen=True)
class PartitionRange:
    """One partition to copy (for :class:`RawTopicCopier`).

    Copies source offsets ``[start, until)`` to a destination partition whose current end is
    ``dst_next``. ``start`` None: the source's log start. ``until`` None: the source's last
    stable offset (its high watermark where the broker reports no LSO) when the copy first
    fetches. ``base_sequence`` continues this partition's sequence for a producer id reused.
    """

    dst_next: int
    start: int | None = None
    until: int | None = None
    base_sequence: int = 0


# --------------------------------------------------------------------------------------------
# planning (pure)
# --------------------------------------------------------------------------------------------


@dataclass
class Piece:
    """One destination batch planned from the source, or (``batch`` None) a skipped stretch."""

    batch: bytes | None
    runs: list[Run]
    records: int
    src_next: int
    dst_start: int


def runs_of(offsets: Iterable[int], dst_start: int) -> list[Run]:
    """Runs ``(src_start, dst_start, length)`` for source ``offsets`` (ascending) written
    contiguously from ``dst_start``."""
    runs: list[Run] = []
    dst = dst_start
    for offset in offsets:
        if runs and runs[-1][0] + runs[-1][2] == offset:
            src0, dst0, length = runs[-1]
            runs[-1] = (src0, dst0, length + 1)
        else:
            runs.append((offset, dst, 1))
        dst += 1
    return runs


class PartitionPlanner:
    """Turns one partition's fetched batches into destination batches. Pure: no I/O.

    Tracks the source position ``pos`` (next source offset to handle), the destination's
    ``dst_next`` and the producer's next ``sequence``; :meth:`plan` consumes one fetch answer's
    records (and its aborted-transaction list) and returns the pieces to produce, in order.
    Stops exactly at ``until``.
    """

    def __init__(
        self,
        *,
        start: int,
        dst_next: int,
        until: int | None,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int = 0,
        coalesce_below: int = 0,
        coalesce_bytes: int = 0,
    ) -> None:
        self.pos = start
        self.dst_next = dst_next
        self.until = until
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.sequence = base_sequence
        self.coalesce_below = coalesce_below
        self.coalesce_bytes = coalesce_bytes

    @property
    def done(self) -> bool:
        """True once ``pos`` reached ``until``."""
        return self.until is not None and self.pos >= self.until

    def plan(
        self, records: bytes | bytearray | memoryview, aborted: Iterable[tuple[int, int]] = ()
    ) -> list[Piece]:
        """The pieces for the complete batches in ``records`` (a trailing partial one waits).

        Every real piece's ``src_next`` extends over the skipped offsets after it; a fetch that
        only skipped offsets yields one piece with ``batch`` None. With ``coalesce_below`` set,
        consecutive batches smaller than that many bytes (of one compression codec) become one
        destination batch of up to ``coalesce_bytes``: see :class:`CopyOptions`.
        """
        if self.until is None:
            raise ValueError("until must be known before planning")
        until = self.until
        start_pos = self.pos
        filt = AbortedTransactionFilter(aborted)
        pieces: list[Piece] = []
        group: list[Rec] = []  # records of consecutive small batches, not yet planned
        group_pos = self.pos  # the source position where the group began
        group_bytes = 0
        group_codec = Compression.NONE

        def emit(data: bytes, runs: list[Run], count: int, began: int) -> None:
            # the previous piece covers every offset up to where this one's source began
            if pieces:
                pieces[-1].src_next = began
            pieces.append(Piece(data, runs, count, self.pos, self.dst_next))
            self.dst_next += count
            self.sequence = increment_sequence(self.sequence, count)

        def flush() -> None:
            nonlocal group, group_bytes
            if group:
                data = encode_batch(
                    group,
                    producer_id=self.producer_id,
                    producer_epoch=self.producer_epoch,
                    base_sequence=self.sequence,
                    compression=group_codec,
                )
                emit(data, runs_of((r.offset for r in group), self.dst_next), len(group), group_pos)
                pieces[-1].src_next = self.pos
            group, group_bytes = [], 0

        for batch in iter_batches(records):
            if self.pos >= until:
                break
            aborted_batch = filt.is_aborted(batch)  # sees every batch, in order
            next_offset = batch.next_offset
            if next_offset <= self.pos:
                continue
            if aborted_batch or batch.is_control or batch.record_count <= 0:
                self.pos = min(next_offset, until)
                continue
            began = self.pos
            if batch.size < self.coalesce_below:
                codec = batch.compression
                if group and (
                    codec is not group_codec or group_bytes + batch.size > self.coalesce_bytes
                ):
                    flush()
                kept = [r for r in decode_records(batch) if began <= r.offset < until]
                if kept:
                    if not group:
                        group_pos, group_codec = began, codec
                    group.extend(kept)
                    group_bytes += batch.size
                self.pos = min(next_offset, until)
                continue
            flush()
            if (
                batch.is_contiguous
                and batch.base_offset >= began
                and next_offset <= until
                and batch.timestamp_type is TimestampType.CREATE_TIME
            ):
                count = batch.record_count
                data = restamp(batch, self.producer_id, self.producer_epoch, self.sequence)
                runs = [(batch.base_offset, self.dst_next, count)]
            else:
                kept = [r for r in decode_records(batch) if began <= r.offset < until]
                if not kept:
                    self.pos = min(next_offset, until)
                    continue
                count = len(kept)
                data = encode_batch(
                    kept,
                    producer_id=self.producer_id,
                    producer_epoch=self.producer_epoch,
                    base_sequence=self.sequence,
                    compression=batch.compression,
                )
                runs = runs_of((r.offset for r in kept), self.dst_next)
            self.pos = min(next_offset, until)
            emit(data, runs, count, began)
        flush()
        if pieces:
            pieces[-1].src_next = self.pos
        elif self.pos > start_pos:
            pieces.append(Piece(None, [], 0, self.pos, self.dst_next))
        return pieces


# --------------------------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------------------------


@dataclass
class _Partition:
    key: tuple[str, int]  # source (topic, partition)
    dst: tuple[str, int]  # destination (topic, partition)
    spec: PartitionRange
    planner: PartitionPlanner | None = None
    last_progress: float = field(default_factory=time.monotonic)
    needs_room: bool = False


TP = tuple[str, int]


class RawCopier:
    """Copies many partitions of many topics, round-robin, in one thread: one Fetch per
    source broker and one Produce per destination broker carry every partition at once
    (a partition costs what its data costs, not a round trip of its own).

    Iterating yields ``((topic, partition), Chunk)`` after each acknowledged produce, in
    order per partition. ``producer`` is ``(producer_id, epoch)`` on the destination; None
    asks the destination for a new one. ``dst_of`` maps a source partition to its
    destination ``(topic, partition)`` (default: the same). Raises
    :class:`~connshift.errors.KafkaError` on any refusal; the destination then holds a prefix
    of what was planned, which a resumed copy finds from the destination's end and the map
    persisted so far.
    """

    def __init__(
        self,
        source: RawClient,
        destination: RawClient,
        partitions: Mapping[TP, PartitionRange],
        *,
        dst_of: Mapping[TP, TP] | None = None,
        producer: tuple[int, int] | None = None,
        options: CopyOptions | None = None,
    ) -> None:
        self.source = source
        self.destination = destination
        self.options = options or CopyOptions()
        self.producer = producer
        self._parts = {
            key: _Partition(key, (dst_of or {}).get(key, key), spec)
            for key, spec in partitions.items()
        }
        self._order = list(self._parts)

    # -- state ----------------------------------------------------------------------------------
    def planner(self, key: TP) -> PartitionPlanner | None:
        """The partition's planner (positions, sequence) once the copy started."""
        return self._parts[key].planner

    # -- setup ----------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.producer is None:
            self.producer = self.destination.init_producer_id()
        pid, epoch = self.producer
        # a topic created a moment ago may name leaders that do not serve it yet
        self.destination.wait_leaders_many(st.dst for st in self._parts.values())
        unknown = [key for key, st in self._parts.items() if st.spec.start is None]
        earliest = (
            self.source.list_offsets_many(dict.fromkeys(unknown, EARLIEST)) if unknown else {}
        )
        for key, st in self._parts.items():
            spec = st.spec
            start = spec.start if spec.start is not None else earliest[key]
            st.planner = PartitionPlanner(
                start=start,
                dst_next=spec.dst_next,
                until=spec.until,
                producer_id=pid,
                producer_epoch=epoch,
                base_sequence=spec.base_sequence,
                coalesce_below=self.options.coalesce_below,
                coalesce_bytes=self.options.coalesce_bytes,
            )

    def _active(self) -> list[_Partition]:
        return [st for st in self._parts.values() if st.planner is not None and not st.planner.done]

    def _send_fetch(self) -> PendingFetch | None:
        active = self._active()
        if not active:
            return None
        # rotate for fairness; a partition whose first batch did not fit goes first (KIP-74)
        self._order = self._order[1:] + self._order[:1]
        rank = {key: i for i, key in enumerate(self._order)}
        active.sort(key=lambda st: (not st.needs_room, rank[st.key]))
        opts = self.options
        return self.source.send_fetch_many(
            {st.key: st.planner.pos for st in active if st.planner is not None},
            max_bytes=opts.max_bytes,
            partition_max_bytes=opts.partition_max_bytes,
            isolation=READ_COMMITTED,
            max_wait_ms=opts.max_wait_ms,
        )

    # -- one fetch answer -------------------------------------------------------------------------
    def _absorb(self, st: _Partition, result: FetchResult) -> list[Piece]:
        planner = st.planner
        assert planner is not None
        topic, partition = st.key
        if result.error != ErrorCode.NONE:
            if result.error in RETRIABLE:
                return []
            if result.error == ErrorCode.OFFSET_OUT_OF_RANGE:
                raise KafkaError(
                    f"source offset {planner.pos} of {topic}[{partition}] is gone",
                    why=f"the source's log now starts at {result.log_start_offset} and ends at "
                    f"{result.high_watermark}: records were deleted before they were copied",
                    fix="copy again from the source's log start; check retention on the source",
                    cluster=self.source.name,
                    topic=topic,
                    partition=partition,
                )
            raise KafkaError(
                f"could not fetch {topic}[{partition}] from the {self.source.name} cluster",
                why=error_name(result.error),
                cluster=self.source.name,
                topic=topic,
                partition=partition,
            )
        if planner.until is None:
            lso = result.last_stable_offset
            planner.until = lso if lso >= 0 else result.high_watermark
            if planner.done:
                return []
        before = planner.pos
        pieces = planner.plan(result.records, result.aborted)
        st.needs_room = not pieces and len(result.records) > 0 and planner.pos == before
        if planner.pos > before:
            st.last_progress = time.monotonic()
        return pieces

    def _check_idle(self, now: float) -> None:
        for st in self._active():
            if now - st.last_progress > self.options.idle_timeout:
                planner = st.planner
                assert planner is not None
                topic, partition = st.key
                raise KafkaError(
                    f"no progress copying {topic}[{partition}] for {self.options.idle_timeout:g}s",
                    why=f"stuck at source offset {planner.pos}, copying until {planner.until}: "
                    "an open transaction may hold the last stable offset, or the source ends "
                    "before that offset",
                    fix="check the source partition's end and open transactions",
                    cluster=self.source.name,
                    topic=topic,
                    partition=partition,
                )

    # -- produce answers --------------------------------------------------------------------------
    def _ack(
        self,
        pending: PendingProduce,
        pieces: list[tuple[_Partition, Piece]],
        unacked: dict[TP, Piece],
    ) -> Iterator[tuple[TP, Chunk]]:
        results = self.destination.receive_produce_many(pending)
        for st, piece in pieces:
            dst_topic, dst_partition = st.dst
            result = results.get(st.dst)
            if result is None:
                raise KafkaError(
                    f"the {self.destination.name} cluster did not answer for "
                    f"{dst_topic}[{dst_partition}]",
                    cluster=self.destination.name,
                    topic=dst_topic,
                    partition=dst_partition,
                )
            self.destination.check_produce(dst_topic, result)
            if result.base_offset != piece.dst_start:
                raise KafkaError(
                    f"{dst_topic}[{dst_partition}] on the {self.destination.name} "
                    "cluster is not where the copy expected",
                    why=f"a batch landed at offset {result.base_offset}, expected "
                    f"{piece.dst_start}: something else writes to that partition, or the copy "
                    "started from a wrong end offset",
                    fix="stop other writers to the destination topic and resume the copy",
                    cluster=self.destination.name,
                    topic=dst_topic,
                    partition=dst_partition,
                )
            if unacked.get(st.key) is piece:
                del unacked[st.key]
            yield (
                st.key,
                Chunk(piece.src_next, piece.runs, piece.records, len(piece.batch or b"")),
            )

    # -- the loop ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[TP, Chunk]]:
        self._start()
        opts = self.options
        inflight: deque[tuple[PendingProduce, list[tuple[_Partition, Piece]]]] = deque()
        unacked: dict[TP, Piece] = {}  # last produced, unacknowledged piece per partition
        pending: PendingFetch | None = None
        try:
            pending = self._send_fetch()
            while pending is not None:
                began = time.monotonic()
                results = self.source.receive_fetch_many(pending)
                pending = None
                queues: list[tuple[_Partition, deque[Piece]]] = []
                for key, result in results.items():
                    st = self._parts.get(key)
                    if st is None:
                        continue
                    pieces = self._absorb(st, result)
                    if pieces:
                        queues.append((st, deque(pieces)))
                moved = bool(queues)
                pending = self._send_fetch()  # in flight while we produce
                for st, queue in queues:
                    if queue[0].batch is None:  # only skipped offsets
                        skip = queue.popleft()
                        last = unacked.get(st.key)
                        if last is not None:
                            last.src_next = max(last.src_next, skip.src_next)
                        else:
                            yield st.key, Chunk(skip.src_next, [], 0, 0)
                queues = [(st, q) for st, q in queues if q]
                produced = bool(queues)
                while queues:
                    batches: dict[TP, bytes] = {}
                    sent: list[tuple[_Partition, Piece]] = []
                    for st, queue in queues:
                        piece = queue.popleft()
                        assert piece.batch is not None
                        batches[st.dst] = piece.batch
                        sent.append((st, piece))
                    queues = [(st, q) for st, q in queues if q]
                    while len(inflight) >= opts.max_in_flight:
                        yield from self._ack(*inflight.popleft(), unacked)
                    request = self.destination.send_produce_many(
                        batches, timeout_ms=opts.produce_timeout_ms
                    )
                    inflight.append((request, sent))
                    for st, piece in sent:
                        unacked[st.key] = piece
                if not produced:
                    # nothing new: report what is acknowledged, then wait a little
                    while inflight:
                        yield from self._ack(*inflight.popleft(), unacked)
                    now = time.monotonic()
                    self._check_idle(now)
                    if not moved and pending is not None and now - began < 0.05:
                        time.sleep(0.05)  # the broker answered at once with nothing new
            while inflight:
                yield from self._ack(*inflight.popleft(), unacked)
        finally:
            if pending is not None or inflight:
                self.source.discard_pending()
                self.destination.discard_pending()


class RawTopicCopier:
    """:class:`RawCopier` over several partitions of one topic, keyed by partition.

    ``dst_partitions`` maps a source partition to its destination partition (default: the
    same number); iterating yields ``(partition, Chunk)``.
    """

    def __init__(
        self,
        source: RawClient,
        destination: RawClient,
        topic: str,
        partitions: Mapping[int, PartitionRange],
        *,
        dst_topic: str | None = None,
        dst_partitions: Mapping[int, int] | None = None,
        producer: tuple[int, int] | None = None,
        options: CopyOptions | None = None,
    ) -> None:
        self.topic = topic
        self.dst_topic = dst_topic or topic
        self._engine = RawCopier(
            source,
            destination,
            {(topic, p): spec for p, spec in partitions.items()},
            dst_of={
                (topic, p): (self.dst_topic, (dst_partitions or {}).get(p, p)) for p in partitions
            },
            producer=producer,
            options=options,
        )

    @property
    def producer(self) -> tuple[int, int] | None:
        return self._engine.producer

    def planner(self, partition: int) -> PartitionPlanner | None:
        """The partition's planner (positions, sequence) once the copy started."""
        return self._engine.planner((self.topic, partition))

    def __iter__(self) -> Iterator[tuple[int, Chunk]]:
        for (_topic, partition), chunk in self._engine:
            yield partition, chunk


def copy_many(
    source: RawClient,
    destination: RawClient,
    topic: str,
    partitions: Mapping[int, PartitionRange],
    *,
    dst_topic: str | None = None,
    producer: tuple[int, int] | None = None,
    options: CopyOptions | None = None,
) -> Iterator[tuple[int, Chunk]]:
    """Copy several partitions of ``topic`` round-robin in this thread; yields
    ``(partition, Chunk)`` after each acknowledged produce. See :class:`RawTopicCopier`."""
    return iter(
        RawTopicCopier(
            source,
            destination,
            topic,
            partitions,
            dst_topic=dst_topic,
            producer=producer,
            options=options,
        )
    )


class RawPartitionCopier:
    """Copies one source partition ``[start, until)`` to a destination partition.

    ``dst_next`` is the destination partition's current end (0 for a new topic: offsets then
    equal the source's wherever it is contiguous from ``start`` = 0). ``start`` None: the
    source's log start; ``until`` None: its last stable offset at the first fetch.
    ``producer`` ``(id, epoch)`` and ``base_sequence`` continue an idempotent producer's
    sequence; None asks the destination for a new producer id. Iterating yields a
    :class:`Chunk` after each acknowledged produce; :attr:`src_next`, :attr:`dst_next` and
    :attr:`next_sequence` tell where the copy stands.
    """

    def __init__(
        self,
        source: RawClient,
        destination: RawClient,
        topic: str,
        partition: int,
        *,
        dst_next: int,
        start: int | None = None,
        until: int | None = None,
        dst_topic: str | None = None,
        dst_partition: int | None = None,
        producer: tuple[int, int] | None = None,
        base_sequence: int = 0,
        options: CopyOptions | None = None,
    ) -> None:
        self.partition = partition
        self._engine = RawTopicCopier(
            source,
            destination,
            topic,
            {partition: PartitionRange(dst_next, start, until, base_sequence)},
            dst_topic=dst_topic,
            dst_partitions={partition: partition if dst_partition is None else dst_partition},
            producer=producer,
            options=options,
        )

    def __iter__(self) -> Iterator[Chunk]:
        for _partition, chunk in self._engine:
            yield chunk

    @property
    def producer(self) -> tuple[int, int] | None:
        """``(producer_id, epoch)`` used on the destination (known once the copy started)."""
        return self._engine.producer

    def _planner(self) -> PartitionPlanner:
        planner = self._engine.planner(self.partition)
        if planner is None:
            raise RuntimeError("the copy has not started")
        return planner

    @property
    def src_next(self) -> int:
        """The next source offset the copy plans (after iterating: everything before it is
        copied or skipped)."""
        return self._planner().pos

    @property
    def dst_next(self) -> int:
        """The destination offset the next copied record gets."""
        return self._planner().dst_next

    @property
    def next_sequence(self) -> int:
        """The producer sequence number of the next batch."""
        return self._planner().sequence

    @property
    def until(self) -> int | None:
        """Where the copy stops (resolved at the first fetch when not given)."""
        return self._planner().until
