"""``cutover --repoint-workers``: the running check (Connect REST on ``httpx.MockTransport``),
the refusals that come before anything is touched, and the readers of Connect's topics."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connshift.app import context, repoint, score
from connshift.app.context import Migration
from connshift.cli import main as cli
from connshift.core.spec import Spec
from connshift.errors import ConnectRequestError, ExitCode, UsageError
from connshift.io.connect import ConnectClient

URL = "http://connect-old.test:8083"


def status(name: str, state: str, *tasks: str) -> dict[str, Any]:
    return {
        "name": name,
        "connector": {"state": state, "worker_id": "w1:8083"},
        "tasks": [{"id": i, "state": s, "worker_id": "w1:8083"} for i, s in enumerate(tasks)],
        "type": "source",
    }


def fake_connect(states: dict[str, dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """A worker that lists ``states`` and answers each connector's status."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/connectors":
            return httpx.Response(200, json=list(states))
        for name, body in states.items():
            if path == f"/connectors/{name}/status":
                return httpx.Response(200, json=body)
        return httpx.Response(404, json={"error_code": 404, "message": "HTTP 404 Not Found"})

    return handler


def client(handler: Callable[[httpx.Request], httpx.Response]) -> ConnectClient:
    return ConnectClient(URL, transport=httpx.MockTransport(handler), name="source")


def spec(**topics: Any) -> Spec:
    return Spec.model_validate(
        {
            "version": 1,
            "name": "rp",
            "source": {"kafka": {"bootstrap_servers": "old:9092"}, "connect": {"url": URL}},
            "destination": {"kafka": {"bootstrap_servers": "new:9092"}},
            "topics": topics,
        }
    )


@pytest.fixture
def no_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any Kafka access fails the test: refusals come before anything is touched. (The
    readiness gate in front of them is tested with the scorecard.)"""

    def boom(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("Kafka was reached before the refusal")

    monkeypatch.setattr(context, "KafkaCluster", boom)
    monkeypatch.setattr(score, "gate_workers", lambda *_a, **_k: None)


def use_connect(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response]
) -> list[ConnectClient]:
    made: list[ConnectClient] = []

    def factory(_spec: Spec) -> ConnectClient:
        made.append(client(handler))
        return made[-1]

    monkeypatch.setattr(repoint, "source_connect_client", factory)
    return made


# ---------------------------------------------------------------------------- the running check


def test_a_running_connector_is_refused_before_kafka_is_touched(
    monkeypatch: pytest.MonkeyPatch, no_kafka: None
) -> None:
    use_connect(
        monkeypatch,
        fake_connect(
            {
                "quiet": status("quiet", "STOPPED"),
                "busy": status("busy", "RUNNING", "RUNNING"),
            }
        ),
    )
    with pytest.raises(repoint.RepointRefused) as info:
        repoint.repoint_workers(Migration(spec()))
    err = info.value
    assert err.exit_code == ExitCode.CHECK_FAILED
    line = err.one_line()
    assert "connector busy is RUNNING on the source Connect cluster" in line
    assert "shut the source workers down" in line and "/stop" in line
    assert "\n" not in line
    assert err.context["connector"] == "busy"


def test_a_running_task_of_a_failed_connector_is_refused() -> None:
    c = client(fake_connect({"half": status("half", "FAILED", "FAILED", "RUNNING")}))
    with pytest.raises(repoint.RepointRefused, match="FAILED with task 1 RUNNING"):
        repoint.check_source_quiet(c)


def test_more_than_one_running_connector_is_counted() -> None:
    c = client(
        fake_connect(
            {
                "a": status("a", "RUNNING", "RUNNING"),
                "b": status("b", "UNASSIGNED"),
                "c": status("c", "PAUSED", "PAUSED"),
            }
        )
    )
    with pytest.raises(repoint.RepointRefused, match=r"connector a is RUNNING .*\(and 1 more\)"):
        repoint.check_source_quiet(c)


def test_stopped_paused_and_failed_connectors_pass() -> None:
    c = client(
        fake_connect(
            {
                "s": status("s", "STOPPED"),
                "p": status("p", "PAUSED", "PAUSED", "PAUSED"),
                "f": status("f", "FAILED", "FAILED"),
            }
        )
    )
    note = repoint.check_source_quiet(c)
    assert "3 connector(s), none running" in note


def test_an_unreachable_worker_is_taken_as_shut_down() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    note = repoint.check_source_quiet(client(refused))
    assert "does not answer" in note and "shut down" in note


def test_a_worker_that_answers_with_an_error_is_not_taken_as_shut_down() -> None:
    def unauthorized(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error_code": 401, "message": "Unauthorized"})

    with pytest.raises(ConnectRequestError) as info:
        repoint.check_source_quiet(client(unauthorized))
    assert info.value.exit_code == ExitCode.UNREACHABLE


def test_without_source_connect_in_the_spec_nothing_is_checked() -> None:
    assert "not checked" in repoint.check_source_quiet(None)


# ---------------------------------------------------------------------------- usage refusals


def test_a_spec_prefix_is_refused_first(no_kafka: None) -> None:
    with pytest.raises(UsageError, match=r"keeps topic names.*topics\.prefix 'new\.'"):
        repoint.repoint_workers(Migration(spec(prefix="new.")))


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (("c", "c", "s"), "three different topics"),
        (("c", "o", "bad name"), "--status-topic 'bad name' is not a valid"),
    ],
)
def test_bad_topic_names_are_usage_errors(
    no_kafka: None, names: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        repoint.repoint_workers(
            Migration(spec()), config_topic=names[0], offset_topic=names[1], status_topic=names[2]
        )


# ---------------------------------------------------------------------------- the CLI


SPEC_YAML = f"""\
version: 1
name: rp
source:
  kafka: {{bootstrap_servers: "127.0.0.1:1"}}
  connect: {{url: "{URL}"}}
destination:
  kafka: {{bootstrap_servers: "127.0.0.1:2"}}
state_dir: state
"""


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.run(list(argv))
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


@pytest.fixture
def spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli.STATE, "debug", False)
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC_YAML)
    return path


def test_cli_refusal_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_kafka: None,
    spec_file: Path,
) -> None:
    use_connect(monkeypatch, fake_connect({"busy": status("busy", "RUNNING", "RUNNING")}))
    code, out, err = invoke(capsys, "cutover", "--repoint-workers", "--force", "-c", str(spec_file))
    assert code == 1
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("  ")]
    assert len(lines) == 1 and lines[0].startswith("error: connector busy is RUNNING")
    assert "Traceback" not in err and out == ""


def test_cli_refusal_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    no_kafka: None,
    spec_file: Path,
) -> None:
    use_connect(monkeypatch, fake_connect({"busy": status("busy", "RUNNING")}))
    code, out, _err = invoke(
        capsys, "cutover", "--repoint-workers", "--force", "-c", str(spec_file), "--json"
    )
    assert code == 1
    doc = json.loads(out)
    assert doc["error"] == "RepointRefused" and doc["exit_code"] == 1
    assert doc["context"]["connector"] == "busy"


def test_cli_repoint_takes_no_connector_names(
    capsys: pytest.CaptureFixture[str], no_kafka: None, spec_file: Path
) -> None:
    code, _out, err = invoke(capsys, "cutover", "--repoint-workers", "-c", str(spec_file), "x")
    assert code == 2 and "takes no connector names" in err


def test_cli_topic_options_need_repoint_workers(
    capsys: pytest.CaptureFixture[str], no_kafka: None, spec_file: Path
) -> None:
    code, _out, err = invoke(
        capsys, "cutover", "-c", str(spec_file), "--config-topic", "my-configs"
    )
    assert code == 2 and "go with --repoint-workers" in err


# ---------------------------------------------------------------------------- Connect's topics


def rec(key: str, value: Any) -> tuple[bytes, bytes | None]:
    return key.encode(), None if value is None else json.dumps(value).encode()


def test_parse_config_topic_keeps_live_connectors_and_their_target_state() -> None:
    records = [
        (None, b"{}"),
        rec("session-key", {"key": "x", "algorithm": "HmacSHA256"}),
        rec("connector-a", {"properties": {"connector.class": "A", "tasks.max": "1"}}),
        rec("task-a-0", {"properties": {"connector.class": "A"}}),
        rec("commit-a", {"tasks": 1}),
        rec("connector-b", {"properties": {"connector.class": "B"}}),
        rec("target-state-b", {"state": "PAUSED", "state.v2": "STOPPED"}),
        rec("connector-c", {"properties": {"consumer.override.group.id": "custom"}}),
        rec("target-state-c", {"state": "PAUSED"}),
        rec("connector-gone", {"properties": {"connector.class": "G"}}),
        rec("connector-gone", None),
        rec("target-state-a", {"state": "PAUSED", "state.v2": "STOPPED"}),
        rec("target-state-a", {"state": "STARTED", "state.v2": "STARTED"}),
        (b"connector-bad-json", b"not json"),
    ]
    out = repoint.parse_config_topic(records)
    assert sorted(out) == ["a", "b", "c"]
    assert out["a"].target_state == "RUNNING"
    assert out["b"].target_state == "STOPPED"
    assert out["c"].target_state == "PAUSED"
    assert out["a"].config == {"connector.class": "A", "tasks.max": "1"}
    assert out["a"].group == "connect-a"
    assert out["c"].group == "custom"


def test_parse_topic_tracking_reads_values_and_forgets_resets() -> None:
    def value(topic: str, connector: str) -> dict[str, Any]:
        return {"topic": {"name": topic, "connector": connector, "task": 0}}

    records = [
        rec("status-connector-a", {"state": "RUNNING"}),
        rec("status-topic-t1:connector-a", value("t1", "a")),
        rec("status-topic-t1:connector-a", value("t1", "a")),
        rec("status-topic-my:odd-topic:connector-b", value("my:odd-topic", "b")),
        rec("status-topic-t2:connector-a", value("t2", "a")),
        rec("status-topic-t2:connector-a", None),  # reset
    ]
    assert repoint.parse_topic_tracking(records) == {"a": {"t1"}, "b": {"my:odd-topic"}}
