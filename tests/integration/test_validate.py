"""`connshift validate` on real clusters: many partitions streamed at once, memory kept
in step by pausing the side ahead, and the first difference named on each side."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connshift.app import validate as validate_mod
from connshift.app.config import load_spec
from connshift.app.context import Migration
from connshift.io.kafka import KafkaCluster

from .conftest import Estate
from .helpers import run_cli, run_json, write_spec

pytestmark = pytest.mark.integration


def _fill(cluster: KafkaCluster, topic: str, counts: list[int]) -> None:
    """``counts[p]`` keyed records with a header into partition ``p`` of a new topic."""
    cluster.create_topic(topic, len(counts))
    producer = cluster.producer({"linger.ms": 20, "enable.idempotence": True})
    for part, count in enumerate(counts):
        for i in range(count):
            while True:
                try:
                    producer.produce(
                        topic,
                        f"{topic}-{part}-{i}".encode() * 3,
                        f"k{i % 17}".encode(),
                        part,
                        headers=[("i", str(i).encode())],
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
    assert producer.flush(60) == 0


@pytest.fixture
def copied(estate: Estate, tmp_path: Path) -> Iterator[tuple[Path, dict[str, list[int]]]]:
    """Two topics (one partition empty) filled on the source and copied by sync."""
    source, destination = estate.source_kafka, estate.destination_kafka
    base = f"it.validate.{uuid.uuid4().hex[:6]}"
    topics = {f"{base}.a": [400, 700, 250, 3000], f"{base}.b": [300, 0, 120]}
    src = KafkaCluster({"bootstrap.servers": source}, name="source")
    dst = KafkaCluster({"bootstrap.servers": destination}, name="destination")
    try:
        for topic, counts in topics.items():
            _fill(src, topic, counts)
        spec = write_spec(
            tmp_path / "spec.yaml",
            source=source,
            destination=destination,
            include=[base.replace(".", r"\.") + r"\..*"],
            state_dir=tmp_path / "state",
            name=f"it-validate-{base[-6:]}",
        )
        run_cli("sync", "-c", str(spec), "--once", check=True)
        yield spec, topics
    finally:
        for cluster in (src, dst):
            existing = set(cluster.topics())
            for topic in topics:
                if topic in existing:
                    cluster.delete_topic(topic)


def test_validate_streams_many_partitions_and_prints_its_throughput(
    copied: tuple[Path, dict[str, list[int]]],
) -> None:
    spec, topics = copied
    report = run_json("validate", "-c", str(spec))
    diffs = {c["subject"]: c for c in report["checks"] if c["id"] == "stream.diff"}
    assert set(diffs) == {f"{t}[{p}]" for t, counts in topics.items() for p in range(len(counts))}
    assert all(c["status"] == "PASS" for c in diffs.values()), diffs
    total = sum(sum(c) for c in topics.values())
    for topic, counts in topics.items():
        for p, n in enumerate(counts):
            ev = diffs[f"{topic}[{p}]"]["evidence"]
            assert ev["matched"] == ev["source_records"] == ev["destination_records"] == n
            assert ev["first_difference"] is None
            assert ev["last_offsets"] == ([n - 1, n - 1] if n else [None, None])
    tp = report["throughput"]
    assert tp["partitions"] == len(diffs)
    assert tp["source_records"] == tp["destination_records"] == total
    assert tp["seconds"] > 0 and tp["records_per_second"] > 0
    human = run_cli("validate", "-c", str(spec), check=True)
    assert f"compared {total:,} records in {len(diffs)} partitions in" in human.stdout
    assert "records/s" in human.stdout


def test_validate_in_step_with_a_small_window_and_backlog(
    copied: tuple[Path, dict[str, list[int]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # two partitions at a time, each side paused when 50 records ahead: the same answers
    spec, topics = copied
    monkeypatch.setattr(validate_mod, "WINDOW", 2)
    monkeypatch.setattr(validate_mod, "BACKLOG", 100)
    monkeypatch.setattr(validate_mod, "SHARE", 50)
    pauses: list[tuple[str, int, bool]] = []
    original = validate_mod._Reader.pause

    def pause(self: validate_mod._Reader, tp: tuple[str, int], paused: bool) -> None:
        pauses.append((*tp, paused))
        original(self, tp, paused)

    monkeypatch.setattr(validate_mod._Reader, "pause", pause)
    with Migration(load_spec(spec)) as m:
        result = validate_mod.validate(m, record=False)
    assert result.ok, [c.summary for c in result.checks if c.status != "PASS"]
    assert result.partitions == 7
    assert result.source_records == sum(sum(c) for c in topics.values())
    assert any(paused for *_tp, paused in pauses)  # a side ran ahead and was held back


def test_validate_names_duplicates_foreign_and_missing_records(
    estate: Estate, copied: tuple[Path, dict[str, list[int]]]
) -> None:
    spec, topics = copied
    a, b = sorted(topics)
    src = KafkaCluster({"bootstrap.servers": estate.source_kafka})
    dst = KafkaCluster({"bootstrap.servers": estate.destination_kafka})
    # a[1]: a record of the source written again after the copy, then a foreign one
    again = next(iter(src.read(a, 1, 10, 11)))
    producer = dst.producer({"enable.idempotence": True})
    producer.produce(a, again.value, again.key, 1, timestamp=again.timestamp, headers=again.headers)
    producer.produce(a, b"not from the source", b"x", 1)
    assert producer.flush(30) == 0
    # b[2]: its first 5 records deleted on the destination
    dst.delete_records(b, {2: 5})
    proc = run_cli("validate", "-c", str(spec), "--json")
    assert proc.returncode == 1, proc.stderr
    report = run_json("validate", "-c", str(spec), check=False)
    diffs = {c["subject"]: c for c in report["checks"] if c["id"] == "stream.diff"}
    failed = {s for s, c in diffs.items() if c["status"] == "FAIL"}
    assert failed == {f"{a}[1]", f"{b}[2]"}
    dup = diffs[f"{a}[1]"]["evidence"]
    assert (dup["duplicates"], dup["foreign"], dup["missing"]) == (1, 1, 0)
    assert dup["duplicates_sample"] == [700] and dup["foreign_sample"] == [701]
    assert dup["first_difference"] == {
        "kind": "duplicate",
        "source_offset": None,
        "destination_offset": 700,
    }
    gone = diffs[f"{b}[2]"]["evidence"]
    assert gone["missing"] == 5 and gone["missing_sample"] == [0, 1, 2, 3, 4]
    assert gone["matched"] == 115
    assert gone["first_difference"] == {
        "kind": "missing",
        "source_offset": 0,
        "destination_offset": 0,
    }
    assert "first difference (missing): source 0, destination 0" in diffs[f"{b}[2]"]["summary"]
