"""``connshift probe`` against the sandbox's three Kafka-API clusters, through the CLI.

Apache Kafka 3.9.2 and 4.4.0 must pass every check (the sandbox brokers run the log cleaner
every second, so compaction is observed within the probe's bound). tansu 0.6 on S3 has known
gaps: each must show as FAIL or SKIP with its evidence — never as a crash. Every run must leave
nothing with its scratch prefix behind, and its JSON must follow ``connshift.probe/1``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from connshift.app.sandbox import Sandbox
from connshift.core.probe import CHECK_IDS, SCHEMA
from connshift.io.kafka import KafkaCluster

from .helpers import run_cli, write_spec

#: cluster name in these tests -> sandbox port name
CLUSTERS = {"kafka-3.9": "source-kafka", "kafka-4.4": "destination-kafka", "tansu": "tansu"}
RELEASES = {"kafka-3.9": "3.9", "kafka-4.4": "4.4"}

#: what tansu 0.6 is known not to do (FAIL, or SKIP for the bounded compaction wait)
TANSU_GAPS = {
    "timestamps.log-append-time",
    "transactions.commit-abort",
    "compaction.honoured",
    "message.max-size",
    "offsets.by-timestamp",
    "records.delete",
    "offsets.earliest-latest",
    "partitions.create",
    "configs.describe-alter",
    "configs.rejected-keys",
    "acls.api",
    "logdirs.describe",
    "producers.describe",
    "connect.internal-topics",
}
#: what tansu 0.6 does
TANSU_WORKS = {
    "produce.keys-headers-nulls",
    "timestamps.create-time",
    "producer.idempotent",
    "groups.join-commit-alter-delete",
    "topics.auto-create",
}

_RUNS: dict[str, tuple[int, dict[str, Any], str]] = {}


def _spec(path: Path, destination: str) -> Path:
    return write_spec(
        path,
        name="probe-it",
        source="127.0.0.1:19092",
        destination=destination,
        state_dir=path.parent / "state",
    )


def probe_run(
    sandbox: Sandbox, name: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, Any], str]:
    """``connshift probe --json`` against one cluster, run once per session."""
    if name not in _RUNS:
        bootstrap = f"127.0.0.1:{sandbox.ports[CLUSTERS[name]]}"
        spec = _spec(tmp_path_factory.mktemp(f"probe-{name}") / "spec.yaml", bootstrap)
        proc = run_cli("probe", "-c", str(spec), "--json", timeout=400)
        assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-2000:]}"
        _RUNS[name] = (proc.returncode, json.loads(proc.stdout), proc.stderr)
    return _RUNS[name]


ALL = [
    pytest.param("kafka-3.9"),
    pytest.param("kafka-4.4"),
    pytest.param("tansu", marks=pytest.mark.tansu),
]


@pytest.mark.parametrize("name", ALL)
def test_json_follows_the_schema(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    code, data, _ = probe_run(sandbox, name, tmp_path_factory)
    assert data["schema"] == SCHEMA == "connshift.probe/1"
    assert {
        "side",
        "bootstrap",
        "kafka_version",
        "cluster_id",
        "brokers",
        "prefix",
        "started_at",
        "seconds",
        "ok",
        "tally",
        "checks",
        "needs",
        "needed_failures",
        "cleanup",
    } <= set(data)
    assert data["side"] == "destination"
    assert data["prefix"].startswith("connshift-probe-")
    assert data["brokers"] >= 1
    assert [c["id"] for c in data["checks"]] == list(CHECK_IDS)
    for c in data["checks"]:
        assert c["status"] in ("PASS", "FAIL", "SKIP"), c
        assert c["summary"] and c["subject"], c
        assert isinstance(c["evidence"], dict) and c["evidence"], c
        assert 0 <= c["seconds"] < 60, c  # every check is bounded
    assert sum(data["tally"].values()) == len(CHECK_IDS)
    assert data["ok"] is (data["tally"]["FAIL"] == 0)
    assert code == (0 if data["ok"] else 1)


@pytest.mark.parametrize("name", ["kafka-3.9", "kafka-4.4"])
def test_apache_kafka_passes_every_check(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    code, data, _ = probe_run(sandbox, name, tmp_path_factory)
    failing = {c["id"]: c["summary"] for c in data["checks"] if c["status"] != "PASS"}
    assert not failing, failing
    assert code == 0
    assert data["kafka_version"] == RELEASES[name]
    by_id = {c["id"]: c for c in data["checks"]}
    # a few pieces of evidence that the checks really looked
    assert by_id["producer.idempotent"]["evidence"]["copies_of_retried_batch"] == 1
    assert by_id["compaction.honoured"]["evidence"]["removed_offsets"] == [0, 1, 3, 4]
    assert by_id["message.max-size"]["evidence"]["over_limit"]["error"].startswith(
        "MSG_SIZE_TOO_LARGE"
    )
    assert by_id["configs.rejected-keys"]["evidence"]["rejected"] == {}
    assert by_id["logdirs.describe"]["evidence"]["log_dirs"]
    assert by_id["producers.describe"]["evidence"]["active_producers"]


@pytest.mark.tansu
def test_tansu_gaps_are_fails_or_skips_with_evidence(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, data, _ = probe_run(sandbox, "tansu", tmp_path_factory)
    assert code == 1
    by_id = {c["id"]: c for c in data["checks"]}
    for cid in TANSU_GAPS:
        c = by_id[cid]
        assert c["status"] in ("FAIL", "SKIP"), (cid, c["summary"])
        assert not c["evidence"].get("unexpected"), (cid, c["evidence"])  # not a crash
    for cid in TANSU_WORKS:
        assert by_id[cid]["status"] == "PASS", (cid, by_id[cid]["summary"])
    # the errors a client saw are kept as evidence
    assert "CreatePartitions" in by_id["partitions.create"]["evidence"]["error"]
    assert by_id["acls.api"]["evidence"]["api_versions"]["DeleteAcls"] == "not served"
    assert by_id["compaction.honoured"]["status"] == "SKIP"
    assert by_id["compaction.honoured"]["evidence"]["superseded_offsets"]


@pytest.mark.parametrize("name", ALL)
def test_nothing_is_left_behind(
    sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    _, data, _ = probe_run(sandbox, name, tmp_path_factory)
    prefix = data["prefix"]
    assert data["cleanup"]["leftover_topics"] == []
    assert data["cleanup"]["errors"] == []
    assert data["cleanup"]["topics_deleted"]
    cluster = KafkaCluster({"bootstrap.servers": data["bootstrap"]}, name=name)
    assert [t for t in cluster.topics() if t.startswith(prefix)] == []
    assert [g for g in cluster.groups() if g.startswith(prefix)] == []
    if name != "tansu":  # tansu cannot delete ACLs, and the probe created none there
        assert [a for a in cluster.acls() if prefix in a.principal] == []


def test_table_output_on_the_source_side(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = _spec(tmp_path / "spec.yaml", f"127.0.0.1:{sandbox.ports['tansu']}")
    proc = run_cli("probe", "-c", str(spec), "--side", "source", timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "connshift probe — source 127.0.0.1:19092" in proc.stdout
    for cid in ("produce.keys-headers-nulls", "topics.auto-create"):
        assert cid in proc.stdout
    assert "cleaned up" in proc.stdout


def test_unreachable_cluster_exits_3(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    spec = _spec(tmp_path / "spec.yaml", f"127.0.0.1:{port}")
    proc = run_cli("probe", "-c", str(spec), timeout=120)
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "could not reach the destination" in lines[0]
