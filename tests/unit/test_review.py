"""core.review: each rule fires on its case and stays quiet otherwise."""

from __future__ import annotations

from typing import Any

from connshift.core.review import Severity, review


def topic(name: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "partitions": 1,
        "replication_factor": 3,
        "configs": {
            "cleanup.policy": "delete",
            "retention.ms": "604800000",
            "min.insync.replicas": "2",
        },
        "records_retained_approx": 10,
        "rate_per_second": 1.0,
        "key_format": {"dominant": "JSON", "mixed": False},
    }
    base.update(over)
    return base


def ids(findings: list[Any]) -> set[tuple[str, str]]:
    return {(f.id, f.subject) for f in findings}


def test_a_healthy_topic_has_no_finding() -> None:
    inv = {"topics": [topic("ok")], "groups": [{"committed": {"ok[0]": 1}}]}
    assert review(inv) == []


def test_durability_retention_compaction_and_leftovers() -> None:
    inv = {
        "topics": [
            topic(
                "rf1",
                replication_factor=1,
                configs={
                    "cleanup.policy": "delete",
                    "min.insync.replicas": "1",
                    "retention.ms": "-1",
                },
            ),
            topic("short", configs={"cleanup.policy": "delete", "retention.ms": "3600000"}),
            topic(
                "nokeys",
                configs={"cleanup.policy": "compact"},
                key_format={"dominant": "NULL", "mixed": False},
            ),
            topic("mixed", key_format={"dominant": "JSON", "mixed": True}),
            topic("idle", records_retained_approx=0, rate_per_second=0.0),
        ],
        "groups": [{"committed": {"rf1[0]": 1, "short[0]": 1, "nokeys[0]": 1, "mixed[0]": 1}}],
    }
    got = review(inv, replay_window_hours=24)
    assert ids(got) == {
        ("topic.replication-factor-1", "rf1"),
        ("topic.min-insync-1", "rf1"),
        ("topic.infinite-retention", "rf1"),
        ("topic.retention-below-replay-window", "short"),
        ("topic.compaction-without-keys", "nokeys"),
        ("topic.mixed-key-formats", "mixed"),
        ("topic.leftover", "idle"),
    }
    assert got[0].severity is Severity.HIGH  # most severe first


def test_connector_plugins_classes_and_secrets() -> None:
    connector = {
        "name": "c1",
        "class": "x.Source",
        "plugin_version": "1.0",
        "inline_secrets": ["database.password"],
        "converters": {"key": "worker default", "value": "io.confluent.AvroConverter"},
        "transforms": [{"class": "x.Smt", "predicate_class": "x.Pred"}],
        "topics": [],
    }
    missing = review({"connectors": [connector]}, destination_plugins={})
    assert {f.id for f in missing} == {
        "connector.inline-secrets",
        "connector.plugin-missing",
        "connector.class-missing",
    }
    assert sum(f.id == "connector.class-missing" for f in missing) == 3
    present = {"x.Source": "2.0", "io.confluent.AvroConverter": None, "x.Smt": None, "x.Pred": None}
    drift = review({"connectors": [connector]}, destination_plugins=present)
    assert {f.id for f in drift} == {"connector.inline-secrets", "connector.plugin-version-drift"}


def test_probe_failures_rejected_configs_and_acls() -> None:
    probe = {
        "checks": [
            {"id": "acls.api", "status": "FAIL", "summary": "not served"},
            {"id": "produce.x", "status": "PASS"},
        ]
    }
    got = review(
        {"acls": [{"name": "t"}]},
        probe=probe,
        rejected_configs={"t": {"segment.bytes": "must be at least 1048576"}},
    )
    assert ids(got) == {
        ("destination.acls.api", "destination"),
        ("topic.config-rejected", "t"),
        ("security.acls-not-supported", "destination"),
    }
