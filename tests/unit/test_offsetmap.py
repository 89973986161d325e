"""Pure tests of the exact run-length offset map (core/offsetmap)."""

from __future__ import annotations

import json
import random

import pytest

from connshift.core.offsetmap import OffsetMapError, PartitionMap, Run, runs_from_offsets

SEEDS = range(200)


# --------------------------------------------------------------------------- helpers


def build(src_offsets: list[int], src_start: int = 0, dst_start: int = 0) -> PartitionMap:
    pmap = PartitionMap.starting_at(src_start, dst_start)
    pmap.append_offsets(src_offsets)
    return pmap


def random_source(rng: random.Random) -> tuple[int, int, list[int]]:
    """(log start, high watermark, offsets of the records a copy reads).

    Holes come in bursts (compaction, aborted records, transaction markers), sometimes
    at the very start or end of the range.
    """
    src_start = rng.choice([0, 0, rng.randint(1, 1000)])
    length = rng.randint(0, 120)
    hole_rate = rng.choice([0.0, 0.05, 0.3, 0.7, 0.95])
    offsets: list[int] = []
    o = src_start
    while o < src_start + length:
        if rng.random() < hole_rate:
            o += rng.randint(1, 6)  # a burst of missing offsets
            continue
        offsets.append(o)
        o += 1
    high = max(src_start + length, (offsets[-1] + 1) if offsets else src_start)
    return src_start, high, offsets


def brute_position(
    offsets: list[int], src_start: int, src_next: int, dst_start: int, o: int
) -> int | None:
    """The consumer-position translation, by definition."""
    if o > src_next:
        return None
    for i, s in enumerate(offsets):
        if s >= o:
            return dst_start + i
    return dst_start + len(offsets)


# --------------------------------------------------------------------------- Run


def test_run_ends() -> None:
    run = Run(10, 3, 4)
    assert run.src_end == 14
    assert run.dst_end == 7


# --------------------------------------------------------------------------- building


def test_starting_at_is_empty() -> None:
    pmap = PartitionMap.starting_at(42, dst_start=7)
    assert (pmap.src_start, pmap.src_next, pmap.dst_start, pmap.dst_next) == (42, 42, 7, 7)
    assert pmap.runs == []
    assert pmap.records == 0
    assert pmap.contiguous


def test_append_merges_adjacent_runs() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append(0, 0, 3)
    pmap.append(3, 3, 2)
    pmap.append(5, 5, 1)
    assert pmap.runs == [Run(0, 0, 6)]
    assert (pmap.src_next, pmap.dst_next) == (6, 6)


def test_append_after_gap_starts_new_run() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append(0, 0, 3)
    pmap.append(5, 3, 2)  # source offsets 3, 4 are a hole
    pmap.append(7, 5, 1)  # merges with the previous run
    assert pmap.runs == [Run(0, 0, 3), Run(5, 3, 3)]
    assert (pmap.src_next, pmap.dst_next) == (8, 6)
    assert pmap.records == 6
    assert not pmap.contiguous


def test_append_does_not_merge_across_advance_gap() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append(0, 0, 2)
    pmap.advance(4)
    pmap.append(4, 2, 1)
    assert pmap.runs == [Run(0, 0, 2), Run(4, 2, 1)]


def test_append_below_position_raises() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append(0, 0, 5)
    with pytest.raises(OffsetMapError, match="below the copy position 5"):
        pmap.append(4, 5, 1)
    assert pmap.runs == [Run(0, 0, 5)]
    assert (pmap.src_next, pmap.dst_next) == (5, 5)


def test_append_below_advanced_position_raises() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.advance(10)
    with pytest.raises(OffsetMapError):
        pmap.append(9, 0, 1)
    pmap.append(10, 0, 1)
    assert pmap.runs == [Run(10, 0, 1)]


@pytest.mark.parametrize("dst", [0, 2, 4, 100])
def test_append_wrong_destination_raises(dst: int) -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append(0, 0, 3)
    with pytest.raises(OffsetMapError, match="not the expected 3"):
        pmap.append(3, dst, 1)
    assert pmap.dst_next == 3


@pytest.mark.parametrize("length", [0, -1])
def test_append_non_positive_length_raises(length: int) -> None:
    pmap = PartitionMap.starting_at(0)
    with pytest.raises(OffsetMapError, match="positive"):
        pmap.append(0, 0, length)
    assert pmap.runs == []


def test_offset_map_error_is_value_error() -> None:
    assert issubclass(OffsetMapError, ValueError)


def test_advance_backwards_raises_and_forward_moves() -> None:
    pmap = PartitionMap.starting_at(5)
    pmap.advance(5)
    pmap.advance(9)
    assert pmap.src_next == 9
    with pytest.raises(OffsetMapError, match="back to 8"):
        pmap.advance(8)
    assert pmap.src_next == 9


def test_extend_accepts_runs_and_tuples_and_moves_position() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.extend([Run(0, 0, 2), (4, 2, 3)], src_next=10)
    assert pmap.runs == [Run(0, 0, 2), Run(4, 2, 3)]
    assert (pmap.src_next, pmap.dst_next) == (10, 5)


def test_extend_with_position_behind_runs_raises() -> None:
    pmap = PartitionMap.starting_at(0)
    with pytest.raises(OffsetMapError):
        pmap.extend([(0, 0, 5)], src_next=3)


def test_append_offsets_nonzero_destination_start() -> None:
    pmap = build([100, 101, 103], src_start=100, dst_start=7)
    assert pmap.runs == [Run(100, 7, 2), Run(103, 9, 1)]
    assert (pmap.src_next, pmap.dst_next) == (104, 10)
    assert pmap.records == 3


# --------------------------------------------------------------------------- queries


def test_contiguous() -> None:
    assert build([0, 1, 2]).contiguous
    assert build([5, 6], src_start=5, dst_start=5).contiguous
    assert not build([5, 6], src_start=5, dst_start=0).contiguous
    assert not build([0, 1, 3]).contiguous
    # a trailing gap does not break contiguity of what was copied
    pmap = build([0, 1, 2])
    pmap.advance(10)
    assert pmap.contiguous


def test_record_offset_copied_and_gaps() -> None:
    # source 10..12 copied, 13..14 a hole, 15..16 copied, 17 a hole (trailing)
    pmap = build([10, 11, 12, 15, 16], src_start=10)
    pmap.advance(18)
    expected = {9: None, 10: 0, 11: 1, 12: 2, 13: None, 14: None, 15: 3, 16: 4, 17: None}
    expected |= {18: None, 100: None}
    assert {o: pmap.record_offset(o) for o in expected} == expected


def test_record_offset_empty_map() -> None:
    pmap = PartitionMap.starting_at(0)
    assert pmap.record_offset(0) is None
    assert pmap.record_offset(-1) is None


def test_position_semantics() -> None:
    # src_start 10; records at 10, 11, 12, 15, 16; src_next 20 (17..19 a trailing gap)
    pmap = build([10, 11, 12, 15, 16], src_start=10, dst_start=100)
    pmap.advance(20)
    assert pmap.position(10) == 100  # exact record, at the start
    assert pmap.position(12) == 102  # exact record
    assert pmap.position(13) == 103  # inside a gap: the first record of the next run
    assert pmap.position(14) == 103
    assert pmap.position(15) == 103  # exact record, first of its run
    assert pmap.position(16) == 104
    assert pmap.position(17) == 105  # trailing gap: the destination end
    assert pmap.position(19) == 105
    assert pmap.position(20) == 105  # src_next itself: the destination end
    assert pmap.dst_next == 105
    assert pmap.position(21) is None  # beyond what the copy has reached
    assert pmap.position(10**12) is None
    assert pmap.position(9) == 100  # below the copy start: the destination start
    assert pmap.position(0) == 100


def test_position_gap_before_first_run() -> None:
    pmap = build([14, 15], src_start=10, dst_start=0)
    assert pmap.position(10) == 0
    assert pmap.position(11) == 0
    assert pmap.position(13) == 0
    assert pmap.position(14) == 0
    assert pmap.position(15) == 1
    assert pmap.position(16) == 2


def test_position_empty_map() -> None:
    pmap = PartitionMap.starting_at(7, dst_start=3)
    assert pmap.position(6) == 3
    assert pmap.position(7) == 3
    assert pmap.position(8) is None
    pmap.advance(12)  # everything up to 12 was a gap
    assert pmap.position(11) == 3
    assert pmap.position(12) == 3
    assert pmap.position(13) is None


def test_reverse_position() -> None:
    pmap = build([10, 11, 12, 15, 16], src_start=10, dst_start=100)
    pmap.advance(20)
    assert pmap.reverse_position(99) is None  # below the destination start
    assert [pmap.reverse_position(d) for d in range(100, 105)] == [10, 11, 12, 15, 16]
    assert pmap.reverse_position(105) == 20  # destination end -> source copy position
    assert pmap.reverse_position(106) is None


def test_reverse_position_empty_map() -> None:
    pmap = PartitionMap.starting_at(4, dst_start=2)
    assert pmap.reverse_position(2) == 4
    assert pmap.reverse_position(1) is None
    assert pmap.reverse_position(3) is None


def test_iter_pairs() -> None:
    pmap = build([3, 4, 7, 9, 10], src_start=3, dst_start=1)
    assert list(pmap.iter_pairs()) == [(3, 1), (4, 2), (7, 3), (9, 4), (10, 5)]
    assert list(PartitionMap.starting_at(0).iter_pairs()) == []


# --------------------------------------------------------------------------- serialisation


def test_json_round_trip_through_text() -> None:
    pmap = build([10, 11, 12, 15, 16], src_start=10, dst_start=100)
    pmap.advance(20)
    data = pmap.to_json()
    assert data == {
        "src_start": 10,
        "src_next": 20,
        "dst_start": 100,
        "dst_next": 105,
        "runs": [[10, 100, 3], [15, 103, 2]],
    }
    back = PartitionMap.from_json(json.loads(json.dumps(data)))
    assert back == pmap
    assert back.runs == [Run(10, 100, 3), Run(15, 103, 2)]
    # the loaded map keeps working: it can be extended where the original stopped
    back.append(20, 105, 1)
    assert back.runs[-1] == Run(20, 105, 1)


def test_from_json_accepts_string_integers_and_missing_runs() -> None:
    back = PartitionMap.from_json(
        {"src_start": "1", "src_next": "4", "dst_start": 0, "dst_next": "0"}
    )
    assert back == PartitionMap(src_start=1, src_next=4, dst_start=0, dst_next=0, runs=[])


def test_from_json_rejects_non_integers() -> None:
    with pytest.raises(TypeError, match="expected an integer"):
        PartitionMap.from_json(
            {"src_start": 1.5, "src_next": 4, "dst_start": 0, "dst_next": 0, "runs": []}
        )
    with pytest.raises(KeyError):
        PartitionMap.from_json({"src_start": 1, "src_next": 4, "dst_start": 0})


# --------------------------------------------------------------------------- runs_from_offsets


def test_runs_from_offsets() -> None:
    assert runs_from_offsets([], 5) == []
    assert runs_from_offsets([0, 1, 2], 0) == [Run(0, 0, 3)]
    assert runs_from_offsets([0, 1, 2], 10) == [Run(0, 10, 3)]
    assert runs_from_offsets([0, 1, 3, 4, 9], 0) == [Run(0, 0, 2), Run(3, 2, 2), Run(9, 4, 1)]


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("seed", SEEDS)
def test_random_source_translates_exactly(seed: int) -> None:
    rng = random.Random(seed)
    src_start, high, offsets = random_source(rng)
    dst_start = rng.choice([0, src_start, rng.randint(0, 500)])
    pmap = build(offsets, src_start=src_start, dst_start=dst_start)
    # the copy usually reaches the high watermark; a trailing hole is a gap
    if rng.random() < 0.8:
        pmap.advance(high)
    src_next = pmap.src_next
    dst_index = {s: dst_start + i for i, s in enumerate(offsets)}

    # the map is exactly the compressed offset list
    assert pmap.runs == runs_from_offsets(offsets, dst_start)
    assert pmap.records == len(offsets)
    assert pmap.dst_next == dst_start + len(offsets)
    assert list(pmap.iter_pairs()) == list(dst_index.items())
    assert pmap.contiguous == all(s == d for s, d in dst_index.items())
    # runs are maximal: no two neighbours could have been merged
    for a, b in zip(pmap.runs, pmap.runs[1:], strict=False):
        assert not (a.src_end == b.src and a.dst_end == b.dst)
        assert a.dst_end == b.dst  # destination offsets are dense

    for o in range(src_start - 3, src_next + 4):
        expected = brute_position(offsets, src_start, src_next, dst_start, o)
        assert pmap.position(o) == expected, o
        assert pmap.record_offset(o) == dst_index.get(o), o
        if expected is not None:
            # going back lands on the record a consumer at o reads next (or the copy end)
            nxt = next((s for s in offsets if s >= o), src_next)
            assert pmap.reverse_position(expected) == nxt, o

    for d in range(dst_start, pmap.dst_next + 1):
        s = pmap.reverse_position(d)
        assert s is not None
        assert pmap.position(s) == d
    assert pmap.reverse_position(dst_start - 1) is None
    assert pmap.reverse_position(pmap.dst_next + 1) is None

    assert PartitionMap.from_json(json.loads(json.dumps(pmap.to_json()))) == pmap


@pytest.mark.parametrize("seed", range(50))
def test_random_chunked_appends_equal_single_offsets(seed: int) -> None:
    """Appending runs in arbitrary chunks gives the same map as record-by-record."""
    rng = random.Random(1000 + seed)
    src_start, _high, offsets = random_source(rng)
    one = build(offsets, src_start=src_start)
    chunked = PartitionMap.starting_at(src_start)
    i = 0
    while i < len(offsets):
        # the longest consecutive stretch from i, cut at a random length
        j = i + 1
        while j < len(offsets) and offsets[j] == offsets[j - 1] + 1:
            j += 1
        j = rng.randint(i + 1, j)
        chunked.append(offsets[i], chunked.dst_next, j - i)
        i = j
    assert chunked == one
