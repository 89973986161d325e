"""Unit tests of connshift.io.kafka_raw: request bytes, response decoding, and the client.

Request encodings are checked against bytes written out by hand from Apache Kafka's message
definitions (``FetchRequest.json`` v11, ``ProduceRequest.json`` v8, ...); responses are built
here field by field. The client tests run against canned brokers on 127.0.0.1 (ephemeral
ports): threads that parse request headers and answer from a handler. No real broker needed.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from connshift.core.recordbatch import Rec, encode_batch, iter_batches
from connshift.errors import ExitCode, KafkaError, KafkaUnavailable
from connshift.io.kafka_raw import (
    EARLIEST,
    LATEST,
    READ_COMMITTED,
    RETRIABLE,
    ErrorCode,
    FetchResult,
    ProduceResult,
    RawClient,
    _send_tls,
    decode_fetch_response,
    decode_init_producer_id_response,
    decode_list_offsets_response,
    decode_metadata_response,
    decode_produce_response,
    encode_fetch_request,
    encode_init_producer_id_request,
    encode_list_offsets_request,
    encode_metadata_request,
    encode_produce_request,
    encode_request_header,
    error_name,
)
from connshift.io.kafka_wire import WireFormatError

# --------------------------------------------------------------------------------------------
# a tiny independent encoder
# --------------------------------------------------------------------------------------------


def s(text: str | None) -> bytes:
    if text is None:
        return b"\xff\xff"
    return struct.pack(">h", len(text)) + text.encode()


def arr(items: list[bytes] | None) -> bytes:
    if items is None:
        return b"\xff\xff\xff\xff"
    return struct.pack(">i", len(items)) + b"".join(items)


def fetch_partition(
    partition: int,
    *,
    error: int = 0,
    hw: int = 0,
    lso: int = 0,
    log_start: int = 0,
    aborted: list[tuple[int, int]] | None = None,
    records: bytes | None = b"",
) -> bytes:
    out = struct.pack(">ihqqq", partition, error, hw, lso, log_start)
    out += arr(None if aborted is None else [struct.pack(">qq", *a) for a in aborted])
    out += struct.pack(">i", -1)  # preferred read replica
    out += struct.pack(">i", -1) if records is None else struct.pack(">i", len(records)) + records
    return out


def fetch_body(topic: str, partitions: list[bytes], *, error: int = 0) -> bytes:
    return struct.pack(">ihi", 0, error, 0) + arr([s(topic) + arr(partitions)])


def produce_body(
    topic: str,
    partitions: list[tuple[int, int, int]],
    message: str | None = None,
    record_errors: list[tuple[int, str | None]] | None = None,
) -> bytes:
    items = [
        struct.pack(">ihqqq", p, err, base, -1, 0)
        + arr([struct.pack(">i", i) + s(m) for i, m in record_errors or []])
        + s(message)
        for p, err, base in partitions
    ]
    return arr([s(topic) + arr(items)]) + struct.pack(">i", 0)


def metadata_body(
    brokers: dict[int, tuple[str, int]],
    topics: dict[str, dict[int, int]],
    *,
    topic_error: int = 0,
    partition_error: int = 0,
) -> bytes:
    out = struct.pack(">i", 0)
    out += arr(
        [
            struct.pack(">i", n) + s(h) + struct.pack(">i", p) + s(None)
            for n, (h, p) in brokers.items()
        ]
    )
    out += s("cluster-x") + struct.pack(">i", min(brokers, default=-1))
    items = []
    for name, leaders in topics.items():
        parts = [
            struct.pack(">hiii", partition_error, p, leader, 3)
            + arr([struct.pack(">i", leader)]) * 2
            + arr([])
            for p, leader in leaders.items()
        ]
        items.append(
            struct.pack(">h", topic_error)
            + s(name)
            + b"\x00"
            + arr(parts)
            + struct.pack(">i", -(2**31))
        )
    return out + arr(items) + struct.pack(">i", -(2**31))


def api_versions_body(api_keys: dict[int, tuple[int, int]]) -> bytes:
    """ApiVersions v3 answer: error, compact array of (key, min, max, tags), throttle, tags."""
    out = struct.pack(">h", 0) + bytes([len(api_keys) + 1])
    for key, (lo, hi) in api_keys.items():
        out += struct.pack(">hhh", key, lo, hi) + b"\x00"
    return out + struct.pack(">i", 0) + b"\x00"


FULL = {0: (0, 11), 1: (0, 17), 2: (0, 9), 3: (0, 12), 18: (0, 4), 22: (0, 5)}


# --------------------------------------------------------------------------------------------
# request encodings, by hand
# --------------------------------------------------------------------------------------------


def test_request_header() -> None:
    assert encode_request_header(1, 11, 7, "ab").hex() == "0001000b0000000700026162"
    assert encode_request_header(22, 4, 1, "c", flexible=True).hex() == ("001600040000000100016300")


def test_fetch_request_v11() -> None:
    body = encode_fetch_request(
        "t",
        {0: 5, 3: 2**40},
        max_wait_ms=500,
        min_bytes=1,
        max_bytes=1024,
        partition_max_bytes=512,
        isolation=READ_COMMITTED,
    )
    assert body.hex() == (
        "ffffffff"
        "000001f4"
        "00000001"
        "00000400"
        "01"
        "00000000"
        "ffffffff"  # top level
        "00000001"
        "0001"
        "74"
        "00000002"  # one topic "t", two partitions
        "00000000"
        "ffffffff"
        "0000000000000005"
        "ffffffffffffffff"
        "00000200"
        "00000003"
        "ffffffff"
        "0000010000000000"
        "ffffffffffffffff"
        "00000200"
        "00000000"
        "0000"  # no forgotten topics, rack ""
    )


def test_produce_request_v8_keeps_batches_as_buffers() -> None:
    batch = memoryview(b"abc")
    parts = encode_produce_request("t", {2: batch}, acks=-1, timeout_ms=30_000)
    assert any(part is batch for part in parts)
    assert b"".join(bytes(p) for p in parts).hex() == (
        "ffff"
        "ffff"
        "00007530"  # null transactional id, acks -1, timeout
        "00000001"
        "0001"
        "74"
        "00000001"  # topic "t", one partition
        "00000002"
        "00000003"
        "616263"  # partition 2, 3 bytes of records
    )


def test_list_offsets_request_v5() -> None:
    body = encode_list_offsets_request("t", {0: EARLIEST, 1: LATEST}, isolation=READ_COMMITTED)
    assert body.hex() == (
        "ffffffff"
        "01"
        "00000001"
        "0001"
        "74"
        "00000002"
        "00000000"
        "ffffffff"
        "fffffffffffffffe"
        "00000001"
        "ffffffff"
        "ffffffffffffffff"
    )


def test_metadata_request_v8() -> None:
    assert encode_metadata_request(None).hex() == "ffffffff000000"
    assert encode_metadata_request(["t", "ab"]).hex() == ("0000000200017400026162000000")


def test_init_producer_id_request_v4() -> None:
    # null compact string, timeout, producer id -1, epoch -1, no tagged fields
    assert encode_init_producer_id_request().hex() == ("00ffffffffffffffffffffffffffff00")


# --------------------------------------------------------------------------------------------
# response decodings
# --------------------------------------------------------------------------------------------


def test_decode_fetch_response() -> None:
    body = fetch_body(
        "t",
        [
            fetch_partition(0, hw=10, lso=9, log_start=2, aborted=[(5, 3), (6, 4)], records=b"abc"),
            fetch_partition(
                1,
                error=ErrorCode.OFFSET_OUT_OF_RANGE,
                hw=-1,
                lso=-1,
                log_start=-1,
                aborted=None,
                records=None,
            ),
        ],
    )
    error, results = decode_fetch_response(body)
    assert error == ErrorCode.NONE
    first, second = results
    assert (first.partition, first.error, first.high_watermark) == (0, ErrorCode.NONE, 10)
    assert (first.last_stable_offset, first.log_start_offset) == (9, 2)
    assert first.aborted == [(5, 3), (6, 4)] and bytes(first.records) == b"abc"
    assert isinstance(first.records, memoryview)
    assert (second.error, second.aborted, bytes(second.records)) == (
        ErrorCode.OFFSET_OUT_OF_RANGE,
        [],
        b"",
    )


def test_decode_produce_response() -> None:
    body = produce_body(
        "t", [(0, 0, 42), (1, 87, -1)], message="bad", record_errors=[(3, "no key"), (4, None)]
    )
    ok, bad = decode_produce_response(body)
    assert (ok.partition, ok.error, ok.base_offset) == (0, 0, 42)
    assert (bad.error, bad.error_message, bad.record_errors) == (
        87,
        "bad",
        [(3, "no key"), (4, None)],
    )


def test_decode_list_offsets_and_init_producer_id() -> None:
    body = struct.pack(">i", 0) + arr(
        [
            s("t")
            + arr(
                [
                    struct.pack(">ihqqi", 0, 0, -1, 60, 0),
                    struct.pack(">ihqqi", 1, 6, -1, -1, -1),
                ]
            )
        ]
    )
    assert decode_list_offsets_response(body) == {0: (0, 60), 1: (6, -1)}
    # response header v1 tagged fields, throttle, error, producer id, epoch, tagged fields
    answer = b"\x00" + struct.pack(">ihqh", 0, 0, 1234, 5) + b"\x00"
    assert decode_init_producer_id_response(answer) == (0, 1234, 5)


def test_decode_metadata_response() -> None:
    md = decode_metadata_response(
        metadata_body({1: ("h1", 9092), 2: ("h2", 9093)}, {"t": {0: 1, 1: 2}})
    )
    assert md.brokers[2].host == "h2" and md.brokers[2].port == 9093
    assert md.cluster_id == "cluster-x" and md.controller_id == 1
    error, parts = md.topics["t"]
    assert error == 0 and parts[1].leader == 2 and parts[1].leader_epoch == 3


@pytest.mark.parametrize(
    ("decode", "body"),
    [
        (
            decode_fetch_response,
            fetch_body("t", [fetch_partition(0, aborted=[(1, 2)], records=b"xyz")]),
        ),
        (decode_produce_response, produce_body("t", [(0, 0, 1)], message="m")),
        (decode_metadata_response, metadata_body({1: ("h", 1)}, {"t": {0: 1}})),
    ],
)
def test_every_truncation_is_a_wire_format_error(
    decode: Callable[[bytes], object], body: bytes
) -> None:
    decode(body)
    for cut in range(len(body)):
        with pytest.raises(WireFormatError):
            decode(body[:cut])


def test_error_names() -> None:
    assert error_name(45) == "OUT_OF_ORDER_SEQUENCE_NUMBER"
    assert error_name(ErrorCode.DUPLICATE_SEQUENCE_NUMBER) == "DUPLICATE_SEQUENCE_NUMBER"
    assert error_name(9999) == "error 9999"
    assert ErrorCode.name_of(-1) == "UNKNOWN_SERVER_ERROR"


def test_error_codes_are_ints_with_kafka_properties() -> None:
    assert ErrorCode.NOT_LEADER_OR_FOLLOWER == 6 and 6 in RETRIABLE
    assert ErrorCode.NOT_LEADER_OR_FOLLOWER.retriable
    assert ErrorCode.NOT_LEADER_OR_FOLLOWER.stale_leader
    assert ErrorCode.REQUEST_TIMED_OUT.retriable and not ErrorCode.REQUEST_TIMED_OUT.stale_leader
    assert not ErrorCode.OFFSET_OUT_OF_RANGE.retriable
    assert not ErrorCode.TOPIC_AUTHORIZATION_FAILED.retriable
    assert not ErrorCode.NONE.retriable
    assert ErrorCode(3) is ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert f"{ErrorCode.NOT_LEADER_OR_FOLLOWER}" == "6"  # as --json context shows it


# --------------------------------------------------------------------------------------------
# canned brokers
# --------------------------------------------------------------------------------------------

Handler = Callable[[int, int, bytes], bytes | None]  # (api key, version, body) -> answer body


@dataclass
class Broker:
    """Answers requests from a handler; records what it was asked. ``None`` closes the socket."""

    handler: Handler
    api_keys: dict[int, tuple[int, int]] = field(default_factory=lambda: dict(FULL))
    requests: list[tuple[int, int, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                head = _read(conn, 4)
                if not head:
                    return
                frame = _read(conn, struct.unpack(">i", head)[0])
                key, version, corr, n = struct.unpack_from(">hhih", frame)
                pos = 10 + n
                if key == 18:  # ApiVersions: always answered with header v0
                    answer: bytes | None = api_versions_body(self.api_keys)
                    prefix = b""
                else:
                    flexible = key == 22 and version >= 2
                    body = frame[pos + (1 if flexible else 0) :]
                    self.requests.append((key, version, body))
                    answer = self.handler(key, version, body)
                    prefix = b"\x00" if flexible else b""
                if answer is None:
                    return
                payload = struct.pack(">i", corr) + prefix + answer
                try:
                    conn.sendall(struct.pack(">i", len(payload)) + payload)
                except OSError:  # the client went away
                    return

    def asked(self, key: int) -> list[bytes]:
        return [body for k, _v, body in self.requests if k == key]

    def close(self) -> None:
        self._stop.set()
        self._server.close()


def _read(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        try:
            chunk = conn.recv(n - len(out))
        except OSError:  # the client closed or reset the connection: the test is over
            return b""
        if not chunk:
            return b""
        out += chunk
    return out


@pytest.fixture
def brokers() -> Iterator[Callable[..., Broker]]:
    made: list[Broker] = []

    def start(handler: Handler, **kw: object) -> Broker:
        broker = Broker(handler, **kw)  # type: ignore[arg-type]
        made.append(broker)
        return broker

    yield start
    for broker in made:
        broker.close()


BATCH = encode_batch([Rec(0, 1, b"k", b"v")], producer_id=9, producer_epoch=0, base_sequence=0)


def single_node(port_of: Callable[[], int], topic: str = "t", partitions: int = 2) -> Handler:
    """A one-broker cluster: metadata, fetch (one batch), produce (offset 100), offsets, pid."""

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:
            return metadata_body(
                {1: ("127.0.0.1", port_of())}, {topic: dict.fromkeys(range(partitions), 1)}
            )
        if key == 1:
            return fetch_body(topic, [fetch_partition(0, hw=1, lso=1, records=BATCH)])
        if key == 0:
            return produce_body(topic, [(0, 0, 100)])
        if key == 2:
            return struct.pack(">i", 0) + arr(
                [s(topic) + arr([struct.pack(">ihqqi", 0, 0, -1, 7, 0)])]
            )
        if key == 22:
            return struct.pack(">ihqh", 0, 0, 4321, 2) + b"\x00"
        raise AssertionError(key)

    return handle


def test_client_round_trip(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    broker = brokers(single_node(lambda: box[0].port))
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}", client_id="cid", name="source") as client:
        assert client.partitions("t") == [0, 1]
        assert client.leader("t", 1) == 1
        (result,) = client.fetch("t", {0: 0}).values()
        assert isinstance(result, FetchResult) and result.high_watermark == 1
        assert [b.record_count for b in iter_batches(result.records)] == [1]
        assert client.produce("t", {0: BATCH}) == {0: ProduceResult(0, 0, 100, 0, None, [])}
        assert client.list_offsets("t", {0: EARLIEST}) == {0: 7}
        assert client.init_producer_id() == (4321, 2)
    fetch = broker.asked(1)[0]
    assert fetch == encode_fetch_request(
        "t",
        {0: 0},
        max_wait_ms=500,
        min_bytes=1,
        max_bytes=4 << 20,
        partition_max_bytes=1 << 20,
        isolation=READ_COMMITTED,
    )
    produce = broker.asked(0)[0]
    assert produce.endswith(BATCH) and b"\x00\x03cid" not in produce
    versions = {(k, v) for k, v, _ in broker.requests}
    assert versions == {(3, 8), (1, 11), (0, 8), (2, 5), (22, 4)}


def test_pipelined_requests_answer_in_order(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    broker = brokers(single_node(lambda: box[0].port))
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}") as client:
        first = client.send_produce("t", {0: BATCH})
        second = client.send_produce("t", {0: BATCH})
        with pytest.raises(RuntimeError, match="in order"):
            client.receive_produce(second)
        assert client.receive_produce(first)[0].base_offset == 100
        assert client.receive_produce(second)[0].base_offset == 100
        pending = client.send_fetch("t", {0: 0})
        with pytest.raises(RuntimeError, match="pending"):
            client.list_offsets("t", {0: LATEST})  # same connection, fetch not yet received
        client.receive_fetch(pending)
        client.send_fetch("t", {0: 0})
        client.discard_pending()  # closes that connection; the next request reconnects
        assert client.list_offsets("t", {0: LATEST}) == {0: 7}


def test_routes_each_partition_to_its_leader(brokers: Callable[..., Broker]) -> None:
    ports: dict[int, int] = {}

    def handler(node: int) -> Handler:
        def handle(key: int, version: int, body: bytes) -> bytes | None:
            if key == 3:
                return metadata_body(
                    {n: ("127.0.0.1", p) for n, p in ports.items()}, {"t": {0: 1, 1: 2, 2: 1}}
                )
            if key == 1:
                asked = [
                    struct.unpack_from(">i", body, off)[0] for off in range(36, len(body) - 6, 28)
                ]
                return fetch_body("t", [fetch_partition(p, hw=node) for p in asked])
            if key == 0:
                return produce_body(
                    "t",
                    [(p, 0, node) for p in (0, 2) if node == 1]
                    + ([(1, 0, node)] if node == 2 else []),
                )
            raise AssertionError(key)

        return handle

    one, two = brokers(handler(1)), brokers(handler(2))
    ports.update({1: one.port, 2: two.port})
    with RawClient(f"127.0.0.1:{one.port}") as client:
        results = client.fetch("t", {0: 0, 1: 0, 2: 0})
        assert {p: r.high_watermark for p, r in results.items()} == {0: 1, 1: 2, 2: 1}
        produced = client.produce("t", {0: BATCH, 1: BATCH, 2: BATCH})
        assert {p: r.base_offset for p, r in produced.items()} == {0: 1, 1: 2, 2: 1}
    assert len(one.asked(1)) == 1 and len(two.asked(1)) == 1
    assert two.asked(0)[0].count(BATCH) == 1 and one.asked(0)[0].count(BATCH) == 2


def test_leader_errors_refresh_metadata(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    calls = {"fetch": 0}

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:
            return metadata_body({1: ("127.0.0.1", box[0].port)}, {"t": {0: 1}})
        calls["fetch"] += 1
        error = ErrorCode.NOT_LEADER_OR_FOLLOWER if calls["fetch"] == 1 else ErrorCode.NONE
        return fetch_body("t", [fetch_partition(0, error=error)])

    box.append(brokers(handle))
    with RawClient(f"127.0.0.1:{box[0].port}") as client:
        assert client.fetch("t", {0: 0})[0].error == ErrorCode.NOT_LEADER_OR_FOLLOWER
        assert client.fetch("t", {0: 0})[0].error == ErrorCode.NONE
    assert len(box[0].asked(3)) == 2  # asked again after NOT_LEADER_OR_FOLLOWER


@pytest.mark.parametrize(
    ("api", "key", "call", "context"),
    [
        ("Metadata", 3, lambda c: c.metadata(["t"]), {"cluster": "source"}),
        ("Fetch", 1, lambda c: c.fetch("t", {0: 0}), {"cluster": "source", "topic": "t"}),
        ("Produce", 0, lambda c: c.produce("t", {0: BATCH}), {"cluster": "source", "topic": "t"}),
        (
            "ListOffsets",
            2,
            lambda c: c.list_offsets("t", {0: EARLIEST}),
            {"cluster": "source", "topic": "t"},
        ),
        ("InitProducerId", 22, lambda c: c.init_producer_id(), {"cluster": "source"}),
    ],
)
def test_a_malformed_answer_is_a_kafka_error_of_each_request_kind(
    brokers: Callable[..., Broker],
    api: str,
    key: int,
    call: Callable[[RawClient], object],
    context: dict[str, object],
) -> None:
    box: list[Broker] = []
    base = single_node(lambda: box[0].port)
    truncated = {"first": True}

    def handle(k: int, version: int, body: bytes) -> bytes | None:
        if k == key and (k != 3 or truncated.pop("first", False)):
            return b"\x00"  # too short for any answer
        return base(k, version, body)

    broker = brokers(handle)
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}", name="source") as client:
        with pytest.raises(KafkaError, match=f"malformed {api} answer from 127.0.0.1:") as info:
            call(client)
        assert info.value.context == context
        assert isinstance(info.value.__cause__, WireFormatError)
        if key == 3:  # the connection was closed: the next request reconnects and works
            assert client.leader("t", 0) == 1


def test_unknown_topic_is_a_kafka_error(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    broker = brokers(
        lambda k, v, b: metadata_body(
            {1: ("127.0.0.1", box[0].port)},
            {"x": {}},
            topic_error=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        )
    )
    box.append(broker)
    with (
        RawClient(f"127.0.0.1:{broker.port}", name="source") as client,
        pytest.raises(KafkaError, match="topic x is not available") as info,
    ):
        client.partitions("x")
    assert "UNKNOWN_TOPIC_OR_PARTITION" in str(info.value)
    assert info.value.exit_code == ExitCode.UNREACHABLE
    assert info.value.context["cluster"] == "source"


def test_unsupported_version_is_refused_before_sending(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    broker = brokers(single_node(lambda: box[0].port), api_keys={**FULL, 1: (12, 17)})
    box.append(broker)
    with (
        RawClient(f"127.0.0.1:{broker.port}") as client,
        pytest.raises(KafkaError, match="does not serve Fetch v11") as info,
    ):
        client.fetch("t", {0: 0})
    assert "v12-v17" in str(info.value)
    assert broker.asked(1) == []


def test_connection_closed_mid_request_is_a_kafka_error(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:
            return metadata_body({1: ("127.0.0.1", box[0].port)}, {"t": {0: 1}})
        return None  # closes the connection

    box.append(brokers(handle))
    with (
        RawClient(f"127.0.0.1:{box[0].port}", name="destination") as client,
        pytest.raises(KafkaError, match="closed the connection") as info,
    ):
        client.produce("t", {0: BATCH})
    assert info.value.context["broker"] == f"127.0.0.1:{box[0].port}"
    assert info.value.context["cluster"] == "destination"


def test_check_produce_explains() -> None:
    client = RawClient("127.0.0.1:1", name="destination")
    client.check_produce("t", ProduceResult(0, 0, 5))
    with pytest.raises(KafkaError) as info:
        client.check_produce("t", ProduceResult(3, 87, -1, -1, "bad batch", [(0, "no key")]))
    text = str(info.value)
    assert "INVALID_RECORD: bad batch; record 0: no key" in text
    assert info.value.context == {
        "cluster": "destination",
        "topic": "t",
        "partition": 3,
        "error_code": 87,
    }
    assert not isinstance(info.value, KafkaUnavailable)  # a bad batch stays bad
    with pytest.raises(KafkaError, match="new producer id"):
        client.check_produce("t", ProduceResult(0, 45, -1))
    # a leader that moved: a retry with fresh metadata may do better
    with pytest.raises(KafkaUnavailable):
        client.check_produce("t", ProduceResult(1, 6, -1))


def test_unreachable_bootstrap() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(KafkaError) as info:
        RawClient(f"127.0.0.1:{port}", timeout=2).metadata(["t"])
    assert info.value.exit_code == ExitCode.UNREACHABLE


def test_init_producer_id_waits_out_a_loading_coordinator(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    base = single_node(lambda: box[0].port)
    answers = iter([14, 14, 0])  # COORDINATOR_LOAD_IN_PROGRESS twice, then a producer id

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 22:
            return struct.pack(">ihqh", 0, next(answers), 4321, 2) + b"\x00"
        return base(key, version, body)

    broker = brokers(handle)
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}", name="destination") as client:
        assert client.init_producer_id() == (4321, 2)
    assert len(broker.asked(22)) == 3


def test_init_producer_id_gives_up_after_its_bound(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []
    base = single_node(lambda: box[0].port)

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 22:
            return struct.pack(">ihqh", 0, 14, -1, -1) + b"\x00"
        return base(key, version, body)

    broker = brokers(handle)
    box.append(broker)
    with (
        RawClient(f"127.0.0.1:{broker.port}", name="destination") as client,
        pytest.raises(KafkaError) as info,
    ):
        client.init_producer_id(retry_for=0.3)
    assert "COORDINATOR_LOAD_IN_PROGRESS" in info.value.one_line()


# --------------------------------------------------------------------------- TLS writes


class _RecordingSocket:
    """Collects what ``sendall`` is given (as ``SSLSocket.sendall`` would write it)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.sources: list[object] = []

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        self.sources.append(data)
        self.writes.append(bytes(data))


@pytest.mark.parametrize(
    "sizes",
    [
        [60, 4, 8, 300_000, 8, 5],  # a produce request: small parts around one large batch
        [60, 4, 8, 20_000, 8, 20_000, 8, 1_048_576],
        [10, 20, 30],  # small parts only
        [16_384, 16_384],  # large parts only, exactly one TLS record each
        [16_380, 100_000],  # the gathered bytes already fill (almost) a record
    ],
)
def test_send_tls_writes_the_request_in_order_without_joining_large_parts(
    sizes: list[int],
) -> None:
    parts: list[bytes | bytearray | memoryview] = []
    for i, n in enumerate(sizes):
        data = bytes([i % 251]) * n
        parts.append(memoryview(data) if i % 2 else data)
    sock = _RecordingSocket()
    _send_tls(sock, parts)  # type: ignore[arg-type]
    assert b"".join(sock.writes) == b"".join(bytes(p) for p in parts)
    # no write is a joined copy larger than one TLS record plus the small parts before it
    small = sum(n for n in sizes if n < 16_384)
    for source in sock.sources:
        if isinstance(source, bytearray):
            assert len(source) <= 16_384 + small
    # each large part goes out from where it lies, but for at most one record's worth
    views = sorted(len(s) for s in sock.sources if isinstance(s, memoryview))
    large = sorted(len(p) for p in parts if len(p) >= 16_384)
    assert len(views) == len(large)
    for sent, whole in zip(views, large, strict=True):
        assert whole - 16_384 <= sent <= whole


def test_bounds_of_many_topics_leaves_out_partitions_not_served_yet(
    brokers: Callable[..., Broker],
) -> None:
    """``bounds``: one ListOffsets and one Fetch for every topic; a partition whose leader
    does not serve it yet, or that has no leader, is left out; the marks are the Fetch's."""
    box: list[Broker] = []
    nl = ErrorCode.NOT_LEADER_OR_FOLLOWER

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:  # "new" is not known yet: no leader
            return metadata_body({1: ("127.0.0.1", box[0].port)}, {"a": {0: 1, 1: 1}, "b": {0: 1}})
        if key == 2:  # a[1] not served yet
            listed = [
                s("a")
                + arr(
                    [struct.pack(">ihqqi", 0, 0, -1, 3, 0), struct.pack(">ihqqi", 1, nl, -1, -1, 0)]
                ),
                s("b") + arr([struct.pack(">ihqqi", 0, 0, -1, 0, 0)]),
            ]
            return struct.pack(">i", 0) + arr(listed)
        if key == 1:  # b[0] refuses the fetch (leadership moved between the two requests)
            topics = [
                s("a") + arr([fetch_partition(0, hw=9, log_start=3, records=BATCH)]),
                s("b") + arr([fetch_partition(0, error=nl)]),
            ]
            return struct.pack(">ihi", 0, 0, 0) + arr(topics)
        raise AssertionError(key)

    broker = brokers(handle)
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}") as client:
        found = client.bounds([("a", 0), ("a", 1), ("b", 0), ("new", 0)])
    assert found == {("a", 0): (3, 9)}
    assert len(broker.asked(2)) == 1 and len(broker.asked(1)) == 1  # all topics at once
    fetched = broker.asked(1)[0]
    assert b"\x00\x01a" in fetched and b"\x00\x01b" in fetched and b"new" not in fetched


def test_bounds_raise_on_other_partition_errors(brokers: Callable[..., Broker]) -> None:
    box: list[Broker] = []

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:
            return metadata_body({1: ("127.0.0.1", box[0].port)}, {"a": {0: 1}})
        if key == 2:
            denied = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            return struct.pack(">i", 0) + arr(
                [s("a") + arr([struct.pack(">ihqqi", 0, denied, -1, -1, 0)])]
            )
        raise AssertionError(key)

    broker = brokers(handle)
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}") as client, pytest.raises(KafkaError) as err:
        client.bounds([("a", 0)])
    assert "TOPIC_AUTHORIZATION_FAILED" in str(err.value.why)


def test_a_copier_carries_every_topic_in_one_fetch_and_one_produce(
    brokers: Callable[..., Broker],
) -> None:
    """The raw engine's copier asks one Fetch and sends one Produce per broker for all the
    topics of a round (an estate of many small topics costs its data, not a round trip per
    topic), and maps each source partition to its destination partition."""
    from connshift.app.rawcopy import PartitionRange, RawCopier

    box: list[Broker] = []

    def part(p: int, base: int) -> bytes:
        return struct.pack(">ihqqq", p, 0, base, -1, 0) + arr([]) + s(None)

    def handle(key: int, version: int, body: bytes) -> bytes | None:
        if key == 3:
            leaders = {"a": {0: 1}, "b": {0: 1}, "a.copy": {0: 1}, "b.copy": {0: 1}}
            return metadata_body({1: ("127.0.0.1", box[0].port)}, leaders)
        if key == 2:  # the destination's leaders serve their partitions
            return struct.pack(">i", 0) + arr(
                [s(t) + arr([struct.pack(">ihqqi", 0, 0, -1, 0, 0)]) for t in ("a.copy", "b.copy")]
            )
        if key == 1:
            return struct.pack(">ihi", 0, 0, 0) + arr(
                [s(t) + arr([fetch_partition(0, hw=1, lso=1, records=BATCH)]) for t in ("a", "b")]
            )
        if key == 0:
            return arr([s("a.copy") + arr([part(0, 0)]), s("b.copy") + arr([part(0, 0)])]) + (
                struct.pack(">i", 0)
            )
        raise AssertionError(key)

    broker = brokers(handle)
    box.append(broker)
    with RawClient(f"127.0.0.1:{broker.port}") as src, RawClient(f"127.0.0.1:{broker.port}") as dst:
        copier = RawCopier(
            src,
            dst,
            {("a", 0): PartitionRange(0, 0, 1), ("b", 0): PartitionRange(0, 0, 1)},
            dst_of={("a", 0): ("a.copy", 0), ("b", 0): ("b.copy", 0)},
            producer=(42, 0),
        )
        chunks = dict(copier)
    assert sorted(chunks) == [("a", 0), ("b", 0)]
    assert all(c.records == 1 and c.src_next == 1 for c in chunks.values())
    assert len(broker.asked(1)) == 1 and len(broker.asked(0)) == 1
    produced = broker.asked(0)[0]
    assert b"a.copy" in produced and b"b.copy" in produced
