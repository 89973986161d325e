"""Pure tests of consumer-group offset translation (app/groups.translate_position)."""

from __future__ import annotations

import random

import pytest

from connshift.app.groups import GroupOffset, GroupsResult, Translation, translate_position
from connshift.core.offsetmap import PartitionMap


def gapped() -> PartitionMap:
    """Copy began at source 10 (log start); records 10-12, 15-16; reached 20; dst from 100."""
    pmap = PartitionMap.starting_at(10, dst_start=100)
    pmap.append_offsets([10, 11, 12, 15, 16])
    pmap.advance(20)
    return pmap


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (10, (100, Translation.EXACT)),
        (12, (102, Translation.EXACT)),
        (15, (103, Translation.EXACT)),
        (16, (104, Translation.EXACT)),
        (13, (103, Translation.NEXT_RECORD)),
        (14, (103, Translation.NEXT_RECORD)),
        (17, (105, Translation.END)),
        (19, (105, Translation.END)),
        (20, (105, Translation.END)),
        (21, (None, Translation.NOT_COPIED)),
        (10**9, (None, Translation.NOT_COPIED)),
        (9, (100, Translation.BELOW_START)),
        (0, (100, Translation.BELOW_START)),
    ],
)
def test_each_translation_kind(offset: int, expected: tuple[int | None, Translation]) -> None:
    assert translate_position(gapped(), offset) == expected


def test_gap_at_copy_start_is_next_record() -> None:
    pmap = PartitionMap.starting_at(10)
    pmap.append_offsets([13, 14])
    assert translate_position(pmap, 10) == (0, Translation.NEXT_RECORD)
    assert translate_position(pmap, 12) == (0, Translation.NEXT_RECORD)
    assert translate_position(pmap, 13) == (0, Translation.EXACT)
    assert translate_position(pmap, 15) == (2, Translation.END)
    assert translate_position(pmap, 16) == (None, Translation.NOT_COPIED)


def test_empty_copy() -> None:
    pmap = PartitionMap.starting_at(5, dst_start=0)
    assert translate_position(pmap, 5) == (0, Translation.END)
    assert translate_position(pmap, 4) == (0, Translation.BELOW_START)
    assert translate_position(pmap, 6) == (None, Translation.NOT_COPIED)


def test_contiguous_copy_keeps_offsets() -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append_offsets(range(50))
    for o in range(50):
        assert translate_position(pmap, o) == (o, Translation.EXACT)
    assert translate_position(pmap, 50) == (50, Translation.END)
    assert translate_position(pmap, 51) == (None, Translation.NOT_COPIED)


@pytest.mark.parametrize("seed", range(50))
def test_random_maps_agree_with_position(seed: int) -> None:
    rng = random.Random(seed)
    start = rng.randint(0, 30)
    offsets = sorted(rng.sample(range(start, start + 80), rng.randint(0, 60)))
    pmap = PartitionMap.starting_at(start, dst_start=rng.randint(0, 10))
    pmap.append_offsets(offsets)
    pmap.advance(max(pmap.src_next, start + 80))
    copied = set(offsets)
    for o in range(start - 2, pmap.src_next + 3):
        dst, how = translate_position(pmap, o)
        if o > pmap.src_next:
            assert (dst, how) == (None, Translation.NOT_COPIED)
            continue
        assert dst == pmap.position(o)
        if o < start:
            assert how is Translation.BELOW_START
        elif o in copied:
            assert how is Translation.EXACT
            assert dst == pmap.record_offset(o)
        elif any(s > o for s in offsets):
            assert how is Translation.NEXT_RECORD
            assert dst == pmap.record_offset(min(s for s in offsets if s > o))
        else:
            assert how is Translation.END
            assert dst == pmap.dst_next


def test_group_offset_json_and_untranslated() -> None:
    exact = GroupOffset("g", "t", 0, 5, "d.t", 5, Translation.EXACT)
    pending = GroupOffset("g", "t", 1, 99, "d.t", None, Translation.NOT_COPIED)
    assert exact.to_json() == {
        "group": "g",
        "topic": "t",
        "partition": 0,
        "source_offset": 5,
        "destination_topic": "d.t",
        "destination_offset": 5,
        "translation": "exact",
    }
    result = GroupsResult(offsets=[exact, pending])
    assert result.untranslated == [pending]
    assert result.to_json()["schema"] == "connshift.groups/1"
    assert [o["translation"] for o in result.to_json()["offsets"]] == ["exact", "not-copied-yet"]
