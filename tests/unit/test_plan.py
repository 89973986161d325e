"""Unit tests of the pure cutover plan (:mod:`connshift.core.plan`)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from connshift.core.plan import (
    STEPS,
    UNDO,
    UNDO_DOES,
    ConnectorPlan,
    PlannedStep,
    Shape,
    Step,
    Strategy,
    map_config,
    plan_connector,
    shape_of,
)

PG = "io.debezium.connector.postgresql.PostgresConnector"
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def dr(topic: str) -> str:
    return "dr." + topic


def renamed(topic: str) -> str:
    return {"orders": "orders-v2"}.get(topic, "dr." + topic)


# --------------------------------------------------------------------------- shape_of


@pytest.mark.parametrize(
    ("class_name", "ctype", "shape"),
    [
        (FILE_SINK, "sink", Shape.SINK),
        # a sink is a sink whatever its class: Debezium's JDBC sink included
        ("io.debezium.connector.jdbc.JdbcSinkConnector", "sink", Shape.SINK),
        (PG, "source", Shape.CDC_SOURCE),
        ("io.debezium.connector.mysql.MySqlConnector", "source", Shape.CDC_SOURCE),
        (FILE_SOURCE, "source", Shape.SOURCE),
        ("io.confluent.connect.jdbc.JdbcSourceConnector", "source", Shape.SOURCE),
        # "debezium" elsewhere in the name is not a Debezium class
        ("com.example.io.debezium.connector.Fake", "source", Shape.SOURCE),
    ],
)
def test_shape_of(class_name: str, ctype: str, shape: Shape) -> None:
    assert shape_of(class_name, ctype) is shape


def test_shape_values_are_the_plan_json_spelling() -> None:
    assert [str(s) for s in Shape] == ["cdc-source", "source", "sink"]


# --------------------------------------------------------------------------- map_config


@pytest.mark.parametrize("key", ["topic", "topics", "kafka.topic", "topic.name"])
def test_map_config_renames_each_topic_key(key: str) -> None:
    out = map_config({"connector.class": FILE_SINK, key: "orders"}, renamed, "dr.")
    assert out[key] == "orders-v2"


def test_map_config_renames_topic_lists_one_by_one_and_strips_spaces() -> None:
    seen: list[str] = []

    def rename(t: str) -> str:
        seen.append(t)
        return renamed(t)

    out = map_config({"topics": "orders, payments ,users"}, rename, "")
    assert out["topics"] == "orders-v2,dr.payments,dr.users"
    assert seen == ["orders", "payments", "users"]


def test_map_config_leaves_empty_topics_and_other_keys_alone() -> None:
    config = {"topics": "", "topics.regex": "orders.*", "file": "/tmp/out.txt"}
    out = map_config(config, renamed, "dr.")
    assert out == config


def test_map_config_drops_name_and_does_not_touch_the_input() -> None:
    config = {"name": "sink-a", "connector.class": FILE_SINK, "topics": "orders"}
    out = map_config(config, renamed, "")
    assert "name" not in out
    assert config == {"name": "sink-a", "connector.class": FILE_SINK, "topics": "orders"}


def test_map_config_prefixes_debezium_topic_prefix() -> None:
    out = map_config({"connector.class": PG, "topic.prefix": "shop"}, dr, "dr.")
    assert out["topic.prefix"] == "dr.shop"


def test_map_config_keeps_debezium_topic_prefix_without_a_spec_prefix() -> None:
    out = map_config({"connector.class": PG, "topic.prefix": "shop"}, renamed, "")
    assert out["topic.prefix"] == "shop"


def test_map_config_keeps_topic_prefix_of_non_debezium_connectors() -> None:
    cls = "io.confluent.connect.jdbc.JdbcSourceConnector"
    out = map_config({"connector.class": cls, "topic.prefix": "jdbc-"}, dr, "dr.")
    assert out["topic.prefix"] == "jdbc-"


def test_map_config_debezium_without_topic_prefix_gets_none_added() -> None:
    out = map_config({"connector.class": PG}, dr, "dr.")
    assert "topic.prefix" not in out


def test_map_config_points_override_bootstrap_at_the_destination() -> None:
    config = {
        "connector.class": FILE_SOURCE,
        "producer.override.bootstrap.servers": "src:9092",
        "consumer.override.bootstrap.servers": "src:9092",
        "admin.override.bootstrap.servers": "src:9092",
        "bootstrap.servers": "src:9092",  # not an override: left alone
        "errors.deadletterqueue.bootstrap.servers": "src:9092",  # not an override either
    }
    out = map_config(config, dr, "", destination_bootstrap="dst:9092")
    assert out["producer.override.bootstrap.servers"] == "dst:9092"
    assert out["consumer.override.bootstrap.servers"] == "dst:9092"
    assert out["admin.override.bootstrap.servers"] == "dst:9092"
    assert out["bootstrap.servers"] == "src:9092"
    assert out["errors.deadletterqueue.bootstrap.servers"] == "src:9092"


def test_map_config_without_destination_bootstrap_keeps_overrides() -> None:
    config = {"producer.override.bootstrap.servers": "src:9092"}
    assert map_config(config, dr, "")["producer.override.bootstrap.servers"] == "src:9092"


def test_map_config_keeps_secrets_verbatim() -> None:
    config = {
        "connector.class": PG,
        "database.password": "hunter2",
        "database.user": "${file:/secrets/db.properties:user}",
        "producer.override.sasl.jaas.config": 'PlainLoginModule required password="p";',
    }
    out = map_config(config, dr, "dr.")
    assert out["database.password"] == "hunter2"
    assert out["database.user"] == "${file:/secrets/db.properties:user}"
    assert out["producer.override.sasl.jaas.config"] == config["producer.override.sasl.jaas.config"]


# --------------------------------------------------------------------------- plan_connector


def test_plan_sink_groups_and_topics_from_config() -> None:
    plan = plan_connector(
        "sink-a",
        FILE_SINK,
        "sink",
        {"connector.class": FILE_SINK, "topics": "payments, orders", "name": "sink-a"},
        [],
        destination_topic=renamed,
    )
    assert plan.shape is Shape.SINK
    assert plan.groups == ["connect-sink-a"]
    assert plan.topics == ["orders", "payments"]
    # pairwise with topics: a rename that changes the sort order keeps each pair together
    assert plan.destination_topics == ["orders-v2", "dr.payments"]
    assert plan.topic_map == {"orders": "orders-v2", "payments": "dr.payments"}
    assert plan.source_topic("orders-v2") == "orders"
    assert plan.source_topic("dr.payments") == "payments"
    assert plan.source_topic("dr.orders") is None
    assert plan.destination_config == {
        "connector.class": FILE_SINK,
        "topics": "dr.payments,orders-v2",
    }
    assert plan.warnings == []


def test_plan_sink_prefers_topics_connect_reports() -> None:
    plan = plan_connector(
        "sink-a",
        FILE_SINK,
        "sink",
        {"topics": "orders,payments"},
        ["users"],
        destination_topic=dr,
    )
    assert plan.topics == ["users"]
    assert plan.destination_topics == ["dr.users"]


def test_plan_sink_with_topics_regex_warns() -> None:
    plan = plan_connector(
        "sink-r", FILE_SINK, "sink", {"topics.regex": "orders.*"}, [], destination_topic=dr
    )
    assert plan.topics == []
    assert len(plan.warnings) == 1
    assert "topics.regex" in plan.warnings[0]


@pytest.mark.parametrize("cls", [PG, FILE_SOURCE])
def test_plan_sources_have_no_groups_and_do_not_read_topics_config(cls: str) -> None:
    plan = plan_connector(
        "src-a", cls, "source", {"topic": "orders"}, ["orders"], destination_topic=renamed
    )
    assert plan.groups == []
    assert plan.topics == ["orders"]
    assert plan.destination_topics == ["orders-v2"]
    # a source with no topics reported keeps none (the config is not read for sources)
    empty = plan_connector("src-b", cls, "source", {"topic": "orders"}, [], destination_topic=dr)
    assert empty.topics == []


def test_plan_steps_in_order_with_undo() -> None:
    plan = plan_connector("src-a", PG, "source", {}, ["shop.orders"], destination_topic=dr)
    assert [s.step for s in plan.steps] == [
        Step.PREFLIGHT,
        Step.STOP_SOURCE,
        Step.READ_OFFSETS,
        Step.CATCH_UP,
        Step.CREATE_STOPPED,
        Step.WRITE_OFFSETS,
        Step.RESUME,
        Step.VERIFY,
    ]
    assert tuple(s.step for s in plan.steps) == STEPS
    for s in plan.steps:
        assert s.does
        assert s.undo == ("; ".join(UNDO_DOES[u] for u in UNDO[s.step]) or s.undo)
    assert set(UNDO) == set(Step)
    by_step = {s.step: s for s in plan.steps}
    assert by_step[Step.CREATE_STOPPED].undo == "delete the destination connector"
    assert by_step[Step.STOP_SOURCE].undo == "resume the source connector"
    assert by_step[Step.RESUME].undo.startswith("stop the destination connector")
    assert by_step[Step.VERIFY].undo == "nothing to undo"
    assert by_step[Step.STOP_SOURCE].does.startswith("PUT /connectors/src-a/stop")
    assert "LSN" in by_step[Step.WRITE_OFFSETS].does


def test_plan_step_descriptions_follow_shape() -> None:
    sink = plan_connector("s", FILE_SINK, "sink", {"topics": "a"}, [], destination_topic=dr)
    source = plan_connector("f", FILE_SOURCE, "source", {}, ["a"], destination_topic=dr)
    write = Step.WRITE_OFFSETS
    assert "consumer group" in next(s for s in sink.steps if s.step is write).does
    assert "source positions" in next(s for s in source.steps if s.step is write).does


def test_plan_snapshot_strategy_on_cdc_sets_snapshot_mode_always() -> None:
    plan = plan_connector(
        "pg",
        PG,
        "source",
        {"connector.class": PG, "snapshot.mode": "initial", "topic.prefix": "shop"},
        ["shop.public.orders"],
        destination_topic=dr,
        topic_prefix="dr.",
        strategy=Strategy.SNAPSHOT,
    )
    assert plan.strategy is Strategy.SNAPSHOT
    assert plan.destination_config["snapshot.mode"] == "always"
    assert plan.destination_config["topic.prefix"] == "dr.shop"
    assert plan.warnings == []
    write = next(s for s in plan.steps if s.step is Step.WRITE_OFFSETS)
    assert write.does == "no offsets written (snapshot)"


def test_plan_resume_strategy_keeps_snapshot_mode() -> None:
    plan = plan_connector(
        "pg", PG, "source", {"snapshot.mode": "initial"}, [], destination_topic=dr
    )
    assert plan.strategy is Strategy.RESUME
    assert plan.destination_config["snapshot.mode"] == "initial"


@pytest.mark.parametrize(("cls", "ctype"), [(FILE_SOURCE, "source"), (FILE_SINK, "sink")])
def test_plan_snapshot_strategy_on_non_cdc_warns(cls: str, ctype: str) -> None:
    plan = plan_connector(
        "x", cls, ctype, {"topics": "a"}, ["a"], destination_topic=dr, strategy=Strategy.SNAPSHOT
    )
    assert "snapshot.mode" not in plan.destination_config
    assert any("CDC sources only" in w for w in plan.warnings)


def test_plan_fresh_strategy_writes_no_offsets() -> None:
    plan = plan_connector(
        "f", FILE_SOURCE, "source", {}, ["a"], destination_topic=dr, strategy=Strategy.FRESH
    )
    assert plan.warnings == []
    write = next(s for s in plan.steps if s.step is Step.WRITE_OFFSETS)
    assert write.does == "no offsets written (fresh)"


# --------------------------------------------------------------------------- to_json


def test_to_json_redacts_through_the_given_function() -> None:
    plan = plan_connector(
        "pg",
        PG,
        "source",
        {"connector.class": PG, "database.password": "hunter2", "topic.prefix": "shop"},
        ["shop.t"],
        destination_topic=dr,
        topic_prefix="dr.",
    )
    calls: list[Mapping[str, str]] = []

    def redact(config: Mapping[str, str]) -> dict[str, str]:
        calls.append(config)
        return {k: ("***" if "password" in k else v) for k, v in config.items()}

    doc = plan.to_json(redact)
    assert calls == [plan.destination_config]
    assert doc["destination_config"]["database.password"] == "***"
    assert doc["destination_config"]["topic.prefix"] == "dr.shop"
    assert "hunter2" not in repr(doc)
    # the plan itself keeps the secret: the destination connector needs it
    assert plan.destination_config["database.password"] == "hunter2"
    assert doc["name"] == "pg"
    assert doc["class"] == PG
    assert doc["shape"] == "cdc-source"
    assert doc["strategy"] == "resume"
    assert doc["topics"] == ["shop.t"]
    assert doc["destination_topics"] == ["dr.shop.t"]
    assert doc["groups"] == []
    assert doc["warnings"] == []
    assert [s["step"] for s in doc["steps"]] == [str(s) for s in STEPS]
    assert set(doc["steps"][0]) == {"step", "does", "undo"}


def test_planned_step_to_json() -> None:
    step = PlannedStep(Step.VERIFY, "check", "nothing to undo")
    assert step.to_json() == {"step": "verify", "does": "check", "undo": "nothing to undo"}


def test_connector_plan_defaults_are_not_shared() -> None:
    def make() -> ConnectorPlan:
        return ConnectorPlan("a", FILE_SOURCE, Shape.SOURCE, Strategy.RESUME, {}, [], {})

    first, second = make(), make()
    first.warnings.append("x")
    assert second.warnings == []


def test_rename_that_changes_sort_order_round_trips_through_json() -> None:
    """The journaled plan (what a rollback undoes) keeps each source topic's own copy."""
    rename = {"alpha": "zzz", "beta": "beta"}
    plan = plan_connector(
        "sink-r",
        FILE_SINK,
        "sink",
        {"topics": "alpha,beta"},
        [],
        destination_topic=lambda t: rename[t],
    )
    doc = plan.to_json(dict)
    assert doc["topic_map"] == {"alpha": "zzz", "beta": "beta"}
    assert doc["topics"] == ["alpha", "beta"] and doc["destination_topics"] == ["zzz", "beta"]
    again = ConnectorPlan.from_json(doc)
    assert again.topic_map == plan.topic_map
    assert again.source_topic("zzz") == "alpha" and again.source_topic("beta") == "beta"
    assert [s.step for s in again.steps] == list(STEPS)
    # an older plan.json without topic_map: its two lists are read pairwise
    del doc["topic_map"]
    assert ConnectorPlan.from_json(doc).topic_map == {"alpha": "zzz", "beta": "beta"}
