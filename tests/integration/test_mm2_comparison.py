"""MirrorMaker 2 (the baseline), run on the same topics in the same test as connshift.

Both copy a plain topic and a transactional one (every third transaction aborted) and
translate one consumer group. connshift's translation must be exact: the consumer
resumes at the very record it would have read on the source. MM2's is recorded, with
how far it falls from the exact position (MM2 only promises "at or before", within
offset.lag.max), in <tmp>/mm2-comparison.json and on stdout.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from connshift.app.sandbox import Sandbox
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox.mm2 import MirrorMaker2, wait_until_mirrored

from .helpers import run_json, unique_prefix, write_spec


def _cluster(bootstrap: str) -> KafkaCluster:
    return KafkaCluster({"bootstrap.servers": bootstrap}, name=bootstrap)


def _next_record(cluster: KafkaCluster, topic: str, part: int, position: int) -> tuple | None:
    for r in cluster.read(topic, part, position, isolation="read_committed", timeout=30):
        return (r.key, r.value)
    return None


def test_mm2_translation_vs_exact(sandbox: Sandbox, tmp_path: Path) -> None:
    source = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    destination = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    tag = uuid.uuid4().hex[:6]
    plain, txn = f"it.mm2plain.{tag}", f"it.mm2txn.{tag}"
    src = _cluster(source)
    src.create_topic(plain, 2)
    for p in (0, 1):
        src.produce(
            plain, [(f"k{i}".encode(), f"{p}-{i}".encode()) for i in range(3000)], partition=p
        )
    src.create_topic(txn, 1)
    producer = src.transactional_producer(f"it-mm2-{tag}")
    for t in range(30):
        producer.begin_transaction()
        for i in range(20):
            producer.produce(txn, key=f"t{t}".encode(), value=f"{t}-{i}".encode(), partition=0)
        producer.flush(30)
        (producer.abort_transaction if t % 3 == 2 else producer.commit_transaction)(30)
    group = f"it-mm2-group-{tag}"
    positions = {(plain, 0): 1234, (plain, 1): 2999, (txn, 0): 300}
    src.commit_group_offsets(group, positions)
    ends = {(t, p): src.watermarks(t, p)[1] for t, p in positions}

    # --- MirrorMaker 2: identity topic names on the destination
    mm2 = MirrorMaker2(
        tmp_path / "mm2",
        source,
        destination,
        topics_regex=f"it\\.mm2(plain|txn)\\.{tag}",
        groups_regex=group,
        tasks_max=3,
        name=f"cmp{tag}",
    )
    dst = _cluster(destination)
    mm2_offsets: dict[tuple[str, int], int] = {}
    with mm2:
        wait_until_mirrored(
            dst, {(plain, 0): 3000, (plain, 1): 3000}, timeout=120, alive=mm2.is_running
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            mm2_offsets = dst.group_offsets(group)
            if all(tp in mm2_offsets for tp in positions):
                break
            time.sleep(1)
    assert all(tp in mm2_offsets for tp in positions), f"MM2 synced {mm2_offsets}"

    # --- connshift: prefixed names, same group
    prefix = unique_prefix("mm2cmp")
    spec = write_spec(
        tmp_path / "spec.yaml",
        source=source,
        destination=destination,
        include=[plain.replace(".", r"\."), txn.replace(".", r"\.")],
        prefix=prefix,
        state_dir=tmp_path / "state",
    )
    run_json("sync", "-c", str(spec), "--once")
    applied = run_json("groups", "-c", str(spec), "apply", "--groups", group)
    assert applied["applied"] == [group]
    ours = dst.group_offsets(group)

    rows = []
    for (topic, part), position in sorted(positions.items()):
        expected = _next_record(src, topic, part, position)
        ours_offset = ours[(prefix + topic, part)]
        ours_record = _next_record(dst, prefix + topic, part, ours_offset)
        mm2_offset = mm2_offsets[(topic, part)]
        mm2_record = _next_record(dst, topic, part, mm2_offset)
        # how many records MM2's consumer re-reads (or skips) before the right one
        mm2_copy = [(r.key, r.value) for r in dst.read(topic, part, isolation="read_committed")]
        exact_mm2_index = mm2_copy.index(expected) if expected in mm2_copy else None
        first_index = next(
            (
                i
                for i, r in enumerate(dst.read(topic, part, isolation="read_committed"))
                if r.offset >= mm2_offset
            ),
            len(mm2_copy),
        )
        rows.append(
            {
                "partition": f"{topic}[{part}]",
                "source_committed": position,
                "source_end": ends[(topic, part)],
                "connshift_offset": ours_offset,
                "connshift_same_record": ours_record == expected,
                "mm2_offset": mm2_offset,
                "mm2_same_record": mm2_record == expected,
                "mm2_records_off": None
                if exact_mm2_index is None
                else exact_mm2_index - first_index,
                "mm2_copy_records": len(mm2_copy),
            }
        )
        assert ours_record == expected, rows[-1]  # connshift: exact, always
    out = tmp_path / "mm2-comparison.json"
    out.write_text(json.dumps(rows, indent=2))
    print("\nMM2 vs connshift group translation:\n" + json.dumps(rows, indent=2))
    # MM2's own promise is "at or before" the right record: never after it
    for row in rows:
        if row["mm2_records_off"] is not None:
            assert row["mm2_records_off"] >= 0, row
