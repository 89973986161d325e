"""The sandbox's secured side: a local CA, SCRAM passwords, and the ACLs of its principals.

Everything lives under the sandbox home and is made once (idempotent):

- ``tls/``: ``ca.pem`` (+ ``ca.key``), one certificate per broker (``<broker>.pem``,
  ``<broker>.key`` and ``<broker>.keystore.pem``, the key and chain in the one file a
  Kafka PEM keystore reads) and the client ``connshift.pem`` + ``connshift.key``
  (CN=connshift, for the destination's mTLS listener);
- ``secrets/``: one random password per SCRAM user (``admin.password``,
  ``connshift.password``, ``connect.password``) and ``shop-db.properties``, which the
  Connect workers' FileConfigProvider reads the Debezium connector's database password
  from. Every file there is mode 0600; nothing here prints a secret.

The ACL sets and the Java client properties are plain functions of names and paths (no
I/O), so they are unit-tested.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from connshift.core.acls import Acl

#: The SCRAM users on both clusters: ``admin`` is a super user, the others get ACLs.
SCRAM_USERS: tuple[str, ...] = ("admin", "connshift", "connect")
CLIENT_CN = "connshift"
#: ``ssl.principal.mapping.rules``: a certificate's DN ``CN=name,...`` is ``User:name``
PRINCIPAL_MAPPING_RULES = "RULE:^CN=([^,]+).*$/$1/,DEFAULT"
CA_CN = "connshift sandbox CA"
#: the Connect workers' config provider (alias ``file``) and the properties file it reads
CONFIG_PROVIDER = "file"
CONFIG_PROVIDER_CLASS = "org.apache.kafka.common.config.provider.FileConfigProvider"
DB_SECRETS_FILE = "shop-db.properties"
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
#: the seeded estate's topic prefixes (what the sandbox's connectors write and connshift
#: copies)
ESTATE_TOPIC_PREFIXES: tuple[str, ...] = ("app.", "shop.", "files.")
OFFSET_MAP_TOPIC = "connshift.offset-maps"
CLUSTER = "kafka-cluster"

_VALID_DAYS = 3650


@dataclass(frozen=True)
class SecurityFiles:
    """Where the sandbox's TLS material and secrets live (paths only; :func:`ensure`
    creates them)."""

    home: Path

    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def ca_file(self) -> Path:
        return self.tls_dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.tls_dir / "ca.key"

    def cert(self, name: str) -> Path:
        return self.tls_dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.tls_dir / f"{name}.key"

    def keystore(self, name: str) -> Path:
        """A broker's PEM keystore: its private key, then its certificate and the CA."""
        return self.tls_dir / f"{name}.keystore.pem"

    @property
    def client_cert(self) -> Path:
        return self.cert(CLIENT_CN)

    @property
    def client_key(self) -> Path:
        return self.key(CLIENT_CN)

    def password_file(self, user: str) -> Path:
        return self.secrets_dir / f"{user}.password"

    def password(self, user: str) -> str:
        return self.password_file(user).read_text().strip()

    @property
    def db_secrets(self) -> Path:
        return self.secrets_dir / DB_SECRETS_FILE

    def db_password_reference(self) -> str:
        """The connector value that the workers' FileConfigProvider resolves."""
        return f"${{{CONFIG_PROVIDER}:{self.db_secrets}:password}}"


# --------------------------------------------------------------------------- files


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def new_password() -> str:
    """A random password (URL-safe text, 32 characters, no quote or backslash)."""
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------------- certificates


def _key_pem(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    # PKCS#8, unencrypted: what Kafka's PEM keystore, librdkafka and Python's ssl all read
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(*, cn: str = CA_CN, days: int = _VALID_DAYS) -> tuple[bytes, bytes]:
    """A self-signed CA: ``(certificate PEM, private key PEM)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def issue(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    cn: str,
    *,
    hosts: tuple[str, ...] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A leaf certificate signed by the CA: ``(certificate PEM, private key PEM)``.

    ``hosts`` become subject alternative names (IP addresses as IP entries), for a
    server; a leaf is good for both server and client authentication. ``not_before`` /
    ``not_after`` default to now-5min / now+10y (tests pass an expired window).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def ensure(home: Path, brokers: tuple[str, ...], *, db_password: str) -> SecurityFiles:
    """Create what is missing under ``home``: the CA, a certificate per broker in
    ``brokers``, the client certificate, a password per SCRAM user and the database
    secrets file. What exists is kept (a new CA re-issues every certificate)."""
    files = SecurityFiles(home)
    files.tls_dir.mkdir(parents=True, exist_ok=True)
    files.tls_dir.chmod(0o755)
    files.secrets_dir.mkdir(parents=True, exist_ok=True)
    files.secrets_dir.chmod(0o700)
    fresh_ca = not (files.ca_file.is_file() and files.ca_key.is_file())
    if fresh_ca:
        cert, key = make_ca()
        _write_private(files.ca_key, key)
        _write_public(files.ca_file, cert)
    ca_cert, ca_key = files.ca_file.read_bytes(), files.ca_key.read_bytes()
    for name in brokers:
        if fresh_ca or not files.keystore(name).is_file():
            cert, key = issue(ca_cert, ca_key, name, hosts=("127.0.0.1", "localhost"))
            _write_private(files.key(name), key)
            _write_public(files.cert(name), cert + ca_cert)
            _write_private(files.keystore(name), key + cert + ca_cert)
    if fresh_ca or not (files.client_cert.is_file() and files.client_key.is_file()):
        cert, key = issue(ca_cert, ca_key, CLIENT_CN)
        _write_private(files.client_key, key)
        _write_public(files.client_cert, cert)
    for user in SCRAM_USERS:
        path = files.password_file(user)
        if not path.is_file() or not path.read_text().strip():
            _write_private(path, (new_password() + "\n").encode())
        path.chmod(0o600)
    want = f"password={db_password}\n"
    if not files.db_secrets.is_file() or files.db_secrets.read_text() != want:
        _write_private(files.db_secrets, want.encode())
    return files


# --------------------------------------------------------------------------- properties


def jaas_config(user: str, password: str) -> str:
    """A client's ``sasl.jaas.config`` for SCRAM (``password`` must hold no ``"``)."""
    return f'{SCRAM_LOGIN_MODULE} required username="{user}" password="{password}";'


def java_client_security(
    files: SecurityFiles, mechanism: str, user: str, password: str
) -> dict[str, str]:
    """A Java client's settings for a SASL_SSL listener of the sandbox (PEM truststore)."""
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": jaas_config(user, password),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.ca_file),
        "ssl.endpoint.identification.algorithm": "https",
    }


def worker_security(
    files: SecurityFiles, mechanism: str, user: str, password: str
) -> dict[str, str]:
    """A Connect worker's settings: its own clients, then the same again under
    ``producer.``, ``consumer.`` and ``admin.`` for the clients it builds for connectors;
    and the FileConfigProvider (alias ``file``), limited to the secrets directory."""
    base = java_client_security(files, mechanism, user, password)
    out = dict(base)
    for prefix in ("producer.", "consumer.", "admin."):
        out.update({prefix + k: v for k, v in base.items()})
    out["config.providers"] = CONFIG_PROVIDER
    out[f"config.providers.{CONFIG_PROVIDER}.class"] = CONFIG_PROVIDER_CLASS
    # KIP-993 (3.8+): the provider reads nothing outside the secrets directory
    out[f"config.providers.{CONFIG_PROVIDER}.param.allowed.paths"] = str(files.secrets_dir)
    return out


def broker_security(
    files: SecurityFiles,
    name: str,
    *,
    sasl_listener: tuple[int, str] | None,
    mtls_port: int | None,
    host: str = "127.0.0.1",
) -> dict[str, str]:
    """A broker's secured listeners, beside PLAINTEXT (the caller adds them to
    ``listeners``): SASL_SSL with one SCRAM mechanism at ``sasl_listener`` (port,
    mechanism) and SSL with required client certificates at ``mtls_port``. Returns the
    listener entries under the keys ``listeners`` and ``protocols`` plus the settings."""
    listeners: list[str] = []
    protocols: list[str] = []
    out: dict[str, str] = {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(files.keystore(name)),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(files.ca_file),
    }
    if sasl_listener is not None:
        port, mechanism = sasl_listener
        listeners.append(f"SASL_SSL://{host}:{port}")
        protocols.append("SASL_SSL:SASL_SSL")
        mech = mechanism.lower()
        out["listener.name.sasl_ssl.sasl.enabled.mechanisms"] = mechanism
        out[f"listener.name.sasl_ssl.{mech}.sasl.jaas.config"] = f"{SCRAM_LOGIN_MODULE} required;"
        out["sasl.enabled.mechanisms"] = mechanism
    if mtls_port is not None:
        listeners.append(f"SSL://{host}:{mtls_port}")
        protocols.append("SSL:SSL")
        out["listener.name.ssl.ssl.client.auth"] = "required"
        out["ssl.principal.mapping.rules"] = PRINCIPAL_MAPPING_RULES
    out["listeners"] = ",".join(listeners)
    out["protocols"] = ",".join(protocols)
    return out


# --------------------------------------------------------------------------- ACLs


def _allow(principal: str, resource: str, name: str, pattern: str, *operations: str) -> list[Acl]:
    return [Acl(resource, name, pattern, principal, "*", op, "ALLOW") for op in operations]


def connshift_acls(side: str) -> list[Acl]:
    """What ``User:connshift`` may do on the ``source`` or ``destination`` cluster.

    Source: read and describe the estate's topics, and write them (``rollback`` copies
    back what a cut-over connector wrote on the destination), describe Connect's internal
    topics (``connect-*``, for the inventory), describe every group (their committed
    offsets are what moves) and the cluster (its ACLs, groups, configs), and use its own
    ``connshift-*`` groups. Destination: create, write, read and describe the estate's
    topics, the offset-map topic and its own ``connshift-*`` topics (probes, canaries: also
    add partitions, alter configs, delete), use ``connshift-*`` transactional ids (the
    probe's transaction check), describe Connect's internal topics, commit the translated
    offsets of the estate's groups, describe the cluster.
    Nothing else: no CREATE/ALTER/DELETE on source topics, no ALTER/DELETE on estate
    topics, no CLUSTER ALTER, no ACL changes. The table of what each command needs is
    :data:`connshift.core.permissions.NEEDS` (``connshift check --permissions``).
    """
    p = "User:connshift"
    out: list[Acl] = []
    if side == "source":
        for prefix in ESTATE_TOPIC_PREFIXES:
            out += _allow(
                p, "TOPIC", prefix, "PREFIXED", "READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS"
            )
        # Connect's internal topics: described (inventory), never read or written
        out += _allow(p, "TOPIC", "connect-", "PREFIXED", "DESCRIBE", "DESCRIBE_CONFIGS")
        out += _allow(p, "GROUP", "*", "LITERAL", "DESCRIBE")
        out += _allow(p, "GROUP", "connshift-", "PREFIXED", "READ", "DESCRIBE", "DELETE")
        out += _allow(p, "CLUSTER", CLUSTER, "LITERAL", "DESCRIBE", "DESCRIBE_CONFIGS")
        return out
    if side != "destination":
        raise ValueError(f"side must be source or destination, not {side!r}")
    topic_ops = ("CREATE", "WRITE", "READ", "DESCRIBE", "DESCRIBE_CONFIGS")
    for prefix in ESTATE_TOPIC_PREFIXES:
        out += _allow(p, "TOPIC", prefix, "PREFIXED", *topic_ops)
    out += _allow(p, "TOPIC", OFFSET_MAP_TOPIC, "LITERAL", *topic_ops)
    out += _allow(
        p, "TOPIC", "connshift-", "PREFIXED", *topic_ops, "DELETE", "ALTER_CONFIGS", "ALTER"
    )
    out += _allow(p, "TRANSACTIONAL_ID", "connshift-", "PREFIXED", "WRITE", "DESCRIBE")
    out += _allow(p, "TOPIC", "connect-", "PREFIXED", "DESCRIBE", "DESCRIBE_CONFIGS")
    out += _allow(p, "GROUP", "*", "LITERAL", "READ", "DESCRIBE")
    out += _allow(p, "GROUP", "connshift-", "PREFIXED", "DELETE")
    out += _allow(p, "CLUSTER", CLUSTER, "LITERAL", "DESCRIBE", "DESCRIBE_CONFIGS")
    return out


def connect_acls(group_id: str, topic_prefix: str) -> list[Acl]:
    """What ``User:connect`` (a Connect worker) may do on its own cluster: its internal
    topics (``<topic_prefix>-*``); its connectors' topics, which are whatever a connector
    names (a cut-over connector writes renamed or prefixed topics), so every topic: create,
    write, read, describe; its group and its sink connectors' groups (``connect-*``);
    describe the cluster. No DELETE, ALTER or ACL administration."""
    p = "User:connect"
    topic_ops = ("CREATE", "WRITE", "READ", "DESCRIBE", "DESCRIBE_CONFIGS")
    out = _allow(p, "TOPIC", f"{topic_prefix}-", "PREFIXED", *topic_ops)
    out += _allow(p, "TOPIC", "*", "LITERAL", *topic_ops)
    out += _allow(p, "GROUP", group_id, "LITERAL", "READ", "DESCRIBE")
    out += _allow(p, "GROUP", "connect-", "PREFIXED", "READ", "DESCRIBE")
    out += _allow(p, "CLUSTER", CLUSTER, "LITERAL", "DESCRIBE", "DESCRIBE_CONFIGS")
    return out
