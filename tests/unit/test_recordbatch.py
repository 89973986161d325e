"""Unit tests of connshift.core.recordbatch: the magic-2 record batch codec.

Known vectors were captured from the sandbox's Apache Kafka 3.9 broker: a batch written by
librdkafka 2.16 (uncompressed, and raw-snappy compressed), and one re-compressed by the broker
itself (Java's xerial-framed snappy). Their CRCs were checked by the broker and by librdkafka.
Property tests use a seeded ``random`` (no extra dependency).
"""

from __future__ import annotations

import random
import struct

import crc32c
import pytest

from connshift.core.recordbatch import (
    BATCH_OVERHEAD,
    AbortedTransactionFilter,
    BatchView,
    Compression,
    ControlType,
    Rec,
    RecordFormatError,
    TimestampType,
    compress,
    control_type,
    decode_records,
    decode_varint,
    decompress,
    encode_batch,
    encode_record,
    encode_varint,
    increment_sequence,
    iter_batches,
    restamp,
    zigzag_decode,
    zigzag_encode,
)

# librdkafka 2.16, idempotent producer id 2024, three records: headers, a null value, a null key,
# a timestamp before the first one (negative delta), a non-ASCII header key.
LIBRDKAFKA_PLAIN = bytes.fromhex(
    "00000000000000000000007300000000022ea7fb4e0000000000020000018bcfe568000000018bcfe568fa"
    "00000000000007e8000000000000000000034a0000000a6b65792d311276616c75652d6f6e65040a747261"
    "6365066162630a656d707479011800f403020a6b65792d3201001c0013040104763302086bc3a97900"
)
LIBRDKAFKA_SNAPPY = bytes.fromhex(
    "00000000000000000000007f0000000002ae2eb86a0002000000020000018bcfe568000000018bcfe568fa"
    "00000000000007e900000000000000000003a90154ca010000000a6b65792d31900176616c75652d6f6e65"
    "fa09005c040a7472616365066162630a656d707479011800f403020a01672832010068001304015076339602"
    "001802086bc3a97900"
)
# the broker's own snappy (topic compression.type=snappy): Java's xerial framing
JAVA_XERIAL_SNAPPY = bytes.fromhex(
    "0000000000000000000000670000000002bcf1576d0002000000010000018bcfe568000000018bcfe56801ff"
    "ffffffffffffffffffffffffff0000000282534e4150505900000000010000000100000022207c1800000004"
    "6b31086a6176610024000202046b320c78657269616c0202680231"
)

VECTOR_RECORDS = [
    Rec(0, 1700000000000, b"key-1", b"value-one", (("trace", b"abc"), ("empty", None))),
    Rec(1, 1700000000250, b"key-2", None, ()),
    Rec(2, 1699999999990, None, b"v3", (("k\u00e9y", b""),)),
]


def one(buf: bytes | memoryview) -> BatchView:
    (batch,) = list(iter_batches(buf))
    return batch


def with_attributes(batch: bytes, attributes: int, **fields: int) -> bytes:
    """``batch`` with other attributes (and header fields), CRC recomputed: test fixtures."""
    out = bytearray(batch)
    struct.pack_into(">h", out, 21, attributes)
    offsets = {"base_offset": (0, ">q"), "producer_id": (43, ">q"), "last_offset_delta": (23, ">i")}
    for name, value in fields.items():
        pos, fmt = offsets[name]
        struct.pack_into(fmt, out, pos, value)
    struct.pack_into(">I", out, 17, crc32c.crc32c(bytes(out[21:])))
    return bytes(out)


def random_records(rng: random.Random, n: int, base_offset: int = 0) -> list[Rec]:
    def blob() -> bytes | None:
        kind = rng.random()
        if kind < 0.15:
            return None
        if kind < 0.25:
            return b""
        return rng.randbytes(rng.choice([1, 5, 50, 200, 3000]))

    records = []
    ts = rng.randrange(0, 2**41)
    for i in range(n):
        headers = tuple(
            (rng.choice(["a", "trace-id", "k\u00e9y", "\u2603" * 3, ""]), blob())
            for _ in range(rng.choice([0, 0, 1, 3]))
        )
        records.append(
            Rec(base_offset + i, ts + rng.randrange(-5000, 5000), blob(), blob(), headers)
        )
    return records


# --------------------------------------------------------------------------------------------
# varints
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (-1, "01"),
        (1, "02"),
        (-2, "03"),
        (63, "7e"),
        (-64, "7f"),
        (64, "8001"),
        (300, "d804"),
        (-300, "d704"),
        (2**31 - 1, "feffffff0f"),
        (-(2**31), "ffffffff0f"),
        (2**63 - 1, "feffffffffffffffff01"),
        (-(2**63), "ffffffffffffffffff01"),
    ],
)
def test_varint_vectors(value: int, encoded: str) -> None:
    raw = bytes.fromhex(encoded)
    assert encode_varint(value) == raw
    assert decode_varint(raw, 0) == (value, len(raw))
    assert decode_varint(b"\xff" + raw, 1) == (value, len(raw) + 1)


def test_zigzag_round_trip() -> None:
    rng = random.Random(7)
    for value in [0, 1, -1, 2**62, -(2**62)] + [rng.randrange(-(2**63), 2**63) for _ in range(500)]:
        assert zigzag_decode(zigzag_encode(value)) == value
        assert zigzag_encode(value) >= 0
        assert decode_varint(encode_varint(value), 0)[0] == value


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\xff\xff"])
def test_truncated_varint(raw: bytes) -> None:
    with pytest.raises(RecordFormatError):
        decode_varint(raw, 0)


def test_overlong_varint() -> None:
    with pytest.raises(RecordFormatError):
        decode_varint(b"\xff" * 11 + b"\x00", 0)


def test_increment_sequence_wraps_at_2_31() -> None:
    assert increment_sequence(0, 5) == 5
    assert increment_sequence(2**31 - 1, 1) == 0
    assert increment_sequence(2**31 - 3, 5) == 2  # Kafka's DefaultRecordBatch.incrementSequence


# --------------------------------------------------------------------------------------------
# reading real batches
# --------------------------------------------------------------------------------------------


def test_crc32c_check_value() -> None:
    assert crc32c.crc32c(b"123456789") == 0xE3069283


def test_librdkafka_batch_header_and_crc() -> None:
    batch = one(LIBRDKAFKA_PLAIN)
    assert batch.crc == 0x2EA7FB4E
    assert batch.crc_valid()
    assert (batch.base_offset, batch.batch_length, batch.magic) == (0, 0x73, 2)
    assert batch.partition_leader_epoch == 0
    assert batch.compression is Compression.NONE
    assert batch.timestamp_type is TimestampType.CREATE_TIME
    assert not batch.is_transactional and not batch.is_control
    assert (batch.last_offset_delta, batch.record_count) == (2, 3)
    assert (batch.last_offset, batch.next_offset, batch.is_contiguous) == (2, 3, True)
    assert batch.base_timestamp == 1700000000000
    assert batch.max_timestamp == 1700000000250
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (2024, 0, 0)
    assert batch.size == len(LIBRDKAFKA_PLAIN) == 12 + batch.batch_length
    assert bytes(batch.raw) == LIBRDKAFKA_PLAIN


def test_decode_librdkafka_records() -> None:
    assert decode_records(one(LIBRDKAFKA_PLAIN)) == VECTOR_RECORDS


def test_decode_librdkafka_raw_snappy() -> None:
    batch = one(LIBRDKAFKA_SNAPPY)
    assert batch.crc_valid() and batch.compression is Compression.SNAPPY
    assert bytes(batch.raw[BATCH_OVERHEAD : BATCH_OVERHEAD + 8]) != b"\x82SNAPPY\x00"
    longer = {0: b"value-one" * 8, 2: b"v3" * 20}  # longer values, to be worth compressing
    assert decode_records(batch) == [
        Rec(r.offset, r.timestamp, r.key, longer.get(r.offset, r.value), r.headers)
        for r in VECTOR_RECORDS
    ]


def test_decode_java_xerial_snappy() -> None:
    batch = one(JAVA_XERIAL_SNAPPY)
    assert batch.crc_valid() and batch.compression is Compression.SNAPPY
    assert batch.producer_id == -1
    assert bytes(batch.raw[BATCH_OVERHEAD : BATCH_OVERHEAD + 8]) == b"\x82SNAPPY\x00"
    assert decode_records(batch) == [
        Rec(0, 1700000000000, b"k1", b"java"),
        Rec(1, 1700000000001, b"k2", b"xerial", (("h", b"1"),)),
    ]


def test_iter_batches_stops_at_a_partial_batch() -> None:
    blob = LIBRDKAFKA_PLAIN + JAVA_XERIAL_SNAPPY
    assert [b.base_offset for b in iter_batches(blob)] == [0, 0]
    for cut in range(1, len(JAVA_XERIAL_SNAPPY)):
        batches = list(iter_batches(LIBRDKAFKA_PLAIN + JAVA_XERIAL_SNAPPY[:cut]))
        assert len(batches) == 1 and bytes(batches[0].raw) == LIBRDKAFKA_PLAIN
    assert list(iter_batches(b"")) == []
    assert one(memoryview(bytearray(LIBRDKAFKA_PLAIN))).crc_valid()


def test_iter_batches_rejects_other_magic_and_bad_length() -> None:
    old = bytearray(LIBRDKAFKA_PLAIN)
    old[16] = 1
    with pytest.raises(RecordFormatError, match="magic 1"):
        list(iter_batches(bytes(old)))
    short = bytearray(LIBRDKAFKA_PLAIN)
    struct.pack_into(">i", short, 8, 10)
    with pytest.raises(RecordFormatError, match="too small"):
        list(iter_batches(bytes(short)))


def test_decode_detects_trailing_garbage_and_overruns() -> None:
    extra = bytearray(LIBRDKAFKA_PLAIN + b"\x00")
    struct.pack_into(">i", extra, 8, len(extra) - 12)
    with pytest.raises(RecordFormatError, match="left after"):
        decode_records(one(bytes(extra)))
    cut = bytearray(LIBRDKAFKA_PLAIN[:-3])
    struct.pack_into(">i", cut, 8, len(cut) - 12)
    with pytest.raises(RecordFormatError):
        decode_records(one(bytes(cut)))


# --------------------------------------------------------------------------------------------
# restamp
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", [LIBRDKAFKA_PLAIN, LIBRDKAFKA_SNAPPY, JAVA_XERIAL_SNAPPY])
def test_restamp_keeps_records_and_fixes_crc(vector: bytes) -> None:
    source = one(vector)
    out = restamp(source, 77, 3, 41)
    batch = one(out)
    assert batch.crc_valid() and batch.crc != source.crc
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (77, 3, 41)
    assert batch.base_offset == 0 and batch.partition_leader_epoch == -1
    assert batch.attributes == source.attributes
    assert (batch.base_timestamp, batch.max_timestamp) == (
        source.base_timestamp,
        source.max_timestamp,
    )
    assert (batch.last_offset_delta, batch.record_count) == (
        source.last_offset_delta,
        source.record_count,
    )
    assert out[BATCH_OVERHEAD:] == vector[BATCH_OVERHEAD:]  # records byte for byte
    assert [(r.key, r.value, r.headers, r.timestamp) for r in decode_records(batch)] == [
        (r.key, r.value, r.headers, r.timestamp) for r in decode_records(source)
    ]


def test_restamp_clears_the_transactional_bit() -> None:
    tx = one(with_attributes(LIBRDKAFKA_PLAIN, 0x10, base_offset=500))
    assert tx.is_transactional and tx.crc_valid()
    out = one(restamp(tx, 1, 0, 0))
    assert not out.is_transactional and out.crc_valid() and out.base_offset == 0


def test_restamp_refuses_control_batches() -> None:
    with pytest.raises(ValueError, match="control"):
        restamp(one(with_attributes(LIBRDKAFKA_PLAIN, 0x30)), 1, 0, 0)


def test_corrupt_batch_fails_crc() -> None:
    bad = bytearray(LIBRDKAFKA_PLAIN)
    bad[-2] ^= 0x01
    assert not one(bytes(bad)).crc_valid()


# --------------------------------------------------------------------------------------------
# encode / decode round trips
# --------------------------------------------------------------------------------------------


def test_encode_reproduces_librdkafka_bytes() -> None:
    """Same records, same producer fields: the very bytes librdkafka wrote."""
    source = one(LIBRDKAFKA_PLAIN)
    out = encode_batch(
        VECTOR_RECORDS,
        producer_id=2024,
        producer_epoch=0,
        base_sequence=0,
        partition_leader_epoch=0,
    )
    assert out == LIBRDKAFKA_PLAIN
    assert one(out).crc == source.crc


@pytest.mark.parametrize("codec", list(Compression))
def test_encode_decode_round_trip(codec: Compression) -> None:
    rng = random.Random(int(codec) + 11)
    for trial in range(25):
        records = random_records(rng, rng.choice([1, 2, 7, 60]), base_offset=1000 + trial)
        out = encode_batch(
            records, producer_id=5, producer_epoch=1, base_sequence=trial, compression=codec
        )
        batch = one(out)
        assert batch.crc_valid()
        assert batch.compression is codec
        assert batch.is_contiguous and batch.record_count == len(records)
        assert batch.base_timestamp == records[0].timestamp
        assert batch.max_timestamp == max(r.timestamp for r in records)
        decoded = decode_records(batch)
        # offsets become 0..n-1: the broker assigns real ones
        assert decoded == [
            Rec(i, r.timestamp, r.key, r.value, r.headers) for i, r in enumerate(records)
        ]


def test_encode_with_explicit_base_timestamp_and_flags() -> None:
    records = [Rec(0, 100, b"k", b"v"), Rec(1, 90, None, None)]
    out = one(encode_batch(records, base_timestamp=50, transactional=True, base_offset=9))
    assert out.base_timestamp == 50 and out.max_timestamp == 100
    assert out.is_transactional and out.base_offset == 9 and out.producer_id == -1
    assert [(r.offset, r.timestamp) for r in decode_records(out)] == [(9, 100), (10, 90)]


def test_encode_refuses_no_records() -> None:
    with pytest.raises(ValueError):
        encode_batch([])


def test_log_append_time_records_take_the_batch_max_timestamp() -> None:
    raw = encode_batch(
        [Rec(0, 10, b"a", b"1"), Rec(1, 20, b"b", b"2")],
        timestamp_type=TimestampType.LOG_APPEND_TIME,
    )
    out = bytearray(raw)
    struct.pack_into(">q", out, 35, 999)  # the broker sets max timestamp to its append time
    struct.pack_into(">I", out, 17, crc32c.crc32c(bytes(out[21:])))
    batch = one(bytes(out))
    assert batch.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert [r.timestamp for r in decode_records(batch)] == [999, 999]


def test_encode_record_layout() -> None:
    # length 10: attributes 0, ts delta 1 (02), offset delta 2 (04), key "k" (02 6b),
    # value null (01), one header "h" -> null (02 02 68 01)
    assert encode_record(2, 1, b"k", None, [("h", None)]) == bytes.fromhex(
        "14" + "00" + "02" + "04" + "026b" + "01" + "02" + "0268" + "01"
    )


# --------------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", list(Compression))
def test_compress_round_trip_large(codec: Compression) -> None:
    data = random.Random(3).randbytes(50_000) + b"abc" * 40_000  # > several 32 KiB blocks
    assert decompress(codec, compress(codec, data)) == data
    assert decompress(codec, memoryview(compress(codec, data))) == data


def test_snappy_is_xerial_framed_and_raw_is_read_too() -> None:
    import cramjam

    data = b"hello " * 20_000
    framed = compress(Compression.SNAPPY, data)
    assert framed.startswith(b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01")
    assert decompress(Compression.SNAPPY, framed) == data
    raw = bytes(cramjam.snappy.compress_raw(data))
    assert decompress(Compression.SNAPPY, raw) == data


def test_lz4_frame_has_independent_blocks() -> None:
    frame = compress(Compression.LZ4, b"x" * 200_000)
    assert frame[:4] == b"\x04\x22\x4d\x18"
    assert frame[4] & 0x20  # FLG block independence: Kafka's Lz4BlockInputStream needs it


@pytest.mark.parametrize(
    ("codec", "data"),
    [
        (Compression.GZIP, b"not gzip"),
        (Compression.LZ4, b"not an lz4 frame"),
        (Compression.ZSTD, b"not a zstd frame"),
        (Compression.SNAPPY, b"\xff\xff\xff\xff not snappy"),
        # xerial header, then a block that claims 9 bytes and has 2
        (
            Compression.SNAPPY,
            b"\x82SNAPPY\x00" + bytes.fromhex("0000000100000001") + b"\0\0\0\x09ab",
        ),
    ],
)
def test_bad_compressed_data_is_a_format_error(codec: Compression, data: bytes) -> None:
    with pytest.raises(RecordFormatError):
        decompress(codec, data)


def test_unknown_codec_is_a_format_error() -> None:
    batch = one(with_attributes(LIBRDKAFKA_PLAIN, 0x07))
    with pytest.raises(RecordFormatError, match="codec 7"):
        _ = batch.compression


# --------------------------------------------------------------------------------------------
# control batches and READ_COMMITTED
# --------------------------------------------------------------------------------------------


def control(offset: int, pid: int, kind: ControlType) -> bytes:
    """A transaction marker as a broker writes it: one record, key (version 0, type)."""
    raw = encode_batch(
        [Rec(0, 1, struct.pack(">hh", 0, int(kind)), struct.pack(">hi", 0, 0))],
        producer_id=pid,
        producer_epoch=0,
    )
    return with_attributes(raw, 0x30, base_offset=offset)


def data(offset: int, n: int, pid: int, *, tx: bool = True) -> bytes:
    raw = encode_batch(
        [Rec(i, 1, b"k", b"v") for i in range(n)],
        producer_id=pid,
        producer_epoch=0,
        base_sequence=0,
    )
    return with_attributes(raw, 0x10 if tx else 0, base_offset=offset)


def test_control_type() -> None:
    assert control_type(one(control(5, 1, ControlType.ABORT))) is ControlType.ABORT
    assert control_type(one(control(5, 1, ControlType.COMMIT))) is ControlType.COMMIT
    assert control_type(one(data(0, 2, 1))) is None


def kept(log: bytes, aborted: list[tuple[int, int]]) -> list[tuple[int, bool]]:
    filt = AbortedTransactionFilter(aborted)
    return [(b.base_offset, filt.is_aborted(b)) for b in iter_batches(log)]


def test_aborted_filter_single_producer() -> None:
    # tx 1 commits (0-9, marker 10); tx 2 aborts (11-20, marker 21); tx 3 commits (22-31, 32)
    log = b"".join(
        [
            data(0, 10, 8),
            control(10, 8, ControlType.COMMIT),
            data(11, 10, 8),
            control(21, 8, ControlType.ABORT),
            data(22, 10, 8),
            control(32, 8, ControlType.COMMIT),
        ]
    )
    assert kept(log, [(8, 11)]) == [
        (0, False),
        (10, False),
        (11, True),
        (21, False),
        (22, False),  # the abort marker cleared producer 8
        (32, False),
    ]
    assert kept(log, []) == [(o, False) for o in (0, 10, 11, 21, 22, 32)]


def test_aborted_filter_interleaved_producers() -> None:
    # producer 1 aborts a transaction spanning two batches; producer 2 commits in between;
    # a non-transactional batch of producer 1 is never aborted
    log = b"".join(
        [
            data(0, 5, 1),
            data(5, 5, 2),
            data(10, 5, 1),
            control(15, 2, ControlType.COMMIT),
            data(16, 3, 1, tx=False),
            control(19, 1, ControlType.ABORT),
            data(20, 5, 1),
        ]
    )
    assert kept(log, [(1, 0)]) == [
        (0, True),
        (5, False),
        (10, True),
        (15, False),
        (16, False),
        (19, False),
        (20, False),
    ]


def test_aborted_filter_only_marks_once_first_offset_is_reached() -> None:
    # producer 3's aborted transaction starts at 10: its earlier batch (0-4) committed
    log = b"".join(
        [
            data(0, 5, 3),
            control(5, 3, ControlType.COMMIT),
            data(6, 4, 4, tx=False),
            data(10, 5, 3),
            control(15, 3, ControlType.ABORT),
        ]
    )
    assert kept(log, [(3, 10)]) == [(0, False), (5, False), (6, False), (10, True), (15, False)]


def test_aborted_filter_ignores_batches_without_producer_id() -> None:
    plain = with_attributes(encode_batch([Rec(0, 1, b"k", b"v")]), 0x10)
    assert kept(plain, [(-1, 0)]) == [(0, False)]
