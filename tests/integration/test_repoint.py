"""``connshift cutover --repoint-workers`` on the real sandbox.

A Connect 3.9 worker of our own (its own group.id and internal topics ``it-rp-<id>-*``) runs a
FileStream source and a FileStream sink against the source cluster, and is shut down. After
``sync --once`` and ``cutover --repoint-workers``, a Connect 4.4 worker with the same group.id
and topic names but the destination bootstrap finds both connectors (nothing is re-created),
runs them, and each resumes at its exact position: the source at its file position, the sink
at its group position. The sandbox's own workers and seeded connectors are not touched.
"""

from __future__ import annotations

import dataclasses
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connshift.app.sandbox import Sandbox
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox import jars, procs
from connshift.io.sandbox.services import ConnectWorker

from .helpers import run_cli, run_json, write_spec

N_LINES, M_LINES = 40, 7  # file lines before the move / appended after it
K_OLD, K_NEW = 25, 11  # sink records before the move / produced on the destination after it
STRING = "org.apache.kafka.connect.storage.StringConverter"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _values(cluster: KafkaCluster, topic: str) -> list[str]:
    return [(r.value or b"").decode() for r in cluster.read(topic, 0, timeout=60)]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


class Workers:
    """Connect workers this test starts (and always stops)."""

    def __init__(self) -> None:
        self.running: list[tuple[procs.ProcRecord, ConnectClient]] = []

    def start(
        self, version: str, directory: Path, bootstrap: str, group: str
    ) -> tuple[procs.ProcRecord, ConnectClient]:
        dist = jars.fetch(version)
        # the FileStream plugin only: a worker that does not scan Debezium starts faster
        dist = dataclasses.replace(dist, plugin_dirs=dist.plugin_dirs[:1])
        worker = ConnectWorker(
            name=f"{group}-{version}",
            directory=directory,
            port=_free_port(),
            bootstrap=bootstrap,
            group_id=group,
            topic_prefix=group,
            dist=dist,
            heap="512m",
        )
        worker.prepare()
        rec = worker.start()
        client = ConnectClient(worker.url, name=f"worker {version}", timeout=30)
        self.running.append((rec, client))
        try:
            client.wait_until_ready(timeout=180)
        except Exception as exc:
            raise AssertionError(
                f"{worker.describe()} did not start: {procs.log_tail(rec.log, 20)}"
            ) from exc
        return rec, client

    def stop(self, rec: procs.ProcRecord) -> None:
        for r, client in list(self.running):
            if r is rec:
                client.close()
                procs.stop(r, timeout=60)
                self.running.remove((r, client))

    def stop_all(self) -> None:
        for rec, _ in list(self.running):
            self.stop(rec)


@pytest.fixture
def workers() -> Iterator[Workers]:
    w = Workers()
    try:
        yield w
    finally:
        w.stop_all()


def _spec(path: Path, sandbox: Sandbox, connect_url: str, topics: list[str]) -> Path:
    p = sandbox.ports
    return write_spec(
        path,
        name="repoint",
        source=f"127.0.0.1:{p['source-kafka']}",
        destination=f"127.0.0.1:{p['destination-kafka']}",
        source_connect=connect_url,
        include=topics,
        state_dir=path.parent / "state",
    )


def test_repointed_workers_resume_every_connector_exactly(
    sandbox: Sandbox, seeded: object, workers: Workers, tmp_path: Path
) -> None:
    tag = f"it-rp-{uuid.uuid4().hex[:8]}"
    src_bootstrap = f"127.0.0.1:{sandbox.ports['source-kafka']}"
    dst_bootstrap = f"127.0.0.1:{sandbox.ports['destination-kafka']}"
    src = KafkaCluster({"bootstrap.servers": src_bootstrap}, name="source")
    dst = KafkaCluster({"bootstrap.servers": dst_bootstrap}, name="destination")
    internal = [f"{tag}-configs", f"{tag}-offsets", f"{tag}-status"]
    topic_args = (
        *("--config-topic", internal[0]),
        *("--offset-topic", internal[1]),
        *("--status-topic", internal[2]),
    )
    lines_topic, events_topic = f"{tag}.lines", f"{tag}.events"
    source_name, sink_name = f"{tag}-file-source", f"{tag}-file-sink"
    src.create_topic(lines_topic, 1)
    src.create_topic(events_topic, 1)
    infile, outfile = tmp_path / "in.txt", tmp_path / "out.txt"
    first = [f"{tag} line {i}" for i in range(N_LINES)]
    infile.write_text("".join(f"{line}\n" for line in first))
    old_events = [f"{tag} event {i}" for i in range(K_OLD)]
    src.produce(events_topic, [(None, v) for v in old_events])

    # a Connect 3.9 worker on the source runs both connectors to the end, then shuts down
    rec1, old = workers.start(jars.KAFKA_SOURCE_VERSION, tmp_path / "w1", src_bootstrap, tag)
    old.create(
        source_name,
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": str(infile),
            "topic": lines_topic,
            "key.converter": STRING,
            "value.converter": STRING,
        },
    )
    old.create(
        sink_name,
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "1",
            "file": str(outfile),
            "topics": events_topic,
            "key.converter": STRING,
            "value.converter": STRING,
        },
    )
    size = infile.stat().st_size
    _wait_for(lambda: _values(src, lines_topic) == first, "the file in the source topic")
    _wait_for(
        lambda: (
            old.get_offsets(source_name)
            == [{"partition": {"filename": str(infile)}, "offset": {"position": size}}]
        ),
        "the source connector's offset at the end of the file",
    )
    _wait_for(lambda: _lines(outfile) == old_events, "the sink's file")
    _wait_for(
        lambda: src.group_offsets(f"connect-{sink_name}") == {(events_topic, 0): K_OLD},
        "the sink's committed group offset",
    )

    spec = _spec(tmp_path / "spec.yaml", sandbox, old.url, [lines_topic, events_topic])
    # running connectors: refused, one line, nothing copied
    refused = run_cli("cutover", "--repoint-workers", "--force", "-c", str(spec), *topic_args)
    assert refused.returncode == 1, refused.stderr
    errors = [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "is RUNNING on the source Connect cluster" in errors[0]
    assert not set(internal) & set(dst.topics())

    workers.stop(rec1)
    assert not procs.port_open("127.0.0.1", int(old.url.rsplit(":", 1)[1]))

    dry = run_json(
        "cutover", "--repoint-workers", "--force", "-c", str(spec), *topic_args, "--dry-run"
    )
    assert dry["dry_run"] and [t["topic"] for t in dry["topics"]] == internal
    assert not set(internal) & set(dst.topics()), "a dry run created topics"

    run_json("sync", "-c", str(spec), "--once")
    result = run_json("cutover", "--repoint-workers", "--force", "-c", str(spec), *topic_args)
    assert "does not answer" in result["source_connect"]
    assert [t["topic"] for t in result["topics"]] == internal
    assert all(t["created"] for t in result["topics"])
    assert result["groups_applied"] == [f"connect-{sink_name}"]
    assert sorted(c["name"] for c in result["connectors"]) == sorted([source_name, sink_name])
    assert result["worker_settings"]["bootstrap.servers"] == dst_bootstrap
    assert result["worker_settings"]["config.storage.topic"] == internal[0]
    assert sorted(result["data_topics"]) == sorted([events_topic, lines_topic])
    for topic in internal:  # compacted, same partitions, every record at its offset
        assert dst.topic_configs(topic)["cleanup.policy"] == "compact"
        assert dst.topics()[topic].partitions == src.topics()[topic].partitions
        for p in range(src.topics()[topic].partitions):
            a = [(r.offset, r.key, r.value) for r in src.read(topic, p, timeout=60)]
            b = [(r.offset, r.key, r.value) for r in dst.read(topic, p, timeout=60)]
            assert a == b, topic
    assert dst.group_offsets(f"connect-{sink_name}") == {(events_topic, 0): K_OLD}
    copied_configs = src.watermarks(internal[0], 0)[1]

    # a Connect 4.4 worker, same group.id and topics, on the destination: it resumes both
    _rec2, new = workers.start(jars.KAFKA_DESTINATION_VERSION, tmp_path / "w2", dst_bootstrap, tag)
    _wait_for(
        lambda: sorted(new.connectors()) == sorted([source_name, sink_name]),
        "the connectors on the new worker",
    )
    for name in (source_name, sink_name):
        new.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)

    more = [f"{tag} line after {i}" for i in range(M_LINES)]
    with infile.open("a") as fh:
        fh.write("".join(f"{line}\n" for line in more))
    _wait_for(lambda: len(_values(dst, lines_topic)) >= N_LINES + M_LINES, "the new lines on dst")
    assert _values(dst, lines_topic) == first + more  # the file position resumed exactly

    new_events = [f"{tag} new event {i}" for i in range(K_NEW)]
    dst.produce(events_topic, [(None, v) for v in new_events])
    _wait_for(lambda: len(_lines(outfile)) >= K_OLD + K_NEW, "the sink writing new records")
    assert _lines(outfile) == old_events + new_events  # the group position resumed exactly

    # nothing was re-created: no new connector config after the copied ones
    later = [r.key or b"" for r in dst.read(internal[0], 0, copied_configs, timeout=60)]
    assert not [k for k in later if k.startswith(b"connector-")], later
    time.sleep(2)  # late duplicates would show now
    assert _values(dst, lines_topic) == first + more
    assert _lines(outfile) == old_events + new_events

    # a rerun once the new worker has written to the destination is refused, one line
    again = run_cli("cutover", "--repoint-workers", "--force", "-c", str(spec), *topic_args)
    assert again.returncode == 1, again.stderr
    errors = [ln for ln in again.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "do not match the source" in errors[0], again.stderr
    _wait_for(
        lambda: dst.group_offsets(f"connect-{sink_name}") == {(events_topic, 0): K_OLD + K_NEW},
        "the sink's group committing on the destination",
        timeout=30,
    )
