"""Record format detection: what a topic's keys and values look like, from sampled bytes.

``connshift inventory`` samples records and describes each topic's key and value formats
with :func:`summarize`. Detection is a *classification of bytes*, never a decode against a
schema, so some outcomes are heuristics; each :class:`Detected` says which in ``detail``.

Rules, in order (:func:`detect`):

1. ``None`` is :attr:`Format.NULL` (a tombstone or a null key); ``b""`` is :attr:`Format.EMPTY`.
2. A first byte ``0x00`` means the Confluent Schema Registry wire format: magic byte ``0x00``,
   a 4-byte big-endian schema id, then the serialized payload.

   - Fewer than 5 bytes: :attr:`Format.BINARY`, "truncated Confluent header".
   - Schema id 0: :attr:`Format.BINARY`. Schema registries hand out ids from 1, and a
     leading ``00 00 00 00 00`` is far more often a big-endian integer (e.g. a Kafka
     ``LongSerializer`` key below 2**24) than a framed record.
   - The payload is then classified by the first rule that matches:

     a. empty: :attr:`Format.CONFLUENT_UNKNOWN`;
     b. strict UTF-8 JSON text: :attr:`Format.CONFLUENT_JSON_SCHEMA` (the JSON Schema
        serializer writes plain JSON after the header);
     c. a plausible Protobuf frame: :attr:`Format.CONFLUENT_PROTOBUF`. The Protobuf
        serializer writes a message-index array before the message: zigzag varints, the
        count first and then the indexes, with the common ``[0]`` written as one ``0x00``
        byte (a count of 0 is read as ``[0]``). The frame is plausible when that array
        decodes (count and indexes non-negative and within sane bounds) *and* the rest
        parses completely as at least one well-formed Protobuf field (valid field number,
        wire type 0/1/2/5 or balanced groups 3/4, lengths inside the payload);
     d. an index array followed by *nothing* (e.g. the payload is just ``0x00``):
        :attr:`Format.CONFLUENT_UNKNOWN`. That is an all-defaults Protobuf message, but
        equally an Avro record whose fields are zero/null, so it cannot be told apart;
     e. anything else: :attr:`Format.CONFLUENT_AVRO`. Avro binary carries no tags or
        markers and cannot be validated without its writer schema, so this is a
        classification *by elimination*: an Avro payload that happens to be valid JSON or
        to parse as Protobuf fields is misclassified, and a non-Avro payload behind a
        ``0x00`` byte is reported as Avro.

3. Otherwise the bytes are text or binary. An optional UTF-8 byte-order mark is skipped
   (and reported in ``detail``). Bytes that are not valid UTF-8 are :attr:`Format.BINARY`;
   valid UTF-8 containing C0 control characters other than whitespace (``\\t \\n \\v \\f
   \\r``) is :attr:`Format.BINARY` too, since short unframed binary (a bare Protobuf
   message, say) is often valid UTF-8. Strict JSON (no ``NaN``/``Infinity``) is
   :attr:`Format.JSON`; any other text, including whitespace only, is :attr:`Format.TEXT`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn

MAGIC_BYTE = 0x00
"""The Confluent wire format's first byte."""

HEADER_SIZE = 5
"""Magic byte plus the 4-byte big-endian schema id."""

UTF8_BOM = b"\xef\xbb\xbf"

MAX_MESSAGE_INDEX_DEPTH = 32
"""Longest message-index array accepted as plausible (one entry per nesting level)."""

MAX_MESSAGE_INDEX = 10_000
"""Largest message index accepted as plausible (the position of a message in its file)."""

_MAX_FIELD_NUMBER = (1 << 29) - 1
_MAX_VARINT_BYTES = 10
_TEXT_WHITESPACE_CONTROLS = frozenset("\t\n\v\f\r")


class Format(StrEnum):
    """The format of one record key or value."""

    NULL = "NULL"
    EMPTY = "EMPTY"
    JSON = "JSON"
    TEXT = "TEXT"
    CONFLUENT_AVRO = "CONFLUENT_AVRO"
    CONFLUENT_PROTOBUF = "CONFLUENT_PROTOBUF"
    CONFLUENT_JSON_SCHEMA = "CONFLUENT_JSON_SCHEMA"
    CONFLUENT_UNKNOWN = "CONFLUENT_UNKNOWN"
    BINARY = "BINARY"

    @property
    def is_confluent(self) -> bool:
        """Whether this is one of the Confluent wire-format formats."""
        return self.value.startswith("CONFLUENT_")


@dataclass(frozen=True)
class Detected:
    """The detected format of one key or value; ``detail`` says why, or what was guessed."""

    format: Format
    schema_id: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"format": str(self.format), "schema_id": self.schema_id, "detail": self.detail}


@dataclass(frozen=True)
class FormatSummary:
    """What a sample of keys (or values) looks like.

    ``counts`` holds only the formats seen, in :class:`Format` order. ``schema_ids`` are the
    distinct Confluent schema ids seen, sorted. ``dominant`` is the most frequent format,
    ignoring :attr:`Format.NULL` unless nothing else was seen, and ignoring
    :attr:`Format.CONFLUENT_UNKNOWN` when a specific Confluent format was also seen (an
    unknown frame is consistent with it); ties go to the earlier :class:`Format`. ``mixed``
    is true when more than one format was seen under the same two exclusions.
    """

    counts: dict[Format, int] = field(default_factory=dict)
    schema_ids: list[int] = field(default_factory=list)
    dominant: Format | None = None
    mixed: bool = False

    @property
    def total(self) -> int:
        """How many samples were summarized."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {str(f): n for f, n in self.counts.items()},
            "schema_ids": list(self.schema_ids),
            "dominant": None if self.dominant is None else str(self.dominant),
            "mixed": self.mixed,
            "total": self.total,
        }


def detect(data: bytes | None) -> Detected:
    """Classify one record key or value (see the module docstring for the rules)."""
    if data is None:
        return Detected(Format.NULL)
    if not data:
        return Detected(Format.EMPTY)
    if data[0] == MAGIC_BYTE:
        return _detect_confluent(data)
    return _detect_plain(data)


def summarize(samples: Iterable[bytes | None]) -> FormatSummary:
    """Detect every sample and describe the lot (see :class:`FormatSummary`)."""
    seen: dict[Format, int] = {}
    schema_ids: set[int] = set()
    for sample in samples:
        d = detect(sample)
        seen[d.format] = seen.get(d.format, 0) + 1
        if d.schema_id is not None:
            schema_ids.add(d.schema_id)
    counts = {f: seen[f] for f in Format if f in seen}

    candidates: dict[Format, int] = {f: n for f, n in counts.items() if f is not Format.NULL}
    if any(f.is_confluent and f is not Format.CONFLUENT_UNKNOWN for f in candidates):
        candidates.pop(Format.CONFLUENT_UNKNOWN, None)
    if not candidates and Format.NULL in counts:
        candidates = {Format.NULL: counts[Format.NULL]}
    dominant: Format | None = None
    if candidates:
        # dicts keep Format order, and max() keeps the first of equal maxima.
        dominant = max(candidates, key=lambda f: candidates[f])
    return FormatSummary(
        counts=counts,
        schema_ids=sorted(schema_ids),
        dominant=dominant,
        mixed=len(candidates) > 1,
    )


# --- Confluent wire format -------------------------------------------------------------


def _detect_confluent(data: bytes) -> Detected:
    if len(data) < HEADER_SIZE:
        return Detected(Format.BINARY, detail="truncated Confluent header")
    (schema_id,) = struct.unpack_from(">I", data, 1)
    if schema_id == 0:
        return Detected(
            Format.BINARY,
            detail="magic byte 0 but schema id 0, which registries never assign "
            "(likely a big-endian integer)",
        )
    payload = data[HEADER_SIZE:]
    if not payload:
        return Detected(
            Format.CONFLUENT_UNKNOWN, schema_id, "no payload after the Confluent header"
        )

    json_kind = _json_kind(payload)
    if json_kind is not None:
        detail = f"JSON {json_kind} after the Confluent header"
        if json_kind not in ("object", "array"):
            detail += " (a scalar: could also be a short Avro record)"
        return Detected(Format.CONFLUENT_JSON_SCHEMA, schema_id, detail)

    indexes_end = _read_message_indexes(payload)
    if indexes_end is not None:
        indexes, body_start = indexes_end
        if body_start == len(payload):
            return Detected(
                Format.CONFLUENT_UNKNOWN,
                schema_id,
                f"message indexes {indexes} and no more bytes: an empty Protobuf message "
                "or an Avro record of zero/null fields",
            )
        fields = _count_protobuf_fields(payload, body_start)
        if fields is not None:
            return Detected(
                Format.CONFLUENT_PROTOBUF,
                schema_id,
                f"message indexes {indexes} then {fields} well-formed Protobuf field(s) "
                "(heuristic: structure checked, not the schema)",
            )
    return Detected(
        Format.CONFLUENT_AVRO,
        schema_id,
        "assumed Avro: payload is neither JSON nor a well-formed Protobuf frame "
        "(Avro binary cannot be verified without its schema)",
    )


def _read_varint(buf: bytes, pos: int) -> tuple[int, int] | None:
    """An unsigned LEB128 varint at ``pos``: (value, next position), or None if malformed."""
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(buf):
            return None
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i == _MAX_VARINT_BYTES - 1 and byte > 1:
                return None  # more than 64 bits
            return value, pos + i + 1
    return None


def _unzigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _read_message_indexes(payload: bytes) -> tuple[list[int], int] | None:
    """The Protobuf serializer's message-index array: (indexes, body start) or None."""
    head = _read_varint(payload, 0)
    if head is None:
        return None
    count, pos = _unzigzag(head[0]), head[1]
    if count == 0:
        return [0], pos
    if count < 0 or count > MAX_MESSAGE_INDEX_DEPTH:
        return None
    indexes: list[int] = []
    for _ in range(count):
        item = _read_varint(payload, pos)
        if item is None:
            return None
        index, pos = _unzigzag(item[0]), item[1]
        if index < 0 or index > MAX_MESSAGE_INDEX:
            return None
        indexes.append(index)
    return indexes, pos


class _Malformed(Exception):
    """Internal: the bytes are not a well-formed Protobuf message."""


def _malformed() -> NoReturn:
    raise _Malformed


def _count_protobuf_fields(buf: bytes, pos: int) -> int | None:
    """How many top-level fields ``buf[pos:]`` holds, if it parses completely as Protobuf."""
    groups: list[int] = []
    fields = 0
    try:
        while pos < len(buf):
            tag = _read_varint(buf, pos) or _malformed()
            key, pos = tag
            number, wire_type = key >> 3, key & 0x7
            if not 1 <= number <= _MAX_FIELD_NUMBER:
                _malformed()
            if wire_type == 0:  # varint
                pos = (_read_varint(buf, pos) or _malformed())[1]
            elif wire_type == 1:  # fixed64
                pos += 8
            elif wire_type == 2:  # length-delimited
                length, pos = _read_varint(buf, pos) or _malformed()
                pos += length
            elif wire_type == 3:  # start group
                groups.append(number)
            elif wire_type == 4:  # end group
                if not groups or groups.pop() != number:
                    _malformed()
            elif wire_type == 5:  # fixed32
                pos += 4
            else:
                _malformed()
            if pos > len(buf):
                _malformed()
            if not groups and wire_type != 3:
                fields += 1
    except _Malformed:
        return None
    return None if groups else fields


# --- text and plain JSON ---------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"not JSON: {name}")


def _json_kind(data: bytes) -> str | None:
    """The JSON value type if ``data`` is strict UTF-8 JSON (BOM allowed), else None."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _json_kind_of_text(text)


def _json_kind_of_text(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _detect_plain(data: bytes) -> Detected:
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    note = "UTF-8 BOM; " if bom else ""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(UTF8_BOM) if bom else 0)
        return Detected(Format.BINARY, detail=f"not valid UTF-8 (at byte {offset})")
    for ch in text:
        if ch < " " and ch not in _TEXT_WHITESPACE_CONTROLS:
            return Detected(
                Format.BINARY,
                detail=f"{note}valid UTF-8 but has control character {ch!r}",
            )
    if not text.strip():
        return Detected(Format.TEXT, detail=f"{note}whitespace only" if text else note + "empty")
    kind = _json_kind_of_text(text)
    if kind is not None:
        return Detected(Format.JSON, detail=f"{note}JSON {kind}")
    return Detected(Format.TEXT, detail=f"{note}UTF-8 text, not JSON")
