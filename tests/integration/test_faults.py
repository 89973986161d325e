"""Faults during `sync --follow` under a live producer: the follower waits them out.

Each test kills -9 (and restarts), or freezes (SIGSTOP for 30 s, then SIGCONT), a broker of
the sandbox while `sync --follow` copies a topic a producer keeps writing to. The follower
must keep running — retrying with backoff, saying so once, and once more when the cluster
answers again — catch up on its own, and leave a copy `validate` passes with exact offsets.

Marked ``faults`` (``make test-faults``, which ``.ci/run`` runs after ``make test``) and
``disruptive``: they stop brokers of the shared sandbox, and bring them back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from connshift.app.sandbox import Sandbox
from connshift.io.sandbox import procs

from .conftest import SpecFor
from .helpers import CLI, copied_so_far, kafka, run_cli, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.disruptive]

#: each passing fault test leaves its row here; `scripts/faults.py` renders docs/faults.md
FAULTS_DIR = Path(
    os.environ.get("CONNSHIFT_FAULTS_DIR", Path(__file__).parents[2] / "build/faults")
)


def record_fault(slug: str, row: dict[str, object]) -> None:
    """Keep one fault's outcome (only a test that passed gets this far)."""
    FAULTS_DIR.mkdir(parents=True, exist_ok=True)
    row = {"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **row}
    (FAULTS_DIR / f"{slug}.json").write_text(json.dumps(row, indent=2) + "\n")


PARTITIONS = 3


class LiveProducer:
    """Keeps writing keyed records to a source topic (PLAINTEXT, idempotent) until stopped."""

    def __init__(self, bootstrap: str, topic: str, rate: float = 300.0) -> None:
        self.topic, self.rate = topic, rate
        self.sent = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5}
        )
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err: object, _msg: object) -> None:
        if err is not None:
            self.errors.append(str(err))

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            self._producer.produce(
                self.topic,
                f"value {i} ".encode() * 8,
                f"key-{i % 97}".encode(),
                on_delivery=self._on_delivery,
                headers=[("n", str(i).encode())],
            )
            i += 1
            self._producer.poll(0)
            time.sleep(1.0 / self.rate)
        self._producer.flush(60)
        self.sent = i

    def __enter__(self) -> LiveProducer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(90)
        return self.sent


def _pid(sandbox: Sandbox, service: str) -> int:
    rec = sandbox.record(service)
    assert rec is not None and procs.is_alive(rec), f"{service} is not running"
    return int(rec.pid)


def _leader(sandbox: Sandbox, side: str, topic: str) -> str:
    """The broker service leading ``topic``'s partition 0 (the only broker of a one-broker
    cluster): killing it moves leadership on a replicated cluster."""
    if sandbox.brokers[side] == 1:
        return f"{side}-kafka"
    node = kafka(sandbox, side).admin.list_topics(topic, timeout=10).topics[topic].partitions[0]
    return sandbox.broker_names(side)[node.leader - 1]


def _kill_and_restart(sandbox: Sandbox, side: str, topic: str) -> Callable[[], None]:
    def fault() -> None:
        service = _leader(sandbox, side, topic)
        os.kill(_pid(sandbox, service), signal.SIGKILL)
        time.sleep(3.0)  # the follower meets a dead broker before it comes back
        info = sandbox.up(with_tansu=sandbox.with_tansu)
        assert service in info.started, info.started

    return fault


def _restart_cluster(sandbox: Sandbox, side: str, topic: str) -> Callable[[], None]:
    def fault() -> None:
        brokers = sandbox.broker_names(side)
        for service in brokers:
            os.kill(_pid(sandbox, service), signal.SIGKILL)
        time.sleep(3.0)
        info = sandbox.up(with_tansu=sandbox.with_tansu)
        assert set(brokers) <= set(info.started), info.started

    return fault


def _freeze(sandbox: Sandbox, side: str, topic: str, seconds: float = 30.0) -> Callable[[], None]:
    def fault() -> None:
        pid = _pid(sandbox, _leader(sandbox, side, topic))
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    return fault


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(spec: Path, *args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [*CLI, "sync", "-c", str(spec), "--follow", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        with proc:  # waits, and closes its pipes (a killed member's are never read)
            pass


def _wait_or_show(
    check: Callable[[], bool], followers: list[subprocess.Popen[str]], what: str
) -> None:
    """Wait up to 180 s; on a timeout, fail with what the followers said (they are stopped)."""
    try:
        wait_for(check, 180, what)
    except AssertionError:
        said = []
        for proc in followers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate(timeout=30)
            said.append(f"exit {proc.returncode}; stderr: {err[-4000:]}; stdout: {out[-1500:]}")
        raise AssertionError(f"timed out waiting for {what}: " + " | ".join(said)) from None


FAULTS = {
    "kill -9 the destination partition leader, restart it": ("destination", _kill_and_restart),
    "SIGSTOP the destination partition leader for 30 s": ("destination", _freeze),
    "kill -9 the source broker, restart it": ("source", _kill_and_restart),
    "kill -9 every destination broker, restart the cluster": ("destination", _restart_cluster),
}


@pytest.mark.parametrize("engine", ["raw", "record"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_sync_follow_waits_out_a_broker_fault_and_validate_passes(
    sandbox: Sandbox,
    spec_for: SpecFor,
    follower: Callable[..., subprocess.Popen[str]],
    fault: str,
    engine: str,
) -> None:
    side, make_fault = FAULTS[fault]
    topic = f"app.fault{uuid.uuid4().hex[:8]}"
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    src.create_topic(topic, PARTITIONS)
    spec = spec_for(name=f"fault-{engine}", include=[topic.replace(".", r"\.")])
    bootstrap = sandbox.bootstrap("source")

    def copied() -> int:
        try:
            return sum(dst.watermarks(topic, p)[1] for p in range(PARTITIONS))
        except Exception:  # the destination may be down: not yet
            return 0

    with LiveProducer(bootstrap, topic) as producer:
        proc = follower(spec, "--engine", engine, "--json")
        wait_for(lambda: copied() > 500, 90, "the follower to copy the first records")
        make_fault(sandbox, side, topic)()
        time.sleep(5.0)  # records written after the fault too
        sent = producer.stop()
        last_write = time.monotonic()
    assert not producer.errors[:1] or side == "source", producer.errors[:3]
    ends = {p: src.watermarks(topic, p)[1] for p in range(PARTITIONS)}
    assert sum(ends.values()) >= sent
    _wait_or_show(
        lambda: all(dst.watermarks(topic, p)[1] == ends[p] for p in range(PARTITIONS)),
        [proc],
        "the follower to catch up after the fault",
    )
    caught_up = time.monotonic() - last_write
    assert proc.poll() is None, f"sync --follow exited {proc.returncode}: {proc.stderr}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    summary = json.loads(out)
    # an outage the follower met is said once, and its end once (librdkafka, under the
    # record engine, may ride a short one out by itself: then nothing is said)
    assert err.count("retrying with backoff") == summary["outages"], err[-3000:]
    assert err.count("answer again") == summary["outages"], err[-3000:]

    checked = run_cli("validate", "-c", str(spec), "--json")
    assert checked.returncode == 0, checked.stdout[-3000:]
    report = json.loads(checked.stdout)
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == PARTITIONS and all(c["status"] == "PASS" for c in diffs), diffs
    record_fault(
        f"sync-follow-{side}-{make_fault.__name__.strip('_')}-{engine}",
        {
            "phase": "sync --follow under a live producer",
            "fault": fault
            + (f" ({sandbox.brokers[side]} brokers)" if sandbox.brokers[side] > 1 else ""),
            "engine": engine,
            "outcome": "kept running, caught up on its own; validate PASS (exact offsets)",
            "exit_code": proc.returncode,
            "retries": summary["retries"],
            "outages": summary["outages"],
            "records": sum(ends.values()),
            "seconds": round(caught_up, 1),
        },
    )


@pytest.mark.parametrize("engine", ["raw", "record"])
def test_group_members_join_and_die_mid_copy_without_gap_or_duplicate(
    sandbox: Sandbox,
    spec_for: SpecFor,
    follower: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
    engine: str,
) -> None:
    """Two `sync --follow` members share a topic under a live producer; a third joins; then
    one of the first two is killed -9 mid-copy. The survivors take its partitions over
    (reconciling from the destination and the mirrored maps): no gap, no duplicate, exact
    offsets."""
    partitions = 6
    topic = f"app.members{uuid.uuid4().hex[:8]}"
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    src.create_topic(topic, partitions)
    name = f"members-{engine}-{uuid.uuid4().hex[:6]}"  # the sync group's name
    specs = [
        spec_for(
            name=name,
            include=[topic.replace(".", r"\.")],
            state_dir=tmp_path / f"state{i}",  # three machines: nothing shared but Kafka
            path=tmp_path / f"spec{i}.yaml",
        )
        for i in range(3)
    ]
    bootstrap = sandbox.bootstrap("source")

    def copied() -> int:
        return copied_so_far(dst, topic, partitions)

    with LiveProducer(bootstrap, topic, rate=400) as producer:
        first = [follower(specs[i], "--engine", engine, "--json") for i in range(2)]
        wait_for(lambda: copied() > 1000, 90, "two members copying")
        third = follower(specs[2], "--engine", engine, "--json")
        time.sleep(12.0)  # the third is given partitions (cooperative rebalance)
        first[0].kill()  # kill -9 mid-copy
        first[0].wait(30)
        time.sleep(15.0)  # its session expires; its partitions go to the survivors
        sent = producer.stop()
    ends = {p: src.watermarks(topic, p)[1] for p in range(partitions)}
    assert sum(ends.values()) == sent
    survivors = [first[1], third]
    _wait_or_show(
        lambda: all(dst.watermarks(topic, p)[1] == ends[p] for p in range(partitions)),
        survivors,
        "the surviving members to copy everything",
    )
    for proc in survivors:
        if proc.poll() is not None:  # it should still be following: show what it said
            _out, err = proc.communicate(timeout=30)
            raise AssertionError(f"a surviving member exited {proc.returncode}: {err[-4000:]}")
        proc.send_signal(signal.SIGINT)
    for proc in survivors:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err[-3000:]
    report = json.loads(run_cli("validate", "-c", str(specs[1]), "--json").stdout)
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert len(diffs) == partitions and all(c["status"] == "PASS" for c in diffs), diffs
    record_fault(
        f"sync-group-members-{engine}",
        {
            "phase": "sync --follow, three members in one group, under a live producer",
            "fault": "a third member joins, then a first one is killed -9 mid-copy",
            "engine": engine,
            "outcome": "survivors took its partitions over; validate PASS (no gap, no "
            "duplicate, exact offsets)",
            "exit_code": 0,
            "retries": "-",
            "seconds": "-",
            "records": sent,
        },
    )
