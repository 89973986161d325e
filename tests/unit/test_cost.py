"""The cost model (core/cost.py): figures checked against hand-computed expectations.

The small profile below uses round figures so every expected number can be redone by hand;
the arithmetic is written next to each assertion. Units: 1 GB = 10**9 bytes; the profile's
month is 100 hours = 360,000 s.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from connshift.core.cost import LINE_IDS, PricingProfile, compute, measure

SMALL_PROFILE = """
name: small
currency: EUR
prices:
  broker_instance_hour: {value: 1.0, unit: EUR/hour, source: test}
  connect_instance_hour: {value: 0.5, unit: EUR/hour, source: test}
  managed_connect_task_hour: {value: 0.25, unit: EUR/hour, source: test}
  block_storage_gb_month: {value: 0.1, unit: EUR/GB-month, source: test}
  object_storage_gb_month: {value: 0.02, unit: EUR/GB-month, source: test}
  object_storage_put_per_1000: {value: 0.005, unit: EUR/1000, source: test}
  inter_zone_gb_each_way: {value: 0.01, unit: EUR/GB, source: test}
  internet_egress_gb: {value: 0.1, unit: EUR/GB, source: test}
  engineer_hour: {value: 100, unit: EUR/hour, source: assumption}
assumptions:
  hours_per_month: {value: 100, unit: hours, source: test}
  zones: {value: 3, unit: zones, source: test}
  record_bytes: {value: 1000, unit: bytes, source: test}
  disk_max_utilisation: {value: 0.5, unit: fraction, source: test}
  broker_base_volume_gb: {value: 10, unit: GB, source: test}
  broker_throughput_mb_per_second: {value: 1, unit: MB/s, source: test}
  partitions_per_broker: {value: 10, unit: replicas, source: test}
  shared_storage_cache_gb_per_broker: {value: 20, unit: GB, source: test}
  object_put_bytes: {value: 1000000, unit: bytes, source: test}
  internet_egress_share: {value: 0.5, unit: fraction, source: test}
  ops_hours_shared_nothing: {value: 10, unit: hours, source: test}
  ops_hours_shared_storage: {value: 4, unit: hours, source: test}
  connect_ops_hours_self_managed: {value: 5, unit: hours, source: test}
  connect_ops_hours_managed: {value: 1, unit: hours, source: test}
  broker_incidents_shared_nothing: {value: 1, unit: incidents, source: test}
  broker_incidents_shared_storage: {value: 1, unit: incidents, source: test}
  hours_per_broker_incident_shared_nothing: {value: 6, unit: hours, source: test}
  hours_per_broker_incident_shared_storage: {value: 1, unit: hours, source: test}
  hours_per_failed_task: {value: 2, unit: hours, source: test}
"""

ALL_OWNED = dict.fromkeys(LINE_IDS, "platform")


def small_profile() -> PricingProfile:
    return PricingProfile.model_validate(yaml.safe_load(SMALL_PROFILE))


def small_inventory() -> dict[str, Any]:
    """Two topics on three brokers, two connectors on two workers, one task FAILED.

    orders: 100 records/s, 1,000,000 records in 500,000,000 bytes (500 B a record), RF 3,
            read by 2 groups. events: 50 records/s, 200,000 records, size not measured
            (-> the estate's 500 B a record -> 100,000,000 bytes), RF 3, retention -1,
            read by the sink connector's group.
    """
    return {
        "schema": "connshift.inventory/1",
        "cluster": {"cluster_id": "c1", "brokers": ["b1:9092", "b2:9092", "b3:9092"]},
        "connectors": [
            {
                "name": "pg",
                "type": "source",
                "shape": "cdc-source",
                "worker": "w1:8083",
                "tasks": [{"id": 0, "state": "RUNNING", "worker": "w1:8083", "trace": None}],
                "topics": ["orders"],
            },
            {
                "name": "sink",
                "type": "sink",
                "shape": "sink",
                "worker": "w1:8083",
                "tasks": [
                    {"id": 0, "state": "FAILED", "worker": "w2:8083", "trace": "boom"},
                    {"id": 1, "state": "RUNNING", "worker": "w1:8083", "trace": None},
                ],
                "topics": [],
                "config": {"topics": "events"},
            },
        ],
        "topics": [
            {
                "name": "orders",
                "partitions": 6,
                "replication_factor": 3,
                "configs": {"cleanup.policy": "delete", "retention.ms": "604800000"},
                "records_retained_approx": 1_000_000,
                "size_bytes": 500_000_000,
                "size_bytes_all_replicas": 1_500_000_000,
                "rate_per_second": 100.0,
            },
            {
                "name": "events",
                "partitions": 4,
                "replication_factor": 3,
                "configs": {"cleanup.policy": "delete", "retention.ms": "-1"},
                "records_retained_approx": 200_000,
                "size_bytes": None,
                "rate_per_second": 50.0,
            },
        ],
        "groups": [
            {"group": "billing", "committed": {"orders[0]": 5, "orders[1]": 7}},
            {"group": "audit", "committed": {"orders[0]": 1}},
            {"group": "connect-sink", "committed": {"events[0]": 3, "events[3]": 2}},
        ],
    }


def lines(report_json: dict[str, Any], model: str) -> dict[str, float]:
    return {line["id"]: line["monthly"] for line in report_json["models"][model]["lines"]}


# --------------------------------------------------------------------------- measured inputs


def test_measure_reads_sizes_rates_readers_and_workers() -> None:
    e = measure(small_inventory(), default_record_bytes=1000)
    orders, events = e.topics
    assert orders.record_bytes == 500 and orders.record_bytes_basis == "measured"
    # events has no size: the estate's measured average 500e6 / 1e6 = 500 B
    assert events.record_bytes == 500 and events.record_bytes_basis == "estate"
    assert events.size_bytes == 200_000 * 500 and events.size_basis == "estimated"
    assert events.replica_bytes == 100_000_000 * 3
    assert orders.replica_bytes == 1_500_000_000  # measured, not size * RF
    assert (orders.readers, events.readers) == (2, 1)
    assert events.sink_read and not orders.sink_read
    assert events.infinite_retention and not orders.infinite_retention
    assert (e.brokers, e.connectors, e.tasks, e.failed_tasks, e.workers) == (3, 2, 3, 1, 2)
    # 100 * 500 + 50 * 500
    assert e.write_bytes_per_second == 75_000
    # 50,000 * (3 - 1) + 25,000 * (3 - 1)
    assert e.replication_bytes_per_second == 150_000
    # 50,000 * 2 readers + 25,000 * 1 reader
    assert e.read_bytes_per_second == 125_000
    assert e.retained_bytes == 600_000_000
    assert e.retained_replica_bytes == 1_800_000_000
    assert (e.partitions, e.partition_replicas) == (10, 30)
    assert any("events" in n and "records_retained_approx" in n for n in e.notes)


def test_without_any_measured_size_the_profile_record_size_is_used_and_said() -> None:
    inv = small_inventory()
    for t in inv["topics"]:
        t["size_bytes"] = None
        t.pop("size_bytes_all_replicas", None)
    e = measure(inv, default_record_bytes=1000)
    assert [t.record_bytes_basis for t in e.topics] == ["profile", "profile"]
    assert e.retained_bytes == (1_000_000 + 200_000) * 1000
    assert any("record_bytes assumption" in n for n in e.notes)


def test_missing_rate_and_brokers_are_noted_not_invented() -> None:
    inv = small_inventory()
    inv["topics"][0]["rate_per_second"] = None
    inv["cluster"] = {}
    e = measure(inv, default_record_bytes=1000)
    assert e.topics[0].rate_records_per_second == 0
    assert e.brokers is None
    assert any("orders: no rate_per_second" in n for n in e.notes)
    assert any("no brokers" in n for n in e.notes)


# --------------------------------------------------------------------------- the two models


def test_current_model_against_hand_computed_figures() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="self-managed",
        network="same-network",
        owners=ALL_OWNED,
    ).to_json()
    got = lines(report, "current")
    expected = {
        "broker_compute": 300.0,  # 3 brokers * 1.0 * 100 h
        "broker_storage": 3.18,  # (1.8 GB * (1/0.5 - 1) + 3 * 10 GB) * 0.1
        "retained_data": 0.18,  # 1.8 GB (all replicas) * 0.1
        "inter_zone_replication": 1.08,  # 150,000 B/s * 360,000 s = 54 GB * 1 * 2 * 0.01
        "connect_compute": 100.0,  # 2 workers * 0.5 * 100 h
        "network_egress": 2.25,  # 125,000 B/s * 360,000 s = 45 GB * 0.5 * 0.1
        "operations": 1500.0,  # (10 + 5) h * 100
        "failure_recovery": 800.0,  # (1 * 6 h + 1 failed task * 2 h) * 100
    }
    assert got == pytest.approx(expected)
    assert report["models"]["current"]["total"] == pytest.approx(2706.69)
    assert report["currency"] == "EUR"


def test_shared_storage_destination_against_hand_computed_figures() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="self-managed",
        network="same-network",
        owners=ALL_OWNED,
    ).to_json()
    got = lines(report, "destination")
    expected = {
        # sized: max(3 zones, ceil(0.2 MB/s / 1), ceil(10 partitions / 10)) = 3 brokers
        "broker_compute": 300.0,
        "broker_storage": 6.0,  # 3 brokers * 20 GB cache * 0.1
        # 0.6 GB once * 0.02 + (27 GB written / 1 MB objects = 27,000 PUTs) / 1000 * 0.005
        "retained_data": 0.15,  # 0.012 + 0.135 = 0.147
        "inter_zone_replication": 0.0,
        "connect_compute": 100.0,
        "network_egress": 2.25,
        "operations": 900.0,  # (4 + 5) h * 100
        "failure_recovery": 300.0,  # (1 * 1 h + 1 * 2 h) * 100
    }
    assert got == pytest.approx(expected, abs=0.005)
    assert report["models"]["destination"]["total"] == pytest.approx(1608.4, abs=0.01)
    # destination - current = 1608.397 - 2706.69
    assert report["difference"]["monthly"] == pytest.approx(-1098.29, abs=0.01)
    assert report["difference"]["percent"] == pytest.approx(-40.6, abs=0.05)
    assert report["difference"]["by_line"]["inter_zone_replication"] == pytest.approx(-1.08)


def test_shared_nothing_destination_is_the_current_model_on_a_new_cluster() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-nothing",
        worker_boundary="self-managed",
        network="same-network",
        owners=ALL_OWNED,
    ).to_json()
    assert lines(report, "destination") == lines(report, "current")
    assert report["difference"]["monthly"] == 0


def test_managed_workers_over_public_internet() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="managed",
        network="public-internet",
        owners=ALL_OWNED,
    ).to_json()
    got = lines(report, "destination")
    assert got["connect_compute"] == pytest.approx(75.0)  # 3 tasks * 0.25 * 100 h
    assert got["operations"] == pytest.approx(500.0)  # (4 + 1) h * 100
    assert got["network_egress"] == pytest.approx(2.25)  # managed: sinks run by the provider


def test_self_managed_sinks_over_public_internet_pay_egress() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="self-managed",
        network="public-internet",
        owners=ALL_OWNED,
    ).to_json()
    egress = next(
        line for line in report["models"]["destination"]["lines"] if line["id"] == "network_egress"
    )
    # 2.25 + events 25,000 B/s * 360,000 s = 9 GB * 0.1
    assert egress["monthly"] == pytest.approx(3.15)
    assert "sink_read_gb_per_month" in egress["inputs"]
    assert egress["inputs"]["sink_read_gb_per_month"]["value"] == pytest.approx(9.0)


def test_staged_workers_pay_both_kinds_of_connect_operations() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="staged",
        network=None,
        owners=ALL_OWNED,
    ).to_json()
    assert lines(report, "destination")["operations"] == pytest.approx(1000.0)  # (4+5+1)*100


def test_single_zone_replication_crosses_no_zone() -> None:
    profile = yaml.safe_load(SMALL_PROFILE)
    profile["assumptions"]["zones"]["value"] = 1
    report = compute(
        small_inventory(),
        PricingProfile.model_validate(profile),
        storage_model="shared-nothing",
        worker_boundary=None,
        network=None,
        owners={},
    ).to_json()
    assert lines(report, "current")["inter_zone_replication"] == 0


def test_unset_target_is_assumed_and_said() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model=None,
        worker_boundary=None,
        network=None,
        owners=ALL_OWNED,
    ).to_json()
    dest = report["models"]["destination"]
    assert dest["storage_model"] == "shared-storage"
    assert dest["worker_boundary"] == "self-managed"
    assert len(dest["assumed"]) == 2
    assert report["models"]["current"]["assumed"] == []


def test_sized_brokers_follow_throughput_and_partitions() -> None:
    inv = small_inventory()
    inv["topics"][0]["rate_per_second"] = 10_000.0  # 5 MB/s written, 10 MB/s read
    inv["topics"][1]["partitions"] = 44  # 50 partitions
    report = compute(
        inv,
        small_profile(),
        storage_model="shared-storage",
        worker_boundary=None,
        network=None,
        owners={},
    ).to_json()
    compute_line = report["models"]["destination"]["lines"][0]
    # writes 10,000*500 + 50*500 = 5.025 MB/s; reads 10 MB/s + 0.025 MB/s -> ceil(15.05) = 16
    assert compute_line["inputs"]["brokers"]["value"] == 16
    inv["topics"][0]["rate_per_second"] = 1.0
    report = compute(
        inv,
        small_profile(),
        storage_model="shared-storage",
        worker_boundary=None,
        network=None,
        owners={},
    ).to_json()
    # partitions 6 + 44 = 50 / 10 per broker = 5 > 3 zones
    assert report["models"]["destination"]["lines"][0]["inputs"]["brokers"]["value"] == 5


# --------------------------------------------------------------------------- explained lines


def test_every_line_has_its_formula_and_inputs_named_in_it() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary="self-managed",
        network="public-internet",
        owners={},
    ).to_json()
    for model in ("current", "destination"):
        got = report["models"][model]["lines"]
        assert [line["id"] for line in got] == list(LINE_IDS)
        for line in got:
            assert line["label"] and line["formula"]
            for name, figure in line["inputs"].items():
                assert name in line["formula"], (model, line["id"], name)
                assert "value" in figure and figure["unit"]


def test_unowned_lines_are_flagged_and_listed() -> None:
    owners = {"broker_compute": "platform", "operations": "sre", "typo_line": "x"}
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model="shared-storage",
        worker_boundary=None,
        network=None,
        owners=owners,
    ).to_json()
    for model in ("current", "destination"):
        for line in report["models"][model]["lines"]:
            if line["id"] in owners:
                assert line["owner"] == owners[line["id"]] and not line["flagged"]
                assert line["reason"] is None
            else:
                assert line["owner"] is None and line["flagged"]
                assert f"readiness.cost.owners.{line['id']}" in line["reason"]
    assert report["unowned"] == [i for i in LINE_IDS if i not in owners]
    assert report["unknown_owner_keys"] == ["typo_line"]


def test_report_carries_profile_sources_and_inputs() -> None:
    report = compute(
        small_inventory(),
        small_profile(),
        storage_model=None,
        worker_boundary=None,
        network=None,
        owners={},
        profile_path="p.yaml",
        evidence=["evidence/inventory.json"],
    ).to_json()
    assert report["schema"] == "connshift.cost/1"
    assert report["profile"]["path"] == "p.yaml" and report["profile"]["name"] == "small"
    assert report["profile"]["sources"]["prices.engineer_hour"] == "assumption"
    assert len(report["profile"]["sources"]) == 9 + 19
    assert report["inputs"]["retained_bytes"]["value"] == 600_000_000
    # events (retention.ms=-1): 25,000 B/s * 360,000 s = 9 GB a month
    growth = report["inputs"]["infinite_retention_growth_gb_per_month"]["value"]
    assert growth == pytest.approx(25_000 * 360_000 / 1e9)
    assert report["based_on"] == ["evidence/inventory.json"]


# --------------------------------------------------------------------------- the profile model


def test_profile_rejects_an_unknown_key() -> None:
    tree = yaml.safe_load(SMALL_PROFILE)
    tree["prices"]["gpu_hour"] = {"value": 1, "unit": "x", "source": "y"}
    with pytest.raises(ValidationError) as info:
        PricingProfile.model_validate(tree)
    assert ("prices", "gpu_hour") in [tuple(e["loc"]) for e in info.value.errors()]


def test_profile_requires_a_source_for_every_figure() -> None:
    tree = yaml.safe_load(SMALL_PROFILE)
    del tree["prices"]["engineer_hour"]["source"]
    with pytest.raises(ValidationError) as info:
        PricingProfile.model_validate(tree)
    assert [tuple(e["loc"]) for e in info.value.errors()] == [("prices", "engineer_hour", "source")]


@pytest.mark.parametrize(
    ("key", "value"), [("disk_max_utilisation", 1.5), ("zones", 0), ("internet_egress_share", 2)]
)
def test_profile_rejects_out_of_range_assumptions(key: str, value: float) -> None:
    tree = copy.deepcopy(yaml.safe_load(SMALL_PROFILE))
    tree["assumptions"][key]["value"] = value
    with pytest.raises(ValidationError, match=key):
        PricingProfile.model_validate(tree)
