"""validate's multi-partition reader (app/validate._Reader) against a fake consumer: runs of
partitions in one batch, a partition's end (by offset or by its EOF event), records
delivered again after a pause, and messages of partitions no longer read."""

from __future__ import annotations

from typing import Any

import pytest

from connshift.app import validate as v
from connshift.core.digest import record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.errors import KafkaError


class Msg:
    def __init__(self, topic: str, part: int, offset: int, value: bytes = b"v", eof: bool = False):
        self._t, self._p, self._o, self._v, self._eof = topic, part, offset, value, eof

    def topic(self) -> str:
        return self._t

    def partition(self) -> int:
        return self._p

    def offset(self) -> int:
        return self._o

    def error(self) -> object | None:
        return "eof" if self._eof else None

    def key(self) -> bytes:
        return b"k"

    def value(self) -> bytes:
        return self._v

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, 1000 + self._o)


class FakeConsumer:
    def __init__(self) -> None:
        self.batches: list[list[Msg]] = []
        self.assigned: list[tuple[str, int, int]] = []
        self.unassigned: list[tuple[str, int]] = []
        self.learned = 0

    def consume(self, _n: int, _timeout: float) -> list[Msg]:
        return self.batches.pop(0) if self.batches else []

    def incremental_assign(self, tps: list[Any]) -> None:
        self.assigned += [(tp.topic, tp.partition, tp.offset) for tp in tps]

    def incremental_unassign(self, tps: list[Any]) -> None:
        self.unassigned += [(tp.topic, tp.partition) for tp in tps]

    def learn_topics(self) -> None:
        self.learned += 1

    def eof_offset(self, msg: Msg) -> int | None:
        if msg.error() != "eof":
            raise KafkaError("broken")
        return msg.offset()

    def close(self) -> None:
        pass


class FakeCluster:
    name = "source"

    def __init__(self) -> None:
        self.consumer = FakeConsumer()

    def open_consumer(self, _extra: object) -> FakeConsumer:
        return self.consumer


def part(topic: str) -> v._Part:
    return v._Part(topic, 0, topic, PartitionMap.starting_at(0), False, None)


def test_reader_splits_runs_ends_partitions_and_skips_what_it_saw() -> None:
    cluster = FakeCluster()
    reader = v._Reader(cluster)  # type: ignore[arg-type]
    a, b = v._Range(("a", 0), 3, False, part("a")), v._Range(("b", 0), None, False, part("b"))
    reader.add([(a, 0), (b, 5)])
    assert cluster.consumer.assigned == [("a", 0, 0), ("b", 0, 5)]
    assert cluster.consumer.learned == 1  # leaders known before the first fetch
    cluster.consumer.batches = [
        [Msg("a", 0, 0), Msg("a", 0, 1), Msg("b", 0, 5), Msg("a", 0, 1), Msg("a", 0, 2)],
        [Msg("a", 0, 3), Msg("b", 0, 5), Msg("b", 0, 7), Msg("b", 0, 8, eof=True)],
    ]
    first = {rng.tp: (ents, ended) for rng, ents, ended in reader.read(0)}
    assert [e[0] for e in first[("a", 0)][0]] == [0, 1, 2]  # 1 again is skipped
    assert first[("a", 0)][1] is True  # its end (3) reached at offset 2
    assert first[("a", 0)][0][0][1] == record_digest(b"k", b"v", None, 1000)
    assert [e[0] for e in first[("b", 0)][0]] == [5]
    assert first[("b", 0)][1] is False
    assert cluster.consumer.unassigned == [("a", 0)]
    second = {rng.tp: (ents, ended) for rng, ents, ended in reader.read(0)}
    assert ("a", 0) not in second  # no longer read: its late message is ignored
    assert [e[0] for e in second[("b", 0)][0]] == [7]  # 5 again is skipped
    assert second[("b", 0)][1] is True  # ended by its EOF event
    assert reader.open == {}
    assert reader.read(0) == []


def test_reader_raises_on_an_error_that_is_not_an_end() -> None:
    cluster = FakeCluster()
    reader = v._Reader(cluster)  # type: ignore[arg-type]
    reader.add([(v._Range(("a", 0), None, False, part("a")), 0)])

    class Broken(Msg):
        def error(self) -> object:
            return "broken"

    cluster.consumer.batches = [[Broken("a", 0, 0)]]
    with pytest.raises(KafkaError, match="broken"):
        reader.read(0)


def test_a_stall_names_a_partition_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = FakeCluster()
    reader = v._Reader(cluster)  # type: ignore[arg-type]
    reader.add([(v._Range(("a", 3), None, False, part("a")), 0)])
    v._check_stall([reader])  # news just now: fine
    monkeypatch.setattr(v, "STALL", -1.0)
    with pytest.raises(KafkaError, match="timed out reading 1 partition"):
        v._check_stall([reader])
