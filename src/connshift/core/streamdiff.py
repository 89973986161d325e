"""Compare a source partition with its copy, through the exact offset map, as a stream.

Pure: the records come in as ``(offset, digest, key_hash)`` triples, read by the
caller, each side in offset order. :class:`StreamDiff` walks both sides in step
through the map — source offset ``s`` against destination offset ``map(s)`` — and
keeps only what it has to: counters, the order-sensitive stream digest, the first
:data:`SAMPLE` offsets of each kind of difference, the first difference, and the
records one side has delivered before the other has caught up (the caller keeps that
bounded: :meth:`StreamDiff.backlog` tells it which side to pause). Memory does not grow
with the size of the partition, with two bounded exceptions:

- **Compacted topics** keep compacting on both sides after the copy, so there a record
  missing on one side is acceptable when that side holds a *later* record with the same
  key (it was superseded); anywhere else a missing record is a failure. A record missing
  on a compacted topic waits, by key, until a later record of that key shows up on that
  side (then it was superseded) or the stream ends (then it is missing): memory bounded
  by the number of distinct keys with a record in waiting, not by the number of records.
- **Destination records beyond the map** (duplicates or foreign writes, a failure either
  way) are told apart by whether their digest occurs anywhere on the source, which has
  gone by when they come: the first :data:`TAIL_LIMIT` are kept, and the caller looks
  their digests up on the source again (:meth:`StreamDiff.beyond_map_digests`, then
  :meth:`StreamDiff.result`); any more are counted as ``beyond_map_unclassified``.
  A partition that passes has none.

The result says, per partition: how many records each side holds, how many matched at
their mapped offsets, which source records are missing on the destination, which
destination records no map entry explains, an order-sensitive digest of the matched
stream (the same on both sides by construction: a record enters it only when both sides
hold it, equal, at mapped offsets), and the first difference, naming the offset on each
side.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import deque
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from connshift.core.digest import DIGEST_SIZE
from connshift.core.offsetmap import PartitionMap

Entry = tuple[int, bytes, int]  # offset, record digest, key hash
SAMPLE = 10  # offsets listed as evidence per kind
TAIL_LIMIT = 1_000  # destination records beyond the map classified per partition
_NEVER = 1 << 62  # an offset beyond any partition's end


@dataclass(frozen=True)
class Difference:
    """Where two streams first differ: what differs, and the offset on each side (the
    source offset of the record, or None when the destination holds a record the source
    has no place for; the destination offset where the record is, or should be)."""

    kind: str  # missing | mismatched | duplicate | foreign | beyond_map
    source_offset: int | None
    destination_offset: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "source_offset": self.source_offset,
            "destination_offset": self.destination_offset,
        }

    def describe(self) -> str:
        src = "no source record" if self.source_offset is None else f"source {self.source_offset}"
        return f"first difference ({self.kind}): {src}, destination {self.destination_offset}"


@dataclass
class PartitionDiff:
    """The comparison of one partition.

    The lists hold the first :data:`SAMPLE` offsets of each kind, in offset order; the
    ``*_count`` fields how many there are in all.
    """

    source_records: int = 0
    destination_records: int = 0
    matched: int = 0
    missing: list[int] = field(default_factory=list)  # source offsets
    missing_count: int = 0
    mismatched: list[tuple[int, int]] = field(default_factory=list)  # (src, dst)
    mismatched_count: int = 0
    duplicates: list[int] = field(default_factory=list)  # destination offsets
    duplicates_count: int = 0
    foreign: list[int] = field(default_factory=list)  # destination offsets
    foreign_count: int = 0
    unclassified: int = 0  # beyond the map, past TAIL_LIMIT: duplicates or foreign
    superseded: int = 0  # compacted topics: gone on one side, a later record has the key
    gone_from_source: list[int] = field(default_factory=list)  # copied, then removed upstream
    gone_from_source_count: int = 0
    source_digest: str = ""
    destination_digest: str = ""
    first: tuple[int | None, int | None] = (None, None)  # first offset (src, dst)
    last: tuple[int | None, int | None] = (None, None)
    first_difference: Difference | None = None
    # consumer positions asked for -> digest of the record read next there (group checks)
    source_next: dict[int, bytes] = field(default_factory=dict)
    destination_next: dict[int, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (
            self.missing_count
            or self.mismatched_count
            or self.duplicates_count
            or self.foreign_count
            or self.unclassified
        )

    def evidence(self) -> dict[str, object]:
        first = self.first_difference
        return {
            "source_records": self.source_records,
            "destination_records": self.destination_records,
            "matched": self.matched,
            "missing": self.missing_count,
            "missing_sample": self.missing[:SAMPLE],
            "mismatched": self.mismatched_count,
            "mismatched_sample": self.mismatched[:SAMPLE],
            "duplicates": self.duplicates_count,
            "duplicates_sample": self.duplicates[:SAMPLE],
            "foreign": self.foreign_count,
            "foreign_sample": self.foreign[:SAMPLE],
            "beyond_map_unclassified": self.unclassified,
            "superseded_by_compaction": self.superseded,
            "gone_from_source_since_copy": self.gone_from_source_count,
            "source_digest": self.source_digest,
            "destination_digest": self.destination_digest,
            "first_offsets": list(self.first),
            "last_offsets": list(self.last),
            "first_difference": None if first is None else first.to_json(),
        }


class _Waiting:
    """Records of one key missing on one side of a compacted topic, waiting for a later
    record of that key on that side: how many, and the first few (source, destination)."""

    __slots__ = ("count", "sample")

    def __init__(self) -> None:
        self.count = 0
        self.sample: list[tuple[int, int]] = []

    def add(self, src: int, dst: int) -> None:
        self.count += 1
        if len(self.sample) < SAMPLE:
            self.sample.append((src, dst))


class _Positions:
    """Consumer positions on one side whose next record's digest is wanted (group checks):
    the first record at or after each position."""

    __slots__ = ("_at", "_i", "found")

    def __init__(self, positions: Iterable[int]) -> None:
        self._at = sorted(set(positions))
        self._i = 0
        self.found: dict[int, bytes] = {}

    def wanted_by(self, offset: int) -> bool:
        """Is a position at or before ``offset`` still waiting for its record?"""
        return self._i < len(self._at) and self._at[self._i] <= offset

    def see(self, offset: int, digest: bytes) -> None:
        at, i = self._at, self._i
        while i < len(at) and at[i] <= offset:
            self.found[at[i]] = digest
            i += 1
        self._i = i

    def next_record(self, position: int) -> bytes | None:
        return self.found.get(position)


def _take(
    entries: Sequence[Entry],
    buf: deque[Entry],
    last: int,
    lo: int,
    hi: int,
    positions: _Positions,
    side: str,
) -> tuple[int, int, int, int]:
    """Append to ``buf`` the entries within ``[lo, hi)``: (the last offset seen, how many
    were taken, the first and last taken). A chunk wholly in range that continues what came
    before is taken whole (the caller keeps each chunk in order)."""
    if not entries:
        return last, 0, 0, 0
    first, final = entries[0][0], entries[-1][0]
    if last < first and lo <= first and final < hi:
        buf.extend(entries)
        if positions.wanted_by(final):
            for off, digest, _key in entries:
                positions.see(off, digest)
        return final, len(entries), first, final
    n, taken_first, taken_last = 0, 0, 0
    for entry in entries:
        off = entry[0]
        if off <= last:
            raise ValueError(f"{side} offset {off} after {last}: entries must grow")
        last = off
        if off < lo or off >= hi:
            continue
        if not n:
            taken_first = off
        n += 1
        taken_last = off
        buf.append(entry)
        positions.see(off, entry[1])
    return last, n, taken_first, taken_last


class StreamDiff:
    """The streaming comparison of one partition through ``pmap``.

    Feed each side's entries in offset order (:meth:`add_source`,
    :meth:`add_destination`), say when each side ends (:meth:`end_source`,
    :meth:`end_destination`), then take :meth:`result`. Source entries outside the copied
    range ``[src_start, src_next)`` and destination entries below ``dst_start`` are
    ignored; the caller bounds the destination's end (the cut-over boundary, or its high
    watermark when validation began). ``source_positions`` and ``destination_positions``:
    consumer positions whose next record is wanted (:meth:`next_record`).
    """

    def __init__(
        self,
        pmap: PartitionMap,
        *,
        compacted: bool,
        source_positions: Iterable[int] = (),
        destination_positions: Iterable[int] = (),
    ) -> None:
        self._pmap = pmap
        self._runs = pmap.runs
        self._ri = 0  # the run being walked
        self._run_seen = 0  # pairs of that run with a record on at least one side
        self._compacted = compacted
        self._src: deque[Entry] = deque()
        self._dst: deque[Entry] = deque()
        self._src_ended = False
        self._dst_ended = False
        self._last_src = -1  # last offset added per side (entries must grow)
        self._last_dst = -1
        self._stream = hashlib.blake2b(digest_size=DIGEST_SIZE)
        self._tail: list[tuple[int, bytes]] = []  # destination records beyond the map
        self._wait_dst: dict[int, _Waiting] = {}  # key -> missing on the destination
        self._wait_src: dict[int, _Waiting] = {}  # key -> gone from the source
        self._src_pos = _Positions(source_positions)
        self._dst_pos = _Positions(destination_positions)
        self._first: Difference | None = None
        self._first_src: int | None = None  # first and last offsets kept per side
        self._first_dst: int | None = None
        self._kept_src: int | None = None
        self._kept_dst: int | None = None
        self.out = PartitionDiff()

    # ------------------------------------------------------------------ feeding
    def add_source(self, entries: Sequence[Entry]) -> None:
        """Source entries, in offset order, continuing what came before."""
        pmap = self._pmap
        taken = _take(
            entries,
            self._src,
            self._last_src,
            pmap.src_start,
            pmap.src_next,
            self._src_pos,
            "source",
        )
        self._last_src, n, first, kept = taken
        if n:
            self.out.source_records += n
            self._kept_src = kept
            if self._first_src is None:
                self._first_src = first
        self._advance()

    def add_destination(self, entries: Sequence[Entry]) -> None:
        """Destination entries, in offset order, continuing what came before."""
        taken = _take(
            entries,
            self._dst,
            self._last_dst,
            self._pmap.dst_start,
            _NEVER,
            self._dst_pos,
            "destination",
        )
        self._last_dst, n, first, kept = taken
        if n:
            self.out.destination_records += n
            self._kept_dst = kept
            if self._first_dst is None:
                self._first_dst = first
        self._advance()

    def end_source(self) -> None:
        """No more source entries."""
        self._src_ended = True
        self._advance()

    def end_destination(self) -> None:
        """No more destination entries."""
        self._dst_ended = True
        self._advance()

    def backlog(self) -> tuple[int, int]:
        """Entries held per side (source, destination), waiting for the other side."""
        return len(self._src), len(self._dst)

    @property
    def ended(self) -> bool:
        return self._src_ended and self._dst_ended

    @property
    def records(self) -> tuple[int, int]:
        """Records taken so far (source, destination), within the compared ranges."""
        return self.out.source_records, self.out.destination_records

    def next_record(self, side: str, position: int) -> bytes | None:
        """Digest of the record a consumer at ``position`` on ``side`` (``source`` or
        ``destination``) reads next, among the records read; None: none left. Only for
        positions given to the constructor."""
        return (self._src_pos if side == "source" else self._dst_pos).next_record(position)

    # ------------------------------------------------------------------ walking
    def _advance(self) -> None:
        src, dst, runs = self._src, self._dst, self._runs
        while True:
            if src:
                s: Entry | None = src[0]
            elif self._src_ended:
                s = None
            else:
                return
            if dst:
                d: Entry | None = dst[0]
            elif self._dst_ended:
                d = None
            else:
                return
            if self._ri >= len(runs):  # past the map
                if s is not None:
                    src.popleft()
                    self._skipped(s, self._pmap.dst_next)
                elif d is not None:
                    dst.popleft()
                    self._beyond(d)
                else:
                    return
                continue
            run = runs[self._ri]
            if s is not None and s[0] < run.src:
                src.popleft()  # a source record the copy skipped
                self._skipped(s, run.dst)
                continue
            if d is not None and d[0] < run.dst:  # cannot happen: the map is dense there
                dst.popleft()
                self._beyond(d)
                continue
            if not (self._wait_dst or self._wait_src):
                self._match_run(run.src, run.dst, run.src_end)
                if src:
                    s = src[0]
                elif not self._src_ended:
                    return
                else:
                    s = None
                if dst:
                    d = dst[0]
                elif not self._dst_ended:
                    return
                else:
                    d = None
            sk = s[0] - run.src if s is not None and s[0] < run.src_end else _NEVER
            dk = d[0] - run.dst if d is not None and d[0] < run.dst_end else _NEVER
            if sk == dk:
                if sk == _NEVER:  # the run is done: pairs with neither side are gone from both
                    self.out.superseded += run.length - self._run_seen
                    self._run_seen = 0
                    self._ri += 1
                    continue
                assert s is not None and d is not None
                src.popleft()
                dst.popleft()
                self._pair(s, d)
            elif sk < dk:
                assert s is not None
                src.popleft()
                self._source_only(s, run.dst + sk)
            else:
                assert d is not None
                dst.popleft()
                self._destination_only(d, run.src + dk)
            self._run_seen += 1

    def _match_run(self, rs: int, rd: int, rse: int) -> None:
        """The common case, fast: equal records at mapped offsets, nothing waiting."""
        src, dst = self._src, self._dst
        delta = rd - rs
        update = self._stream.update
        n = 0
        while src and dst:
            s = src[0]
            so = s[0]
            if so >= rse:
                break
            d = dst[0]
            if d[0] - so != delta or s[1] != d[1]:
                break
            src.popleft()
            dst.popleft()
            update(s[1])
            n += 1
        self.out.matched += n
        self._run_seen += n

    def _pair(self, s: Entry, d: Entry) -> None:
        if self._compacted:
            self._later(self._wait_src, s[2])
            self._later(self._wait_dst, d[2])
        if s[1] == d[1]:
            self.out.matched += 1
            self._stream.update(s[1])
            return
        out = self.out
        out.mismatched_count += 1
        if len(out.mismatched) < SAMPLE:
            out.mismatched.append((s[0], d[0]))
        self._differ("mismatched", s[0], d[0])

    def _source_only(self, s: Entry, dst_offset: int) -> None:
        """On the source, not at its place on the destination."""
        if self._compacted:
            self._later(self._wait_src, s[2])
            self._wait_dst.setdefault(s[2], _Waiting()).add(s[0], dst_offset)
            return
        self._missing(s[0], dst_offset)

    def _destination_only(self, d: Entry, src_offset: int) -> None:
        """Copied, and since removed from the source."""
        if self._compacted:
            self._later(self._wait_dst, d[2])
            self._wait_src.setdefault(d[2], _Waiting()).add(src_offset, d[0])
            return
        self._gone(src_offset)

    def _skipped(self, s: Entry, dst_offset: int) -> None:
        """A source record within the copied range that the map does not place."""
        if self._compacted:
            self._later(self._wait_src, s[2])
        self._missing(s[0], dst_offset)

    def _beyond(self, d: Entry) -> None:
        """A destination record no map entry explains."""
        if self._compacted:
            self._later(self._wait_dst, d[2])
        if len(self._tail) < TAIL_LIMIT:
            self._tail.append((d[0], d[1]))
        else:
            self.out.unclassified += 1
            self._differ("beyond_map", None, d[0])

    def _later(self, waiting: dict[int, _Waiting], key: int) -> None:
        """A later record of ``key`` on a side: what that side was missing of it was
        superseded by compaction."""
        if waiting:
            found = waiting.pop(key, None)
            if found is not None:
                self.out.superseded += found.count

    def _missing(self, src_offset: int, dst_offset: int) -> None:
        out = self.out
        out.missing_count += 1
        if len(out.missing) < SAMPLE:
            out.missing.append(src_offset)
        self._differ("missing", src_offset, dst_offset)

    def _gone(self, src_offset: int) -> None:
        out = self.out
        out.gone_from_source_count += 1
        if len(out.gone_from_source) < SAMPLE:
            out.gone_from_source.append(src_offset)

    def _differ(self, kind: str, src: int | None, dst: int | None) -> None:
        """Keep the first difference: by source offset (a destination record with no
        source place comes after every source offset), then destination offset."""
        first = self._first
        if first is None or _order(src, dst) < _order(
            first.source_offset, first.destination_offset
        ):
            self._first = Difference(kind, src, dst)

    # ------------------------------------------------------------------ result
    def beyond_map_digests(self) -> set[bytes]:
        """Digests of the destination records beyond the map that :meth:`result` will
        classify (look them up on the source); empty when there are none."""
        if not self.ended:
            raise ValueError("the comparison is not over: a side has not ended")
        self._advance()
        return {digest for _off, digest in self._tail}

    def result(self, on_source: Collection[bytes] = ()) -> PartitionDiff:
        """The comparison, once both sides have ended. ``on_source``: which of
        :meth:`beyond_map_digests` the source holds (duplicates; the others are foreign)."""
        if not self.ended:
            raise ValueError("the comparison is not over: a side has not ended")
        self._advance()
        out = self.out
        for w in self._wait_dst.values():  # no later record of the key: missing
            out.missing_count += w.count
            out.missing.extend(s for s, _d in w.sample)
            self._differ("missing", *w.sample[0])
        self._wait_dst.clear()
        out.missing.sort()
        del out.missing[SAMPLE:]
        for w in self._wait_src.values():
            out.gone_from_source_count += w.count
            out.gone_from_source.extend(s for s, _d in w.sample)
        self._wait_src.clear()
        out.gone_from_source.sort()
        del out.gone_from_source[SAMPLE:]
        for off, digest in self._tail:
            if digest in on_source:
                out.duplicates_count += 1
                if len(out.duplicates) < SAMPLE:
                    out.duplicates.append(off)
                self._differ("duplicate", None, off)
            else:
                out.foreign_count += 1
                if len(out.foreign) < SAMPLE:
                    out.foreign.append(off)
                self._differ("foreign", None, off)
        self._tail.clear()
        out.first_difference = self._first
        out.source_digest = out.destination_digest = self._stream.hexdigest()
        out.first = (self._first_src, self._first_dst)
        out.last = (self._kept_src, self._kept_dst)
        out.source_next = self._src_pos.found
        out.destination_next = self._dst_pos.found
        return out


def _order(src: int | None, dst: int | None) -> tuple[int, int]:
    return (_NEVER if src is None else src, _NEVER if dst is None else dst)


# --------------------------------------------------------------------------- in memory


@dataclass
class SideIndex:
    """One side's records of one partition, by offset: the whole-partition form, for
    callers that hold both sides in memory (tests, small ranges); :class:`StreamDiff`
    needs none of it."""

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

    def entries(self) -> list[Entry]:
        return [(o, *self.records[o]) for o in self.offsets]

    def superseded(self, key: int, offset: int) -> bool:
        """True when this side holds a record with ``key`` after ``offset``."""
        return self.last_by_key.get(key, -1) > offset

    def next_at_or_after(self, offset: int) -> int | None:
        i = bisect.bisect_left(self.offsets, offset)
        return self.offsets[i] if i < len(self.offsets) else None


def diff_partition(
    source: SideIndex, destination: SideIndex, pmap: PartitionMap, *, compacted: bool
) -> PartitionDiff:
    """Compare both sides of one partition held in memory, through :class:`StreamDiff`."""
    diff = StreamDiff(pmap, compacted=compacted)
    diff.add_source(source.entries())
    diff.add_destination(destination.entries())
    diff.end_source()
    diff.end_destination()
    on_source = {digest for digest, _key in source.records.values()}
    return diff.result(diff.beyond_map_digests() & on_source)


def same_next_record(source: bytes | None, destination: bytes | None) -> bool | None:
    """Do two consumer positions point at the same record, given the digests of the
    records each reads next (None: no record left)? None when both are at the end (no
    record to read yet, which is also agreement)."""
    if source is None and destination is None:
        return None
    if source is None or destination is None:
        return False
    return source == destination


def same_record_at(
    source: SideIndex, destination: SideIndex, src_position: int, dst_position: int
) -> bool | None:
    """:func:`same_next_record` of two positions on sides held in memory."""
    s_off = source.next_at_or_after(src_position)
    d_off = destination.next_at_or_after(dst_position)
    return same_next_record(
        None if s_off is None else source.records[s_off][0],
        None if d_off is None else destination.records[d_off][0],
    )


__all__ = [
    "SAMPLE",
    "TAIL_LIMIT",
    "Difference",
    "Entry",
    "PartitionDiff",
    "SideIndex",
    "StreamDiff",
    "diff_partition",
    "same_next_record",
    "same_record_at",
]
