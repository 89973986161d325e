"""``connshift offsets``: what a source offset is on the destination, from sync's exact map."""

from __future__ import annotations

from typing import Any

from connshift.app.context import Migration
from connshift.errors import UsageError


def lookup(migration: Migration, topic: str, partition: int, offset: int) -> dict[str, Any]:
    """Map ``offset`` of ``topic[partition]``: as a record and as a consumer position."""
    found = migration.maps.get(topic, partition)
    if found is None:
        raise UsageError(
            f"no offset map for {topic}[{partition}]",
            why="sync has not copied this partition (here, or to the destination's map topic)",
            fix="run `connshift sync` first",
        )
    dst_topic, pmap = found.dst_topic, found.map
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
