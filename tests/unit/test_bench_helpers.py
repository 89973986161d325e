"""The bench's pure helpers (bench/watch.py, bench/ceiling.py, bench/run.py): /proc parsing,
the catch-up bookkeeping, the ceiling arithmetic and the estate verdict. No Kafka, no JVM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import ceiling  # noqa: E402
import run  # noqa: E402
import watch  # noqa: E402

STATUS = """Name:\tjava
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
PPid:\t4200
VmPeak:\t 5123456 kB
VmSize:\t 5000000 kB
VmHWM:\t  1018880 kB
VmRSS:\t   901120 kB
Threads:\t42
"""


def test_status_kb_reads_the_named_field_only() -> None:
    assert watch.status_kb(STATUS, "VmHWM") == 1018880
    assert watch.status_kb(STATUS, "VmRSS") == 901120
    assert watch.status_kb(STATUS, "VmSwap") is None


def test_status_kb_of_a_zombie_is_none() -> None:
    zombie = "Name:\tconnshift\nState:\tZ (zombie)\nPid:\t7\nPPid:\t1\nThreads:\t1\n"
    assert watch.status_kb(zombie, "VmHWM") is None


def test_stat_fields_survive_spaces_and_parentheses_in_comm() -> None:
    stat = "4242 (we (ird) name) S 4200 4242 4242 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 1 0"
    assert watch.stat_ppid(stat) == 4200
    assert watch.stat_cpu_seconds(stat, 100) == pytest.approx(3.0)


def test_descendants_walks_the_whole_tree_and_nothing_else() -> None:
    parents = {10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20}
    assert sorted(watch.descendants(10, parents)) == [10, 11, 12, 13]
    assert watch.descendants(12, parents) == [12]


@pytest.fixture
def shell_with_child() -> Iterator[subprocess.Popen[bytes]]:
    """A shell that forks a child holding ~64 MiB, as a launch script forks a JVM."""
    code = "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(30)"
    proc = subprocess.Popen(
        ["/bin/sh", "-c", f'{sys.executable} -c "{code}"; true'], start_new_session=True
    )
    yield proc
    os.killpg(proc.pid, signal.SIGKILL)  # the shell and its child: their own group
    proc.wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_sampler_measures_the_process_tree_not_the_bench(
    shell_with_child: subprocess.Popen[bytes],
) -> None:
    sampler = watch.ProcSampler(shell_with_child.pid, interval=0.05).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sampler.sample()
            if (sampler.largest_bytes or 0) >= 64 << 20:
                break
            time.sleep(0.05)
    finally:
        sampler.stop()
    assert sampler.largest_bytes is not None and sampler.largest_bytes >= 64 << 20
    peak = sampler.peak_bytes
    assert peak is not None and peak >= sampler.largest_bytes
    names = sampler.to_json()["processes"]
    assert len(names) == 2  # the shell and its python child


def test_behind_keeps_only_partitions_short_of_their_end() -> None:
    pending = {("a", 0): 100, ("a", 1): 100, ("b", 0): 5}
    highs = {("a", 0): 100, ("a", 1): 99}
    assert watch.behind(pending, highs) == {("a", 1): 100, ("b", 0): 5}
    assert watch.behind(pending, {("a", 0): 101, ("a", 1): 100, ("b", 0): 5}) == {}


def test_wait_caught_up_asks_only_what_is_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    rounds = iter(
        [
            {("a", 0): 0, ("a", 1): 0},
            {("a", 0): 10, ("a", 1): 3},
            {("a", 1): 10},
        ]
    )

    def fake_latest(_cluster: Any, tps: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        asked.append(len(tps))
        return next(rounds)

    class Target:
        def topics(self) -> dict[str, object]:
            return {"a": object()}

    monkeypatch.setattr(watch, "latest_offsets", fake_latest)
    progress = watch.wait_caught_up(
        Target(),  # type: ignore[arg-type]
        {("a", 0): 10, ("a", 1): 10},
        timeout=5,
        interval=0,
    )
    assert asked == [2, 2, 1]
    assert progress.done and progress.copied_at_first == 13


def test_ceiling_is_the_lower_side() -> None:
    assert ceiling.ceiling_of(1_000_000.0, 400_000.0) == (400_000.0, "produce")
    assert ceiling.ceiling_of(300_000.0, 400_000.0) == (300_000.0, "fetch")
    assert ceiling.ceiling_of(None, 400_000.0) == (400_000.0, "produce")
    assert ceiling.ceiling_of(None, None) == (None, "unknown")
    assert ceiling.percent_of(360_000.0, 400_000.0) == pytest.approx(0.9)
    assert ceiling.percent_of(None, 400_000.0) is None


def test_produce_rounds_send_one_batch_per_partition_and_wrap_around() -> None:
    sample = {0: [(b"x", 10), (b"y", 10)], 1: [(b"z", 5)]}
    assert ceiling.produce_rounds(sample, 25) == [{0: 0, 1: 0}, {0: 1}]
    # more records wanted than kept: the kept batches go again, in the same order
    assert ceiling.produce_rounds(sample, 40) == [{0: 0, 1: 0}, {0: 1}, {0: 0, 1: 0}]
    assert ceiling.produce_rounds({0: []}, 10) == []
    assert ceiling.produce_rounds({0: [(b"", 0)]}, 10) == [{0: 0}]


def _ok(contender: str, seconds: float, rss: float, members: int | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "contender": contender,
        "status": "ok",
        "total": {"seconds": seconds, "records_per_s": 200_000 / seconds},
        "steady": {"records_per_s": 250_000 / seconds},
        "peak_rss_mib": rss,
    }
    if members is not None:
        res["members"] = members
    return res


def test_estate_verdict_needs_twice_mm2_speed_and_less_memory() -> None:
    case = {
        "results": [
            _ok("connshift", 8.0, 90.0, 1),
            _ok("connshift", 5.0, 180.0, 2),
            _ok("mm2", 20.0, 995.0),
        ],
        "ceiling": {"records_per_s": 100_000.0},
    }
    verdict = run.estate_verdict(case)
    one, two = verdict["by_members"]["1"], verdict["by_members"]["2"]
    assert one["vs_mm2"] == 2.5 and one["met"] is True
    assert "speedup_vs_one_member" not in one
    assert two["speedup_vs_one_member"] == 1.6
    assert one["vs_ceiling_total"] == 0.25  # 25,000 rec/s of 100,000

    slow = {"results": [_ok("connshift", 130.0, 90.0, 1), _ok("mm2", 19.4, 995.0)]}
    row = run.estate_verdict(slow)["by_members"]["1"]
    assert row["vs_mm2"] == pytest.approx(0.149, abs=1e-3) and row["met"] is False
    fat = {"results": [_ok("connshift", 5.0, 1000.0, 1), _ok("mm2", 19.4, 995.0)]}
    assert run.estate_verdict(fat)["by_members"]["1"]["met"] is False


def test_ratios_put_sync_against_the_raw_ceiling() -> None:
    case = {
        "results": [_ok("connshift", 4.0, 90.0)],
        "ceiling": {"records_per_s": 70_000.0, "limited_by": "produce"},
    }
    vs = run.ratios(case)["vs_ceiling"]
    assert vs["steady"] == pytest.approx(62_500 / 70_000, abs=1e-3)
    assert vs["met"] is False and vs["limited_by"] == "produce"
    case["ceiling"] = {"records_per_s": 65_000.0, "limited_by": "fetch"}
    assert run.ratios(case)["vs_ceiling"]["met"] is True


def test_only_estate_leaves_the_other_cases_out() -> None:
    opts = run.parse_args(
        ["--only", "estate", "--source", "h:1", "--destination", "h:2", "--no-secured"]
    )
    assert not opts.partition_cases and opts.estate is not None
    assert opts.contenders == ["connshift", "mm2"]
    assert opts.no_cutover and opts.no_inventory and opts.secured is None
    opts = run.parse_args(
        [
            "--only",
            "estate,connshift",
            "--estate-members",
            "2",
            "--source",
            "h:1",
            "--destination",
            "h:2",
        ]
    )
    assert opts.contenders == ["connshift"] and opts.estate is not None
    assert opts.estate.members == (2,)
    opts = run.parse_args(
        ["--no-estate", "--source", "h:1", "--destination", "h:2", "--no-secured"]
    )
    assert opts.estate is None and opts.partition_cases


def test_estate_regex_selects_the_estate_topics_only() -> None:
    import re

    estate = run.Estate(topics=3)
    topics = run.estate_topics("20261206", estate)
    pattern = re.compile(run.estate_regex("20261206"))
    assert all(pattern.fullmatch(t) for t in topics)
    assert not pattern.fullmatch("cs1." + topics[0])
    assert not pattern.fullmatch(topics[0] + ".ceiling")


def test_next_wait_keeps_polling_within_its_cpu_budget() -> None:
    assert watch.next_wait(0.1, 0.001) == 0.1  # a cheap poll: the interval
    assert watch.next_wait(0.1, 0.02) == pytest.approx(0.4)  # 20 ms / 5 %
    assert watch.next_wait(0.1, 0.5) == watch.MAX_POLL_WAIT  # capped
    assert watch.next_wait(2.0, 0.5) == 2.0  # never below the interval asked for


def test_estate_verdict_times_a_run_whose_member_failed_but_never_passes_it() -> None:
    failed = _ok("connshift", 5.0, 90.0, 2)
    failed["status"] = "member failed"
    case = {"results": [_ok("connshift", 8.0, 90.0, 1), failed, _ok("mm2", 20.0, 995.0)]}
    row = run.estate_verdict(case)["by_members"]["2"]
    assert row["vs_mm2"] == 4.0 and row["met"] is False
    assert row["speedup_vs_one_member"] == 1.6 and row["status"] == "member failed"


def test_last_error_picks_the_error_line() -> None:
    text = "warming up\nerror: sync --once: 2000 partition(s) made no progress\n  fix: rerun\n"
    assert run._last_error(text).startswith("error: sync --once: 2000")
    assert run._last_error("just this\n") == "just this"
    assert run._last_error("") == "(nothing on stderr)"
