"""Unit tests of connshift.io.kafka_wire: ApiVersions encoding, decoding and the socket side.

Responses are built here with a small encoder written independently of the module, following
Apache Kafka's ApiVersionsResponse.json; the socket tests serve canned bytes from a thread on
127.0.0.1 (ephemeral port). No real broker is needed.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from connshift import __version__
from connshift.errors import ConfigError, ExitCode, KafkaError
from connshift.io.kafka_wire import (
    ApiVersionsResult,
    WireFormatError,
    api_versions,
    decode_api_versions_response,
    encode_api_versions_request,
    parse_bootstrap,
)

# --------------------------------------------------------------------------------------------
# a tiny independent encoder of ApiVersions responses
# --------------------------------------------------------------------------------------------


def uvarint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def cstr(text: str) -> bytes:
    return uvarint(len(text) + 1) + text.encode()


def tagged(fields: dict[int, bytes]) -> bytes:
    out = uvarint(len(fields))
    for tag, data in sorted(fields.items()):
        out += uvarint(tag) + uvarint(len(data)) + data
    return out


def v3_body(
    api_keys: dict[int, tuple[int, int]],
    *,
    error: int = 0,
    throttle: int = 0,
    supported: dict[str, tuple[int, int]] | None = None,
    epoch: int | None = None,
    finalized: dict[str, tuple[int, int]] | None = None,  # name -> (max_level, min_level)
    zk_ready: bool | None = None,
    extra_tags: dict[int, bytes] | None = None,
    entry_tags: dict[int, bytes] | None = None,
) -> bytes:
    body = struct.pack(">h", error) + uvarint(len(api_keys) + 1)
    for key, (lo, hi) in api_keys.items():
        body += struct.pack(">hhh", key, lo, hi) + tagged(entry_tags or {})
    body += struct.pack(">i", throttle)
    tags: dict[int, bytes] = dict(extra_tags or {})
    if supported is not None:
        data = uvarint(len(supported) + 1)
        for name, (lo, hi) in supported.items():
            data += cstr(name) + struct.pack(">hh", lo, hi) + tagged({})
        tags[0] = data
    if epoch is not None:
        tags[1] = struct.pack(">q", epoch)
    if finalized is not None:
        data = uvarint(len(finalized) + 1)
        for name, (max_level, min_level) in finalized.items():
            data += cstr(name) + struct.pack(">hh", max_level, min_level) + tagged({})
        tags[2] = data
    if zk_ready is not None:
        tags[3] = struct.pack(">b", int(zk_ready))
    return body + tagged(tags)


def v0_body(api_keys: dict[int, tuple[int, int]], *, error: int = 0) -> bytes:
    body = struct.pack(">hi", error, len(api_keys))
    for key, (lo, hi) in api_keys.items():
        body += struct.pack(">hhh", key, lo, hi)
    return body


def with_header(correlation_id: int, body: bytes) -> bytes:
    """Response header v0 (no tagged fields, even for flexible ApiVersions) + body."""
    return struct.pack(">i", correlation_id) + body


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


KEYS = {0: (0, 11), 1: (0, 17), 2: (0, 9), 3: (0, 12), 18: (0, 4)}
FINALIZED = {"metadata.version": (21, 1), "kraft.version": (1, 1)}


# --------------------------------------------------------------------------------------------
# encoding requests
# --------------------------------------------------------------------------------------------


def test_encode_v3_request_bytes() -> None:
    got = encode_api_versions_request(3, 7, software_version="1.2.3")
    header = (
        struct.pack(">hhi", 18, 3, 7)
        + struct.pack(">h", 9)
        + b"connshift"  # client_id: classic int16 string even in header v2
        + b"\x00"  # header tagged fields
    )
    body = b"\x0aconnshift" + b"\x061.2.3" + b"\x00"
    assert got == frame(header + body)


def test_encode_v0_request_bytes() -> None:
    got = encode_api_versions_request(0, 1)
    assert got == frame(struct.pack(">hhih", 18, 0, 1, 9) + b"connshift")


def test_encode_rejects_unknown_version() -> None:
    with pytest.raises(ValueError):
        encode_api_versions_request(4, 1)


# --------------------------------------------------------------------------------------------
# decoding responses
# --------------------------------------------------------------------------------------------


def test_decode_v3_with_features() -> None:
    payload = with_header(
        42,
        v3_body(
            KEYS,
            throttle=5,
            supported={"metadata.version": (1, 21)},
            epoch=678,
            finalized=FINALIZED,
            zk_ready=True,
            extra_tags={9: b"\x01\x02\x03"},  # unknown tag: skipped
            entry_tags={4: b"zz"},  # unknown per-entry tag: skipped
        ),
    )
    response = decode_api_versions_response(payload, 3)
    assert response.correlation_id == 42
    assert response.response_version == 3
    assert response.error_code == 0
    assert response.api_keys == KEYS
    assert response.throttle_time_ms == 5
    assert response.supported_features == {"metadata.version": (1, 21)}
    assert response.finalized_features_epoch == 678
    assert response.finalized_features == {"metadata.version": 21, "kraft.version": 1}
    assert response.zk_migration_ready is True


def test_decode_v3_finalized_reads_max_level_not_min() -> None:
    payload = with_header(1, v3_body(KEYS, finalized={"metadata.version": (33, 7)}))
    response = decode_api_versions_response(payload, 3)
    assert response.finalized_features == {"metadata.version": 33}


def test_decode_v3_without_tags() -> None:
    response = decode_api_versions_response(with_header(1, v3_body(KEYS)), 3)
    assert response.api_keys == KEYS
    assert response.finalized_features == {}
    assert response.supported_features == {}
    assert response.finalized_features_epoch == -1
    assert response.zk_migration_ready is False


def test_decode_many_keys_needs_multibyte_varint() -> None:
    keys = {k: (0, k % 7) for k in range(200)}  # 201 -> two-byte varint
    response = decode_api_versions_response(with_header(1, v3_body(keys)), 3)
    assert response.api_keys == keys


def test_decode_v0_and_v1() -> None:
    response = decode_api_versions_response(with_header(3, v0_body(KEYS)), 0)
    assert (response.response_version, response.api_keys) == (0, KEYS)
    v1 = v0_body(KEYS) + struct.pack(">i", 250)
    response = decode_api_versions_response(with_header(3, v1), 1)
    assert (response.response_version, response.throttle_time_ms) == (1, 250)


def test_decode_unsupported_version_answer_is_v0_whatever_was_asked() -> None:
    payload = with_header(4, v0_body({18: (0, 2)}, error=35))
    response = decode_api_versions_response(payload, 3)
    assert response.response_version == 0
    assert response.error_code == 35
    assert response.api_keys == {18: (0, 2)}


@pytest.mark.parametrize(
    ("payload", "version"),
    [
        (with_header(9, v3_body(KEYS, epoch=3, finalized=FINALIZED, supported={"a": (0, 1)})), 3),
        (with_header(9, v0_body(KEYS)), 0),
    ],
    ids=["v3", "v0"],
)
def test_every_truncation_is_a_wire_format_error(payload: bytes, version: int) -> None:
    decode_api_versions_response(payload, version)  # the whole thing decodes
    for cut in range(len(payload)):
        with pytest.raises(WireFormatError):
            decode_api_versions_response(payload[:cut], version)


def test_tagged_field_longer_than_its_declared_size_is_rejected() -> None:
    # FinalizedFeaturesEpoch declared 4 bytes long, but an int64 needs 8.
    body = v3_body(KEYS)[:-1] + uvarint(1) + uvarint(1) + uvarint(4) + b"\x00\x00\x00\x01"
    with pytest.raises(WireFormatError):
        decode_api_versions_response(with_header(1, body), 3)


# --------------------------------------------------------------------------------------------
# bootstrap parsing
# --------------------------------------------------------------------------------------------


def test_parse_bootstrap() -> None:
    assert parse_bootstrap("a:1, b , PLAINTEXT://c:3,[::1]:4,[fe80::1]") == [
        ("a", 1),
        ("b", 9092),
        ("c", 3),
        ("::1", 4),
        ("fe80::1", 9092),
    ]


@pytest.mark.parametrize("bad", ["", " , ", "a:x", "a:0", "a:70000", ":9092", "[::1"])
def test_parse_bootstrap_rejects(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_bootstrap(bad)
    assert info.value.exit_code == ExitCode.USAGE


# --------------------------------------------------------------------------------------------
# the socket side, against a canned-bytes server
# --------------------------------------------------------------------------------------------

Reply = Callable[[int], bytes | None]  # correlation id -> raw bytes to send (None: stay silent)


@dataclass
class CannedBroker:
    """Serves one canned reply per connection, in order, and records each request."""

    replies: list[Reply]
    requests: list[bytes] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(5)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for reply in self.replies:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                size = struct.unpack(">i", _read(conn, 4))[0]
                request = _read(conn, size)
                self.requests.append(request)
                correlation_id = struct.unpack(">i", request[4:8])[0]
                data = reply(correlation_id)
                if data is None:
                    self._stop.wait(5)  # hold the connection open, say nothing
                else:
                    conn.sendall(data)

    def versions_asked(self) -> list[int]:
        return [struct.unpack(">h", r[2:4])[0] for r in self.requests]

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


@pytest.fixture
def broker() -> Iterator[Callable[..., CannedBroker]]:
    started: list[CannedBroker] = []

    def start(*replies: Reply) -> CannedBroker:
        canned = CannedBroker(list(replies))
        started.append(canned)
        return canned

    yield start
    for canned in started:
        canned.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_api_versions_v3(broker: Callable[..., CannedBroker]) -> None:
    body = v3_body(KEYS, supported={"metadata.version": (1, 21)}, epoch=5, finalized=FINALIZED)
    canned = broker(lambda cid: frame(with_header(cid, body)))
    result = api_versions(f"127.0.0.1:{canned.port}")
    assert result == ApiVersionsResult(
        host="127.0.0.1",
        port=canned.port,
        request_version=3,
        api_keys=KEYS,
        finalized_features={"metadata.version": 21, "kraft.version": 1},
        supported_features={"metadata.version": (1, 21)},
        finalized_features_epoch=5,
    )
    assert result.address == f"127.0.0.1:{canned.port}"
    assert result.max_version(1) == 17 and result.max_version(99) is None
    # What went over the wire: header v2 with a classic client_id, then the v3 body.
    (request,) = canned.requests
    assert request[:4] == struct.pack(">hh", 18, 3)
    assert request[8:] == b"\x00\x09connshift\x00" + cstr("connshift") + cstr(__version__) + b"\x00"


def test_api_versions_falls_back_to_v0(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(
        lambda cid: frame(with_header(cid, v0_body({18: (0, 2)}, error=35))),
        lambda cid: frame(with_header(cid, v0_body(KEYS))),
    )
    result = api_versions(f"127.0.0.1:{canned.port}")
    assert canned.versions_asked() == [3, 0]
    assert result.request_version == 0
    assert result.api_keys == KEYS
    assert result.finalized_features == {}


def test_first_reachable_broker_answers(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(lambda cid: frame(with_header(cid, v3_body(KEYS))))
    result = api_versions(f"127.0.0.1:{free_port()},127.0.0.1:{canned.port}")
    assert result.port == canned.port


def test_unreachable_port_is_kafka_error_exit_3() -> None:
    port = free_port()
    with pytest.raises(KafkaError) as info:
        api_versions(f"127.0.0.1:{port}", timeout=2)
    error = info.value
    assert error.exit_code == ExitCode.UNREACHABLE
    assert int(error.exit_code) == 3
    assert error.what == f"could not reach Kafka at 127.0.0.1:{port}"
    assert error.why is not None and "refused" in error.why
    assert error.fix


def test_all_unreachable_names_every_broker() -> None:
    a, b = free_port(), free_port()
    with pytest.raises(KafkaError) as info:
        api_versions(f"127.0.0.1:{a},127.0.0.1:{b}", timeout=2)
    assert f"127.0.0.1:{a}" in info.value.what and f"127.0.0.1:{b}" in info.value.what
    assert info.value.exit_code == 3


def test_short_read_is_a_clean_kafka_error(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(lambda cid: struct.pack(">ii", 100, cid) + b"\x00\x00")  # then close
    with pytest.raises(KafkaError) as info:
        api_versions(f"127.0.0.1:{canned.port}", timeout=2)
    assert "closed the connection" in info.value.what
    assert info.value.why == "short read: got 6 of 100 byte(s)"
    assert info.value.exit_code == 3


def test_silent_listener_times_out(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(lambda cid: None)
    with pytest.raises(KafkaError) as info:
        api_versions(f"127.0.0.1:{canned.port}", timeout=0.3)
    assert "did not answer ApiVersions within 0.3s" in info.value.what
    assert info.value.exit_code == 3


def test_error_code_is_reported(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(lambda cid: frame(with_header(cid, v3_body({}, error=42))))
    with pytest.raises(KafkaError) as info:
        api_versions(f"127.0.0.1:{canned.port}")
    assert "refused ApiVersions" in info.value.what
    assert info.value.why == "error code 42 (INVALID_REQUEST)"


def test_garbage_is_a_kafka_error(broker: Callable[..., CannedBroker]) -> None:
    canned = broker(
        lambda cid: b"HTTP/1.1 400 Bad Request\r\n\r\n",
        lambda cid: frame(with_header(cid + 1, v3_body(KEYS))),
        lambda cid: frame(with_header(cid, v3_body(KEYS))[:-3]),
    )
    address = f"127.0.0.1:{canned.port}"
    with pytest.raises(KafkaError, match="not a Kafka response"):
        api_versions(address)
    with pytest.raises(KafkaError, match="malformed") as info:
        api_versions(address)
    assert info.value.why is not None and "correlation id" in info.value.why
    with pytest.raises(KafkaError, match="malformed") as info:
        api_versions(address)
    assert info.value.why is not None and "truncated" in info.value.why
