"""The shared offset-map store (:class:`connshift.app.maps.MapStore`): the mirror topic
read once and then incrementally, the local state asked first, the further map wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connshift.app.maps import MapStore
from connshift.core.offsetmap import PartitionMap
from connshift.io.statestore import StateStore

Key = tuple[str, int]


class FakeMirror:
    """What :class:`MapMirror` reads: an append-only log of (key, value) records."""

    def __init__(self) -> None:
        self.log: list[tuple[Key, tuple[str, PartitionMap] | None]] = []
        self.reads: list[int] = []
        self.writes = 0

    def put(self, dst_topic: str, p: int, source: str | None, src_next: int = 0) -> None:
        value = (
            None if source is None else (source, PartitionMap(src_next=src_next, dst_next=src_next))
        )
        self.log.append(((dst_topic, p), value))

    def read(self, start: int = 0) -> tuple[dict[Key, Any], int]:
        self.reads.append(start)
        out: dict[Key, Any] = {}
        for key, value in self.log[start:]:
            out[key] = value
        return out, len(self.log)


@pytest.fixture
def local(tmp_path: Path) -> Any:
    with StateStore(tmp_path / "sync.db") as store:
        yield store


def store_for(local: StateStore, mirror: FakeMirror) -> MapStore:
    return MapStore(local, mirror, lambda t: "d." + t)  # type: ignore[arg-type]


def test_the_mirror_is_read_once_then_only_from_where_it_was_left(local: StateStore) -> None:
    mirror = FakeMirror()
    mirror.put("d.t", 0, "t", 10)
    maps = store_for(local, mirror)
    assert maps.get("t", 0) is not None and maps.get("t", 1) is None
    assert mirror.reads == [0]  # two lookups, one read
    mirror.put("d.t", 0, "t", 25)
    assert maps.get("t", 0).map.src_next == 10  # type: ignore[union-attr]
    maps.refresh()
    assert mirror.reads == [0, 1]  # only what was appended since
    assert maps.get("t", 0).map.src_next == 25  # type: ignore[union-attr]


def test_a_tombstone_forgets_a_mirrored_map(local: StateStore) -> None:
    mirror = FakeMirror()
    mirror.put("d.t", 0, "t", 10)
    maps = store_for(local, mirror)
    assert maps.get("t", 0) is not None
    mirror.put("d.t", 0, None)
    maps.refresh()
    assert maps.get("t", 0) is None


def test_the_map_that_copied_further_wins(local: StateStore) -> None:
    mirror = FakeMirror()
    local.replace("t", 0, "d.t", PartitionMap(src_next=40, dst_next=40))
    mirror.put("d.t", 0, "t", 30)
    maps = store_for(local, mirror)
    assert maps.get("t", 0).map.src_next == 40  # type: ignore[union-attr]
    mirror.put("d.t", 0, "t", 55)  # a sync --follow elsewhere went on
    maps.refresh()
    found = maps.get("t", 0)
    assert found is not None and found.map.src_next == 55 and found.dst_topic == "d.t"


def test_a_map_of_another_source_topic_or_destination_does_not_count(local: StateStore) -> None:
    mirror = FakeMirror()
    mirror.put("d.t", 0, "other", 10)  # d.t[0] is a copy of another topic
    local.replace("t", 1, "elsewhere", PartitionMap(src_next=5, dst_next=5))
    maps = store_for(local, mirror)
    assert maps.get("t", 0) is None
    assert maps.get("t", 1) is None  # the local state copied t[1] somewhere else
    assert maps.get("t", 1, dst_topic="elsewhere") is not None


def test_a_write_of_this_process_is_seen_without_an_explicit_refresh(local: StateStore) -> None:
    mirror = FakeMirror()
    maps = store_for(local, mirror)
    assert maps.get("t", 0) is None
    mirror.put("d.t", 0, "t", 9)
    mirror.writes += 1  # what MapMirror.publish counts
    assert maps.get("t", 0) is not None
