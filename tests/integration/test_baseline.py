"""`connshift baseline` on the sandbox around a real cutover: sample `before`, cut
files-source over, sample again (the move is not a regression), inject one (pause the
connector on the destination worker), sample `after`, and `baseline compare` names it;
the workers' JMX exporter serves Kafka Connect metrics."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from connshift.app.sandbox import Sandbox
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster

from .conftest import SpecFor
from .helpers import run_cli, run_json, unique_prefix

CONNECTORS = ["shop-cdc", "files-source", "files-sink"]
MOVED = "files-source"


def metrics_url(sandbox: Sandbox, side: str) -> str:
    return f"http://127.0.0.1:{sandbox.ports[f'{side}-connect-metrics']}/metrics"


def write_spec(spec_for: SpecFor, sandbox: Sandbox, prefix: str = "") -> Path:
    return spec_for(
        name="baseline-it",
        include=["app[.].*", "shop[.].*", "files[.].*"],
        prefix=prefix,
        connectors=list(CONNECTORS),
        metrics=(metrics_url(sandbox, "source"), metrics_url(sandbox, "destination")),
    )


def test_jmx_exporter_serves_connect_metrics(sandbox: Sandbox, seeded: object) -> None:
    source = httpx.get(metrics_url(sandbox, "source"), timeout=10).text
    samples = [s for f in text_string_to_metric_families(source) for s in f.samples]
    states = {
        s.labels["connector"]: s.labels["status"]
        for s in samples
        if s.name == "kafka_connect_connector_status" and s.value == 1
    }
    assert set(CONNECTORS) <= set(states)
    names = {s.name for s in samples}
    assert "kafka_connect_task_error_total_record_errors" in names
    assert "kafka_connect_task_error_total_retries" in names
    assert "kafka_connect_worker_connector_count" in names
    assert "debezium_metrics_millisecondsbehindsource" in names
    destination = httpx.get(metrics_url(sandbox, "destination"), timeout=10).text
    dst_names = {f.name for f in text_string_to_metric_families(destination)}
    assert "kafka_connect_worker_connector_count" in dst_names


def test_baseline_around_a_cutover_flags_a_paused_worker_connector(
    sandbox: Sandbox, seeded: object, tmp_path: Path, spec_for: SpecFor
) -> None:
    """before → cutover files-source → after (clean: no connector regression) → pause the
    connector on the destination worker → after → compare names exactly that regression."""
    prefix = unique_prefix("base")
    spec = str(write_spec(spec_for, sandbox, prefix=prefix))
    window = ["--duration", "10s", "--interval", "2s"]
    src_url = f"http://127.0.0.1:{sandbox.ports['source-connect']}"
    dst_url = f"http://127.0.0.1:{sandbox.ports['destination-connect']}"
    with (
        ConnectClient(src_url, name="source") as src,
        ConnectClient(dst_url, name="destination") as dst,
    ):
        for name in CONNECTORS:
            src.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
        run_json("sync", "-c", spec, "--once", timeout=600)
        cut = False
        try:
            before = run_json("baseline", "-c", spec, "--label", "before", *window)
            assert before["schema"] == "connshift.baseline/1"
            assert before["metrics_source"] == {"source": "jmx", "destination": "jmx"}
            assert len(before["samples"]) >= 4
            first = before["samples"][0]
            assert first["connectors"][MOVED]["state"] == "RUNNING"
            assert first["connectors"][MOVED]["side"] == "source"
            assert first["connectors"][MOVED]["task_errors"] is not None
            assert set(first["produce_ms"]) == {"source", "destination"}
            assert set(first["fetch_ms"]) == {"source", "destination"}
            assert first["storage_bytes"]["source"] > 0
            assert "connect-files-sink" in before["summary"]["groups"]

            cut = True
            run_json("cutover", "--force", "-c", spec, MOVED, timeout=600)
            moved = run_json("baseline", "-c", spec, "--label", "moved", *window)
            assert moved["summary"]["connectors"][MOVED]["side"] == "destination"
            assert moved["summary"]["connectors"][MOVED]["state_last"] == "RUNNING"
            clean = run_cli("baseline", "compare", "-c", spec, "--after", "moved", "--json")
            clean_flags = json.loads(clean.stdout)["regressions"]
            # the move itself is not a regression (other metrics, e.g. latency, may be noisy)
            assert not [r for r in clean_flags if r["metric"].startswith("connector.")], clean_flags

            dst.pause(MOVED)  # the injected regression, on the worker that now runs it
            dst.wait_for_state(MOVED, "PAUSED", timeout=60)
            after = run_json("baseline", "-c", spec, "--label", "after", *window)
            assert after["summary"]["connectors"][MOVED]["state_last"] == "PAUSED"

            proc = run_cli("baseline", "compare", "-c", spec, "--json")
            assert proc.returncode == 1, proc.stderr
            result = json.loads(proc.stdout)
            assert result["schema"] == "connshift.baseline-compare/1"
            assert result["ok"] is False
            flagged = {(r["metric"], r["subject"]) for r in result["regressions"]}
            assert ("connector.state", MOVED) in flagged
            others = {s for m, s in flagged if m.startswith("connector.")} - {MOVED}
            assert not others, result["regressions"]
            evidence = tmp_path / "state" / "evidence"
            for kind in ("baseline-before", "baseline-after", "baseline-compare"):
                assert (evidence / f"{kind}.json").is_file()
        finally:
            if cut:
                if dst.exists(MOVED) and dst.status(MOVED).state == "PAUSED":
                    dst.resume(MOVED)
                run_cli("rollback", "-c", spec, MOVED, "--force", timeout=600)
                if dst.exists(MOVED):
                    dst.delete(MOVED)
                if src.status(MOVED).state != "RUNNING":
                    src.resume(MOVED)
            src.wait_for_state(MOVED, "RUNNING", tasks_state="RUNNING", timeout=120)
            copies = KafkaCluster(
                {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['destination-kafka']}"},
                name="destination",
            )
            for topic in copies.topics():
                if topic.startswith(prefix):
                    copies.delete_topic(topic)
    # the canary topics are gone
    for side in ("source", "destination"):
        cluster = KafkaCluster(
            {"bootstrap.servers": f"127.0.0.1:{sandbox.ports[f'{side}-kafka']}"}, name=side
        )
        assert before["canary_topics"][side] not in cluster.topics()
