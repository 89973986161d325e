"""How connshift's own Kafka protocol clients (``io.kafka_wire``, ``io.kafka_raw``) reach a
secured listener: the security settings as one value, the TLS context, and the socket.

:class:`RawSecurity` is what those clients know of a cluster's security: the protocol
(``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT``, ``SASL_SSL``), the SASL mechanism and credentials
(``PLAIN``, ``SCRAM-SHA-256``, ``SCRAM-SHA-512``) and the TLS material (a CA file, an optional
client certificate and key, hostname verification on unless turned off). Secrets are held as
:class:`Secret`, which never shows its value in ``repr``/``str``: a RawSecurity can be logged,
and no error message built from it carries a password. Build one from the spec with
:func:`connshift.app.rawsecurity.raw_security`.

:func:`open_socket` connects, and on ``SSL``/``SASL_SSL`` completes the TLS handshake (server
name sent, chain and by default host name checked). Any TLS failure (unknown CA, expired or
not-yet-valid certificate, host name mismatch, a client certificate the broker refuses) is a
:class:`~connshift.errors.KafkaError` (exit 3) naming the listener and the TLS reason. The SASL
exchange itself is :func:`connshift.io.kafka_wire.authenticate`.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field

from connshift.errors import ConfigError, KafkaAuthError, KafkaError

__all__ = [
    "PLAINTEXT",
    "RAW_MECHANISMS",
    "RawSecurity",
    "Secret",
    "describe_os_error",
    "open_socket",
    "tls_failure",
]

RAW_MECHANISMS = frozenset({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"})
"""The SASL mechanisms connshift's own protocol clients speak."""

_PROTOCOLS = frozenset({"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"})


class Secret:
    """A secret string that shows as ``***`` in ``repr``, ``str`` and format strings;
    :meth:`reveal` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: hand it to the protocol, never to a message."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:  # never pickled with its value by accident
        raise TypeError("a Secret is not picklable")


@dataclass(frozen=True)
class RawSecurity:
    """The security settings of one Kafka cluster, as connshift's protocol clients use them.

    ``protocol`` is Kafka's ``security.protocol``; ``mechanism``, ``username`` and
    ``password`` are set for the ``SASL_*`` protocols; ``ca_file`` (None: the system's trust
    store), ``cert_file``/``key_file``/``key_password`` (a client certificate, for mTLS) and
    ``verify_hostname`` (librdkafka's ``ssl.endpoint.identification.algorithm=https``) for the
    ``*SSL`` ones.
    """

    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    key_password: Secret | None = field(default=None, repr=False)
    verify_hostname: bool = True

    def __post_init__(self) -> None:
        if self.protocol not in _PROTOCOLS:
            raise ValueError(f"unknown security protocol {self.protocol!r}")
        if self.sasl:
            if self.mechanism not in RAW_MECHANISMS:
                raise ValueError(
                    f"SASL mechanism {self.mechanism!r} is not one connshift's raw client speaks "
                    f"({', '.join(sorted(RAW_MECHANISMS))})"
                )
            if self.username is None or self.password is None:
                raise ValueError(f"{self.mechanism} needs a username and a password")
        elif self.mechanism is not None:
            raise ValueError(f"a SASL mechanism is set but the protocol is {self.protocol}")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")

    @property
    def tls(self) -> bool:
        """Whether connections are wrapped in TLS (``SSL``, ``SASL_SSL``)."""
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        """Whether connections authenticate with SASL (``SASL_PLAINTEXT``, ``SASL_SSL``)."""
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def principal(self) -> str:
        """Who connects, for messages: ``user 'name'``, the client certificate, or anonymous."""
        if self.sasl:
            return f"user {self.username!r}"
        if self.cert_file is not None:
            return f"the client certificate {self.cert_file}"
        return "no client identity"

    def describe(self) -> str:
        """``SASL_SSL, SCRAM-SHA-512, user 'connshift'`` (never a secret)."""
        parts = [self.protocol]
        if self.sasl:
            parts += [str(self.mechanism), self.principal]
        elif self.cert_file is not None:
            parts.append(self.principal)
        return ", ".join(parts)

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context: the CA file (or the system's trust store), the client
        certificate and key when set, host name checking as configured. Build it once per
        client and reuse it. Raises :class:`~connshift.errors.ConfigError` (naming the file,
        never the key password) when the material cannot be loaded."""
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the TLS CA file {self.ca_file}",
                why=_tls_reason(exc),
                fix="point tls.ca_file at a readable PEM file of CA certificates",
                file=self.ca_file,
            ) from None
        context.check_hostname = self.verify_hostname
        context.verify_mode = ssl.CERT_REQUIRED
        if self.cert_file is not None and self.key_file is not None:
            password = self.key_password.reveal() if self.key_password is not None else None
            try:
                context.load_cert_chain(self.cert_file, self.key_file, password=password)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"cannot load the TLS client certificate {self.cert_file} "
                    f"with key {self.key_file}",
                    why=_tls_reason(exc),
                    fix="check tls.cert_file, tls.key_file and tls.key_password",
                    file=self.cert_file,
                ) from None
        return context


PLAINTEXT = RawSecurity()
"""No TLS, no SASL."""


def _tls_reason(exc: BaseException) -> str:
    """The readable reason of a TLS (or file) failure, without Python's source location."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        # "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:...)"
        if "] " in text:
            text = text.split("] ", 1)[1]
        text = text.split(" (_ssl.c", 1)[0].strip()
        return text or reason.lower().replace("_", " ") or type(exc).__name__
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


def describe_os_error(exc: OSError) -> str:
    """One readable cause for a socket-level failure (TLS failures say ``TLS: ...``)."""
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {_tls_reason(exc)}"
    if isinstance(exc, TimeoutError):
        return "the connection attempt timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens on that port)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    return exc.strerror or str(exc) or type(exc).__name__


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def open_socket(
    host: str,
    port: int,
    timeout: float,
    security: RawSecurity = PLAINTEXT,
    context: ssl.SSLContext | None = None,
    *,
    cluster: str | None = None,
) -> socket.socket:
    """A connected socket to ``host:port``, TLS-wrapped (handshake done) for ``SSL`` and
    ``SASL_SSL``, with ``TCP_NODELAY`` set. ``context`` is the client's TLS context
    (:meth:`RawSecurity.ssl_context` when None).

    Raises :class:`~connshift.errors.KafkaError` when the broker cannot be reached or the TLS
    handshake fails; the message names the listener, the protocol and the TLS reason.
    """
    where = _address(host, port)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise KafkaError(
            f"could not reach Kafka at {where}",
            why=describe_os_error(exc),
            fix="check that the broker runs and that host and port name its "
            f"{security.protocol} listener",
            cluster=cluster,
            broker=where,
        ) from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not security.tls:
        return sock
    if context is None:
        context = security.ssl_context()
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except (ssl.SSLError, ssl.CertificateError) as exc:
        sock.close()
        raise tls_failure(where, security, exc, cluster=cluster) from None
    except OSError as exc:
        sock.close()
        raise KafkaError(
            f"TLS handshake with Kafka at {where} failed",
            why=describe_os_error(exc),
            fix=f"check that host and port name a {security.protocol} listener",
            cluster=cluster,
            broker=where,
        ) from None


def tls_failure(
    where: str, security: RawSecurity, exc: BaseException, *, cluster: str | None = None
) -> KafkaAuthError:
    """The one-line error for a failed TLS handshake with ``where``."""
    reason = _tls_reason(exc)
    low = reason.lower()
    if "hostname" in low or "ip address mismatch" in low:
        fix = (
            "connect by a name the broker's certificate lists, or set "
            "tls.verify_hostname: false if you accept that risk"
        )
    elif "certificate required" in low or "bad certificate" in low or "unknown ca" in low:
        fix = (
            "the broker refused the client certificate: check tls.cert_file/tls.key_file"
            if security.cert_file is not None
            else "the broker requires a client certificate (mTLS): set tls.cert_file and "
            "tls.key_file"
        )
    elif "expired" in low or "not yet valid" in low:
        fix = "renew the expired certificate"
    elif "verify failed" in low:
        fix = "point tls.ca_file at the CA that signed the broker's certificate"
    elif "eof" in low and security.cert_file is None:
        fix = (
            "the broker closed the TLS session: it may require a client certificate (mTLS); "
            "set tls.cert_file and tls.key_file"
        )
    elif "wrong version number" in low or "record layer" in low:
        fix = f"check that host and port name a {security.protocol} listener (this one is not TLS)"
    else:
        fix = "check the TLS settings (tls.ca_file, tls.cert_file) against the broker's"
    return KafkaAuthError(
        f"TLS handshake with {f'the {cluster} ' if cluster else ''}Kafka at {where} failed "
        f"({security.describe()})",
        why=reason,
        fix=fix,
        cluster=cluster,
        broker=where,
    )
