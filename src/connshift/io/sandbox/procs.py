"""A small process supervisor for the sandbox's local services.

Services run detached (their own session and process group) so that they outlive
the ``connshift`` command that started them. We remember each by PID *and* by a
marker string that must appear in its command line, so ``down`` stops only what
the sandbox started, never an unrelated process that reused the PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcRecord:
    """A process the sandbox started."""

    name: str
    pid: int
    marker: str
    log: str
    started_at: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcRecord:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            marker=str(data["marker"]),
            log=str(data["log"]),
            started_at=float(data["started_at"]),
        )


#: The ``Popen`` of each process this interpreter started, kept until it is reaped: a
#: ``Popen`` garbage-collected while its (detached) process still runs warns
#: "subprocess N is still running" (ResourceWarning, an error under ``-W error``).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace")


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) S ..." — comm may contain spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()[0]


def is_alive(rec: ProcRecord) -> bool:
    """True when ``rec.pid`` runs (not a zombie) and is still the process we started."""
    state = _state(rec.pid)
    if state is None or state in ("Z", "X"):
        return False
    cmd = _cmdline(rec.pid)
    return cmd is not None and rec.marker in cmd


def start(
    name: str,
    cmd: Sequence[str],
    *,
    log: Path,
    marker: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ProcRecord:
    """Start ``cmd`` detached, stdout+stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with open(log, "ab") as out:
        out.write(f"\n=== connshift sandbox: starting {name} at {time.ctime()} ===\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=full_env,
            start_new_session=True,
        )
    _CHILDREN[proc.pid] = proc
    return ProcRecord(name=name, pid=proc.pid, marker=marker, log=str(log), started_at=time.time())


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (avoids zombies in long runs)."""
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def stop(rec: ProcRecord, *, timeout: float = 20.0, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig`` to the process (group), wait, then SIGKILL. True if it was running."""
    if not is_alive(rec):
        _reap(rec.pid)
        return False
    try:
        pgid = os.getpgid(rec.pid)
    except OSError:
        pgid = None
    group = pgid == rec.pid  # it leads its own group (we started it with a new session)

    def sender(signum: int) -> None:
        if group:
            os.killpg(rec.pid, signum)
        else:
            os.kill(rec.pid, signum)

    with contextlib.suppress(ProcessLookupError):
        sender(sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(rec.pid)
        if not is_alive(rec):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        sender(signal.SIGKILL)
    for _ in range(50):
        _reap(rec.pid)
        if not is_alive(rec):
            break
        time.sleep(0.1)
    return True


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: str | Path, lines: int = 5) -> str:
    """The last lines of a log, for error messages."""
    try:
        data = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return " | ".join(ln.strip() for ln in data[-lines:] if ln.strip())
