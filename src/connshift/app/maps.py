"""Offset maps of one migration: where sync keeps them and how others read them.

Sync checkpoints each partition's exact map in SQLite (``<state_dir>/sync.db``,
:mod:`connshift.io.statestore`) and mirrors it to the compacted topic
``connshift.offset-maps`` on the destination (:class:`MapMirror`), so that another
machine can take a partition over or answer a translation.

:class:`MapStore` is the one reader the other verbs share (groups, validate, cutover,
rollback, repoint, offsets): like MirrorMaker 2's ``OffsetSyncStore`` it reads the
mirror topic once, then only what was appended since (:meth:`MapStore.refresh`), and
answers from memory; the local state is asked first. Of two maps of one partition (the
local checkpoint and the mirrored one) the one that has copied further wins: a map only
ever grows, and a ``sync --follow`` on another machine keeps the mirror current.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connshift.core.offsetmap import PartitionMap
from connshift.core.spec import Spec
from connshift.errors import KafkaError
from connshift.io.kafka import KafkaCluster, KafkaProducer
from connshift.io.statestore import StateStore

MAP_TOPIC = "connshift.offset-maps"


def state_path(spec: Spec) -> Path:
    """Sync's SQLite state of ``spec``."""
    return Path(spec.state_dir) / "sync.db"


class MirroredState(Protocol):
    """What :meth:`MapMirror.publish` needs of a partition being copied."""

    topic: str
    partition: int
    dst_topic: str
    map: PartitionMap


@dataclass
class Mapped:
    """A partition's map as found: its source topic, destination topic and map."""

    topic: str
    dst_topic: str
    map: PartitionMap


class MapMirror:
    """The offset maps mirrored to a compacted topic on the destination.

    Key ``<destination topic>/<partition>`` (what is unique on the destination, whatever
    migrations share it); value the JSON map with its source topic. Another machine
    taking a partition over reads it from here.
    """

    def __init__(self, dst: KafkaCluster) -> None:
        self.dst = dst
        self._producer: KafkaProducer | None = None
        #: how many times this process wrote to the mirror (readers refresh when it moves)
        self.writes = 0

    def ensure(self) -> None:
        if MAP_TOPIC not in self.dst.topics():
            config = {"cleanup.policy": "compact", "max.message.bytes": str(16 * 1024 * 1024)}
            rejected = self.dst.rejected_topic_configs(MAP_TOPIC, 1, config)
            self.dst.create_topic(
                MAP_TOPIC,
                1,
                replication_factor=-1,
                config={k: v for k, v in config.items() if k not in rejected},
            )

    def publish(self, states: Sequence[MirroredState]) -> None:
        if self._producer is None:
            self._producer = self.dst.open_producer(
                {"message.max.bytes": 16 * 1024 * 1024, "compression.type": "lz4", "linger.ms": 0}
            )
        for st in states:
            value = json.dumps({"source_topic": st.topic, **st.map.to_json()})
            key = f"{st.dst_topic}/{st.partition}".encode()
            self._producer.produce(MAP_TOPIC, value.encode(), key)
        self.writes += 1
        self._producer.flush(
            30, what="could not mirror the offset maps to the destination", topic=MAP_TOPIC
        )

    def forget(self, dst_topic: str, partitions: Sequence[int]) -> None:
        """Drop mirrored maps (tombstones) for a destination topic that is being re-created."""
        if self._producer is None:
            self._producer = self.dst.open_producer({"linger.ms": 0})
        for p in partitions:
            self._producer.produce(MAP_TOPIC, None, f"{dst_topic}/{p}".encode())
        self.writes += 1
        # best effort, as before: a stale map of an empty destination partition is not used
        with contextlib.suppress(KafkaError):
            self._producer.flush(30)

    def read(
        self, start: int = 0
    ) -> tuple[dict[tuple[str, int], tuple[str, PartitionMap] | None], int]:
        """The mirrored maps from offset ``start`` on, latest per destination partition
        (``None``: a tombstone), and the offset to read from next time."""
        out: dict[tuple[str, int], tuple[str, PartitionMap] | None] = {}
        if MAP_TOPIC not in self.dst.topics():
            return out, start
        nxt = start
        for rec in self.dst.read(MAP_TOPIC, 0, start, isolation="read_uncommitted", timeout=60):
            nxt = rec.offset + 1
            if rec.key is None:
                continue
            topic, _, part = rec.key.decode().rpartition("/")
            if rec.value is None:
                out[(topic, int(part))] = None
                continue
            data = json.loads(rec.value)
            out[(topic, int(part))] = (str(data["source_topic"]), PartitionMap.from_json(data))
        return out, nxt

    def load_all(self) -> dict[tuple[str, int], tuple[str, PartitionMap]]:
        """The latest mirrored map of every destination partition: (source topic, map)."""
        found, _ = self.read()
        return {k: v for k, v in found.items() if v is not None}

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(30)
            self._producer = None


class MapStore:
    """Every offset map of one migration, read once and kept current cheaply.

    ``local`` is sync's state store of this machine; ``mirror`` the destination's map
    topic, read in full on first need and incrementally on :meth:`refresh`.
    ``destination_name`` names a source topic's copy (the spec's rename/prefix).
    """

    def __init__(
        self,
        local: StateStore,
        mirror: MapMirror,
        destination_name: Callable[[str], str],
    ) -> None:
        self.local = local
        self.mirror = mirror
        self.destination_name = destination_name
        self._mirrored: dict[tuple[str, int], tuple[str, PartitionMap]] | None = None
        self._next = 0
        self._seen_writes = 0

    def refresh(self) -> None:
        """Read what was mirrored since the last read (the first read reads it all)."""
        self._seen_writes = self.mirror.writes
        found, self._next = self.mirror.read(self._next)
        if self._mirrored is None:
            self._mirrored = {}
        for key, value in found.items():
            if value is None:
                self._mirrored.pop(key, None)
            else:
                self._mirrored[key] = value

    def mirrored(self, dst_topic: str, partition: int) -> tuple[str, PartitionMap] | None:
        """(source topic, map) mirrored for a destination partition."""
        if self._mirrored is None or self.mirror.writes != self._seen_writes:
            self.refresh()  # first use, or this process wrote to the mirror since
        assert self._mirrored is not None
        return self._mirrored.get((dst_topic, partition))

    def get(self, topic: str, partition: int, *, dst_topic: str | None = None) -> Mapped | None:
        """The map of source ``topic[partition]`` into its destination copy (named by the
        spec unless ``dst_topic`` is given), or None when nothing was copied."""
        dst_topic = dst_topic or self.destination_name(topic)
        stored = self.local.load(topic, partition)
        best: Mapped | None = None
        if stored is not None and stored.dst_topic == dst_topic:
            best = Mapped(topic, dst_topic, stored.map)
        mirrored = self.mirrored(dst_topic, partition)
        newer = mirrored is not None and mirrored[0] == topic
        if (
            mirrored is not None
            and newer
            and (best is None or mirrored[1].src_next > best.map.src_next)
        ):
            best = Mapped(topic, dst_topic, mirrored[1])
        return best
