"""``connshift cost`` and ``connshift decide`` end to end on a fake evidence directory:
evidence in, evidence out, profile precedence, refusals; no service is reached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from connshift.app.config import parse_spec_text
from connshift.app.cost import default_profile_text, load_profile, parse_profile, run_cost
from connshift.app.decide import run_decide
from connshift.cli import main as cli
from connshift.core.cost import LINE_IDS, PricingProfile
from connshift.core.spec import Spec
from connshift.errors import ConfigError, ExitCode, UsageError
from connshift.io.evidence import EvidenceStore
from tests.unit.test_cost import SMALL_PROFILE, small_inventory

SPEC = """\
version: 1
name: shop
source:
  kafka:
    bootstrap_servers: 127.0.0.1:1
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:2
state_dir: state
readiness:
  target:
    storage_model: shared-storage
    worker_boundary: self-managed
  cost:
{cost}
"""


def write_spec(tmp_path: Path, cost: str = "    owners: {broker_compute: platform}") -> Path:
    path = tmp_path / "connshift.yaml"
    path.write_text(SPEC.format(cost=cost))
    return path


def spec_at(path: Path) -> Spec:
    return parse_spec_text(path.read_text(), origin=str(path), base_dir=path.parent)


def record(tmp_path: Path, kind: str, data: dict[str, Any]) -> None:
    EvidenceStore(tmp_path / "state", spec_name="shop").record(kind, data)


@pytest.fixture(autouse=True)
def _cli_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli.STATE, "debug", False)
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.run(list(argv))
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


# --------------------------------------------------------------------------- the shipped profile


def test_shipped_profile_validates_and_every_figure_cites_its_source() -> None:
    profile = parse_profile(default_profile_text(), "default.yaml")
    sources = profile.sources()
    assert len(sources) == len(PricingProfile.model_fields["prices"].annotation.model_fields) + len(
        PricingProfile.model_fields["assumptions"].annotation.model_fields
    )
    for key, source in sources.items():
        if key.startswith("prices.") and key != "prices.engineer_hour":
            assert "https://aws.amazon.com/" in source, key
        else:
            assert "assumption" in source.lower() or "AWS" in source, key
    assert profile.prices.inter_zone_gb_each_way.value == 0.01
    assert profile.prices.internet_egress_gb.value == 0.09


def test_profile_errors_name_the_key(tmp_path: Path) -> None:
    tree = yaml.safe_load(default_profile_text())
    tree["prices"]["broker_instance_hour"]["cost"] = 1
    with pytest.raises(ConfigError) as info:
        parse_profile(yaml.safe_dump(tree), "mine.yaml")
    assert "mine.yaml: prices.broker_instance_hour.cost: unknown key" in info.value.what
    tree = yaml.safe_load(default_profile_text())
    tree["assumptions"]["disk_max_utilisation"]["value"] = 2
    with pytest.raises(ConfigError) as info:
        parse_profile(yaml.safe_dump(tree), "mine.yaml")
    assert "assumptions" in info.value.what and "disk_max_utilisation" in info.value.what
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_profile("a: [", "bad.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        parse_profile("- 1", "list.yaml")


def test_profile_precedence_flag_then_spec_then_default(tmp_path: Path) -> None:
    (tmp_path / "spec-profile.yaml").write_text(SMALL_PROFILE.replace("name: small", "name: s"))
    (tmp_path / "flag-profile.yaml").write_text(SMALL_PROFILE.replace("name: small", "name: f"))
    plain = spec_at(write_spec(tmp_path))
    assert load_profile(plain)[0].name == "aws-us-east-1-on-demand"
    with_profile = spec_at(write_spec(tmp_path, "    profile: spec-profile.yaml\n    owners: {}"))
    assert load_profile(with_profile)[0].name == "s"  # relative to the spec's folder
    assert load_profile(with_profile, tmp_path / "flag-profile.yaml")[0].name == "f"
    with pytest.raises(ConfigError, match="cannot read the pricing profile"):
        load_profile(with_profile, tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- cost


def test_cost_refuses_without_inventory_evidence(tmp_path: Path) -> None:
    spec = spec_at(write_spec(tmp_path))
    with pytest.raises(UsageError) as info:
        run_cost(spec)
    assert "run `connshift inventory` first" in info.value.one_line()
    assert info.value.exit_code == ExitCode.USAGE


def test_cost_reads_inventory_evidence_and_records_cost_evidence(tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "    profile: small.yaml\n    owners: {operations: sre}")
    (tmp_path / "small.yaml").write_text(SMALL_PROFILE)
    record(tmp_path, "inventory", small_inventory())
    data = run_cost(spec_at(spec_path))
    assert data["models"]["current"]["total"] == pytest.approx(2706.69)
    assert data["unowned"] == [i for i in LINE_IDS if i != "operations"]
    assert data["profile"]["path"] == str(tmp_path / "small.yaml")
    stored = EvidenceStore(tmp_path / "state").load("cost")
    assert stored is not None
    assert stored.data["schema"] == "connshift.cost/1"
    assert stored.data["evidence"]["kind"] == "cost"
    assert stored.data["models"] == data["models"]
    assert stored.data["based_on"] == ["evidence/inventory.json"]
    assert set(data) >= {"currency", "profile", "inputs", "models", "unowned", "difference"}


def test_cost_cli_json_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = write_spec(tmp_path)
    record(tmp_path, "inventory", small_inventory())
    code, out, _ = invoke(capsys, "cost", "-c", str(spec_path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["profile"]["name"] == "aws-us-east-1-on-demand"
    assert [line["id"] for line in data["models"]["destination"]["lines"]] == list(LINE_IDS)
    (tmp_path / "small.yaml").write_text(SMALL_PROFILE)
    code, out, _ = invoke(capsys, "cost", "-c", str(spec_path), "--profile", "small.yaml")
    assert code == 0
    assert "Broker compute" in out and "brokers * broker_instance_hour" in out
    assert "no owner" in out and "2,706.69 EUR" in out


def test_cost_cli_without_inventory_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke(capsys, "cost", "-c", str(write_spec(tmp_path)))
    assert code == 2
    assert len(err.splitlines()) == 1 and "connshift inventory" in err
    assert out == ""


# --------------------------------------------------------------------------- decide


def test_decide_reads_all_evidence_and_records_a_decision(tmp_path: Path) -> None:
    spec = spec_at(write_spec(tmp_path))
    inv = small_inventory()
    record(tmp_path, "inventory", inv)
    record(
        tmp_path,
        "review",
        {"findings": [{"id": "connector.plugin-missing", "subject": "sink", "severity": "high"}]},
    )
    record(tmp_path, "baseline-after", {"summary": {"task_restarts": 1}})
    data = run_decide(spec)
    # plugins: missing 1 + 1 = 2; ops: 1 FAILED task (1) + 1 restart (1) = 2; broker:
    # events kept forever, growing 25,000 B/s * 730 h = 65.7 GB/month >= 50 GB: 2
    assert {p["id"]: p["fit"] for p in data["paths"]} == {
        "move-workers": 6,
        "managed-connect": 2,
        "other-storage-platform": 4,
    }
    assert data["path"] == "move-workers"
    assert data["declared_target"]["storage_model"] == "shared-storage"
    assert data["based_on"] == [
        "evidence/inventory.json",
        "evidence/review.json",
        "evidence/baseline-after.json",
    ]
    stored = EvidenceStore(tmp_path / "state").load("decision")
    assert stored is not None and stored.data["schema"] == "connshift.decision/1"
    assert stored.data["path"] == "move-workers"
    assert stored.data["based_on"] == data["based_on"]  # not taken over by the envelope


def test_decide_prefers_the_before_baseline(tmp_path: Path) -> None:
    spec = spec_at(write_spec(tmp_path))
    record(tmp_path, "inventory", small_inventory())
    record(tmp_path, "baseline-before", {"summary": {"task_restarts": 5}})
    record(tmp_path, "baseline-after", {"summary": {"task_restarts": 1}})
    data = run_decide(spec)
    assert data["pressures"]["worker"]["baseline_restarts"]["value"] == 5


def test_decide_uses_cost_evidence_from_cost(tmp_path: Path) -> None:
    spec = spec_at(write_spec(tmp_path))
    record(tmp_path, "inventory", small_inventory())
    run_cost(spec)
    data = run_decide(spec)
    assert "evidence/cost.json" in data["based_on"]
    assert not any("no cost evidence" in t for t in data["thin_evidence"])


def test_decide_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = write_spec(tmp_path)
    code, _, err = invoke(capsys, "decide", "-c", str(spec_path))
    assert code == 2 and "run `connshift inventory` first" in err
    record(tmp_path, "inventory", small_inventory())
    code, out, _ = invoke(capsys, "decide", "-c", str(spec_path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["confidence"] == "low"  # no review: thin evidence
    code, out, _ = invoke(capsys, "decide", "-c", str(spec_path))
    assert code == 0
    assert "move-workers" in out and "confidence" in out and "thin:" in out
