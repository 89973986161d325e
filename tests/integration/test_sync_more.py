"""sync scale-out (two processes share partitions), --follow with SIGTERM, and ACLs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.io.kafka import KafkaCluster

from .helpers import CLI, copied_so_far, run_json, unique_prefix, write_spec


def _cluster(bootstrap: str) -> KafkaCluster:
    return KafkaCluster({"bootstrap.servers": bootstrap}, name=bootstrap)


def _fill(cluster: KafkaCluster, topic: str, partitions: int, per_partition: int) -> None:
    cluster.create_topic(topic, partitions)
    for p in range(partitions):
        cluster.produce(
            topic,
            [(f"k{i}".encode(), f"{topic}-{p}-{i}".encode()) for i in range(per_partition)],
            partition=p,
        )


def test_two_sync_processes_share_the_partitions(sandbox: Sandbox, tmp_path: Path) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    topic = f"it.scale.{uuid.uuid4().hex[:6]}"
    _fill(_cluster(source), topic, 6, 20_000)
    prefix = unique_prefix("scale")
    name = f"scale-{uuid.uuid4().hex[:6]}"  # the spec name is the sync group's name
    specs = [
        write_spec(
            tmp_path / f"spec{i}.yaml",
            source=source,
            destination=destination,
            include=[topic.replace(".", r"\.")],
            prefix=prefix,
            state_dir=tmp_path / f"state{i}",  # two machines: nothing shared but Kafka
            name=name,
        )
        for i in range(2)
    ]
    procs = [
        subprocess.Popen(
            [*CLI, "sync", "-c", str(s), "--once", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for s in specs
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    summaries = [json.loads(o[0]) for o in outs]
    # each process finished with partitions of its own; together they hold all six
    owned = [{r["partition"] for r in s["partitions"]} for s in summaries]
    assert set().union(*owned) == set(range(6))
    copied = sum(s["records"] for s in summaries)
    assert copied == 6 * 20_000  # nothing copied twice
    # either process's spec can validate: the maps are mirrored on the destination
    report = run_json("validate", "-c", str(specs[0]))
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == 6 and all(c["status"] == "PASS" for c in diffs)


def test_follow_tails_until_sigterm(sandbox: Sandbox, tmp_path: Path) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    topic = f"it.follow.{uuid.uuid4().hex[:6]}"
    src = _cluster(source)
    _fill(src, topic, 2, 1_000)
    prefix = unique_prefix("follow")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[topic.replace(".", r"\.")],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    proc = subprocess.Popen(
        [*CLI, "sync", "-c", str(spec), "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dst = _cluster(destination)

    def copied() -> int:
        return copied_so_far(dst, prefix + topic, 2)

    deadline = time.monotonic() + 60
    while copied() < 2_000 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert copied() == 2_000
    src.produce(topic, [(b"late", f"late-{i}".encode()) for i in range(500)], partition=1)
    deadline = time.monotonic() + 60
    while copied() < 2_500 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert copied() == 2_500  # tailing picked up records written after it started
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert {r["partition"]: r["source_next"] for r in summary["partitions"]} == {0: 1000, 1: 1500}
    report = run_json("validate", "-c", str(spec))
    assert report["ok"] is True


def test_acls_of_migrated_topics_are_copied(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    prefix = unique_prefix("acl")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[r"app\..*", r"shop\..*"],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    pmap = tmp_path / "principals.yaml"
    pmap.write_text("User:billing: User:billing-svc\n")
    before = run_json("acls", "-c", str(spec), "diff", "--principal-map", str(pmap), check=False)
    relevant = {(a["name"], a["principal"]) for a in before["source_relevant"]}
    assert ("hr.", "User:hr") not in relevant  # covers no migrated topic
    assert (seedmod.EVENTS, "User:billing") in relevant
    missing = {
        (a["resource_type"], a["name"], a["principal"]) for a in before["missing_on_destination"]
    }
    assert ("TOPIC", prefix + seedmod.EVENTS, "User:billing-svc") in missing
    assert ("TOPIC", prefix + "shop.", "User:cdc") in missing  # prefixed pattern, prefixed too
    run_json("acls", "-c", str(spec), "apply", "--principal-map", str(pmap))
    after = run_json("acls", "-c", str(spec), "diff", "--principal-map", str(pmap))
    assert after["missing_on_destination"] == []
    dst_acls = {(a.resource_type, a.name, a.principal) for a in _cluster(destination).acls()}
    assert missing <= dst_acls


def test_groups_go_back_to_the_source_exactly(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    prefix = unique_prefix("back")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[r"app\.payments-tx", r"app\.audit-trimmed"],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    run_json("sync", "-c", str(spec), "--once")
    group = f"it-back-{uuid.uuid4().hex[:6]}"
    dst = _cluster(destination)
    # a consumer that moved to the destination read this far there
    dst.commit_group_offsets(
        group, {(prefix + seedmod.TRANSACTIONAL, 0): 33, (prefix + seedmod.TRIMMED, 0): 10}
    )
    back = run_json("groups", "-c", str(spec), "apply", "--reverse", "--groups", group)
    assert back["applied"] == [group] and back["reverse"] is True
    committed = _cluster(source).group_offsets(group)
    # destination 33 is the 34th committed payment: source offset 52 (markers and aborted
    # records in between); destination 10 of the trimmed topic is source 70 (log start 60)
    src = _cluster(source)
    dst_next = next(iter(dst.read(prefix + seedmod.TRANSACTIONAL, 0, 33, 34)))
    src_next = next(iter(src.read(seedmod.TRANSACTIONAL, 0, committed[(seedmod.TRANSACTIONAL, 0)])))
    assert (dst_next.key, dst_next.value) == (src_next.key, src_next.value)
    assert committed[(seedmod.TRIMMED, 0)] == 70
