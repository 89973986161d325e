"""Exact run-length offset maps between a source and a destination partition.

A copy writes the source partition's records, in order, into a destination
partition. Where the source log is contiguous the destination offsets follow one
for one; where it is not (compaction holes, transaction markers, aborted
records, a moved log start) a new *run* starts. A run ``(src, dst, length)`` says:
source offsets ``src .. src+length-1`` are destination offsets
``dst .. dst+length-1``.

Translating a *consumer position* (a committed offset = the next record to read)
is exact: the position of the first copied record at or after it, or the
destination end if the copy has reached that position with no record left. A
position the copy has not reached is *not* translated (never guessed).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Run:
    """Source offsets ``src..src+length-1`` live at destination ``dst..dst+length-1``."""

    src: int
    dst: int
    length: int

    @property
    def src_end(self) -> int:
        """One past the last source offset of the run."""
        return self.src + self.length

    @property
    def dst_end(self) -> int:
        """One past the last destination offset of the run."""
        return self.dst + self.length


class OffsetMapError(ValueError):
    """A run that does not follow the map (out of order or overlapping)."""


@dataclass
class PartitionMap:
    """The offset map of one partition plus how far the copy has got.

    ``src_next`` is the next source offset the copy will look at (everything
    below it has been copied or is a gap); ``dst_next`` is the destination end
    the copy expects. ``src_start`` is where the copy began (the source log start
    when it began); positions below it are not translated.
    """

    src_start: int = 0
    src_next: int = 0
    dst_start: int = 0
    dst_next: int = 0
    runs: list[Run] = field(default_factory=list)

    @classmethod
    def starting_at(cls, src_start: int, dst_start: int = 0) -> PartitionMap:
        """An empty map for a copy that begins at source ``src_start``."""
        return cls(src_start=src_start, src_next=src_start, dst_start=dst_start, dst_next=dst_start)

    # ------------------------------------------------------------------ building
    def append(self, src: int, dst: int, length: int) -> None:
        """Record that ``length`` records from ``src`` were written at ``dst``."""
        if length <= 0:
            raise OffsetMapError(f"run length must be positive, got {length}")
        if src < self.src_next:
            raise OffsetMapError(f"source offset {src} is below the copy position {self.src_next}")
        if dst != self.dst_next:
            raise OffsetMapError(f"destination offset {dst} is not the expected {self.dst_next}")
        last = self.runs[-1] if self.runs else None
        if last is not None and last.src_end == src and last.dst_end == dst:
            self.runs[-1] = Run(last.src, last.dst, last.length + length)
        else:
            self.runs.append(Run(src, dst, length))
        self.src_next = src + length
        self.dst_next = dst + length

    def append_offsets(self, src_offsets: Iterable[int]) -> None:
        """Record records written one after another at the destination end."""
        for src in src_offsets:
            self.append(src, self.dst_next, 1)

    def advance(self, src_next: int) -> None:
        """Mark source offsets up to ``src_next`` as passed (a gap: nothing to copy)."""
        if src_next < self.src_next:
            raise OffsetMapError(f"cannot move the copy position back to {src_next}")
        self.src_next = src_next

    def extend(self, runs: Iterable[Run | tuple[int, int, int]], src_next: int) -> None:
        """Append ``runs`` (in order) and move the copy position to ``src_next``."""
        for run in runs:
            src, dst, length = run if isinstance(run, tuple) else (run.src, run.dst, run.length)
            self.append(src, dst, length)
        self.advance(src_next)

    # ------------------------------------------------------------------ queries
    @property
    def records(self) -> int:
        """How many records the copy has written."""
        return self.dst_next - self.dst_start

    @property
    def contiguous(self) -> bool:
        """True when destination offsets equal source offsets everywhere copied."""
        return all(r.src == r.dst for r in self.runs)

    def _run_index(self, src: int) -> int:
        """Index of the first run whose end is beyond ``src``."""
        ends = [r.src_end for r in self.runs]
        return bisect.bisect_right(ends, src)

    def record_offset(self, src: int) -> int | None:
        """Destination offset of the record at source offset ``src`` (None if not copied)."""
        i = self._run_index(src)
        if i < len(self.runs) and self.runs[i].src <= src:
            run = self.runs[i]
            return run.dst + (src - run.src)
        return None

    def position(self, src: int) -> int | None:
        """Translate a consumer position exactly; None when the copy has not reached it.

        A position below the copy's start maps to the destination start (the records
        there no longer exist on the source either: a consumer there would reset).
        """
        if src > self.src_next:
            return None
        if src <= self.src_start:
            return self.dst_start
        i = self._run_index(src)
        if i < len(self.runs):
            run = self.runs[i]
            if run.src <= src:
                return run.dst + (src - run.src)
            return run.dst  # src is in a gap before this run: the next record is its first
        return self.dst_next  # at or past every copied record, within the copied range

    def reverse_position(self, dst: int) -> int | None:
        """Translate a destination consumer position back to the source (for rollback)."""
        if dst > self.dst_next or dst < self.dst_start:
            return None
        if dst == self.dst_next:
            return self.src_next
        dsts = [r.dst_end for r in self.runs]
        i = bisect.bisect_right(dsts, dst)
        run = self.runs[i]
        return run.src + (dst - run.dst)

    def iter_pairs(self) -> Iterator[tuple[int, int]]:
        """Every (source offset, destination offset) pair, in order (for validation)."""
        for run in self.runs:
            for k in range(run.length):
                yield run.src + k, run.dst + k

    # ------------------------------------------------------------------ serialisation
    def to_json(self) -> dict[str, object]:
        return {
            "src_start": self.src_start,
            "src_next": self.src_next,
            "dst_start": self.dst_start,
            "dst_next": self.dst_next,
            "runs": [[r.src, r.dst, r.length] for r in self.runs],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PartitionMap:
        runs_raw = data.get("runs", [])
        assert isinstance(runs_raw, list)
        runs = [Run(int(a), int(b), int(c)) for a, b, c in runs_raw]
        return cls(
            src_start=_int(data["src_start"]),
            src_next=_int(data["src_next"]),
            dst_start=_int(data["dst_start"]),
            dst_next=_int(data["dst_next"]),
            runs=runs,
        )


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def runs_from_offsets(src_offsets: Sequence[int], dst_start: int) -> list[Run]:
    """Compress consecutive source offsets written from ``dst_start`` into runs."""
    runs: list[Run] = []
    dst = dst_start
    for src in src_offsets:
        if runs and runs[-1].src_end == src and runs[-1].dst_end == dst:
            last = runs[-1]
            runs[-1] = Run(last.src, last.dst, last.length + 1)
        else:
            runs.append(Run(src, dst, 1))
        dst += 1
    return runs
