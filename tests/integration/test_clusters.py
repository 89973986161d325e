"""The sandbox's services are real and answer their own protocols."""

from __future__ import annotations

import time
import uuid

import pytest

from connshift.app.sandbox import Sandbox
from connshift.core.versions import infer_kafka_version
from connshift.io import postgres
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_wire import api_versions
from connshift.io.sandbox import procs

from .conftest import Estate

PLUGINS = {
    "io.debezium.connector.postgresql.PostgresConnector",
    "org.apache.kafka.connect.file.FileStreamSourceConnector",
    "org.apache.kafka.connect.file.FileStreamSinkConnector",
}


@pytest.mark.parametrize(("side", "release"), [("source", "3.9"), ("destination", "4.4")])
def test_kafka_answers_api_versions_and_reports_version(
    estate: Estate, side: str, release: str
) -> None:
    bootstrap = estate.source_kafka if side == "source" else estate.destination_kafka
    result = api_versions(bootstrap)
    assert 0 in result.api_keys and 1 in result.api_keys  # Produce, Fetch
    version = infer_kafka_version(result.api_keys, result.finalized_features)
    assert version.release is not None
    if estate.from_sandbox:
        assert version.release == release
        assert version.metadata_version is not None
        assert version.metadata_version.startswith(release)
    info = KafkaCluster({"bootstrap.servers": bootstrap}, name=side).check_reachable()
    assert info.cluster_id and len(info.brokers) >= 1


@pytest.mark.parametrize("side", ["source", "destination"])
def test_connect_workers_list_debezium_and_filestream(estate: Estate, side: str) -> None:
    url = estate.source_connect if side == "source" else estate.destination_connect
    with ConnectClient(url, name=side) as client:
        worker = client.info()
        classes = {p.class_name for p in client.plugins()}
        validation = client.validate_config(
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            {"name": "probe", "topics": "t", "file": "/tmp/connshift-probe.out"},
        )
    assert classes >= PLUGINS, f"missing on {side}: {PLUGINS - classes}"
    # the plugin's classes load on this worker (connect-file 4.3.1 needs a shim on 4.4)
    assert validation.ok, validation.errors
    if estate.from_sandbox:
        expected = "3.9.2" if side == "source" else "4.4.0"
        assert worker.version == expected


def test_postgres_is_logical_and_has_the_shop(sandbox: Sandbox) -> None:
    port = sandbox.ports["postgres"]
    with postgres.connect("127.0.0.1", port, "postgres", "postgres", "shop") as conn:
        (wal_level,) = conn.execute("SHOW wal_level").fetchone() or ("",)
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        (customers,) = conn.execute("SELECT count(*) FROM customers").fetchone() or (0,)
    assert wal_level == "logical"
    assert {"customers", "orders"} <= tables
    assert customers > 0


def test_postgres_rejects_a_wrong_password(sandbox: Sandbox) -> None:
    from connshift.errors import PostgresError

    with pytest.raises(PostgresError) as info:
        postgres.connect("127.0.0.1", sandbox.ports["postgres"], "postgres", "wrong-pw", "shop")
    assert "wrong-pw" not in info.value.one_line()
    assert info.value.exit_code == 3


def test_tansu_produce_consume_and_survive_a_restart(sandbox: Sandbox) -> None:
    bootstrap = f"127.0.0.1:{sandbox.ports['tansu']}"
    tansu = KafkaCluster({"bootstrap.servers": bootstrap}, name="tansu")
    topic = f"it-tansu-{uuid.uuid4().hex[:8]}"
    assert tansu.create_topic(topic, 1)
    sent = [(f"k{i}".encode(), f"value-{i}".encode()) for i in range(25)]
    tansu.produce(topic, sent, headers=[("h", b"1")])
    before = [(r.key, r.value) for r in tansu.read(topic, 0, timeout=30)]
    assert before == sent

    rec = sandbox.record("tansu")
    assert rec is not None and procs.is_alive(rec)
    assert procs.stop(rec)
    assert not procs.is_alive(rec)
    info = sandbox.up(with_tansu=True)
    assert info.started == ["tansu"]  # only what was down is started again
    new = sandbox.record("tansu")
    assert new is not None and new.pid != rec.pid

    deadline = time.monotonic() + 30
    after: list[tuple[bytes | None, bytes | None]] = []
    while time.monotonic() < deadline:
        tansu = KafkaCluster({"bootstrap.servers": bootstrap}, name="tansu")
        after = [(r.key, r.value) for r in tansu.read(topic, 0, end=len(sent), timeout=10)]
        if after == sent:
            break
        time.sleep(1)
    assert after == sent
    tansu.delete_topic(topic)
