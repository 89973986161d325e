"""`make demo` end to end on the sandbox: from inventory to the HTML report.

Marked ``disruptive``: it runs after the other tests (tests/conftest.py orders them), since
it moves the seeded connectors. The demo leaves shop-cdc and files-sink cut over to the
destination; the test seeds the sandbox again afterwards, which brings them back to the
source (and checks that it does), so any later test finds the estate as seeded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult, seed

from .helpers import run_cli


@pytest.mark.disruptive
def test_demo_runs_the_whole_journey_and_ends_with_the_report(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        _demo(tmp_path)
    finally:
        restored = seed(sandbox)
    assert restored.connectors == {
        "shop-cdc": "RUNNING",
        "files-source": "RUNNING",
        "files-sink": "RUNNING",
    }, restored.connectors


def _demo(tmp_path: Path) -> None:
    proc = run_cli("demo", "--json", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    summary = "\n".join(result["summary"])
    # it starts by knowing the estate (issue 6) ...
    assert "inventory:" in summary and "probe of the destination:" in summary
    assert "review:" in summary
    # ... gathers the evidence the scorecard gates the cutover on (issue 7) ...
    for kind in ("plan", "rehearse files-source", "baseline before", "cost:", "decide:", "score:"):
        assert kind in summary, kind
    assert "exactly once, 0 missing, 0 twice" in summary
    # ... and ends with the scorecard and the report
    assert "14. score after the move: nothing blocks" in summary, summary
    report = Path(result["summary"][-1].rsplit(": ", 1)[1])
    assert report.is_file() and report.suffix == ".html"
    html = report.read_text()
    assert "Scorecard" in html or "scorecard" in html
    evidence = tmp_path / ".connshift" / "evidence"
    for kind in (
        "check",
        "inventory",
        "probe-destination",
        "review",
        "sync",
        "acls",
        "validate",
        "plan",
        "rehearsal-files-source",
        "baseline-before",
        "baseline-after",
        "baseline-compare",
        "cost",
        "decision",
        "score",
    ):
        assert (evidence / f"{kind}.json").is_file(), kind
    score = json.loads((evidence / "score.json").read_text())
    assert score["ok"] and not score["blockers"]
    rehearsal = json.loads((evidence / "rehearsal-files-source.json").read_text())
    assert rehearsal["ok"], rehearsal
