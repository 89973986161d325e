"""The spec's Kafka security settings as connshift's own protocol clients use them.

:func:`raw_security` maps a :class:`~connshift.core.spec.KafkaSpec` to the io-level
:class:`~connshift.io.kafka_security.RawSecurity` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL;
SASL PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; the CA file, client certificate and key, host name
verification); :func:`raw_unsupported` says, in one line, why a cluster is out of the raw
client's reach (a SASL mechanism it does not speak, or librdkafka ``client_config`` settings
that change how to connect), or None. Every user of the raw client (sync's raw engine,
inventory's disk sizes, probe's raw checks, baseline) decides with these two.
"""

from __future__ import annotations

import re

from connshift.core.spec.models import KafkaSpec
from connshift.errors import UsageError
from connshift.io.kafka_security import RAW_MECHANISMS, RawSecurity, Secret

__all__ = ["raw_security", "raw_unsupported"]

# librdkafka settings that change how a connection is made or authenticated: the raw client
# cannot honour them, so a cluster that sets any stays with librdkafka. Other settings
# (client.id, linger.ms, fetch sizes, statistics, ...) tune librdkafka's own clients only.
_CONNECTION_KEY = re.compile(
    r"(ssl|sasl|security|socket|socks5|broker\.address|client\.dns|enable\.ssl|enable\.sasl"
    r"|https|resolve|proxy)[._]",
    re.IGNORECASE,
)


def raw_unsupported(kafka: KafkaSpec) -> str | None:
    """Why connshift's raw client cannot reach this cluster as the spec configures it (one
    line, naming the mechanism or the settings), or None when it can."""
    sasl = kafka.sasl
    if sasl is not None and sasl.mechanism not in RAW_MECHANISMS:
        return (
            f"SASL mechanism {sasl.mechanism} is spoken by librdkafka only "
            f"(the raw client speaks {', '.join(sorted(RAW_MECHANISMS))})"
        )
    keys = sorted(k for k in kafka.extra_config if _CONNECTION_KEY.match(k))
    if keys:
        return (
            f"client_config sets {', '.join(keys)}, which only librdkafka honours "
            "(the raw client reads security_protocol, sasl and tls)"
        )
    return None


def raw_security(kafka: KafkaSpec) -> RawSecurity:
    """The raw client's security settings for this cluster. Raises
    :class:`~connshift.errors.UsageError` (naming the mechanism or settings) when
    :func:`raw_unsupported` says it cannot reach it."""
    reason = raw_unsupported(kafka)
    if reason is not None:
        raise UsageError(
            "connshift's raw Kafka client cannot reach this cluster",
            why=reason,
            fix="use the record engine (--engine record or auto)",
        )
    sasl, tls = kafka.sasl, kafka.tls
    return RawSecurity(
        protocol=kafka.security_protocol,
        mechanism=sasl.mechanism if sasl is not None else None,
        username=sasl.username if sasl is not None else None,
        password=(
            Secret(sasl.password.get_secret_value())
            if sasl is not None and sasl.password is not None
            else None
        ),
        ca_file=tls.ca_file if tls is not None else None,
        cert_file=tls.cert_file if tls is not None else None,
        key_file=tls.key_file if tls is not None else None,
        key_password=(
            Secret(tls.key_password.get_secret_value())
            if tls is not None and tls.key_password is not None
            else None
        ),
        verify_hostname=tls.verify_hostname if tls is not None else True,
    )
