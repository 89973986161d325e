"""Topic sizes on disk from DescribeLogDirs answers (core.disksize) and the sample budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from connshift.app.inventory import per_partition_sample
from connshift.core.disksize import human_bytes, topic_sizes, unavailable


@dataclass(frozen=True)
class Dir:
    broker: int
    path: str
    error: int = 0
    partitions: dict[tuple[str, int], tuple[int, int, bool]] = field(default_factory=dict)


def test_one_broker_sums_partitions() -> None:
    d = Dir(1, "/data", partitions={("a", 0): (100, 0, False), ("a", 1): (50, 0, False)})
    sizes = topic_sizes([d], {"a": 2})
    a = sizes["a"]
    assert (a.size_bytes, a.size_bytes_all_replicas) == (150, 150)
    assert a.partition_bytes == {0: 100, 1: 50}
    assert a.note is None and a.replicas_described == 2
    assert a.to_json()["partition_bytes"] == {"0": 100, "1": 50}


def test_replicas_count_once_largest_wins_all_replicas_add_up() -> None:
    dirs = [
        Dir(1, "/d1", partitions={("a", 0): (100, 0, False), ("b", 0): (7, 0, False)}),
        Dir(2, "/d2", partitions={("a", 0): (90, 10, False)}),  # a lagging follower
        Dir(3, "/d3", partitions={("a", 0): (30, 0, True)}),  # a future replica (dir move)
    ]
    a = topic_sizes(dirs, {"a": 1})["a"]
    assert a.size_bytes == 100  # the data once: the largest current replica
    assert a.size_bytes_all_replicas == 220  # every byte on disk, the future replica too
    assert a.replicas_described == 3
    assert "b" not in topic_sizes(dirs, {"a": 1})  # only the topics asked about


def test_missing_partitions_make_a_lower_bound_with_the_reason() -> None:
    dirs = [
        Dir(1, "/d1", partitions={("a", 0): (10, 0, False)}),
        Dir(2, "/bad", error=57, partitions={("a", 1): (99, 0, False)}),
    ]
    a = topic_sizes(dirs, {"a": 4}, errors={3: "NOT_CONTROLLER"}, error_name=lambda c: f"E{c}")["a"]
    assert a.size_bytes == 10 and a.partition_bytes == {0: 10}
    assert a.note is not None
    assert "partitions 1-3 of 4" in a.note
    assert "broker 3 answered NOT_CONTROLLER" in a.note
    assert "broker 2 /bad: E57" in a.note
    assert "lower bound" in a.note


def test_no_partition_described_is_none_not_zero() -> None:
    a = topic_sizes([], {"a": 2})["a"]
    assert a.size_bytes is None and a.size_bytes_all_replicas is None
    assert a.note == "partitions 0-1 of 2 in no described log dir"


def test_empty_partition_is_zero_bytes() -> None:
    a = topic_sizes([Dir(1, "/d", partitions={("a", 0): (0, 0, False)})], {"a": 1})["a"]
    assert a.size_bytes == 0 and a.note is None


def test_unavailable_keeps_the_reason_for_every_topic() -> None:
    sizes = unavailable(["a", "b"], "DescribeLogDirs not served (ApiVersions)")
    assert set(sizes) == {"a", "b"}
    assert all(s.size_bytes is None for s in sizes.values())
    assert sizes["b"].to_json()["size_note"] == "DescribeLogDirs not served (ApiVersions)"


def test_human_bytes() -> None:
    assert human_bytes(None) == "-"
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**3) == "3.0 GiB"
    assert human_bytes(5 * 1024**5) == "5120.0 TiB"


def test_sample_budget_spreads_over_partitions() -> None:
    assert per_partition_sample(20, 200, 0) == 0
    assert per_partition_sample(20, 200, 3) == 20  # under the budget: the full sample
    assert per_partition_sample(20, 200, 50) == 4
    assert per_partition_sample(20, 200, 1000) == 1  # at least one record per partition


def test_a_connector_lists_the_topics_its_config_names_as_well_as_the_active_ones() -> None:
    from connshift.app.inventory import configured_topics

    assert configured_topics({"topics": "a, b,,c"}) == {"a", "b", "c"}
    assert configured_topics({"topic": " files.log "}) == {"files.log"}
    assert configured_topics({"topics.regex": "x.*"}) == set()
