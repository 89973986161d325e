"""The sandbox's secured side without Kafka: the CA and certificates (checked with
``cryptography`` and a real TLS handshake through Python's ``ssl``), the secrets files,
the broker and worker properties, the ACL sets and ``sandbox-secure.yaml``."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import SECURED_PORTS, Sandbox, endpoints, parse_ports
from connshift.core.acls import Acl
from connshift.io.sandbox import jars, procs, security
from connshift.io.sandbox.security import SCRAM_USERS, SecurityFiles
from connshift.io.sandbox.services import DEFAULT_PORTS, ConnectWorker, KafkaBroker


@pytest.fixture(autouse=True)
def _no_real_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNSHIFT_SANDBOX_HOME", str(tmp_path / "default-home"))
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "cache"))

    def no_start(*args: object, **kwargs: object) -> procs.ProcRecord:
        raise AssertionError("no service may be started in a unit test")

    monkeypatch.setattr(procs, "start", no_start)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> SecurityFiles:
    home = tmp_path_factory.mktemp("home")
    return security.ensure(home, ("source-kafka", "destination-kafka"), db_password="pg-pw")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


# ---------------------------------------------------------------------------- certificates


def test_ca_is_a_self_signed_ca() -> None:
    cert_pem, key_pem = security.make_ca()
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject == cert.issuer
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8: Kafka's PEM store


def test_leaf_is_signed_by_the_ca_with_ip_and_dns_names() -> None:
    ca_pem, ca_key = security.make_ca()
    cert_pem, key_pem = security.issue(
        ca_pem, ca_key, "source-kafka", hosts=("127.0.0.1", "localhost")
    )
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    cert.verify_directly_issued_by(ca)
    assert cn(cert) == "source-kafka"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_leaf_validity_window_can_be_chosen_so_a_test_gets_an_expired_one() -> None:
    ca_pem, ca_key = security.make_ca()
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cert_pem, _ = security.issue(
        ca_pem, ca_key, "old", not_before=past, not_after=past + dt.timedelta(days=1)
    )
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.not_valid_after_utc < dt.datetime.now(dt.UTC)


def test_ensure_writes_the_ca_certificates_and_secrets_with_private_modes(
    made: SecurityFiles,
) -> None:
    assert made.ca_file == made.home / "tls" / "ca.pem"
    for name in ("source-kafka", "destination-kafka"):
        chain = made.cert(name).read_bytes()
        assert chain.count(b"BEGIN CERTIFICATE") == 2  # leaf, then the CA
        store = made.keystore(name).read_text()
        assert store.startswith("-----BEGIN PRIVATE KEY-----")
        assert store.count("BEGIN CERTIFICATE") == 2
        assert mode(made.keystore(name)) == 0o600
        assert mode(made.key(name)) == 0o600
        assert mode(made.cert(name)) == 0o644
    client = x509.load_pem_x509_certificate(made.client_cert.read_bytes())
    assert made.client_cert.name == "connshift.pem" and made.client_key.name == "connshift.key"
    assert client.subject.rfc4514_string() == "CN=connshift"
    client.verify_directly_issued_by(x509.load_pem_x509_certificate(made.ca_file.read_bytes()))
    assert mode(made.client_key) == 0o600 and mode(made.ca_key) == 0o600
    assert mode(made.secrets_dir) == 0o700
    passwords = {u: made.password(u) for u in SCRAM_USERS}
    assert set(passwords) == {"admin", "connshift", "connect"}
    assert len(set(passwords.values())) == 3
    for user in SCRAM_USERS:
        assert mode(made.password_file(user)) == 0o600
        assert len(passwords[user]) >= 24
        assert not set(passwords[user]) & set("\"'\\ ;")  # safe inside a JAAS string
    assert made.db_secrets.read_text() == "password=pg-pw\n"
    assert mode(made.db_secrets) == 0o600


def test_ensure_is_idempotent_and_a_new_ca_reissues_every_certificate(tmp_path: Path) -> None:
    files = security.ensure(tmp_path, ("b",), db_password="x")
    before = {
        p.name: p.read_bytes() for p in [*files.tls_dir.iterdir(), *files.secrets_dir.iterdir()]
    }
    security.ensure(tmp_path, ("b",), db_password="x")
    after = {
        p.name: p.read_bytes() for p in [*files.tls_dir.iterdir(), *files.secrets_dir.iterdir()]
    }
    assert after == before
    files.ca_key.unlink()
    security.ensure(tmp_path, ("b",), db_password="x")
    assert files.ca_file.read_bytes() != before["ca.pem"]
    leaf = x509.load_pem_x509_certificate(files.cert("b").read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca_file.read_bytes()))
    assert files.password("admin") == before["admin.password"].decode().strip()  # kept


def _handshake(
    made: SecurityFiles, *, client_cert: bool, require: bool
) -> tuple[str | None, BaseException | None]:
    """One TLS handshake on loopback: the broker's PEM keystore on the server side, the CA
    (and optionally connshift's certificate) on the client side. Returns the client CN the
    server saw and the client's error."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # the keystore file holds key, leaf and CA: what Kafka reads with ssl.keystore.type=PEM
    server_ctx.load_cert_chain(made.keystore("destination-kafka"))
    server_ctx.load_verify_locations(made.ca_file)
    server_ctx.verify_mode = ssl.CERT_REQUIRED if require else ssl.CERT_NONE
    client_ctx = ssl.create_default_context(cafile=str(made.ca_file))
    if client_cert:
        client_ctx.load_cert_chain(made.client_cert, made.client_key)
    seen: dict[str, str | None] = {"cn": None}
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]

        def serve() -> None:
            conn, _ = srv.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    peer = tls.getpeercert()
                    if peer:
                        seen["cn"] = dict(x[0] for x in peer["subject"])["commonName"]
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        error: BaseException | None = None
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                if tls.recv(2) != b"ok":
                    raise ConnectionError("no answer after the handshake")
        except (ssl.SSLError, OSError) as exc:
            error = exc
        thread.join(5)
    return seen["cn"], error


def test_a_client_trusting_ca_pem_verifies_the_broker_certificate_for_127_0_0_1(
    made: SecurityFiles,
) -> None:
    cn_seen, error = _handshake(made, client_cert=False, require=False)
    assert error is None
    assert cn_seen is None


def test_mtls_the_server_sees_the_client_certificate_cn(made: SecurityFiles) -> None:
    cn_seen, error = _handshake(made, client_cert=True, require=True)
    assert error is None
    assert cn_seen == "connshift"


def test_mtls_without_a_client_certificate_is_refused(made: SecurityFiles) -> None:
    cn_seen, error = _handshake(made, client_cert=False, require=True)
    assert cn_seen is None
    assert error is not None


# ---------------------------------------------------------------------------- properties


def dist(version: str, tmp_path: Path) -> jars.KafkaDist:
    return jars.KafkaDist(
        version=version,
        lib=tmp_path / f"kafka-{version}" / "lib",
        plugin_dirs=(tmp_path / "plugins" / "connect-file",),
    )


def test_source_broker_adds_a_sasl_ssl_scram_512_listener_beside_plaintext(
    tmp_path: Path,
) -> None:
    files = SecurityFiles(tmp_path / "home")
    b = KafkaBroker(
        "source-kafka",
        tmp_path / "k",
        31092,
        controller_port=31093,
        dist=dist("3.9.2", tmp_path),
        security=files,
        sasl_port=31094,
        sasl_mechanism="SCRAM-SHA-512",
    )
    cfg = b._config()
    assert cfg["listeners"] == (
        "PLAINTEXT://127.0.0.1:31092,SASL_SSL://127.0.0.1:31094,CONTROLLER://127.0.0.1:31093"
    )
    assert cfg["advertised.listeners"] == "PLAINTEXT://127.0.0.1:31092,SASL_SSL://127.0.0.1:31094"
    assert cfg["listener.security.protocol.map"] == (
        "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    )
    assert cfg["inter.broker.listener.name"] == "PLAINTEXT"
    assert cfg["listener.name.sasl_ssl.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert cfg["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    )
    assert cfg["ssl.keystore.type"] == "PEM"
    assert cfg["ssl.keystore.location"] == str(files.keystore("source-kafka"))
    assert cfg["ssl.truststore.type"] == "PEM"
    assert cfg["ssl.truststore.location"] == str(files.ca_file)
    # PLAINTEXT stays ANONYMOUS and a super user; everyone else gets only their ACLs
    assert cfg["super.users"] == "User:ANONYMOUS;User:admin"
    assert cfg["allow.everyone.if.no.acl.found"] == "false"
    assert "listener.name.ssl.ssl.client.auth" not in cfg
    assert not [k for k in cfg if "password" in k]  # no secret in server.properties
    assert b.secured_ports() == [31094]
    assert "SASL_SSL (SCRAM-SHA-512) 127.0.0.1:31094" in b.describe()


def test_destination_broker_adds_scram_256_and_an_mtls_listener(tmp_path: Path) -> None:
    files = SecurityFiles(tmp_path / "home")
    b = KafkaBroker(
        "destination-kafka",
        tmp_path / "k",
        32092,
        controller_port=32093,
        dist=dist("4.4.0", tmp_path),
        security=files,
        sasl_port=32094,
        sasl_mechanism="SCRAM-SHA-256",
        mtls_port=32095,
    )
    cfg = b._config()
    assert cfg["listeners"] == (
        "PLAINTEXT://127.0.0.1:32092,SASL_SSL://127.0.0.1:32094,SSL://127.0.0.1:32095,"
        "CONTROLLER://127.0.0.1:32093"
    )
    assert cfg["listener.security.protocol.map"] == (
        "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT"
    )
    assert cfg["listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config"].endswith("required;")
    assert cfg["listener.name.ssl.ssl.client.auth"] == "required"
    assert cfg["ssl.principal.mapping.rules"] == "RULE:^CN=([^,]+).*$/$1/,DEFAULT"
    assert b.secured_ports() == [32094, 32095]
    assert "SSL (mTLS, client certificate required) 127.0.0.1:32095" in b.describe()


def test_principal_mapping_rule_takes_the_cn_of_a_dn() -> None:
    # Kafka applies the rule's regex to the RFC 2253 DN and substitutes $1
    import re

    rule = security.PRINCIPAL_MAPPING_RULES.removesuffix(",DEFAULT")
    pattern, replacement = rule.removeprefix("RULE:").split("/")[:2]
    for dn, want in (("CN=connshift", "connshift"), ("CN=app-reader,O=acme,C=DE", "app-reader")):
        match = re.fullmatch(pattern, dn)
        assert match is not None
        assert replacement.replace("$1", match.group(1)) == want


def test_a_broker_is_outdated_when_a_secured_port_does_not_answer(tmp_path: Path) -> None:
    files = SecurityFiles(tmp_path / "home")
    plain = KafkaBroker("k", tmp_path / "k", 1, controller_port=2, dist=dist("3.9.2", tmp_path))
    assert plain.outdated() is False
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        open_port = srv.getsockname()[1]
        secured = KafkaBroker(
            "k",
            tmp_path / "k",
            1,
            controller_port=2,
            dist=dist("3.9.2", tmp_path),
            security=files,
            sasl_port=open_port,
        )
        assert secured.outdated() is False
        secured.mtls_port = 1  # nothing answers on port 1
        assert secured.outdated() is True


def worker(tmp_path: Path, files: SecurityFiles | None) -> ConnectWorker:
    return ConnectWorker(
        "destination-connect",
        tmp_path / "dc",
        31083,
        bootstrap="127.0.0.1:32094",
        group_id="connect-destination",
        topic_prefix="connect-dst",
        dist=dist("4.4.0", tmp_path),
        security=files,
        sasl_mechanism="SCRAM-SHA-256",
    )


def read_props(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def test_worker_authenticates_as_connect_for_itself_and_its_connector_clients(
    tmp_path: Path,
) -> None:
    files = security.ensure(tmp_path / "home", (), db_password="pg")
    w = worker(tmp_path, files)
    w.prepare()
    props = read_props(w.properties)
    password = files.password("connect")
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="connect" password="{password}";'
    )
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert props[prefix + "security.protocol"] == "SASL_SSL"
        assert props[prefix + "sasl.mechanism"] == "SCRAM-SHA-256"
        assert props[prefix + "sasl.jaas.config"] == jaas
        assert props[prefix + "ssl.truststore.type"] == "PEM"
        assert props[prefix + "ssl.truststore.location"] == str(files.ca_file)
    assert props["bootstrap.servers"] == "127.0.0.1:32094"
    assert props["config.providers"] == "file"
    assert props["config.providers.file.class"] == (
        "org.apache.kafka.common.config.provider.FileConfigProvider"
    )
    assert props["config.providers.file.param.allowed.paths"] == str(files.secrets_dir)
    assert mode(w.properties) == 0o600  # it holds connect's password
    assert w.outdated() is False


def test_a_worker_started_on_plaintext_is_outdated(tmp_path: Path) -> None:
    files = security.ensure(tmp_path / "home", (), db_password="pg")
    worker(tmp_path, None).prepare()  # what an older connshift wrote and started
    assert worker(tmp_path, files).outdated() is True
    assert worker(tmp_path, None).outdated() is False


# ---------------------------------------------------------------------------- ACLs


def ops(acls: list[Acl], resource: str, name: str) -> set[str]:
    return {a.operation for a in acls if a.resource_type == resource and a.name == name}


def test_connshift_reads_the_source_and_writes_only_the_estates_topics_there() -> None:
    acls = security.connshift_acls("source")
    assert {a.principal for a in acls} == {"User:connshift"}
    assert {a.permission for a in acls} == {"ALLOW"}
    for prefix in ("app.", "shop.", "files."):
        # WRITE: rollback copies back what a cut-over connector wrote on the destination
        assert ops(acls, "TOPIC", prefix) == {"READ", "WRITE", "DESCRIBE", "DESCRIBE_CONFIGS"}
    assert not [a for a in acls if a.operation in ("CREATE", "ALTER", "ALL")]
    assert {a.name for a in acls if a.operation == "DELETE"} == {"connshift-"}  # its groups
    assert {a.name for a in acls if a.operation == "WRITE"} == {"app.", "shop.", "files."}
    assert ops(acls, "TOPIC", "connect-") == {"DESCRIBE", "DESCRIBE_CONFIGS"}
    assert ops(acls, "GROUP", "*") == {"DESCRIBE"}
    assert ops(acls, "CLUSTER", "kafka-cluster") == {"DESCRIBE", "DESCRIBE_CONFIGS"}


def test_connshift_creates_and_writes_the_estate_and_its_own_topics_on_the_destination() -> None:
    acls = security.connshift_acls("destination")
    for name in ("app.", "shop.", "files.", "connshift.offset-maps"):
        assert {"CREATE", "WRITE", "READ", "DESCRIBE"} <= ops(acls, "TOPIC", name)
        assert "DELETE" not in ops(acls, "TOPIC", name)
    assert ops(acls, "GROUP", "*") == {"READ", "DESCRIBE"}  # translated group offsets
    assert ops(acls, "GROUP", "connshift-") == {"DELETE"}
    assert ops(acls, "TRANSACTIONAL_ID", "connshift-") == {"WRITE", "DESCRIBE"}  # probe
    assert "ALTER" in ops(acls, "TOPIC", "connshift-")  # the probe adds partitions
    assert ops(acls, "CLUSTER", "kafka-cluster") == {"DESCRIBE", "DESCRIBE_CONFIGS"}
    altered = [a for a in acls if a.operation in ("ALTER", "ALL", "CLUSTER_ACTION")]
    assert [(a.resource_type, a.name) for a in altered] == [("TOPIC", "connshift-")]
    with pytest.raises(ValueError):
        security.connshift_acls("tansu")


def test_connect_gets_its_internal_topics_its_group_and_the_connector_topics() -> None:
    acls = security.connect_acls("connect-destination", "connect-dst")
    assert {a.principal for a in acls} == {"User:connect"}
    assert {"CREATE", "READ", "WRITE", "DESCRIBE"} <= ops(acls, "TOPIC", "connect-dst-")
    assert ops(acls, "GROUP", "connect-destination") == {"READ", "DESCRIBE"}
    assert ops(acls, "GROUP", "connect-") == {"READ", "DESCRIBE"}  # sink connectors' groups
    # connector topics are whatever a connector names (renamed or prefixed after a cutover)
    assert {"WRITE", "CREATE", "READ"} <= ops(acls, "TOPIC", "*")
    assert not [a for a in acls if a.operation in ("DELETE", "ALTER", "ALTER_CONFIGS", "ALL")]
    assert not [
        a
        for a in acls
        if a.resource_type == "CLUSTER"
        and a.operation != "DESCRIBE"
        and a.operation != "DESCRIBE_CONFIGS"
    ]


def test_acl_resource_cluster_is_librdkafkas_broker() -> None:
    from connshift.io import kafka as kafka_io

    acl = Acl("CLUSTER", "kafka-cluster", "LITERAL", "User:x", "*", "DESCRIBE", "ALLOW")
    args = kafka_io._acl_args(acl)
    assert args[0].name == "BROKER"


# ---------------------------------------------------------------------------- the sandbox


def test_sandbox_wires_the_secured_listeners_and_workers(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path / "home")
    services = {s.name: s for s in sb.services()}
    src, dst = services["source-kafka"], services["destination-kafka"]
    assert isinstance(src, KafkaBroker) and isinstance(dst, KafkaBroker)
    assert (src.sasl_port, src.sasl_mechanism, src.mtls_port) == (19094, "SCRAM-SHA-512", None)
    assert (dst.sasl_port, dst.sasl_mechanism, dst.mtls_port) == (29094, "SCRAM-SHA-256", 29095)
    assert set(security.connshift_acls("source")) <= set(src.acls)
    assert set(security.connect_acls("connect-destination", "connect-dst")) <= set(dst.acls)
    workers = {s.name: s for s in services.values() if isinstance(s, ConnectWorker)}
    assert workers["source-connect"].bootstrap == "127.0.0.1:19094"
    assert workers["source-connect"].sasl_mechanism == "SCRAM-SHA-512"
    assert workers["destination-connect"].bootstrap == "127.0.0.1:29094"
    assert workers["destination-connect"].sasl_mechanism == "SCRAM-SHA-256"
    eps = endpoints(sb.ports, False)
    assert eps["source.kafka.sasl_ssl"] == "127.0.0.1:19094"
    assert eps["destination.kafka.sasl_ssl"] == "127.0.0.1:29094"
    assert eps["destination.kafka.mtls"] == "127.0.0.1:29095"


def test_new_port_names_parse_and_old_ones_still_do() -> None:
    got = parse_ports(
        [
            "source-kafka=19192",
            "source-kafka-sasl=19194",
            "destination-kafka-sasl=29194",
            "destination-kafka-mtls=29195",
        ]
    )
    assert got["destination-kafka-mtls"] == 29195
    assert set(SECURED_PORTS) <= set(DEFAULT_PORTS)
    assert DEFAULT_PORTS["source-kafka-sasl"] == 19094
    assert DEFAULT_PORTS["destination-kafka-sasl"] == 29094
    assert DEFAULT_PORTS["destination-kafka-mtls"] == 29095


def test_secure_spec_uses_sasl_ssl_as_connshift_with_a_file_reference(tmp_path: Path) -> None:
    from connshift.app.config import load_spec

    home = tmp_path / "home"
    files = security.ensure(home, (), db_password="pg")
    sb = Sandbox(home=home)
    plain = tmp_path / "out" / "sandbox.yaml"
    path = sandbox_mod.write_secure_spec(sb, sandbox_mod.secure_spec_path(plain))
    assert path == tmp_path / "out" / "sandbox-secure.yaml"
    text = path.read_text()
    password = files.password("connshift")
    assert password not in text
    for user in SCRAM_USERS:
        assert files.password(user) not in text
    spec = load_spec(path)
    src, dst = spec.source.kafka, spec.destination.kafka
    assert src.bootstrap_servers == "127.0.0.1:19094"
    assert dst.bootstrap_servers == "127.0.0.1:29094"
    for kafka, mechanism in ((src, "SCRAM-SHA-512"), (dst, "SCRAM-SHA-256")):
        assert kafka.security_protocol == "SASL_SSL"
        assert kafka.sasl is not None and kafka.sasl.mechanism == mechanism
        assert kafka.sasl.username == "connshift"
        assert kafka.sasl.password is not None
        assert kafka.sasl.password.get_secret_value() == password  # resolved from the file
        assert kafka.tls is not None and kafka.tls.ca_file == str(files.ca_file)
        assert kafka.client_config()["ssl.ca.location"] == str(files.ca_file)
    shown = spec.redacted_dict()["source"]["kafka"]["sasl"]["password"]
    assert shown == f"${{file:{files.password_file('connshift')}}}"
    # the same estate as sandbox.yaml: only the Kafka connections differ
    plain_spec = load_spec(sandbox_mod.write_sandbox_spec(sb, plain))
    assert plain_spec.topics == spec.topics and plain_spec.connectors == spec.connectors
    assert plain_spec.source.connect == spec.source.connect
    assert "127.0.0.1:29095" in text  # the mTLS listener, named in a comment


def test_seeded_debezium_connector_takes_its_password_from_the_config_provider(
    tmp_path: Path,
) -> None:
    from connshift.app import seed
    from connshift.io.sandbox.services import POSTGRES_PASSWORD

    sb = Sandbox(home=tmp_path / "home")
    cdc = seed.connector_configs(sb)["shop-cdc"]
    ref = cdc["database.password"]
    assert ref == f"${{file:{sb.security.db_secrets}:password}}"
    assert ref != POSTGRES_PASSWORD
    assert seed._password_moved({"database.password": POSTGRES_PASSWORD}, cdc) is True
    assert seed._password_moved({"database.password": ref}, cdc) is False
