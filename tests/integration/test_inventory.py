"""`connshift inventory` on the seeded sandbox, and no secret in anything it writes."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster

from .conftest import SpecFor
from .helpers import run_cli, unique_prefix
from .helpers import write_spec as write_any_spec


def write_spec(spec_for: SpecFor) -> Path:
    return spec_for(name="inv", include=["app[.].*", "shop[.].*", "files[.].*"])


def test_inventory_records_the_seeded_estate(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, spec_for: SpecFor
) -> None:
    spec = write_spec(spec_for)
    out = tmp_path / "inventory.json"
    proc = run_cli("inventory", "-c", str(spec), "-o", str(out), "--rate-window", "0.5")
    assert proc.returncode == 0, proc.stderr
    inv = json.loads(out.read_text())
    assert inv["schema"] == "connshift.inventory/1"
    assert inv["cluster"]["version"]["release"] == "3.9"
    assert inv["connect_worker"]["version"] == "3.9.2"
    connectors = {c["name"]: c for c in inv["connectors"]}
    assert {"shop-cdc", "files-source", "files-sink"} <= set(connectors)
    cdc = connectors["shop-cdc"]
    assert cdc["shape"] == "cdc-source" and cdc["plugin_version"] == "3.6.1.Final"
    # the seeded connector takes its password from the workers' FileConfigProvider: the
    # inventory shows the reference (no secret) and finds no inline secret there
    assert cdc["config"]["database.password"].startswith("${file:")
    assert "database.password" not in cdc["inline_secrets"]
    assert set(cdc["topics"]) >= set(seedmod.CDC_TOPICS)
    assert connectors["files-sink"]["shape"] == "sink"
    assert connectors["files-sink"]["converters"]["value"].endswith("StringConverter")
    topics = {t["name"]: t for t in inv["topics"]}
    assert topics[seedmod.EVENTS]["partitions"] == 3
    assert topics[seedmod.EVENTS]["value_format"]["dominant"] == "JSON"
    assert topics[seedmod.FILE_TOPIC]["value_format"]["dominant"] == "TEXT"
    assert topics[seedmod.COMPACTED]["configs"]["cleanup.policy"] == "compact"
    # size on disk from DescribeLogDirs: a seeded topic holds bytes, partition by partition
    events = topics[seedmod.EVENTS]
    assert events["size_bytes"] > 0 and events["size_note"] is None
    assert set(events["partition_bytes"]) == {"0", "1", "2"}
    assert sum(events["partition_bytes"].values()) == events["size_bytes"]
    assert events["size_bytes_all_replicas"] >= events["size_bytes"]
    roles = {v["role"] for v in inv["connect_internal_topics"].values()}
    assert roles == {"config", "offsets", "status"}
    groups = {g["group"]: g for g in inv["groups"]}
    assert "billing-service" in groups and "connect-files-sink" in groups
    assert groups["billing-service"]["lag"][f"{seedmod.EVENTS}[0]"] >= 0
    assert any(a["principal"] == "User:billing" for a in inv["acls"])


@pytest.mark.tansu
def test_inventory_on_tansu_records_no_size_with_the_reason(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """tansu does not serve DescribeLogDirs: sizes are null with the reason, not a crash."""
    bootstrap = f"127.0.0.1:{sandbox.ports['tansu']}"
    topic = unique_prefix("invsize") + "t"
    cluster = KafkaCluster({"bootstrap.servers": bootstrap}, name="tansu")
    cluster.create_topic(topic, partitions=2)
    try:
        cluster.produce(topic, [(b"k", b'{"a": 1}')], partition=0)
        spec = write_any_spec(
            tmp_path / "spec.yaml",
            name="inv-tansu",
            source=bootstrap,
            destination=f"127.0.0.1:{sandbox.ports['destination-kafka']}",
            include=[topic.replace(".", "[.]")],
            state_dir=tmp_path / "state",
        )
        out = tmp_path / "inventory.json"
        proc = run_cli("inventory", "-c", str(spec), "-o", str(out), "--rate-window", "0")
        assert proc.returncode == 0, proc.stderr
        (entry,) = json.loads(out.read_text())["topics"]
        assert entry["name"] == topic and entry["partitions"] == 2
        assert entry["size_bytes"] is None and entry["partition_bytes"] == {}
        assert "DescribeLogDirs" in entry["size_note"]
        assert "size on disk not known" in proc.stdout
    finally:
        cluster.delete_topic(topic)


def test_planted_secrets_never_reach_an_artifact_or_output(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, spec_for: SpecFor
) -> None:
    secret = f"planted-S3CRET-{uuid.uuid4().hex}"
    jaas = f'org.apache.kafka.common.security.plain.PlainLoginModule required password="{secret}";'
    name = f"it-secret-{uuid.uuid4().hex[:6]}"
    url = f"http://127.0.0.1:{sandbox.ports['source-connect']}"
    with ConnectClient(url, name="source") as connect:
        connect.create(
            name,
            {
                "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                "file": str(sandbox.files_dir() / "access.log"),
                "topic": seedmod.FILE_TOPIC,
                "database.password": secret,
                "api.key": secret,
                "producer.override.sasl.jaas.config": jaas,
            },
            initial_state="STOPPED",
        )
    try:
        spec = write_spec(spec_for)
        outputs = []
        for args in (
            ["inventory", "-o", str(tmp_path / "inventory.json"), "--rate-window", "0"],
            ["inventory", "-o", str(tmp_path / "inventory2.json"), "--rate-window", "0", "--json"],
            ["plan", name, "-o", str(tmp_path / "plan.json")],
            ["plan", name, "--json"],
            # everything issue 7 renders from the recorded evidence
            ["cost", "--json"],
            ["decide", "--json"],
            ["score", "--json"],
            ["report", "-o", str(tmp_path / "report.html")],
            ["report", "--format", "md", "-o", str(tmp_path / "report.md")],
            ["report", "--format", "json", "-o", str(tmp_path / "report.json")],
        ):
            proc = run_cli(args[0], "-c", str(spec), *args[1:])
            # score exits 1 while rows are at 0 (no probe, baseline, ...): still an output
            assert proc.returncode in ((0, 1) if args[0] == "score" else (0,)), proc.stderr
            outputs += [proc.stdout, proc.stderr]
        assert (tmp_path / "report.html").stat().st_size > 0
        written = [p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file()]
        for text in outputs + written:
            assert secret not in text
        inv = json.loads((tmp_path / "inventory.json").read_text())
        planted = next(c for c in inv["connectors"] if c["name"] == name)
        assert set(planted["inline_secrets"]) >= {"database.password", "api.key"}
        assert planted["config"]["producer.override.sasl.jaas.config"] == "***"
    finally:
        with ConnectClient(url, name="source") as connect:
            connect.delete(name)


def test_review_of_the_seeded_estate(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, spec_for: SpecFor
) -> None:
    spec = write_spec(spec_for)
    proc = run_cli("review", "-c", str(spec), "--json", "--replay-window-hours", "1000000")
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == "connshift.review/1"
    found = {(f["id"], f["subject"]) for f in data["findings"]}
    # shop-cdc's password comes from a config provider (the inline case: tests/unit/test_review)
    assert ("connector.inline-secrets", "shop-cdc") not in found
    assert ("topic.replication-factor-1", seedmod.EVENTS) in found  # the sandbox is RF 1
    # retention shorter than an absurd replay window is flagged, and is high severity
    assert any(f["id"] == "topic.retention-below-replay-window" for f in data["findings"])
    assert proc.returncode == 1
    assert data["counts"]["high"] >= 1
    secret_free = proc.stdout + proc.stderr
    assert 'postgres"' not in secret_free and '"database.password": "postgres"' not in secret_free
