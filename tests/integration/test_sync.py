"""`connshift sync` + `validate` + `groups`: exact offsets on Apache Kafka 4.4 and tansu."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from itertools import pairwise
from pathlib import Path

import pytest

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.io.kafka import KafkaCluster, TopicPartition

from .helpers import CLI, run_cli, run_json, unique_prefix, write_spec

SEEDED = [
    seedmod.EVENTS,
    seedmod.COMPACTED,
    seedmod.TRANSACTIONAL,
    seedmod.TRIMMED,
    seedmod.FILE_TOPIC,
]
CONTIGUOUS = {seedmod.EVENTS, seedmod.FILE_TOPIC}


def _dest(sandbox: Sandbox, kind: str) -> str:
    return f"127.0.0.1:{sandbox.ports['destination-kafka' if kind == 'kafka' else 'tansu']}"


def _cluster(bootstrap: str) -> KafkaCluster:
    return KafkaCluster({"bootstrap.servers": bootstrap}, name=bootstrap)


@pytest.fixture(params=["kafka-raw", "kafka-record", "tansu-raw", "tansu-record"])
def destination(request: pytest.FixtureRequest, sandbox: Sandbox) -> tuple[str, str]:
    """(destination bootstrap, copy engine)."""
    kind, engine = request.param.split("-")
    port = sandbox.ports["destination-kafka" if kind == "kafka" else "tansu"]
    return f"127.0.0.1:{port}", engine


def _escape(names: list[str]) -> list[str]:
    return [n.replace(".", r"\.") for n in names]


def test_sync_keeps_offsets_or_maps_them_exactly(
    sandbox: Sandbox, seeded: SeedResult, destination: tuple[str, str], tmp_path: Path
) -> None:
    destination, engine = destination
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    prefix = unique_prefix("sync")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=_escape(SEEDED),
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    summary = run_json("sync", "-c", str(spec), "--once", "--engine", engine)
    assert summary["engine"] == engine
    rows = {(r["topic"], r["partition"]): r for r in summary["partitions"]}
    assert {t for t, _ in rows} == set(SEEDED)
    src = _cluster(source)
    dst = _cluster(destination)
    for (topic, part), row in rows.items():
        high = src.watermarks(topic, part)[1]
        assert row["source_next"] == high, (topic, part)
        if topic in CONTIGUOUS:
            # identical offsets: the same record at the same offset on both sides
            assert row["contiguous"] and row["destination_next"] == high
            src_recs = [
                (r.offset, r.key, r.value, r.headers, r.timestamp) for r in src.read(topic, part)
            ]
            dst_recs = [
                (r.offset, r.key, r.value, r.headers, r.timestamp)
                for r in dst.read(prefix + topic, part)
            ]
            assert src_recs == dst_recs
    assert not rows[(seedmod.COMPACTED, 0)]["contiguous"]
    assert not rows[(seedmod.TRANSACTIONAL, 0)]["contiguous"]
    assert rows[(seedmod.TRANSACTIONAL, 0)]["destination_next"] == 80  # committed records only
    assert rows[(seedmod.TRIMMED, 0)]["destination_next"] == 140

    # the exact map answers `offsets`: a record, and a position inside a gap
    aborted = run_json("offsets", "-c", str(spec), seedmod.TRANSACTIONAL, "0", "25")
    assert aborted["record"] is False and aborted["destination_offset"] == 20
    trimmed = run_json("offsets", "-c", str(spec), seedmod.TRIMMED, "0", "100")
    assert trimmed["record"] is True and trimmed["destination_offset"] == 40

    report = run_json("validate", "-c", str(spec))
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == len(rows)
    assert all(c["status"] == "PASS" for c in diffs), [c for c in diffs if c["status"] != "PASS"]
    assert all(c["evidence"]["missing"] == 0 and c["evidence"]["duplicates"] == 0 for c in diffs)

    # a second run copies nothing and changes nothing
    again = run_json("sync", "-c", str(spec), "--once")
    assert again["records"] == 0


def _consume_one(bootstrap: str, group: str, topic: str, partition: int) -> tuple:
    consumer = _cluster(bootstrap).consumer(
        {"group.id": group, "isolation.level": "read_committed", "auto.offset.reset": "error"}
    )
    try:
        consumer.assign([TopicPartition(topic, partition)])  # resumes at the committed offset
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            return (msg.key(), msg.value(), msg.headers() or [], msg.timestamp()[1])
    finally:
        consumer.close()
    raise AssertionError(f"nothing consumed from {topic}[{partition}] as {group}")


@pytest.mark.parametrize("kind", ["kafka", "tansu"])
def test_groups_resume_at_the_same_record(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, kind: str
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = _dest(sandbox, kind)
    prefix = unique_prefix("groups")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=_escape([seedmod.TRANSACTIONAL, seedmod.COMPACTED, seedmod.EVENTS]),
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    src = _cluster(source)
    # positions chosen to land on a record, inside an aborted transaction, on a marker,
    # and inside a compaction hole
    compacted = [r.offset for r in src.read(seedmod.COMPACTED, 0)]
    hole = next(a + 1 for a, b in pairwise(compacted) if b - a > 1)
    group = f"it-resume-{uuid.uuid4().hex[:6]}"
    positions = {
        (seedmod.TRANSACTIONAL, 0): 25,  # inside aborted transaction 2
        (seedmod.COMPACTED, 0): hole,
        (seedmod.EVENTS, 1): 17,
    }
    src.commit_group_offsets(group, positions)
    marker_group = f"it-marker-{uuid.uuid4().hex[:6]}"
    src.commit_group_offsets(marker_group, {(seedmod.TRANSACTIONAL, 0): 10})  # a commit marker

    run_cli("sync", "-c", str(spec), "--once", check=True)
    translated = run_json(
        "groups", "-c", str(spec), "translate", "--groups", f"{group}|{marker_group}"
    )
    kinds = {(o["group"], o["topic"]): o["translation"] for o in translated["offsets"]}
    assert kinds[(group, seedmod.TRANSACTIONAL)] == "next-record"
    assert kinds[(group, seedmod.COMPACTED)] == "next-record"
    assert kinds[(group, seedmod.EVENTS)] == "exact"
    applied = run_json("groups", "-c", str(spec), "apply", "--groups", f"{group}|{marker_group}")
    assert set(applied["applied"]) == {group, marker_group}

    for topic, part in positions:
        assert _consume_one(source, group, topic, part) == _consume_one(
            destination, group, prefix + topic, part
        ), topic
    assert _consume_one(source, marker_group, seedmod.TRANSACTIONAL, 0) == _consume_one(
        destination, marker_group, prefix + seedmod.TRANSACTIONAL, 0
    )
    report = run_json("validate", "-c", str(spec))
    resumes = [c for c in report["checks"] if c["id"] == "group.resume"]
    assert resumes and all(c["status"] == "PASS" for c in resumes)
    assert report["ok"] is True


def test_apply_refuses_a_group_with_members(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    prefix = unique_prefix("busy")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=_escape([seedmod.EVENTS]),
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    group = f"it-busy-{uuid.uuid4().hex[:6]}"
    _cluster(source).commit_group_offsets(group, {(seedmod.EVENTS, 0): 5})
    run_cli("sync", "-c", str(spec), "--once", check=True)
    member = _cluster(destination).consumer({"group.id": group, "session.timeout.ms": 6000})
    member.subscribe([prefix + seedmod.EVENTS])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not member.assignment():
            member.poll(0.2)
        proc = run_cli("groups", "-c", str(spec), "apply", "--groups", group)
    finally:
        member.close()
    assert proc.returncode == 1
    assert group in proc.stderr and "member" in proc.stderr


@pytest.mark.parametrize("kind", ["kafka", "tansu"])
def test_sync_refuses_a_destination_with_foreign_records(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, kind: str
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = _dest(sandbox, kind)
    prefix = unique_prefix("foreign")
    dst = _cluster(destination)
    dst.create_topic(prefix + seedmod.TRIMMED, 1)
    dst.produce(prefix + seedmod.TRIMMED, [(b"someone", b"else")])
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=_escape([seedmod.TRIMMED]),
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    proc = run_cli("sync", "-c", str(spec), "--once")
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"{prefix}{seedmod.TRIMMED}[0]" in lines[0] and "not a connshift copy" in lines[0]
    records = list(dst.read(prefix + seedmod.TRIMMED, 0, isolation="read_uncommitted"))
    assert [(r.key, r.value) for r in records] == [(b"someone", b"else")]  # untouched


def _fill(cluster: KafkaCluster, topic: str, partitions: int, count: int) -> None:
    cluster.create_topic(topic, partitions)
    producer = cluster.producer(
        {"linger.ms": 50, "batch.size": 1000000, "enable.idempotence": True}
    )
    rng = random.Random(5)
    for i in range(count):
        value = rng.randbytes(100)
        while True:
            try:
                producer.produce(
                    topic,
                    value,
                    str(i).encode(),
                    i % partitions,
                    None,
                    None,
                    0,
                    [("n", str(i).encode())],
                )
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def _copied(dst: KafkaCluster, topic: str, kind: str) -> int:
    if topic not in dst.topics():
        return 0
    if kind == "tansu":  # its ListOffsets(LATEST) is wrong: ask a fetch
        return sum(high for _, high in dst.end_offsets(topic, [0, 1], timeout=5).values())
    return sum(dst.watermarks(topic, p)[1] for p in (0, 1))


@pytest.mark.parametrize("kind", ["kafka", "tansu"])
def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    sandbox: Sandbox, tmp_path: Path, kind: str
) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = _dest(sandbox, kind)
    topic = f"it.crash.{uuid.uuid4().hex[:6]}"
    _fill(_cluster(source), topic, 2, 300_000)
    prefix = unique_prefix("crash")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[topic.replace(".", r"\.")],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    rng = random.Random(int(os.environ.get("CONNSHIFT_TEST_SEED", "11")))
    dst = _cluster(destination)
    total = 300_000
    kills = 0
    for _ in range(4):  # bounded: four runs, each killed with SIGKILL at a random moment
        proc = subprocess.Popen(
            [*CLI, "sync", "-c", str(spec), "--once", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if kind == "tansu":
            # tansu's end offsets take a fetch (~0.5 s) to learn: kill at a random moment
            # of the first second instead (the copy itself takes a few seconds there)
            time.sleep(rng.uniform(0.3, 1.2))
        else:
            copied_now = _copied(dst, prefix + topic, kind)
            goal = copied_now + rng.uniform(0.05, 0.6) * (total - copied_now)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if _copied(dst, prefix + topic, kind) >= goal:
                    break
                time.sleep(0.02)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(30)
    final = run_json("sync", "-c", str(spec), "--once", timeout=600)
    assert final["records"] + sum(final["recovered_from_destination_tail"].values()) >= 0
    report = run_json("validate", "-c", str(spec), timeout=600)
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == 2
    for c in diffs:
        assert c["status"] == "PASS", c
        assert c["evidence"]["missing"] == 0 and c["evidence"]["duplicates"] == 0
        assert c["evidence"]["matched"] == 150_000
        assert c["evidence"]["offsets_identical"] is True
    assert kills >= 2, "runs were not killed mid-copy: the test proved nothing"
