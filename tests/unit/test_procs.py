"""The sandbox's process supervisor: start detached, recognise by PID *and* marker, stop.

Every process here is a short Python sleeper this test starts itself, identified by a
unique marker on its command line; nothing else on the machine is signalled.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from connshift.io.sandbox import procs

Spawn = Callable[..., procs.ProcRecord]

SLEEPER = """\
import signal, sys, time
if sys.argv[1] == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(30)
"""


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start a sleeper with a unique marker; every one still running is killed afterwards."""
    started: list[procs.ProcRecord] = []

    def _spawn(*, ignore_term: bool = False, name: str = "sleeper") -> procs.ProcRecord:
        marker = f"connshift-test-{uuid.uuid4().hex}"
        mode = "ignore-term" if ignore_term else "plain"
        log = tmp_path / f"{name}-{len(started)}.log"
        rec = procs.start(
            name, [sys.executable, "-c", SLEEPER, mode, marker], log=log, marker=marker
        )
        started.append(rec)
        assert wait_for(lambda: "ready" in log.read_text()), procs.log_tail(log)
        return rec

    yield _spawn
    for rec in started:
        procs.stop(rec, timeout=0.0, sig=signal.SIGKILL)


def test_start_runs_detached_and_records_the_process(spawn: Spawn, tmp_path: Path) -> None:
    rec = spawn(name="svc")
    assert rec.name == "svc"
    assert rec.pid > 0
    assert rec.started_at <= time.time()
    assert procs.is_alive(rec)
    # its own session and process group: it outlives the command that started it
    assert os.getpgid(rec.pid) == rec.pid
    assert os.getsid(rec.pid) == rec.pid
    log = Path(rec.log)
    assert log.parent == tmp_path
    text = log.read_text()
    assert "=== connshift sandbox: starting svc at" in text
    assert text.rstrip().endswith("ready")


def test_record_round_trips_through_json(spawn: Spawn) -> None:
    rec = spawn()
    assert procs.ProcRecord.from_json(rec.to_json()) == rec
    assert set(rec.to_json()) == {"name", "pid", "marker", "log", "started_at"}


def test_start_appends_to_an_existing_log(tmp_path: Path) -> None:
    log = tmp_path / "sub" / "x.log"
    log.parent.mkdir()
    log.write_text("earlier run\n")
    rec = procs.start("x", [sys.executable, "-c", "print('hello')"], log=log, marker="unused")
    assert wait_for(lambda: "hello" in log.read_text())
    assert log.read_text().startswith("earlier run\n")
    procs.stop(rec, timeout=0.0, sig=signal.SIGKILL)


def test_start_passes_extra_environment_and_cwd(tmp_path: Path) -> None:
    log = tmp_path / "env.log"
    code = "import os; print(os.environ['CONNSHIFT_TEST_VAR'], os.getcwd())"
    rec = procs.start(
        "env",
        [sys.executable, "-c", code],
        log=log,
        marker="unused",
        cwd=tmp_path,
        env={"CONNSHIFT_TEST_VAR": "hello-env"},
    )
    assert wait_for(lambda: "hello-env" in log.read_text())
    assert f"hello-env {tmp_path}" in log.read_text()
    procs.stop(rec, timeout=0.0, sig=signal.SIGKILL)


def test_same_pid_with_another_marker_is_not_alive(spawn: Spawn) -> None:
    rec = spawn()
    assert procs.is_alive(rec)
    reused = replace(rec, marker=f"connshift-test-{uuid.uuid4().hex}")
    assert not procs.is_alive(reused)


def test_a_pid_that_does_not_exist_is_not_alive() -> None:
    with open("/proc/sys/kernel/pid_max") as fh:
        pid_max = int(fh.read())
    rec = procs.ProcRecord(name="x", pid=pid_max + 1, marker="x", log="/nonexistent", started_at=0)
    assert not procs.is_alive(rec)


def test_an_exited_process_is_not_alive(tmp_path: Path) -> None:
    marker = f"connshift-test-{uuid.uuid4().hex}"
    rec = procs.start(
        "quick", [sys.executable, "-c", "pass", marker], log=tmp_path / "q.log", marker=marker
    )
    # exited but not yet reaped (a zombie) counts as not alive
    assert wait_for(lambda: not procs.is_alive(rec))
    assert procs.stop(rec) is False


def test_stop_ends_the_process_with_sigterm(spawn: Spawn) -> None:
    rec = spawn()
    t0 = time.monotonic()
    assert procs.stop(rec, timeout=5.0) is True
    assert time.monotonic() - t0 < 3.0  # SIGTERM was enough: no wait for the timeout
    assert not procs.is_alive(rec)
    assert procs.stop(rec) is False  # already stopped


def test_stop_kills_a_process_that_ignores_sigterm(spawn: Spawn) -> None:
    rec = spawn(ignore_term=True)
    t0 = time.monotonic()
    assert procs.stop(rec, timeout=0.3) is True
    elapsed = time.monotonic() - t0
    assert not procs.is_alive(rec)
    assert elapsed >= 0.3  # SIGTERM was ignored for the whole timeout, then SIGKILL
    assert elapsed < 5.0


def test_stop_leaves_a_pid_with_another_marker_alone(spawn: Spawn) -> None:
    rec = spawn()
    other = replace(rec, marker=f"connshift-test-{uuid.uuid4().hex}")
    assert procs.stop(other, timeout=0.3, sig=signal.SIGKILL) is False
    assert procs.is_alive(rec)


def test_stop_signals_the_whole_process_group(tmp_path: Path) -> None:
    marker = f"connshift-test-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "print('child', p.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    log = tmp_path / "group.log"
    rec = procs.start("group", [sys.executable, "-c", code, marker], log=log, marker=marker)
    try:
        assert wait_for(lambda: "child " in log.read_text())
        child = int(log.read_text().split("child ")[1].split()[0])
        assert procs._state(child) not in (None, "Z", "X")
        assert procs.stop(rec, timeout=5.0) is True
        assert wait_for(lambda: procs._state(child) in (None, "Z", "X"))
    finally:
        procs.stop(rec, timeout=0.0, sig=signal.SIGKILL)


def test_port_open_on_a_listening_socket() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        assert procs.port_open("127.0.0.1", port) is True


def test_port_open_on_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        assert procs.port_open("127.0.0.1", port, timeout=0.5) is False


def test_log_tail_returns_the_last_non_empty_lines(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("one\ntwo\nthree\nfour\nfive\n")
    assert procs.log_tail(log, 3) == "three | four | five"
    assert procs.log_tail(str(log)) == "one | two | three | four | five"


def test_log_tail_drops_blank_lines_and_surrounding_space(tmp_path: Path) -> None:
    log = tmp_path / "svc.log"
    log.write_text("\n  one  \n\n\ttwo\n   \n")
    assert procs.log_tail(log, 10) == "one | two"


def test_log_tail_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert procs.log_tail(tmp_path / "missing.log") == ""
