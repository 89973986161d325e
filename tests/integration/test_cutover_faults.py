"""Faults during the cutover and rollback of the Debezium connector under a live writer.

connshift is stopped right after a step (``CONNSHIFT_CRASH_AFTER_STEP``: kill -9 of itself),
then the fault is made for real — a Connect worker killed with SIGKILL and restarted,
PostgreSQL killed and restarted, the destination worker frozen (SIGSTOP) for 30 s — and the
same command is run again. It must finish the move (or the rollback), every change exactly
once on the side that ends up with the connector, and the connector never RUNNING on both
sides. A worker that does not answer stops the command with one line and exit 3 within a
bounded time; the journal lets the next run continue.

Marked ``faults`` and ``disruptive`` (``make test-faults``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.io.kafka import KafkaCluster
from connshift.io.postgres import WriterStats
from connshift.io.sandbox import procs

from .conftest import SpecFor
from .helpers import CLI, cdc_events, connect, kafka, live_writer, run_cli, unique_prefix, wait_for
from .test_faults import record_fault

pytestmark = [pytest.mark.faults, pytest.mark.disruptive]

CDC = "shop-cdc"


def _state(sandbox: Sandbox, side: str) -> str | None:
    with connect(sandbox, side) as c:
        return c.status(CDC).state if c.exists(CDC) else None


def _never_on_both(sandbox: Sandbox) -> None:
    both = _state(sandbox, "source") == "RUNNING" and _state(sandbox, "destination") == "RUNNING"
    assert not both, "shop-cdc RUNNING on both sides"


def _crash_after(step: str, command: str, spec: Path) -> None:
    proc = subprocess.run(
        [*CLI, command, *(["--force"] if command == "cutover" else []), "-c", str(spec), CDC],
        capture_output=True,
        text=True,
        env={**os.environ, "CONNSHIFT_CRASH_AFTER_STEP": step},
        timeout=300,
        check=False,
    )
    assert proc.returncode == -9, (step, proc.returncode, proc.stderr[-2000:])


def _kill_restart(sandbox: Sandbox, service: str) -> None:
    rec = sandbox.record(service)
    assert rec is not None and procs.is_alive(rec), service
    os.kill(int(rec.pid), signal.SIGKILL)
    time.sleep(2.0)
    info = sandbox.up(with_tansu=sandbox.with_tansu)
    assert service in info.started, info.started


def _counts(cluster: KafkaCluster, topics: list[str], txids: set[int]) -> Counter[int]:
    return Counter(e["txid"] for e in cdc_events(cluster, topics) if e["txid"] in txids)


def _moved_exactly(
    before: tuple[KafkaCluster, list[str]],
    after: tuple[KafkaCluster, list[str]],
    txids: set[int],
    *,
    upstream_repeats: bool = False,
) -> None:
    """Every change of ``txids`` is on the side the connector ends on (``after``): each
    one the connector had written on the side it left (``before``) exactly as often as it
    is there (connshift copied it, and no one wrote it again), every other one once.
    ``upstream_repeats``: a worker was killed -9 while the connector ran on it; its last
    committed offset is then older than what it wrote, and whoever runs it next — on either
    side — reads those changes again (at least once, as any Connect source without
    exactly-once support): none may be missing, some may repeat."""
    wait_for(
        lambda: txids <= set(_counts(after[0], after[1], txids)),
        timeout=120,
        what="every change of the live writer",
    )
    was, now = _counts(*before, txids), _counts(*after, txids)
    for tx in sorted(txids):
        if upstream_repeats:
            # its last committed offset is older than what it wrote before the kill: the
            # next owner (on either side) reads those changes again
            assert now[tx] >= max(1, was[tx]), f"change {tx}: {was[tx]} before, {now[tx]} after"
        elif was[tx]:
            assert now[tx] == was[tx], f"change {tx}: {was[tx]} before the move, {now[tx]} after"
        else:
            assert now[tx] == 1, f"change {tx} is there {now[tx]} times"


def _run(command: str, spec: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    args = [command, *(["--force"] if command == "cutover" else []), "-c", str(spec), CDC]
    return run_cli(*args, timeout=timeout)


#: (command, step after which connshift dies, the service then killed -9 and restarted): the
#: worker each step acts on, or the next step will; and PostgreSQL while the move is half-way
STEP_FAULTS: tuple[tuple[str, str, str], ...] = (
    ("cutover", "preflight", "source-connect"),
    ("cutover", "stop-source", "source-connect"),
    ("cutover", "stop-source", "postgres"),
    ("cutover", "read-offsets", "source-connect"),
    ("cutover", "catch-up", "destination-connect"),
    ("cutover", "create-stopped", "destination-connect"),
    ("cutover", "write-offsets", "destination-connect"),
    ("cutover", "resume", "destination-connect"),
    ("rollback", "stop-destination", "destination-connect"),
    ("rollback", "read-destination-offsets", "destination-connect"),
    ("rollback", "copy-back", "source-connect"),
    ("rollback", "write-source-offsets", "source-connect"),
    ("rollback", "delete-destination", "source-connect"),
)
CASES = {f"{cmd}, {svc} after {step}": (cmd, step, svc) for cmd, step, svc in STEP_FAULTS}


@pytest.mark.parametrize("case", list(CASES))
def test_a_worker_or_database_killed_mid_move_and_the_rerun_finishes_exactly_once(
    sandbox: Sandbox, restore: None, spec_for: SpecFor, case: str
) -> None:
    command, step, service = CASES[case]
    prefix = unique_prefix("flt")
    spec = spec_for(name="cutfault", prefix=prefix, include=[r"shop\..*"])
    assert run_cli("sync", "-c", str(spec), "--once").returncode == 0
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    src_topics = list(seedmod.CDC_TOPICS)
    dst_topics = [prefix + t for t in src_topics]
    if command == "rollback":
        moved = _run("cutover", spec)
        assert moved.returncode == 0, moved.stderr[-2000:]

    stats: list[WriterStats] = []
    writer = live_writer(sandbox, 80, stats)
    time.sleep(1.0)
    _crash_after(step, command, spec)
    _never_on_both(sandbox)
    _kill_restart(sandbox, service)
    _never_on_both(sandbox)
    started = time.monotonic()
    rerun = _run(command, spec)
    took = time.monotonic() - started
    # the connector was RUNNING where the worker was killed: preflight (source), resume
    # (destination); every other step is a stopped connector's
    running = (command, step) in {("cutover", "preflight"), ("cutover", "resume")}
    caught = (
        running
        and rerun.returncode == 1
        and "re-read the database log" in rerun.stderr
        and rerun.stderr.count("error:") == 1
    )
    # a worker killed while Debezium ran leaves its committed offset behind what it wrote:
    # the destination connector re-reads those changes, and cutover's verify step says so
    # (exit 1, "rollback it") — the right answer, not a pass
    assert rerun.returncode == 0 or caught, rerun.stderr[-3000:]
    writer.join(120)
    _never_on_both(sandbox)
    txids = set(stats[0].txids)
    assert len(txids) == 80
    ends_on = "destination" if command == "cutover" else "source"
    with connect(sandbox, ends_on) as c:
        c.wait_for_state(CDC, "RUNNING", tasks_state="RUNNING", timeout=120)
    if command == "cutover":
        _moved_exactly((src, src_topics), (dst, dst_topics), txids, upstream_repeats=running)
        back = _run("rollback", spec)  # leave the sandbox as it was
        assert back.returncode == 0, back.stderr[-2000:]
    else:
        _moved_exactly((dst, dst_topics), (src, src_topics), txids, upstream_repeats=running)
    record_fault(
        "cutover-" + case.replace(",", "").replace(" ", "-"),
        {
            "phase": f"{command} of Debezium under a live writer",
            "fault": f"connshift killed after {step}, then {service} killed -9 and restarted",
            "engine": "-",
            "outcome": (
                "rerun stopped at verify, exit 1: it found the destination connector "
                "re-reading the database log and said to roll back; "
                if caught
                else f"rerun of {command} finished; "
            )
            + f"every change on the {ends_on}, "
            + (
                "at least once: none missing (a worker killed -9 while Debezium runs leaves "
                "its committed offset behind what it wrote; the next owner re-reads those)"
                if running
                else "exactly once"
            )
            + "; never RUNNING on both sides",
            "exit_code": rerun.returncode,
            "retries": "-",
            "seconds": round(took, 1),
            "records": len(txids),
        },
    )


def test_a_frozen_destination_worker_stops_cutover_in_bounded_time_and_the_rerun_finishes(
    sandbox: Sandbox, restore: None, spec_for: SpecFor
) -> None:
    """The destination worker stops answering (SIGSTOP) for 30 s after the source connector
    was stopped: cutover stops with one line and exit 3, the source connector is not left
    STOPPED for nothing — it is STOPPED, the journal says where the move is — and, once the
    worker answers again, the rerun finishes the move exactly once."""
    prefix = unique_prefix("frz")
    spec = spec_for(name="cutfreeze", prefix=prefix, include=[r"shop\..*"])
    assert run_cli("sync", "-c", str(spec), "--once").returncode == 0
    dst = kafka(sandbox, "destination")
    dst_topics = [prefix + t for t in seedmod.CDC_TOPICS]
    stats: list[WriterStats] = []
    writer = live_writer(sandbox, 60, stats)
    _crash_after("catch-up", "cutover", spec)
    rec = sandbox.record("destination-connect")
    assert rec is not None
    os.kill(int(rec.pid), signal.SIGSTOP)
    thawed = False
    try:
        started = time.monotonic()
        stuck = _run("cutover", spec, timeout=240)
        took = time.monotonic() - started
    finally:
        time.sleep(max(0.0, 30.0 - (time.monotonic() - started)))
        os.kill(int(rec.pid), signal.SIGCONT)
        thawed = True
    assert thawed
    errors = [line for line in stuck.stderr.splitlines() if line.startswith("error:")]
    assert stuck.returncode == 3 and len(errors) == 1, stuck.stderr[-3000:]
    assert "Traceback" not in stuck.stderr
    assert "destination" in errors[0].lower()
    _never_on_both(sandbox)
    with connect(sandbox, "destination") as c:
        c.wait_until_ready(timeout=120)
    rerun = _run("cutover", spec)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    writer.join(120)
    txids = set(stats[0].txids)
    src = kafka(sandbox, "source")
    _moved_exactly((src, list(seedmod.CDC_TOPICS)), (dst, dst_topics), txids)
    back = _run("rollback", spec)
    assert back.returncode == 0, back.stderr[-2000:]
    record_fault(
        "cutover-destination-worker-frozen-30s",
        {
            "phase": "cutover of Debezium under a live writer",
            "fault": "destination worker frozen (SIGSTOP) for 30 s after catch-up",
            "engine": "-",
            "outcome": f"cutover stopped with one line, exit 3, after {took:.0f} s; the "
            "rerun finished, every change exactly once",
            "exit_code": stuck.returncode,
            "retries": "-",
            "seconds": round(took, 1),
            "records": len(txids),
        },
    )
