"""Unit tests of sync's crash reconciliation and topic selection, with a fake cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from connshift.app.config import parse_spec_text
from connshift.app.sync import MAP_TOPIC, SyncRefused, reconcile, select_topics
from connshift.core.offsetmap import PartitionMap, Run
from connshift.core.spec import Spec
from connshift.errors import CheckFailed, ExitCode, UsageError
from connshift.io.kafka import KafkaCluster, Record

TOPIC, DST_TOPIC, PART = "orders", "mig.orders", 2


# --------------------------------------------------------------------------- the fake


class Reader:
    """An iterator over records that remembers whether it was closed."""

    def __init__(self, records: list[Record]) -> None:
        self._it = iter(records)
        self.closed = False
        self.taken = 0

    def __iter__(self) -> Reader:
        return self

    def __next__(self) -> Record:
        if self.closed:
            raise StopIteration
        rec = next(self._it)
        self.taken += 1
        return rec

    def close(self) -> None:
        self.closed = True


class FakeCluster:
    """Just enough of :class:`KafkaCluster` for ``reconcile``: ``read()``, read-only."""

    def __init__(self, topic: str, records: list[Record]) -> None:
        self.topic = topic
        self.records = records
        self.reads: list[tuple[int, int | None, str]] = []
        self.readers: list[Reader] = []

    def read(
        self,
        topic: str,
        partition: int,
        start: int = -2,
        end: int | None = None,
        *,
        isolation: str = "read_committed",
        timeout: float = 30.0,
    ) -> Iterator[Record]:
        assert topic == self.topic
        assert partition == PART
        self.reads.append((start, end, isolation))
        recs = [r for r in self.records if r.offset >= start and (end is None or r.offset < end)]
        reader = Reader(recs)
        self.readers.append(reader)
        return reader


def rec(topic: str, offset: int, value: bytes | None, ts: int | None = None) -> Record:
    return Record(
        topic=topic,
        partition=PART,
        offset=offset,
        key=b"k%d" % (offset % 3),
        value=value,
        headers=[("trace", b"t%d" % offset)] if value else [],
        timestamp=1_700_000_000_000 + (offset if ts is None else ts),
        timestamp_type=1,
    )


# source: offsets 0..11 with holes at 3, 4 (compaction) and 8 (a transaction marker)
SRC_OFFSETS = [0, 1, 2, 5, 6, 7, 9, 10, 11]


def source_records() -> list[Record]:
    return [rec(TOPIC, o, b"v%d" % o) for o in SRC_OFFSETS]


def copy_of(src: list[Record], dst_start: int = 0) -> list[Record]:
    """What a copy of ``src`` looks like on the destination (dense offsets)."""
    return [
        Record(DST_TOPIC, PART, dst_start + i, r.key, r.value, r.headers, r.timestamp, 0)
        for i, r in enumerate(src)
    ]


def clusters(
    dst_records: list[Record], src: list[Record] | None = None
) -> tuple[FakeCluster, FakeCluster]:
    return FakeCluster(TOPIC, source_records() if src is None else src), FakeCluster(
        DST_TOPIC, dst_records
    )


def run(
    src: FakeCluster,
    dst: FakeCluster,
    stored: PartitionMap | None,
    src_bounds: tuple[int, int] = (0, 12),
    dst_bounds: tuple[int, int] | None = None,
) -> tuple[PartitionMap, int]:
    if dst_bounds is None:
        dst_bounds = (0, len(dst.records))
    return reconcile(
        cast(KafkaCluster, src),
        cast(KafkaCluster, dst),
        TOPIC,
        PART,
        DST_TOPIC,
        stored,
        src_bounds,
        dst_bounds,
    )


def checkpoint(copied: int) -> PartitionMap:
    """The stored map after the first ``copied`` source records were written."""
    pmap = PartitionMap.starting_at(0)
    pmap.append_offsets(SRC_OFFSETS[:copied])
    return pmap


def snapshot(pmap: PartitionMap) -> dict[str, object]:
    return pmap.to_json()


def assert_refused(exc: SyncRefused, *needles: str) -> None:
    assert isinstance(exc, CheckFailed)
    assert exc.exit_code == ExitCode.CHECK_FAILED
    assert int(exc.exit_code) == 1
    for needle in needles:
        assert needle in str(exc), needle
    assert exc.why and exc.fix


# --------------------------------------------------------------------------- no state


def test_empty_destination_no_state_starts_fresh_at_source_log_start() -> None:
    src, dst = clusters([])
    pmap, recovered = run(src, dst, None, src_bounds=(5, 12), dst_bounds=(0, 0))
    assert pmap == PartitionMap.starting_at(5, dst_start=0)
    assert recovered == 0
    assert src.reads == dst.reads == []


def test_empty_destination_with_moved_start_maps_from_its_end() -> None:
    src, dst = clusters([])
    pmap, recovered = run(src, dst, None, src_bounds=(0, 12), dst_bounds=(40, 40))
    assert pmap == PartitionMap.starting_at(0, dst_start=40)
    assert recovered == 0


def test_non_empty_destination_without_state_is_refused() -> None:
    src, dst = clusters(copy_of(source_records()[:3]))
    with pytest.raises(SyncRefused) as info:
        run(src, dst, None)
    assert_refused(info.value, f"{DST_TOPIC}[{PART}]", "3 records")
    assert info.value.context == {"topic": DST_TOPIC, "partition": PART}
    assert src.reads == dst.reads == []


# --------------------------------------------------------------------------- with state


def test_state_at_destination_end_is_kept_as_is() -> None:
    stored = checkpoint(4)
    before = snapshot(stored)
    src, dst = clusters(copy_of(source_records()[:4]))
    pmap, recovered = run(src, dst, stored)
    assert recovered == 0
    assert snapshot(pmap) == before
    assert src.reads == dst.reads == []


def test_matching_tail_extends_the_map() -> None:
    # checkpointed after 3 records (src 0..2); the copy went on to write 5, 6, 7, 9
    stored = checkpoint(3)
    assert (stored.src_next, stored.dst_next) == (3, 3)
    src, dst = clusters(copy_of(source_records()[:7]))
    pmap, recovered = run(src, dst, stored)
    assert recovered == 4
    assert pmap.runs == [Run(0, 0, 3), Run(5, 3, 3), Run(9, 6, 1)]
    assert (pmap.src_next, pmap.dst_next) == (10, 7)
    assert (pmap.src_start, pmap.dst_start) == (0, 0)
    # the destination tail is read without isolation from the checkpoint to its end,
    # the source from the copy position, committed records only
    assert dst.reads == [(3, 7, "read_uncommitted")]
    assert src.reads == [(3, None, "read_committed")]
    assert src.readers[0].closed
    assert src.readers[0].taken == 4  # no further than the tail


def test_matching_tail_with_gap_right_after_checkpoint() -> None:
    # the checkpoint also covered the hole 3..4 (src_next 5)
    stored = checkpoint(3)
    stored.advance(5)
    src, dst = clusters(copy_of(source_records()[:5]))
    pmap, recovered = run(src, dst, stored)
    assert recovered == 2
    assert pmap.runs == [Run(0, 0, 3), Run(5, 3, 2)]
    assert pmap.src_next == 7


def test_matching_tail_on_non_zero_destination_start() -> None:
    stored = PartitionMap.starting_at(0, dst_start=100)
    stored.append_offsets(SRC_OFFSETS[:2])
    src, dst = clusters(copy_of(source_records()[:5], dst_start=100))
    pmap, recovered = run(src, dst, stored, dst_bounds=(100, 105))
    assert recovered == 3
    assert list(pmap.iter_pairs()) == list(zip(SRC_OFFSETS[:5], range(100, 105), strict=True))


def test_tail_up_to_source_end_recovers_everything() -> None:
    stored = PartitionMap.starting_at(0)
    src, dst = clusters(copy_of(source_records()))
    pmap, recovered = run(src, dst, stored)
    assert recovered == len(SRC_OFFSETS)
    assert list(pmap.iter_pairs()) == [(s, i) for i, s in enumerate(SRC_OFFSETS)]
    assert pmap.src_next == 12


@pytest.mark.parametrize("bad_index", [3, 5])
def test_mismatching_tail_is_refused_and_nothing_changes(bad_index: int) -> None:
    stored = checkpoint(3)
    before = snapshot(stored)
    tail = copy_of(source_records()[:6])
    r = tail[bad_index]
    tail[bad_index] = Record(
        r.topic, r.partition, r.offset, r.key, b"foreign", r.headers, r.timestamp, 0
    )
    src, dst = clusters(tail)
    with pytest.raises(SyncRefused) as info:
        run(src, dst, stored)
    # the message names where the mismatch is (the records before it matched)
    assert_refused(info.value, f"{DST_TOPIC}[{PART}]", f"after offset {bad_index}", "do not match")
    assert info.value.context == {"topic": DST_TOPIC, "partition": PART}
    assert snapshot(stored) == before
    assert src.readers[0].closed


def test_tail_with_other_timestamp_is_refused() -> None:
    stored = checkpoint(3)
    tail = copy_of(source_records()[:4])
    r = tail[3]
    tail[3] = Record(r.topic, r.partition, r.offset, r.key, r.value, r.headers, r.timestamp + 1, 1)
    src, dst = clusters(tail)
    with pytest.raises(SyncRefused):
        run(src, dst, stored)


def test_tail_with_other_headers_is_refused() -> None:
    stored = checkpoint(3)
    tail = copy_of(source_records()[:4])
    r = tail[3]
    tail[3] = Record(r.topic, r.partition, r.offset, r.key, r.value, [], r.timestamp, 0)
    src, dst = clusters(tail)
    with pytest.raises(SyncRefused):
        run(src, dst, stored)


def test_tail_longer_than_the_source_is_refused() -> None:
    stored = checkpoint(len(SRC_OFFSETS))
    stored.advance(12)
    before = snapshot(stored)
    extra = rec(DST_TOPIC, len(SRC_OFFSETS), b"v11")  # a duplicate of the last record
    src, dst = clusters([*copy_of(source_records()), extra])
    with pytest.raises(SyncRefused) as info:
        run(src, dst, stored)
    assert_refused(info.value, "do not match")
    assert snapshot(stored) == before


def test_tail_with_offset_jump_is_refused() -> None:
    stored = checkpoint(3)
    tail = copy_of(source_records()[:5])
    r = tail[3]
    tail[3] = Record(r.topic, r.partition, 4, r.key, r.value, r.headers, r.timestamp, 0)
    src, dst = clusters(tail[:4])
    with pytest.raises(SyncRefused):
        run(src, dst, stored, dst_bounds=(0, 5))


def test_destination_shorter_than_state_is_refused() -> None:
    stored = checkpoint(5)
    before = snapshot(stored)
    src, dst = clusters(copy_of(source_records()[:3]))
    with pytest.raises(SyncRefused) as info:
        run(src, dst, stored)
    assert_refused(info.value, f"{DST_TOPIC}[{PART}]", "ends at 3", "up to 5")
    assert info.value.context == {"topic": DST_TOPIC, "partition": PART}
    assert snapshot(stored) == before
    assert src.reads == dst.reads == []


def test_source_log_start_past_copy_position_is_refused() -> None:
    stored = checkpoint(3)  # src_next 3
    before = snapshot(stored)
    src, dst = clusters(copy_of(source_records()[:3]))
    with pytest.raises(SyncRefused) as info:
        run(src, dst, stored, src_bounds=(6, 12))
    assert_refused(info.value, f"{TOPIC}[{PART}] 3..5", "deleted before they were copied")
    assert info.value.context == {"topic": TOPIC, "partition": PART}
    assert snapshot(stored) == before
    assert src.reads == dst.reads == []


def test_source_log_start_at_copy_position_is_fine() -> None:
    stored = checkpoint(3)
    src, dst = clusters(copy_of(source_records()[:3]))
    pmap, recovered = run(src, dst, stored, src_bounds=(3, 12))
    assert recovered == 0
    assert pmap.src_next == 3


# --------------------------------------------------------------------------- select_topics

BASE_SPEC = """\
version: 1
source:
  kafka:
    bootstrap_servers: 127.0.0.1:19092
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:29092
"""

AVAILABLE = [
    "orders",
    "orders.dlq",
    "payments",
    "users",
    "__consumer_offsets",
    "__transaction_state",
    "connect-offsets",
    "connect-configs",
    "connect-status",
    "connect-offsets-2",
    MAP_TOPIC,
]


def spec(tmp_path: Path, topics: str | None = None) -> Spec:
    text = BASE_SPEC + (f"topics: {topics}\n" if topics else "")
    return parse_spec_text(text, env={}, base_dir=tmp_path)


def test_select_default_spec_skips_internal_topics(tmp_path: Path) -> None:
    got = select_topics(AVAILABLE, spec(tmp_path))
    assert got == ["connect-offsets-2", "orders", "orders.dlq", "payments", "users"]


def test_select_result_is_sorted(tmp_path: Path) -> None:
    assert select_topics(["b", "c", "a"], spec(tmp_path)) == ["a", "b", "c"]
    assert select_topics([], spec(tmp_path)) == []


def test_select_map_topic_never_copied(tmp_path: Path) -> None:
    s = spec(tmp_path, "{include: ['.*'], exclude: []}")
    got = select_topics(AVAILABLE, s)
    assert MAP_TOPIC not in got
    assert "__consumer_offsets" in got
    assert select_topics(AVAILABLE, s, [r"connshift\..*"]) == []


def test_select_spec_include_exclude(tmp_path: Path) -> None:
    s = spec(tmp_path, r"{include: ['orders.*', 'users'], exclude: ['.*\.dlq']}")
    assert select_topics(AVAILABLE, s) == ["orders", "users"]


def test_select_include_is_a_full_match(tmp_path: Path) -> None:
    s = spec(tmp_path, "{include: ['order']}")
    assert select_topics(AVAILABLE, s) == []


def test_select_topics_regexes_narrow_the_spec(tmp_path: Path) -> None:
    s = spec(tmp_path, r"{include: ['.*'], exclude: ['__.*', 'connect-.*', '.*\.dlq']}")
    assert select_topics(AVAILABLE, s, ["ord.*"]) == ["orders"]  # orders.dlq excluded by spec
    assert select_topics(AVAILABLE, s, ["orders", "pay.*"]) == ["orders", "payments"]
    assert select_topics(AVAILABLE, s, ["ord"]) == []  # --topics regexes fully match too
    assert select_topics(AVAILABLE, s, ["__consumer_offsets"]) == []  # cannot widen the spec
    assert select_topics(AVAILABLE, s, []) == ["orders", "payments", "users"]
    assert select_topics(AVAILABLE, s, None) == ["orders", "payments", "users"]


def test_select_bad_topics_regex_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="bad --topics regex") as info:
        select_topics(AVAILABLE, spec(tmp_path), ["orders", "pay[ments"])
    assert info.value.exit_code == ExitCode.USAGE
    assert "pay[ments" in info.value.what
