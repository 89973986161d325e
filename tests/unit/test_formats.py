"""Unit tests for connshift.core.formats: record format detection and summaries.

Confluent-framed payloads are built by hand here (struct + hand-rolled varints), following
the Confluent serializers' wire format: magic byte 0, a big-endian 4-byte schema id, then
the payload; Protobuf payloads carry a zigzag-varint message-index array first.
"""

from __future__ import annotations

import json
import struct

import pytest

from connshift.core.formats import (
    Detected,
    Format,
    FormatSummary,
    detect,
    summarize,
)

# --- hand-rolled encoders -------------------------------------------------------------


def uvarint(n: int) -> bytes:
    assert n >= 0
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def confluent(schema_id: int, payload: bytes) -> bytes:
    return struct.pack(">bI", 0, schema_id) + payload


def message_indexes(indexes: list[int]) -> bytes:
    """As the Confluent Protobuf serializer writes them: [0] is one 0x00 byte."""
    if indexes == [0]:
        return b"\x00"
    return uvarint(zigzag(len(indexes))) + b"".join(uvarint(zigzag(i)) for i in indexes)


def pb_tag(number: int, wire_type: int) -> bytes:
    return uvarint((number << 3) | wire_type)


def pb_varint(number: int, value: int) -> bytes:
    return pb_tag(number, 0) + uvarint(value)


def pb_bytes(number: int, value: bytes) -> bytes:
    return pb_tag(number, 2) + uvarint(len(value)) + value


def pb_double(number: int, value: float) -> bytes:
    return pb_tag(number, 1) + struct.pack("<d", value)


def pb_fixed32(number: int, value: int) -> bytes:
    return pb_tag(number, 5) + struct.pack("<I", value)


def order_message() -> bytes:
    """message Order { int64 id=1; string customer=2; double amount=3;
    repeated string tags=4; Address address=5; fixed32 quantity=6; bool paid=7; }
    message Address { string city=1; int32 zip=2; }"""
    address = pb_bytes(1, b"Lisbon") + pb_varint(2, 1100)
    return (
        pb_varint(1, 1_000_042)
        + pb_bytes(2, "Zoë".encode())
        + pb_double(3, 129.95)
        + pb_bytes(4, b"priority")
        + pb_bytes(4, b"gift")
        + pb_bytes(5, address)
        + pb_fixed32(6, 3)
        + pb_varint(7, 1)
    )


def avro_long(n: int) -> bytes:
    return uvarint(zigzag(n))


def avro_string(s: str) -> bytes:
    raw = s.encode()
    return avro_long(len(raw)) + raw


def avro_customer() -> bytes:
    """record Customer { long id; string name; string email; double balance;
    union {null, string} note; boolean active; }"""
    return (
        avro_long(1001)
        + avro_string("alice")
        + avro_string("alice@example.com")
        + struct.pack("<d", 12.5)
        + avro_long(1)  # union branch 1: string
        + avro_string("vip")
        + b"\x01"
    )


# --- the encoders themselves match the documented wire format -------------------------


def test_encoders_match_known_wire_bytes() -> None:
    assert confluent(1, b"") == b"\x00\x00\x00\x00\x01"
    assert confluent(0x01020304, b"x") == b"\x00\x01\x02\x03\x04x"
    assert message_indexes([0]) == b"\x00"
    assert message_indexes([1]) == b"\x02\x02"
    assert message_indexes([0, 2]) == b"\x04\x00\x04"
    assert pb_varint(1, 150) == b"\x08\x96\x01"  # the protobuf docs' example
    assert avro_long(-1) == b"\x01"
    assert avro_long(1001) == b"\xd2\x0f"


# --- null, empty ----------------------------------------------------------------------


def test_none_is_null() -> None:
    assert detect(None) == Detected(Format.NULL)


def test_empty_bytes_is_empty() -> None:
    assert detect(b"") == Detected(Format.EMPTY)


# --- plain JSON -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"id": 1, "name": "a"}', "object"),
        (b"[1, 2, 3]", "array"),
        (b'"a quoted string"', "string"),
        (b"42", "number"),
        (b"-1.5e3", "number"),
        (b"true", "boolean"),
        (b"null", "null"),
        (b'  \n{"padded": true}\r\n ', "object"),
        ('{"name": "Zoë", "city": "東京"}'.encode(), "object"),
    ],
)
def test_json(data: bytes, kind: str) -> None:
    assert detect(data) == Detected(Format.JSON, detail=f"JSON {kind}")


def test_json_with_bom() -> None:
    got = detect(b'\xef\xbb\xbf{"id": 7}')
    assert got == Detected(Format.JSON, detail="UTF-8 BOM; JSON object")


@pytest.mark.parametrize(
    "data",
    [b"NaN", b"Infinity", b"-Infinity", b'{"x": NaN}', b"{", b"{'single': 1}", b"[1,]"],
)
def test_not_strict_json_is_text(data: bytes) -> None:
    assert detect(data) == Detected(Format.TEXT, detail="UTF-8 text, not JSON")


def test_json_nested_too_deep_to_parse_is_text() -> None:
    assert detect(b"[" * 100_000 + b"]" * 100_000).format is Format.TEXT


# --- text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"hello world", b"order-1042", b"tab\tand\nnewlines\r\n", "Zoë 東京 🚀".encode()],
)
def test_text(data: bytes) -> None:
    assert detect(data) == Detected(Format.TEXT, detail="UTF-8 text, not JSON")


@pytest.mark.parametrize("data", [b" ", b"\n", b" \t\r\n \x0b\x0c"])
def test_whitespace_only_is_text(data: bytes) -> None:
    assert detect(data) == Detected(Format.TEXT, detail="whitespace only")


def test_text_with_bom() -> None:
    assert detect(b"\xef\xbb\xbfhello") == Detected(
        Format.TEXT, detail="UTF-8 BOM; UTF-8 text, not JSON"
    )


def test_bom_only_is_text() -> None:
    assert detect(b"\xef\xbb\xbf") == Detected(Format.TEXT, detail="UTF-8 BOM; empty")


# --- binary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"\xff\xfe\x00\x01", 0),
        (b"abc\xc3", 3),  # truncated 2-byte sequence
        (b"ab\xc3\x28", 2),  # invalid continuation byte
        (b"\xed\xa0\x80", 0),  # UTF-8-encoded surrogate
        (b"\xef\xbb\xbfok\xff", 5),  # offset counts the BOM
        (b"\x80", 0),
    ],
)
def test_invalid_utf8_is_binary(data: bytes, offset: int) -> None:
    assert detect(data) == Detected(Format.BINARY, detail=f"not valid UTF-8 (at byte {offset})")


@pytest.mark.parametrize("data", [b"\x08\x01\x12\x02hi", b"abc\x07def", b"\x1b[31mred\x1b[0m"])
def test_utf8_with_control_characters_is_binary(data: bytes) -> None:
    got = detect(data)
    assert got.format is Format.BINARY
    assert got.detail.startswith("valid UTF-8 but has control character")


def test_bare_protobuf_without_framing_is_binary() -> None:
    assert detect(order_message()).format is Format.BINARY


# --- Confluent header edge cases ------------------------------------------------------


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00", b"\x00\x00\x00", b"\x00\x00\x00\x2a"])
def test_truncated_confluent_header_is_binary(data: bytes) -> None:
    assert detect(data) == Detected(Format.BINARY, detail="truncated Confluent header")


def test_schema_id_zero_is_binary() -> None:
    long_key = struct.pack(">q", 42)  # a Kafka LongSerializer key
    got = detect(long_key)
    assert got.format is Format.BINARY
    assert got.schema_id is None
    assert "schema id 0" in got.detail


def test_schema_id_is_unsigned_big_endian() -> None:
    assert detect(confluent(0x01020304, b'{"a": 1}')).schema_id == 16909060
    assert detect(confluent(0xFFFFFFFF, b'{"a": 1}')).schema_id == 4294967295
    assert detect(confluent(1, b'{"a": 1}')).schema_id == 1


def test_header_without_payload_is_unknown() -> None:
    assert detect(confluent(5, b"")) == Detected(
        Format.CONFLUENT_UNKNOWN, 5, "no payload after the Confluent header"
    )


# --- Confluent JSON Schema ------------------------------------------------------------


def test_confluent_json_schema_object() -> None:
    doc = json.dumps({"id": 1, "name": "alice", "tags": ["a", "b"]}).encode()
    assert detect(confluent(21, doc)) == Detected(
        Format.CONFLUENT_JSON_SCHEMA, 21, "JSON object after the Confluent header"
    )


def test_confluent_json_schema_array() -> None:
    got = detect(confluent(22, b"[1, 2]"))
    assert got == Detected(
        Format.CONFLUENT_JSON_SCHEMA, 22, "JSON array after the Confluent header"
    )


def test_confluent_json_schema_with_bom() -> None:
    got = detect(confluent(24, b'\xef\xbb\xbf{"a": 1}'))
    assert got.format is Format.CONFLUENT_JSON_SCHEMA


def test_confluent_json_schema_scalar_is_flagged_as_ambiguous() -> None:
    got = detect(confluent(23, b'"just a string"'))
    assert got.format is Format.CONFLUENT_JSON_SCHEMA
    assert got.schema_id == 23
    assert "scalar" in got.detail
    assert "Avro" in got.detail


# --- Confluent Protobuf ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("indexes", "shown"),
    [([0], "[0]"), ([1], "[1]"), ([0, 2], "[0, 2]"), ([3, 1, 4], "[3, 1, 4]"), ([70], "[70]")],
)
def test_confluent_protobuf(indexes: list[int], shown: str) -> None:
    got = detect(confluent(42, message_indexes(indexes) + order_message()))
    assert got.format is Format.CONFLUENT_PROTOBUF
    assert got.schema_id == 42
    assert got.detail.startswith(f"message indexes {shown} then 8 well-formed Protobuf field(s)")
    assert "heuristic" in got.detail


def test_confluent_protobuf_explicit_single_zero_index() -> None:
    # [0] spelled out as count 1, index 0 (not the serializer's short form) is valid too.
    got = detect(confluent(42, b"\x02\x00" + order_message()))
    assert got.format is Format.CONFLUENT_PROTOBUF
    assert "indexes [0]" in got.detail


def test_confluent_protobuf_single_field() -> None:
    got = detect(confluent(9, b"\x00" + pb_varint(1, 150)))
    assert got.format is Format.CONFLUENT_PROTOBUF
    assert "1 well-formed" in got.detail


def test_confluent_protobuf_with_group() -> None:
    group = pb_tag(3, 3) + pb_varint(1, 5) + pb_bytes(2, b"x") + pb_tag(3, 4)
    got = detect(confluent(9, b"\x00" + pb_varint(1, 1) + group))
    assert got.format is Format.CONFLUENT_PROTOBUF
    assert "2 well-formed" in got.detail  # the group's inner fields are not top-level


def test_confluent_protobuf_max_varint() -> None:
    ten_byte = b"\xff" * 9 + b"\x01"  # 2**64 - 1
    got = detect(confluent(9, b"\x00" + pb_tag(1, 0) + ten_byte))
    assert got.format is Format.CONFLUENT_PROTOBUF


@pytest.mark.parametrize("payload", [b"\x00", b"\x02\x00", b"\x02\x02", b"\x04\x00\x04"])
def test_index_array_with_no_message_is_unknown(payload: bytes) -> None:
    got = detect(confluent(11, payload))
    assert got.format is Format.CONFLUENT_UNKNOWN
    assert got.schema_id == 11
    assert "empty Protobuf message" in got.detail
    assert "Avro" in got.detail


def test_short_avro_string_record() -> None:
    # Avro "abc" is 06 61 62 63: count 3, then 0x61 unzigzags to -49, not an index.
    assert detect(confluent(11, avro_string("abc"))).format is Format.CONFLUENT_AVRO


def test_short_avro_string_record_can_be_ambiguous() -> None:
    # Avro "bdf" is 06 62 64 66: it also reads as message indexes [49, 50, 51] and an
    # empty message, so it is reported as unknown rather than guessed.
    got = detect(confluent(11, avro_string("bdf")))
    assert got.format is Format.CONFLUENT_UNKNOWN
    assert "[49, 50, 51]" in got.detail


# --- Confluent Avro (by elimination) and malformed Protobuf lookalikes ----------------


def test_confluent_avro_realistic_record() -> None:
    got = detect(confluent(3, avro_customer()))
    assert got.format is Format.CONFLUENT_AVRO
    assert got.schema_id == 3
    assert got.detail.startswith("assumed Avro")
    assert "cannot be verified without its schema" in got.detail


@pytest.mark.parametrize(
    "payload",
    [
        avro_long(1) + avro_string("bob"),  # record {int id; string name}
        avro_long(5),  # index count 5, then nothing
        avro_long(0) + avro_string("hi"),  # [0] then field number 0, wire type 4
        b"\x00" + pb_tag(0, 0) + b"\x01",  # [0] then field number 0, wire type 0
        b"\x00" + pb_tag(2, 2) + uvarint(10) + b"short",  # length past the end
        b"\x00" + pb_tag(1, 1) + b"\x00" * 7,  # fixed64 cut short
        b"\x00" + pb_tag(1, 5) + b"\x00" * 3,  # fixed32 cut short
        b"\x00" + pb_tag(1, 0),  # varint missing
        b"\x00" + pb_tag(1, 0) + b"\x80\x80",  # varint unterminated
        b"\x00" + pb_tag(1, 0) + b"\xff" * 10 + b"\x01",  # varint longer than 10 bytes
        b"\x00" + pb_tag(1, 0) + b"\xff" * 9 + b"\x02",  # varint above 64 bits
        b"\x00" + pb_tag(1, 6) + b"\x00",  # wire type 6
        b"\x00" + pb_tag(1, 7) + b"\x00",  # wire type 7
        b"\x00" + pb_tag(1, 3) + pb_varint(1, 1),  # group never closed
        b"\x00" + pb_tag(1, 3) + pb_tag(2, 4),  # group closed with the wrong number
        b"\x00" + pb_tag(1, 4),  # end group with no start
        b"\x00" + pb_varint(1 << 29, 1),  # field number above 2**29 - 1
        b"\x01" + order_message(),  # index count -1
        b"\x03\x00" + order_message(),  # index count -2
        b"\x02\x01" + order_message(),  # index -1
        uvarint(zigzag(33)) + b"\x00" * 33 + order_message(),  # index array too deep
        b"\x02" + uvarint(zigzag(10_001)) + order_message(),  # index too large
        b"\x02",  # index count 1, index missing
        b"\xff",  # varint unterminated at once
    ],
)
def test_not_json_not_protobuf_is_avro(payload: bytes) -> None:
    got = detect(confluent(3, payload))
    assert got == Detected(Format.CONFLUENT_AVRO, 3, got.detail)
    assert got.detail.startswith("assumed Avro")


def test_index_bounds_are_inclusive() -> None:
    deepest = uvarint(zigzag(32)) + b"\x00" * 32 + order_message()
    assert detect(confluent(3, deepest)).format is Format.CONFLUENT_PROTOBUF
    largest = b"\x02" + uvarint(zigzag(10_000)) + order_message()
    assert detect(confluent(3, largest)).format is Format.CONFLUENT_PROTOBUF
    top_field = b"\x00" + pb_varint((1 << 29) - 1, 1)
    assert detect(confluent(3, top_field)).format is Format.CONFLUENT_PROTOBUF


def test_detected_to_json() -> None:
    got = detect(confluent(3, avro_customer()))
    assert got.to_json() == {
        "format": "CONFLUENT_AVRO",
        "schema_id": 3,
        "detail": got.detail,
    }
    assert Detected(Format.NULL).to_json() == {"format": "NULL", "schema_id": None, "detail": ""}


def test_format_is_confluent() -> None:
    assert {f for f in Format if f.is_confluent} == {
        Format.CONFLUENT_AVRO,
        Format.CONFLUENT_PROTOBUF,
        Format.CONFLUENT_JSON_SCHEMA,
        Format.CONFLUENT_UNKNOWN,
    }


# --- summarize ------------------------------------------------------------------------


def test_summarize_nothing() -> None:
    got = summarize([])
    assert got == FormatSummary(counts={}, schema_ids=[], dominant=None, mixed=False)
    assert got.total == 0
    assert got.to_json() == {
        "counts": {},
        "schema_ids": [],
        "dominant": None,
        "mixed": False,
        "total": 0,
    }


def test_summarize_mixed_samples() -> None:
    samples: list[bytes | None] = [
        b'{"a": 1}',
        None,
        b"plain",
        b'{"a": 2}',
        confluent(7, avro_customer()),
        confluent(3, b"\x00" + order_message()),
        b"\xff\x00",
        b"",
        confluent(7, avro_customer()),
        b"[]",
    ]
    got = summarize(samples)
    assert got.counts == {
        Format.NULL: 1,
        Format.EMPTY: 1,
        Format.JSON: 3,
        Format.TEXT: 1,
        Format.CONFLUENT_AVRO: 2,
        Format.CONFLUENT_PROTOBUF: 1,
        Format.BINARY: 1,
    }
    assert list(got.counts) == [f for f in Format if f in got.counts]  # Format order
    assert got.schema_ids == [3, 7]
    assert got.dominant is Format.JSON
    assert got.mixed is True
    assert got.total == 10
    doc = got.to_json()
    assert doc == {
        "counts": {
            "NULL": 1,
            "EMPTY": 1,
            "JSON": 3,
            "TEXT": 1,
            "CONFLUENT_AVRO": 2,
            "CONFLUENT_PROTOBUF": 1,
            "BINARY": 1,
        },
        "schema_ids": [3, 7],
        "dominant": "JSON",
        "mixed": True,
        "total": 10,
    }
    assert json.loads(json.dumps(doc)) == doc


def test_summarize_single_format_with_schema_ids() -> None:
    got = summarize(confluent(i, avro_customer()) for i in (9, 2, 9, 5))
    assert got.counts == {Format.CONFLUENT_AVRO: 4}
    assert got.schema_ids == [2, 5, 9]
    assert got.dominant is Format.CONFLUENT_AVRO
    assert got.mixed is False


def test_tombstones_do_not_make_a_topic_mixed() -> None:
    got = summarize([None, None, None, b'{"a": 1}'])
    assert got.counts == {Format.NULL: 3, Format.JSON: 1}
    assert got.dominant is Format.JSON
    assert got.mixed is False


def test_only_tombstones() -> None:
    got = summarize([None, None])
    assert got.dominant is Format.NULL
    assert got.mixed is False


def test_unknown_frames_fold_into_a_specific_confluent_format() -> None:
    empty_message = confluent(4, b"\x00")
    got = summarize([empty_message, empty_message, confluent(4, b"\x00" + order_message())])
    assert got.counts == {Format.CONFLUENT_PROTOBUF: 1, Format.CONFLUENT_UNKNOWN: 2}
    assert got.dominant is Format.CONFLUENT_PROTOBUF
    assert got.mixed is False
    assert got.schema_ids == [4]


def test_unknown_frames_alone_are_dominant() -> None:
    got = summarize([confluent(4, b"\x00"), None])
    assert got.dominant is Format.CONFLUENT_UNKNOWN
    assert got.mixed is False


def test_unknown_frames_beside_plain_formats_are_mixed() -> None:
    got = summarize([confluent(4, b"\x00"), b"text"])
    assert got.mixed is True


def test_two_confluent_formats_are_mixed() -> None:
    got = summarize(
        [
            confluent(1, avro_customer()),
            confluent(2, b"\x00" + order_message()),
            confluent(2, b"\x00" + order_message()),
        ]
    )
    assert got.dominant is Format.CONFLUENT_PROTOBUF
    assert got.mixed is True
    assert got.schema_ids == [1, 2]


def test_dominant_tie_goes_to_the_earlier_format() -> None:
    assert summarize([b"text", b"1"]).dominant is Format.JSON
    assert summarize([b"1", b"text"]).dominant is Format.JSON
    assert summarize([b"\xff", b""]).dominant is Format.EMPTY


def test_summarize_consumes_any_iterable_once() -> None:
    got = summarize(iter([b"a", b"b", None]))
    assert got.counts == {Format.NULL: 1, Format.TEXT: 2}
    assert got.dominant is Format.TEXT
