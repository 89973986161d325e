"""core.evidence: each typed evidence object reads what the commands record, and reads an
older or partial file (missing fields, older shapes, values of the wrong type) the way the
scorecard and the report always have: as "not known", never as an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connshift.core import evidence as E
from connshift.core.evidence import (
    Acls,
    Baseline,
    BaselineCompare,
    Check,
    CheckStatus,
    ConsumerGroup,
    Cost,
    Decision,
    EvidenceSet,
    Finding,
    Inventory,
    InventoryTopic,
    Plan,
    Probe,
    Reachability,
    RecordedScore,
    Rehearsal,
    Review,
    Severity,
    Step,
    Sync,
    Validate,
)
from connshift.core.report import render, summary
from connshift.core.report.views import ReportMeta
from connshift.core.score import Declared, Inputs, score

DATA = Path(__file__).parent / "data" / "evidence"
META = ReportMeta(spec_name="shop", generated_at="2026-11-26T10:00:00+00:00", version="0.1.0")

#: every kind's typed object, and a kind it may be read as
KINDS: list[tuple[Any, str]] = [
    (Inventory, "inventory"),
    (Plan, "plan"),
    (Review, "review"),
    (Validate, "validate"),
    (Reachability, "check"),
    (Acls, "acls"),
    (Cost, "cost"),
    (Decision, "decision"),
    (RecordedScore, "score"),
    (Sync, "sync"),
    (BaselineCompare, "baseline-compare"),
    (Probe, "probe-destination"),
    (Baseline, "baseline-before"),
    (Rehearsal, "rehearsal-x"),
]
GARBAGE: list[Any] = [None, "x", 7, True, [], [None, 1, "y"], {"a": {"b": None}}]


def fixture_evidence() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}


def parse(cls: Any, data: Any, kind: str) -> Any:
    if cls in (Probe, Baseline, Rehearsal):
        return cls.from_json(data, kind)
    return cls.from_json(data)


# --------------------------------------------------------------------------- every kind


@pytest.mark.parametrize(("cls", "kind"), KINDS, ids=[k for _, k in KINDS])
def test_an_empty_file_reads_as_nothing_known(cls: Any, kind: str) -> None:
    found = parse(cls, {}, kind)
    assert isinstance(found, cls)
    assert found.recorded_at == ""


@pytest.mark.parametrize(("cls", "kind"), KINDS, ids=[k for _, k in KINDS])
def test_a_file_of_the_wrong_shape_never_raises(cls: Any, kind: str) -> None:
    base = fixture_evidence().get(kind) or {"schema": "x", "ok": True, "connectors": [{}]}
    for key in list(base):
        for value in GARBAGE:
            assert isinstance(parse(cls, {**base, key: value}, kind), cls)
    for value in GARBAGE:  # not even an object
        assert isinstance(parse(cls, value, kind), cls)


def test_the_envelope_gives_recorded_at() -> None:
    data = {"ok": True, "evidence": {"kind": "check", "recorded_at": "2026-01-01T00:00:00+00:00"}}
    assert Reachability.from_json(data) == Reachability(True, "2026-01-01T00:00:00+00:00")
    assert Reachability.from_json({"ok": True, "evidence": "x"}).recorded_at == ""


# --------------------------------------------------------------------------- checks, probe


def test_a_check_keeps_an_unknown_status_as_written_and_a_missing_id_as_none() -> None:
    assert Check.from_json({"id": "a", "status": "FAIL"}).status is CheckStatus.FAIL
    odd = Check.from_json({"status": "fail"})
    assert (odd.id, odd.status, odd.failed, odd.subject) == (None, "fail", False, "")
    assert Check.from_json({}).status is None


def test_validate_tally_is_as_recorded_and_non_objects_are_no_checks() -> None:
    v = Validate.from_json({"ok": True, "checks": [{"id": "a", "status": "PASS"}, "x", {}, None]})
    assert (v.ok, v.tally, [c.id for c in v.checks]) == (True, {}, ["a"])
    assert Validate.from_json({"ok": "yes", "tally": {"PASS": "3"}}).tally == {"PASS": 3}
    assert Validate.from_json({"ok": "yes"}).ok is None


def test_a_probe_without_needs_relies_on_every_failed_check() -> None:
    checks = [{"id": "a", "status": "FAIL"}, {"id": "b", "status": "PASS"}, {"status": "FAIL"}]
    p = Probe.from_json({"checks": checks}, "probe-destination")
    assert p.side == "destination" and not p.knows_needs
    assert p.relied_failures() == {
        "a": ["(probe ran without --inventory)"],
        "None": ["(probe ran without --inventory)"],
    }
    assert p.count(CheckStatus.FAIL) is None  # no tally recorded: the scorecard says "?"


def test_a_probe_with_needs_relies_on_its_needed_failures_only() -> None:
    p = Probe.from_json(
        {
            "side": "destination",
            "checks": [{"id": "a", "status": "FAIL"}, {"id": "b", "status": "FAIL"}],
            "tally": {"FAIL": 2},
            "needs": {"a": ["connector x"]},
            "needed_failures": {"a": ["connector x", "topic t"], "c": "not a list"},
        },
        "probe-elsewhere",
    )
    assert p.relied_failures() == {"a": ["connector x", "topic t"], "c": []}
    assert p.count(CheckStatus.FAIL) == 2 and p.count(CheckStatus.PASS) is None
    assert Probe.from_json({}, "probe-source").side == "source"


# --------------------------------------------------------------------------- review


def test_a_finding_keeps_severity_case_and_missing_fields_as_none() -> None:
    assert Finding.from_json({"severity": "high"}).high
    loud = Finding.from_json({"id": "topic.x", "severity": "HIGH", "subject": "t"})
    assert (loud.severity, loud.high) == ("HIGH", False)  # the scorecard compares exactly
    assert Finding.from_json({"severity": "low"}).severity is Severity.LOW
    bare = Finding.from_json({})
    assert (bare.id, bare.severity, bare.subject, bare.finding, bare.fix) == (
        None,
        None,
        None,
        None,
        "",
    )
    r = Review.from_json({"findings": [{"id": "a"}, {}, "x"], "counts": None})
    assert [f.id for f in r.findings] == ["a"] and r.counts == {}


# --------------------------------------------------------------------------- inventory, plan


def test_inventory_reads_counts_or_lists_and_older_group_names() -> None:
    inv = Inventory.from_json(
        {
            "cluster": {"cluster_id": "c", "brokers": [{"id": 1}, {"id": 2}]},
            "connectors": [
                {"name": "a", "tasks": [{"state": "RUNNING"}, "junk"], "config": "x"},
                {},
            ],
            "topics": [{"name": "t", "configs": {"retention.ms": "-1"}}, "junk"],
            "groups": [
                {"name": "old", "members": 3, "lag": {"t[0]": 2, "t[1]": None}},
                {"group": "new", "members": ["m1"], "committed": {"t[0]": 5}},
            ],
        }
    )
    assert inv.brokers == 2 and Inventory.from_json({"cluster": {"brokers": 3}}).brokers == 3
    (a,) = inv.connectors
    assert (a.name, a.cls, a.state, a.task_states, a.config) == (
        "a",
        None,
        None,
        ("RUNNING", None),
        {},
    )
    assert [t.name for t in inv.topics] == ["t", None]  # a junk topic still counts
    assert inv.topics[0].retention_ms == -1
    old, new = inv.groups
    assert (old.group, old.label, old.members, old.lag) == (None, "old", 3, 2)
    assert (new.label, new.members, new.reads({"t"}), new.reads({"u"})) == ("new", 1, True, False)
    assert inv.connector("a") is a and inv.connector("zz") is None


@pytest.mark.parametrize(
    ("retention", "ms"),
    [("604800000", 604800000), (604800000, 604800000), ("-1", -1), ("", None), (None, None)],
)
def test_a_topic_retention_is_a_whole_number_or_unknown(retention: Any, ms: int | None) -> None:
    assert InventoryTopic.from_json({"configs": {"retention.ms": retention}}).retention_ms == ms
    assert InventoryTopic.from_json({"configs": "x"}).retention_ms is None


def test_a_group_lag_is_a_number_or_summed_per_partition() -> None:
    assert ConsumerGroup.from_json({"lag": 5}).lag == 5
    assert ConsumerGroup.from_json({"lag": {}}).lag == 0
    assert ConsumerGroup.from_json({"lag": {"p": None}}).lag is None
    assert ConsumerGroup.from_json({}).label == "?"


def test_plan_connectors_keep_a_missing_strategy_as_none() -> None:
    plan = Plan.from_json({"connectors": [{"name": "a", "topics": ["t"]}, "junk", {}]})
    (a,) = plan.connectors
    assert (a.strategy, a.topics, a.shape) == (None, ("t",), None)
    assert plan.connector("a") is a and Plan.from_json({}).connector("a") is None


# --------------------------------------------------------------------------- acls


@pytest.mark.parametrize(
    "data",
    [
        {"missing_on_destination": [1, 2]},
        {"missing_on_destination": [], "diff": {"missing": [1, 2]}},
        {"diff": "x", "missing": [1, 2]},
    ],
)
def test_acls_missing_in_each_recorded_shape(data: dict[str, Any]) -> None:
    assert len(Acls.from_json(data).missing) == 2


def test_acls_with_nothing_missing_and_a_malformed_list() -> None:
    assert Acls.from_json({"missing_on_destination": []}).missing == ()
    assert len(Acls.from_json({"missing_on_destination": "x"}).missing) == 1


# --------------------------------------------------------------------------- rehearsal


def test_a_rehearsal_is_named_by_its_file_when_it_does_not_say() -> None:
    r = Rehearsal.from_json({"steps": [{"step": "cutover", "ok": True}]}, "rehearsal-pg")
    assert r.connector == "pg" and r.passed("cutover") and not r.passed("rollback")
    assert Rehearsal.from_json({"connector": "a.b"}, "rehearsal-a_b").connector == "a.b"


def test_an_older_step_with_an_id_is_labelled_but_never_counts_as_the_step() -> None:
    s = Step.from_json({"id": "cutover", "ok": True})
    assert (s.name, s.label) == (None, "cutover")
    r = Rehearsal.from_json({"steps": [{"id": "cutover", "ok": True}]}, "rehearsal-x")
    assert not r.passed("cutover")
    assert Step.from_json({}).label == "?"
    assert not Rehearsal.from_json({"steps": [{"step": "cutover"}]}).passed("cutover")


# --------------------------------------------------------------------------- baseline


def test_a_baseline_is_labelled_by_its_file_and_reads_flat_connector_states() -> None:
    b = Baseline.from_json(
        {"samples": [{"connector_states": {"a": "RUNNING", "b": {"state": "FAILED"}}}, "x"]},
        "baseline-after",
    )
    assert b.label == "after" and b.samples == 2
    assert b.last_states == {"a": "RUNNING", "b": "FAILED"}
    assert b.total_lag == [] and b.task_failures == []


def test_a_compare_keeps_ok_as_recorded_and_missing_regression_fields_as_none() -> None:
    c = BaselineCompare.from_json({"regressions": [{"metric": "m"}, {}, "x"]})
    assert c.ok is None and (c.before, c.after) == ("before", "after")
    (r,) = c.regressions
    assert (r.metric, r.subject, r.before, r.after) == ("m", None, "null", "null")


# --------------------------------------------------------------------------- sync, cost


def test_sync_reads_older_source_next_and_drops_partitions_without_a_topic() -> None:
    s = Sync.from_json(
        {
            "partitions": [
                {"topic": "t", "copied_this_run": 4},
                {"topic": "t", "source_next": 9, "contiguous": False},
                {"topic": "u"},
                {"copied_this_run": 1},
            ]
        }
    )
    assert [(p.topic, p.dst_topic, p.copied, p.contiguous) for p in s.partitions] == [
        ("t", "t", 4, True),
        ("t", "t", 9, False),
        ("u", "u", 0, True),
    ]
    assert (s.records, s.seconds, s.records_per_second) == (None, None, None)


def test_cost_reads_a_difference_as_a_number_or_an_object() -> None:
    assert Cost.from_json({"difference": 12.5}).difference == 12.5
    c = Cost.from_json({"difference": {"monthly": -3, "percent": -10}})
    assert (c.difference, c.percent) == (-3, -10)
    assert Cost.from_json({}).currency == "USD"


def test_cost_unowned_as_recorded_and_derived_from_flagged_lines() -> None:
    lines = [{"id": "a", "monthly": 1.0, "owner": "ops"}, {"id": "b", "monthly": 2.0}]
    c = Cost.from_json({"models": {"destination": {"lines": lines}, "current": {}}})
    assert [m.key for m in c.models] == ["current", "destination"]
    assert c.unowned == ["b"] and c.recorded_unowned == ()  # the scorecard counts recorded ones
    dst = c.model("destination")
    assert dst is not None and dst.total == 3.0
    d = Cost.from_json({"unowned": [{"id": "x"}, "y"]})
    assert d.unowned == ["x", "y"] and d.recorded_unowned == ("x", "y")


# --------------------------------------------------------------------------- decision, score


def test_a_decision_path_as_an_object_and_reasons_as_bare_sentences() -> None:
    d = Decision.from_json(
        {
            "path": {"id": "staged"},
            "paths": [
                {"id": "staged", "reasons": ["plain", {"text": "t", "evidence": "evidence/a.json"}]}
            ],
        }
    )
    assert d.path == "staged"
    plain, cited = d.paths[0].reasons
    assert (plain.text, plain.evidence) == ("plain", ())
    assert cited.evidence == ("evidence/a.json",)
    assert d.paths[0].title == "staged"


def test_evidence_paths_in_every_shape() -> None:
    assert E.evidence_paths("evidence/a.json") == ("evidence/a.json",)
    assert E.evidence_paths([{"path": "p"}, {"kind": "k"}, {"kind": ""}, "", 7]) == (
        "p",
        "evidence/k.json",
        "7",
    )
    assert E.evidence_paths(None) == ()


def test_a_recorded_score_with_connectors_as_a_list_and_no_blockers() -> None:
    s = RecordedScore.from_json(
        {
            "estate": [{"id": "cost", "score": 0}],
            "connectors": [{"connector": "a", "rows": [{"id": "topics", "score": 7}]}],
        }
    )
    assert s.blockers is None  # the report derives them
    assert [(r.id, r.score) for r in s.estate] == [("cost", 0)]
    assert s.connectors["a"][0].score is None  # neither 0, 1 nor 2
    assert RecordedScore.from_json({"blockers": []}).blockers == ()


# --------------------------------------------------------------------------- the set


def test_the_set_drops_non_objects_and_knows_an_empty_file_from_a_missing_one() -> None:
    ev = EvidenceSet.from_json(
        {"inventory": {}, "plan": ["x"], "rehearsal-b": {}, "rehearsal-a": {}}
    )
    assert ev.kinds() == ["inventory", "rehearsal-b", "rehearsal-a"]
    assert "plan" not in ev and ev.plan is None
    assert ev.inventory is not None and not ev.recorded("inventory")
    assert list(ev.rehearsals) == ["rehearsal-b", "rehearsal-a"]  # recorded order
    assert EvidenceSet.from_json(ev) is ev
    assert ev.inventory is ev.inventory  # parsed once


def test_score_and_report_read_the_set_as_they_read_the_files() -> None:
    raw = fixture_evidence()
    ev = EvidenceSet.from_json(raw)
    i = Inputs(evidence=ev, declared=Declared(worker_boundary="self-managed"))
    assert set(i.evidence) == set(raw)
    assert score(i).to_json() == score(Inputs(evidence=raw, declared=i.declared)).to_json()
    for fmt in ("html", "md", "json"):
        assert render(ev, META, fmt) == render(raw, META, fmt)
    assert summary(ev, META) == summary(raw, META)


def test_an_empty_file_scores_as_no_file() -> None:
    with_empty = score(Inputs(evidence={"inventory": {}, "review": {}, "cost": {}}))
    without = score(Inputs(evidence={}))
    assert with_empty.to_json() == without.to_json()
