"""Pure tests of the source -> destination topic config mapping (core/topicconfig)."""

from __future__ import annotations

import pytest

from connshift.core.topicconfig import (
    DENY,
    FORCED,
    ConfigMapping,
    map_topic_configs,
    without_rejected,
)


@pytest.mark.parametrize(
    "key",
    [
        "message.format.version",
        "message.downconversion.enable",
        "leader.replication.throttled.replicas",
        "follower.replication.throttled.replicas",
        "remote.storage.enable",
        "local.retention.ms",
        "local.retention.bytes",
        "preallocate",
        "confluent.placement.constraints",
        "confluent.tier.enable",
        "confluent.key.schema.validation",
    ],
)
def test_denied_keys_are_dropped_with_a_reason(key: str) -> None:
    mapping = map_topic_configs({key: "x", "retention.ms": "1000"})
    assert key not in mapping.kept
    assert mapping.dropped[key]
    assert mapping.kept["retention.ms"] == "1000"


def test_deny_reasons() -> None:
    mapping = map_topic_configs(
        {
            "message.format.version": "2.8-IV1",
            "confluent.value.schema.validation": "true",
            "leader.replication.throttled.replicas": "0:1,1:2",
        }
    )
    assert "4.0" in mapping.dropped["message.format.version"]
    assert "Confluent" in mapping.dropped["confluent.value.schema.validation"]
    assert "broker ids" in mapping.dropped["leader.replication.throttled.replicas"]


@pytest.mark.parametrize("key", ["confluent", "xconfluent.tier", "my.confluent.key", "confluentx"])
def test_deny_patterns_match_whole_keys_only(key: str) -> None:
    mapping = map_topic_configs({key: "1"})
    assert mapping.kept[key] == "1"
    assert key not in mapping.dropped


def test_ordinary_configs_are_kept() -> None:
    explicit = {
        "cleanup.policy": "compact",
        "retention.ms": "-1",
        "min.insync.replicas": "2",
        "max.message.bytes": "2097152",
        "segment.bytes": "1073741824",
    }
    mapping = map_topic_configs(explicit)
    assert mapping.kept == {**explicit, "message.timestamp.type": "CreateTime"}
    assert mapping.dropped == {}
    assert mapping.changed == {}


def test_timestamp_type_forced_when_log_append_time() -> None:
    mapping = map_topic_configs({"message.timestamp.type": "LogAppendTime"})
    assert mapping.kept["message.timestamp.type"] == "CreateTime"
    assert mapping.changed == {"message.timestamp.type": ("LogAppendTime", "CreateTime")}


def test_timestamp_type_already_create_time_is_not_changed() -> None:
    mapping = map_topic_configs({"message.timestamp.type": "CreateTime"})
    assert mapping.kept == {"message.timestamp.type": "CreateTime"}
    assert mapping.changed == {}


def test_timestamp_type_set_even_when_not_explicit() -> None:
    mapping = map_topic_configs({})
    assert mapping.kept == dict(FORCED)
    assert mapping.kept == {"message.timestamp.type": "CreateTime"}
    assert mapping.changed == {}
    assert mapping.dropped == {}


def test_source_dict_is_not_mutated() -> None:
    explicit = {"message.timestamp.type": "LogAppendTime", "preallocate": "true"}
    before = dict(explicit)
    map_topic_configs(explicit)
    assert explicit == before


def test_without_rejected_moves_refused_keys_to_dropped() -> None:
    mapping = map_topic_configs(
        {"retention.ms": "1000", "segment.jitter.ms": "5", "preallocate": "true"}
    )
    out = without_rejected(mapping, {"segment.jitter.ms": "unknown config"})
    assert out.kept == {"retention.ms": "1000", "message.timestamp.type": "CreateTime"}
    assert out.dropped["segment.jitter.ms"] == "refused by the destination: unknown config"
    assert out.dropped["preallocate"] == DENY["preallocate"]
    # the input mapping is left as it was
    assert "segment.jitter.ms" in mapping.kept
    assert "segment.jitter.ms" not in mapping.dropped


def test_without_rejected_keeps_changes_and_nothing_rejected_is_identity() -> None:
    mapping = map_topic_configs({"message.timestamp.type": "LogAppendTime", "a.b": "1"})
    out = without_rejected(mapping, {})
    assert out == mapping
    assert out.changed == {"message.timestamp.type": ("LogAppendTime", "CreateTime")}


def test_config_mapping_defaults() -> None:
    m = ConfigMapping(kept={"a": "1"})
    assert m.dropped == {}
    assert m.changed == {}
