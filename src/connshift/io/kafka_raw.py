"""A minimal blocking Kafka client for the raw record-batch copy path: struct and sockets only.

confluent-kafka hands out records, never the batches they came in; copying batches as bytes
(:mod:`connshift.app.rawcopy`) needs the wire protocol itself. This module speaks just enough of
it: Metadata (to route by partition leader), ListOffsets, Fetch, InitProducerId and Produce, one
blocking socket per broker, one version of each API, requests pipelined in order on a
connection (:meth:`RawClient.send_fetch` / :meth:`RawClient.receive_fetch` and the produce
pair keep requests in flight).

Versions, all non-flexible (classic strings and arrays, request header v1, response header
v0), chosen inside what Apache Kafka 3.9 and 4.x and tansu 0.6 all serve (checked against each
broker's ApiVersions before first use):

======================  ====  =========================================================
API (key)               ver.  why this one
======================  ====  =========================================================
Produce (0)             8     v3+ carries v2 batches; v8 adds per-record errors and an
                              error message to the answer; v9+ is flexible
Fetch (1)               11    v4+ isolation level, LSO and aborted transactions, v5+ log
                              start offset; v11 is the last non-flexible one and still
                              names topics (v13+ uses topic ids); Kafka 4.x serves 4-18
ListOffsets (2)         5     v2+ isolation level; v4+ leader epoch; Kafka 4.x dropped v0
Metadata (3)            8     v7+ leader epochs; Kafka 4.x dropped v0-v3
InitProducerId (22)     4     no transactional id: an idempotent producer id from any
                              broker. Flexible (compact strings, tagged fields, request
                              header v2, response header v1): tansu 0.6 answers v0-v2
                              with UNKNOWN_SERVER_ERROR and v3+ correctly
DescribeLogDirs (35)    4     flexible; v4 adds each log dir's total and usable bytes;
                              Kafka 3.9 serves 0-4, 4.x 1-5 (used by ``connshift probe``:
                              librdkafka does not expose it)
DescribeProducers (61)  0     flexible, the only version; to each partition's leader
                              (``connshift probe``: librdkafka does not expose it)
======================  ====  =========================================================

Security: every connection (to a bootstrap broker and to each leader) is opened by
:func:`connshift.io.kafka_security.open_socket` (TLS-wrapped for ``SSL``/``SASL_SSL``), asks
ApiVersions, and authenticates with SASL (``PLAIN``, ``SCRAM-SHA-256``, ``SCRAM-SHA-512``)
before its first request (:func:`connshift.io.kafka_wire.authenticate`), as the
:class:`~connshift.io.kafka_security.RawSecurity` given to :class:`RawClient` says. On a TLS
connection (``SSLSocket`` has no ``sendmsg``) a request's small parts are gathered, topped up
to one TLS record with the start of the next large part, and each large part (a record batch)
is written from where it lies, never joined into a copy of the whole request
(:func:`_send_tls`); on PLAINTEXT the parts go out in one ``sendmsg``, as before.

Wire format as in Apache Kafka's ``clients/src/main/resources/common/message/*.json``.
Partition-level errors come back in the results (``error`` codes, named by
:func:`error_name`); connection, framing and request-level failures raise
:class:`~connshift.errors.KafkaError` with the cluster, broker, topic and partition.
"""

from __future__ import annotations

import functools
import socket
import ssl
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TypeVar

from connshift.errors import KafkaAuthError, KafkaError, KafkaUnavailable
from connshift.io.kafka_security import (
    PLAINTEXT,
    RawSecurity,
    describe_os_error,
    open_socket,
    tls_failure,
)
from connshift.io.kafka_wire import (
    ApiVersionsResult,
    Cursor,
    WireFormatError,
    _address,
    ask_api_versions,
    authenticate,
    parse_bootstrap,
)

__all__ = [
    "EARLIEST",
    "FETCH_VERSION",
    "LATEST",
    "PRODUCE_VERSION",
    "READ_COMMITTED",
    "READ_UNCOMMITTED",
    "RETRIABLE",
    "ActiveProducer",
    "BrokerInfo",
    "ClusterMetadata",
    "ErrorCode",
    "FetchResult",
    "LogDir",
    "PartitionInfo",
    "PendingFetch",
    "PendingProduce",
    "ProduceResult",
    "ProducerState",
    "RawClient",
    "decode_describe_log_dirs_response",
    "decode_describe_producers_response",
    "decode_fetch_response",
    "decode_init_producer_id_response",
    "decode_list_offsets_response",
    "decode_metadata_response",
    "decode_produce_response",
    "encode_describe_log_dirs_request",
    "encode_describe_producers_request",
    "encode_fetch_request",
    "encode_init_producer_id_request",
    "encode_list_offsets_request",
    "encode_metadata_request",
    "encode_produce_request",
    "encode_request_header",
    "error_name",
]

PRODUCE_KEY, FETCH_KEY, LIST_OFFSETS_KEY, METADATA_KEY, INIT_PRODUCER_ID_KEY = 0, 1, 2, 3, 22
DESCRIBE_LOG_DIRS_KEY, DESCRIBE_PRODUCERS_KEY = 35, 61
PRODUCE_VERSION = 8
FETCH_VERSION = 11
LIST_OFFSETS_VERSION = 5
METADATA_VERSION = 8
INIT_PRODUCER_ID_VERSION = 4
DESCRIBE_LOG_DIRS_VERSION = 4
DESCRIBE_PRODUCERS_VERSION = 0

_FLEXIBLE = frozenset({INIT_PRODUCER_ID_KEY, DESCRIBE_LOG_DIRS_KEY, DESCRIBE_PRODUCERS_KEY})

_VERSIONS = {
    PRODUCE_KEY: ("Produce", PRODUCE_VERSION),
    FETCH_KEY: ("Fetch", FETCH_VERSION),
    LIST_OFFSETS_KEY: ("ListOffsets", LIST_OFFSETS_VERSION),
    METADATA_KEY: ("Metadata", METADATA_VERSION),
    INIT_PRODUCER_ID_KEY: ("InitProducerId", INIT_PRODUCER_ID_VERSION),
    DESCRIBE_LOG_DIRS_KEY: ("DescribeLogDirs", DESCRIBE_LOG_DIRS_VERSION),
    DESCRIBE_PRODUCERS_KEY: ("DescribeProducers", DESCRIBE_PRODUCERS_VERSION),
}

READ_UNCOMMITTED = 0
READ_COMMITTED = 1
"""Fetch isolation levels: READ_COMMITTED stops at the LSO and lists aborted transactions."""

EARLIEST = -2
LATEST = -1
"""ListOffsets timestamps meaning the log start and the end (the LSO under READ_COMMITTED)."""


class ErrorCode(IntEnum):
    """The Kafka protocol error codes connshift names (Apache Kafka's ``Errors``).

    Decoded answers keep error codes as plain ints (a broker may send a code not listed
    here); an ``IntEnum`` compares, hashes and formats as its int, so ``result.error ==
    ErrorCode.NONE`` and ``result.error in RETRIABLE`` work on them directly.
    """

    UNKNOWN_SERVER_ERROR = -1
    NONE = 0
    OFFSET_OUT_OF_RANGE = 1
    CORRUPT_MESSAGE = 2
    UNKNOWN_TOPIC_OR_PARTITION = 3
    INVALID_FETCH_SIZE = 4
    LEADER_NOT_AVAILABLE = 5
    NOT_LEADER_OR_FOLLOWER = 6
    REQUEST_TIMED_OUT = 7
    BROKER_NOT_AVAILABLE = 8
    REPLICA_NOT_AVAILABLE = 9
    MESSAGE_TOO_LARGE = 10
    NETWORK_EXCEPTION = 13
    COORDINATOR_LOAD_IN_PROGRESS = 14
    COORDINATOR_NOT_AVAILABLE = 15
    NOT_COORDINATOR = 16
    INVALID_TOPIC_EXCEPTION = 17
    RECORD_LIST_TOO_LARGE = 18
    NOT_ENOUGH_REPLICAS = 19
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
    INVALID_REQUIRED_ACKS = 21
    TOPIC_AUTHORIZATION_FAILED = 29
    CLUSTER_AUTHORIZATION_FAILED = 31
    INVALID_TIMESTAMP = 32
    UNSUPPORTED_VERSION = 35
    INVALID_REQUEST = 42
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43
    POLICY_VIOLATION = 44
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45
    DUPLICATE_SEQUENCE_NUMBER = 46
    INVALID_PRODUCER_EPOCH = 47
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
    KAFKA_STORAGE_ERROR = 56
    UNKNOWN_PRODUCER_ID = 59
    FENCED_LEADER_EPOCH = 74
    UNKNOWN_LEADER_EPOCH = 75
    UNSUPPORTED_COMPRESSION_TYPE = 76
    OFFSET_NOT_AVAILABLE = 78
    INVALID_RECORD = 87
    THROTTLING_QUOTA_EXCEEDED = 89
    UNKNOWN_TOPIC_ID = 100

    @property
    def retriable(self) -> bool:
        """Whether a caller may retry as it is (after a metadata refresh)."""
        return self in RETRIABLE

    @property
    def stale_leader(self) -> bool:
        """Whether the partition's leader must be looked up again after this error."""
        return self in _STALE_LEADER

    @classmethod
    def name_of(cls, code: int) -> str:
        """Kafka's name of ``code`` (``"error 123"`` for codes not listed here)."""
        member = cls._value2member_map_.get(code)
        return member.name if member is not None else f"error {code}"


#: code -> Kafka's name of every :class:`ErrorCode`
ERROR_NAMES: dict[int, str] = {int(e): e.name for e in ErrorCode}

# module-level aliases (older imports; and cheaper than an enum attribute lookup)
NONE = ErrorCode.NONE
OFFSET_OUT_OF_RANGE = ErrorCode.OFFSET_OUT_OF_RANGE
UNKNOWN_TOPIC_OR_PARTITION = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
LEADER_NOT_AVAILABLE = ErrorCode.LEADER_NOT_AVAILABLE
NOT_LEADER_OR_FOLLOWER = ErrorCode.NOT_LEADER_OR_FOLLOWER
REQUEST_TIMED_OUT = ErrorCode.REQUEST_TIMED_OUT
OUT_OF_ORDER_SEQUENCE_NUMBER = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
DUPLICATE_SEQUENCE_NUMBER = ErrorCode.DUPLICATE_SEQUENCE_NUMBER

# errors after which the partition's leader must be looked up again
_STALE_LEADER: frozenset[int] = frozenset(
    {
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.LEADER_NOT_AVAILABLE,
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        ErrorCode.REPLICA_NOT_AVAILABLE,
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.UNKNOWN_LEADER_EPOCH,
    }
)
#: errors a caller may retry as they are (after a metadata refresh)
RETRIABLE: frozenset[int] = frozenset(
    {
        ErrorCode.LEADER_NOT_AVAILABLE,
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        ErrorCode.REQUEST_TIMED_OUT,
        ErrorCode.REPLICA_NOT_AVAILABLE,
        ErrorCode.NETWORK_EXCEPTION,
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        ErrorCode.KAFKA_STORAGE_ERROR,
        ErrorCode.FENCED_LEADER_EPOCH,
        ErrorCode.UNKNOWN_LEADER_EPOCH,
        ErrorCode.OFFSET_NOT_AVAILABLE,
    }
)
#: answers of a coordinator that is starting or moving (InitProducerId retries them)
RETRIABLE_COORDINATOR_ERRORS: frozenset[int] = frozenset(
    {
        ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        ErrorCode.NOT_COORDINATOR,
    }
)

_MAX_FRAME = 256 * 1024 * 1024
#: The largest TLS record's plaintext (2^14 bytes, RFC 8446 5.1).
_TLS_RECORD = 16 * 1024

_T = TypeVar("_T")


def error_name(code: int) -> str:
    """Kafka's name of an error code (``"error 123"`` for codes not listed here)."""
    return ErrorCode.name_of(code)


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerInfo:
    """A broker as Metadata describes it."""

    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True)
class PartitionInfo:
    """One partition in a Metadata answer."""

    partition: int
    leader: int
    leader_epoch: int = -1
    error: int = 0


@dataclass(frozen=True)
class ClusterMetadata:
    """A Metadata answer: brokers, and per topic an error code and its partitions."""

    brokers: dict[int, BrokerInfo]
    cluster_id: str | None
    controller_id: int
    topics: dict[str, tuple[int, dict[int, PartitionInfo]]]


@dataclass(frozen=True)
class FetchResult:
    """One partition of a Fetch answer.

    ``records`` is a memoryview into the connection's reusable receive buffer: it is valid
    until the next fetch on the same client is received. ``aborted`` lists the aborted
    transactions overlapping the fetched range as ``(producer_id, first_offset)`` (READ_COMMITTED
    only). Offsets the broker did not send are -1.
    """

    partition: int
    error: int
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    aborted: list[tuple[int, int]]
    records: memoryview


@dataclass(frozen=True)
class ProduceResult:
    """One partition of a Produce answer: where the batch landed, or why it did not."""

    partition: int
    error: int
    base_offset: int
    log_start_offset: int = -1
    error_message: str | None = None
    record_errors: list[tuple[int, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class LogDir:
    """One log directory of one broker, as DescribeLogDirs describes it.

    ``partitions`` maps ``(topic, partition)`` to ``(size in bytes, offset lag, is future)``
    for the partitions asked about that live in this directory; ``total_bytes`` and
    ``usable_bytes`` are -1 when the broker does not say.
    """

    broker: int
    path: str
    error: int
    partitions: dict[tuple[str, int], tuple[int, int, bool]]
    total_bytes: int = -1
    usable_bytes: int = -1


@dataclass(frozen=True)
class ActiveProducer:
    """A producer with state on a partition (DescribeProducers)."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int


@dataclass(frozen=True)
class ProducerState:
    """One partition of a DescribeProducers answer."""

    partition: int
    error: int
    error_message: str | None
    producers: list[ActiveProducer]


# --------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">h", len(raw)) + raw


def encode_request_header(
    api_key: int, version: int, correlation_id: int, client_id: str, *, flexible: bool = False
) -> bytes:
    """Request header v1: api key, version, correlation id, client id (classic string); v2
    (``flexible``) adds an empty tagged-field section."""
    header = struct.pack(">hhi", api_key, version, correlation_id) + _string(client_id)
    return header + b"\x00" if flexible else header


def encode_metadata_request(topics: Sequence[str] | None) -> bytes:
    """Metadata v8 body: these topics (None: all), no auto-creation, no authorized operations."""
    if topics is None:
        out = struct.pack(">i", -1)
    else:
        out = struct.pack(">i", len(topics)) + b"".join(_string(t) for t in topics)
    return out + b"\x00\x00\x00"  # allow_auto_topic_creation, cluster ops, topic ops


def encode_fetch_request(
    topic: str,
    partitions: Mapping[int, int],
    *,
    max_wait_ms: int,
    min_bytes: int,
    max_bytes: int,
    partition_max_bytes: int,
    isolation: int,
) -> bytes:
    """Fetch v11 body, sessionless (session 0, epoch -1), for ``partition -> offset``.

    Partitions are asked in the mapping's order; the broker fills them in that order and only
    the first non-empty one may exceed its size limit (KIP-74).
    """
    return encode_fetch_many(
        {topic: partitions},
        max_wait_ms=max_wait_ms,
        min_bytes=min_bytes,
        max_bytes=max_bytes,
        partition_max_bytes=partition_max_bytes,
        isolation=isolation,
    )


def encode_fetch_many(
    topics: Mapping[str, Mapping[int, int]],
    *,
    max_wait_ms: int,
    min_bytes: int,
    max_bytes: int,
    partition_max_bytes: int,
    isolation: int,
) -> bytes:
    """:func:`encode_fetch_request` for ``topic -> partition -> offset`` of many topics."""
    parts = [
        # replica id, max wait, min bytes, max bytes, isolation, session id, session epoch
        struct.pack(">iiiibii", -1, max_wait_ms, min_bytes, max_bytes, isolation, 0, -1),
        struct.pack(">i", len(topics)),
    ]
    for topic, partitions in topics.items():
        parts.append(_string(topic))
        parts.append(struct.pack(">i", len(partitions)))
        for partition, offset in partitions.items():
            # partition, current leader epoch, fetch offset, log start offset, max bytes
            parts.append(struct.pack(">iiqqi", partition, -1, offset, -1, partition_max_bytes))
    parts.append(struct.pack(">i", 0))  # forgotten topics
    parts.append(_string(""))  # rack id
    return b"".join(parts)


def encode_produce_request(
    topic: str,
    batches: Mapping[int, bytes | bytearray | memoryview],
    *,
    acks: int = -1,
    timeout_ms: int = 30_000,
) -> list[bytes | bytearray | memoryview]:
    """Produce v8 body as a list of buffers (the batches are not copied).

    No transactional id; one record batch per partition (Apache Kafka rejects more).
    """
    return encode_produce_many({topic: batches}, acks=acks, timeout_ms=timeout_ms)


def encode_produce_many(
    topics: Mapping[str, Mapping[int, bytes | bytearray | memoryview]],
    *,
    acks: int = -1,
    timeout_ms: int = 30_000,
) -> list[bytes | bytearray | memoryview]:
    """:func:`encode_produce_request` for ``topic -> partition -> batch`` of many topics."""
    parts: list[bytes | bytearray | memoryview] = [
        struct.pack(">hhii", -1, acks, timeout_ms, len(topics))
    ]
    for topic, batches in topics.items():
        parts.append(_string(topic) + struct.pack(">i", len(batches)))
        for partition, batch in batches.items():
            parts.append(struct.pack(">ii", partition, len(batch)))
            parts.append(batch)
    return parts


def encode_list_offsets_request(
    topic: str, partitions: Mapping[int, int], *, isolation: int = READ_COMMITTED
) -> bytes:
    """ListOffsets v5 body for ``partition -> timestamp`` (EARLIEST, LATEST or a time)."""
    return encode_list_offsets_many({topic: partitions}, isolation=isolation)


def encode_list_offsets_many(
    topics: Mapping[str, Mapping[int, int]], *, isolation: int = READ_COMMITTED
) -> bytes:
    """:func:`encode_list_offsets_request` for ``topic -> partition -> timestamp``."""
    parts = [struct.pack(">ibi", -1, isolation, len(topics))]
    for topic, partitions in topics.items():
        parts.append(_string(topic))
        parts.append(struct.pack(">i", len(partitions)))
        for partition, timestamp in partitions.items():
            parts.append(struct.pack(">iiq", partition, -1, timestamp))
    return b"".join(parts)


def encode_init_producer_id_request(transaction_timeout_ms: int = -1) -> bytes:
    """InitProducerId v4 body: a null transactional id (an idempotent producer), no previous
    producer id or epoch, no tagged fields."""
    # compact nullable string null (0), timeout, producer id -1, epoch -1, tagged fields
    return b"\x00" + struct.pack(">iqh", transaction_timeout_ms, -1, -1) + b"\x00"


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _compact_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _uvarint(len(raw) + 1) + raw


def _compact_topic_partitions(topics: Mapping[str, Sequence[int]]) -> bytes:
    """A compact array of ``(topic, compact int32 array, tagged fields)``."""
    out = [_uvarint(len(topics) + 1)]
    for topic, partitions in topics.items():
        out.append(_compact_string(topic))
        out.append(_uvarint(len(partitions) + 1))
        out.append(b"".join(struct.pack(">i", p) for p in partitions))
        out.append(b"\x00")
    return b"".join(out)


def encode_describe_log_dirs_request(topics: Mapping[str, Sequence[int]] | None) -> bytes:
    """DescribeLogDirs v4 body: these topic partitions (None: every partition of the broker)."""
    if topics is None:
        return b"\x00\x00"  # null compact array, tagged fields
    return _compact_topic_partitions(topics) + b"\x00"


def encode_describe_producers_request(topics: Mapping[str, Sequence[int]]) -> bytes:
    """DescribeProducers v0 body: these topic partitions."""
    return _compact_topic_partitions(topics) + b"\x00"


# --------------------------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------------------------


_FETCH_PARTITION = struct.Struct(">ihqqq")
_ABORTED = struct.Struct(">qq")
_PRODUCE_PARTITION = struct.Struct(">ihqqq")
_LIST_OFFSETS_PARTITION = struct.Struct(">ihqqi")
_METADATA_PARTITION = struct.Struct(">hiii")


def _view(payload: bytes | bytearray | memoryview) -> memoryview:
    return payload if isinstance(payload, memoryview) else memoryview(payload)


def decode_fetch_response(payload: bytes | bytearray | memoryview) -> tuple[int, list[FetchResult]]:
    """Decode a Fetch v11 response body (after the correlation id).

    Returns ``(top-level error code, partition results)``; ``records`` are views into
    ``payload``.
    """
    error, results = decode_fetch_many(payload)
    return error, [r for _topic, r in results]


def decode_fetch_many(
    payload: bytes | bytearray | memoryview,
) -> tuple[int, list[tuple[str, FetchResult]]]:
    """:func:`decode_fetch_response` keeping each result's topic: ``(error, [(topic,
    result)])``."""
    cur = Cursor(_view(payload))
    _throttle, error, _session = cur.unpack(_FETCH_TOP)
    results: list[tuple[str, FetchResult]] = []
    for _ in range(cur.array_length()):
        topic = cur.string()
        for _ in range(cur.array_length()):
            partition, perror, hw, lso, log_start = cur.unpack(_FETCH_PARTITION)
            aborted: list[tuple[int, int]] = []
            count = cur.int32()  # nullable array
            for _ in range(max(count, 0)):
                pid, first = cur.unpack(_ABORTED)
                aborted.append((pid, first))
            cur.int32()  # preferred read replica
            size = cur.int32()
            records = cur.take(size) if size > 0 else memoryview(b"")
            results.append(
                (topic, FetchResult(partition, perror, hw, lso, log_start, aborted, records))
            )
    return error, results


_FETCH_TOP = struct.Struct(">ihi")


def decode_produce_response(payload: bytes | bytearray | memoryview) -> list[ProduceResult]:
    """Decode a Produce v8 response body (after the correlation id)."""
    return [r for _topic, r in decode_produce_many(payload)]


def decode_produce_many(
    payload: bytes | bytearray | memoryview,
) -> list[tuple[str, ProduceResult]]:
    """:func:`decode_produce_response` keeping each result's topic."""
    cur = Cursor(_view(payload))
    results: list[tuple[str, ProduceResult]] = []
    for _ in range(cur.array_length()):
        topic = cur.string()
        for _ in range(cur.array_length()):
            partition, error, base_offset, _append_time, log_start = cur.unpack(_PRODUCE_PARTITION)
            record_errors = []
            for _ in range(cur.array_length()):
                index = cur.int32()
                record_errors.append((index, cur.nullable_string()))
            message = cur.nullable_string()
            results.append(
                (
                    topic,
                    ProduceResult(partition, error, base_offset, log_start, message, record_errors),
                )
            )
    cur.int32()  # throttle time
    return results


def decode_list_offsets_response(
    payload: bytes | bytearray | memoryview,
) -> dict[int, tuple[int, int]]:
    """Decode a ListOffsets v5 response body: ``partition -> (error, offset)``."""
    return {p: answer for (_t, p), answer in decode_list_offsets_many(payload).items()}


def decode_list_offsets_many(
    payload: bytes | bytearray | memoryview,
) -> dict[tuple[str, int], tuple[int, int]]:
    """Decode a ListOffsets v5 response body: ``(topic, partition) -> (error, offset)``."""
    cur = Cursor(_view(payload))
    cur.int32()  # throttle
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for _ in range(cur.array_length()):
        topic = cur.string()
        for _ in range(cur.array_length()):
            partition, error, _timestamp, offset, _epoch = cur.unpack(_LIST_OFFSETS_PARTITION)
            out[(topic, partition)] = (error, offset)
    return out


def decode_init_producer_id_response(
    payload: bytes | bytearray | memoryview,
) -> tuple[int, int, int]:
    """Decode an InitProducerId v4 answer after its correlation id (response header v1: its
    tagged fields come first): ``(error, producer_id, producer_epoch)``."""
    cur = Cursor(_view(payload))
    cur.tagged_fields()  # response header
    cur.int32()  # throttle
    error = cur.int16()
    return error, cur.int64(), cur.int16()


def decode_describe_log_dirs_response(
    payload: bytes | bytearray | memoryview, broker: int = -1
) -> tuple[int, list[LogDir]]:
    """Decode a DescribeLogDirs v4 answer after its correlation id (response header v1):
    ``(top-level error, log dirs)``; ``broker`` labels the dirs."""
    cur = Cursor(_view(payload))
    cur.tagged_fields()  # response header
    cur.int32()  # throttle
    error = cur.int16()
    dirs: list[LogDir] = []
    for _ in range(cur.compact_array_length()):
        dir_error = cur.int16()
        path = cur.compact_string()
        partitions: dict[tuple[str, int], tuple[int, int, bool]] = {}
        for _ in range(cur.compact_array_length()):
            topic = cur.compact_string()
            for _ in range(cur.compact_array_length()):
                index = cur.int32()
                size = cur.int64()
                lag = cur.int64()
                future = cur.int8() != 0
                cur.tagged_fields()
                partitions[(topic, index)] = (size, lag, future)
            cur.tagged_fields()
        total = cur.int64()
        usable = cur.int64()
        cur.tagged_fields()
        dirs.append(LogDir(broker, path, dir_error, partitions, total, usable))
    cur.tagged_fields()
    return error, dirs


def decode_describe_producers_response(
    payload: bytes | bytearray | memoryview,
) -> dict[tuple[str, int], ProducerState]:
    """Decode a DescribeProducers v0 answer after its correlation id (response header v1)."""
    cur = Cursor(_view(payload))
    cur.tagged_fields()  # response header
    cur.int32()  # throttle
    out: dict[tuple[str, int], ProducerState] = {}
    for _ in range(cur.compact_array_length()):
        topic = cur.compact_string()
        for _ in range(cur.compact_array_length()):
            index = cur.int32()
            error = cur.int16()
            message = cur.compact_nullable_string()
            producers = []
            for _ in range(cur.compact_array_length()):
                pid = cur.int64()
                epoch = cur.int32()
                last_sequence = cur.int32()
                last_timestamp = cur.int64()
                coordinator_epoch = cur.int32()
                txn_start = cur.int64()
                cur.tagged_fields()
                producers.append(
                    ActiveProducer(
                        pid, epoch, last_sequence, last_timestamp, coordinator_epoch, txn_start
                    )
                )
            cur.tagged_fields()
            out[(topic, index)] = ProducerState(index, error, message, producers)
        cur.tagged_fields()
    cur.tagged_fields()
    return out


def decode_metadata_response(payload: bytes | bytearray | memoryview) -> ClusterMetadata:
    """Decode a Metadata v8 response body (after the correlation id)."""
    cur = Cursor(_view(payload))
    cur.int32()  # throttle
    brokers: dict[int, BrokerInfo] = {}
    for _ in range(cur.array_length()):
        node_id = cur.int32()
        host = cur.string()
        port = cur.int32()
        brokers[node_id] = BrokerInfo(node_id, host, port, cur.nullable_string())
    cluster_id = cur.nullable_string()
    controller_id = cur.int32()
    topics: dict[str, tuple[int, dict[int, PartitionInfo]]] = {}
    for _ in range(cur.array_length()):
        terror = cur.int16()
        name = cur.string()
        cur.int8()  # is internal
        partitions: dict[int, PartitionInfo] = {}
        for _ in range(cur.array_length()):
            perror, index, leader, epoch = cur.unpack(_METADATA_PARTITION)
            cur.int32_array()  # replicas
            cur.int32_array()  # isr
            cur.int32_array()  # offline replicas
            partitions[index] = PartitionInfo(index, leader, epoch, perror)
        cur.int32()  # topic authorized operations
        topics[name] = (terror, partitions)
    cur.int32()  # cluster authorized operations
    return ClusterMetadata(brokers, cluster_id, controller_id, topics)


# --------------------------------------------------------------------------------------------
# one connection
# --------------------------------------------------------------------------------------------


class _Connection:
    """One socket to one broker; requests are answered in order (Kafka's guarantee).

    Two reusable receive buffers: one for Fetch answers (whose record views the caller holds
    until its next fetch) and one for everything else (decoded at once).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        timeout: float,
        cluster: str,
        security: RawSecurity = PLAINTEXT,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.where = _address(host, port)
        self.client_id = client_id
        self.timeout = timeout
        self.cluster = cluster
        self.security = security
        self.context = context
        self.tls = security.tls
        #: what the broker said to ApiVersions on the latest connection
        self.versions: ApiVersionsResult | None = None
        self.sock: socket.socket | None = None
        self.pending: deque[tuple[int, int]] = deque()  # (correlation id, api key)
        self._next_id = 0
        self._fetch_buf = bytearray(1 << 20)
        self._small_buf = bytearray(64 << 10)
        self._size_buf = bytearray(4)

    # -- life cycle ----------------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        """The connected socket: opened (TLS handshake done), ApiVersions asked and SASL
        authentication done on first use and after every reconnect."""
        if self.sock is None:
            sock = open_socket(
                self.host,
                self.port,
                self.timeout,
                self.security,
                self.context,
                cluster=self.cluster,
            )
            try:
                quick = min(self.timeout, 10.0)
                versions = ask_api_versions(
                    sock, self.host, self.port, quick, self.security, cluster=self.cluster
                )
                authenticate(
                    sock,
                    self.host,
                    self.port,
                    self.security,
                    versions.api_keys,
                    timeout=quick,
                    cluster=self.cluster,
                )
                sock.settimeout(self.timeout)
            except BaseException:
                sock.close()
                raise
            self.versions = versions
            self.sock = sock
        return self.sock

    def close(self) -> None:
        self.pending.clear()
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _error(self, what: str, why: str, fix: str) -> KafkaError:
        """A failure of the connection itself (lost, refused, closed, timed out, garbled):
        another connection may do better."""
        return KafkaUnavailable(what, why=why, fix=fix, cluster=self.cluster, broker=self.where)

    # -- requests ------------------------------------------------------------------------------
    def send(
        self, api_key: int, version: int, body: Sequence[bytes | bytearray | memoryview]
    ) -> int:
        """Send one request; returns its correlation id (answers come back in order)."""
        sock = self._connect()
        self._next_id = (self._next_id + 1) & 0x7FFFFFFF
        corr = self._next_id
        header = encode_request_header(
            api_key, version, corr, self.client_id, flexible=api_key in _FLEXIBLE
        )
        size = len(header) + sum(len(part) for part in body)
        buffers = [struct.pack(">i", size) + header, *body]
        try:
            if self.tls:  # SSLSocket has no sendmsg
                _send_tls(sock, buffers)
            else:
                sent = sock.sendmsg(buffers)
                if sent < size + 4:
                    self._send_rest(sock, buffers, sent)
        except ssl.SSLError as exc:
            self.close()
            raise tls_failure(self.where, self.security, exc, cluster=self.cluster) from None
        except OSError as exc:
            self.close()
            raise self._error(
                f"could not send a request to Kafka at {self.where}",
                describe_os_error(exc),
                "check that the broker is healthy",
            ) from exc
        self.pending.append((corr, api_key))
        return corr

    @staticmethod
    def _send_rest(
        sock: socket.socket, buffers: Sequence[bytes | bytearray | memoryview], sent: int
    ) -> None:
        for buf in buffers:
            view = memoryview(buf)
            if sent >= len(view):
                sent -= len(view)
                continue
            sock.sendall(view[sent:])
            sent = 0

    def receive(self, corr: int, *, fetch: bool = False) -> memoryview:
        """The answer to request ``corr`` (which must be the oldest pending), without its
        correlation id. A Fetch answer goes to the fetch buffer, anything else to the small one.
        """
        if not self.pending or self.pending[0][0] != corr:
            raise RuntimeError(f"answers come in order: {corr} is not the oldest pending request")
        sock = self.sock
        if sock is None:
            raise self._error(
                f"lost the connection to Kafka at {self.where}",
                "it was closed with requests pending",
                "retry",
            )
        try:
            self._recv_into(sock, memoryview(self._size_buf))
            (size,) = struct.unpack(">i", self._size_buf)
            if not 4 <= size <= _MAX_FRAME:
                self.close()
                raise self._error(
                    f"Kafka at {self.where} sent something that is not a Kafka response",
                    f"frame size {size}",
                    "check that host and port name a Kafka listener of protocol "
                    f"{self.security.protocol}",
                )
            buf = self._fetch_buf if fetch else self._small_buf
            if len(buf) < size:
                buf = bytearray(max(size, 2 * len(buf)))
                if fetch:
                    self._fetch_buf = buf
                else:
                    self._small_buf = buf
            view = memoryview(buf)[:size]
            self._recv_into(sock, view)
        except TimeoutError as exc:
            self.close()
            raise self._error(
                f"Kafka at {self.where} did not answer within {self.timeout:g}s",
                "connected, but no complete answer came back",
                "check that the broker is not overloaded; raise the timeout",
            ) from exc
        except ssl.SSLError as exc:
            self.close()
            raise tls_failure(self.where, self.security, exc, cluster=self.cluster) from None
        except OSError as exc:
            self.close()
            raise self._error(
                f"lost the connection to Kafka at {self.where}",
                describe_os_error(exc),
                "check the broker's log",
            ) from exc
        self.pending.popleft()
        (got,) = struct.unpack_from(">i", view)
        if got != corr:
            self.close()
            raise self._error(
                f"Kafka at {self.where} answered out of order",
                f"correlation id {got}, expected {corr}",
                "report this broker behaviour",
            )
        return view[4:]

    def _recv_into(self, sock: socket.socket, view: memoryview) -> None:
        got = 0
        n = len(view)
        while got < n:
            k = sock.recv_into(view[got:], n - got)
            if k == 0:
                self.close()
                raise self._error(
                    f"Kafka at {self.where} closed the connection",
                    f"short read: got {got} of {n} byte(s)",
                    "check the broker's log (a request it could not parse closes the connection)",
                )
            got += k


def _send_tls(sock: socket.socket, buffers: Sequence[bytes | bytearray | memoryview]) -> None:
    """Write ``buffers`` in order to a TLS socket without joining them: parts smaller than a
    TLS record are gathered (with the start of the next large part, up to one full record) and
    written together; the rest of each large part is written from where it lies. Joining a
    megabyte-sized produce request first cost a copy of every byte, and a fresh allocation
    (and its page faults) per request."""
    gathered = bytearray()
    for buf in buffers:
        if len(buf) < _TLS_RECORD:
            gathered += buf
            continue
        view = memoryview(buf).cast("B") if isinstance(buf, memoryview) else memoryview(buf)
        if gathered:
            top_up = _TLS_RECORD - len(gathered)
            if top_up > 0:
                gathered += view[:top_up]
                view = view[top_up:]
            sock.sendall(gathered)
            gathered = bytearray()
        if len(view):
            sock.sendall(view)
    if gathered:
        sock.sendall(gathered)


# --------------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------------


@dataclass
class PendingFetch:
    """A Fetch sent and not yet received: one request per leader broker (``topic``: the
    first one asked, named in errors)."""

    topic: str
    requests: list[tuple[_Connection, int, list[tuple[str, int]]]]


@dataclass
class PendingProduce:
    """A Produce sent and not yet received: one request per leader broker."""

    topic: str
    requests: list[tuple[_Connection, int, list[tuple[str, int]]]]


class RawClient:
    """A minimal blocking Kafka client: one socket per broker, requests routed by leader.

    ``bootstrap`` is a ``bootstrap.servers`` string; ``security`` says how its listeners are
    reached (PLAINTEXT by default; TLS and SASL PLAIN/SCRAM as
    :class:`~connshift.io.kafka_security.RawSecurity` says, on every connection); ``name``
    ("source", "destination") labels errors; ``timeout`` bounds connects and each answer.
    Not thread-safe. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "connshift",
        timeout: float = 30.0,
        name: str = "kafka",
        security: RawSecurity = PLAINTEXT,
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.timeout = timeout
        self.name = name
        self.security = security
        # one TLS context (CA and client certificate loaded once) for every connection
        self._context = security.ssl_context() if security.tls else None
        self._seeds = parse_bootstrap(bootstrap)
        self._conns: dict[tuple[str, int], _Connection] = {}
        self._versions: dict[tuple[str, int], ApiVersionsResult] = {}
        self._brokers: dict[int, BrokerInfo] = {}
        self._leaders: dict[tuple[str, int], int] = {}
        self._served: set[tuple[str, int]] = set()  # leaders seen answering (wait_leaders)
        self._partitions: dict[str, list[int]] = {}
        self._control: _Connection | None = None

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection (the client reconnects on its next request)."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
        if self._control is not None:
            self._control.close()
            self._control = None

    def discard_pending(self) -> None:
        """Close the connections that have unanswered requests (after an abandoned pipeline)."""
        for key, conn in list(self._conns.items()):
            if conn.pending:
                conn.close()
                del self._conns[key]

    # -- connections ---------------------------------------------------------------------------
    def _error(
        self, what: str, why: str | None = None, fix: str | None = None, **ctx: object
    ) -> KafkaError:
        """An error of this cluster; :class:`KafkaUnavailable` when its ``error_code`` is
        one a retry with fresh metadata may fix (:data:`RETRIABLE`)."""
        cls = KafkaUnavailable if ctx.get("error_code") in RETRIABLE else KafkaError
        return cls(
            what,
            why=why,
            fix=fix or f"check that the {self.name} cluster at {self.bootstrap} is healthy",
            cluster=self.name,
            **ctx,
        )

    def _new_connection(self, host: str, port: int) -> _Connection:
        return _Connection(
            host,
            port,
            client_id=self.client_id,
            timeout=self.timeout,
            cluster=self.name,
            security=self.security,
            context=self._context,
        )

    def _connection(self, host: str, port: int, api_key: int) -> _Connection:
        key = (host, port)
        conn = self._conns.get(key)
        if conn is None:
            conn = self._new_connection(host, port)
            self._conns[key] = conn
        self._check_version(conn, api_key)
        return conn

    def _check_version(self, conn: _Connection, api_key: int) -> None:
        """KafkaError unless the broker serves the version of ``api_key`` this module speaks
        (its ApiVersions answer is asked on the connection itself, when it first opens)."""
        host, port = conn.host, conn.port
        key = (host, port)
        versions = self._versions.get(key)
        if versions is None:
            conn._connect()
            assert conn.versions is not None
            versions = self._versions[key] = conn.versions
        api, version = _VERSIONS[api_key]
        served = versions.api_keys.get(api_key)
        if served is None or not served[0] <= version <= served[1]:
            have = "none" if served is None else f"v{served[0]}-v{served[1]}"
            raise self._error(
                f"Kafka at {_address(host, port)} does not serve {api} v{version}",
                why=f"it serves {api} {have}; connshift's raw copy path needs v{version}",
                fix="use the record copy path for this cluster",
                broker=_address(host, port),
            )

    def _control_connection(self, api_key: int) -> _Connection:
        """The connection for Metadata and InitProducerId: its own socket to the first bootstrap
        broker that answers, so it never waits behind pipelined fetches or produces."""
        conn = self._control
        if conn is not None and conn.sock is not None:
            self._check_version(conn, api_key)
            return conn
        failures: list[KafkaError] = []
        for host, port in self._seeds:
            conn = self._new_connection(host, port)
            try:
                conn._connect()
                if conn.versions is not None:
                    self._versions[(host, port)] = conn.versions
                self._check_version(conn, api_key)
            except KafkaAuthError:
                conn.close()
                raise  # every broker of the cluster would refuse us the same way
            except KafkaError as exc:
                conn.close()
                failures.append(exc)
                continue
            self._control = conn
            return conn
        if len(failures) == 1:
            raise failures[0]
        raise self._error(
            f"could not reach the {self.name} Kafka cluster at {self.bootstrap}",
            why="; ".join(f"{exc.context.get('broker')}: {exc.why}" for exc in failures),
            fix="check that the brokers run and that bootstrap lists "
            f"{self.security.protocol} listeners",
        )

    def _node_connection(self, node_id: int, api_key: int) -> _Connection:
        broker = self._brokers.get(node_id)
        if broker is None:
            self.metadata([])
            broker = self._brokers.get(node_id)
        if broker is None:
            raise self._error(f"broker {node_id} of the {self.name} cluster is not known")
        return self._connection(broker.host, broker.port, api_key)

    # -- the request round trip ----------------------------------------------------------------
    @staticmethod
    def _send(
        conn: _Connection, api_key: int, body: Sequence[bytes | bytearray | memoryview]
    ) -> int:
        """Send one request of ``api_key`` (at the version this module speaks); its
        correlation id."""
        return conn.send(api_key, _VERSIONS[api_key][1], body)

    def _answer(
        self,
        conn: _Connection,
        corr: int,
        api_key: int,
        decode: Callable[[memoryview], _T],
        *,
        fetch: bool = False,
        topic: str | None = None,
    ) -> _T:
        """Receive the answer to request ``corr`` and decode it: the one place a malformed
        answer becomes a KafkaError (naming the cluster, and ``topic``); the connection is
        closed then, as its other pending answers cannot be trusted either."""
        payload = conn.receive(corr, fetch=fetch)
        try:
            return decode(payload)
        except WireFormatError as exc:
            conn.close()
            raise self._error(
                f"malformed {_VERSIONS[api_key][0]} answer from {conn.where}",
                why=str(exc),
                topic=topic,
            ) from exc

    def _request(
        self,
        conn: _Connection,
        api_key: int,
        body: bytes,
        decode: Callable[[memoryview], _T],
        *,
        topic: str | None = None,
    ) -> _T:
        """One blocking round trip: send ``body``, wait for and decode the answer (see
        :meth:`_answer`). Nothing may be pending on ``conn``."""
        if conn.pending:
            raise RuntimeError(
                f"{_VERSIONS[api_key][0]} to {conn.where} while pipelined requests are pending: "
                "receive them first"
            )
        corr = self._send(conn, api_key, [body])
        return self._answer(conn, corr, api_key, decode, topic=topic)

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self, topics: Sequence[str] | None = None) -> ClusterMetadata:
        """Ask Metadata for ``topics`` (None: all) and refresh the leader cache."""
        conn = self._control_connection(METADATA_KEY)
        md = self._request(
            conn, METADATA_KEY, encode_metadata_request(topics), decode_metadata_response
        )
        self._brokers.update(md.brokers)
        for topic, (error, partitions) in md.topics.items():
            if error == ErrorCode.NONE:
                self._partitions[topic] = sorted(partitions)
                for index, info in partitions.items():
                    if info.leader >= 0:
                        self._leaders[(topic, index)] = info.leader
        return md

    def partitions(self, topic: str) -> list[int]:
        """The partition ids of ``topic``; KafkaError when it does not exist."""
        if topic not in self._partitions:
            md = self.metadata([topic])
            error, _parts = md.topics.get(topic, (ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {}))
            if error != ErrorCode.NONE:
                raise self._error(
                    f"topic {topic} is not available on the {self.name} cluster",
                    why=error_name(error),
                    fix="check the topic name, and that it exists on that cluster",
                    topic=topic,
                )
        return list(self._partitions[topic])

    def leader(self, topic: str, partition: int) -> int:
        """The node id of the partition's leader (cached; refreshed after leader errors)."""
        node = self._leaders.get((topic, partition))
        if node is None:
            self.metadata([topic])
            node = self._leaders.get((topic, partition))
        if node is None:
            raise self._error(
                f"{topic}[{partition}] has no leader on the {self.name} cluster",
                why="the partition does not exist or is being elected",
                fix="check the topic's partition count; retry later",
                topic=topic,
                partition=partition,
                error_code=ErrorCode.LEADER_NOT_AVAILABLE,
            )
        return node

    def _forget_leader(self, topic: str, partition: int) -> None:
        self._leaders.pop((topic, partition), None)
        self._served.discard((topic, partition))

    def _by_leader(
        self, partitions: Iterable[tuple[str, int]], api_key: int
    ) -> list[tuple[_Connection, dict[str, list[int]]]]:
        """``(connection, topic -> partitions)`` per leader; raises for a partition without
        a leader (topics not cached are asked in one Metadata request)."""
        tps = list(partitions)
        groups = self._leaders_of(tps)
        if sum(len(ps) for topics in groups.values() for ps in topics.values()) < len(tps):
            for t, p in tps:
                self.leader(t, p)  # raises for a partition without a leader
            groups = self._leaders_of(tps)
        return [(self._node_connection(node, api_key), topics) for node, topics in groups.items()]

    # -- fetch ---------------------------------------------------------------------------------
    def send_fetch(
        self,
        topic: str,
        partitions: Mapping[int, int],
        *,
        max_bytes: int = 4 << 20,
        partition_max_bytes: int = 1 << 20,
        isolation: int = READ_COMMITTED,
        max_wait_ms: int = 500,
        min_bytes: int = 1,
    ) -> PendingFetch:
        """Send a Fetch for ``partition -> offset`` to each leader; see :meth:`fetch`."""
        return self.send_fetch_many(
            {(topic, p): offset for p, offset in partitions.items()},
            max_bytes=max_bytes,
            partition_max_bytes=partition_max_bytes,
            isolation=isolation,
            max_wait_ms=max_wait_ms,
            min_bytes=min_bytes,
        )

    def send_fetch_many(
        self,
        positions: Mapping[tuple[str, int], int],
        *,
        max_bytes: int = 4 << 20,
        partition_max_bytes: int = 1 << 20,
        isolation: int = READ_COMMITTED,
        max_wait_ms: int = 500,
        min_bytes: int = 1,
    ) -> PendingFetch:
        """:meth:`send_fetch` for ``(topic, partition) -> offset`` of many topics: one
        request per leader carries them all, asked in the mapping's order (grouped by
        topic, topics in the order they first appear)."""
        requests = []
        for conn, topics in self._by_leader(positions, FETCH_KEY):
            body = encode_fetch_many(
                {t: {p: positions[(t, p)] for p in ps} for t, ps in topics.items()},
                max_wait_ms=max_wait_ms,
                min_bytes=min_bytes,
                max_bytes=max_bytes,
                partition_max_bytes=partition_max_bytes,
                isolation=isolation,
            )
            keys = [(t, p) for t, ps in topics.items() for p in ps]
            requests.append((conn, self._send(conn, FETCH_KEY, [body]), keys))
        first = next(iter(positions))[0] if positions else ""
        return PendingFetch(first, requests)

    def receive_fetch(self, pending: PendingFetch) -> dict[int, FetchResult]:
        """The answers to a :meth:`send_fetch`; record views stay valid until the next one."""
        return {p: r for (_t, p), r in self.receive_fetch_many(pending).items()}

    def receive_fetch_many(self, pending: PendingFetch) -> dict[tuple[str, int], FetchResult]:
        """The answers to a :meth:`send_fetch_many`, by ``(topic, partition)``."""
        out: dict[tuple[str, int], FetchResult] = {}
        for conn, corr, _parts in pending.requests:
            error, results = self._answer(
                conn, corr, FETCH_KEY, decode_fetch_many, fetch=True, topic=pending.topic
            )
            if error != ErrorCode.NONE:
                raise self._error(
                    f"Kafka at {conn.where} refused a Fetch of {pending.topic}",
                    why=error_name(error),
                    topic=pending.topic,
                )
            for topic, result in results:
                if result.error in _STALE_LEADER:
                    self._forget_leader(topic, result.partition)
                out[(topic, result.partition)] = result
        return out

    def fetch(
        self,
        topic: str,
        partitions: Mapping[int, int],
        *,
        max_bytes: int = 4 << 20,
        partition_max_bytes: int = 1 << 20,
        isolation: int = READ_COMMITTED,
        max_wait_ms: int = 500,
        min_bytes: int = 1,
    ) -> dict[int, FetchResult]:
        """Fetch record batches of ``partition -> offset`` from their leaders.

        The broker returns whole batches from the one containing the offset (so the first may
        start before it), up to the size limits, possibly ending with a partial batch; under
        READ_COMMITTED only below the LSO, with the aborted transactions listed.
        Partition errors are in each result's ``error``.
        """
        return self.receive_fetch(
            self.send_fetch(
                topic,
                partitions,
                max_bytes=max_bytes,
                partition_max_bytes=partition_max_bytes,
                isolation=isolation,
                max_wait_ms=max_wait_ms,
                min_bytes=min_bytes,
            )
        )

    # -- produce -------------------------------------------------------------------------------
    def send_produce(
        self,
        topic: str,
        batches: Mapping[int, bytes | bytearray | memoryview],
        *,
        acks: int = -1,
        timeout_ms: int = 30_000,
    ) -> PendingProduce:
        """Send one batch per partition to each leader; see :meth:`produce`."""
        return self.send_produce_many(
            {(topic, p): batch for p, batch in batches.items()}, acks=acks, timeout_ms=timeout_ms
        )

    def send_produce_many(
        self,
        batches: Mapping[tuple[str, int], bytes | bytearray | memoryview],
        *,
        acks: int = -1,
        timeout_ms: int = 30_000,
    ) -> PendingProduce:
        """:meth:`send_produce` for ``(topic, partition) -> batch`` of many topics: one
        request per leader carries them all."""
        if acks not in (-1, 1):
            raise ValueError("acks must be -1 (all) or 1 (leader): acks=0 has no answer")
        requests = []
        for conn, topics in self._by_leader(batches, PRODUCE_KEY):
            body = encode_produce_many(
                {t: {p: batches[(t, p)] for p in ps} for t, ps in topics.items()},
                acks=acks,
                timeout_ms=timeout_ms,
            )
            keys = [(t, p) for t, ps in topics.items() for p in ps]
            requests.append((conn, self._send(conn, PRODUCE_KEY, body), keys))
        first = next(iter(batches))[0] if batches else ""
        return PendingProduce(first, requests)

    def receive_produce(self, pending: PendingProduce) -> dict[int, ProduceResult]:
        """The answers to a :meth:`send_produce`."""
        return {p: r for (_t, p), r in self.receive_produce_many(pending).items()}

    def receive_produce_many(self, pending: PendingProduce) -> dict[tuple[str, int], ProduceResult]:
        """The answers to a :meth:`send_produce_many`, by ``(topic, partition)``."""
        out: dict[tuple[str, int], ProduceResult] = {}
        for conn, corr, _parts in pending.requests:
            results = self._answer(
                conn, corr, PRODUCE_KEY, decode_produce_many, topic=pending.topic
            )
            for topic, result in results:
                if result.error in _STALE_LEADER:
                    self._forget_leader(topic, result.partition)
                out[(topic, result.partition)] = result
        return out

    def produce(
        self,
        topic: str,
        batches: Mapping[int, bytes | bytearray | memoryview],
        *,
        acks: int = -1,
        timeout_ms: int = 30_000,
    ) -> dict[int, ProduceResult]:
        """Produce one record batch per partition (several partitions per request are fine).

        Each batch must be a complete magic-2 batch; for an idempotent producer its producer
        id, epoch and base sequence continue that partition's sequence. Errors such as
        OUT_OF_ORDER_SEQUENCE_NUMBER and DUPLICATE_SEQUENCE_NUMBER come back in the results;
        :meth:`check_produce` turns them into KafkaError.
        """
        return self.receive_produce(
            self.send_produce(topic, batches, acks=acks, timeout_ms=timeout_ms)
        )

    def check_produce(self, topic: str, result: ProduceResult) -> None:
        """Raise KafkaError when ``result`` carries an error."""
        if result.error == ErrorCode.NONE:
            return
        why = error_name(result.error)
        if result.error_message:
            why += f": {result.error_message}"
        for index, message in result.record_errors[:3]:
            why += f"; record {index}: {message}"
        raise self._error(
            f"the {self.name} cluster refused a batch for {topic}[{result.partition}]",
            why=why,
            fix=_PRODUCE_FIX.get(result.error),
            topic=topic,
            partition=result.partition,
            error_code=int(result.error),
        )

    # -- offsets and producer ids ----------------------------------------------------------------
    def list_offsets(
        self,
        topic: str,
        partitions: Mapping[int, int],
        *,
        isolation: int = READ_COMMITTED,
    ) -> dict[int, int]:
        """ListOffsets for ``partition -> timestamp`` (:data:`EARLIEST`, :data:`LATEST` or ms).

        Raises KafkaError on any partition error. Note: tansu 0.6 answers LATEST wrongly; use
        a fetch's high watermark there.
        """
        found = self.list_offsets_many(
            {(topic, p): ts for p, ts in partitions.items()}, isolation=isolation
        )
        return {p: offset for (_t, p), offset in found.items()}

    def list_offsets_many(
        self,
        partitions: Mapping[tuple[str, int], int],
        *,
        isolation: int = READ_COMMITTED,
    ) -> dict[tuple[str, int], int]:
        """:meth:`list_offsets` of many topics: one request per leader broker."""
        out: dict[tuple[str, int], int] = {}
        for conn, topics in self._by_leader(partitions, LIST_OFFSETS_KEY):
            body = encode_list_offsets_many(
                {t: {p: partitions[(t, p)] for p in ps} for t, ps in topics.items()},
                isolation=isolation,
            )
            first = next(iter(topics))
            answers = self._request(
                conn, LIST_OFFSETS_KEY, body, decode_list_offsets_many, topic=first
            )
            for (topic, partition), (error, offset) in answers.items():
                if error != ErrorCode.NONE:
                    if error in _STALE_LEADER:
                        self._forget_leader(topic, partition)
                    raise self._error(
                        f"could not list offsets of {topic}[{partition}] on the {self.name} "
                        "cluster",
                        why=error_name(error),
                        topic=topic,
                        partition=partition,
                        error_code=error,
                    )
                out[(topic, partition)] = offset
        return out

    def _leaders_of(self, partitions: Iterable[tuple[str, int]]) -> dict[int, dict[str, list[int]]]:
        """``node -> topic -> partitions`` led there; topics whose leaders are not cached are
        asked in one Metadata request, and partitions without a leader are left out."""
        tps = list(partitions)
        unknown = sorted({t for t, p in tps if (t, p) not in self._leaders})
        if unknown:
            self.metadata(unknown)
        groups: dict[int, dict[str, list[int]]] = {}
        for t, p in tps:
            node = self._leaders.get((t, p))
            if node is not None:
                groups.setdefault(node, {}).setdefault(t, []).append(p)
        return groups

    def bounds(
        self, partitions: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[int, int]]:
        """``(log start, high watermark)`` of each partition that answers now, every topic at
        once: one ListOffsets(EARLIEST) and one Fetch per leader broker. The high watermark
        is the one a Fetch answer carries (tansu 0.6 answers ListOffsets(LATEST) wrongly).
        A partition without a leader yet, or whose leader does not serve it yet (a topic
        created a moment ago: NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION), is left
        out; any other partition error raises."""
        earliest: dict[tuple[str, int], int] = {}
        for node, topics in self._leaders_of(dict.fromkeys(partitions)).items():
            conn = self._node_connection(node, LIST_OFFSETS_KEY)
            body = encode_list_offsets_many(
                {t: dict.fromkeys(ps, EARLIEST) for t, ps in topics.items()},
                isolation=READ_UNCOMMITTED,
            )
            answers = self._request(conn, LIST_OFFSETS_KEY, body, decode_list_offsets_many)
            for tp, (error, offset) in answers.items():
                if self._unserved(tp, error):
                    continue
                earliest[tp] = offset
                self._served.add(tp)  # as wait_leaders would find it
        out: dict[tuple[str, int], tuple[int, int]] = {}
        for node, topics in self._leaders_of(earliest).items():
            conn = self._node_connection(node, FETCH_KEY)
            body = encode_fetch_many(
                {t: {p: earliest[(t, p)] for p in ps} for t, ps in topics.items()},
                max_wait_ms=0,
                min_bytes=0,
                max_bytes=1,  # the first batch still comes whole (KIP-74): only the marks count
                partition_max_bytes=1,
                isolation=READ_UNCOMMITTED,
            )
            corr = self._send(conn, FETCH_KEY, [body])
            error, results = self._answer(conn, corr, FETCH_KEY, decode_fetch_many, fetch=True)
            if error != ErrorCode.NONE:
                raise self._error(f"Kafka at {conn.where} refused a Fetch", why=error_name(error))
            for topic, r in results:
                if not self._unserved((topic, r.partition), r.error):
                    out[(topic, r.partition)] = (r.log_start_offset, r.high_watermark)
        return out

    def _unserved(self, tp: tuple[str, int], error: int) -> bool:
        """:meth:`bounds`: whether a partition's answer says it is not served (yet); raises
        on any other error."""
        if error == ErrorCode.NONE:
            return False
        if error in _STALE_LEADER or error in RETRIABLE:
            self._forget_leader(*tp)
            return True
        raise self._error(
            f"could not read the offsets of {tp[0]}[{tp[1]}] on the {self.name} cluster",
            why=error_name(error),
            topic=tp[0],
            partition=tp[1],
            error_code=error,
        )

    def wait_leaders(self, topic: str, partitions: Iterable[int], *, timeout: float = 30.0) -> None:
        """Wait until every partition's leader answers for it (a just-created topic's leaders
        can be named in metadata before the broker serves them: NOT_LEADER_OR_FOLLOWER).

        Asks ListOffsets(EARLIEST) — its error code is right even where its LATEST is not —
        and retries retriable errors with a fresh leader until ``timeout``; then raises the
        last error. A leader seen answering is not asked again until a leader error makes
        this client forget it (a copier calls this on every round).
        """
        self.wait_leaders_many([(topic, p) for p in partitions], timeout=timeout)

    def wait_leaders_many(
        self, partitions: Iterable[tuple[str, int]], *, timeout: float = 30.0
    ) -> None:
        """:meth:`wait_leaders` of many topics: one ListOffsets per leader each try."""
        todo = sorted({tp for tp in partitions if tp not in self._served})
        if not todo:
            return
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            try:
                self.list_offsets_many(dict.fromkeys(todo, EARLIEST))
                self._served.update(todo)
                return
            except KafkaError as exc:
                if (
                    exc.context.get("error_code") not in RETRIABLE
                    or time.monotonic() + delay > deadline
                ):
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    # -- introspection (connshift probe) -----------------------------------------------------------
    def describe_log_dirs(
        self, topics: Mapping[str, Sequence[int]] | None = None
    ) -> dict[int, tuple[int, list[LogDir]]]:
        """DescribeLogDirs asked of every broker: ``node id -> (error, log dirs)``.

        ``topics`` limits the partitions described (None: all of each broker's). KafkaError
        when a broker does not serve DescribeLogDirs v4 or cannot be reached.
        """
        brokers = self.metadata([]).brokers
        out: dict[int, tuple[int, list[LogDir]]] = {}
        body = encode_describe_log_dirs_request(topics)
        for node in sorted(brokers):
            conn = self._node_connection(node, DESCRIBE_LOG_DIRS_KEY)
            out[node] = self._request(
                conn,
                DESCRIBE_LOG_DIRS_KEY,
                body,
                functools.partial(decode_describe_log_dirs_response, broker=node),
            )
        return out

    def describe_producers(self, topic: str, partitions: Sequence[int]) -> dict[int, ProducerState]:
        """DescribeProducers for ``topic``'s ``partitions``, each asked of its leader."""
        out: dict[int, ProducerState] = {}
        for conn, topics in self._by_leader(
            [(topic, p) for p in partitions], DESCRIBE_PRODUCERS_KEY
        ):
            body = encode_describe_producers_request(topics)
            answers = self._request(
                conn, DESCRIBE_PRODUCERS_KEY, body, decode_describe_producers_response, topic=topic
            )
            for (_t, index), state in answers.items():
                out[index] = state
        return out

    def init_producer_id(self, *, retry_for: float = 30.0) -> tuple[int, int]:
        """A new idempotent producer id and epoch from the cluster.

        A broker that just started answers COORDINATOR_LOAD_IN_PROGRESS (or
        COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR) for a while: retried for up to
        ``retry_for`` seconds.
        """
        deadline = time.monotonic() + retry_for
        delay = 0.1
        while True:
            conn = self._control_connection(INIT_PRODUCER_ID_KEY)
            error, pid, epoch = self._request(
                conn,
                INIT_PRODUCER_ID_KEY,
                encode_init_producer_id_request(),
                decode_init_producer_id_response,
            )
            if error not in RETRIABLE_COORDINATOR_ERRORS or time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        if error != ErrorCode.NONE:
            raise self._error(
                f"the {self.name} cluster refused a producer id",
                why=error_name(error),
                fix="check that the principal may write idempotently (IDEMPOTENT_WRITE on the "
                "cluster for old brokers)",
            )
        return pid, epoch


_PRODUCE_FIX: dict[int, str] = {
    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER: "another writer or a lost batch broke the sequence; "
    "resume from the destination's end with a new producer id",
    ErrorCode.DUPLICATE_SEQUENCE_NUMBER: "the batch was already written; resume from the "
    "destination's end",
    ErrorCode.MESSAGE_TOO_LARGE: "raise max.message.bytes on the destination topic to at least "
    "the source's",
    ErrorCode.INVALID_RECORD: "check the destination topic's configuration (compacted topics "
    "need keys)",
    ErrorCode.INVALID_TIMESTAMP: "check message.timestamp.*.max.ms on the destination topic",
}
