"""The decision rules (core/decide.py): each path wins from the evidence that justifies it."""

from __future__ import annotations

from typing import Any

import pytest

from connshift.core.decide import PATHS, Source, decide

GB = 10**9


def inventory(
    *,
    topics: list[dict[str, Any]] | None = None,
    failed: int = 0,
    brokers: int = 3,
) -> Source:
    tasks = [{"id": i, "state": "FAILED", "worker": "w1", "trace": "x"} for i in range(failed)]
    tasks.append({"id": 99, "state": "RUNNING", "worker": "w1", "trace": None})
    data = {
        "schema": "connshift.inventory/1",
        "cluster": {"brokers": [f"b{i}:9092" for i in range(brokers)]},
        "connectors": [
            {"name": "pg-cdc", "type": "source", "shape": "cdc-source", "tasks": tasks},
            {"name": "s3-sink", "type": "sink", "shape": "sink", "tasks": []},
        ],
        "topics": topics
        if topics is not None
        else [
            {
                "name": "orders",
                "partitions": 3,
                "replication_factor": 3,
                "configs": {"cleanup.policy": "delete", "retention.ms": "604800000"},
                "records_retained_approx": 1000,
                "size_bytes": 1_000_000,
                "rate_per_second": 5.0,
            }
        ],
        "groups": [],
    }
    return Source("inventory", "evidence/inventory.json", data)


def review(*ids: str) -> Source:
    findings = [
        {"id": i, "severity": "high", "subject": f"conn-{n}", "finding": "f", "fix": "x"}
        for n, i in enumerate(ids)
    ]
    return Source("review", "evidence/review.json", {"findings": findings})


def baseline(summary: Any) -> Source:
    return Source("baseline-before", "evidence/baseline-before.json", {"summary": summary})


def heavy_topics() -> list[dict[str, Any]]:
    """2 TB retained once (6 TB with RF 3) forever, written at 1 MB/s."""
    return [
        {
            "name": "clicks",
            "partitions": 12,
            "replication_factor": 3,
            "configs": {"cleanup.policy": "delete", "retention.ms": "-1"},
            "records_retained_approx": 2_000_000_000,
            "size_bytes": 2000 * GB,
            "size_bytes_all_replicas": 6000 * GB,
            "rate_per_second": 1000.0,
        }
    ]


def fits(decision_json: dict[str, Any]) -> dict[str, int]:
    return {p["id"]: p["fit"] for p in decision_json["paths"]}


def test_plugin_drift_and_missing_plugins_choose_move_workers() -> None:
    d = decide(
        inventory(),
        review=review(
            "connector.plugin-version-drift",
            "connector.plugin-missing",
            "topic.leftover",
        ),
    ).to_json()
    assert d["path"] == "move-workers"
    # drift 1 point, missing 1 + 1 -> plugins 3: move-workers 2*3 = 6; managed 0 + 1 - 2 -> 0
    assert fits(d) == {"move-workers": 6, "managed-connect": 0, "other-storage-platform": 0}
    mw = next(p for p in d["paths"] if p["id"] == "move-workers")
    assert {r["evidence"] for r in mw["reasons"]} == {"evidence/review.json"}
    mc = next(p for p in d["paths"] if p["id"] == "managed-connect")
    assert any(r["effect"] == "against" and "missing" in r["text"] for r in mc["reasons"])
    assert d["pressures"]["points"] == {"worker-plugins": 3, "worker-ops": 0, "broker": 0}


def test_task_failures_and_restarts_without_plugin_trouble_choose_managed_connect() -> None:
    d = decide(
        inventory(failed=2),
        review=review("topic.leftover"),
        baseline=baseline({"tasks": {"task_failures": 4, "task_restarts": 1}}),
    ).to_json()
    # ops: 2 failed tasks (2) + 4 baseline failures (2) + 1 restart (1) = 5
    assert fits(d) == {"move-workers": 5, "managed-connect": 10, "other-storage-platform": 0}
    assert d["path"] == "managed-connect"
    assert d["confidence"] == "high"  # margin 5, review and baseline present
    evidence = {r["evidence"] for p in d["paths"] for r in p["reasons"]}
    assert evidence == {"evidence/inventory.json", "evidence/baseline-before.json"}
    mc = next(p for p in d["paths"] if p["id"] == "managed-connect")
    assert any("PATCH" in h and "pg-cdc" in h for h in mc["stays_hard"])


def test_disk_retention_and_slow_reassignment_choose_another_storage_platform() -> None:
    cost = Source(
        "cost",
        "evidence/cost.json",
        {
            "currency": "USD",
            "models": {
                "current": {
                    "total": 1000.0,
                    "lines": [
                        {"id": "broker_compute", "monthly": 300.0},
                        {"id": "broker_storage", "monthly": 50.0},
                        {"id": "retained_data", "monthly": 150.0},
                        {"id": "inter_zone_replication", "monthly": 300.0},
                        {"id": "operations", "monthly": 200.0},
                    ],
                },
                "destination": {
                    "storage_model": "shared-storage",
                    "total": 900.0,
                    "lines": [
                        {"id": "broker_compute", "monthly": 300.0},
                        {"id": "broker_storage", "monthly": 20.0},
                        {"id": "retained_data", "monthly": 30.0},
                        {"id": "inter_zone_replication", "monthly": 0.0},
                        {"id": "operations", "monthly": 550.0},
                    ],
                },
            },
        },
    )
    d = decide(
        inventory(topics=heavy_topics(), brokers=3),
        review=review(),
        cost=cost,
        probe=Source(
            "probe-destination",
            "evidence/probe-destination.json",
            {"checks": [{"id": "txn.commit", "status": "FAIL"}, {"id": "x", "status": "PASS"}]},
        ),
    ).to_json()
    assert d["path"] == "other-storage-platform"
    broker = d["pressures"]["broker"]
    # 6 TB on disk >= 1 TB: 2; forever at 1 MB/s (2.6 TB/month): 2; replay 2e12 B / 1e6 B/s
    # = 555 h >= 168: 2; 2 TB per broker at 50 MB/s = 11.1 h: 1; broker-side lines 800 -> 350
    # (56% lower; operations left out): 1; inter-zone 300 of 1000 total: 1
    assert {k: v["points"] for k, v in broker.items()} == {
        "retained_bytes": 2,
        "infinite_retention": 2,
        "replay_burst": 2,
        "slow_capacity_change": 1,
        "cost_saving": 1,
        "inter_zone_share": 1,
    }
    assert broker["replay_burst"]["value"] == pytest.approx(555.6, abs=0.1)
    assert broker["cost_saving"]["evidence"] == "evidence/cost.json"
    assert broker["cost_saving"]["value"] == 450.0
    os_path = next(p for p in d["paths"] if p["id"] == "other-storage-platform")
    assert os_path["fit"] == 18
    assert any("pg-cdc" in h and "latency" in h for h in os_path["stays_hard"])
    assert any("txn.commit" in h for h in os_path["stays_hard"])
    mw = next(p for p in d["paths"] if p["id"] == "move-workers")
    assert any(h.startswith("broker pressure stays") for h in mw["stays_hard"])


def test_no_pressure_chooses_nothing_with_low_confidence() -> None:
    d = decide(inventory(), review=review()).to_json()
    assert d["path"] is None and d["title"] is None
    assert d["confidence"] == "low"
    assert set(fits(d).values()) == {0}
    assert "no measured pressure" in d["summary"]


def test_without_a_review_the_evidence_is_thin_and_confidence_low() -> None:
    d = decide(inventory(failed=3)).to_json()
    assert d["path"] == "managed-connect"  # 3 failed tasks: 2 * 3 vs move-workers 3
    assert d["confidence"] == "low"
    assert any("no review evidence" in t for t in d["thin_evidence"])
    assert "thin" in d["summary"]


def test_a_one_point_margin_is_low_confidence() -> None:
    # 1 failed task: move-workers 1, managed-connect 2
    d = decide(inventory(failed=1), review=review()).to_json()
    assert d["path"] == "managed-connect"
    assert d["confidence"] == "low"


def test_medium_confidence_without_a_baseline() -> None:
    d = decide(inventory(), review=review("connector.class-missing")).to_json()
    assert d["path"] == "move-workers" and fits(d)["move-workers"] == 4
    assert d["confidence"] == "medium"


def test_ties_go_to_the_smaller_change() -> None:
    # drift 1 + failed 1: move-workers 2*1 + 1 = 3; managed 2*1 + 1 = 3
    d = decide(inventory(failed=1), review=review("connector.plugin-version-drift")).to_json()
    assert fits(d)["move-workers"] == fits(d)["managed-connect"] == 3
    assert d["path"] == "move-workers"


@pytest.mark.parametrize(
    "summary",
    [
        ["not", "a", "mapping"],
        "text",
        {"task_failures": "many", "restarts": None, "storage_growth_bytes": True},
        {"tasks": [1, 2]},
        {"task_failures": float("nan")},
    ],
)
def test_baseline_shapes_we_do_not_know_read_as_absent(summary: Any) -> None:
    d = decide(inventory(), review=review(), baseline=baseline(summary)).to_json()
    assert d["pressures"]["worker"] == {} and d["pressures"]["broker"] == {}


def test_baseline_storage_growth_counts_against_retained_bytes() -> None:
    # 1 MB retained; grew 10 KB in 60 s -> 10e3 / 60 * 730 * 3600 = 438 MB/month >= 10%
    d = decide(
        inventory(),
        review=review(),
        baseline=baseline({"broker": {"storage_growth_bytes": 10_000, "duration_seconds": 60}}),
    ).to_json()
    growth = d["pressures"]["broker"]["storage_growth"]
    assert growth["value"] == pytest.approx(10_000 / 60 * 730 * 3600)
    assert growth["evidence"] == "evidence/baseline-before.json"
    assert d["path"] == "other-storage-platform"


def test_long_retention_is_more_than_kafkas_default_week() -> None:
    topics = [
        {
            "name": "audit",
            "partitions": 1,
            "replication_factor": 3,
            "configs": {"cleanup.policy": "delete", "retention.ms": str(30 * 86_400_000)},
            "records_retained_approx": 10,
            "size_bytes": 1000,
            "rate_per_second": 0,
        }
    ]
    d = decide(inventory(topics=topics), review=review()).to_json()
    assert d["pressures"]["broker"]["long_retention"]["value"] == 1
    assert "720 h" in d["pressures"]["broker"]["long_retention"]["text"]
    d = decide(inventory(), review=review()).to_json()  # exactly 7 days: not long
    assert "long_retention" not in d["pressures"]["broker"]


def test_every_path_is_listed_with_title_and_what_stays_hard() -> None:
    d = decide(inventory(), review=review(), declared_target={"storage_model": "x"}).to_json()
    assert [p["id"] for p in d["paths"]] == list(PATHS)
    for p in d["paths"]:
        assert p["title"] == PATHS[p["id"]]
        assert p["stays_hard"]
    assert d["declared_target"] == {"storage_model": "x"}
    assert d["schema"] == "connshift.decision/1"
    assert d["based_on"] == ["evidence/inventory.json", "evidence/review.json"]


def test_a_saving_made_of_effort_assumptions_is_no_broker_pressure() -> None:
    def model(storage: str, compute: float, ops: float) -> dict[str, Any]:
        lines = [
            {"id": "broker_compute", "monthly": compute},
            {"id": "broker_storage", "monthly": 10.0},
            {"id": "retained_data", "monthly": 10.0},
            {"id": "inter_zone_replication", "monthly": 0.0},
            {"id": "operations", "monthly": ops},
        ]
        return {"storage_model": storage, "lines": lines, "total": sum(x["monthly"] for x in lines)}

    cost = Source(
        "cost",
        "evidence/cost.json",
        {
            "models": {
                "current": model("shared-nothing", 100, 5000),
                "destination": model("shared-storage", 100, 1000),
            }
        },
    )
    d = decide(inventory(), review=review(), cost=cost).to_json()
    assert "cost_saving" not in d["pressures"]["broker"]
    cost = Source(
        "cost",
        "evidence/cost.json",
        {
            "models": {
                "current": model("shared-nothing", 100, 5000),
                "destination": model("shared-storage", 60, 5000),
            }
        },
    )
    d = decide(inventory(), review=review(), cost=cost).to_json()
    # broker-side 120 -> 80: 33% lower
    assert d["pressures"]["broker"]["cost_saving"]["value"] == 40.0


def test_decide_reads_the_totals_the_baseline_command_records() -> None:
    """The real `baseline` summary (core.baseline.summarize) feeds decide's worker signals."""
    from connshift.core.baseline import summarize
    from connshift.core.decide import worker_signals

    samples = [
        {
            "t": t,
            "connectors": {
                "pg-cdc": {
                    "side": "source",
                    "state": "RUNNING",
                    "tasks_failed": failed,
                    "task_errors": errors,
                    "task_retries": 0,
                }
            },
            "storage_bytes": {"source": 1000 + 10 * t},
        }
        for t, failed, errors in ((0, 0, 0), (5, 2, 3), (10, 1, 7))
    ]
    summary = summarize(samples)
    assert summary["totals"]["task_failures"] == 2
    assert summary["totals"]["task_errors"] == 7
    assert summary["totals"]["storage_growth_bytes"] == 100
    assert summary["totals"]["window_seconds"] == 10
    signals = worker_signals(inventory(), None, baseline(summary))
    assert any("2 task failure(s)" in s.text for s in signals), [s.text for s in signals]
