"""Compare a source partition with its copy, through the exact offset map.

Pure: the records come in as ``(offset, digest, key_hash)`` triples, read by the
caller. The result says, per partition: how many records each side holds, how
many matched at their mapped offsets, which source records are missing on the
destination, which destination records no map entry explains (duplicates or
foreign writes), and order-sensitive digests of both streams.

Compacted topics keep compacting on both sides after the copy, so there a record
missing on one side is acceptable when that side holds a *later* record with the
same key (it was superseded); anywhere else a missing record is a failure.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from connshift.core.digest import StreamDigest
from connshift.core.offsetmap import PartitionMap

Entry = tuple[int, bytes, int]  # offset, record digest, key hash
SAMPLE = 10  # offsets listed as evidence per kind


@dataclass
class SideIndex:
    """One side's records of one partition, by offset."""

    records: dict[int, tuple[bytes, int]]
    last_by_key: dict[int, int]
    offsets: list[int]

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> SideIndex:
        records: dict[int, tuple[bytes, int]] = {}
        last: dict[int, int] = {}
        for off, digest, key in entries:
            records[off] = (digest, key)
            last[key] = off
        return cls(records, last, sorted(records))

    def superseded(self, key: int, offset: int) -> bool:
        """True when this side holds a record with ``key`` after ``offset``."""
        return self.last_by_key.get(key, -1) > offset

    def next_at_or_after(self, offset: int) -> int | None:
        i = bisect.bisect_left(self.offsets, offset)
        return self.offsets[i] if i < len(self.offsets) else None


@dataclass
class PartitionDiff:
    """The comparison of one partition."""

    source_records: int = 0
    destination_records: int = 0
    matched: int = 0
    missing: list[int] = field(default_factory=list)  # source offsets
    mismatched: list[tuple[int, int]] = field(default_factory=list)  # (src, dst)
    duplicates: list[int] = field(default_factory=list)  # destination offsets
    foreign: list[int] = field(default_factory=list)  # destination offsets
    superseded: int = 0  # compacted topics: gone on one side, a later record has the key
    gone_from_source: list[int] = field(default_factory=list)  # copied, then removed upstream
    source_digest: str = ""
    destination_digest: str = ""
    first: tuple[int | None, int | None] = (None, None)  # first offset (src, dst)
    last: tuple[int | None, int | None] = (None, None)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.mismatched or self.duplicates or self.foreign)

    def evidence(self) -> dict[str, object]:
        return {
            "source_records": self.source_records,
            "destination_records": self.destination_records,
            "matched": self.matched,
            "missing": len(self.missing),
            "missing_sample": self.missing[:SAMPLE],
            "mismatched": len(self.mismatched),
            "mismatched_sample": self.mismatched[:SAMPLE],
            "duplicates": len(self.duplicates),
            "duplicates_sample": self.duplicates[:SAMPLE],
            "foreign": len(self.foreign),
            "foreign_sample": self.foreign[:SAMPLE],
            "superseded_by_compaction": self.superseded,
            "gone_from_source_since_copy": len(self.gone_from_source),
            "source_digest": self.source_digest,
            "destination_digest": self.destination_digest,
            "first_offsets": list(self.first),
            "last_offsets": list(self.last),
        }


def diff_partition(
    source: SideIndex, destination: SideIndex, pmap: PartitionMap, *, compacted: bool
) -> PartitionDiff:
    """Compare both sides of one partition over the copied range of ``pmap``."""
    out = PartitionDiff(
        source_records=len(source.records), destination_records=len(destination.records)
    )
    src_stream, dst_stream = StreamDigest(), StreamDigest()
    mapped_src: set[int] = set()
    mapped_dst: set[int] = set()
    for s_off, d_off in pmap.iter_pairs():
        mapped_src.add(s_off)
        mapped_dst.add(d_off)
        s = source.records.get(s_off)
        d = destination.records.get(d_off)
        if s is not None and d is not None:
            if s[0] == d[0]:
                out.matched += 1
                src_stream.update(s[0])
                dst_stream.update(d[0])
            else:
                out.mismatched.append((s_off, d_off))
        elif s is not None:  # on the source, not at its place on the destination
            if compacted and destination.superseded(s[1], d_off):
                out.superseded += 1
            else:
                out.missing.append(s_off)
        elif d is not None:  # copied, and since removed from the source
            if compacted and source.superseded(d[1], s_off):
                out.superseded += 1
            else:
                out.gone_from_source.append(s_off)
        else:
            out.superseded += 1  # gone from both sides
    src_digests = {v[0] for v in source.records.values()}
    for s_off in source.offsets:
        if pmap.src_start <= s_off < pmap.src_next and s_off not in mapped_src:
            out.missing.append(s_off)  # a source record the copy skipped
    for d_off in destination.offsets:
        if d_off in mapped_dst:
            continue
        digest = destination.records[d_off][0]
        (out.duplicates if digest in src_digests else out.foreign).append(d_off)
    out.missing.sort()
    out.source_digest = src_stream.hexdigest()
    out.destination_digest = dst_stream.hexdigest()
    out.first = (
        source.offsets[0] if source.offsets else None,
        destination.offsets[0] if destination.offsets else None,
    )
    out.last = (
        source.offsets[-1] if source.offsets else None,
        destination.offsets[-1] if destination.offsets else None,
    )
    return out


def same_record_at(
    source: SideIndex, destination: SideIndex, src_position: int, dst_position: int
) -> bool | None:
    """Do two consumer positions point at the same record?

    The record a consumer at ``src_position`` reads next on the source, compared with
    the one at ``dst_position`` on the destination. ``None`` when both positions are
    at the end (no record to read yet, which is also agreement).
    """
    s_off = source.next_at_or_after(src_position)
    d_off = destination.next_at_or_after(dst_position)
    if s_off is None and d_off is None:
        return None
    if s_off is None or d_off is None:
        return False
    return source.records[s_off][0] == destination.records[d_off][0]
