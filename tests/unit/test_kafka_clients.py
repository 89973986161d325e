"""io.kafka's producer and consumer wrappers: librdkafka's errors become connshift's
KafkaError once, here. No broker: librdkafka clients are created against a closed port
(127.0.0.1:1), and messages and errors are built by hand."""

from __future__ import annotations

import re
import time

import pytest
from confluent_kafka import KafkaError as RdError
from confluent_kafka import Message

from connshift.errors import ExitCode, KafkaError
from connshift.io.kafka import (
    KafkaCluster,
    KafkaConsumer,
    KafkaProducer,
    TopicPartition,
    delivery_reporter,
)

NOWHERE = "127.0.0.1:1"


@pytest.fixture
def cluster() -> KafkaCluster:
    return KafkaCluster({"bootstrap.servers": NOWHERE}, name="source")


def _event(code: int) -> Message:
    return Message(topic="t", partition=2, offset=7, error=RdError(code, "detail"))


# ----------------------------------------------------------------------------- consumer


def test_eof_offset_of_a_partition_eof_event(cluster: KafkaCluster) -> None:
    with cluster.open_consumer({"group.id": "g"}) as consumer:
        assert consumer.eof_offset(_event(RdError._PARTITION_EOF)) == 7


def test_eof_offset_raises_any_other_consumer_error_translated(cluster: KafkaCluster) -> None:
    with cluster.open_consumer({"group.id": "g"}) as consumer:
        with pytest.raises(KafkaError) as info:
            consumer.eof_offset(_event(RdError.TOPIC_AUTHORIZATION_FAILED))
        assert info.value.what == "could not read t[2] on the source cluster"
        assert info.value.why == "TOPIC_AUTHORIZATION_FAILED: detail"
        assert info.value.context == {"cluster": "source", "topic": "t", "partition": 2}
        assert info.value.exit_code == ExitCode.UNREACHABLE
        with pytest.raises(KafkaError, match=r"^group g lost t") as info:
            consumer.eof_offset(_event(RdError._TRANSPORT), what="group g lost t", group="g")
        assert info.value.context["group"] == "g"
        with pytest.raises(ValueError):
            consumer.eof_offset(Message(topic="t", partition=0, offset=1))


def test_consumer_calls_raise_kafka_errors_with_the_cluster(cluster: KafkaCluster) -> None:
    consumer = cluster.open_consumer({"group.id": "g"})
    try:
        with pytest.raises(KafkaError, match="could not commit offsets on the source") as info:
            consumer.commit()  # nothing consumed: librdkafka's _NO_OFFSET
        assert info.value.why is not None and info.value.why.startswith("_NO_OFFSET: ")
        assert info.value.context == {"cluster": "source"}
        with pytest.raises(KafkaError, match=r"could not read the offsets of t\[0\]") as info:
            consumer.watermarks("t", 0, timeout=0.2)
        assert info.value.context == {"cluster": "source", "topic": "t", "partition": 0}
        assert info.value.fix is not None and NOWHERE in info.value.fix
        consumer.assign([TopicPartition("t", 0, 5)])
        consumer.pause([TopicPartition("t", 0)])
        assert [(tp.topic, tp.partition, tp.offset) for tp in consumer.assignment()] == [
            ("t", 0, 5)
        ]
        assert consumer.consume(10, timeout=0.05) == []
    finally:
        consumer.close()
    consumer.close()  # idempotent
    with pytest.raises(KafkaError, match="used after close"):
        consumer.pause([TopicPartition("t", 0)])
    with pytest.raises(KafkaError, match="used after close"):
        consumer.consume(1, timeout=0)


def test_rebalance_callbacks_get_the_wrapper(cluster: KafkaCluster) -> None:
    seen: list[tuple[object, list[TopicPartition]]] = []
    with cluster.open_consumer({"group.id": "g"}) as consumer:
        call = consumer._rebalance(lambda c, parts: seen.append((c, parts)))
        call(object(), [TopicPartition("t", 1)])  # what librdkafka passes: its own consumer
        consumer.subscribe(["t"], on_assign=lambda c, p: None, on_revoke=lambda c, p: None)
    assert seen[0][0] is consumer and isinstance(seen[0][0], KafkaConsumer)
    assert [tp.partition for tp in seen[0][1]] == [1]


# ----------------------------------------------------------------------------- producer


def test_flush_raises_when_records_remain_and_close_reports_them(cluster: KafkaCluster) -> None:
    producer = cluster.open_producer({"linger.ms": 0})
    assert isinstance(producer, KafkaProducer)
    # the per-record methods are librdkafka's own: no Python frame on the hot path
    assert producer.produce.__self__ is producer._raw
    assert producer.poll.__self__ is producer._raw
    producer.produce("t", b"v", b"k")
    assert len(producer) >= 1  # librdkafka counts queued events too
    with pytest.raises(KafkaError) as info:
        producer.flush(0.1, what="could not mirror the maps", topic="t")
    assert info.value.what == "could not mirror the maps"
    assert re.fullmatch(r"[1-9]\d* records still in flight after 0.1s", info.value.why or "")
    assert info.value.context == {"cluster": "source", "topic": "t"}
    with pytest.raises(KafkaError, match="the source cluster did not acknowledge every record"):
        producer.flush(0.05)
    assert producer.close(0) >= 1
    assert producer.close() == 0  # idempotent
    assert len(producer) == 0
    with pytest.raises(KafkaError, match="used after close"):
        producer.produce("t", b"v")
    with pytest.raises(KafkaError, match="used after close"):
        producer.flush(0)


def test_flush_of_nothing_returns(cluster: KafkaCluster) -> None:
    with cluster.open_producer() as producer:
        producer.flush(1)
        producer.poll(0)


def test_refused_records_reach_on_error_as_kafka_errors(cluster: KafkaCluster) -> None:
    errors: list[KafkaError] = []
    producer = cluster.open_producer(
        {"message.timeout.ms": 100, "delivery.report.only.error": True}, on_error=errors.append
    )
    producer.produce("t", b"v", partition=3)
    deadline = time.monotonic() + 10
    while not errors and time.monotonic() < deadline:
        producer.poll(0.05)
    producer.close(0)
    assert len(errors) == 1
    err = errors[0]
    assert err.what == "the source cluster refused a record for t[3]"
    assert err.why is not None and err.why.startswith("_MSG_TIMED_OUT: ")
    assert err.context == {"cluster": "source", "topic": "t", "partition": 3}


def test_delivery_reporter_ignores_deliveries(cluster: KafkaCluster) -> None:
    errors: list[KafkaError] = []
    report = delivery_reporter(cluster, errors.append)
    report(None, Message(topic="t", partition=0, offset=1))
    assert errors == []
    report(RdError(RdError.MSG_SIZE_TOO_LARGE, "too big"), None)
    assert errors[0].what == "the source cluster refused a record"
    assert errors[0].why == "MSG_SIZE_TOO_LARGE: too big"


# ----------------------------------------------------------------------------- the boundary


def test_only_io_imports_confluent_kafka() -> None:
    import ast
    from pathlib import Path

    import connshift

    root = Path(connshift.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "io":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "confluent_kafka" or n.startswith("confluent_kafka.") for n in names):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []


def test_an_authorizer_refusal_is_access_denied_naming_principal_and_resource() -> None:
    from confluent_kafka import KafkaError as RdError
    from confluent_kafka import KafkaException

    from connshift.errors import ExitCode, KafkaAccessDenied
    from connshift.io.kafka import KafkaCluster

    cluster = KafkaCluster(
        {
            "bootstrap.servers": "127.0.0.1:1",
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-256",
            "sasl.username": "migrator",
            "sasl.password": "planted-secret-9f2c",
        },
        name="destination",
    )
    exc = KafkaException(RdError(RdError.TOPIC_AUTHORIZATION_FAILED))
    err = cluster.translate("could not create topic t1", exc, topic="t1")
    assert isinstance(err, KafkaAccessDenied) and err.exit_code == ExitCode.UNREACHABLE
    line = err.one_line()
    assert "authorizer refused User:migrator on topic t1" in line
    assert "TOPIC_AUTHORIZATION_FAILED" in line and "planted-secret-9f2c" not in line
    group = cluster.translate(
        "could not commit", KafkaException(RdError(RdError.GROUP_AUTHORIZATION_FAILED)), group="g"
    )
    assert isinstance(group, KafkaAccessDenied) and "on group g" in group.one_line()
    other = cluster.translate("could not list", KafkaException(RdError(RdError._TIMED_OUT)))
    assert not isinstance(other, KafkaAccessDenied)


def test_a_refused_client_certificate_is_an_auth_failure_other_transport_errors_not() -> None:
    """A broker that refuses our certificate answers with a TLS alert, which librdkafka
    reports as a transport error and retries until the request times out: kept, and
    named; a connection refused (the cluster is down) is not an authentication failure."""
    cluster = KafkaCluster(
        {"bootstrap.servers": "127.0.0.1:1", "security.protocol": "SSL"}, name="destination"
    )
    cluster._on_error(RdError(RdError._TRANSPORT, "ssl://h:1/bootstrap: Connection refused"))
    assert cluster.auth_refused("could not reach") is None
    alert = (
        "ssl://h:1/bootstrap: Receive failed: error:0A000416:SSL routines::ssl/tls alert "
        "certificate unknown: SSL alert number 46"
    )
    cluster._on_error(RdError(RdError._TRANSPORT, alert))
    refused = cluster.auth_refused("could not reach")
    assert refused is not None and "certificate unknown" in str(refused)
    assert "refused connshift (SSL)" in str(refused)


def test_new_topics_are_created_in_requests_of_about_a_hundred_partitions() -> None:
    from confluent_kafka.admin import NewTopic

    from connshift.io.kafka import _chunks

    topics = [NewTopic(f"t{i}", 10) for i in range(25)] + [NewTopic("big", 500), NewTopic("x", 1)]
    runs = list(_chunks(topics, 100))
    assert [len(r) for r in runs] == [10, 10, 5, 1, 1]
    assert [t.topic for r in runs for t in r] == [t.topic for t in topics]  # order kept
    assert list(_chunks([], 100)) == []


def test_offsets_of_partitions_whose_leaders_are_being_elected_are_transient(
    cluster: KafkaCluster,
) -> None:
    """librdkafka's batched ListOffsets says "No leaders found" (_NOENT) while a restarted
    broker's partitions get leaders: a follower waits that out (KafkaUnavailable); other
    refusals stay errors."""
    from confluent_kafka import KafkaException

    from connshift.errors import KafkaUnavailable

    class Admin:
        code = RdError._NOENT

        def list_offsets(self, *_a: object, **_k: object) -> None:
            raise KafkaException(RdError(self.code, "Failed to query partition leaders"))

        def poll(self, *_a: object) -> int:
            return 0

    admin = Admin()
    cluster._admin = admin  # type: ignore[assignment]
    with pytest.raises(KafkaUnavailable):
        cluster.watermarks_of([("t", 0)])
    admin.code = RdError.UNKNOWN_TOPIC_OR_PART
    with pytest.raises(KafkaError) as err:
        cluster.watermarks_of([("t", 0)])
    assert not isinstance(err.value, KafkaUnavailable)
