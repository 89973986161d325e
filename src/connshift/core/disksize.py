"""Topic sizes on disk from DescribeLogDirs answers (pure: no I/O).

DescribeLogDirs tells, per broker and log directory, the size in bytes of each replica
it holds. :func:`topic_sizes` turns those answers into one :class:`TopicSize` per topic:

* ``partition_bytes``: per partition, the size of its largest *current* replica. Followers
  can lag the leader by a little, so the largest replica is the closest to what a copy of
  the partition moves;
* ``size_bytes``: the sum of ``partition_bytes``: the topic's data once, whatever its
  replication factor (what a destination with its own durability, tansu on S3 say, stores);
* ``size_bytes_all_replicas``: every replica's bytes, future replicas (a move between log
  dirs in progress) included: what the topic occupies on the source's disks.

A partition that no answered log dir holds (its broker did not answer, or its log dir is
offline) has no size: the topic's sizes are then a lower bound and ``note`` says which
partitions are missing and why. A topic none of whose partitions were described has
``None`` sizes. When the cluster cannot be asked at all (the API is not served, say),
:func:`unavailable` gives every topic ``None`` sizes with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class LogDirAnswer(Protocol):
    """What :func:`topic_sizes` reads of one described log dir (``kafka_raw.LogDir``)."""

    @property
    def broker(self) -> int: ...

    @property
    def path(self) -> str: ...

    @property
    def error(self) -> int: ...

    @property
    def partitions(self) -> Mapping[tuple[str, int], tuple[int, int, bool]]: ...


@dataclass(frozen=True)
class TopicSize:
    """One topic's size on disk (see the module docstring for each figure)."""

    topic: str
    size_bytes: int | None
    size_bytes_all_replicas: int | None
    partition_bytes: dict[int, int] = field(default_factory=dict)
    replicas_described: int = 0
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "size_bytes": self.size_bytes,
            "size_bytes_all_replicas": self.size_bytes_all_replicas,
            "partition_bytes": {str(p): b for p, b in sorted(self.partition_bytes.items())},
            "replicas_described": self.replicas_described,
            "size_note": self.note,
        }


def _ranges(numbers: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def topic_sizes(
    dirs: Iterable[LogDirAnswer],
    partitions: Mapping[str, int],
    *,
    errors: Mapping[int, str] | None = None,
    error_name: Callable[[int], str] = str,
) -> dict[str, TopicSize]:
    """Sizes of the topics in ``partitions`` (topic -> partition count) from log dirs.

    ``errors`` are the brokers whose answer was an error (node id -> error name);
    ``error_name`` names a log dir's error code in notes.
    """
    errors = dict(errors or {})
    current: dict[tuple[str, int], list[int]] = {}
    every: dict[str, int] = {}
    replicas: dict[str, int] = {}
    bad_dirs: list[str] = []
    for d in dirs:
        if d.error:
            bad_dirs.append(f"broker {d.broker} {d.path}: {error_name(d.error)}")
            continue
        for (topic, index), (size, _lag, future) in d.partitions.items():
            if topic not in partitions:
                continue
            every[topic] = every.get(topic, 0) + size
            replicas[topic] = replicas.get(topic, 0) + 1
            if not future:
                current.setdefault((topic, index), []).append(size)
    why: list[str] = [f"broker {b} answered {e}" for b, e in sorted(errors.items())] + bad_dirs
    out: dict[str, TopicSize] = {}
    for topic, count in partitions.items():
        sizes = {p: max(current[(topic, p)]) for p in range(count) if (topic, p) in current}
        missing = [p for p in range(count) if p not in sizes]
        note = None
        if missing:
            note = (
                f"partitions {_ranges(missing)} of {count} in no described log dir"
                + (f" ({'; '.join(why)})" if why else "")
                + ("; the sizes are a lower bound" if sizes else "")
            )
        if not sizes:
            out[topic] = TopicSize(topic, None, None, {}, replicas.get(topic, 0), note)
            continue
        out[topic] = TopicSize(
            topic,
            sum(sizes.values()),
            every.get(topic, 0),
            sizes,
            replicas.get(topic, 0),
            note,
        )
    return out


def unavailable(partitions: Iterable[str], reason: str) -> dict[str, TopicSize]:
    """Every topic without a size, for ``reason`` (the API is not served, say)."""
    return {t: TopicSize(t, None, None, {}, 0, reason) for t in partitions}


def human_bytes(n: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; ``None`` -> ``"-"``."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
