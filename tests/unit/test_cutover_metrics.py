"""cutover/rollback --metrics-port: the Mover's step hook and the metrics it feeds."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from connshift.app.cutover import CutoverRefused
from connshift.io.metrics import cutover_metrics, start_cutover_metrics

from .test_cutover_unit import Worker, cdc_plan, close, make_mover


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_step_hook_sets_duration_state_and_count() -> None:
    m = cutover_metrics()
    m.on_step("pg", "cutover", "stop-source", "started", None)
    labels = {"connector": "pg", "kind": "cutover", "step": "stop-source"}
    assert value(m.registry, "connshift_cutover_step_state", **labels, state="started") == 1
    assert value(m.registry, "connshift_cutover_step_seconds", **labels) is None
    m.on_step("pg", "cutover", "stop-source", "done", 1.25)
    assert value(m.registry, "connshift_cutover_step_state", **labels, state="started") == 0
    assert value(m.registry, "connshift_cutover_step_state", **labels, state="done") == 1
    assert value(m.registry, "connshift_cutover_step_seconds", **labels) == 1.25
    assert value(m.registry, "connshift_cutover_steps_total", **labels, status="done") == 1


def test_mover_reports_a_failed_step_to_the_hook(tmp_path: Path) -> None:
    calls: list[tuple[str, str, str, str, float | None]] = []
    mover = make_mover(tmp_path, src=Worker("3.4.0"), on_step=lambda *a: calls.append(a))
    try:
        with pytest.raises(CutoverRefused):
            mover.cutover([cdc_plan()])
    finally:
        close(mover)
    assert [c[:4] for c in calls] == [
        ("pg", "cutover", "preflight", "started"),
        ("pg", "cutover", "preflight", "failed"),
    ]
    assert calls[0][4] is None
    seconds = calls[1][4]
    assert seconds is not None and seconds >= 0


def test_cutover_metrics_are_served_over_http() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    m = start_cutover_metrics(port)
    m.on_step("files-sink", "rollback", "resume-source", "done", 0.5)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert (
        'connshift_cutover_step_seconds{connector="files-sink",kind="rollback",'
        'step="resume-source"} 0.5' in body
    )
    assert generate_latest(m.registry).decode() in body
