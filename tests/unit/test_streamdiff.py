"""Pure tests of the partition stream diff (core/streamdiff)."""

from __future__ import annotations

import random

import pytest

from connshift.core import streamdiff
from connshift.core.digest import StreamDigest, record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.core.streamdiff import (
    SAMPLE,
    Difference,
    Entry,
    PartitionDiff,
    SideIndex,
    StreamDiff,
    diff_partition,
    same_next_record,
    same_record_at,
)


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


# --------------------------------------------------------------------------- StreamDiff


def stream(
    pmap: PartitionMap,
    src: list[Entry],
    dst: list[Entry],
    *,
    compacted: bool = False,
    chunk: int = 2,
    **positions: list[int],
) -> StreamDiff:
    """Feed both sides in alternating chunks of ``chunk`` entries, as a reader would."""
    diff = StreamDiff(pmap, compacted=compacted, **positions)  # type: ignore[arg-type]
    for i in range(0, max(len(src), len(dst)) + chunk, chunk):
        diff.add_source(src[i : i + chunk])
        diff.add_destination(dst[i : i + chunk])
    diff.end_source()
    diff.end_destination()
    return diff


def result(diff: StreamDiff, src: list[Entry], pmap: PartitionMap) -> PartitionDiff:
    """The result, with the digests beyond the map looked up on the source's copied
    range (a second read of it, as validate does)."""
    on_source = {e[1] for e in src if pmap.src_start <= e[0] < pmap.src_next}
    return diff.result(diff.beyond_map_digests() & on_source)


def test_stream_names_the_first_missing_offset_on_each_side() -> None:
    pmap = pmap_for([10, 11, 12, 13, 14], src_start=10)  # destination 0..4
    src = entries([10, 11, 12, 13, 14], VALUES)
    dst = entries([0, 1, 3, 4], ["a", "b", "d", "e"])
    diff = stream(pmap, src, dst).result()
    assert_only(diff, missing=[12])
    assert diff.first_difference == Difference("missing", 12, 2)
    assert diff.evidence()["first_difference"] == {
        "kind": "missing",
        "source_offset": 12,
        "destination_offset": 2,
    }


def test_stream_first_difference_is_the_earliest_of_several() -> None:
    src_offsets = [0, 1, 2, 3, 4, 5, 6]
    pmap = pmap_for(src_offsets)
    src = entries(src_offsets, ["a", "b", "c", "d", "e", "f", "g"])
    dst = entries([0, 1, 2, 3, 4, 6, 7], ["a", "b", "c", "X", "e", "g", "g"])
    diff = result(stream(pmap, src, dst), src, pmap)
    assert_only(diff, mismatched=[(3, 3)], missing=[5], duplicates=[7])
    assert diff.first_difference == Difference("mismatched", 3, 3)
    assert diff.matched == 5


def test_stream_duplicate_and_foreign_beyond_the_map() -> None:
    src, _dst, pmap = identical()
    dst = entries([0, 1, 2, 3, 4, 5, 6, 7], [*VALUES, "b", "zzz", "e"])
    diff = result(stream(pmap, src.entries(), dst), src.entries(), pmap)
    assert_only(diff, duplicates=[5, 7], foreign=[6])
    assert diff.first_difference == Difference("duplicate", None, 5)
    assert diff.matched == 5
    assert not diff.ok


def test_stream_beyond_the_map_past_the_limit_is_unclassified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streamdiff, "TAIL_LIMIT", 1)
    src, _dst, pmap = identical()
    dst = entries([0, 1, 2, 3, 4, 5, 6], [*VALUES, "b", "zzz"])
    diff = stream(pmap, src.entries(), dst)
    assert diff.beyond_map_digests() == {digest("b")}  # the first only
    res = result(diff, src.entries(), pmap)
    assert_only(res, duplicates=[5])
    assert res.unclassified == 1
    assert res.evidence()["beyond_map_unclassified"] == 1
    assert res.first_difference == Difference("duplicate", None, 5)
    assert not res.ok


def test_stream_through_a_multi_run_map() -> None:
    # source 0..2 -> destination 0..2, source 5..6 -> 3..4, source 9 -> 5
    src_offsets = [0, 1, 2, 5, 6, 9]
    pmap = pmap_for(src_offsets, src_next=10)
    assert len(pmap.runs) == 3
    values = ["a", "b", "c", "d", "e", "f"]
    same = stream(pmap, entries(src_offsets, values), entries(list(range(6)), values))
    assert same.result().ok
    assert same.result().matched == 6
    # the record at source 6 differs at destination 4; source 9 is missing at 5; and the
    # source holds a record at 7 the copy skipped (named with where the copy went on: 5)
    src = entries([0, 1, 2, 5, 6, 7, 9], ["a", "b", "c", "d", "e", "x", "f"])
    dst = entries([0, 1, 2, 3, 4], ["a", "b", "c", "d", "E"])
    diff = stream(pmap, src, dst, chunk=1).result()
    assert_only(diff, mismatched=[(6, 4)], missing=[7, 9])
    assert diff.first_difference == Difference("mismatched", 6, 4)
    assert diff.last == (9, 4)


def test_stream_compacted_missing_waits_for_a_later_record_of_its_key() -> None:
    # key 7 at source 1 and 4: the destination compacted 1 away; key 8 at source 2 has
    # no later record on the destination: missing
    src = entries([0, 1, 2, 3, 4], ["a", "k7", "k8", "d", "k7b"], [0, 7, 8, 3, 7])
    dst = entries([0, 3, 4], ["a", "d", "k7b"], [0, 3, 7])
    diff = stream(pmap_for([0, 1, 2, 3, 4]), src, dst, compacted=True, chunk=1).result()
    assert_only(diff, missing=[2])
    assert diff.superseded == 1
    assert diff.first_difference == Difference("missing", 2, 2)


def test_stream_compacted_superseded_by_a_record_beyond_the_map() -> None:
    # a connector cut over wrote key 7 again after the copy: the destination compacted
    # the copied record of key 7 away
    src = entries([0, 1], ["a", "k7"], [0, 7])
    dst = entries([0, 2], ["a", "k7-new"], [0, 7])
    pmap = pmap_for([0, 1])
    diff = stream(pmap, src, dst, compacted=True).result()
    assert diff.superseded == 1
    assert diff.missing == []
    assert diff.foreign == [2]  # what the map does not explain is still reported


def test_stream_compacted_gone_from_source_waits_for_its_key() -> None:
    src = entries([0, 3], ["a", "k7b"], [0, 7])
    dst = entries([0, 1, 2, 3], ["a", "k7", "k9", "k7b"], [0, 7, 9, 7])
    diff = stream(pmap_for([0, 1, 2, 3]), src, dst, compacted=True, chunk=1).result()
    assert diff.ok
    assert diff.superseded == 1  # source 1: key 7 again at source 3
    assert diff.gone_from_source == [2]  # key 9: no later record on the source


def test_stream_positions_give_the_next_record_on_each_side() -> None:
    pmap = pmap_for([10, 12, 13], src_start=10)
    src = entries([10, 12, 13], ["a", "b", "c"])
    dst = entries([0, 1, 2], ["a", "b", "c"])
    diff = stream(
        pmap,
        src,
        dst,
        source_positions=[10, 11, 13, 14],
        destination_positions=[0, 1, 2, 3],
    )
    assert diff.next_record("source", 11) == diff.next_record("destination", 1) == digest("b")
    assert diff.next_record("source", 13) == diff.next_record("destination", 2) == digest("c")
    assert diff.next_record("source", 14) is None
    assert diff.next_record("destination", 3) is None
    assert same_next_record(diff.next_record("source", 10), diff.next_record("destination", 0))
    assert same_next_record(None, None) is None
    assert same_next_record(digest("a"), None) is False


def test_stream_backlog_holds_only_what_the_other_side_has_not_reached() -> None:
    n = 1000
    values = [f"v{i}" for i in range(n)]
    diff = StreamDiff(pmap_for(list(range(n))), compacted=False)
    diff.add_source(entries(list(range(n)), values))
    assert diff.backlog() == (n, 0)  # the destination has said nothing yet
    for i in range(0, n, 100):  # the destination catches up: the backlog drains
        diff.add_destination(entries(list(range(i, i + 100)), values[i : i + 100]))
        assert diff.backlog() == (n - i - 100, 0)
    diff.end_source()
    diff.end_destination()
    assert diff.result().matched == n


def test_stream_entries_must_grow() -> None:
    diff = StreamDiff(pmap_for([0, 1]), compacted=False)
    diff.add_source(entries([1], ["a"]))
    with pytest.raises(ValueError, match="must grow"):
        diff.add_source(entries([0], ["a"]))
    with pytest.raises(ValueError, match="not over"):
        diff.result()


# --------------------------------------------------------------------------- against a reference


def reference(
    src: list[Entry], dst: list[Entry], pmap: PartitionMap, compacted: bool
) -> dict[str, object]:
    """The whole-partition comparison as validate did it before streaming (every record
    in memory): the oracle the stream must agree with."""
    s_rec = {o: (d, k) for o, d, k in src if pmap.src_start <= o < pmap.src_next}
    d_rec = {o: (d, k) for o, d, k in dst if o >= pmap.dst_start}
    s_last: dict[int, int] = {}
    d_last: dict[int, int] = {}
    for o in sorted(s_rec):
        s_last[s_rec[o][1]] = o
    for o in sorted(d_rec):
        d_last[d_rec[o][1]] = o
    out: dict[str, list[object]] = {k: [] for k in ("missing", "mismatched", "dup", "foreign")}
    out["gone"] = []
    matched = superseded = 0
    mapped_s: set[int] = set()
    mapped_d: set[int] = set()
    for so, do in pmap.iter_pairs():
        mapped_s.add(so)
        mapped_d.add(do)
        s, d = s_rec.get(so), d_rec.get(do)
        if s and d:
            if s[0] == d[0]:
                matched += 1
            else:
                out["mismatched"].append((so, do))
        elif s:
            if compacted and d_last.get(s[1], -1) > do:
                superseded += 1
            else:
                out["missing"].append(so)
        elif d:
            if compacted and s_last.get(d[1], -1) > so:
                superseded += 1
            else:
                out["gone"].append(so)
        else:
            superseded += 1
    out["missing"] += [o for o in s_rec if o not in mapped_s]
    out["missing"].sort()  # type: ignore[call-overload]
    digests = {v[0] for v in s_rec.values()}
    for o in sorted(d_rec):
        if o not in mapped_d:
            out["dup" if d_rec[o][0] in digests else "foreign"].append(o)
    return {"matched": matched, "superseded": superseded, **out}


@pytest.mark.parametrize("seed", range(300))
def test_stream_agrees_with_the_whole_partition_comparison(seed: int) -> None:
    rnd = random.Random(seed)
    compacted = rnd.random() < 0.5
    keys = rnd.randint(1, 6)
    start = rnd.randint(0, 3)
    # the source log: offsets with holes, values from a small alphabet (duplicates happen)
    src_offsets = sorted(rnd.sample(range(start, start + 40), rnd.randint(0, 25)))
    src = [(o, digest(f"v{rnd.randint(0, 12)}"), rnd.randrange(keys)) for o in src_offsets]
    # the copy: a map over most of them, maybe stopping early
    copied = [o for o in src_offsets if rnd.random() < 0.9]
    pmap = pmap_for(copied, src_start=start)
    if rnd.random() < 0.5:
        pmap.advance(start + 40)
    dst = [(pmap.record_offset(o), d, k) for o, d, k in src if pmap.record_offset(o) is not None]
    # then things happen on each side
    dst = [
        (o, d if rnd.random() > 0.1 else digest("changed"), k) for o, d, k in dst if o is not None
    ]
    dst = [e for e in dst if rnd.random() > 0.15]
    for extra in range(rnd.randint(0, 3)):
        pick = rnd.choice(src) if src and rnd.random() < 0.5 else (0, digest("zz"), 0)
        dst.append((pmap.dst_next + extra, pick[1], pick[2]))
    src = [e for e in src if rnd.random() > 0.1]
    fed = stream(pmap, src, dst, compacted=compacted, chunk=rnd.randint(1, 5))  # type: ignore[arg-type]
    diff = result(fed, src, pmap)  # type: ignore[arg-type]
    ref = reference(src, dst, pmap, compacted)  # type: ignore[arg-type]
    assert diff.matched == ref["matched"]
    assert diff.superseded == ref["superseded"]
    for mine, theirs in (
        ("missing", "missing"),
        ("mismatched", "mismatched"),
        ("duplicates", "dup"),
        ("foreign", "foreign"),
        ("gone_from_source", "gone"),
    ):
        want = ref[theirs]
        assert isinstance(want, list)
        assert getattr(diff, f"{mine}_count") == len(want), mine
        assert getattr(diff, mine) == want[:SAMPLE], mine
    assert diff.ok == (diff.first_difference is None)
