"""``connshift offsets``: what a source offset is on the destination, from sync's exact map."""

from __future__ import annotations

from typing import Any

from connshift.app.sync import MapMirror, clusters, state_path
from connshift.core.offsetmap import PartitionMap
from connshift.core.spec import Spec
from connshift.errors import UsageError
from connshift.io.statestore import StateStore


def load_map(spec: Spec, topic: str, partition: int) -> tuple[str, PartitionMap] | None:
    """The partition's map: the local state, else the one mirrored on the destination."""
    dst_topic = spec.topics.destination_name(topic)
    with StateStore(state_path(spec)) as store:
        stored = store.load(topic, partition)
    if stored is not None and stored.dst_topic == dst_topic:
        return stored.dst_topic, stored.map
    _, dst = clusters(spec)
    mirrored = MapMirror(dst).load_all().get((dst_topic, partition))
    if mirrored is None or mirrored[0] != topic:
        return None
    return dst_topic, mirrored[1]


def lookup(spec: Spec, topic: str, partition: int, offset: int) -> dict[str, Any]:
    """Map ``offset`` of ``topic[partition]``: as a record and as a consumer position."""
    found = load_map(spec, topic, partition)
    if found is None:
        raise UsageError(
            f"no offset map for {topic}[{partition}]",
            why="sync has not copied this partition (here, or to the destination's map topic)",
            fix="run `connshift sync` first",
        )
    dst_topic, pmap = found
    record = pmap.record_offset(offset)
    position = pmap.position(offset)
    if record is not None:
        text = f"{topic}[{partition}]@{offset} -> {dst_topic}[{partition}]@{record}"
    elif position is not None:
        text = (
            f"{topic}[{partition}]@{offset} holds no copied record (a gap: compaction, a "
            f"transaction marker or an aborted record); as a consumer position it is "
            f"{dst_topic}[{partition}]@{position}"
        )
    else:
        text = (
            f"{topic}[{partition}]@{offset} is beyond what sync has copied "
            f"(up to {pmap.src_next}): not translated"
        )
    return {
        "schema": "connshift.offsets/1",
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "destination_topic": dst_topic,
        "destination_offset": record if record is not None else position,
        "record": record is not None,
        "copied_up_to": pmap.src_next,
        "text": text,
    }
