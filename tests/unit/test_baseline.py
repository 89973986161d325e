"""The baseline's pure logic: exporter text, aggregation, and each regression rule firing
and not firing; the CLI's two invocations (`baseline --label`, `baseline compare`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connshift.core import baseline as core
from connshift.core.baseline import Tolerances, compare, parse_duration, summarize
from connshift.errors import UsageError

EXPORTER_TEXT = """\
# HELP kafka_connect_connector_status Kafka Connect connector state
# TYPE kafka_connect_connector_status gauge
kafka_connect_connector_status{connector="files-source",status="running"} 1.0
kafka_connect_connector_status{connector="shop-cdc",status="paused"} 1.0
# TYPE kafka_connect_connector_task_status gauge
kafka_connect_connector_task_status{connector="files-source",status="running",task="0"} 1.0
# TYPE kafka_connect_task_error_total_record_errors gauge
kafka_connect_task_error_total_record_errors{connector="files-source",task="0"} 2.0
kafka_connect_task_error_total_record_errors{connector="files-source",task="1"} 3.0
# TYPE kafka_connect_task_error_total_record_failures gauge
kafka_connect_task_error_total_record_failures{connector="files-source",task="0"} 1.0
# TYPE kafka_connect_task_error_total_retries gauge
kafka_connect_task_error_total_retries{connector="files-source",task="0"} 4.0
# TYPE debezium_metrics_millisecondsbehindsource gauge
debezium_metrics_millisecondsbehindsource{context="streaming",plugin="postgres",server="shop"} 250.0
debezium_metrics_millisecondsbehindsource{context="streaming",plugin="postgres",server="idle"} -1.0
# TYPE kafka_connect_worker_task_startup_failure gauge
kafka_connect_worker_task_startup_failure 0.0
# TYPE kafka_connect_worker_connector_count gauge
kafka_connect_worker_connector_count 2.0
"""


def test_parse_exporter_text_reads_states_counts_and_source_lag() -> None:
    r = core.parse_exporter_text(EXPORTER_TEXT)
    assert r.states == {"files-source": "RUNNING", "shop-cdc": "PAUSED"}
    assert r.task_states == {"files-source": {"0": "RUNNING"}}
    assert r.errors == {"files-source": 6.0}  # errors of both tasks + failures
    assert r.retries == {"files-source": 4.0}
    assert r.behind_ms == {"shop": 250.0}  # -1 (nothing streamed yet) is not a lag
    assert r.worker["connector_count"] == 2.0
    assert r.worker["task_startup_failure"] == 0.0


def test_parse_exporter_text_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        core.parse_exporter_text("this is { not prometheus\n")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("90", 90.0), ("500ms", 0.5), ("2.5s", 2.5)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "0", "-3s", "0s"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert core.percentile(values, 50) == 50.0
    assert core.percentile(values, 99) == 99.0
    assert core.percentile([7.0], 99) == 7.0
    assert core.percentile([], 50) is None


def test_pick_live_prefers_running_then_destination() -> None:
    running_src = {"source": {"state": "RUNNING"}, "destination": {"state": "STOPPED"}}
    assert core.pick_live(running_src)[0] == "source"
    moved = {"source": {"state": "STOPPED"}, "destination": {"state": "RUNNING"}}
    assert core.pick_live(moved)[0] == "destination"
    both = {"source": {"state": "RUNNING"}, "destination": {"state": "RUNNING"}}
    assert core.pick_live(both)[0] == "destination"


def test_pick_group_prefers_the_side_with_members() -> None:
    moved = {"source": {"members": 0, "lag": 50}, "destination": {"members": 1, "lag": 0}}
    assert core.pick_group(moved)[0] == "destination"
    idle = {"source": {"members": 0}, "destination": {"members": 0}}
    assert core.pick_group(idle)[0] == "source"


# ---------------------------------------------------------------------------- samples


def conn(
    state: str = "RUNNING",
    *,
    side: str = "source",
    tasks: int = 1,
    running: int | None = None,
    failed: int = 0,
    errors: float | None = 0.0,
    retries: float | None = 0.0,
) -> dict[str, Any]:
    return {
        "side": side,
        "state": state,
        "tasks": tasks,
        "tasks_running": tasks if running is None else running,
        "tasks_failed": failed,
        "task_errors": errors,
        "task_retries": retries,
    }


def sample(t: float, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "t": t,
        "connectors": {"files-source": conn()},
        "group_lag": {"billing": 10},
        "groups": {"billing": "Stable"},
        "group_members": {"billing": 1},
        "group_sides": {"billing": "source"},
        "source_lag_ms": {"shop-cdc": 100.0},
        "storage_bytes": {"source": 1000, "destination": 10},
        "produce_ms": {"source": 2.0},
        "fetch_ms": {"source": 3.0},
    }
    base.update(over)
    return base


def window(n: int = 5, **over: Any) -> dict[str, Any]:
    return summarize([sample(float(i * 5), **over) for i in range(n)])


def test_summarize_aggregates_each_series() -> None:
    samples = [
        sample(0, group_lag={"billing": 10}, produce_ms={"source": 1.0}),
        sample(5, group_lag={"billing": 30}, produce_ms={"source": 9.0}),
        sample(
            10, group_lag={"billing": 20}, produce_ms={"source": 2.0}, groups={"billing": "Empty"}
        ),
    ]
    s = summarize(samples)
    assert s["samples"] == 3
    assert s["group_lag"]["billing"] == {
        "n": 3,
        "last": 20.0,
        "max": 30.0,
        "p50": 20.0,
        "p99": 30.0,
    }
    assert s["produce_ms"]["source"]["p99"] == 9.0
    assert s["produce_ms"]["source"]["p50"] == 2.0
    assert s["groups"]["billing"]["states"] == ["Stable", "Empty"]
    assert s["groups"]["billing"]["stable_samples"] == 2
    assert s["groups"]["billing"]["last"] == "Empty"
    assert s["storage_bytes"]["source"]["last"] == 1000.0
    c = s["connectors"]["files-source"]
    assert c["state_last"] == "RUNNING" and c["samples"] == 3


def test_summarize_counter_increase_counts_a_reset_from_zero() -> None:
    errs = [5.0, 7.0, 1.0, 2.0]  # a task restart resets the counter
    samples = [sample(i, connectors={"c": conn(errors=e)}) for i, e in enumerate(errs)]
    c = summarize(samples)["connectors"]["c"]
    assert c["task_errors_last"] == 2.0
    assert c["task_errors_increase"] == 2.0 + 1.0 + 1.0


def test_summarize_without_metrics_keeps_counts_unknown() -> None:
    s = summarize([sample(0, connectors={"c": conn(errors=None, retries=None)})])
    assert s["connectors"]["c"]["task_errors_last"] is None
    assert s["connectors"]["c"]["task_retries_increase"] is None


# ---------------------------------------------------------------------------- rules


def metrics(regs: list[core.Regression]) -> set[tuple[str, str]]:
    return {(r.metric, r.subject) for r in regs}


def test_identical_windows_have_no_regression() -> None:
    assert compare(window(), window()) == []


def test_connector_running_before_and_paused_after_is_a_regression() -> None:
    after = window(connectors={"files-source": conn("PAUSED", running=0)})
    regs = compare(window(), after)
    assert ("connector.state", "files-source") in metrics(regs)
    reg = next(r for r in regs if r.metric == "connector.state")
    assert reg.before == "RUNNING" and reg.after == "PAUSED"


def test_connector_gone_after_is_a_regression() -> None:
    regs = compare(window(), window(connectors={}))
    assert ("connector.state", "files-source") in metrics(regs)


def test_connector_moved_to_the_destination_and_running_is_not_a_regression() -> None:
    after = window(connectors={"files-source": conn(side="destination")})
    assert compare(window(), after) == []


def test_connector_not_running_before_is_not_held_against_after() -> None:
    before = window(connectors={"files-source": conn("PAUSED", running=0)})
    after = window(connectors={"files-source": conn("PAUSED", running=0)})
    assert compare(before, after) == []


def test_fewer_running_tasks_is_a_regression() -> None:
    before = window(connectors={"c": conn(tasks=2)})
    after = window(connectors={"c": conn(tasks=2, running=1)})
    assert metrics(compare(before, after)) == {("connector.tasks", "c")}


def test_failed_task_after_is_a_regression() -> None:
    after = window(connectors={"files-source": conn(failed=1)})
    assert ("connector.tasks_failed", "files-source") in metrics(compare(window(), after))


def test_task_errors_rising_is_a_regression_and_flat_old_errors_are_not() -> None:
    flat = window(connectors={"c": conn(errors=5.0)})
    assert compare(flat, flat) == []
    rising = summarize([sample(i, connectors={"c": conn(errors=5.0 + i)}) for i in range(3)])
    assert metrics(compare(flat, rising)) == {("connector.task_errors", "c")}


def test_task_retries_rising_on_a_moved_connector_compares_growth() -> None:
    before = window(connectors={"c": conn(retries=9.0)})
    # on the destination its counter starts from zero: growth, not the level, counts
    calm = window(connectors={"c": conn(side="destination", retries=1.0)})
    assert compare(before, calm) == []
    growing = summarize(
        [sample(i, connectors={"c": conn(side="destination", retries=float(i))}) for i in range(3)]
    )
    assert metrics(compare(before, growing)) == {("connector.task_retries", "c")}


def test_group_lag_growth_beyond_the_tolerance() -> None:
    tol = Tolerances(lag_records=100)
    within = window(group_lag={"billing": 110})
    assert compare(window(), within, tol) == []
    beyond = window(group_lag={"billing": 111})
    regs = compare(window(), beyond, tol)
    assert metrics(regs) == {("group.lag", "billing")}
    assert regs[0].before == 10.0 and regs[0].after == 111.0


def test_group_never_stable_after_is_a_regression_a_rebalance_blip_is_not() -> None:
    blip = summarize([sample(0, groups={"billing": "PreparingRebalance"}), sample(5), sample(10)])
    assert compare(window(), blip) == []
    gone = window(groups={"billing": "Empty"}, group_members={"billing": 0})
    assert metrics(compare(window(), gone)) == {("group.state", "billing")}


def test_source_lag_growth_beyond_the_tolerance() -> None:
    tol = Tolerances(source_lag_ms=1000)
    assert compare(window(), window(source_lag_ms={"shop-cdc": 1100.0}), tol) == []
    regs = compare(window(), window(source_lag_ms={"shop-cdc": 1101.0}), tol)
    assert metrics(regs) == {("source.lag_ms", "shop-cdc")}


def test_canary_latency_needs_both_the_factor_and_the_floor() -> None:
    tol = Tolerances(latency_factor=3.0, latency_floor_ms=50.0)
    before = window(produce_ms={"source": 2.0})
    # 10x worse but only 18 ms: noise on a busy machine
    assert compare(before, window(produce_ms={"source": 20.0}), tol) == []
    slow_before = window(produce_ms={"source": 100.0})
    # 70 ms worse but only 1.7x
    assert compare(slow_before, window(produce_ms={"source": 170.0}), tol) == []
    regs = compare(before, window(produce_ms={"source": 60.0}), tol)
    assert metrics(regs) == {("canary.produce_ms", "source")}
    regs = compare(window(), window(fetch_ms={"source": 80.0}), tol)
    assert metrics(regs) == {("canary.fetch_ms", "source")}


def test_compare_json_shape() -> None:
    regs = compare(window(), window(connectors={}))
    doc = core.compare_json("before", "after", regs, Tolerances())
    assert doc["schema"] == "connshift.baseline-compare/1"
    assert doc["ok"] is False
    assert doc["regressions"][0].keys() == {"metric", "subject", "before", "after", "why"}
    assert core.compare_json("b", "a", [], Tolerances())["ok"] is True


# ---------------------------------------------------------------------------- CLI


def write_spec(tmp_path: Path, criteria: str = "") -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "version: 1\nname: bl\n"
        "source:\n  kafka: {bootstrap_servers: '127.0.0.1:1'}\n"
        "  connect: {url: 'http://127.0.0.1:2', metrics_url: 'http://127.0.0.1:3/metrics'}\n"
        "destination:\n  kafka: {bootstrap_servers: '127.0.0.1:4'}\n"
        f"{criteria}"
        f"state_dir: '{tmp_path / 'state'}'\n"
    )
    return spec


def record(tmp_path: Path, label: str, summary: dict[str, Any]) -> None:
    d = tmp_path / "state" / "evidence"
    d.mkdir(parents=True, exist_ok=True)
    doc = {"schema": core.SCHEMA, "label": label, "summary": summary, "metrics_source": {}}
    (d / f"baseline-{label}.json").write_text(json.dumps(doc))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from connshift.cli.main import run as cli_run

    with pytest.raises(SystemExit) as info:
        cli_run(args)
    return int(info.value.code or 0), capsys.readouterr().out


def test_cli_compare_exits_1_and_records_the_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    record(tmp_path, "before", window())
    record(tmp_path, "after", window(connectors={"files-source": conn("PAUSED", running=0)}))
    code, out = run(["baseline", "compare", "-c", str(spec), "--json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["ok"] is False
    assert {r["subject"] for r in doc["regressions"]} == {"files-source"}
    kept = json.loads((tmp_path / "state" / "evidence" / "baseline-compare.json").read_text())
    assert kept["evidence"]["kind"] == "baseline-compare"


def test_cli_compare_ok_exits_0_with_other_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    record(tmp_path, "one", window())
    record(tmp_path, "two", window())
    code, out = run(
        ["baseline", "compare", "-c", str(spec), "--before", "one", "--after", "two", "--json"],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["ok"] is True


def test_cli_compare_uses_the_spec_criteria_as_lag_tolerance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, "readiness:\n  criteria: {max_lag_records: 5000}\n")
    record(tmp_path, "before", window())
    record(tmp_path, "after", window(group_lag={"billing": 3000}))
    code, out = run(["baseline", "compare", "-c", str(spec), "--json"], capsys)
    assert code == 0, out
    assert json.loads(out)["tolerances"]["lag_records"] == 5000.0


def test_cli_compare_without_a_recorded_label_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path)
    code, _ = run(["baseline", "compare", "-c", str(spec)], capsys)
    assert code == 2


def test_cli_baseline_needs_a_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["baseline", "-c", str(write_spec(tmp_path))], capsys)
    assert code == 2


def test_cli_baseline_label_runs_the_sampler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from connshift.app import baseline as app

    seen: dict[str, Any] = {}

    def fake(migration: Any, label: str, *, duration: float, interval: float, report: Any) -> Any:
        seen.update(label=label, duration=duration, interval=interval)
        doc = {"schema": core.SCHEMA, "label": label, "samples": [], "summary": summarize([])}
        migration.record(f"baseline-{label}", doc)  # the verb records its own evidence
        return doc

    monkeypatch.setattr(app, "run_baseline", fake)
    spec = write_spec(tmp_path)
    argv = ["baseline", "-c", str(spec), "--label", "before", "--duration", "2m"]
    code, out = run([*argv, "--interval", "10", "--json"], capsys)
    assert code == 0
    assert seen == {"label": "before", "duration": 120.0, "interval": 10.0}
    assert json.loads(out)["label"] == "before"
    # recorded where the spec says, through the command's one migration context
    assert (tmp_path / "state" / "evidence" / "baseline-before.json").is_file()


def test_spec_metrics_url_must_be_http(tmp_path: Path) -> None:
    from connshift.app.config import load_spec
    from connshift.errors import ConfigError

    spec = write_spec(tmp_path)
    assert load_spec(spec).source.connect.metrics_url == "http://127.0.0.1:3/metrics"  # type: ignore[union-attr]
    spec.write_text(spec.read_text().replace("http://127.0.0.1:3/metrics", "ftp://x/metrics"))
    with pytest.raises(ConfigError):
        load_spec(spec)


# --------------------------------------------------------------------------- the canary


class _Msg:
    def __init__(self, value: bytes) -> None:
        self._value = value

    def error(self) -> None:
        return None

    def value(self) -> bytes:
        return self._value


class _CanaryProducer:
    """Acknowledges on flush (or never: ``ack=False``, then flush raises as KafkaProducer's
    does when records remain)."""

    def __init__(self, ack: bool) -> None:
        self.ack = ack
        self.sent: list[bytes] = []
        self.callbacks: list[Any] = []
        self.closed = False

    def produce(self, topic: str, *, value: bytes, partition: int, on_delivery: Any) -> None:
        self.sent.append(value)
        self.callbacks.append(on_delivery)

    def flush(self, timeout: float = 30.0) -> None:
        from connshift.errors import KafkaError

        if not self.ack:
            raise KafkaError("not acknowledged", why=f"1 records still in flight after {timeout}s")
        for cb in self.callbacks:
            cb(None, None)
        self.callbacks.clear()

    def close(self, timeout: float = 30.0) -> int:
        self.closed = True
        return len(self.callbacks)


class _CanaryConsumer:
    def __init__(self, producer: _CanaryProducer) -> None:
        self.producer = producer
        self.assigned: list[Any] = []
        self.closed = False

    def assign(self, partitions: list[Any]) -> None:
        self.assigned = partitions

    def poll(self, timeout: float) -> _Msg | None:
        return _Msg(self.producer.sent[-1]) if self.producer.sent else None

    def close(self) -> None:
        self.closed = True


class _CanaryCluster:
    def __init__(self, ack: bool = True) -> None:
        self.producer = _CanaryProducer(ack)
        self.consumer = _CanaryConsumer(self.producer)
        self.deleted: list[str] = []

    def create_topic(self, name: str, partitions: int, **_: Any) -> bool:
        return True

    def open_producer(self, extra: dict[str, Any]) -> _CanaryProducer:
        return self.producer

    def open_consumer(self, extra: dict[str, Any]) -> _CanaryConsumer:
        return self.consumer

    def delete_topic(self, name: str, timeout: float = 30.0) -> None:
        self.deleted.append(name)

    def delete_groups(self, groups: list[str]) -> None:
        pass


def test_canary_measures_through_the_cluster_wrappers() -> None:
    from connshift.app.baseline import Canary
    from connshift.io.kafka import OFFSET_END

    cluster = _CanaryCluster()
    canary = Canary(cluster)  # type: ignore[arg-type]
    canary.open()
    (tp,) = cluster.consumer.assigned
    assert (tp.topic, tp.partition, tp.offset) == (canary.topic, 0, OFFSET_END)
    produce_ms, fetch_ms = canary.measure(timeout=1)
    assert produce_ms is not None and fetch_ms is not None and fetch_ms >= produce_ms
    canary.close()
    assert cluster.consumer.closed and cluster.producer.closed
    assert cluster.deleted == [canary.topic]


def test_canary_without_an_acknowledgement_has_no_latency() -> None:
    from connshift.app.baseline import Canary

    cluster = _CanaryCluster(ack=False)
    canary = Canary(cluster)  # type: ignore[arg-type]
    canary.open()
    assert canary.measure(timeout=0.1) == (None, None)
    canary.close()
