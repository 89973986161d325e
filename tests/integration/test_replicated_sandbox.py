"""The replicated sandbox profile (`connshift sandbox up --brokers 3`): what connshift
creates on a three-broker destination is replicated three times with two replicas in
sync, and a synced topic validates.

Skipped unless CONNSHIFT_TEST_REPLICATED=1 (`make test-faults` sets it and brings the
profile up). The session's sandbox fixture calls `up` without --brokers, which keeps the
profile the sandbox was started with.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.io.kafka import KafkaCluster

from .helpers import run_json, unique_prefix, write_spec

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(
        os.environ.get("CONNSHIFT_TEST_REPLICATED") != "1",
        reason="the replicated profile: set CONNSHIFT_TEST_REPLICATED=1 on a sandbox started "
        "with `connshift sandbox up --brokers 3`",
    ),
]

MAP_TOPIC = "connshift.offset-maps"


@pytest.fixture(scope="module")
def replicated(sandbox: Sandbox) -> Sandbox:
    if sandbox.brokers["destination"] < 3:
        pytest.fail(
            f"the sandbox at {sandbox.home} runs {sandbox.brokers['destination']} destination "
            "broker(s): `connshift sandbox down --purge`, then `connshift sandbox up --brokers 3`"
        )
    return sandbox


def _replicas(kafka: KafkaCluster, topic: str) -> tuple[int, str]:
    """(replication factor, effective min.insync.replicas) of ``topic``."""
    rf = kafka.describe_topic(topic)["replication_factor"]
    return rf, kafka.topic_configs(topic)["min.insync.replicas"]


def test_every_destination_broker_is_in_the_cluster(replicated: Sandbox) -> None:
    bootstrap = replicated.bootstrap("destination")
    assert bootstrap.count(",") == 2
    with KafkaCluster({"bootstrap.servers": bootstrap}, name="destination") as dst:
        info = dst.check_reachable()
    assert sorted(info.brokers) == sorted(bootstrap.split(","))
    status = {s.name: s for s in replicated.status().services}
    for name in replicated.broker_names("destination"):
        assert status[name].healthy, name


def test_a_synced_topic_has_rf_3_and_min_isr_2_and_validates(
    replicated: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    source = replicated.bootstrap("source")
    destination = replicated.bootstrap("destination")
    prefix = unique_prefix("repl")
    topics = [seedmod.EVENTS, seedmod.TRANSACTIONAL]
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[t.replace(".", r"\.") for t in topics],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    summary = run_json("sync", "-c", str(spec), "--once")
    assert {r["topic"] for r in summary["partitions"]} == set(topics)

    with KafkaCluster({"bootstrap.servers": destination}, name="destination") as dst:
        for topic in topics:
            assert _replicas(dst, prefix + topic) == (3, "2"), topic
        # the offset-map topic connshift creates for itself
        assert _replicas(dst, MAP_TOPIC) == (3, "2")
        # the destination worker's storage topics and the group coordinator's
        for internal in ("connect-dst-configs", "connect-dst-offsets", "connect-dst-status"):
            assert dst.describe_topic(internal)["replication_factor"] == 3, internal

    report = run_json("validate", "-c", str(spec))
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == len(summary["partitions"])
    assert all(c["status"] == "PASS" for c in diffs), [c for c in diffs if c["status"] != "PASS"]
    assert all(c["evidence"]["missing"] == 0 and c["evidence"]["duplicates"] == 0 for c in diffs)
