"""What the bench watches while a contender runs: its memory and CPU from ``/proc`` and the
destination's high watermarks.

* :class:`ProcSampler` reads ``VmHWM`` (the kernel's peak resident set size of a process) from
  ``/proc/<pid>/status`` of a process *and its descendants* every 0.1 s in a thread, and once
  more when asked (:meth:`ProcSampler.sample`, just before a process is stopped). A process
  started through a shell script is measured by the JVM it forks. ``ru_maxrss`` is not used:
  a forked child's starts at its parent's high-water mark, so it showed the bench's own RSS.
* :func:`wait_caught_up` polls the destination until every partition's high watermark
  reaches the source's end offset, with one ListOffsets(LATEST) round per poll for all the
  partitions still behind (one request per leader broker, whatever the number of topics); a
  poll that costs more than 5 % of a core of CPU (2,000 partitions behind) stretches the wait
  before the next one, so that watching does not slow the copy it watches.
"""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from confluent_kafka import IsolationLevel, KafkaException, TopicPartition
from confluent_kafka.admin import OffsetSpec

from connshift.errors import SandboxError
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox.mm2 import MirrorProgress

PROC = Path("/proc")
SAMPLE_INTERVAL = 0.1
#: the share of one core the catch-up polling may take: a poll that cost more CPU than this
#: share of the interval stretches the wait before the next one (up to ``MAX_POLL_WAIT``)
POLL_CPU_BUDGET = 0.05
MAX_POLL_WAIT = 1.0

# --------------------------------------------------------------------------- /proc (pure)


def status_kb(text: str, key: str) -> int | None:
    """The value in kB of ``key`` (``VmHWM``, ``VmRSS``...) in a ``/proc/<pid>/status`` text;
    None when absent (a zombie has no ``Vm*`` lines)."""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            fields = line.split()
            if len(fields) >= 2 and fields[1].isdigit():
                return int(fields[1])
            return None
    return None


def stat_fields(text: str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after ``pid (comm)`` (comm may hold spaces and
    parentheses): index 0 is the state, 1 the parent pid, 11/12 utime/stime in ticks."""
    return text.rsplit(")", 1)[1].split()


def stat_ppid(text: str) -> int:
    return int(stat_fields(text)[1])


def stat_cpu_seconds(text: str, ticks_per_s: int) -> float:
    fields = stat_fields(text)
    return (int(fields[11]) + int(fields[12])) / ticks_per_s


def descendants(root: int, parents: Mapping[int, int]) -> list[int]:
    """``root`` and every process below it, given ``pid -> parent pid``."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _parents() -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            text = _read(PROC / entry.name / "stat")
            if text:
                with contextlib.suppress(IndexError, ValueError):
                    out[int(entry.name)] = stat_ppid(text)
    return out


def _children(pid: int) -> list[int] | None:
    """Direct children from ``/proc/<pid>/task/*/children`` (None when the kernel lacks it)."""
    try:
        tasks = list(os.scandir(PROC / str(pid) / "task"))
    except OSError:
        return []
    out: list[int] = []
    for task in tasks:
        text = _read(Path(task.path) / "children")
        if text is None:
            return None
        out += [int(x) for x in text.split()]
    return out


def process_tree(root: int) -> list[int]:
    """``root`` and its live descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = _children(pid)
        if kids is None:  # no ``children`` files: scan /proc once
            return [p for p in descendants(root, _parents()) if (PROC / str(p)).exists()]
        out.append(pid)
        todo.extend(kids)
    return out


def _cmdline(pid: int | str) -> bytes | None:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None


_SELF_CMDLINE = _cmdline("self")


class ProcSampler:
    """Samples the ``VmHWM`` and CPU time of process ``pid`` and its descendants every
    ``interval`` seconds in a daemon thread, keeping for each process the last values seen
    (a process that exits keeps its last sample).

    ``peak_bytes`` is the sum over the processes of their ``VmHWM`` (for a shell script and
    the JVM it runs: the JVM's, plus the shell's few MiB); ``largest_bytes`` that of the
    biggest one. ``cpu_seconds`` sums the processes' user + system time as last seen (the
    caller's ``wait4`` rusage is exact for a child that exits on its own).
    """

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL) -> None:
        self.pid = pid
        self.interval = interval
        self.hwm_kb: dict[int, int] = {}
        self.cpu_s: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.samples = 0
        self._ticks = os.sysconf("SC_CLK_TCK")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{pid}", daemon=True)

    def start(self) -> ProcSampler:
        self.sample()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """Read every process of the tree once (also callable from outside: just before
        the process is stopped). A child seen between fork and exec (its command line still
        the bench's own) is skipped: until exec it shares or copies the bench's memory, and
        with it the bench's high-water mark."""
        for pid in process_tree(self.pid):
            if _cmdline(pid) == _SELF_CMDLINE:
                continue
            status = _read(PROC / str(pid) / "status")
            stat = _read(PROC / str(pid) / "stat")
            hwm = status_kb(status, "VmHWM") if status else None
            with self._lock:
                if hwm is not None:
                    self.hwm_kb[pid] = max(hwm, self.hwm_kb.get(pid, 0))
                if stat:
                    with contextlib.suppress(IndexError, ValueError):
                        self.cpu_s[pid] = stat_cpu_seconds(stat, self._ticks)
                if status:
                    self.names[pid] = (status_line(status, "Name") or "?").strip()
        with self._lock:
            self.samples += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    @property
    def peak_bytes(self) -> int | None:
        with self._lock:
            return sum(self.hwm_kb.values()) * 1024 if self.hwm_kb else None

    @property
    def largest_bytes(self) -> int | None:
        with self._lock:
            return max(self.hwm_kb.values()) * 1024 if self.hwm_kb else None

    @property
    def cpu_seconds(self) -> float | None:
        with self._lock:
            return sum(self.cpu_s.values()) if self.cpu_s else None

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            procs = {
                str(pid): {"name": self.names.get(pid, "?"), "vm_hwm_mib": round(kb / 1024, 1)}
                for pid, kb in sorted(self.hwm_kb.items())
            }
            samples = self.samples
        return {"source": "/proc/<pid>/status VmHWM", "samples": samples, "processes": procs}


def status_line(text: str, key: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1]
    return None


# --------------------------------------------------------------------------- catch-up


def behind(
    pending: Mapping[tuple[str, int], int], highs: Mapping[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """The partitions of ``pending`` (``-> expected end``) whose high watermark in ``highs``
    has not reached it (a partition missing from ``highs`` is behind)."""
    return {tp: end for tp, end in pending.items() if highs.get(tp, -1) < end}


def next_wait(interval: float, poll_cpu: float, budget: float = POLL_CPU_BUDGET) -> float:
    """Seconds to wait before the next poll: ``interval``, or longer when the last poll's CPU
    (``poll_cpu`` seconds, the bench's own process) would exceed ``budget`` of a core; at most
    :data:`MAX_POLL_WAIT`. Asking 2,000 partitions costs ~40 ms of CPU (the admin client's
    futures); asking the last few, under 1 ms: the end of a copy is seen within ``interval``."""
    return min(max(interval, poll_cpu / budget), max(interval, MAX_POLL_WAIT))


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def latest_offsets(
    cluster: KafkaCluster, partitions: Iterable[tuple[str, int]], timeout: float = 10.0
) -> dict[tuple[str, int], int]:
    """High watermarks of ``partitions`` in one ListOffsets(LATEST) round (one request per
    leader). Partitions that fail (a topic not created yet, no leader yet) are left out."""
    req = {TopicPartition(t, p): OffsetSpec.latest() for t, p in partitions}
    if not req:
        return {}
    try:
        futs = cluster.admin.list_offsets(
            req, isolation_level=IsolationLevel.READ_UNCOMMITTED, request_timeout=timeout
        )
    except KafkaException:
        return {}
    out: dict[tuple[str, int], int] = {}
    for tp, fut in futs.items():
        try:
            out[(tp.topic, tp.partition)] = int(fut.result(timeout=timeout + 5).offset)
        except KafkaException:
            continue
    return out


def wait_caught_up(
    target: KafkaCluster,
    expected: Mapping[tuple[str, int], int],
    timeout: float,
    *,
    interval: float = 0.1,
    started_at: float | None = None,
    alive: Callable[[], bool] | None = None,
) -> MirrorProgress:
    """Poll ``target`` until every ``(topic, partition)`` reaches its expected end offset;
    as :func:`connshift.io.sandbox.mm2.wait_until_mirrored`, but each poll is one batched
    ListOffsets over the partitions still behind, asked only once their topic exists."""
    progress = MirrorProgress(started_at=time.monotonic() if started_at is None else started_at)
    pending = dict(expected)
    topics = {t for t, _ in pending}
    present: set[str] = set()
    deadline = time.monotonic() + timeout
    while True:
        progress.polls += 1
        cpu_before = _cpu_now()
        if present != topics:
            with contextlib.suppress(Exception):
                present = topics & set(target.topics())
        asked = [tp for tp in pending if tp[0] in present]
        highs = latest_offsets(target, asked)
        progress.offsets.update(highs)
        pending = behind(pending, highs)
        if progress.first_record_at is None and any(progress.offsets.values()):
            progress.first_record_at = time.monotonic()
            progress.copied_at_first = sum(progress.offsets.values())
        if not pending:
            progress.done_at = time.monotonic()
            if progress.first_record_at is None:
                progress.first_record_at = progress.done_at
            return progress
        if alive is not None and not alive():
            raise SandboxError(
                "the copier exited before the target caught up",
                why=f"{len(pending)} partition(s) behind, e.g. {_first_behind(pending, progress)}",
            )
        if time.monotonic() > deadline:
            raise SandboxError(
                f"the target did not catch up within {timeout:.0f}s",
                why=f"{len(pending)} partition(s) behind, e.g. {_first_behind(pending, progress)}",
            )
        time.sleep(next_wait(interval, _cpu_now() - cpu_before))


def _first_behind(pending: Mapping[tuple[str, int], int], progress: MirrorProgress) -> str:
    (topic, partition), end = next(iter(pending.items()))
    return f"{topic}[{partition}] at {progress.offsets.get((topic, partition), 0)} of {end}"
