"""MirrorMaker 2's generated configuration and the high-watermark wait (pure: no JVM, no Kafka).

Key names are Apache Kafka's (MirrorMakerConfig, MirrorSourceConfig, MirrorCheckpointConfig,
MirrorConnectorConfig, DistributedConfig).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from connshift.errors import KafkaError, SandboxError
from connshift.io.sandbox import jars
from connshift.io.sandbox.mm2 import (
    IDENTITY_POLICY,
    MAIN_CLASS,
    MirrorMaker2,
    props_text,
    wait_until_mirrored,
)


def make(tmp_path: Path, **kwargs: Any) -> MirrorMaker2:
    args: dict[str, Any] = {
        "workdir": tmp_path / "mm2-case",
        "source_bootstrap": "127.0.0.1:19092",
        "target_bootstrap": "127.0.0.1:29092",
        "topics_regex": r"bench\.100\.none\.abc",
    }
    args.update(kwargs)
    return MirrorMaker2(**args)


def parse_properties(text: str) -> dict[str, str]:
    """Enough of java.util.Properties for what we write: ``key=value``, ``\\`` escapes."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value, i, escaped = "", "", 0, False
        while i < len(line):
            ch = line[i]
            if escaped:
                key += ch
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "=":
                break
            else:
                key += ch
            i += 1
        value = line[i + 1 :].replace("\\\\", "\\")
        out[key] = value
    return out


def test_flow_clusters_and_policy(tmp_path: Path) -> None:
    cfg = make(tmp_path, tasks_max=4, groups_regex=r"bench\..*").config()
    assert cfg["clusters"] == "src,dst"
    assert cfg["src.bootstrap.servers"] == "127.0.0.1:19092"
    assert cfg["dst.bootstrap.servers"] == "127.0.0.1:29092"
    assert cfg["src->dst.enabled"] == "true"
    assert cfg["dst->src.enabled"] == "false"
    assert cfg["src->dst.topics"] == r"bench\.100\.none\.abc"
    assert cfg["src->dst.groups"] == r"bench\..*"
    assert cfg["replication.policy.class"] == IDENTITY_POLICY
    assert IDENTITY_POLICY == "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
    assert cfg["tasks.max"] == "4"


def test_every_internal_topic_has_replication_factor_one(tmp_path: Path) -> None:
    cfg = make(tmp_path).config()
    for key in (
        "replication.factor",
        "checkpoints.topic.replication.factor",
        "heartbeats.topic.replication.factor",
        "offset-syncs.topic.replication.factor",
        "offset.storage.replication.factor",
        "config.storage.replication.factor",
        "status.storage.replication.factor",
    ):
        assert cfg[key] == "1", key


def test_checkpoints_group_sync_refresh_and_heartbeats(tmp_path: Path) -> None:
    cfg = make(tmp_path).config()
    assert cfg["sync.group.offsets.enabled"] == "true"
    assert cfg["emit.checkpoints.enabled"] == "true"
    assert cfg["emit.checkpoints.interval.seconds"] == "1"
    assert cfg["sync.group.offsets.interval.seconds"] == "1"
    assert int(cfg["refresh.topics.interval.seconds"]) <= 5
    assert int(cfg["refresh.groups.interval.seconds"]) <= 5
    assert cfg["emit.heartbeats.enabled"] == "false"
    assert cfg["sync.topic.acls.enabled"] == "false"
    assert cfg["src->dst.groups"] == ".*"  # the default
    off = make(tmp_path, sync_group_offsets=False).config()
    assert off["sync.group.offsets.enabled"] == "false"


def test_client_tuning_goes_to_the_worker_producer_and_the_source_consumer(
    tmp_path: Path,
) -> None:
    cfg = make(tmp_path).config()
    assert cfg["dst.producer.linger.ms"] == "10"
    assert cfg["dst.producer.batch.size"] == "262144"
    assert cfg["dst.producer.acks"] == "all"
    assert cfg["dst.producer.enable.idempotence"] == "true"
    assert cfg["dst.producer.max.in.flight.requests.per.connection"] == "5"
    assert cfg["src.consumer.max.poll.records"] == "2000"
    assert cfg["src.consumer.max.partition.fetch.bytes"] == "2097152"


def test_extra_overrides_and_adds(tmp_path: Path) -> None:
    extra = {"dst.producer.compression.type": "lz4", "dst.producer.linger.ms": 50, "tasks.max": 2}
    cfg = make(tmp_path, tasks_max=4, extra=extra).config()
    assert cfg["dst.producer.compression.type"] == "lz4"
    assert cfg["dst.producer.linger.ms"] == "50"
    assert cfg["tasks.max"] == "2"


def test_storage_topics_and_worker_group_are_per_instance(tmp_path: Path) -> None:
    a = make(tmp_path, name="one").config()
    b = make(tmp_path, name="two").config()
    assert a["offset.storage.topic"] == "mm2it.one.offsets"
    assert a["config.storage.topic"] == "mm2it.one.configs"
    assert a["status.storage.topic"] == "mm2it.one.status"
    assert a["dst.group.id"] == "mm2it.one"
    assert b["dst.group.id"] == "mm2it.two"
    # the default name comes from the work directory
    assert make(tmp_path).config()["dst.group.id"] == "mm2it.mm2-case"


def test_internal_topics(tmp_path: Path) -> None:
    mm2 = make(tmp_path, name="x")
    assert mm2.internal_topics() == {
        "source": [],
        "target": ["mm2it.x.offsets", "mm2it.x.configs", "mm2it.x.status"],
    }
    shared = mm2.internal_topics(shared=True)
    assert shared["source"] == ["mm2-offset-syncs.dst.internal"]
    assert "src.checkpoints.internal" in shared["target"]
    assert "heartbeats" in shared["target"]
    on_target = make(tmp_path, name="x", extra={"offset-syncs.topic.location": "target"})
    assert "mm2-offset-syncs.src.internal" in on_target.internal_topics(shared=True)["target"]


def test_other_aliases(tmp_path: Path) -> None:
    cfg = make(tmp_path, source_alias="a", target_alias="b").config()
    assert cfg["clusters"] == "a,b"
    assert cfg["a->b.enabled"] == "true"
    assert cfg["b->a.enabled"] == "false"
    assert cfg["b.producer.linger.ms"] == "10"
    assert cfg["a.consumer.max.poll.records"] == "2000"


def test_write_config_round_trips(tmp_path: Path) -> None:
    mm2 = make(tmp_path, tasks_max=3, extra={"weird key": "C:\\dir"})
    path = mm2.write_config()
    assert path == tmp_path / "mm2-case" / "mm2.properties"
    parsed = parse_properties(path.read_text())
    assert parsed == mm2.config()
    assert "src->dst.enabled=true" in path.read_text().splitlines()


def test_props_text_escapes() -> None:
    text = props_text({"a:b": "x", "c=d": "y\\z"})
    assert "a\\:b=x" in text
    assert "c\\=d=y\\\\z" in text


def test_command_uses_the_mirror_maker_class(tmp_path: Path) -> None:
    dist = jars.KafkaDist(version="3.9.2", lib=tmp_path / "lib", plugin_dirs=())
    mm2 = make(tmp_path, dist=dist, heap="768m")
    cmd = mm2.command()
    assert cmd[-2:] == [MAIN_CLASS, str(mm2.properties)]
    assert MAIN_CLASS == "org.apache.kafka.connect.mirror.MirrorMaker"
    assert "-Xmx768m" in cmd
    assert cmd[cmd.index("-cp") + 1] == str(tmp_path / "lib" / "*")
    assert any(arg.startswith("-Dlog4j.configuration=") for arg in cmd)


def test_rejects_zero_tasks(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        make(tmp_path, tasks_max=0)


def test_not_running_before_start(tmp_path: Path) -> None:
    mm2 = make(tmp_path)
    assert not mm2.is_running()
    assert mm2.stop() is False
    assert mm2.peak_rss_bytes() is None


# --------------------------------------------------------------------------- waiting


class FakeTarget:
    """Answers ``topics()`` and ``watermarks()`` from scripted high watermarks."""

    def __init__(self, script: dict[tuple[str, int], list[int]], appear_after: int = 0) -> None:
        self.script = {tp: itertools.chain(v, itertools.repeat(v[-1])) for tp, v in script.items()}
        self.calls = 0
        self.appear_after = appear_after

    def topics(self) -> dict[str, object]:
        self.calls += 1
        if self.calls <= self.appear_after:
            return {}
        return {t: object() for t, _ in self.script}

    def watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        high = next(self.script[(topic, partition)])
        if high < 0:
            raise KafkaError("not led yet")
        return 0, high


def test_wait_until_mirrored_records_first_record_and_done() -> None:
    target = FakeTarget({("t", 0): [-1, 0, 5, 10], ("t", 1): [0, 0, 0, 7, 10]}, appear_after=2)
    progress = wait_until_mirrored(
        target,  # type: ignore[arg-type]
        {("t", 0): 10, ("t", 1): 10},
        timeout=5,
        interval=0,
    )
    assert progress.done
    assert progress.first_record_at is not None and progress.done_at is not None
    assert progress.started_at <= progress.first_record_at <= progress.done_at
    assert progress.offsets == {("t", 0): 10, ("t", 1): 10}
    # the first round with a record saw t[0] at 5 (t[1] still empty)
    assert progress.copied_at_first == 5
    assert progress.overshoot({("t", 0): 10, ("t", 1): 10}) == {}
    assert progress.to_json()["offsets"] == {"t[0]": 10, "t[1]": 10}


def test_wait_until_mirrored_reports_overshoot() -> None:
    target = FakeTarget({("t", 0): [12]})
    progress = wait_until_mirrored(target, {("t", 0): 10}, timeout=5, interval=0)  # type: ignore[arg-type]
    assert progress.overshoot({("t", 0): 10}) == {("t", 0): 2}


def test_wait_until_mirrored_times_out() -> None:
    target = FakeTarget({("t", 0): [3]})
    with pytest.raises(SandboxError, match="did not catch up"):
        wait_until_mirrored(target, {("t", 0): 10}, timeout=0.05, interval=0.01)  # type: ignore[arg-type]


def test_wait_until_mirrored_stops_when_the_copier_dies() -> None:
    target = FakeTarget({("t", 0): [3]})
    with pytest.raises(SandboxError, match="exited"):
        wait_until_mirrored(
            target,  # type: ignore[arg-type]
            {("t", 0): 10},
            timeout=30,
            interval=0,
            alive=lambda: False,
        )
