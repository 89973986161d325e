"""Readiness on the real sandbox: a rehearsal lifts the rows it tests to 2, and cutover
refuses to run while a row is at 0 (``--force`` overrides and is journaled)."""

from __future__ import annotations

import json
from pathlib import Path

from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.core.spec import sandbox_spec_yaml
from connshift.io.connect import ConnectClient
from connshift.io.journal import Journal

from .helpers import run_cli, run_json


def _spec(sandbox: Sandbox, tmp_path: Path, *, declared: bool = True) -> Path:
    p = sandbox.ports
    text = sandbox_spec_yaml(
        source_kafka=f"127.0.0.1:{p['source-kafka']}",
        source_connect=f"http://127.0.0.1:{p['source-connect']}",
        dest_kafka=f"127.0.0.1:{p['destination-kafka']}",
        dest_connect=f"http://127.0.0.1:{p['destination-connect']}",
        state_dir=str(tmp_path / "state"),
    )
    # nothing new arrives in the rehearsal's verify window: keep it short
    text = text.replace("cutover:\n", "cutover:\n  verify_timeout_seconds: 2\n", 1)
    if not declared:
        text = text.split("readiness:")[0] + f"state_dir: '{tmp_path / 'state'}'\n"
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def _rows(data: dict, scope: str) -> dict[str, int]:
    rows = data["estate"]["rows"] if scope == "estate" else data["connectors"][scope]["rows"]
    return {r["id"]: r["score"] for r in rows}


def test_a_rehearsal_lifts_the_rows_it_tests_to_2(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    spec = _spec(sandbox, tmp_path)
    run_json("plan", "-c", str(spec), "files-source")
    before = run_cli("score", "-c", str(spec), "--json")
    assert before.returncode == 1  # no inventory, probe, baseline, cost yet

    rows = _rows(json.loads(before.stdout), "files-source")
    assert rows["offsets"] == 1 and rows["dest.cutover"] == 1
    assert rows["criteria"] == 1 and rows["dest.workers"] == 1

    rehearsal = run_json("rehearse", "-c", str(spec), "files-source")
    assert rehearsal["ok"], rehearsal
    assert [s["step"] for s in rehearsal["steps"]] == [
        "sync",
        "validate",
        "cutover",
        "validate-after-cutover",
        "rollback",
        "validate-after-rollback",
    ]
    assert (tmp_path / "state" / "evidence" / "rehearsal-files-source.json").exists()
    # the connector is back where it was, and the rehearsal left no copy behind
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['source-connect']}") as src:
        assert src.status("files-source").state == "RUNNING"
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['destination-connect']}") as dst:
        assert "files-source" not in dst.connectors()
    assert rehearsal["cleanup"]["dropped_topics"] == ["rehearsal-files-source.files.access-log"]

    after = run_cli("score", "-c", str(spec), "--json")
    lifted = _rows(json.loads(after.stdout), "files-source")
    for row in ("offsets", "criteria", "dest.workers", "dest.cutover"):
        assert lifted[row] == 2, (row, lifted)
    estate = _rows(json.loads(after.stdout), "estate")
    assert estate["criteria"] == 2 and estate["dest.cutover"] == 2
    assert estate["observability"] == 0  # nothing the rehearsal tested stays as it was


def test_cutover_is_refused_while_a_row_is_0_and_force_is_journaled(
    sandbox: Sandbox, seeded: SeedResult, tmp_path: Path
) -> None:
    spec = _spec(sandbox, tmp_path, declared=False)
    refused = run_cli("cutover", "-c", str(spec), "files-source")
    assert refused.returncode == 1, refused.stderr
    lines = [ln for ln in refused.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in refused.stderr
    assert "readiness scorecard blocks the cutover of files-source" in lines[0]
    assert "--force" in lines[0]
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['source-connect']}") as src:
        assert src.status("files-source").state == "RUNNING"
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['destination-connect']}") as dst:
        assert "files-source" not in dst.connectors()
        # --force passes the gate (journaled), then the preflight refuses: the connector
        # already exists on the destination, so nothing moves
        dst.create(
            "files-source",
            {"connector.class": "FileStreamSource", "file": "/dev/null", "topic": "x"},
            initial_state="STOPPED",
        )
        try:
            forced = run_cli("cutover", "-c", str(spec), "files-source", "--force")
            assert forced.returncode == 1
            assert "already exists on the destination" in forced.stderr
        finally:
            dst.delete("files-source")
    status = run_json("status", "-c", str(spec))
    kinds = [(e["kind"], e["status"]) for e in status["connectors"]["files-source"]["entries"]]
    assert kinds[0] == ("gate", "forced")
    with Journal(tmp_path / "state" / "journal.db") as journal:
        gate = [e for e in journal.entries("files-source") if e.kind == "gate"]
    assert {b["row"] for b in gate[0].data["blockers"]} >= {"criteria", "dest.workers"}
