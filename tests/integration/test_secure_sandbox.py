"""The sandbox's secured listeners, reached with librdkafka as a user would: SCRAM over
SASL_SSL on both clusters, mTLS on the destination, a wrong password refused, least
privilege enforced, ``connshift check`` on ``sandbox-secure.yaml``; and the Connect
workers on SASL_SSL as ``connect`` with the FileConfigProvider."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import Sandbox
from connshift.errors import ConnshiftError, KafkaError
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox.services import ConnectWorker

from .helpers import connect, run_cli, wait_for

pytestmark = pytest.mark.integration


def sasl(sb: Sandbox, side: str, *, password: str | None = None) -> dict[str, str]:
    files = sb.security
    port = sb.ports[f"{side}-kafka-sasl"]
    return {
        "bootstrap.servers": f"127.0.0.1:{port}",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512" if side == "source" else "SCRAM-SHA-256",
        "sasl.username": "connshift",
        "sasl.password": password if password is not None else files.password("connshift"),
        "ssl.ca.location": str(files.ca_file),
    }


def mtls(sb: Sandbox, *, client_cert: bool = True) -> dict[str, str]:
    files = sb.security
    cfg = {
        "bootstrap.servers": f"127.0.0.1:{sb.ports['destination-kafka-mtls']}",
        "security.protocol": "SSL",
        "ssl.ca.location": str(files.ca_file),
    }
    if client_cert:
        cfg["ssl.certificate.location"] = str(files.client_cert)
        cfg["ssl.key.location"] = str(files.client_key)
    return cfg


@pytest.mark.parametrize("side", ["source", "destination"])
def test_scram_over_sasl_ssl_as_connshift(sandbox: Sandbox, seeded: Any, side: str) -> None:
    cluster = KafkaCluster(sasl(sandbox, side), name=side)
    info = cluster.check_reachable(timeout=15)
    assert info.brokers == [f"127.0.0.1:{sandbox.ports[side + '-kafka-sasl']}"]
    if side == "source":  # connshift may describe and read the estate's topics
        topics = cluster.topics()
        assert {"app.events", "shop.public.customers", "files.access-log"} <= set(topics)
        assert not [t for t in topics if t.startswith("hr.")]
        assert sum(1 for _ in cluster.read("app.events", 0, 0, 5)) == 5


def test_mtls_as_connshift_by_its_certificate(sandbox: Sandbox) -> None:
    cluster = KafkaCluster(mtls(sandbox), name="destination-mtls")
    info = cluster.check_reachable(timeout=15)
    assert info.brokers == [f"127.0.0.1:{sandbox.ports['destination-kafka-mtls']}"]
    # the principal is the certificate's CN: connshift's ACLs apply (its own topics yes,
    # a topic outside its ACLs no)
    topic = f"connshift-it-mtls-{uuid.uuid4().hex[:6]}"
    assert cluster.create_topic(topic, 1)
    try:
        cluster.produce(topic, [(b"k", b"over mTLS")])
        assert [r.value for r in cluster.read(topic, 0, 0, 1)] == [b"over mTLS"]
        with pytest.raises(KafkaError) as denied:
            cluster.create_topic(f"hr.it-{uuid.uuid4().hex[:6]}", 1)
        assert "TOPIC_AUTHORIZATION_FAILED" in str(denied.value.as_dict())
    finally:
        cluster.delete_topic(topic)


def test_mtls_without_a_client_certificate_is_refused(sandbox: Sandbox) -> None:
    cluster = KafkaCluster(mtls(sandbox, client_cert=False), name="destination-mtls")
    with pytest.raises(KafkaError):
        cluster.check_reachable(timeout=5)


@pytest.mark.parametrize("side", ["source", "destination"])
def test_a_wrong_password_is_refused(sandbox: Sandbox, side: str) -> None:
    wrong = "not-" + uuid.uuid4().hex
    cluster = KafkaCluster(sasl(sandbox, side, password=wrong), name=side)
    with pytest.raises(KafkaError) as refused:
        cluster.check_reachable(timeout=5)
    assert wrong not in str(refused.value.as_dict())
    # the same settings with the right password pass: the password is what was refused
    KafkaCluster(sasl(sandbox, side), name=side).check_reachable(timeout=15)


def test_connshift_cannot_go_outside_its_acls(sandbox: Sandbox, seeded: Any) -> None:
    admin = KafkaCluster(  # PLAINTEXT: ANONYMOUS is a super user there
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"}, name="plain"
    )
    hidden = f"hr.it-{uuid.uuid4().hex[:6]}"
    admin.create_topic(hidden, 1)
    try:
        admin.produce(hidden, [(b"k", b"salary")])
        src = KafkaCluster(sasl(sandbox, "source"), name="source")
        # a topic outside its ACLs is hidden from it (a read finds nothing to read: the
        # one-line authorization error is issue 12's item 4)
        assert hidden not in src.topics()
        # it reads the source (and writes only what rollback copies back), never creates there
        with pytest.raises(ConnshiftError) as refused:
            src.create_topic(f"app.it-denied-{uuid.uuid4().hex[:6]}", 1)
        assert "AUTHORIZATION" in str(refused.value.as_dict()).upper()
    finally:
        admin.delete_topic(hidden)
    # no ACL administration on either side
    dst = KafkaCluster(sasl(sandbox, "destination"), name="destination")
    from connshift.core.acls import Acl

    grant = Acl("TOPIC", "hr.", "PREFIXED", "User:connshift", "*", "READ", "ALLOW")
    with pytest.raises(ConnshiftError):
        dst.create_acls([grant])
    # the same through the PLAINTEXT listener (ANONYMOUS is a super user) shows it isn't there
    plain = KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['destination-kafka']}"}, name="plain"
    )
    assert grant not in plain.acls()


def test_check_passes_on_sandbox_secure_yaml(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox_mod.write_secure_spec(sandbox, tmp_path / "sandbox-secure.yaml")
    text = path.read_text()
    for user in ("admin", "connshift", "connect"):
        assert sandbox.security.password(user) not in text
    proc = run_cli("check", "-c", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert sandbox.security.password("connshift") not in proc.stdout + proc.stderr
    import json

    rows = json.loads(proc.stdout)["checks"]
    kafka = {r["side"]: r for r in rows if r["service"] == "kafka"}
    assert kafka["source"]["address"] == f"127.0.0.1:{sandbox.ports['source-kafka-sasl']}"
    assert kafka["destination"]["address"] == (
        f"127.0.0.1:{sandbox.ports['destination-kafka-sasl']}"
    )
    assert all(r["status"] == "PASS" for r in rows)


def test_workers_run_on_sasl_ssl_as_connect_with_the_file_provider(
    sandbox: Sandbox, seeded: Any
) -> None:
    workers = {s.name: s for s in sandbox.services() if isinstance(s, ConnectWorker)}
    for side in ("source", "destination"):
        worker = workers[f"{side}-connect"]
        assert worker.bootstrap == f"127.0.0.1:{sandbox.ports[side + '-kafka-sasl']}"
        assert not worker.outdated()  # worker.properties as started: SASL_SSL, the provider
    with connect(sandbox, "source") as src:
        config = src.connector_config("shop-cdc")
        assert config["database.password"] == sandbox.security.db_password_reference()
        status = src.status("shop-cdc")
        # Debezium connected to PostgreSQL: the worker resolved the reference
        assert status.state == "RUNNING" and [t.state for t in status.tasks] == ["RUNNING"]


def test_the_destination_worker_resolves_a_file_provider_reference(
    sandbox: Sandbox, seeded: Any
) -> None:
    """A FileStream source whose topic comes from ``${file:...}`` on the destination worker:
    records in that topic show the provider resolved there too (and that ``connect``
    writes the estate's topics over SASL_SSL)."""
    files = sandbox.security
    tag = uuid.uuid4().hex[:6]
    topic = f"files.it-provider-{tag}"
    props = files.secrets_dir / f"it-provider-{tag}.properties"
    props.write_text(f"topic={topic}\n")
    props.chmod(0o600)
    name = f"it-provider-{tag}"
    plain = KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['destination-kafka']}"}, name="dst"
    )
    try:
        with connect(sandbox, "destination") as dst:
            dst.create(
                name,
                {
                    "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                    "tasks.max": "1",
                    "file": str(sandbox.files_dir() / "access.log"),
                    "topic": f"${{file:{props}:topic}}",
                    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                    "topic.creation.default.replication.factor": "1",
                    "topic.creation.default.partitions": "1",
                },
            )
            dst.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=60)

            def landed() -> bool:
                present = plain.topics()
                return topic in present and plain.watermarks(topic, 0)[1] > 0

            wait_for(landed, timeout=60, what=f"records in {topic} on the destination")
    finally:
        with connect(sandbox, "destination") as dst:
            if dst.exists(name):
                dst.delete(name)
        props.unlink(missing_ok=True)
        time.sleep(0.5)
        if topic in plain.topics():
            plain.delete_topic(topic)
