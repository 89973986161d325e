"""Just enough of the raw Kafka protocol to ask a broker what it is: ApiVersions (key 18).

confluent-kafka (librdkafka) negotiates ApiVersions internally and exposes neither the answer nor
the broker's finalized features, so this module speaks that one request itself over a plain TCP
socket, with :mod:`struct` only. :func:`api_versions` returns the API version ranges and the
finalized features; :func:`connshift.core.versions.infer_kafka_version` turns them into a release.

Wire format, as in Apache Kafka's ``clients/src/main/resources/common/message/``
(``ApiVersionsRequest.json``, ``ApiVersionsResponse.json``, ``RequestHeader.json``,
``ResponseHeader.json``):

* every message is framed by an ``int32`` size;
* request v3 (the first flexible version) uses request header v2: ``api_key int16,
  api_version int16, correlation_id int32, client_id`` as a *classic* ``int16``-length string
  (``flexibleVersions: none``, so old brokers can read any ApiVersions header), then an empty
  tagged-field section; body ``client_software_name`` and ``client_software_version``
  (COMPACT_STRING) and an empty tagged-field section;
* request v0 uses header v1 (the same without the tagged fields) and an empty body;
* the response header is always v0 (``correlation_id`` only): ApiVersions responses carry no
  header tagged fields, a documented exception;
* response v3 body: ``error_code int16``, ``api_keys`` COMPACT_ARRAY of ``(api_key, min_version,
  max_version int16, tagged fields)``, ``throttle_time_ms int32``, tagged fields: 0
  SupportedFeatures ``[(name, min_version, max_version)]``, 1 FinalizedFeaturesEpoch ``int64``,
  2 FinalizedFeatures ``[(name, max_version_level, min_version_level)]``, 3 ZkMigrationReady
  ``bool``; v0 body: ``error_code``, ``api_keys`` ARRAY (``int32`` count) of three ``int16``; v1+
  adds ``throttle_time_ms``;
* a broker that does not support the requested version answers UNSUPPORTED_VERSION (35) in the
  **v0** format whatever version was asked (``RequestContext.apiVersion()``), listing its own
  ApiVersions range (KIP-511, 2.4+). We then ask again with v0, on a fresh connection.

Every listener can be asked: ApiVersions precedes SASL authentication (brokers answer it
before SaslHandshake), and on ``SSL``/``SASL_SSL`` listeners the socket is TLS-wrapped first
(:mod:`connshift.io.kafka_security`); a TLS listener asked in plaintext never answers, which
surfaces as a timeout.

SASL (:func:`authenticate`), as Apache Kafka's ``SaslClientAuthenticator`` does it after
ApiVersions: SaslHandshake (key 17) v1 names the mechanism (request header v1, response header
v0, never flexible: ``mechanism STRING`` -> ``error_code INT16, mechanisms [STRING]``), then the
mechanism's messages go in SaslAuthenticate (key 36) requests, at the highest version both
sides speak up to v2 (v2 is flexible: request header v2 with ``auth_bytes COMPACT_BYTES``,
response header v1 with ``error_code INT16, error_message COMPACT_NULLABLE_STRING, auth_bytes
COMPACT_BYTES, session_lifetime_ms INT64``; v1 the same non-flexible; v0 lacks the lifetime).
PLAIN sends ``authzid NUL user NUL password`` once; SCRAM-SHA-256/512 (RFC 5802 / 7677, via
:mod:`scramp`) sends client-first and client-final, and checks the server's signature.
Re-authentication (KIP-368's ``session_lifetime_ms``) is not done: connshift's connections are
shorter than any sensible session lifetime, and a broker that closes one is reconnected to.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

import scramp

from connshift import __version__
from connshift.errors import ConfigError, KafkaAuthError, KafkaError
from connshift.io.kafka_security import (
    PLAINTEXT,
    RawSecurity,
    describe_os_error,
    open_socket,
    tls_failure,
)

__all__ = [
    "API_VERSIONS_KEY",
    "DEFAULT_PORT",
    "SASL_AUTHENTICATE_KEY",
    "SASL_HANDSHAKE_KEY",
    "UNSUPPORTED_VERSION",
    "ApiVersionsResponse",
    "ApiVersionsResult",
    "SaslAuthenticateResponse",
    "WireFormatError",
    "api_versions",
    "ask_api_versions",
    "authenticate",
    "decode_api_versions_response",
    "decode_sasl_authenticate_response",
    "decode_sasl_handshake_response",
    "encode_api_versions_request",
    "encode_sasl_authenticate_request",
    "encode_sasl_handshake_request",
    "parse_bootstrap",
]

API_VERSIONS_KEY = 18
"""The API key of ApiVersions."""

UNSUPPORTED_VERSION = 35
"""Kafka error code UNSUPPORTED_VERSION."""

DEFAULT_PORT = 9092
"""Port assumed for a bootstrap entry that names none."""

PREFERRED_VERSION = 3
"""The ApiVersions version asked first (flexible; returns finalized features)."""

CLIENT_ID = "connshift"
CLIENT_SOFTWARE_NAME = "connshift"

# ApiVersions answers are a few KiB; anything claiming more is not a Kafka listener.
_MAX_FRAME = 4 * 1024 * 1024

SASL_HANDSHAKE_KEY = 17
SASL_AUTHENTICATE_KEY = 36
SASL_HANDSHAKE_VERSION = 1
"""SaslHandshake v1: the mechanism's messages then go in SaslAuthenticate requests."""
SASL_AUTHENTICATE_MAX_VERSION = 2
"""The highest SaslAuthenticate version spoken (v2, the first flexible one)."""

UNSUPPORTED_SASL_MECHANISM = 33
ILLEGAL_SASL_STATE = 34
SASL_AUTHENTICATION_FAILED = 58

_ERROR_NAMES = {
    -1: "UNKNOWN_SERVER_ERROR",
    33: "UNSUPPORTED_SASL_MECHANISM",
    34: "ILLEGAL_SASL_STATE",
    35: "UNSUPPORTED_VERSION",
    42: "INVALID_REQUEST",
    58: "SASL_AUTHENTICATION_FAILED",
}


class WireFormatError(ValueError):
    """Bytes that do not decode as the expected Kafka message (truncated or malformed)."""


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiVersionsResponse:
    """One decoded ApiVersions response, exactly as the broker sent it.

    ``response_version`` is the version the body was decoded with: the requested one, or 0 when
    the broker answered UNSUPPORTED_VERSION (which it always encodes as v0).
    """

    correlation_id: int
    response_version: int
    error_code: int
    api_keys: dict[int, tuple[int, int]]
    throttle_time_ms: int = 0
    supported_features: dict[str, tuple[int, int]] = field(default_factory=dict)
    finalized_features_epoch: int = -1
    finalized_features: dict[str, int] = field(default_factory=dict)
    zk_migration_ready: bool = False


@dataclass(frozen=True)
class ApiVersionsResult:
    """What a broker said about itself in answer to ApiVersions.

    ``api_keys`` maps API key -> ``(min_version, max_version)``; ``finalized_features`` maps a
    finalized feature (``metadata.version``, ``kraft.version``, ...) to its max version level
    (empty when the answer was v0, or the cluster finalized none). ``request_version`` is the
    ApiVersions version that got the answer (3, or 0 after the fallback).
    ``supported_features`` maps a feature to the ``(min, max)`` levels this broker's software can
    run, and ``finalized_features_epoch`` is -1 when unknown.
    """

    host: str
    port: int
    request_version: int
    api_keys: dict[int, tuple[int, int]]
    finalized_features: dict[str, int]
    supported_features: dict[str, tuple[int, int]] = field(default_factory=dict)
    finalized_features_epoch: int = -1

    @property
    def address(self) -> str:
        """``host:port`` of the broker that answered."""
        return _address(self.host, self.port)

    def max_version(self, api_key: int) -> int | None:
        """The highest version of ``api_key`` the broker serves, or None when it lacks the API."""
        versions = self.api_keys.get(api_key)
        return None if versions is None else versions[1]


# --------------------------------------------------------------------------------------------
# encoding
# --------------------------------------------------------------------------------------------


def _uvarint(value: int) -> bytes:
    """Kafka UNSIGNED_VARINT (LEB128)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _compact_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _uvarint(len(raw) + 1) + raw


def _classic_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">h", len(raw)) + raw


def encode_api_versions_request(
    version: int,
    correlation_id: int,
    *,
    client_id: str = CLIENT_ID,
    software_name: str = CLIENT_SOFTWARE_NAME,
    software_version: str = __version__,
) -> bytes:
    """Encode a size-framed ApiVersions request of ``version`` (0-3).

    v3 uses request header v2 and carries ``software_name``/``software_version`` (brokers check
    them against ``[a-zA-Z0-9](?:[a-zA-Z0-9\\-.]*[a-zA-Z0-9])?``); v0-v2 have an empty body.
    """
    if not 0 <= version <= 3:
        raise ValueError(f"ApiVersions version {version} is not supported here (0-3)")
    header = struct.pack(">hhi", API_VERSIONS_KEY, version, correlation_id)
    header += _classic_string(client_id)
    if version >= 3:
        header += _uvarint(0)  # header tagged fields
        body = _compact_string(software_name) + _compact_string(software_version) + _uvarint(0)
    else:
        body = b""
    message = header + body
    return struct.pack(">i", len(message)) + message


# --------------------------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------------------------


_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


class Cursor:
    """Reads big-endian Kafka protocol fields from a response body (bytes or a memoryview,
    without copying); any read past ``end`` is a :class:`WireFormatError`. One cursor for
    every decoder: ApiVersions here, Metadata/Fetch/Produce/... in ``io.kafka_raw``."""

    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.buf = memoryview(buf)
        self.pos = pos
        self.end = len(self.buf) if end is None else end

    def unpack(self, fmt: struct.Struct) -> tuple[int, ...]:
        try:
            if self.pos + fmt.size > self.end:
                raise struct.error("past the end")
            values = fmt.unpack_from(self.buf, self.pos)
        except struct.error:
            raise WireFormatError(
                f"truncated: needed {fmt.size} byte(s) at offset {self.pos}, "
                f"only {self.end - self.pos} left"
            ) from None
        self.pos += fmt.size
        return values

    def int8(self) -> int:
        return self.unpack(_I8)[0]

    def int16(self) -> int:
        return self.unpack(_I16)[0]

    def int32(self) -> int:
        return self.unpack(_I32)[0]

    def int64(self) -> int:
        return self.unpack(_I64)[0]

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise WireFormatError(
                f"truncated: needed {n} byte(s) at offset {self.pos}, "
                f"only {self.end - self.pos} left"
            )
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def string(self) -> str:
        text = self.nullable_string()
        if text is None:
            raise WireFormatError(f"null string at offset {self.pos}")
        return text

    def _text(self, n: int) -> str | None:
        """``n`` bytes of UTF-8 (a negative length is a null string)."""
        if n < 0:
            return None
        try:
            return bytes(self.take(n)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireFormatError(f"string is not UTF-8: {exc}") from exc

    def _items(self, n: int) -> int:
        """An array's item count, checked against the bytes left (negative: null = 0)."""
        if n > self.end - self.pos:
            raise WireFormatError(f"array of {n} items cannot fit in {self.end - self.pos} bytes")
        return max(n, 0)

    def nullable_string(self) -> str | None:
        return self._text(self.int16())

    def array_length(self) -> int:
        return self._items(self.int32())

    def uvarint(self) -> int:
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise WireFormatError(f"varint longer than 5 bytes at offset {self.pos}")

    def tagged_fields(self) -> dict[int, tuple[int, int]]:
        """Read a tagged-field section; returns tag -> (start, end) of each field's bytes."""
        fields: dict[int, tuple[int, int]] = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            size = self.uvarint()
            start = self.pos
            self.take(size)
            fields[tag] = (start, self.pos)
        return fields

    def sub(self, span: tuple[int, int]) -> Cursor:
        """A cursor over ``span`` (from :meth:`tagged_fields`) of the same buffer."""
        return Cursor(self.buf, span[0], span[1])

    def compact_length(self) -> int | None:
        """Length of a COMPACT_ARRAY/COMPACT_STRING; None for null."""
        n = self.uvarint()
        return None if n == 0 else n - 1

    def compact_array_length(self) -> int:
        """Items in a COMPACT_ARRAY (0 for null)."""
        return self._items(self.uvarint() - 1)

    def compact_nullable_string(self) -> str | None:
        return self._text(self.uvarint() - 1)

    def compact_string(self) -> str:
        text = self.compact_nullable_string()
        if text is None:
            raise WireFormatError(f"null string at offset {self.pos}")
        return text

    def int32_array(self) -> list[int]:
        return [self.int32() for _ in range(self.array_length())]


def decode_api_versions_response(payload: bytes, request_version: int) -> ApiVersionsResponse:
    """Decode an ApiVersions response (``payload`` = the frame without its size prefix).

    ``request_version`` is the version that was asked; when the error code is
    UNSUPPORTED_VERSION the body is decoded as v0, as brokers send it. Raises
    :class:`WireFormatError` on truncated or malformed bytes.
    """
    reader = Cursor(payload)
    correlation_id = reader.int32()  # response header v0, also for flexible versions
    error_code = reader.int16()
    version = 0 if error_code == UNSUPPORTED_VERSION else request_version
    flexible = version >= 3

    api_keys: dict[int, tuple[int, int]] = {}
    count = reader.compact_length() if flexible else reader.int32()
    for _ in range(count if count is not None and count > 0 else 0):
        key, min_version, max_version = reader.int16(), reader.int16(), reader.int16()
        if flexible:
            reader.tagged_fields()
        api_keys[key] = (min_version, max_version)

    throttle_time_ms = reader.int32() if version >= 1 else 0
    response = ApiVersionsResponse(
        correlation_id=correlation_id,
        response_version=version,
        error_code=error_code,
        api_keys=api_keys,
        throttle_time_ms=throttle_time_ms,
    )
    if flexible:
        response = _decode_tagged_body(reader, response)
    return response


def _decode_tagged_body(reader: Cursor, base: ApiVersionsResponse) -> ApiVersionsResponse:
    """Decode the body-level tagged fields of a flexible ApiVersions response."""
    tagged = reader.tagged_fields()
    supported: dict[str, tuple[int, int]] = {}
    finalized: dict[str, int] = {}
    epoch = -1
    zk_migration_ready = False
    if 0 in tagged:  # SupportedFeatures
        sub = reader.sub(tagged[0])
        for _ in range(sub.compact_length() or 0):
            name = sub.compact_string()
            min_version, max_version = sub.int16(), sub.int16()
            sub.tagged_fields()
            supported[name] = (min_version, max_version)
    if 1 in tagged:  # FinalizedFeaturesEpoch
        epoch = reader.sub(tagged[1]).int64()
    if 2 in tagged:  # FinalizedFeatures: note max before min
        sub = reader.sub(tagged[2])
        for _ in range(sub.compact_length() or 0):
            name = sub.compact_string()
            max_level, _min_level = sub.int16(), sub.int16()
            sub.tagged_fields()
            finalized[name] = max_level
    if 3 in tagged:  # ZkMigrationReady
        zk_migration_ready = reader.sub(tagged[3]).int8() != 0
    return ApiVersionsResponse(
        correlation_id=base.correlation_id,
        response_version=base.response_version,
        error_code=base.error_code,
        api_keys=base.api_keys,
        throttle_time_ms=base.throttle_time_ms,
        supported_features=supported,
        finalized_features_epoch=epoch,
        finalized_features=finalized,
        zk_migration_ready=zk_migration_ready,
    )


# --------------------------------------------------------------------------------------------
# the socket side
# --------------------------------------------------------------------------------------------


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """Split a ``bootstrap.servers`` string into ``(host, port)`` pairs, in order.

    Accepts ``host:port``, ``host`` (port 9092), ``[v6addr]:port`` and an optional
    ``LISTENER://`` prefix per entry. Raises :class:`~connshift.errors.ConfigError` when the
    string names no address or a port is not a number in 1-65535.
    """
    addresses: list[tuple[str, int]] = []
    for raw in bootstrap.split(","):
        entry = raw.strip()
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        if not entry:
            continue
        if entry.startswith("["):
            host, sep, rest = entry[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
            if not sep or (rest and not rest.startswith(":")):
                raise _bad_bootstrap(bootstrap, f"cannot read {raw.strip()!r}")
        elif entry.count(":") == 1:
            host, port_text = entry.split(":")
        else:
            host, port_text = entry, ""
        port = DEFAULT_PORT
        if port_text:
            if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
                raise _bad_bootstrap(bootstrap, f"{port_text!r} is not a port")
            port = int(port_text)
        if not host:
            raise _bad_bootstrap(bootstrap, f"{raw.strip()!r} names no host")
        addresses.append((host, port))
    if not addresses:
        raise _bad_bootstrap(bootstrap, "it names no broker")
    return addresses


def _bad_bootstrap(bootstrap: str, why: str) -> ConfigError:
    return ConfigError(
        f"invalid Kafka bootstrap address {bootstrap!r}",
        why=why,
        fix="give a comma-separated list of host:port",
        bootstrap=bootstrap,
    )


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def api_versions(
    bootstrap: str, timeout: float = 5.0, *, security: RawSecurity = PLAINTEXT
) -> ApiVersionsResult:
    """Ask the first reachable broker of ``bootstrap`` for its ApiVersions.

    Tries each ``host:port`` of the comma-separated list in order, asks ApiVersions v3 and, when
    the broker answers UNSUPPORTED_VERSION, asks again with v0. ``timeout`` bounds each
    connection attempt and each exchange, in seconds. On ``SSL``/``SASL_SSL`` listeners
    (``security``) the socket is TLS-wrapped first; SASL listeners answer ApiVersions before
    authentication, so none is done here.

    Raises :class:`~connshift.errors.KafkaError` (exit code 3) when no broker could be reached,
    the TLS handshake failed, or the one reached closed the connection, did not answer in time,
    answered with an error code or with bytes that are not an ApiVersions response;
    :class:`~connshift.errors.ConfigError` for a malformed ``bootstrap`` or TLS material that
    cannot be loaded.
    """
    addresses = parse_bootstrap(bootstrap)
    context = security.ssl_context() if security.tls else None
    failures: list[KafkaError] = []
    for host, port in addresses:
        try:
            return _ask_broker(host, port, timeout, security, context)
        except KafkaAuthError:
            raise  # another broker of the cluster would refuse us the same way
        except KafkaError as exc:
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    raise KafkaError(
        f"could not reach Kafka at any of {', '.join(_address(h, p) for h, p in addresses)}",
        why="; ".join(f"{exc.context.get('broker')}: {exc.why}" for exc in failures),
        fix=f"check that the brokers run and that bootstrap lists {security.protocol} listeners",
        bootstrap=bootstrap,
    )


def _ask_broker(
    host: str,
    port: int,
    timeout: float,
    security: RawSecurity,
    context: ssl.SSLContext | None,
) -> ApiVersionsResult:
    """ApiVersions v3, then v0 if the broker does not know v3; one fresh connection each."""
    response = _exchange(host, port, PREFERRED_VERSION, timeout, security, context)
    if response.error_code == UNSUPPORTED_VERSION:
        response = _exchange(host, port, 0, timeout, security, context)
    return _result(host, port, response)


def _result(host: str, port: int, response: ApiVersionsResponse) -> ApiVersionsResult:
    if response.error_code != 0:
        name = _ERROR_NAMES.get(response.error_code, "see Kafka's protocol error codes")
        raise KafkaError(
            f"Kafka at {_address(host, port)} refused ApiVersions",
            why=f"error code {response.error_code} ({name})",
            fix="check that this is a Kafka broker listener and that its security protocol "
            "is the one configured",
            broker=_address(host, port),
        )
    return ApiVersionsResult(
        host=host,
        port=port,
        request_version=response.response_version,
        api_keys=response.api_keys,
        finalized_features=response.finalized_features,
        supported_features=response.supported_features,
        finalized_features_epoch=response.finalized_features_epoch,
    )


def _exchange(
    host: str,
    port: int,
    version: int,
    timeout: float,
    security: RawSecurity = PLAINTEXT,
    context: ssl.SSLContext | None = None,
) -> ApiVersionsResponse:
    """Connect, send one ApiVersions request of ``version``, read and decode its answer."""
    sock = open_socket(host, port, timeout, security, context)
    with sock:
        return _ask_on(sock, _address(host, port), version, version + 1, timeout, security)


def ask_api_versions(
    sock: socket.socket,
    host: str,
    port: int,
    timeout: float,
    security: RawSecurity = PLAINTEXT,
    *,
    cluster: str | None = None,
) -> ApiVersionsResult:
    """ApiVersions on an open (TLS-wrapped where needed) connection: v3, then v0 on the same
    connection when the broker does not know v3 (brokers keep the connection open after that
    answer, as Kafka's own client relies on). The first exchange on a connection, before
    :func:`authenticate`. Raises :class:`~connshift.errors.KafkaError` like
    :func:`api_versions`."""
    where = _address(host, port)
    try:
        response = _ask_on(sock, where, PREFERRED_VERSION, 1, timeout, security, cluster)
        if response.error_code == UNSUPPORTED_VERSION:
            response = _ask_on(sock, where, 0, 2, timeout, security, cluster)
        return _result(host, port, response)
    except KafkaError as exc:
        if cluster is not None:
            exc.context.setdefault("cluster", cluster)
        raise


def _ask_on(
    sock: socket.socket,
    where: str,
    version: int,
    correlation_id: int,
    timeout: float,
    security: RawSecurity,
    cluster: str | None = None,
) -> ApiVersionsResponse:
    """Send one ApiVersions request of ``version`` on ``sock``; read and decode its answer."""
    payload = _round_trip(
        sock,
        encode_api_versions_request(version, correlation_id),
        where,
        timeout,
        security,
        what="ApiVersions",
        cluster=cluster,
    )
    try:
        response = decode_api_versions_response(payload, version)
    except WireFormatError as exc:
        raise KafkaError(
            f"Kafka at {where} sent a malformed ApiVersions response",
            why=str(exc),
            fix="check that host and port name a Kafka broker listener",
            broker=where,
        ) from exc
    if response.correlation_id != correlation_id:
        raise KafkaError(
            f"Kafka at {where} sent a malformed ApiVersions response",
            why=f"correlation id {response.correlation_id}, expected {correlation_id}",
            fix="check that host and port name a Kafka broker listener",
            broker=where,
        )
    return response


def _round_trip(
    sock: socket.socket,
    request: bytes,
    where: str,
    timeout: float,
    security: RawSecurity,
    *,
    what: str,
    cluster: str | None = None,
) -> bytes:
    """Send one size-framed request, return the answer's frame (without its size)."""
    deadline = time.monotonic() + timeout
    plain = f"a Kafka {security.protocol} listener"
    try:
        sock.settimeout(timeout)
        sock.sendall(request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4, deadline, where, what))
        if not 4 <= size <= _MAX_FRAME:
            tls_record = not security.tls and (size >> 16) in (0x1503, 0x1603)
            raise KafkaError(
                f"Kafka at {where} sent something that is not a Kafka response",
                why=f"frame size {size} is implausible for {what}"
                + (" (it is a TLS record: this is a TLS listener)" if tls_record else ""),
                fix="set security_protocol to SSL or SASL_SSL for this listener"
                if tls_record
                else f"check that host and port name {plain}",
                broker=where,
            )
        return _recv_exactly(sock, size, deadline, where, what)
    except TimeoutError as exc:
        hint = (
            "check that this is a PLAINTEXT listener (TLS listeners do not answer) "
            if not security.tls
            else f"check that this is {plain} "
        )
        raise KafkaError(
            f"Kafka at {where} did not answer {what} within {timeout:g}s",
            why="connected, but no complete answer came back",
            fix=hint + "and that the broker is not overloaded",
            broker=where,
        ) from exc
    except ssl.SSLError as exc:
        # TLS 1.3: a refused client certificate shows on the first read, not in the handshake
        raise tls_failure(where, security, exc, cluster=cluster) from None
    except OSError as exc:
        raise KafkaError(
            f"could not reach Kafka at {where}",
            why=describe_os_error(exc),
            fix="check that the broker runs and is healthy",
            broker=where,
        ) from exc


def _recv_exactly(
    sock: socket.socket, n: int, deadline: float, where: str, what: str = "ApiVersions"
) -> bytes:
    """Read exactly ``n`` bytes before ``deadline``; a closed connection is a KafkaError."""
    chunks: list[bytes] = []
    remaining = n
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            got = n - remaining
            raise KafkaError(
                f"Kafka at {where} closed the connection before answering {what}",
                why=f"short read: got {got} of {n} byte(s)",
                fix="check the broker's log, and that host and port name a listener of the "
                "configured security protocol",
                broker=where,
            )
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _describe_os_error(exc: OSError) -> str:
    return describe_os_error(exc)


# --------------------------------------------------------------------------------------------
# SASL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaslAuthenticateResponse:
    """One decoded SaslAuthenticate response."""

    correlation_id: int
    error_code: int
    error_message: str | None
    auth_bytes: bytes
    session_lifetime_ms: int = 0


def _request_header(api_key: int, version: int, correlation_id: int, *, flexible: bool) -> bytes:
    header = struct.pack(">hhi", api_key, version, correlation_id) + _classic_string(CLIENT_ID)
    return header + b"\x00" if flexible else header


def _framed(message: bytes) -> bytes:
    return struct.pack(">i", len(message)) + message


def encode_sasl_handshake_request(mechanism: str, correlation_id: int, version: int = 1) -> bytes:
    """A size-framed SaslHandshake request (v0 or v1; never flexible): the mechanism's name."""
    if version not in (0, 1):
        raise ValueError(f"SaslHandshake version {version} is not supported here (0-1)")
    header = _request_header(SASL_HANDSHAKE_KEY, version, correlation_id, flexible=False)
    return _framed(header + _classic_string(mechanism))


def decode_sasl_handshake_response(payload: bytes | memoryview) -> tuple[int, int, list[str]]:
    """``(correlation id, error code, mechanisms the broker enables)`` of a SaslHandshake
    response (``payload`` without its size; response header v0)."""
    reader = Cursor(payload)
    correlation_id = reader.int32()
    error_code = reader.int16()
    mechanisms = [reader.string() for _ in range(reader.array_length())]
    return correlation_id, error_code, mechanisms


def encode_sasl_authenticate_request(auth_bytes: bytes, correlation_id: int, version: int) -> bytes:
    """A size-framed SaslAuthenticate request carrying ``auth_bytes``: v0/v1 with request
    header v1 and BYTES, v2 (flexible) with request header v2, COMPACT_BYTES and an empty
    tagged-field section."""
    if not 0 <= version <= SASL_AUTHENTICATE_MAX_VERSION:
        raise ValueError(f"SaslAuthenticate version {version} is not supported here (0-2)")
    flexible = version >= 2
    header = _request_header(SASL_AUTHENTICATE_KEY, version, correlation_id, flexible=flexible)
    if flexible:
        body = _uvarint(len(auth_bytes) + 1) + auth_bytes + b"\x00"
    else:
        body = struct.pack(">i", len(auth_bytes)) + auth_bytes
    return _framed(header + body)


def decode_sasl_authenticate_response(
    payload: bytes | memoryview, version: int
) -> SaslAuthenticateResponse:
    """Decode a SaslAuthenticate response of ``version`` (``payload`` without its size;
    response header v1 with tagged fields for v2, v0 before)."""
    reader = Cursor(payload)
    correlation_id = reader.int32()
    flexible = version >= 2
    if flexible:
        reader.tagged_fields()
        error_code = reader.int16()
        message = reader.compact_nullable_string()
        size = reader.compact_length()
    else:
        error_code = reader.int16()
        message = reader.nullable_string()
        size = reader.int32()
    auth = b"" if size is None or size < 0 else bytes(reader.take(size))
    lifetime = reader.int64() if version >= 1 else 0
    if flexible:
        reader.tagged_fields()
    return SaslAuthenticateResponse(correlation_id, error_code, message, auth, lifetime)


def plain_token(username: str, password: str) -> bytes:
    """The one PLAIN message (RFC 4616): empty authzid, NUL, user, NUL, password."""
    return b"\x00" + username.encode("utf-8") + b"\x00" + password.encode("utf-8")


def authenticate(
    sock: socket.socket,
    host: str,
    port: int,
    security: RawSecurity,
    api_keys: dict[int, tuple[int, int]],
    *,
    timeout: float,
    cluster: str | None = None,
    first_correlation_id: int = 100,
) -> None:
    """Authenticate ``sock`` (connected, TLS-wrapped for SASL_SSL, ApiVersions asked: its
    ``api_keys``) with ``security``'s SASL mechanism. Nothing to do for a non-SASL protocol.

    Raises :class:`~connshift.errors.KafkaError` (exit 3) in one line naming the listener, the
    mechanism and the user when the broker refuses (never the password): a mechanism it does
    not enable, wrong credentials, a server signature that does not verify.
    """
    if not security.sasl:
        return
    where = _address(host, port)
    mechanism = str(security.mechanism)
    username = str(security.username)
    password = security.password.reveal() if security.password is not None else ""
    corr = first_correlation_id

    def failed(why: str, fix: str) -> KafkaAuthError:
        return KafkaAuthError(
            f"authentication failed at {f'the {cluster} ' if cluster else ''}Kafka {where} "
            f"({security.describe()})",
            why=why,
            fix=fix,
            cluster=cluster,
            broker=where,
            mechanism=mechanism,
            principal=f"User:{username}",
        )

    def trip(request: bytes, what: str) -> bytes:
        try:
            return _round_trip(sock, request, where, timeout, security, what=what, cluster=cluster)
        except KafkaError as exc:
            if cluster is not None:
                exc.context.setdefault("cluster", cluster)
            raise

    handshake = api_keys.get(SASL_HANDSHAKE_KEY)
    auth_versions = api_keys.get(SASL_AUTHENTICATE_KEY)
    if handshake is None or handshake[1] < 1 or auth_versions is None:
        raise failed(
            "the broker does not serve SaslHandshake v1 and SaslAuthenticate (Kafka < 1.0)",
            "use the record engine (--engine record) for this cluster",
        )
    version = min(auth_versions[1], SASL_AUTHENTICATE_MAX_VERSION)

    payload = trip(
        encode_sasl_handshake_request(mechanism, corr, SASL_HANDSHAKE_VERSION), "SaslHandshake"
    )
    try:
        got, error, enabled = decode_sasl_handshake_response(payload)
    except WireFormatError as exc:
        raise failed(f"malformed SaslHandshake answer: {exc}", "check the listener") from None
    if got != corr:
        raise failed(
            f"SaslHandshake answered with correlation id {got}, expected {corr}",
            "check the listener",
        )
    if error == UNSUPPORTED_SASL_MECHANISM:
        raise failed(
            f"the listener does not enable {mechanism} (it enables: "
            f"{', '.join(enabled) or 'none'})",
            "set sasl.mechanism to one the listener enables",
        )
    if error != 0:
        raise failed(f"SaslHandshake error {_ERROR_NAMES.get(error, error)}", "check the listener")

    def step(token: bytes) -> bytes:
        nonlocal corr
        corr += 1
        answer = trip(encode_sasl_authenticate_request(token, corr, version), "SaslAuthenticate")
        try:
            response = decode_sasl_authenticate_response(answer, version)
        except WireFormatError as exc:
            raise failed(
                f"malformed SaslAuthenticate answer: {exc}", "check the listener"
            ) from None
        if response.correlation_id != corr:
            raise failed(
                f"SaslAuthenticate answered with correlation id {response.correlation_id}, "
                f"expected {corr}",
                "check the listener",
            )
        if response.error_code != 0:
            name = _ERROR_NAMES.get(response.error_code, f"error {response.error_code}")
            detail = f": {response.error_message}" if response.error_message else ""
            raise failed(
                f"{name}{detail}",
                f"check sasl.username and sasl.password, and that the user exists for "
                f"{mechanism} on this cluster",
            )
        return response.auth_bytes

    if mechanism == "PLAIN":
        step(plain_token(username, password))
        return
    try:
        client = scramp.ScramClient([mechanism], username, password)
        server_first = step(client.get_client_first().encode("utf-8"))
        client.set_server_first(server_first.decode("utf-8"))
        server_final = step(client.get_client_final().encode("utf-8"))
        client.set_server_final(server_final.decode("utf-8"))
    except (scramp.ScramException, UnicodeDecodeError) as exc:
        raise failed(
            f"the SCRAM exchange failed: {exc.args[0] if exc.args else type(exc).__name__}",
            "check that the listener is the Kafka cluster you meant (the server's proof did "
            "not verify) and the SCRAM credentials",
        ) from None
