"""Pure tests of the partition stream diff (core/streamdiff)."""

from __future__ import annotations

from connshift.core.digest import StreamDigest, record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.core.streamdiff import SAMPLE, Entry, SideIndex, diff_partition, same_record_at


def digest(value: str, key: str | None = None, ts: int = 1000) -> bytes:
    return record_digest(None if key is None else key.encode(), value.encode(), None, ts)


def entries(offsets: list[int], values: list[str], keys: list[int] | None = None) -> list[Entry]:
    keys = keys if keys is not None else list(range(len(values)))
    return [(o, digest(v), k) for o, v, k in zip(offsets, values, keys, strict=True)]


def pmap_for(
    src_offsets: list[int], src_start: int = 0, src_next: int | None = None
) -> PartitionMap:
    pmap = PartitionMap.starting_at(src_start)
    pmap.append_offsets(src_offsets)
    if src_next is not None:
        pmap.advance(src_next)
    return pmap


VALUES = ["a", "b", "c", "d", "e"]


def identical() -> tuple[SideIndex, SideIndex, PartitionMap]:
    src = SideIndex.build(entries([0, 1, 2, 3, 4], VALUES))
    dst = SideIndex.build(entries([0, 1, 2, 3, 4], VALUES))
    return src, dst, pmap_for([0, 1, 2, 3, 4])


def assert_only(diff: object, **kinds: list[object]) -> None:
    """Every failure list of ``diff`` is empty except the ones named."""
    for name in ("missing", "mismatched", "duplicates", "foreign"):
        assert getattr(diff, name) == kinds.get(name, []), name


# --------------------------------------------------------------------------- SideIndex


def test_side_index_build() -> None:
    idx = SideIndex.build([(5, b"x", 1), (2, b"y", 2), (9, b"z", 1)])
    assert idx.offsets == [2, 5, 9]
    assert idx.records[5] == (b"x", 1)
    assert idx.last_by_key == {1: 9, 2: 2}
    assert idx.superseded(1, 5)
    assert not idx.superseded(1, 9)
    assert not idx.superseded(2, 2)
    assert not idx.superseded(3, 0)
    assert idx.next_at_or_after(0) == 2
    assert idx.next_at_or_after(3) == 5
    assert idx.next_at_or_after(9) == 9
    assert idx.next_at_or_after(10) is None


# --------------------------------------------------------------------------- diff_partition


def test_identical_streams_pass() -> None:
    src, dst, pmap = identical()
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert diff.ok
    assert_only(diff)
    assert diff.matched == 5
    assert (diff.source_records, diff.destination_records) == (5, 5)
    expected = StreamDigest()
    expected.update_all(digest(v) for v in VALUES)
    assert diff.source_digest == diff.destination_digest == expected.hexdigest()
    assert diff.first == (0, 0)
    assert diff.last == (4, 4)
    ev = diff.evidence()
    assert ev["matched"] == 5
    assert ev["missing"] == ev["duplicates"] == ev["foreign"] == ev["mismatched"] == 0
    assert ev["first_offsets"] == [0, 0]
    assert ev["last_offsets"] == [4, 4]
    assert ev["source_digest"] == ev["destination_digest"]


def test_identical_streams_through_gapped_map_pass() -> None:
    # source has holes at 2 and 5..6 (compaction / markers); destination is dense
    src_offsets = [0, 1, 3, 4, 7]
    src = SideIndex.build(entries(src_offsets, VALUES))
    dst = SideIndex.build(entries([0, 1, 2, 3, 4], VALUES))
    diff = diff_partition(src, dst, pmap_for(src_offsets, src_next=9), compacted=False)
    assert diff.ok
    assert diff.matched == 5
    assert diff.first == (0, 0)
    assert diff.last == (7, 4)


def test_missing_record_on_destination_fails() -> None:
    src, _dst, pmap = identical()
    dst = SideIndex.build(entries([0, 1, 3, 4], ["a", "b", "d", "e"]))
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert not diff.ok
    assert_only(diff, missing=[2])
    assert diff.matched == 4
    assert diff.evidence()["missing_sample"] == [2]
    assert diff.evidence()["missing"] == 1


def test_source_record_skipped_by_the_copy_is_missing() -> None:
    # the map says source offset 2 was a gap, but the source holds a record there
    src, _dst, _pmap = identical()
    dst = SideIndex.build(entries([0, 1, 2, 3], ["a", "b", "d", "e"]))
    diff = diff_partition(src, dst, pmap_for([0, 1, 3, 4]), compacted=False)
    assert_only(diff, missing=[2])
    assert not diff.ok


def test_source_records_outside_copied_range_are_not_missing() -> None:
    src = SideIndex.build(entries([0, 1, 2, 3, 4], VALUES))
    dst = SideIndex.build(entries([0, 1], ["c", "d"]))
    # the copy began at 2 and has reached 4: offsets 0, 1 and 4 are outside its range
    pmap = PartitionMap.starting_at(2)
    pmap.append_offsets([2, 3])
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert diff.ok
    assert diff.matched == 2


def test_duplicated_record_on_destination_fails() -> None:
    src, _dst, pmap = identical()
    # a re-write after a crash: "e" written twice, the second copy beyond the map
    dst = SideIndex.build(entries([0, 1, 2, 3, 4, 5], [*VALUES, "e"]))
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert not diff.ok
    assert_only(diff, duplicates=[5])
    assert diff.matched == 5
    assert diff.evidence()["duplicates_sample"] == [5]
    assert diff.last == (4, 5)


def test_changed_value_fails_as_mismatch() -> None:
    src, _dst, pmap = identical()
    dst = SideIndex.build(entries([0, 1, 2, 3, 4], ["a", "b", "C", "d", "e"]))
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert not diff.ok
    assert_only(diff, mismatched=[(2, 2)])
    assert diff.matched == 4
    assert diff.evidence()["mismatched_sample"] == [(2, 2)]
    # the mismatched record is in neither stream digest; both see the 4 matches
    assert diff.source_digest == diff.destination_digest


def test_changed_value_through_gapped_map_names_both_offsets() -> None:
    src = SideIndex.build(entries([10, 12, 13], ["a", "b", "c"]))
    dst = SideIndex.build(entries([0, 1, 2], ["a", "B", "c"]))
    diff = diff_partition(src, dst, pmap_for([10, 12, 13], src_start=10), compacted=False)
    assert_only(diff, mismatched=[(12, 1)])


def test_foreign_record_fails() -> None:
    src, _dst, pmap = identical()
    dst = SideIndex.build(entries([0, 1, 2, 3, 4, 5, 6], [*VALUES, "zzz", "a"]))
    diff = diff_partition(src, dst, pmap, compacted=False)
    assert not diff.ok
    assert_only(diff, foreign=[5], duplicates=[6])
    assert diff.evidence()["foreign_sample"] == [5]


def test_evidence_samples_are_capped() -> None:
    n = SAMPLE + 5
    values = [f"v{i}" for i in range(n)]
    src = SideIndex.build(entries(list(range(n)), values))
    dst = SideIndex.build([])
    diff = diff_partition(src, dst, pmap_for(list(range(n))), compacted=False)
    ev = diff.evidence()
    assert ev["missing"] == n
    assert ev["missing_sample"] == list(range(SAMPLE))
    assert diff.first == (0, None)


def test_record_gone_from_source_after_copy_is_not_a_failure() -> None:
    src = SideIndex.build(entries([0, 2], ["a", "c"]))
    dst = SideIndex.build(entries([0, 1, 2], ["a", "b", "c"]))
    diff = diff_partition(src, dst, pmap_for([0, 1, 2]), compacted=False)
    assert diff.ok
    assert diff.gone_from_source == [1]
    assert diff.evidence()["gone_from_source_since_copy"] == 1


def test_record_gone_from_both_sides_counts_as_superseded() -> None:
    src = SideIndex.build(entries([0, 2], ["a", "c"]))
    dst = SideIndex.build(entries([0, 2], ["a", "c"]))
    diff = diff_partition(src, dst, pmap_for([0, 1, 2]), compacted=False)
    assert diff.ok
    assert diff.superseded == 1


# --------------------------------------------------------------------------- compacted


def test_compacted_destination_superseded_by_later_key_passes() -> None:
    # key 7 at source offsets 1 and 3; the destination compacted offset 1 away
    src = SideIndex.build(entries([0, 1, 2, 3], ["a", "k1", "c", "k2"], [0, 7, 2, 7]))
    dst = SideIndex.build(entries([0, 2, 3], ["a", "c", "k2"], [0, 2, 7]))
    pmap = pmap_for([0, 1, 2, 3])
    diff = diff_partition(src, dst, pmap, compacted=True)
    assert diff.ok
    assert diff.superseded == 1
    assert diff.matched == 3
    # the same picture on a topic that is not compacted is a lost record
    strict = diff_partition(src, dst, pmap, compacted=False)
    assert_only(strict, missing=[1])


def test_compacted_source_superseded_by_later_key_passes() -> None:
    # the source compacted offset 1 away after the copy; the destination still has it
    src = SideIndex.build(entries([0, 2, 3], ["a", "c", "k2"], [0, 2, 7]))
    dst = SideIndex.build(entries([0, 1, 2, 3], ["a", "k1", "c", "k2"], [0, 7, 2, 7]))
    diff = diff_partition(src, dst, pmap_for([0, 1, 2, 3]), compacted=True)
    assert diff.ok
    assert diff.superseded == 1
    assert diff.gone_from_source == []


def test_compacted_missing_without_later_key_fails() -> None:
    # key 7 appears only once: its absence on the destination is not compaction
    src = SideIndex.build(entries([0, 1, 2], ["a", "k1", "c"], [0, 7, 2]))
    dst = SideIndex.build(entries([0, 2], ["a", "c"], [0, 2]))
    diff = diff_partition(src, dst, pmap_for([0, 1, 2]), compacted=True)
    assert not diff.ok
    assert_only(diff, missing=[1])


def test_compacted_missing_with_earlier_key_only_fails() -> None:
    # the destination holds key 7 only *before* the missing record: not superseded
    src = SideIndex.build(entries([0, 1], ["k0", "k1"], [7, 7]))
    dst = SideIndex.build(entries([0], ["k0"], [7]))
    diff = diff_partition(src, dst, pmap_for([0, 1]), compacted=True)
    assert_only(diff, missing=[1])


# --------------------------------------------------------------------------- same_record_at


def test_same_record_at() -> None:
    src = SideIndex.build(entries([10, 12, 13], ["a", "b", "c"]))
    dst = SideIndex.build(entries([0, 1, 2], ["a", "b", "c"]))
    assert same_record_at(src, dst, 10, 0) is True
    assert same_record_at(src, dst, 11, 1) is True  # a gap: both read "b" next
    assert same_record_at(src, dst, 12, 1) is True
    assert same_record_at(src, dst, 12, 2) is False
    assert same_record_at(src, dst, 10, 1) is False
    assert same_record_at(src, dst, 14, 3) is None  # both at the end
    assert same_record_at(src, dst, 14, 2) is False  # one side has a record left
    assert same_record_at(src, dst, 13, 3) is False
