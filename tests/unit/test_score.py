"""core.score: every scorecard row at 0, 1 and 2 from the artifacts that justify it.

The evidence dicts below follow what the commands record (inventory, probe, review,
plan, validate, check, acls diff, baseline, cost, rehearse); each test gives a row the
least that justifies its level and asserts the level, the reason and the linked files.
The last groups cover app.score: what a parsed spec declares and what the journal says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from connshift.app.score import declared, inputs, journal_facts, run_score
from connshift.core.score import (
    CONNECTOR_ROWS,
    JOURNAL,
    ROWS,
    SCHEMA,
    Declared,
    Inputs,
    JournalFacts,
    Row,
    Scorecard,
    score,
)
from connshift.core.spec import Spec, parse_spec, sandbox_spec_yaml
from connshift.io.evidence import EvidenceStore
from connshift.io.journal import Journal

CDC = "pg-orders"  # Debezium source writing shop.orders
FILE = "file-lines"  # polling file source writing files.lines
SINK = "orders-jdbc"  # JDBC sink reading shop.orders

REHEARSAL_STEPS = (
    "sync",
    "validate",
    "cutover",
    "validate-after-cutover",
    "rollback",
    "validate-after-rollback",
)

#: everything the spec can declare for the scorecard
ALL_DECLARED = Declared(
    criteria=frozenset({"max_lag_records", "max_duplicates", "max_missing", "stop_conditions"}),
    stop_conditions=2,
    rollback_window=True,
    worker_boundary="self-managed",
    storage_model="shared-nothing",
    network="same-network",
    authentication=("SASL_SSL SCRAM-SHA-512", "SASL_SSL SCRAM-SHA-256"),
)


# --------------------------------------------------------------------------- artifacts


def topic(
    name: str, *, rate: float, retention_ms: str = "86400000", **configs: str
) -> dict[str, Any]:
    return {
        "name": name,
        "partitions": 3,
        "replication_factor": 3,
        "configs": {
            "cleanup.policy": "delete",
            "retention.ms": retention_ms,
            "min.insync.replicas": "2",
            **configs,
        },
        "records_retained_approx": 1000,
        "rate_per_second": rate,
        "key_format": {"dominant": "JSON", "mixed": False},
        "value_format": {"dominant": "JSON", "mixed": False},
        "size_bytes": 1_000_000,
    }


def connector(
    name: str,
    cls: str,
    shape: str,
    topics: list[str],
    *,
    state: str = "RUNNING",
    inline_secrets: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "class": cls,
        "type": "sink" if shape == "sink" else "source",
        "shape": shape,
        "plugin_version": "2.7.0",
        "state": state,
        "tasks": [{"id": 0, "state": state, "worker": "connect-1:8083", "trace": None}],
        "topics": topics,
        "inline_secrets": inline_secrets or [],
    }


def inventory(
    *connectors: dict[str, Any], groups: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    if not connectors:
        connectors = (
            connector(
                CDC,
                "io.debezium.connector.postgresql.PostgresConnector",
                "cdc-source",
                ["shop.orders"],
            ),
            connector(
                FILE,
                "org.apache.kafka.connect.file.FileStreamSourceConnector",
                "source",
                ["files.lines"],
            ),
        )
    return {
        "schema": "connshift.inventory/1",
        "cluster": {"cluster_id": "src-1", "brokers": 3},
        "connect_worker": {"version": "3.9.0"},
        "topics": [
            topic("shop.orders", rate=50.0, retention_ms="604800000"),
            topic("files.lines", rate=2.0, retention_ms="3600000"),
            topic("audit.log", rate=0.0, retention_ms="-1"),
        ],
        "connectors": list(connectors),
        "groups": groups if groups is not None else [],
        "acls": [],
    }


def probe(
    statuses: Mapping[str, str] | None = None,
    needed_failures: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A ``probe-destination`` result; ``statuses`` overrides the default all-PASS checks."""
    checks = {
        "topics.auto-create": "PASS",
        "compaction.honoured": "PASS",
        "records.delete": "PASS",
        "logdirs.describe": "PASS",
        "configs.describe-alter": "PASS",
        "message.max-size": "PASS",
        "transactions.commit-abort": "PASS",
        "connect.internal-topics": "PASS",
        **(statuses or {}),
    }
    tally = {s: sum(1 for v in checks.values() if v == s) for s in ("PASS", "FAIL", "SKIP", "INFO")}
    needed = dict(needed_failures or {})
    return {
        "schema": "connshift.probe/1",
        "side": "destination",
        "ok": tally["FAIL"] == 0,
        "tally": tally,
        "checks": [
            {"id": cid, "status": st, "subject": "", "summary": cid, "evidence": {}}
            for cid, st in checks.items()
        ],
        "needs": needed or {"connect.internal-topics": [f"connector {CDC}"]},
        "needed_failures": needed,
    }


def finding(fid: str, severity: str, subject: str) -> dict[str, Any]:
    return {
        "id": fid,
        "severity": severity,
        "subject": subject,
        "finding": f"{fid} on {subject}",
        "fix": "fix it",
        "evidence": {},
    }


def review(*findings: dict[str, Any]) -> dict[str, Any]:
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("high", "medium", "low")}
    return {"schema": "connshift.review/1", "counts": counts, "findings": list(findings)}


def plan(*names: str) -> dict[str, Any]:
    shapes = {
        CDC: ("cdc-source", ["shop.orders"]),
        FILE: ("source", ["files.lines"]),
        SINK: ("sink", ["shop.orders"]),
    }
    names = names or (CDC, FILE)
    return {
        "schema": "connshift.plan/1",
        "connectors": [
            {
                "name": n,
                "class": "x",
                "shape": shapes.get(n, ("source", []))[0],
                "strategy": "resume",
                "topics": shapes.get(n, ("source", []))[1],
                "destination_topics": shapes.get(n, ("source", []))[1],
                "groups": [],
                "steps": [],
                "warnings": [],
            }
            for n in names
        ],
    }


def validate(*failing: str) -> dict[str, Any]:
    checks = [{"id": "stream.copied", "status": "PASS", "subject": "shop.orders[0]"}]
    checks += [{"id": cid, "status": "FAIL", "subject": "shop.orders[1]"} for cid in failing]
    return {"schema": "connshift.validate/1", "ok": not failing, "checks": checks}


def check(
    ok: bool = True, *, permissions: bool | None = True, complete: bool = True
) -> dict[str, Any]:
    """What `connshift check --permissions` records (``permissions=None``: without
    ``--permissions``; False: a permission missing)."""
    out: dict[str, Any] = {
        "schema": "connshift.check/1",
        "ok": ok and permissions is not False,
        "checks": [
            {"side": "source", "service": "kafka", "status": "PASS"},
            {"side": "destination", "service": "connect", "status": "PASS" if ok else "FAIL"},
        ],
    }
    if permissions is not None:
        out["permissions"] = {
            "schema": "connshift.permissions/1",
            "ok": permissions,
            "complete": complete,
            "missing": 0 if permissions else 3,
            "unverified": 0 if complete else 5,
        }
    return out


def acls(missing: int = 0) -> dict[str, Any]:
    """What `connshift acls diff` records (app.acls.AclsResult.to_json)."""
    acl = {
        "principal": "User:billing",
        "host": "*",
        "operation": "READ",
        "permission": "ALLOW",
        "resource_type": "TOPIC",
        "resource_name": "shop.orders",
        "pattern_type": "LITERAL",
    }
    return {
        "schema": "connshift.acls/1",
        "dry_run": False,
        "source_relevant": [acl] * (missing + 1),
        "missing_on_destination": [acl] * missing,
        "present_on_destination": [acl],
        "created": [],
    }


def baseline(label: str) -> dict[str, Any]:
    return {"schema": "connshift.baseline/1", "label": label, "samples": []}


def compare(*regressions: tuple[str, str]) -> dict[str, Any]:
    return {
        "schema": "connshift.baseline-compare/1",
        "ok": not regressions,
        "regressions": [{"metric": m, "subject": s} for m, s in regressions],
    }


def cost(*unowned: str) -> dict[str, Any]:
    return {"schema": "connshift.cost/1", "lines": [], "unowned": list(unowned)}


def rehearsal(name: str, fail_at: str | None = None) -> dict[str, Any]:
    steps = []
    for step in REHEARSAL_STEPS:
        steps.append({"step": step, "ok": step != fail_at, "seconds": 1.5, "summary": step})
        if step == fail_at:
            break
    return {
        "schema": "connshift.rehearsal/1",
        "connector": name,
        "target": "sandbox",
        "ok": fail_at is None,
        "steps": steps,
    }


def full_evidence() -> dict[str, dict[str, Any]]:
    """Every artifact, each in its passing form: every row at 2."""
    return {
        "inventory": inventory(),
        "probe-destination": probe(),
        "review": review(finding("topic.infinite-retention", "low", "audit.log")),
        "plan": plan(),
        "validate": validate(),
        "check": check(),
        "acls": acls(),
        "baseline-before": baseline("before"),
        "baseline-after": baseline("after"),
        "baseline-compare": compare(),
        "cost": cost(),
        f"rehearsal-{CDC}": rehearsal(CDC),
        f"rehearsal-{FILE}": rehearsal(FILE),
    }


# --------------------------------------------------------------------------- helpers


def mk(
    evidence: Mapping[str, Mapping[str, Any]] | None = None,
    declared_: Declared = ALL_DECLARED,
    journal: Mapping[str, JournalFacts] | None = None,
) -> Inputs:
    return Inputs(evidence=dict(evidence or {}), declared=declared_, journal=dict(journal or {}))


def estate_row(i: Inputs, row_id: str) -> Row:
    card = score(i)
    assert_links_exist(card, i)
    return {r.id: r for r in card.estate}[row_id]


def connector_row(i: Inputs, name: str, row_id: str) -> Row:
    card = score(i)
    assert_links_exist(card, i)
    return {r.id: r for r in card.connectors[name]}[row_id]


def assert_links_exist(card: Scorecard, i: Inputs) -> None:
    """Every evidence link names a file the inputs came from: no dangling link."""
    rows = list(card.estate) + [r for rs in card.connectors.values() for r in rs]
    for r in rows:
        for link in r.evidence:
            if link == JOURNAL:
                assert i.journal, f"{r.id} links the journal, which holds nothing"
                continue
            assert link.startswith("evidence/") and link.endswith(".json"), link
            kind = link[len("evidence/") : -len(".json")]
            assert kind in i.evidence, f"{r.id} links {link}, which was not recorded"
        if r.score == 0:
            assert not r.evidence, f"{r.id} at 0 links {r.evidence}"


def ev(*kinds: str) -> tuple[str, ...]:
    return tuple(f"evidence/{k}.json" for k in kinds)


def without(evidence: dict[str, dict[str, Any]], *kinds: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in evidence.items() if k not in kinds}


# --------------------------------------------------------------------------- all or nothing


def test_full_evidence_scores_every_row_2_and_nothing_blocks() -> None:
    i = mk(full_evidence())
    card = score(i)
    assert_links_exist(card, i)
    assert [(r.id, r.score) for r in card.estate] == [(rid, 2) for rid, _ in ROWS]
    assert set(card.connectors) == {CDC, FILE}
    for name, rows in card.connectors.items():
        assert [(r.id, r.score) for r in rows] == [(rid, 2) for rid in CONNECTOR_ROWS], name
    assert card.ok and card.blockers() == []


def test_nothing_recorded_and_nothing_declared_scores_every_estate_row_0() -> None:
    card = score(mk({}, Declared()))
    assert [r.score for r in card.estate] == [0] * len(ROWS)
    assert all(r.evidence == () for r in card.estate)
    assert card.connectors == {}
    assert not card.ok
    assert [b["row"] for b in card.blockers()] == [rid for rid, _ in ROWS]


# --------------------------------------------------------------------------- estate: compatibility


def test_compatibility_0_without_inventory_even_when_probed() -> None:
    r = estate_row(mk({"probe-destination": probe(), "review": review()}), "compatibility")
    assert r.score == 0 and "inventory" in r.why


def test_compatibility_1_inventory_only() -> None:
    r = estate_row(mk({"inventory": inventory()}), "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory"))
    assert "probe" in r.why


def test_compatibility_1_when_the_destination_fails_a_needed_check() -> None:
    needed = {"topics.auto-create": [f"connector {CDC}"]}
    i = mk(
        {
            "inventory": inventory(),
            "probe-destination": probe({"topics.auto-create": "FAIL"}, needed),
            "review": review(),
        }
    )
    r = estate_row(i, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "probe-destination"))
    assert "topics.auto-create" in r.why


def test_compatibility_1_probed_but_plugins_not_reviewed() -> None:
    r = estate_row(mk({"inventory": inventory(), "probe-destination": probe()}), "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "probe-destination"))
    assert "review" in r.why


@pytest.mark.parametrize(
    "fid", ["connector.plugin-missing", "connector.class-missing", "connector.plugin-version-drift"]
)
def test_compatibility_1_on_a_plugin_finding(fid: str) -> None:
    i = mk(
        {
            "inventory": inventory(),
            "probe-destination": probe(),
            "review": review(finding(fid, "high", CDC)),
        }
    )
    r = estate_row(i, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "probe-destination", "review"))
    assert CDC in r.why


def test_compatibility_2_inventory_probe_review_clean() -> None:
    # a non-plugin finding does not hold compatibility back
    i = mk(
        {
            "inventory": inventory(),
            "probe-destination": probe(),
            "review": review(finding("connector.inline-secrets", "medium", CDC)),
        }
    )
    r = estate_row(i, "compatibility")
    assert (r.score, r.evidence) == (2, ev("inventory", "probe-destination", "review"))


# --------------------------------------------------------------------------- estate: offsets


def test_offsets_0_without_plan() -> None:
    r = estate_row(mk({"inventory": inventory(), "validate": validate()}), "offsets")
    assert r.score == 0 and "plan" in r.why


def test_offsets_1_plan_never_validated() -> None:
    r = estate_row(mk({"plan": plan()}), "offsets")
    assert (r.score, r.evidence) == (1, ev("plan"))


def test_offsets_1_when_validate_failed_names_the_failing_checks() -> None:
    r = estate_row(mk({"plan": plan(), "validate": validate("group.translated")}), "offsets")
    assert (r.score, r.evidence) == (1, ev("plan", "validate"))
    assert "group.translated" in r.why and "stream.copied" not in r.why


def test_offsets_2_plan_and_validate_passed() -> None:
    r = estate_row(mk({"plan": plan(), "validate": validate()}), "offsets")
    assert (r.score, r.evidence) == (2, ev("plan", "validate"))


# --------------------------------------------------------------------------- estate: topics


def test_topics_0_without_review() -> None:
    assert estate_row(mk({"inventory": inventory()}), "topics").score == 0


def test_topics_1_on_a_high_topic_finding() -> None:
    high = finding("topic.retention-below-replay-window", "high", "files.lines")
    r = estate_row(mk({"review": review(high)}), "topics")
    assert (r.score, r.evidence) == (1, ev("review"))
    assert "files.lines" in r.why


def test_topics_2_when_only_lower_or_non_topic_findings() -> None:
    i = mk(
        {
            "review": review(
                finding("topic.infinite-retention", "low", "audit.log"),
                finding("topic.min-insync-1", "medium", "files.lines"),
                finding("connector.plugin-missing", "high", CDC),  # not a topic finding
            )
        }
    )
    r = estate_row(i, "topics")
    assert (r.score, r.evidence) == (2, ev("review"))


# --------------------------------------------------------------------------- estate: security


def test_security_0_nothing_about_access() -> None:
    r = estate_row(mk({"inventory": inventory(), "plan": plan()}), "security")
    assert r.score == 0


def test_security_1_check_only_names_the_gaps() -> None:
    r = estate_row(mk({"check": check()}), "security")
    assert (r.score, r.evidence) == (1, ev("check"))
    assert "acls diff" in r.why and "review" in r.why


def test_security_1_when_acls_are_missing_on_the_destination() -> None:
    i = mk({"check": check(), "acls": acls(missing=2), "review": review()})
    r = estate_row(i, "security")
    assert (r.score, r.evidence) == (1, ev("check", "acls", "review"))
    assert "2 ACL(s) missing" in r.why


def test_security_1_when_source_acls_were_not_carried() -> None:
    """A finding carried in another form (literal ACLs for a pattern) is no gap; one that
    left a source ACL behind is."""
    data = acls()
    finding = {"id": "acls.prefixed.renamed", "outcome": "carried as 1 literal ACL(s)"}
    data["findings"] = [finding]
    ok = estate_row(mk({"check": check(), "acls": data, "review": review()}), "security")
    assert ok.score == 2
    data["findings"] = [finding, {"id": "acls.principal.anonymous", "outcome": "not carried"}]
    r = estate_row(mk({"check": check(), "acls": data, "review": review()}), "security")
    assert r.score == 1 and "1 source ACL(s) not carried" in r.why


def test_security_1_when_check_could_not_reach_everything() -> None:
    r = estate_row(mk({"check": check(ok=False), "acls": acls(), "review": review()}), "security")
    assert r.score == 1 and "`connshift check` failed" in r.why


def test_security_1_without_authentication_there_is_nothing_to_carry_over() -> None:
    plain = replace(ALL_DECLARED, authentication=(None, None))
    i = mk({"check": check(), "acls": acls(), "review": review()}, plain)
    r = estate_row(i, "security")
    assert r.score == 1 and "no authentication" in r.why and "nothing to carry over" in r.why


def test_security_1_when_the_destination_is_reached_without_authentication() -> None:
    half = replace(ALL_DECLARED, authentication=("SASL_SSL SCRAM-SHA-512", None))
    i = mk({"check": check(), "acls": acls(), "review": review()}, half)
    r = estate_row(i, "security")
    assert r.score == 1 and "destination is reached without authentication" in r.why


def test_security_1_without_the_permissions_check() -> None:
    i = mk({"check": check(permissions=None), "acls": acls(), "review": review()})
    r = estate_row(i, "security")
    assert r.score == 1 and "check --permissions" in r.why


def test_security_1_when_a_permission_is_missing() -> None:
    i = mk({"check": check(permissions=False), "acls": acls(), "review": review()})
    r = estate_row(i, "security")
    assert r.score == 1 and "a permission" in r.why


def test_security_1_when_permissions_could_not_all_be_verified() -> None:
    i = mk({"check": check(complete=False), "acls": acls(), "review": review()})
    r = estate_row(i, "security")
    assert r.score == 1 and "could not be verified" in r.why


def test_security_1_on_a_high_security_finding() -> None:
    i = mk(
        {
            "check": check(),
            "acls": acls(),
            "review": review(finding("security.sasl-mapping", "high", "clients")),
        }
    )
    r = estate_row(i, "security")
    assert r.score == 1 and "1 high security finding" in r.why


def test_security_2_reached_acls_present_no_high_finding() -> None:
    i = mk(
        {
            "check": check(),
            "acls": acls(),
            "review": review(finding("security.tls-mapping", "medium", "clients")),
        }
    )
    r = estate_row(i, "security")
    assert (r.score, r.evidence) == (2, ev("check", "acls", "review"))
    assert "SASL_SSL SCRAM-SHA-512 / SASL_SSL SCRAM-SHA-256" in r.why


# --------------------------------------------------------------------------- estate: criteria


def test_criteria_0_when_nothing_declared_lists_every_part() -> None:
    r = estate_row(mk(full_evidence(), Declared()), "criteria")
    assert r.score == 0 and r.evidence == ()
    for part in (
        "max_lag_records",
        "max_duplicates",
        "max_missing",
        "stop_conditions",
        "rollback_window_hours",
    ):
        assert part in r.why


def test_criteria_0_lists_only_what_is_missing() -> None:
    partial = Declared(
        criteria=frozenset({"max_lag_seconds", "max_duplicates"}),
        stop_conditions=1,
        rollback_window=True,
    )
    r = estate_row(mk({}, partial), "criteria")
    assert r.score == 0
    assert "max_missing" in r.why
    assert "duplicate" not in r.why and "lag threshold" not in r.why  # lag by seconds counts
    assert "stop conditions" not in r.why and "rollback window" not in r.why


@pytest.mark.parametrize(
    "gap",
    [
        {"stop_conditions": 0},
        {"rollback_window": False},
        {"criteria": frozenset({"max_lag_records", "max_missing"})},
    ],
)
def test_criteria_0_when_one_part_is_missing(gap: dict[str, Any]) -> None:
    fields = {
        "criteria": ALL_DECLARED.criteria,
        "stop_conditions": ALL_DECLARED.stop_conditions,
        "rollback_window": ALL_DECLARED.rollback_window,
        **gap,
    }
    assert estate_row(mk({}, Declared(**fields)), "criteria").score == 0


def test_criteria_1_declared_rollback_never_exercised() -> None:
    i = mk({f"rehearsal-{CDC}": rehearsal(CDC, fail_at="rollback")})
    r = estate_row(i, "criteria")
    assert (r.score, r.evidence) == (1, ())
    assert "rehearse" in r.why


def test_criteria_2_from_a_rehearsed_and_validated_rollback() -> None:
    i = mk(
        {
            f"rehearsal-{CDC}": rehearsal(CDC),
            f"rehearsal-{FILE}": rehearsal(FILE, fail_at="validate-after-rollback"),
        }
    )
    r = estate_row(i, "criteria")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{CDC}"))
    assert CDC in r.why and FILE not in r.why


def test_criteria_2_from_a_journaled_rollback() -> None:
    i = mk({}, journal={CDC: JournalFacts(verified=True, rolled_back=True)})
    r = estate_row(i, "criteria")
    assert (r.score, r.evidence) == (2, (JOURNAL,))
    # a verified cutover alone is not a rollback
    assert estate_row(mk({}, journal={CDC: JournalFacts(verified=True)}), "criteria").score == 1


# --------------------------------------------------------------------------- estate: observability


def test_observability_0_without_baseline() -> None:
    r = estate_row(mk({"cost": cost(), "baseline-compare": compare()}), "observability")
    assert r.score == 0


def test_observability_1_one_baseline_no_compare() -> None:
    r = estate_row(mk({"baseline-before": baseline("before")}), "observability")
    assert (r.score, r.evidence) == (1, ev("baseline-before"))


def test_observability_1_when_compare_found_regressions() -> None:
    i = mk(
        {
            "baseline-before": baseline("before"),
            "baseline-after": baseline("after"),
            "baseline-compare": compare(("task_failures", CDC), ("group_lag", "billing")),
        }
    )
    r = estate_row(i, "observability")
    assert (r.score, r.evidence) == (1, ev("baseline-before", "baseline-after", "baseline-compare"))
    assert "task_failures" in r.why and "billing" in r.why


def test_observability_2_before_after_compared_clean() -> None:
    i = mk(
        {
            "baseline-before": baseline("before"),
            "baseline-after": baseline("after"),
            "baseline-compare": compare(),
        }
    )
    r = estate_row(i, "observability")
    assert (r.score, r.evidence) == (2, ev("baseline-before", "baseline-after", "baseline-compare"))


# --------------------------------------------------------------------------- estate: cost


def test_cost_0_without_cost_lines() -> None:
    assert estate_row(mk({"inventory": inventory()}), "cost").score == 0


def test_cost_1_names_unowned_lines() -> None:
    r = estate_row(mk({"cost": cost("operations", "failure_recovery")}), "cost")
    assert (r.score, r.evidence) == (1, ev("cost"))
    assert "2 without an owner" in r.why and "failure_recovery" in r.why


def test_cost_2_every_line_owned() -> None:
    r = estate_row(mk({"cost": cost()}), "cost")
    assert (r.score, r.evidence) == (2, ev("cost"))


# --------------------------------------------------------------------------- estate: dest.kafka


def test_dest_kafka_0_never_probed() -> None:
    assert estate_row(mk({"inventory": inventory(), "check": check()}), "dest.kafka").score == 0


def test_dest_kafka_1_when_a_needed_check_fails() -> None:
    needed = {"transactions.commit-abort": [f"connector {CDC}"]}
    i = mk({"probe-destination": probe({"transactions.commit-abort": "FAIL"}, needed)})
    r = estate_row(i, "dest.kafka")
    assert (r.score, r.evidence) == (1, ev("probe-destination"))
    assert "transactions.commit-abort" in r.why and "1 FAIL" in r.why


def test_dest_kafka_2_when_only_unneeded_checks_fail() -> None:
    i = mk({"probe-destination": probe({"producers.describe": "FAIL"})})
    r = estate_row(i, "dest.kafka")
    assert (r.score, r.evidence) == (2, ev("probe-destination"))
    assert "1 FAIL" in r.why


def test_a_probe_without_the_inventory_counts_every_failure() -> None:
    """No needs recorded (probe ran without --inventory): a FAIL cannot be waved off."""
    blind = {**probe({"producers.describe": "FAIL"}), "needs": {}}
    i = mk({"probe-destination": blind})
    r = estate_row(i, "dest.kafka")
    assert r.score == 1 and "producers.describe" in r.why
    clean = {**probe(), "needs": {}}
    assert estate_row(mk({"probe-destination": clean}), "dest.kafka").score == 2


# --------------------------------------------------------------------------- estate: dest.workers


def test_dest_workers_0_undeclared_even_after_a_rehearsal() -> None:
    undeclared = Declared(**{**ALL_DECLARED.__dict__, "worker_boundary": None})
    r = estate_row(mk({f"rehearsal-{CDC}": rehearsal(CDC)}, undeclared), "dest.workers")
    assert r.score == 0 and "worker_boundary" in r.why


def test_dest_workers_1_declared_nothing_ran_on_the_destination() -> None:
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="cutover")})
    r = estate_row(i, "dest.workers")
    assert (r.score, r.evidence) == (1, ())
    assert "self-managed" in r.why


def test_dest_workers_2_from_a_rehearsal_cutover() -> None:
    i = mk({"plan": plan(), f"rehearsal-{FILE}": rehearsal(FILE, fail_at="validate-after-cutover")})
    r = estate_row(i, "dest.workers")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{FILE}"))
    assert FILE in r.why


def test_dest_workers_2_from_a_verified_cutover_in_the_journal() -> None:
    i = mk({"plan": plan()}, journal={CDC: JournalFacts(verified=True)})
    r = estate_row(i, "dest.workers")
    assert (r.score, r.evidence) == (2, (JOURNAL,))


def test_dest_workers_2_links_the_journal_not_a_failed_rehearsal() -> None:
    # CDC's rehearsal failed at cutover but a real cutover was verified: the journal
    # is the evidence, not the failed rehearsal
    i = mk(
        {"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="cutover")},
        journal={CDC: JournalFacts(verified=True)},
    )
    r = estate_row(i, "dest.workers")
    assert (r.score, r.evidence) == (2, (JOURNAL,))


# --------------------------------------------------------------------------- estate: dest.storage


def test_dest_storage_0_undeclared_even_when_probed() -> None:
    undeclared = Declared(**{**ALL_DECLARED.__dict__, "storage_model": None})
    r = estate_row(mk({"probe-destination": probe()}, undeclared), "dest.storage")
    assert r.score == 0 and "storage_model" in r.why


def test_dest_storage_1_declared_never_probed() -> None:
    r = estate_row(mk({}), "dest.storage")
    assert (r.score, r.evidence) == (1, ())
    assert "shared-nothing" in r.why


def test_dest_storage_1_when_a_storage_check_fails() -> None:
    i = mk({"probe-destination": probe({"logdirs.describe": "FAIL", "topics.auto-create": "FAIL"})})
    r = estate_row(i, "dest.storage")
    assert (r.score, r.evidence) == (1, ev("probe-destination"))
    assert "logdirs.describe" in r.why and "topics.auto-create" not in r.why


def test_dest_storage_1_when_the_probe_ran_no_storage_check() -> None:
    p = probe()
    p["checks"] = [c for c in p["checks"] if c["id"] == "topics.auto-create"]
    r = estate_row(mk({"probe-destination": p}), "dest.storage")
    assert (r.score, r.evidence) == (1, ev("probe-destination"))


def test_dest_storage_2_storage_checks_pass_a_skipped_compaction_is_no_failure() -> None:
    i = mk(
        {
            "probe-destination": probe(
                {"compaction.honoured": "SKIP", "transactions.commit-abort": "FAIL"}
            )
        }
    )
    r = estate_row(i, "dest.storage")
    assert (r.score, r.evidence) == (2, ev("probe-destination"))


# --------------------------------------------------------------------------- estate: dest.network


def test_dest_network_0_undeclared_even_when_checked() -> None:
    undeclared = Declared(**{**ALL_DECLARED.__dict__, "network": None})
    assert estate_row(mk({"check": check()}, undeclared), "dest.network").score == 0


def test_dest_network_1_declared_never_checked() -> None:
    r = estate_row(mk({}), "dest.network")
    assert (r.score, r.evidence) == (1, ())
    assert "same-network" in r.why


def test_dest_network_1_when_check_failed() -> None:
    r = estate_row(mk({"check": check(ok=False)}), "dest.network")
    assert (r.score, r.evidence) == (1, ev("check"))


def test_dest_network_2_check_passed() -> None:
    r = estate_row(mk({"check": check()}), "dest.network")
    assert (r.score, r.evidence) == (2, ev("check"))


# --------------------------------------------------------------------------- estate: dest.cutover


def test_dest_cutover_0_nothing_planned() -> None:
    # an inventory names connectors, but no plan says how they move
    assert estate_row(mk({"inventory": inventory()}), "dest.cutover").score == 0


def test_dest_cutover_1_planned_never_rehearsed() -> None:
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="sync")})
    r = estate_row(i, "dest.cutover")
    assert (r.score, r.evidence) == (1, ev("plan"))


def test_dest_cutover_2_from_a_rehearsal() -> None:
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC)})
    r = estate_row(i, "dest.cutover")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{CDC}"))
    assert CDC in r.why


def test_dest_cutover_2_from_journal_and_rehearsal_links_both() -> None:
    i = mk(
        {
            "plan": plan(),
            f"rehearsal-{CDC}": rehearsal(CDC),
            f"rehearsal-{FILE}": rehearsal(FILE, fail_at="cutover"),
        },
        journal={FILE: JournalFacts(verified=True)},
    )
    r = estate_row(i, "dest.cutover")
    assert r.score == 2
    assert r.evidence == (*ev(f"rehearsal-{CDC}"), JOURNAL)  # FILE's failed rehearsal is no proof


# --------------------------------------------------------------------------- connector rows


def test_connectors_in_scope_plan_first_then_inventory_plus_rehearsed() -> None:
    assert score(mk({"inventory": inventory(), "plan": plan(FILE)})).connectors.keys() == {FILE}
    assert score(mk({"inventory": inventory()})).connectors.keys() == {CDC, FILE}
    i = mk({"plan": plan(FILE), f"rehearsal-{SINK}": rehearsal(SINK)})
    assert list(score(i).connectors) == [FILE, SINK]


def test_connector_compatibility_0_1_2() -> None:
    # in the plan but not the inventory: unknown
    i = mk({"plan": plan(CDC, SINK), "inventory": inventory()})
    assert connector_row(i, SINK, "compatibility").score == 0
    r = connector_row(i, CDC, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory"))
    # reviewed: the plugin finding holds back its own connector only
    i = mk(
        {
            "inventory": inventory(),
            "review": review(finding("connector.plugin-missing", "high", CDC)),
            "probe-destination": probe(),
        }
    )
    r = connector_row(i, CDC, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "review"))
    assert f"connector.plugin-missing on {CDC}" in r.why
    r = connector_row(i, FILE, "compatibility")
    assert (r.score, r.evidence) == (2, ev("inventory", "review", "probe-destination"))


def test_connector_compatibility_1_reviewed_never_probed() -> None:
    r = connector_row(mk({"inventory": inventory(), "review": review()}), FILE, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "review"))
    assert "probed" in r.why


def test_connector_compatibility_1_on_a_check_it_needs_as_the_probe_names_it() -> None:
    # probe.connector_needs names a connector "connector <name>" and a topic "topic <name>"
    needed = {"topics.auto-create": [f"connector {CDC}"]}
    i = mk(
        {
            "inventory": inventory(),
            "review": review(),
            "probe-destination": probe({"topics.auto-create": "FAIL"}, needed),
        }
    )
    r = connector_row(i, CDC, "compatibility")
    assert (r.score, r.evidence) == (1, ev("inventory", "review", "probe-destination"))
    assert "topics.auto-create" in r.why
    assert connector_row(i, FILE, "compatibility").score == 2


def test_connector_compatibility_1_on_a_check_its_topic_needs() -> None:
    needed = {"compaction.honoured": ["topic files.lines"]}
    i = mk(
        {
            "inventory": inventory(),
            "review": review(),
            "probe-destination": probe({"compaction.honoured": "SKIP"}, needed),
        }
    )
    assert connector_row(i, FILE, "compatibility").score == 1
    assert connector_row(i, CDC, "compatibility").score == 2


def test_connector_offsets_0_1_2_from_rehearsal() -> None:
    i = mk({"plan": plan(FILE), f"rehearsal-{CDC}": rehearsal(CDC)})
    r = connector_row(i, CDC, "offsets")  # rehearsed, but not in the plan
    assert r.score == 0 and "plan" in r.why
    r = connector_row(i, FILE, "offsets")
    assert (r.score, r.evidence) == (1, ev("plan"))
    assert "resume" in r.why
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="rollback")})
    r = connector_row(i, CDC, "offsets")  # validated after cutover: the rollback is another row
    assert (r.score, r.evidence) == (2, ev("plan", f"rehearsal-{CDC}"))
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="validate-after-cutover")})
    assert connector_row(i, CDC, "offsets").score == 1


def test_connector_offsets_2_from_verified_cutover_and_validate() -> None:
    verified = {CDC: JournalFacts(verified=True)}
    r = connector_row(
        mk({"plan": plan(), "validate": validate()}, journal=verified), CDC, "offsets"
    )
    assert (r.score, r.evidence) == (2, (*ev("plan"), JOURNAL, *ev("validate")))
    # a failed validate, or none, leaves it at 1
    i = mk({"plan": plan(), "validate": validate("stream.diff")}, journal=verified)
    assert connector_row(i, CDC, "offsets").score == 1
    assert connector_row(mk({"plan": plan()}, journal=verified), CDC, "offsets").score == 1


def test_connector_topics_0_1_2() -> None:
    i = mk({"inventory": inventory()})
    assert connector_row(i, CDC, "topics").score == 0
    high = finding("topic.compaction-without-keys", "high", "shop.orders")
    i = mk({"inventory": inventory(), "review": review(high)})
    r = connector_row(i, CDC, "topics")
    assert (r.score, r.evidence) == (1, ev("review"))
    assert "shop.orders" in r.why
    r = connector_row(i, FILE, "topics")  # the finding is not on its topics
    assert (r.score, r.evidence) == (2, ev("review"))


def test_connector_topics_from_the_plan_when_not_inventoried() -> None:
    high = finding("topic.retention-below-replay-window", "high", "shop.orders")
    i = mk({"plan": plan(SINK), "review": review(high)})
    assert connector_row(i, SINK, "topics").score == 1


def test_connector_criteria_0_1_2_only_its_own_rollback_counts() -> None:
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC)})
    r = connector_row(i, CDC, "criteria")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{CDC}"))
    assert connector_row(i, FILE, "criteria").score == 1
    i = mk({"plan": plan()}, journal={FILE: JournalFacts(rolled_back=True)})
    assert connector_row(i, FILE, "criteria").evidence == (JOURNAL,)
    assert connector_row(i, FILE, "criteria").score == 2
    assert connector_row(i, CDC, "criteria").score == 1
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC)}, Declared())
    assert connector_row(i, CDC, "criteria").score == 0


def test_connector_dest_workers_0_1_2() -> None:
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC)})
    r = connector_row(i, CDC, "dest.workers")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{CDC}"))
    assert connector_row(i, FILE, "dest.workers").score == 1
    undeclared = Declared(**{**ALL_DECLARED.__dict__, "worker_boundary": None})
    i = mk({"plan": plan(), f"rehearsal-{CDC}": rehearsal(CDC)}, undeclared)
    assert connector_row(i, CDC, "dest.workers").score == 0


def test_connector_dest_cutover_0_1_2() -> None:
    i = mk({"inventory": inventory(), "plan": plan(FILE), f"rehearsal-{CDC}": rehearsal(CDC)})
    # CDC was rehearsed: 2 though the recorded plan leaves it out
    r = connector_row(i, CDC, "dest.cutover")
    assert (r.score, r.evidence) == (2, ev(f"rehearsal-{CDC}"))
    r = connector_row(i, FILE, "dest.cutover")
    assert (r.score, r.evidence) == (1, ev("plan"))
    i = mk({"plan": plan(FILE), f"rehearsal-{CDC}": rehearsal(CDC, fail_at="cutover")})
    r = connector_row(i, CDC, "dest.cutover")
    assert r.score == 0 and CDC in r.why
    i = mk({"plan": plan()}, journal={FILE: JournalFacts(verified=True)})
    r = connector_row(i, FILE, "dest.cutover")
    assert (r.score, r.evidence) == (2, (JOURNAL,))


# --------------------------------------------------------------------------- blockers, ok, JSON


def test_blockers_and_blockers_for() -> None:
    evidence = without(full_evidence(), "cost", f"rehearsal-{FILE}")
    # FILE is planned but not inventoried: its compatibility row is at 0
    evidence["inventory"] = inventory(
        connector(
            CDC, "io.debezium.connector.postgresql.PostgresConnector", "cdc-source", ["shop.orders"]
        )
    )
    card = score(mk(evidence))
    assert not card.ok
    assert card.blockers() == [
        {"scope": "estate", "row": "cost", "why": card.estate[6].why},
        {"scope": FILE, "row": "compatibility", "why": card.connectors[FILE][0].why},
    ]
    assert [b["row"] for b in card.blockers_for(CDC)] == ["cost"]
    assert [(b["scope"], b["row"]) for b in card.blockers_for(FILE)] == [
        ("estate", "cost"),
        (FILE, "compatibility"),
    ]
    # a connector row at 1 does not block
    assert all(r.score > 0 for r in card.connectors[CDC])


def test_a_row_at_1_never_blocks() -> None:
    evidence = full_evidence()
    evidence["cost"] = cost("operations")
    evidence["validate"] = validate("stream.diff")
    card = score(mk(evidence))
    assert card.ok and card.blockers() == []
    assert {r.id: r.score for r in card.estate}["cost"] == 1


def test_json_shape() -> None:
    evidence = without(full_evidence(), "baseline-before", "baseline-after", "baseline-compare")
    data = score(mk(evidence)).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["schema"] == SCHEMA == "connshift.score/1"
    assert set(data) == {"schema", "ok", "blockers", "estate", "connectors", "pilots"}
    assert data["ok"] is False
    assert data["blockers"] == [
        {"scope": "estate", "row": "observability", "why": data["estate"]["rows"][5]["why"]}
    ]
    rows = data["estate"]["rows"]
    assert [r["id"] for r in rows] == [rid for rid, _ in ROWS]
    assert [r["title"] for r in rows] == [title for _, title in ROWS]
    for r in rows:
        assert set(r) == {"id", "title", "score", "why", "evidence"}
        assert r["score"] in (0, 1, 2) and isinstance(r["evidence"], list) and r["why"]
    assert rows[0]["evidence"] == [
        "evidence/inventory.json",
        "evidence/probe-destination.json",
        "evidence/review.json",
    ]
    assert set(data["connectors"]) == {CDC, FILE}
    for c in data["connectors"].values():
        assert [r["id"] for r in c["rows"]] == list(CONNECTOR_ROWS)
    for p in data["pilots"]:
        assert set(p) == {"connector", "shape", "why"}


# --------------------------------------------------------------------------- pilots


def test_no_pilots_without_connectors() -> None:
    assert score(mk({})).pilots == []
    empty = inventory()
    empty["connectors"] = []
    card = score(mk({"inventory": empty, "plan": {"schema": "connshift.plan/1", "connectors": []}}))
    assert card.connectors == {} and card.pilots == [] and card.to_json()["pilots"] == []


def test_first_pilot_is_the_best_understood_not_the_first_name() -> None:
    # FILE sorts after CDC by name; its rollback is rehearsed and a consumer group reads it
    groups = [{"group": "lines-reader", "committed": {"files.lines[0]": 10}}]
    inv = inventory(
        connector(
            CDC, "io.debezium.connector.postgresql.PostgresConnector", "cdc-source", ["shop.orders"]
        ),
        connector(
            FILE,
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "source",
            ["files.lines"],
        ),
        groups=groups,
    )
    card = score(mk({"inventory": inv, "plan": plan(), f"rehearsal-{FILE}": rehearsal(FILE)}))
    first = card.pilots[0]
    assert first.connector == FILE
    assert "rollback rehearsed" in first.why and "lines-reader" in first.why
    # the other one is of another shape (CDC, with a high-throughput, long-retention topic)
    assert [p.connector for p in card.pilots] == [FILE, CDC]
    assert card.pilots[1].shape.split(", ")[0] == "cdc-source"
    assert "cdc-source" in card.pilots[1].why


def test_second_pilot_skips_a_connector_of_the_same_shape() -> None:
    cls = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    inv = inventory(
        connector("a-src", cls, "source", ["files.lines"]),
        connector("b-src", cls, "source", ["files.lines"]),
        connector(
            "z-sink",
            "io.confluent.connect.jdbc.JdbcSinkConnector",
            "sink",
            ["files.lines"],
            state="FAILED",
        ),
    )
    inv["topics"] = [topic("files.lines", rate=2.0, retention_ms="3600000")]
    card = score(mk({"inventory": inv}))
    ranked = [p.connector for p in card.pilots]
    assert ranked[0] in ("a-src", "b-src")
    assert ranked[1:] == ["z-sink"]  # the least understood, but the only other shape
    assert card.pilots[1].shape == "sink"


def test_one_pilot_when_every_connector_has_the_same_shape() -> None:
    cls = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    inv = inventory(connector("a-src", cls, "source", []), connector("b-src", cls, "source", []))
    assert [p.connector for p in score(mk({"inventory": inv})).pilots] == ["a-src"]


def test_inline_secrets_make_a_connector_less_understood() -> None:
    cls = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    inv = inventory(
        connector("a-src", cls, "source", [], inline_secrets=["file.password"]),
        connector("b-src", cls, "source", []),
    )
    first = score(mk({"inventory": inv})).pilots[0]
    assert first.connector == "b-src"


def test_high_throughput_source_is_a_different_shape() -> None:
    cls = "org.apache.kafka.connect.file.FileStreamSourceConnector"
    groups = [{"group": "slow-reader", "committed": {"files.lines[0]": 1}}]
    inv = inventory(
        connector("fast-src", cls, "source", ["shop.orders"]),  # the busiest topic
        connector("slow-src", cls, "source", ["files.lines"]),
        groups=groups,
    )
    card = score(mk({"inventory": inv}))
    assert [p.connector for p in card.pilots] == ["slow-src", "fast-src"]
    assert "high-throughput source" in card.pilots[1].shape
    assert "long-retention topic" in card.pilots[1].shape  # shop.orders keeps 7 days


# --------------------------------------------------------------------------- app: declared


def no_files(path: str) -> str:
    raise AssertionError(f"unexpected file read: {path}")


def spec_of(tmp_path: Path, **sections: Any) -> Spec:
    tree = {
        "version": 1,
        "name": "unit",
        "source": {"kafka": {"bootstrap_servers": "src:9092"}},
        "destination": {"kafka": {"bootstrap_servers": "dst:9092"}},
        "state_dir": str(tmp_path / "state"),
        **sections,
    }
    return parse_spec(tree, env={}, read_file=no_files, base_dir=str(tmp_path))


def test_declared_defaults_declare_nothing(tmp_path: Path) -> None:
    spec = spec_of(tmp_path)
    assert spec.cutover.rollback_window_hours > 0  # a default exists ...
    assert declared(spec) == Declared()  # ... but is no declaration
    r = estate_row(mk({}, declared(spec)), "criteria")
    assert r.score == 0 and "rollback window" in r.why


def test_declared_counts_explicit_values_even_zero_and_equal_to_default(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        cutover={"rollback_window_hours": 24},  # the default value, written out
        readiness={
            "criteria": {
                "max_lag_records": None,  # explicit null is no threshold
                "max_lag_seconds": 30,
                "max_duplicates": 0,
                "max_missing": 0,
                "stop_conditions": ["  ", "a destination task FAILED after resume"],
            },
            "target": {"worker_boundary": "staged", "network": "private-link"},
        },
    )
    d = declared(spec)
    assert {"max_lag_seconds", "max_duplicates", "max_missing"} <= d.criteria
    assert "max_lag_records" not in d.criteria
    assert d.stop_conditions == 1
    assert d.rollback_window is True
    assert (d.worker_boundary, d.storage_model, d.network) == ("staged", None, "private-link")
    card = score(mk({}, d))
    rows = {r.id: r for r in card.estate}
    assert rows["criteria"].score == 1
    assert rows["dest.workers"].score == 1 and "staged" in rows["dest.workers"].why
    assert rows["dest.storage"].score == 0
    assert rows["dest.network"].score == 1


def test_declared_blank_stop_conditions_do_not_count(tmp_path: Path) -> None:
    spec = spec_of(
        tmp_path,
        cutover={"rollback_window_hours": 4},
        readiness={
            "criteria": {
                "max_lag_records": 100,
                "max_duplicates": 0,
                "max_missing": 0,
                "stop_conditions": [" "],
            }
        },
    )
    d = declared(spec)
    assert d.stop_conditions == 0
    assert estate_row(mk({}, d), "criteria").score == 0


def test_the_sandbox_spec_declares_every_row(tmp_path: Path) -> None:
    import yaml

    tree = yaml.safe_load(sandbox_spec_yaml(state_dir=str(tmp_path / "state")))
    d = declared(parse_spec(tree, env={}, read_file=no_files))
    assert d.rollback_window is True
    assert {"max_lag_records", "max_lag_seconds", "max_duplicates", "max_missing"} <= d.criteria
    assert d.stop_conditions == 2
    assert (d.worker_boundary, d.storage_model, d.network) == (
        "self-managed",
        "shared-nothing",
        "same-network",
    )
    rows = {r.id: r.score for r in score(mk({}, d)).estate}
    assert [rows[k] for k in ("criteria", "dest.workers", "dest.storage", "dest.network")] == [
        1
    ] * 4


# --------------------------------------------------------------------------- app: journal facts


def test_journal_facts_without_a_journal(tmp_path: Path) -> None:
    assert journal_facts(tmp_path) == {}
    assert not (tmp_path / "journal.db").exists()  # reading created nothing


def test_journal_facts_from_a_real_journal(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.db") as j:
        # verified: every step through verify done
        for step in ("preflight", "stop-source", "catch-up", "resume", "verify"):
            j.record("verified", 1, "cutover", step, "started")
            j.record("verified", 1, "cutover", step, "done")
        # verify started and failed: not verified
        j.record("failed-verify", 1, "cutover", "verify", "started")
        j.record("failed-verify", 1, "cutover", "verify", "failed", error="gap")
        # a rollback that reached resume-source
        j.record("rolled", 1, "cutover", "verify", "done")
        for step in ("stop-destination", "delete-destination", "resume-source", "rolled-back"):
            j.record("rolled", 1, "rollback", step, "done")
        # a rollback that stopped before resume-source finished
        j.record("half-rolled", 1, "rollback", "stop-destination", "done")
        j.record("half-rolled", 1, "rollback", "resume-source", "started")
        # forced past the scorecard
        j.record("forced", 1, "gate", "scorecard", "forced", {"blockers": [{"row": "cost"}]})
    facts = journal_facts(tmp_path)
    assert facts == {
        "verified": JournalFacts(verified=True),
        "failed-verify": JournalFacts(),
        "rolled": JournalFacts(verified=True, rolled_back=True),
        "half-rolled": JournalFacts(),
        "forced": JournalFacts(forced=True),
    }


def test_inputs_and_run_score_read_evidence_and_journal(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, readiness={"target": {"worker_boundary": "self-managed"}})
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    store.record("plan", plan(CDC))
    store.record("score", {"schema": SCHEMA, "ok": True})  # an old scorecard is no input
    with Journal(Path(spec.state_dir) / "journal.db") as j:
        j.record(CDC, 1, "cutover", "verify", "done")
    i = inputs(spec)
    assert set(i.evidence) == {"plan"}
    assert i.journal[CDC].verified
    card = run_score(spec)
    assert {r.id: r.score for r in card.connectors[CDC]}["dest.cutover"] == 2
    assert {r.id: r.score for r in card.connectors[CDC]}["dest.workers"] == 2
    recorded = store.load("score")
    assert recorded is not None
    assert recorded.data["ok"] is False
    assert recorded.data["connectors"][CDC]["rows"][5]["evidence"] == [JOURNAL]


def test_a_connector_reaching_a_remote_host_is_a_private_network_shape() -> None:
    from connshift.core.score import private_endpoints

    assert private_endpoints({"database.hostname": "pg.internal", "topic": "x"}) == [
        "database.hostname=pg.internal"
    ]
    assert private_endpoints({"connection.url": "jdbc:postgresql://db.corp:5432/app"}) == [
        "connection.url=db.corp:5432"
    ]
    assert private_endpoints({"database.hostname": "127.0.0.1", "url": "http://localhost:1"}) == []
    assert private_endpoints({"database.hostname": "${file:/s.properties:host}"}) == []
