"""Kafka record batches, magic 2: read, re-stamp, decode and encode them. Pure: no I/O.

The raw copy path moves record batches as bytes. Each batch keeps its records (and their
compression) untouched; only the 61-byte header is re-stamped for our own idempotent producer,
and the CRC32C recomputed. Batches that cannot be produced as they are (a resume point or an
``until`` inside a batch, offset holes left by compaction, log-append timestamps) are decoded and
re-encoded as a contiguous batch.

Format, as in Apache Kafka's ``DefaultRecordBatch.java`` and ``DefaultRecord.java``::

    RecordBatch =>                          offset  size
      BaseOffset           int64              0      8
      Length               int32              8      4   bytes that follow this field
      PartitionLeaderEpoch int32             12      4
      Magic                int8              16      1   2
      CRC                  uint32            17      4   CRC-32C of Attributes .. end
      Attributes           int16             21      2   see below
      LastOffsetDelta      int32             23      4
      BaseTimestamp        int64             27      8   the first record's timestamp
      MaxTimestamp         int64             35      8
      ProducerId           int64             43      8
      ProducerEpoch        int16             51      2
      BaseSequence         int32             53      4
      RecordCount          int32             57      4
      Records              [Record]          61          compressed as a whole if compressed

    Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), bit 3 timestamp
    type (1 = LogAppendTime), bit 4 transactional, bit 5 control.

    Record =>
      Length varint, Attributes int8, TimestampDelta varlong, OffsetDelta varint,
      KeyLength varint (-1 = null), Key, ValueLength varint (-1 = null), Value,
      HeaderCount varint, [HeaderKeyLength varint, HeaderKey utf-8, HeaderValueLength varint
      (-1 = null), HeaderValue]

Varints are zig-zag encoded (``ByteUtils.writeVarint``). The broker rejects from clients a
batch whose offset range disagrees with its record count ("Inconsistent batch offset range",
``LogValidator.validateBatch``), a control batch, a batch with a producer id but a negative base
sequence, a batch of zero records, and a LogAppendTime batch on a LogAppendTime topic.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

import cramjam
import crc32c

__all__ = [
    "BATCH_OVERHEAD",
    "NO_PRODUCER_ID",
    "NO_SEQUENCE",
    "AbortedTransactionFilter",
    "BatchView",
    "Compression",
    "ControlType",
    "Header",
    "Rec",
    "RecordFormatError",
    "TimestampType",
    "compress",
    "control_type",
    "decode_records",
    "decode_varint",
    "decompress",
    "encode_batch",
    "encode_record",
    "encode_varint",
    "increment_sequence",
    "iter_batches",
    "restamp",
    "zigzag_decode",
    "zigzag_encode",
]

BATCH_OVERHEAD = 61
"""Size of the batch header, up to and including the record count."""

LOG_OVERHEAD = 12
"""BaseOffset + Length: the part of a batch not counted in its Length field."""

MAGIC = 2
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1
MAX_SEQUENCE = 0x7FFFFFFF

_CRC_OFFSET = 17
_ATTRIBUTES_OFFSET = 21
_HEADER = struct.Struct(">qiibIhiqqqhii")
_TAIL = struct.Struct(">hiqqqhii")  # attributes .. record count: what the CRC starts with
_PREFIX = struct.Struct(">qiibI")  # base offset .. crc
_COMPRESSION_MASK = 0x07
_TIMESTAMP_TYPE_MASK = 0x08
_TRANSACTIONAL_MASK = 0x10
_CONTROL_MASK = 0x20

_XERIAL_MAGIC = b"\x82SNAPPY\x00"
_XERIAL_HEADER = _XERIAL_MAGIC + struct.pack(">ii", 1, 1)
_XERIAL_BLOCK = 32 * 1024  # the block size of Java's SnappyOutputStream, which Kafka uses


class RecordFormatError(ValueError):
    """Bytes that are not a well-formed magic-2 record batch (or an unsupported one)."""


class Compression(IntEnum):
    """The compression codec of a batch (attributes bits 0-2)."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


class TimestampType(IntEnum):
    """The timestamp type of a batch (attributes bit 3)."""

    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


class ControlType(IntEnum):
    """The type of a control record (transaction markers), from its key."""

    ABORT = 0
    COMMIT = 1


Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Rec:
    """One record of a batch: its absolute offset and what a copy must preserve."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


# --------------------------------------------------------------------------------------------
# varints
# --------------------------------------------------------------------------------------------


def zigzag_encode(value: int) -> int:
    """Map a signed integer to an unsigned one (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...)."""
    return -2 * value - 1 if value < 0 else 2 * value


def zigzag_decode(value: int) -> int:
    """Inverse of :func:`zigzag_encode`."""
    return (value >> 1) ^ -(value & 1)


def encode_varint(value: int) -> bytes:
    """Kafka's zig-zag varint/varlong (``ByteUtils.writeVarlong``) of a signed integer."""
    n = zigzag_encode(value)
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """Read a zig-zag varint/varlong at ``pos``; returns ``(value, next position)``."""
    try:
        byte = buf[pos]
        if byte < 0x80:
            return (byte >> 1) ^ -(byte & 1), pos + 1
        n = byte & 0x7F
        shift = 7
        pos += 1
        while True:
            byte = buf[pos]
            pos += 1
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                return (n >> 1) ^ -(n & 1), pos
            shift += 7
            if shift > 63:
                raise RecordFormatError(f"varint longer than 10 bytes at {pos}")
    except IndexError:
        raise RecordFormatError(f"truncated varint at {pos}") from None


def increment_sequence(sequence: int, increment: int) -> int:
    """Advance a producer sequence number, wrapping at 2^31 as Kafka does."""
    return (sequence + increment) & MAX_SEQUENCE


# --------------------------------------------------------------------------------------------
# reading batches
# --------------------------------------------------------------------------------------------


class BatchView:
    """A zero-copy view of one record batch: its header fields and its ``raw`` bytes.

    ``raw`` is a memoryview into the buffer the batch was read from; it is only valid while that
    buffer is (the raw client reuses its fetch buffer: copy, restamp or decode before the next
    fetch).
    """

    __slots__ = (
        "attributes",
        "base_offset",
        "base_sequence",
        "base_timestamp",
        "batch_length",
        "crc",
        "last_offset_delta",
        "magic",
        "max_timestamp",
        "partition_leader_epoch",
        "producer_epoch",
        "producer_id",
        "raw",
        "record_count",
    )

    def __init__(self, raw: memoryview) -> None:
        if len(raw) < BATCH_OVERHEAD:
            raise RecordFormatError(f"a batch needs {BATCH_OVERHEAD} bytes, got {len(raw)}")
        (
            self.base_offset,
            self.batch_length,
            self.partition_leader_epoch,
            self.magic,
            self.crc,
            self.attributes,
            self.last_offset_delta,
            self.base_timestamp,
            self.max_timestamp,
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            self.record_count,
        ) = _HEADER.unpack_from(raw)
        self.raw = raw

    @property
    def compression(self) -> Compression:
        """The codec the records are compressed with."""
        try:
            return Compression(self.attributes & _COMPRESSION_MASK)
        except ValueError:
            raise RecordFormatError(
                f"unknown compression codec {self.attributes & _COMPRESSION_MASK} "
                f"in the batch at offset {self.base_offset}"
            ) from None

    @property
    def timestamp_type(self) -> TimestampType:
        """CreateTime, or LogAppendTime (then every record's timestamp is ``max_timestamp``)."""
        return TimestampType(1 if self.attributes & _TIMESTAMP_TYPE_MASK else 0)

    @property
    def is_transactional(self) -> bool:
        """Written by a transactional producer."""
        return bool(self.attributes & _TRANSACTIONAL_MASK)

    @property
    def is_control(self) -> bool:
        """A control batch (a transaction marker); clients cannot produce these."""
        return bool(self.attributes & _CONTROL_MASK)

    @property
    def last_offset(self) -> int:
        """The offset of the batch's last record (kept by compaction even if that record went)."""
        return int(self.base_offset + self.last_offset_delta)

    @property
    def next_offset(self) -> int:
        """The offset after this batch."""
        return int(self.base_offset + self.last_offset_delta + 1)

    @property
    def is_contiguous(self) -> bool:
        """True when the batch's records fill its offset range (no compaction holes)."""
        return bool(self.record_count == self.last_offset_delta + 1)

    @property
    def size(self) -> int:
        """The batch's size in bytes, header included."""
        return len(self.raw)

    def crc_valid(self) -> bool:
        """True when the stored CRC32C matches the batch's bytes."""
        return bool(self.crc == crc32c.crc32c(self.raw[_ATTRIBUTES_OFFSET:]))

    def __repr__(self) -> str:
        return (
            f"BatchView(offsets=[{self.base_offset}, {self.last_offset}], "
            f"records={self.record_count}, bytes={self.size}, "
            f"compression={self.compression.name}, transactional={self.is_transactional}, "
            f"control={self.is_control}, producer_id={self.producer_id})"
        )


def iter_batches(buf: bytes | bytearray | memoryview) -> Iterator[BatchView]:
    """The complete batches of a records blob, in order.

    A fetch response may end with a partial batch (cut at the fetch size): iteration stops
    there. Raises :class:`RecordFormatError` on a batch of another magic (the v0/v1 message
    formats are not supported) or with an impossible length.
    """
    view = memoryview(buf)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    end = len(view)
    pos = 0
    while end - pos >= LOG_OVERHEAD:
        (length,) = struct.unpack_from(">i", view, pos + 8)
        if length < BATCH_OVERHEAD - LOG_OVERHEAD:
            raise RecordFormatError(f"batch length {length} at byte {pos} is too small")
        stop = pos + LOG_OVERHEAD + length
        if stop > end:
            return  # partial batch at the end of a fetch response
        magic = view[pos + 16]
        if magic != MAGIC:
            (offset,) = struct.unpack_from(">q", view, pos)
            raise RecordFormatError(
                f"the batch at offset {offset} has magic {magic}; only magic 2 (Kafka 0.11+) "
                "record batches are supported"
            )
        yield BatchView(view[pos:stop])
        pos = stop


# --------------------------------------------------------------------------------------------
# re-stamping
# --------------------------------------------------------------------------------------------


def restamp(
    batch: BatchView,
    producer_id: int,
    producer_epoch: int,
    base_sequence: int,
) -> bytes:
    """A copy of ``batch`` stamped for another (idempotent) producer, ready to produce.

    New producer id, epoch and base sequence; the transactional bit cleared; partition leader
    epoch -1; base offset 0 (the broker assigns offsets); the CRC32C recomputed. The records,
    their compression and timestamps are kept byte for byte. The batch must be producible as is:
    not a control batch, contiguous, CreateTime (see :func:`encode_batch` otherwise).
    """
    if batch.is_control:
        raise ValueError(f"control batch at offset {batch.base_offset} cannot be produced")
    tail = _TAIL.pack(
        batch.attributes & ~_TRANSACTIONAL_MASK,
        batch.last_offset_delta,
        batch.base_timestamp,
        batch.max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        batch.record_count,
    )
    body = batch.raw[BATCH_OVERHEAD:]
    crc = crc32c.crc32c(body, crc32c.crc32c(tail))
    head = _PREFIX.pack(0, batch.batch_length, NO_PARTITION_LEADER_EPOCH, MAGIC, crc)
    return b"".join((head, tail, body))


# --------------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------------


def decompress(codec: Compression | int, data: bytes | bytearray | memoryview) -> bytes:
    """Decompress a batch's records section as Kafka's clients write it.

    gzip: a gzip stream; snappy: Java's xerial framing (``\\x82SNAPPY\\x00``, then blocks of
    ``int32 length`` + raw snappy) or one raw snappy block (librdkafka may write either); lz4: the
    LZ4 frame format; zstd: one or more zstd frames.
    """
    codec = Compression(codec)
    try:
        if codec is Compression.NONE:
            return bytes(data)
        if codec is Compression.GZIP:
            return bytes(cramjam.gzip.decompress(data))
        if codec is Compression.SNAPPY:
            return _snappy_decompress(memoryview(data))
        if codec is Compression.LZ4:
            return bytes(cramjam.lz4.decompress(data))
        return bytes(cramjam.zstd.decompress(data))
    except cramjam.DecompressionError as exc:
        raise RecordFormatError(f"cannot decompress {codec.name} records: {exc}") from exc


def _snappy_decompress(data: memoryview) -> bytes:
    if bytes(data[:8]) != _XERIAL_MAGIC:
        return bytes(cramjam.snappy.decompress_raw(data))
    pos = 16  # magic, version, compatible version
    out: list[bytes] = []
    while pos < len(data):
        if pos + 4 > len(data):
            raise RecordFormatError("truncated xerial snappy block header")
        (size,) = struct.unpack_from(">i", data, pos)
        pos += 4
        if size < 0 or pos + size > len(data):
            raise RecordFormatError("truncated xerial snappy block")
        out.append(bytes(cramjam.snappy.decompress_raw(data[pos : pos + size])))
        pos += size
    return b"".join(out)


def compress(codec: Compression | int, data: bytes | bytearray | memoryview) -> bytes:
    """Compress a records section the way Apache Kafka's Java client does.

    gzip: a gzip stream; snappy: xerial framing with 32 KiB blocks (what Java writes and every
    client reads); lz4: an LZ4 frame with independent blocks (Kafka's reader requires them);
    zstd: one zstd frame.
    """
    codec = Compression(codec)
    if codec is Compression.NONE:
        return bytes(data)
    if codec is Compression.GZIP:
        return bytes(cramjam.gzip.compress(data))
    if codec is Compression.SNAPPY:
        view = memoryview(data)
        parts = [_XERIAL_HEADER]
        for start in range(0, len(view), _XERIAL_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(view[start : start + _XERIAL_BLOCK]))
            parts.append(struct.pack(">i", len(block)))
            parts.append(block)
        return b"".join(parts)
    if codec is Compression.LZ4:
        compressor = cramjam.lz4.Compressor(content_checksum=False, block_linked=False)
        compressor.compress(bytes(data))
        return bytes(compressor.finish())
    return bytes(cramjam.zstd.compress(data))


# --------------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------------


def decode_records(batch: BatchView) -> list[Rec]:
    """Every record of ``batch`` with its absolute offset and timestamp.

    For a LogAppendTime batch every record's timestamp is the batch's max timestamp, as
    consumers report it. Raises :class:`RecordFormatError` on malformed records.
    """
    body = batch.raw[BATCH_OVERHEAD:]
    data: bytes | memoryview = (
        body if batch.compression is Compression.NONE else decompress(batch.compression, body)
    )
    base_offset = batch.base_offset
    base_ts = batch.base_timestamp
    log_append = batch.timestamp_type is TimestampType.LOG_APPEND_TIME
    out: list[Rec] = []
    pos = 0
    end = len(data)
    try:
        for _ in range(batch.record_count):
            length, pos = decode_varint(data, pos)
            stop = pos + length
            if length < 0 or stop > end:
                raise RecordFormatError(f"record of {length} bytes overruns the batch")
            pos += 1  # record attributes: unused
            ts_delta, pos = decode_varint(data, pos)
            offset_delta, pos = decode_varint(data, pos)
            key_len, pos = decode_varint(data, pos)
            key = None
            if key_len >= 0:
                key = bytes(data[pos : pos + key_len])
                pos += key_len
            value_len, pos = decode_varint(data, pos)
            value = None
            if value_len >= 0:
                value = bytes(data[pos : pos + value_len])
                pos += value_len
            count, pos = decode_varint(data, pos)
            headers: list[Header] = []
            for _h in range(count):
                name_len, pos = decode_varint(data, pos)
                if name_len < 0:
                    raise RecordFormatError("negative header key length")
                name = bytes(data[pos : pos + name_len]).decode("utf-8")
                pos += name_len
                hv_len, pos = decode_varint(data, pos)
                hv = None
                if hv_len >= 0:
                    hv = bytes(data[pos : pos + hv_len])
                    pos += hv_len
                headers.append((name, hv))
            if pos != stop:
                raise RecordFormatError(
                    f"record at offset delta {offset_delta} declares {length} bytes, "
                    f"its fields take {length + pos - stop}"
                )
            out.append(
                Rec(
                    offset=base_offset + offset_delta,
                    timestamp=batch.max_timestamp if log_append else base_ts + ts_delta,
                    key=key,
                    value=value,
                    headers=tuple(headers),
                )
            )
    except UnicodeDecodeError as exc:
        raise RecordFormatError(f"header key is not UTF-8: {exc}") from exc
    if pos != end:
        raise RecordFormatError(
            f"{end - pos} byte(s) left after {batch.record_count} records "
            f"in the batch at offset {batch.base_offset}"
        )
    return out


def control_type(batch: BatchView) -> ControlType | None:
    """ABORT or COMMIT for a transaction-marker batch; None for any other batch."""
    if not batch.is_control or batch.record_count < 1:
        return None
    records = decode_records(batch)
    key = records[0].key
    if key is None or len(key) < 4:
        return None
    _version, kind = struct.unpack_from(">hh", key)
    return ControlType(kind) if kind in (0, 1) else None


def encode_record(
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[Header] = (),
) -> bytes:
    """One record in the magic-2 format, its length prefix included."""
    parts = [b"\x00", encode_varint(timestamp_delta), encode_varint(offset_delta)]
    if key is None:
        parts.append(b"\x01")  # zig-zag -1
    else:
        parts += (encode_varint(len(key)), key)
    if value is None:
        parts.append(b"\x01")
    else:
        parts += (encode_varint(len(value)), value)
    headers = list(headers)
    parts.append(encode_varint(len(headers)))
    for name, hv in headers:
        raw = name.encode("utf-8")
        parts += (encode_varint(len(raw)), raw)
        if hv is None:
            parts.append(b"\x01")
        else:
            parts += (encode_varint(len(hv)), hv)
    body = b"".join(parts)
    return encode_varint(len(body)) + body


def encode_batch(
    records: Sequence[Rec],
    *,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    compression: Compression | int = Compression.NONE,
    timestamp_type: TimestampType | int = TimestampType.CREATE_TIME,
    base_timestamp: int | None = None,
    transactional: bool = False,
    base_offset: int = 0,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
) -> bytes:
    """A contiguous batch of ``records`` (offset deltas 0..n-1, whatever their offsets).

    ``base_timestamp`` defaults to the first record's timestamp, as Kafka's producers write it
    (deltas are signed, so records need not be in time order); the max timestamp is the
    records' maximum. Raises ValueError for no records: Kafka rejects empty batches.
    """
    if not records:
        raise ValueError("a batch needs at least one record")
    base_ts = records[0].timestamp if base_timestamp is None else base_timestamp
    body = b"".join(
        [
            encode_record(i, rec.timestamp - base_ts, rec.key, rec.value, rec.headers)
            for i, rec in enumerate(records)
        ]
    )
    codec = Compression(compression)
    if codec is not Compression.NONE:
        body = compress(codec, body)
    attributes = int(codec)
    if TimestampType(timestamp_type) is TimestampType.LOG_APPEND_TIME:
        attributes |= _TIMESTAMP_TYPE_MASK
    if transactional:
        attributes |= _TRANSACTIONAL_MASK
    tail = _TAIL.pack(
        attributes,
        len(records) - 1,
        base_ts,
        max(rec.timestamp for rec in records),
        producer_id,
        producer_epoch,
        base_sequence,
        len(records),
    )
    crc = crc32c.crc32c(body, crc32c.crc32c(tail))
    length = BATCH_OVERHEAD - LOG_OVERHEAD + len(body)
    head = _PREFIX.pack(base_offset, length, partition_leader_epoch, MAGIC, crc)
    return b"".join((head, tail, body))


# --------------------------------------------------------------------------------------------
# READ_COMMITTED
# --------------------------------------------------------------------------------------------


class AbortedTransactionFilter:
    """Which batches of one fetch response belong to aborted transactions.

    Kafka's consumer algorithm (``CompletedFetch.nextFetchedRecord``): the fetch response lists
    the aborted transactions overlapping the fetched range as ``(producer_id, first_offset)``.
    Walking the batches in order, every listed transaction whose first offset is at or before
    the batch's last offset marks its producer as aborted; a transactional batch of a marked
    producer is dropped; that producer's ABORT marker (a control batch) unmarks it. Feed every
    batch of the response, in order, to :meth:`is_aborted` (control batches included), and use
    one filter per fetch response.
    """

    def __init__(self, aborted: Iterable[tuple[int, int]]) -> None:
        self._pending = sorted(aborted, key=lambda txn: txn[1], reverse=True)
        self._aborted_producers: set[int] = set()

    def is_aborted(self, batch: BatchView) -> bool:
        """True when ``batch`` is a transactional batch of an aborted transaction."""
        if batch.producer_id <= NO_PRODUCER_ID:
            return False
        last = batch.last_offset
        pending = self._pending
        while pending and pending[-1][1] <= last:
            self._aborted_producers.add(pending.pop()[0])
        if batch.is_control:
            if (
                batch.producer_id in self._aborted_producers
                and control_type(batch) is ControlType.ABORT
            ):
                self._aborted_producers.discard(batch.producer_id)
            return False
        return batch.is_transactional and batch.producer_id in self._aborted_producers
