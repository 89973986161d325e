"""The raw client over TLS and SASL, with no broker: SASL frames by hand, a fake broker on
127.0.0.1 that speaks ApiVersions, SaslHandshake and SaslAuthenticate (PLAIN, and SCRAM with
``scramp``'s own server) before anything else, TLS with a throwaway CA made here with
``cryptography``, the spec -> RawSecurity mapping, and no secret in any message or repr.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import scramp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connshift.app.config import parse_spec_text
from connshift.app.rawsecurity import raw_security, raw_unsupported
from connshift.errors import ConfigError, ExitCode, KafkaAuthError, KafkaError, UsageError
from connshift.io.kafka_raw import RawClient
from connshift.io.kafka_security import PLAINTEXT, RawSecurity, Secret
from connshift.io.kafka_wire import (
    SaslAuthenticateResponse,
    WireFormatError,
    api_versions,
    decode_sasl_authenticate_response,
    decode_sasl_handshake_response,
    encode_sasl_authenticate_request,
    encode_sasl_handshake_request,
    plain_token,
)
from tests.unit.test_kafka_raw import BATCH, FULL, api_versions_body, single_node

PASSWORD = "pw-Zq7!planted-secret"
KEY_PASSWORD = "kp-Xr9!planted-key-secret"

# --------------------------------------------------------------------------------------------
# SASL frames by hand (Apache Kafka's SaslHandshake*.json, SaslAuthenticate*.json)
# --------------------------------------------------------------------------------------------


def test_sasl_handshake_request_bytes() -> None:
    got = encode_sasl_handshake_request("SCRAM-SHA-512", 7)
    # size, key 17, v1, correlation 7, client id "connshift" (int16 length), mechanism
    body = struct.pack(">hhih", 17, 1, 7, 9) + b"connshift" + struct.pack(">h", 13)
    body += b"SCRAM-SHA-512"
    assert got == struct.pack(">i", len(body)) + body
    with pytest.raises(ValueError):
        encode_sasl_handshake_request("PLAIN", 1, version=2)


def test_sasl_handshake_response_decodes() -> None:
    payload = struct.pack(">ihi", 7, 33, 2) + b"\x00\x05PLAIN" + b"\x00\x0dSCRAM-SHA-256"
    assert decode_sasl_handshake_response(payload) == (7, 33, ["PLAIN", "SCRAM-SHA-256"])
    with pytest.raises(WireFormatError):
        decode_sasl_handshake_response(payload[:-3])


def test_sasl_authenticate_request_bytes_per_version() -> None:
    token = b"n,,n=u,r=abc"
    head = b"connshift"
    v2 = encode_sasl_authenticate_request(token, 3, 2)
    # header v2 (tagged fields), COMPACT_BYTES (length + 1), empty tagged fields
    body = struct.pack(">hhih", 36, 2, 3, 9) + head + b"\x00" + bytes([len(token) + 1]) + token
    assert v2 == struct.pack(">i", len(body) + 1) + body + b"\x00"
    for version in (0, 1):
        got = encode_sasl_authenticate_request(token, 3, version)
        body = struct.pack(">hhih", 36, version, 3, 9) + head + struct.pack(">i", len(token))
        assert got == struct.pack(">i", len(body) + len(token)) + body + token
    with pytest.raises(ValueError):
        encode_sasl_authenticate_request(token, 3, 3)


def uvarint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def read_uvarint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def auth_response(
    version: int, corr: int, error: int, message: str | None, auth: bytes, lifetime: int = 0
) -> bytes:
    """A SaslAuthenticate answer (without its size), encoded independently of the module."""
    if version >= 2:
        out = struct.pack(">i", corr) + b"\x00" + struct.pack(">h", error)
        if message is None:
            out += b"\x00"
        else:
            raw = message.encode()
            out += uvarint(len(raw) + 1) + raw
        out += uvarint(len(auth) + 1) + auth + struct.pack(">q", lifetime) + b"\x00"
        return out
    out = struct.pack(">ih", corr, error)
    if message is None:
        out += struct.pack(">h", -1)
    else:
        out += struct.pack(">h", len(message)) + message.encode()
    out += struct.pack(">i", len(auth)) + auth
    if version >= 1:
        out += struct.pack(">q", lifetime)
    return out


@pytest.mark.parametrize("version", [0, 1, 2])
def test_sasl_authenticate_response_decodes(version: int) -> None:
    ok = auth_response(version, 5, 0, None, b"v=sig", 3600_000)
    got = decode_sasl_authenticate_response(ok, version)
    lifetime = 3600_000 if version >= 1 else 0
    assert got == SaslAuthenticateResponse(5, 0, None, b"v=sig", lifetime)
    bad = auth_response(version, 6, 58, "Authentication failed", b"")
    got = decode_sasl_authenticate_response(bad, version)
    assert (got.error_code, got.error_message, got.auth_bytes) == (58, "Authentication failed", b"")
    with pytest.raises(WireFormatError):
        decode_sasl_authenticate_response(ok[:-4], version)


def test_plain_token() -> None:
    assert plain_token("alice", "pässword") == b"\x00alice\x00p\xc3\xa4ssword"


# --------------------------------------------------------------------------------------------
# a throwaway CA
# --------------------------------------------------------------------------------------------


@dataclass
class Pki:
    ca: Path
    other_ca: Path
    server: tuple[Path, Path]
    expired_server: tuple[Path, Path]
    client: tuple[Path, Path]
    client_encrypted_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
    cn: str,
    *,
    server: bool,
    expired: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert, ca_key = ca
    key = _key()
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=10), now - dt.timedelta(days=1))
        if expired
        else (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    )
    usage = (
        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
        if server
        else (x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:  # the broker is reached as 127.0.0.1; "localhost" is deliberately not listed
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("broker.test")]
            ),
            critical=False,
        )
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(
    folder: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = _ca("connshift test CA")
    other = _ca("some other CA")
    ca_path, _ = _write(folder, "ca", *ca)
    other_path, _ = _write(folder, "other-ca", *other)
    server = _write(folder, "broker", *_leaf(ca, "broker", server=True))
    expired = _write(folder, "expired", *_leaf(ca, "broker", server=True, expired=True))
    client_cert, client_key = _leaf(ca, "connshift", server=False)
    client = _write(folder, "connshift", client_cert, client_key)
    encrypted = folder / "connshift-encrypted.key"
    encrypted.write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return Pki(ca_path, other_path, server, expired, client, encrypted)


def server_context(cert: tuple[Path, Path], *, client_ca: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    if client_ca is not None:  # mTLS: a client certificate signed by this CA is required
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(client_ca))
    return context


# --------------------------------------------------------------------------------------------
# a fake secured broker
# --------------------------------------------------------------------------------------------

Handler = Callable[[int, int, bytes], bytes | None]


def _read(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        try:
            chunk = conn.recv(n - len(out))
        except OSError:
            return b""
        if not chunk:
            return b""
        out += chunk
    return out


def _lookup(users: dict[str, str], mechanism: str) -> Callable[[str], Any]:
    """scramp's auth_fn: the stored SCRAM credentials of a user (None: unknown)."""

    def lookup(user: str) -> tuple[Any, ...] | None:
        if user not in users:
            return None
        return tuple(scramp.ScramMechanism(mechanism).make_auth_info(users[user]))

    return lookup


@dataclass
class SecureBroker:
    """Answers ApiVersions, then insists on SaslHandshake + SaslAuthenticate (when ``users``
    is set) before any other request, which goes to ``handler``. A request before
    authentication closes the connection, as a Kafka broker does."""

    handler: Handler
    users: dict[str, str] | None = None  # user -> password; None: no SASL on this listener
    mechanisms: tuple[str, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
    tls: ssl.SSLContext | None = None
    auth_max_version: int = 2
    forge_server_final: bool = False
    connections: int = 0
    authenticated: int = 0
    unauthenticated_requests: int = 0
    handshake_errors: list[str] = field(default_factory=list)
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

    def _serve(self, raw: socket.socket) -> None:
        conn = raw
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.handshake_errors.append(str(exc))
                raw.close()
                return
        self.connections += 1
        with conn:
            self._session(conn)

    def _send(self, conn: socket.socket, payload: bytes) -> bool:
        try:
            conn.sendall(struct.pack(">i", len(payload)) + payload)
        except OSError:
            return False
        return True

    def _session(self, conn: socket.socket) -> None:
        authed = self.users is None
        mechanism: str | None = None
        scram: Any = None
        scram_step = 0
        while True:
            head = _read(conn, 4)
            if not head:
                return
            frame = _read(conn, struct.unpack(">i", head)[0])
            key, version, corr, n = struct.unpack_from(">hhih", frame)
            pos = 10 + n
            if key == 18:
                keys = {**FULL, 17: (0, 1), 36: (0, self.auth_max_version)}
                if not self._send(conn, struct.pack(">i", corr) + api_versions_body(keys)):
                    return
                continue
            if key == 17 and self.users is not None:
                (size,) = struct.unpack_from(">h", frame, pos)
                mechanism = frame[pos + 2 : pos + 2 + size].decode()
                error = 0 if mechanism in self.mechanisms else 33
                body = struct.pack(">ihi", corr, error, len(self.mechanisms))
                body += b"".join(struct.pack(">h", len(m)) + m.encode() for m in self.mechanisms)
                if not self._send(conn, body) or error:
                    return
                if mechanism.startswith("SCRAM"):
                    scram = scramp.ScramMechanism(mechanism).make_server(
                        _lookup(self.users, mechanism)
                    )
                continue
            if key == 36 and mechanism is not None:
                flexible = version >= 2
                if flexible:
                    length, start = read_uvarint(frame, pos + 1)  # after header tags
                    token = frame[start : start + length - 1]
                else:
                    (size,) = struct.unpack_from(">i", frame, pos)
                    token = frame[pos + 4 : pos + 4 + size]
                error, message, answer = self._auth_step(mechanism, scram, scram_step, token)
                scram_step += 1
                if error == 0 and (mechanism == "PLAIN" or scram_step == 2):
                    authed = True
                    self.authenticated += 1
                payload = auth_response(version, corr, error, message, answer, 3600_000)
                if not self._send(conn, payload) or error:
                    return
                continue
            if not authed:
                self.unauthenticated_requests += 1
                return  # a request before authentication: the connection is dropped
            flexible = key == 22 and version >= 2
            body = frame[pos + (1 if flexible else 0) :]
            self.requests.append((key, version, body))
            answer = self.handler(key, version, body)
            if answer is None:
                return
            prefix = b"\x00" if flexible else b""
            if not self._send(conn, struct.pack(">i", corr) + prefix + answer):
                return

    def _auth_step(
        self, mechanism: str, scram: Any, step: int, token: bytes
    ) -> tuple[int, str | None, bytes]:
        assert self.users is not None
        if mechanism == "PLAIN":
            _authz, user, password = token.decode().split("\x00")
            if self.users.get(user) == password:
                return 0, None, b""
            return 58, "Authentication failed: Invalid username or password", b""
        try:
            if step == 0:
                scram.set_client_first(token.decode())
                return 0, None, scram.get_server_first().encode()
            scram.set_client_final(token.decode())
            final = scram.get_server_final()
            if self.forge_server_final:
                final = "v=" + "QUJD" * 11
            return 0, None, final.encode()
        except scramp.ScramException:
            return (
                58,
                "Authentication failed during authentication due to invalid credentials "
                f"with SASL mechanism {mechanism}",
                b"",
            )

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def secure_brokers() -> Iterator[Callable[..., SecureBroker]]:
    made: list[SecureBroker] = []

    def start(**kw: Any) -> SecureBroker:
        box: list[SecureBroker] = []
        broker = SecureBroker(single_node(lambda: box[0].port), **kw)
        box.append(broker)
        made.append(broker)
        return broker

    yield start
    for broker in made:
        broker.close()


def sasl(protocol: str, mechanism: str, password: str = PASSWORD, **tls: Any) -> RawSecurity:
    return RawSecurity(
        protocol=protocol,
        mechanism=mechanism,
        username="connshift",
        password=Secret(password),
        **tls,
    )


def round_trip(client: RawClient) -> None:
    """Metadata (control connection), fetch and produce (the leader's connection), and an
    idempotent producer id: every kind of connection the copy opens."""
    assert client.partitions("t") == [0, 1]
    (result,) = client.fetch("t", {0: 0}).values()
    assert result.high_watermark == 1
    assert client.produce("t", {0: BATCH})[0].base_offset == 100
    assert client.init_producer_id() == (4321, 2)


def assert_no_secret(*texts: object) -> None:
    for text in texts:
        shown = str(text)
        assert PASSWORD not in shown and KEY_PASSWORD not in shown, shown


# --------------------------------------------------------------------------------------------
# SASL against the fake broker
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
@pytest.mark.parametrize("auth_version", [1, 2])
def test_every_connection_authenticates(
    secure_brokers: Callable[..., SecureBroker], mechanism: str, auth_version: int
) -> None:
    broker = secure_brokers(users={"connshift": PASSWORD}, auth_max_version=auth_version)
    security = sasl("SASL_PLAINTEXT", mechanism)
    with RawClient(f"127.0.0.1:{broker.port}", name="source", security=security) as client:
        round_trip(client)
    # the control connection (metadata, producer id) and the leader's (fetch, produce)
    assert broker.connections >= 2
    assert broker.authenticated == broker.connections
    assert broker.unauthenticated_requests == 0
    assert {k for k, _v, _b in broker.requests} == {0, 1, 3, 22}


def test_a_reconnect_authenticates_again(secure_brokers: Callable[..., SecureBroker]) -> None:
    broker = secure_brokers(users={"connshift": PASSWORD})
    security = sasl("SASL_PLAINTEXT", "SCRAM-SHA-512")
    with RawClient(f"127.0.0.1:{broker.port}", security=security) as client:
        round_trip(client)
        before = broker.authenticated
        client.close()
        round_trip(client)
    assert broker.authenticated > before
    assert broker.authenticated == broker.connections


def test_without_sasl_the_secured_broker_drops_the_client(
    secure_brokers: Callable[..., SecureBroker],
) -> None:
    """The fake is strict: a client that does not authenticate gets nowhere."""
    broker = secure_brokers(users={"connshift": PASSWORD})
    with pytest.raises(KafkaError), RawClient(f"127.0.0.1:{broker.port}", timeout=3) as client:
        client.partitions("t")
    assert broker.unauthenticated_requests >= 1


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_wrong_password_is_one_line_exit_3_without_the_password(
    secure_brokers: Callable[..., SecureBroker], mechanism: str
) -> None:
    broker = secure_brokers(users={"connshift": "the-right-one"})
    security = sasl("SASL_PLAINTEXT", mechanism)
    with (
        pytest.raises(KafkaAuthError) as info,
        RawClient(f"127.0.0.1:{broker.port}", name="destination", security=security) as client,
    ):
        client.partitions("t")
    err = info.value
    line = err.one_line()
    assert err.exit_code == ExitCode.UNREACHABLE
    assert "\n" not in line
    assert f"127.0.0.1:{broker.port}" in line and mechanism in line and "'connshift'" in line
    assert "SASL_AUTHENTICATION_FAILED" in line
    assert err.context["cluster"] == "destination"
    assert err.context["principal"] == "User:connshift"
    assert_no_secret(line, err.as_dict(), repr(err), repr(security), security)


def test_auth_failure_is_not_retried_on_other_bootstrap_brokers(
    secure_brokers: Callable[..., SecureBroker],
) -> None:
    one = secure_brokers(users={"connshift": "other"})
    two = secure_brokers(users={"connshift": "other"})
    security = sasl("SASL_PLAINTEXT", "PLAIN")
    bootstrap = f"127.0.0.1:{one.port},127.0.0.1:{two.port}"
    with pytest.raises(KafkaAuthError), RawClient(bootstrap, security=security) as client:
        client.partitions("t")
    assert two.connections == 0


def test_unknown_mechanism_names_the_enabled_ones(
    secure_brokers: Callable[..., SecureBroker],
) -> None:
    broker = secure_brokers(users={"connshift": PASSWORD}, mechanisms=("SCRAM-SHA-512",))
    security = sasl("SASL_PLAINTEXT", "SCRAM-SHA-256")
    with (
        pytest.raises(KafkaAuthError) as info,
        RawClient(f"127.0.0.1:{broker.port}", security=security) as client,
    ):
        client.partitions("t")
    line = info.value.one_line()
    assert "does not enable SCRAM-SHA-256" in line and "SCRAM-SHA-512" in line


def test_a_forged_scram_server_signature_is_refused(
    secure_brokers: Callable[..., SecureBroker],
) -> None:
    broker = secure_brokers(users={"connshift": PASSWORD}, forge_server_final=True)
    security = sasl("SASL_PLAINTEXT", "SCRAM-SHA-256")
    with (
        pytest.raises(KafkaAuthError) as info,
        RawClient(f"127.0.0.1:{broker.port}", security=security) as client,
    ):
        client.partitions("t")
    assert "SCRAM exchange failed" in info.value.one_line()
    assert_no_secret(info.value.one_line())


# --------------------------------------------------------------------------------------------
# TLS against the fake broker
# --------------------------------------------------------------------------------------------


def test_ssl_with_the_ca(pki: Pki, secure_brokers: Callable[..., SecureBroker]) -> None:
    broker = secure_brokers(tls=server_context(pki.server))
    security = RawSecurity(protocol="SSL", ca_file=str(pki.ca))
    with RawClient(f"127.0.0.1:{broker.port}", security=security) as client:
        round_trip(client)
    assert broker.connections >= 2 and not broker.handshake_errors
    result = api_versions(f"127.0.0.1:{broker.port}", security=security)
    assert result.max_version(36) == 2


def test_sasl_ssl_scram(pki: Pki, secure_brokers: Callable[..., SecureBroker]) -> None:
    broker = secure_brokers(tls=server_context(pki.server), users={"connshift": PASSWORD})
    security = sasl("SASL_SSL", "SCRAM-SHA-512", ca_file=str(pki.ca))
    with RawClient(f"127.0.0.1:{broker.port}", security=security) as client:
        round_trip(client)
    assert broker.authenticated == broker.connections >= 2


def _tls_error(bootstrap: str, security: RawSecurity) -> KafkaAuthError:
    with (
        pytest.raises(KafkaAuthError) as info,
        RawClient(bootstrap, name="source", security=security, timeout=5) as client,
    ):
        client.partitions("t")
    err = info.value
    assert err.exit_code == ExitCode.UNREACHABLE and "\n" not in err.one_line()
    assert "TLS handshake" in err.one_line() and err.context["cluster"] == "source"
    return err


def test_unknown_ca_is_refused(pki: Pki, secure_brokers: Callable[..., SecureBroker]) -> None:
    broker = secure_brokers(tls=server_context(pki.server))
    err = _tls_error(
        f"127.0.0.1:{broker.port}", RawSecurity(protocol="SSL", ca_file=str(pki.other_ca))
    )
    assert "certificate verify failed" in err.one_line()
    assert "tls.ca_file" in err.one_line()


def test_expired_broker_certificate_is_refused(
    pki: Pki, secure_brokers: Callable[..., SecureBroker]
) -> None:
    broker = secure_brokers(tls=server_context(pki.expired_server))
    err = _tls_error(f"127.0.0.1:{broker.port}", RawSecurity(protocol="SSL", ca_file=str(pki.ca)))
    assert "expired" in err.one_line()


def test_hostname_is_verified_unless_turned_off(
    pki: Pki, secure_brokers: Callable[..., SecureBroker]
) -> None:
    broker = secure_brokers(tls=server_context(pki.server))
    # the certificate lists 127.0.0.1 and broker.test, not localhost
    err = _tls_error(f"localhost:{broker.port}", RawSecurity(protocol="SSL", ca_file=str(pki.ca)))
    assert "Hostname mismatch" in err.one_line() or "hostname" in err.one_line().lower()
    assert "verify_hostname" in err.one_line()
    relaxed = RawSecurity(protocol="SSL", ca_file=str(pki.ca), verify_hostname=False)
    with RawClient(f"localhost:{broker.port}", security=relaxed) as client:
        assert client.partitions("t") == [0, 1]


def test_mtls_needs_the_client_certificate(
    pki: Pki, secure_brokers: Callable[..., SecureBroker]
) -> None:
    broker = secure_brokers(tls=server_context(pki.server, client_ca=pki.ca))
    bootstrap = f"127.0.0.1:{broker.port}"
    err = _tls_error(bootstrap, RawSecurity(protocol="SSL", ca_file=str(pki.ca)))
    assert "client certificate" in err.one_line()
    cert, key = pki.client
    mtls = RawSecurity(protocol="SSL", ca_file=str(pki.ca), cert_file=str(cert), key_file=str(key))
    with RawClient(bootstrap, security=mtls) as client:
        round_trip(client)
    encrypted = RawSecurity(
        protocol="SSL",
        ca_file=str(pki.ca),
        cert_file=str(cert),
        key_file=str(pki.client_encrypted_key),
        key_password=Secret(KEY_PASSWORD),
    )
    with RawClient(bootstrap, security=encrypted) as client:
        assert client.partitions("t") == [0, 1]
    assert_no_secret(repr(encrypted), encrypted.describe())


def test_bad_tls_material_is_a_config_error_without_the_key_password(pki: Pki) -> None:
    cert, _key_path = pki.client
    wrong = RawSecurity(
        protocol="SSL",
        cert_file=str(cert),
        key_file=str(pki.client_encrypted_key),
        key_password=Secret("not-" + KEY_PASSWORD),
    )
    with pytest.raises(ConfigError) as info:
        wrong.ssl_context()
    assert str(cert) in info.value.one_line()
    assert_no_secret(info.value.one_line(), info.value.as_dict())
    with pytest.raises(ConfigError) as missing:
        RawSecurity(protocol="SSL", ca_file="/nonexistent/ca.pem").ssl_context()
    assert "/nonexistent/ca.pem" in missing.value.one_line()


def test_plaintext_client_on_a_tls_listener_times_out_cleanly(
    pki: Pki, secure_brokers: Callable[..., SecureBroker]
) -> None:
    broker = secure_brokers(tls=server_context(pki.server))
    with pytest.raises(KafkaError), RawClient(f"127.0.0.1:{broker.port}", timeout=1) as client:
        client.partitions("t")


# --------------------------------------------------------------------------------------------
# the spec -> RawSecurity mapping, and secrets
# --------------------------------------------------------------------------------------------

SPEC = f"""version: 1
source:
  kafka:
    bootstrap_servers: '127.0.0.1:19094'
    security_protocol: SASL_SSL
    sasl: {{mechanism: SCRAM-SHA-512, username: connshift, password: '{PASSWORD}'}}
    tls: {{ca_file: tls/ca.pem}}
destination:
  kafka:
    bootstrap_servers: '127.0.0.1:29095'
    security_protocol: SSL
    tls:
      ca_file: /abs/ca.pem
      cert_file: /abs/connshift.pem
      key_file: /abs/connshift.key
      key_password: '{KEY_PASSWORD}'
      verify_hostname: false
"""


def test_raw_security_from_the_spec() -> None:
    spec = parse_spec_text(SPEC)
    src = raw_security(spec.source.kafka)
    assert (src.protocol, src.mechanism, src.username) == ("SASL_SSL", "SCRAM-SHA-512", "connshift")
    assert src.password is not None and src.password.reveal() == PASSWORD
    assert src.ca_file is not None and src.ca_file.endswith("ca.pem")
    assert src.tls and src.sasl and src.verify_hostname
    dst = raw_security(spec.destination.kafka)
    assert (dst.protocol, dst.mechanism, dst.cert_file) == ("SSL", None, "/abs/connshift.pem")
    assert dst.key_password is not None and dst.key_password.reveal() == KEY_PASSWORD
    assert not dst.verify_hostname and dst.tls and not dst.sasl
    assert dst.describe() == "SSL, the client certificate /abs/connshift.pem"
    assert src.describe() == "SASL_SSL, SCRAM-SHA-512, user 'connshift'"
    assert raw_security(parse_spec_text(SPEC.replace("SASL_SSL", "PLAINTEXT", 0)).source.kafka)
    for shown in (repr(src), str(src), f"{src}", repr(dst), f"{dst.key_password}", src.password):
        assert_no_secret(shown)
    assert repr(src.password) == "Secret('***')" and f"{src.password}" == "***"


def test_plaintext_maps_to_plaintext() -> None:
    spec = parse_spec_text(
        "version: 1\nsource: {kafka: {bootstrap_servers: 'a:1'}}\n"
        "destination: {kafka: {bootstrap_servers: 'b:1'}}\n"
    )
    assert raw_security(spec.source.kafka) == PLAINTEXT


def test_unsupported_mechanisms_and_settings_are_named() -> None:
    oauth = parse_spec_text(
        "version: 1\n"
        "source: {kafka: {bootstrap_servers: 'a:1', security_protocol: SASL_SSL,"
        " sasl: {mechanism: OAUTHBEARER}}}\n"
        "destination: {kafka: {bootstrap_servers: 'b:1',"
        " client_config: {sasl.kerberos.service.name: kafka, client.id: x}}}\n"
    )
    reason = raw_unsupported(oauth.source.kafka)
    assert reason is not None and "OAUTHBEARER" in reason
    reason = raw_unsupported(oauth.destination.kafka)
    assert (
        reason is not None and "sasl.kerberos.service.name" in reason and "client.id" not in reason
    )
    with pytest.raises(UsageError) as info:
        raw_security(oauth.source.kafka)
    assert "OAUTHBEARER" in info.value.one_line() and info.value.exit_code == ExitCode.USAGE


def test_raw_security_refuses_inconsistent_settings() -> None:
    with pytest.raises(ValueError, match="OAUTHBEARER"):
        RawSecurity(
            protocol="SASL_SSL", mechanism="OAUTHBEARER", username="u", password=Secret("p")
        )
    with pytest.raises(ValueError, match="username"):
        RawSecurity(protocol="SASL_PLAINTEXT", mechanism="PLAIN")
    with pytest.raises(ValueError, match="protocol"):
        RawSecurity(protocol="SSL", mechanism="PLAIN", username="u", password=Secret("p"))
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(Secret("p"))
