"""The one evidence-recording policy: a state directory that cannot be written costs the
evidence, never the command's result — exit code and output unchanged, ``--json`` still one
JSON document on stdout, and exactly one warning line on stderr.

"Unwritable" is made portably (tests may run as root, where chmod does not stop a write):
the evidence file's path is taken by a directory, so the atomic rename onto it fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connshift.app.config import parse_spec_text
from connshift.cli import main as cli
from connshift.io.evidence import EvidenceStore, try_record_evidence
from tests.unit.test_cost import small_inventory

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
"""


@pytest.fixture(autouse=True)
def _cli_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli.STATE, "debug", False)
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("COLUMNS", "60")  # narrow: the warning must still be one line
    monkeypatch.chdir(tmp_path)


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.run(list(argv))
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


def write_spec(tmp_path: Path) -> Path:
    path = tmp_path / "connshift.yaml"
    path.write_text(SPEC)
    return path


def block(tmp_path: Path, kind: str) -> None:
    """Make ``kind`` evidence unwritable: a directory where its file would go."""
    (tmp_path / "state" / "evidence" / f"{kind}.json").mkdir(parents=True)


def record(tmp_path: Path, kind: str, data: dict[str, Any]) -> None:
    EvidenceStore(tmp_path / "state", spec_name="shop").record(kind, data)


def the_warning(err: str, kind: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one warning line, got {lines!r}"
    assert lines[0].startswith(f"warning: could not record {kind} evidence in ")
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- the function


def test_try_record_evidence_warns_once_and_keeps_the_data(tmp_path: Path) -> None:
    spec = parse_spec_text(SPEC, origin="t.yaml", base_dir=tmp_path)
    block(tmp_path, "check")
    data = {"ok": True}
    warnings: list[str] = []
    assert try_record_evidence(spec, "check", data, warn=warnings.append) is None
    assert data == {"ok": True}
    assert len(warnings) == 1 and warnings[0].startswith("could not record check evidence in ")


def test_try_record_evidence_default_warning_is_one_stderr_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = parse_spec_text(SPEC, origin="t.yaml", base_dir=tmp_path)
    block(tmp_path, "check")
    assert try_record_evidence(spec, "check", {"ok": True}) is None
    out, err = capsys.readouterr()
    assert out == ""
    the_warning(err, "check")


def test_try_record_evidence_writes_when_it_can(tmp_path: Path) -> None:
    spec = parse_spec_text(SPEC, origin="t.yaml", base_dir=tmp_path)
    warnings: list[str] = []
    path = try_record_evidence(spec, "check", {"ok": True}, warn=warnings.append)
    assert path is not None and json.loads(path.read_text())["ok"] is True
    assert warnings == []


# --------------------------------------------------------------------------- the commands


@pytest.mark.parametrize("as_json", [True, False])
def test_cost_with_unwritable_evidence_still_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    spec = write_spec(tmp_path)
    record(tmp_path, "inventory", small_inventory())
    block(tmp_path, "cost")
    code, out, err = invoke(capsys, "cost", "-c", str(spec), *(["--json"] if as_json else []))
    assert code == 0
    the_warning(err, "cost")
    if as_json:
        data = json.loads(out)
        assert "evidence_warning" not in data
        assert data["models"]["destination"]["total"] > 0
    else:
        assert "destination - current" in out


@pytest.mark.parametrize("as_json", [True, False])
def test_decide_with_unwritable_evidence_still_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    spec = write_spec(tmp_path)
    record(tmp_path, "inventory", small_inventory())
    block(tmp_path, "decision")
    code, out, err = invoke(capsys, "decide", "-c", str(spec), *(["--json"] if as_json else []))
    assert code == 0
    the_warning(err, "decision")
    if as_json:
        data = json.loads(out)
        assert "evidence_warning" not in data
        assert {p["id"] for p in data["paths"]} >= {"move-workers"}
    else:
        assert "confidence" in out


@pytest.mark.parametrize("as_json", [True, False])
def test_cli_recorded_evidence_unwritable_keeps_the_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    """Evidence recorded by the command module itself (``baseline compare``)."""
    spec = write_spec(tmp_path)
    for label in ("before", "after"):
        record(tmp_path, f"baseline-{label}", {"label": label, "summary": {}})
    block(tmp_path, "baseline-compare")
    argv = ["baseline", "compare", "-c", str(spec), *(["--json"] if as_json else [])]
    code, out, err = invoke(capsys, *argv)
    assert code == 0
    the_warning(err, "baseline-compare")
    if as_json:
        assert json.loads(out)["ok"] is True
    else:
        assert "no regression from before to after" in out
