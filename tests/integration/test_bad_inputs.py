"""Bad input against the real sandbox: each case of ``tests/bad_inputs.py`` with tier
``integration`` is provoked here through the CLI as a user would, and gets its documented
exit code, at most one ``error:`` line and no traceback — and changes nothing it should not
(no destination topic created, no record written, no group committed). Topic names are
unique per test; what a test creates is deleted at its end."""

from __future__ import annotations

import contextlib
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from connshift.app.maps import MapMirror
from connshift.app.sandbox import Sandbox
from connshift.io.kafka import KafkaCluster
from tests.bad_inputs import by_id

from .conftest import SpecFor
from .helpers import connect, kafka, run_cli, run_json, wait_for

pytestmark = pytest.mark.integration

CASES = by_id("integration")


@dataclass
class Ctx:
    """What a scenario gets: the sandbox, a spec writer, both clusters, a unique name."""

    sandbox: Sandbox
    spec_for: SpecFor
    tmp: Path
    src: KafkaCluster
    dst: KafkaCluster
    base: str = field(default_factory=lambda: f"it-bad-{uuid.uuid4().hex[:8]}")
    created: list[tuple[KafkaCluster, str]] = field(default_factory=list)

    def topic(self, side: KafkaCluster, suffix: str, partitions: int = 1, records: int = 0) -> str:
        name = f"{self.base}.{suffix}"
        side.create_topic(name, partitions)
        self.created.append((side, name))
        if records:
            side.produce(name, [(f"k{i}", f"v{i}") for i in range(records)], partition=0)
        return name

    def spec(self, *topics: str, **kw: object) -> Path:
        kw.setdefault("connect", False)
        kw.setdefault("name", self.base)
        return self.spec_for(include=[re.escape(t) for t in topics], **kw)

    def end(self, side: KafkaCluster, topic: str, partition: int = 0) -> int:
        return side.watermarks(topic, partition)[1]


@pytest.fixture
def ctx(sandbox: Sandbox, spec_for: SpecFor, tmp_path: Path) -> Iterator[Ctx]:
    c = Ctx(sandbox, spec_for, tmp_path, kafka(sandbox, "source"), kafka(sandbox, "destination"))
    yield c
    mirror = MapMirror(c.dst)
    try:
        for side, name in c.created:
            if side is c.src and name in c.dst.topics():
                c.dst.delete_topic(name)  # the copy sync made
            if name in side.topics():
                side.delete_topic(name)
            mirror.forget(name, [0, 1, 2])
    finally:
        mirror.close()
        c.src.close()
        c.dst.close()


def refused(proc: subprocess.CompletedProcess[str], case_id: str) -> str:
    """Assert the documented exit code, exactly one ``error:`` line, no traceback."""
    code = CASES[case_id].exit
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == (1 if code else 0), proc.stderr
    return errors[0] if errors else ""


def _edit(spec: Path, change: Callable[[dict], None]) -> Path:
    doc = yaml.safe_load(spec.read_text())
    change(doc)
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    return spec


Scenario = Callable[[Ctx], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


# ---------------------------------------------------------------------------- addresses


@scenario
def http_port_as_kafka(c: Ctx) -> None:
    http = f"127.0.0.1:{c.sandbox.ports['destination-connect']}"
    spec = c.spec("x", destination=http)
    line = refused(run_cli("check", "-c", str(spec), timeout=120), "http-port-as-kafka")
    assert "destination Kafka" in line and "answers HTTP" in line


@scenario
def kafka_port_as_connect(c: Ctx) -> None:
    url = f"http://127.0.0.1:{c.sandbox.ports['source-kafka']}"
    spec = _edit(c.spec("x", connect=True), lambda d: d["source"]["connect"].update(url=url))
    line = refused(run_cli("plan", "-c", str(spec), timeout=120), "kafka-port-as-connect")
    assert "source Connect" in line


@scenario
def connect_wrong_path(c: Ctx) -> None:
    spec = c.spec("x", connect=True)
    _edit(
        spec, lambda d: d["source"]["connect"].update(url=d["source"]["connect"]["url"] + "/nope")
    )
    line = refused(run_cli("plan", "-c", str(spec), timeout=120), "connect-wrong-path")
    assert "source Connect" in line


@scenario
def connector_not_found(c: Ctx) -> None:
    name = f"{c.base}-nope"
    spec = c.spec("x", connect=True)
    line = refused(run_cli("cutover", "-c", str(spec), name), "connector-not-found")
    assert name in line
    with connect(c.sandbox, "destination") as dst:
        assert not dst.exists(name)


# ---------------------------------------------------------------------------- sync


@scenario
def validate_before_sync(c: Ctx) -> None:
    topic = c.topic(c.src, "never", records=5)
    spec = c.spec(topic)
    proc = run_cli("validate", "-c", str(spec), "--json")
    # a check that failed: its report (here JSON) says what, exit 1, no error line
    assert proc.returncode == CASES["validate-before-sync"].exit, proc.stderr
    assert "Traceback" not in proc.stderr and "error: " not in proc.stderr
    assert "no offset map" in proc.stdout
    assert topic not in c.dst.topics()


@scenario
def dst_topic_foreign_data(c: Ctx) -> None:
    topic = c.topic(c.src, "t", records=5)
    c.topic(c.dst, "t", records=3)
    line = refused(run_cli("sync", "-c", str(c.spec(topic)), "--once"), "dst-topic-foreign-data")
    assert "not a connshift copy" in line
    assert c.end(c.dst, topic) == 3


@scenario
def dst_fewer_partitions(c: Ctx) -> None:
    topic = c.topic(c.src, "t", partitions=3, records=5)
    c.topic(c.dst, "t", partitions=1)
    line = refused(run_cli("sync", "-c", str(c.spec(topic)), "--once"), "dst-fewer-partitions")
    assert "partitions" in line
    assert c.dst.topics()[topic].partitions == 1 and c.end(c.dst, topic) == 0


@scenario
def rename_collision(c: Ctx) -> None:
    a = c.topic(c.src, "a", records=5)
    b = c.topic(c.src, "b", records=5)
    spec = c.spec(a, b, rename={a: b})
    line = refused(run_cli("sync", "-c", str(spec), "--once"), "rename-collision")
    assert b in line
    assert a not in c.dst.topics() and b not in c.dst.topics()


def _synced(c: Ctx, records: int = 5) -> tuple[str, Path]:
    topic = c.topic(c.src, "t", records=records)
    spec = c.spec(topic)
    run_cli("sync", "-c", str(spec), "--once", check=True)
    assert c.end(c.dst, topic) == records
    return topic, spec


def _state(c: Ctx) -> Path:
    return c.tmp / "state" / "sync.db"


def _resumes_exactly(
    c: Ctx, topic: str, spec: Path, case_id: str
) -> subprocess.CompletedProcess[str]:
    c.src.produce(topic, [(f"k{i}", f"more{i}") for i in range(5)], partition=0)
    proc = run_cli("sync", "-c", str(spec), "--once")
    refused(proc, case_id)
    assert c.end(c.dst, topic) == 10  # the first 5 not copied again
    run_json("validate", "-c", str(spec))  # exit 0: nothing missing, nothing twice
    return proc


@scenario
def sync_db_deleted(c: Ctx) -> None:
    topic, spec = _synced(c)
    for suffix in ("", "-wal", "-shm"):
        Path(str(_state(c)) + suffix).unlink(missing_ok=True)
    _resumes_exactly(c, topic, spec, "sync-db-deleted")


@scenario
def sync_db_corrupted(c: Ctx) -> None:
    topic, spec = _synced(c)
    for suffix in ("-wal", "-shm"):
        Path(str(_state(c)) + suffix).unlink(missing_ok=True)
    _state(c).write_bytes(b"\x00not a database\xff" * 1000)
    proc = _resumes_exactly(c, topic, spec, "sync-db-corrupted")
    assert "warning: " in proc.stderr and "corrupt" in proc.stderr
    assert list(_state(c).parent.glob("sync.db.corrupt-*"))


@scenario
def offset_maps_lost(c: Ctx) -> None:
    topic, spec = _synced(c)
    mirror = MapMirror(c.dst)
    try:
        mirror.forget(topic, [0])
        assert (topic, 0) not in mirror.load_all()
        _resumes_exactly(c, topic, spec, "offset-maps-lost")
        assert mirror.load_all()[(topic, 0)][1].src_next == 10  # published again
    finally:
        mirror.close()


@scenario
def state_and_maps_lost(c: Ctx) -> None:
    topic, spec = _synced(c)
    for suffix in ("", "-wal", "-shm"):
        Path(str(_state(c)) + suffix).unlink(missing_ok=True)
    mirror = MapMirror(c.dst)
    try:
        mirror.forget(topic, [0])
    finally:
        mirror.close()
    c.src.produce(topic, [("k", "more")], partition=0)
    line = refused(run_cli("sync", "-c", str(spec), "--once"), "state-and-maps-lost")
    assert "not a connshift copy" in line
    assert c.end(c.dst, topic) == 5


@scenario
def group_past_end(c: Ctx) -> None:
    topic, spec = _synced(c, records=10)
    group = f"{c.base}-group"
    c.src.commit_group_offsets(group, {(topic, 0): 1000})
    try:
        proc = run_cli("groups", "-c", str(spec), "apply", "--groups", re.escape(group))
        line = refused(proc, "group-past-end")
        assert "past the end" in line
        assert c.dst.group_offsets(group) == {}
    finally:
        c.src.delete_groups([group])


# ---------------------------------------------------------------------------- connectors

FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STRINGS = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
}


@contextlib.contextmanager
def sink(c: Ctx, *, records: int = 5) -> Iterator[tuple[str, str, Path]]:
    """A FileStream sink of this test's own on the source worker, RUNNING and having read
    its topic's ``records`` (none: it has never committed an offset): yields (connector
    name, topic, spec); deleted on both workers at the end."""
    topic = c.topic(c.src, "sink", records=records)
    name = f"{c.base}-sink"
    spec = c.spec(topic, connect=True)
    config = {
        "connector.class": FILE_SINK,
        "topics": topic,
        "file": str(c.tmp / "out.txt"),
        "tasks.max": "1",
        **STRINGS,
    }
    with connect(c.sandbox, "source") as s, connect(c.sandbox, "destination") as d:
        try:
            s.create(name, config)
            s.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
            if records:
                group, want = f"connect-{name}", {(topic, 0): records}
                wait_for(lambda: c.src.group_offsets(group) == want, 90, "the sink to read")
            yield name, topic, spec
        finally:
            for client in (s, d):
                if client.exists(name):
                    client.delete(name)
            with contextlib.suppress(Exception):
                c.src.delete_groups([f"connect-{name}"])
            with contextlib.suppress(Exception):
                c.dst.delete_groups([f"connect-{name}"])


def _moved(c: Ctx, name: str, spec: Path) -> None:
    run_cli("sync", "-c", str(spec), "--once", check=True)
    run_cli("cutover", "--force", "-c", str(spec), name, "--json", check=True, timeout=240)


def _where(c: Ctx, name: str) -> tuple[str | None, str | None]:
    """(source state, destination state) of connector ``name``; None where it is not."""
    with connect(c.sandbox, "source") as s, connect(c.sandbox, "destination") as d:
        return tuple(  # type: ignore[return-value]
            w.status(name).state if w.exists(name) else None for w in (s, d)
        )


@scenario
def cutover_already_moved(c: Ctx) -> None:
    with sink(c) as (name, _topic, spec):
        _moved(c, name, spec)
        before = _where(c, name)
        # another machine (another state_dir, so another journal) moves it again
        other = c.tmp / "other.yaml"
        other.write_text(spec.read_text().replace(str(c.tmp / "state"), str(c.tmp / "other")))
        proc = run_cli("cutover", "--force", "-c", str(other), name, timeout=240)
        refused(proc, "cutover-already-moved")
        assert _where(c, name) == before == ("STOPPED", "RUNNING")


@scenario
def cutover_rerun_when_done(c: Ctx) -> None:
    with sink(c) as (name, _topic, spec):
        _moved(c, name, spec)
        proc = run_cli("cutover", "--force", "-c", str(spec), name, timeout=240)
        assert "already cut over" in refused(proc, "cutover-rerun-when-done")
        assert _where(c, name) == ("STOPPED", "RUNNING")
        # and the move can still be rolled back
        run_cli("rollback", "-c", str(spec), name, check=True, timeout=240)
        assert _where(c, name) == ("RUNNING", None)


@scenario
def rollback_after_spec_changed(c: Ctx) -> None:
    with sink(c) as (name, topic, spec):
        _moved(c, name, spec)
        # the spec now renames the topic: rollback undoes what the journal says was moved
        _edit(spec, lambda d: d.setdefault("topics", {}).update(prefix="changed."))
        proc = run_cli("rollback", "-c", str(spec), name, timeout=240)
        refused(proc, "rollback-after-spec-changed")
        assert _where(c, name) == ("RUNNING", None)
        assert f"changed.{topic}" not in c.dst.topics()
        # and a second rollback has nothing left to undo
        again = run_cli("rollback", "-c", str(spec), name, timeout=120)
        refused(again, "rollback-twice")
        assert _where(c, name) == ("RUNNING", None)


#: cases proven inside another case's scenario (they need its state first)
COVERED_BY = {"rollback-twice": "rollback-after-spec-changed"}


@scenario
def connector_without_offsets(c: Ctx) -> None:
    with sink(c, records=0) as (name, _topic, spec):
        run_cli("sync", "-c", str(spec), "--once", check=True)
        proc = run_cli("cutover", "--force", "-c", str(spec), name, "--json", timeout=240)
        line = refused(proc, "connector-without-offsets")
        assert "no offsets" in line
        assert _where(c, name) == ("RUNNING", None)  # stopped to read, then resumed


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_input(case_id: str, ctx: Ctx) -> None:
    if case_id in COVERED_BY:
        pytest.skip(f"run inside {COVERED_BY[case_id]}")
    assert case_id in SCENARIOS, f"no scenario for documented case {case_id}"
    SCENARIOS[case_id](ctx)
