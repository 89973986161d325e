"""Connector cutover and rollback on the real sandbox: exact positions, both ways.

These tests exercise the move itself, so they pass `--force` past the readiness scorecard
(an empty state dir has no evidence); test_score.py shows the scorecard blocking a cutover.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.postgres import WriterStats

from .conftest import SpecFor
from .helpers import (
    CLI,
    cdc_events,
    connect,
    kafka,
    live_writer,
    run_cli,
    run_json,
    unique_prefix,
    wait_for,
)

CONNECTORS = ("shop-cdc", "files-source", "files-sink")


def _state(client: ConnectClient, name: str) -> str | None:
    return client.status(name).state if client.exists(name) else None


def _values(cluster: KafkaCluster, topic: str) -> list[bytes]:
    return [r.value or b"" for r in cluster.read(topic, 0, timeout=60)]


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a") as fh:
        for line in lines:
            fh.write(line + "\n")


# ---------------------------------------------------------------------------- FileStream


def test_filestream_source_cut_over_and_back_with_exact_positions(
    sandbox: Sandbox, restore: None, tmp_path: Path, spec_for: SpecFor
) -> None:
    prefix = unique_prefix("fsrc")
    spec = spec_for(name="cut", prefix=prefix, include=[r"files\..*"])
    run_json("sync", "-c", str(spec), "--once")
    log = sandbox.files_dir() / "access.log"
    tag = uuid.uuid4().hex[:6]
    before = [f"{tag} before {i}" for i in range(3)]
    _append(log, before)
    result = run_json("cutover", "--force", "-c", str(spec), "files-source")
    assert result["steps"][0]["step"] == "scorecard"  # --force past an empty scorecard
    assert [s["status"] for s in result["steps"][1:]][:-1] == ["done"] * 7
    during = [f"{tag} on destination {i}" for i in range(4)]
    _append(log, during)
    dst, src = kafka(sandbox, "destination"), kafka(sandbox, "source")
    dst_topic = prefix + seedmod.FILE_TOPIC
    wait_for(lambda: _values(dst, dst_topic)[-1:] == [during[-1].encode()], what="destination")
    with connect(sandbox, "source") as s, connect(sandbox, "destination") as d:
        assert _state(s, "files-source") == "STOPPED" and _state(d, "files-source") == "RUNNING"

    back = run_json("rollback", "-c", str(spec), "files-source")
    copy = next(s for s in back["steps"] if s["step"] == "copy-back")
    # what the destination connector produced: the lines written during, and the "before"
    # lines it read itself if the source connector had not yet read them when it stopped
    assert copy["data"]["moved"][f"{seedmod.FILE_TOPIC}[0]"] >= len(during)
    after = [f"{tag} back on source {i}" for i in range(2)]
    _append(log, after)
    wait_for(lambda: _values(src, seedmod.FILE_TOPIC)[-1:] == [after[-1].encode()], what="source")
    lines = [v.decode() for v in _values(src, seedmod.FILE_TOPIC)]
    ours = [line for line in lines if line.startswith(tag)]
    assert ours == before + during + after  # every line once, in file order
    file_lines = log.read_text().splitlines()
    assert lines == file_lines  # the source topic is the file, line for line
    with connect(sandbox, "destination") as d:
        assert not d.exists("files-source")


def test_filestream_sink_cut_over_and_back_with_exact_group_positions(
    sandbox: Sandbox, restore: None, tmp_path: Path, spec_for: SpecFor
) -> None:
    prefix = unique_prefix("fsink")
    spec = spec_for(name="cut", prefix=prefix, include=[r"app\.events"])
    follow = subprocess.Popen(
        [*CLI, "sync", "-c", str(spec), "--follow"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        src = kafka(sandbox, "source")
        out = sandbox.files_dir() / "app-events.out"
        tag = uuid.uuid4().hex[:6]

        def produce(label: str, n: int) -> list[str]:
            values = [f"{tag}-{label}-{i}" for i in range(n)]
            src.produce(seedmod.EVENTS, [(b"k", v.encode()) for v in values])
            return values

        first = produce("before", 20)
        wait_for(lambda: first[-1] in out.read_text(), what="sink before cutover")
        time.sleep(2)  # let sync --follow copy, so catch-up has little to do
        result = run_json("cutover", "--force", "-c", str(spec), "files-sink")
        assert all(
            s["status"] in ("done", "skipped") for s in result["steps"] if s["step"] != "scorecard"
        )
        second = produce("during", 30)  # written on the source, copied by sync, read on dst
        wait_for(lambda: second[-1] in out.read_text(), what="sink on the destination")
        run_json("rollback", "-c", str(spec), "files-sink")
        third = produce("after", 10)
        wait_for(lambda: third[-1] in out.read_text(), what="sink back on the source")
    finally:
        follow.terminate()
        follow.wait(60)
    counts = Counter(line for line in out.read_text().splitlines() if line.startswith(tag))
    expected = first + second + third
    assert sorted(counts) == sorted(expected)
    assert set(counts.values()) == {1}  # every record written to the file exactly once


# ---------------------------------------------------------------------------- Debezium


def test_debezium_cutover_and_rollback_exactly_once_under_live_writes(
    sandbox: Sandbox, restore: None, tmp_path: Path, spec_for: SpecFor
) -> None:
    prefix = unique_prefix("cdc")
    spec = spec_for(name="cut", prefix=prefix, include=[r"shop\..*"])
    run_json("sync", "-c", str(spec), "--once")
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    src_topics = list(seedmod.CDC_TOPICS)
    dst_topics = [prefix + t for t in src_topics]

    stats: list[WriterStats] = []
    writer = live_writer(sandbox, 120, stats)
    time.sleep(1.0)
    result = run_json("cutover", "--force", "-c", str(spec), "shop-cdc")
    writer.join(60)
    assert result["steps"][0]["step"] == "scorecard"  # --force past an empty scorecard
    assert [s["status"] for s in result["steps"][1:]][:-1] == ["done"] * 7
    first = set(stats[0].txids)
    assert len(first) == 120

    def seen(cluster: KafkaCluster, topics: list[str], txids: set[int]) -> bool:
        return txids <= {e["txid"] for e in cdc_events(cluster, topics)}

    wait_for(lambda: seen(dst, dst_topics, first), timeout=90, what="changes on destination")
    events = cdc_events(dst, dst_topics)
    per_tx = Counter(e["txid"] for e in events if e["txid"] in first)
    assert set(per_tx.values()) == {1}, "a change was read twice or not at all on the destination"
    keys = Counter((e["table"], e["id"], e["lsn"], e["op"]) for e in events)
    assert max(keys.values()) == 1  # no change event twice in synced history + new ones

    stats2: list[WriterStats] = []
    writer = live_writer(sandbox, 80, stats2)
    time.sleep(0.5)
    back = run_json("rollback", "-c", str(spec), "shop-cdc")
    writer.join(60)
    assert any(s["step"] == "copy-back" and s["status"] == "done" for s in back["steps"])
    second = set(stats2[0].txids)
    wait_for(lambda: seen(src, src_topics, first | second), timeout=90, what="changes on source")
    events = cdc_events(src, src_topics)
    per_tx = Counter(e["txid"] for e in events if e["txid"] in first | second)
    assert set(per_tx.values()) == {1}, "a change is missing or doubled on the source"
    keys = Counter((e["table"], e["id"], e["lsn"], e["op"]) for e in events)
    assert max(keys.values()) == 1


# ---------------------------------------------------------------------------- crashes


STEPS = [
    "preflight",
    "stop-source",
    "read-offsets",
    "catch-up",
    "create-stopped",
    "write-offsets",
    "resume",
]


def test_cutover_killed_after_each_step_resumes_and_never_runs_twice(
    sandbox: Sandbox, restore: None, tmp_path: Path, spec_for: SpecFor
) -> None:
    prefix = unique_prefix("crash")
    # nothing new arrives while cutover verifies: keep that wait short
    spec = spec_for(
        name="cut", prefix=prefix, include=[r"files\..*"], cutover={"verify_timeout_seconds": 1}
    )
    run_json("sync", "-c", str(spec), "--once")
    log = sandbox.files_dir() / "access.log"
    dst = kafka(sandbox, "destination")
    tag = uuid.uuid4().hex[:6]
    for i, step in enumerate(STEPS):  # bounded: one crash after each step
        env = {**os.environ, "CONNSHIFT_CRASH_AFTER_STEP": step}
        crashed = subprocess.run(
            [*CLI, "cutover", "--force", "-c", str(spec), "files-source"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert crashed.returncode == -9, (step, crashed.stderr)
        with connect(sandbox, "source") as s, connect(sandbox, "destination") as d:
            both = _state(s, "files-source") == "RUNNING" and _state(d, "files-source") == "RUNNING"
            assert not both, f"running on both sides after a crash after {step}"
        resumed = run_json("cutover", "--force", "-c", str(spec), "files-source")
        statuses = {s["step"]: s["status"] for s in resumed["steps"]}
        assert all(statuses[s] == "skipped" for s in STEPS[: STEPS.index(step) + 1])
        line = f"{tag} crash {i}"
        _append(log, [line])
        wait_for(
            lambda line=line: line.encode() in _values(dst, prefix + seedmod.FILE_TOPIC),
            what=f"line after crash {i}",
        )
        run_json("rollback", "-c", str(spec), "files-source")
    values = [v.decode() for v in _values(kafka(sandbox, "source"), seedmod.FILE_TOPIC)]
    ours = [v for v in values if v.startswith(tag)]
    assert ours == [f"{tag} crash {i}" for i in range(len(STEPS))]


# ---------------------------------------------------------------------------- refusals


def _refused(spec: Path, *args: str) -> str:
    proc = run_cli("cutover", "--force", "-c", str(spec), *args)
    assert proc.returncode == 1, proc.stderr
    # progress lines ("  connector: step") may come first; the error is one line
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("  ")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_bad_states_are_refused_with_one_line_and_change_nothing(
    sandbox: Sandbox, restore: None, tmp_path: Path, spec_for: SpecFor
) -> None:
    prefix = unique_prefix("bad")
    spec = spec_for(name="cut", prefix=prefix, include=[r"files\..*"])
    run_json("sync", "-c", str(spec), "--once")

    assert "not found on the source" in _refused(spec, "no-such-connector")

    with connect(sandbox, "destination") as d:
        d.create(
            "files-source",
            {"connector.class": "FileStreamSource", "file": "/dev/null", "topic": "x"},
            initial_state="STOPPED",
        )
    line = _refused(spec, "files-source")
    assert "already exists on the destination" in line
    with connect(sandbox, "source") as s, connect(sandbox, "destination") as d:
        assert _state(s, "files-source") == "RUNNING"
        d.delete("files-source")

    hb = f"it-heartbeat-{uuid.uuid4().hex[:4]}"
    source_bootstrap = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    with connect(sandbox, "source") as s:
        s.create(
            hb,
            {
                "connector.class": "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector",
                "source.cluster.alias": "a",
                "target.cluster.alias": "b",
                "source.cluster.bootstrap.servers": source_bootstrap,
                "target.cluster.bootstrap.servers": source_bootstrap,
                "heartbeats.topic.replication.factor": "1",
            },
        )
    try:
        line = _refused(spec, hb)
        assert "MirrorHeartbeatConnector is missing on the destination" in line
    finally:
        with connect(sandbox, "source") as s:
            s.delete(hb)

    lagging = spec_for(
        name="cut",
        prefix=prefix,
        include=[r"files\..*"],
        cutover={"run_sync": False, "catch_up_timeout_seconds": 3},
    )
    _append(sandbox.files_dir() / "access.log", [f"lag {i}" for i in range(5)])
    time.sleep(2)  # the source connector writes them; nothing copies them
    line = _refused(lagging, "files-source")
    assert "did not copy" in line and "resumed" in line
    with connect(sandbox, "source") as s, connect(sandbox, "destination") as d:
        s.wait_for_state("files-source", "RUNNING", tasks_state="RUNNING", timeout=60)
        assert not d.exists("files-source")
