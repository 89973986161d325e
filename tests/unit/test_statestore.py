"""Tests of the SQLite sync state (io/statestore), on a file in tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from connshift.core.offsetmap import PartitionMap, Run
from connshift.errors import ConfigError
from connshift.io.statestore import StateStore, StoredPartition


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(tmp_path / "state" / "sync.db") as s:
        yield s


def reopen(store: StateStore) -> StateStore:
    """A new connection on the same file (what a restarted process sees)."""
    return StateStore(store.path)


def gapped_map() -> PartitionMap:
    pmap = PartitionMap.starting_at(10, dst_start=0)
    pmap.append_offsets([10, 11, 12, 15, 16, 20])
    pmap.advance(25)
    return pmap


def stored_runs(path: Path, topic: str, partition: int) -> list[tuple[int, int, int]]:
    with closing(sqlite3.connect(str(path))) as db:
        return list(
            db.execute(
                "SELECT src, dst, length FROM runs WHERE topic = ? AND partition = ? ORDER BY src",
                (topic, partition),
            )
        )


class FailingDb:
    """Delegates to a real connection; raises on the n-th ``INSERT ... partitions``."""

    def __init__(self, db: sqlite3.Connection, fail_at: int) -> None:
        self._db = db
        self._fail_at = fail_at
        self.partition_writes = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if "INTO partitions" in sql:
            self.partition_writes += 1
            if self.partition_writes == self._fail_at:
                raise RuntimeError("disk on fire")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


# --------------------------------------------------------------------------- basics


def test_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sync.db"
    with StateStore(path) as s:
        assert s.load("t", 0) is None
        assert s.all() == []
    assert path.exists()


def test_unopenable_path_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot open the sync state") as info:
        StateStore(blocker / "sync.db")
    assert info.value.fix is not None and "state_dir" in info.value.fix


def test_save_load_round_trip(store: StateStore) -> None:
    pmap = gapped_map()
    store.save([("orders", 3, "dst.orders", pmap)])
    loaded = store.load("orders", 3)
    assert isinstance(loaded, StoredPartition)
    assert (loaded.topic, loaded.partition, loaded.dst_topic) == ("orders", 3, "dst.orders")
    assert loaded.map == pmap
    assert loaded.map is not pmap
    assert loaded.updated_at > 0
    assert store.load("orders", 2) is None
    assert store.load("other", 3) is None
    with reopen(store) as again:
        back = again.load("orders", 3)
        assert back is not None and back.map == pmap


def test_empty_map_round_trip(store: StateStore) -> None:
    pmap = PartitionMap.starting_at(7, dst_start=3)
    store.save([("t", 0, "t", pmap)])
    loaded = store.load("t", 0)
    assert loaded is not None
    assert loaded.map == pmap
    assert loaded.map.runs == []


def test_incremental_saves_last_run_grows_then_new_runs(store: StateStore) -> None:
    pmap = PartitionMap.starting_at(0)
    pmap.append_offsets([0, 1, 2])
    store.save([("t", 0, "t", pmap)])
    # the last run grows
    pmap.append_offsets([3, 4])
    store.save([("t", 0, "t", pmap)])
    assert stored_runs(store.path, "t", 0) == [(0, 0, 5)]
    # the run grows again, then a gap and new runs
    pmap.append_offsets([5, 8, 9, 12])
    pmap.advance(14)
    store.save([("t", 0, "t", pmap)])
    assert pmap.runs == [Run(0, 0, 6), Run(8, 6, 2), Run(12, 8, 1)]
    assert stored_runs(store.path, "t", 0) == [(0, 0, 6), (8, 6, 2), (12, 8, 1)]
    # a fresh process (no cache of what is stored) appends correctly too
    with reopen(store) as again:
        pmap.append_offsets([14, 15, 20])
        again.save([("t", 0, "t", pmap)])
        loaded = again.load("t", 0)
        assert loaded is not None
        assert loaded.map == pmap
    loaded = store.load("t", 0)
    assert loaded is not None and loaded.map == pmap


def test_incremental_save_after_load_continues(store: StateStore) -> None:
    store.save([("t", 1, "t", gapped_map())])
    with reopen(store) as again:
        loaded = again.load("t", 1)
        assert loaded is not None
        pmap = loaded.map
        pmap.append_offsets([25, 26, 30])
        again.save([("t", 1, "t", pmap)])
        back = again.load("t", 1)
        assert back is not None
        assert back.map == pmap


def test_save_several_partitions_in_one_checkpoint(store: StateStore) -> None:
    a = gapped_map()
    b = PartitionMap.starting_at(0)
    b.append_offsets(range(10))
    store.save([("a", 0, "x.a", a), ("a", 1, "x.a", b), ("b", 0, "x.b", b)])
    assert [(s.topic, s.partition, s.dst_topic) for s in store.all()] == [
        ("a", 0, "x.a"),
        ("a", 1, "x.a"),
        ("b", 0, "x.b"),
    ]
    assert [s.map for s in store.all()] == [a, b, b]


def test_replace_rewrites_every_run(store: StateStore) -> None:
    store.save([("t", 0, "t", gapped_map())])
    other = PartitionMap.starting_at(100, dst_start=50)
    other.append_offsets([100, 102])
    store.replace("t", 0, "t2", other)
    loaded = store.load("t", 0)
    assert loaded is not None
    assert loaded.dst_topic == "t2"
    assert loaded.map == other
    assert stored_runs(store.path, "t", 0) == [(100, 50, 1), (102, 51, 1)]
    # a shorter map replaces a longer one entirely
    store.replace("t", 0, "t", PartitionMap.starting_at(0))
    loaded = store.load("t", 0)
    assert loaded is not None and loaded.map == PartitionMap.starting_at(0)
    assert stored_runs(store.path, "t", 0) == []


def test_replace_then_incremental(store: StateStore) -> None:
    pmap = gapped_map()
    store.replace("t", 0, "t", pmap)
    pmap.append_offsets([25, 26])
    store.save([("t", 0, "t", pmap)])
    loaded = store.load("t", 0)
    assert loaded is not None and loaded.map == pmap


def test_forget(store: StateStore) -> None:
    store.save([("t", 0, "t", gapped_map()), ("t", 1, "t", gapped_map())])
    store.forget("t", 0)
    assert store.load("t", 0) is None
    assert stored_runs(store.path, "t", 0) == []
    kept = store.load("t", 1)
    assert kept is not None and kept.map == gapped_map()
    store.forget("t", 0)  # forgetting twice is fine
    store.forget("never", 9)
    # a partition saved again after forget starts from nothing
    fresh = PartitionMap.starting_at(0)
    fresh.append_offsets([0, 1])
    store.save([("t", 0, "t", fresh)])
    loaded = store.load("t", 0)
    assert loaded is not None and loaded.map == fresh


def test_all_sorted_by_topic_then_partition(store: StateStore) -> None:
    for topic, part in [("b", 1), ("a", 10), ("b", 0), ("a", 2)]:
        store.save([(topic, part, topic, PartitionMap.starting_at(part))])
    got = store.all()
    assert [(s.topic, s.partition) for s in got] == [("a", 2), ("a", 10), ("b", 0), ("b", 1)]
    assert all(s.map.src_start == s.partition for s in got)


# --------------------------------------------------------------------------- atomicity


def _two_partition_state(store: StateStore) -> tuple[PartitionMap, PartitionMap]:
    a = PartitionMap.starting_at(0)
    a.append_offsets([0, 1, 4])
    b = PartitionMap.starting_at(0)
    b.append_offsets([0, 2])
    store.save([("t", 0, "t", a), ("t", 1, "t", b)])
    return a, b


def _grow(a: PartitionMap, b: PartitionMap) -> None:
    a.append_offsets([5, 9, 12, 13])
    a.advance(20)
    b.append_offsets([3, 7])


def _assert_state(store: StateStore, a: PartitionMap, b: PartitionMap) -> None:
    with reopen(store) as fresh:
        for s in (store, fresh):
            la, lb = s.load("t", 0), s.load("t", 1)
            assert la is not None and lb is not None
            assert la.map.to_json() == a.to_json()
            assert lb.map.to_json() == b.to_json()


def test_failure_inside_transaction_keeps_previous_state(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _two_partition_state(store)
    before_a, before_b = PartitionMap.from_json(a.to_json()), PartitionMap.from_json(b.to_json())
    _grow(a, b)
    failing = FailingDb(store.db, fail_at=2)  # after the first item was written
    monkeypatch.setattr(store, "db", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.save([("t", 0, "t", a), ("t", 1, "t", b)])
    assert failing.partition_writes == 2
    monkeypatch.setattr(store, "db", failing._db)
    assert not store.db.in_transaction
    _assert_state(store, before_a, before_b)


def test_generator_failure_after_first_item_keeps_previous_state(store: StateStore) -> None:
    a, b = _two_partition_state(store)
    before_a, before_b = PartitionMap.from_json(a.to_json()), PartitionMap.from_json(b.to_json())
    _grow(a, b)

    def items() -> Iterator[tuple[str, int, str, PartitionMap]]:
        yield ("t", 0, "t", a)
        raise KeyboardInterrupt  # BaseException too: the transaction is rolled back

    with pytest.raises(KeyboardInterrupt):
        store.save(items())
    assert not store.db.in_transaction
    _assert_state(store, before_a, before_b)


def test_retry_after_failed_save_stores_the_whole_map(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint that failed and is retried (no load in between) must store every run."""
    a, b = _two_partition_state(store)
    _grow(a, b)
    failing = FailingDb(store.db, fail_at=2)
    monkeypatch.setattr(store, "db", failing)
    with pytest.raises(RuntimeError):
        store.save([("t", 0, "t", a), ("t", 1, "t", b)])
    monkeypatch.setattr(store, "db", failing._db)
    store.save([("t", 0, "t", a), ("t", 1, "t", b)])
    _assert_state(store, a, b)


def test_retry_after_failed_full_save_stores_the_whole_map(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _two_partition_state(store)
    _grow(a, b)
    failing = FailingDb(store.db, fail_at=2)
    monkeypatch.setattr(store, "db", failing)
    with pytest.raises(RuntimeError):
        store.save([("t", 0, "t", a), ("t", 1, "t", b)], full=True)
    monkeypatch.setattr(store, "db", failing._db)
    a.append_offsets([21])
    store.save([("t", 0, "t", a), ("t", 1, "t", b)])
    _assert_state(store, a, b)
