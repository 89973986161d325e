"""Contract tests of the Connect REST client against ``httpx.MockTransport``.

Each test scripts the worker's answers per (method, raw path) and checks both the request the
client sent (method, path, query, body) and how it parsed or mapped the answer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connshift.errors import (
    ConfigError,
    ConnectError,
    ConnectRequestError,
    ExitCode,
)
from connshift.io.connect import (
    ConfigValidation,
    ConnectClient,
    ConnectorNotFoundError,
    ConnectorState,
    ConnectorStatus,
    PluginInfo,
    TaskStatus,
    WorkerInfo,
    redact_secrets,
)

URL = "http://connect.test:8083"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeConnect:
    """A scripted Connect worker: answers per ``(METHOD, raw path)``, records every request.

    A route may hold a list of answers, served in order (the last one repeats).
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.raw_path.decode().split("?")[0])
        answers = self.routes.get(key)
        if not answers:
            return httpx.Response(404, json={"error_code": 404, "message": "HTTP 404 Not Found"})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.raw_path.decode()) for r in self.requests]


@pytest.fixture
def fake() -> FakeConnect:
    return FakeConnect()


@pytest.fixture
def client(fake: FakeConnect) -> Iterator[ConnectClient]:
    with ConnectClient(
        URL, transport=httpx.MockTransport(fake), name="source", conflict_backoff=0.0
    ) as c:
        yield c


def ok(payload: Any = None, status: int = 200) -> httpx.Response:
    if payload is None:
        return httpx.Response(status)
    return httpx.Response(status, json=payload)


def err(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error_code": status, "message": message})


def status_body(
    state: str = "RUNNING",
    tasks: list[tuple[int, str]] | None = None,
    trace: str | None = None,
    task_trace: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "pg-src",
        "connector": {"state": state, "worker_id": "127.0.0.1:8083"},
        "tasks": [],
        "type": "source",
    }
    if trace:
        body["connector"]["trace"] = trace
    for task_id, task_state in tasks or []:
        task: dict[str, Any] = {"id": task_id, "state": task_state, "worker_id": "127.0.0.1:8083"}
        if task_state == "FAILED" and task_trace:
            task["trace"] = task_trace
        body["tasks"].append(task)
    return body


# ---------------------------------------------------------------------------------------------
# worker and plugins
# ---------------------------------------------------------------------------------------------


def test_info_parses_root(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/", ok({"version": "3.9.2", "commit": "abc123", "kafka_cluster_id": "K1"}))
    assert client.info() == WorkerInfo(version="3.9.2", commit="abc123", kafka_cluster_id="K1")
    assert fake.calls() == [("GET", "/")]
    assert fake.requests[0].headers["accept"] == "application/json"


def test_plugins_query_flag_and_parsing(fake: FakeConnect, client: ConnectClient) -> None:
    plugins = [
        {"class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "type": "source",
         "version": "3.9.2"},
        {"class": "org.apache.kafka.connect.transforms.Cast$Value", "type": "transformation",
         "version": None},
    ]  # fmt: skip
    fake.on("GET", "/connector-plugins", ok(plugins))

    result = client.plugins(connectors_only=False)

    assert result == [
        PluginInfo("org.apache.kafka.connect.file.FileStreamSourceConnector", "source", "3.9.2"),
        PluginInfo("org.apache.kafka.connect.transforms.Cast$Value", "transformation", None),
    ]
    assert fake.requests[-1].url.params["connectorsOnly"] == "false"
    client.plugins()
    assert fake.requests[-1].url.params["connectorsOnly"] == "true"


def test_validate_config_returns_errors_without_values(
    fake: FakeConnect, client: ConnectClient
) -> None:
    cls = "io.debezium.connector.postgresql.PostgresConnector"
    answer = {
        "name": cls,
        "error_count": 1,
        "groups": ["Common"],
        "configs": [
            {"definition": {"name": "database.hostname"},
             "value": {"name": "database.hostname", "value": "db", "errors": [],
                       "recommended_values": [], "visible": True}},
            {"definition": {"name": "database.password"},
             "value": {"name": "database.password", "value": "hunter22",
                       "errors": ["Login failed with password hunter22"],
                       "recommended_values": [], "visible": True}},
        ],
    }  # fmt: skip
    fake.on("PUT", f"/connector-plugins/{cls}/config/validate", ok(answer))

    result = client.validate_config(
        cls, {"database.hostname": "db", "database.password": "hunter22"}
    )

    assert result == ConfigValidation(
        class_name=cls,
        error_count=1,
        errors={"database.password": ("Login failed with password [redacted]",)},
    )
    assert not result.ok
    sent = fake.body()
    assert sent["connector.class"] == cls
    assert sent["database.hostname"] == "db"
    assert "hunter22" not in repr(result)


# ---------------------------------------------------------------------------------------------
# connectors: read
# ---------------------------------------------------------------------------------------------


def test_connectors_and_config(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors", ok(["a", "b"]))
    fake.on("GET", "/connectors/a/config", ok({"connector.class": "X", "tasks.max": "1"}))
    assert client.connectors() == ["a", "b"]
    assert client.connector_config("a") == {"connector.class": "X", "tasks.max": "1"}


def test_connector_names_are_quoted_in_paths(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/a%2Fb%20c/config", ok({"k": "v"}))
    assert client.connector_config("a/b c") == {"k": "v"}
    assert fake.calls() == [("GET", "/connectors/a%2Fb%20c/config")]


def test_status_parses_connector_and_tasks(fake: FakeConnect, client: ConnectClient) -> None:
    body = status_body("RUNNING", [(1, "FAILED"), (0, "RUNNING")], task_trace="java.X: boom\n\tat")
    fake.on("GET", "/connectors/pg-src/status", ok(body))

    status = client.status("pg-src")

    assert status == ConnectorStatus(
        name="pg-src",
        state="RUNNING",
        worker_id="127.0.0.1:8083",
        type="source",
        tasks=(
            TaskStatus(0, "RUNNING", "127.0.0.1:8083"),
            TaskStatus(1, "FAILED", "127.0.0.1:8083", "java.X: boom\n\tat"),
        ),
    )
    assert status.state == ConnectorState.RUNNING
    assert [t.id for t in status.failed_tasks] == [1]
    assert status.trace_line == "java.X: boom"
    assert status.describe() == "RUNNING; tasks: 0 RUNNING, 1 FAILED"


def test_topics(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/s/topics", ok({"s": {"topics": ["t1", "t2"]}}))
    assert client.topics("s") == ["t1", "t2"]


def test_exists(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/here", ok({"name": "here", "config": {}, "tasks": []}))
    fake.on("GET", "/connectors/gone", err(404, "Connector gone not found"))
    assert client.exists("here") is True
    assert client.exists("gone") is False


# ---------------------------------------------------------------------------------------------
# connectors: write
# ---------------------------------------------------------------------------------------------


def test_create_sends_name_config_and_initial_state(
    fake: FakeConnect, client: ConnectClient
) -> None:
    fake.on("POST", "/connectors", ok({"name": "s", "config": {}, "tasks": []}, 201))

    client.create("s", {"connector.class": "X", "tasks.max": 2}, initial_state="stopped")
    assert fake.body() == {
        "name": "s",
        "config": {"connector.class": "X", "tasks.max": "2"},
        "initial_state": "STOPPED",
    }

    client.create("s", {"connector.class": "X"})
    assert "initial_state" not in fake.body()


def test_create_rejects_unknown_initial_state(client: ConnectClient) -> None:
    with pytest.raises(ValueError, match="initial_state"):
        client.create("s", {}, initial_state="DESTROYED")


def test_put_config_reports_created(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("PUT", "/connectors/s/config", ok({"name": "s"}, 201), ok({"name": "s"}, 200))
    assert client.put_config("s", {"connector.class": "X"}) is True
    assert fake.body() == {"connector.class": "X"}
    assert client.put_config("s", {"connector.class": "X"}) is False


@pytest.mark.parametrize(
    ("call", "method", "path", "answer"),
    [
        (lambda c: c.delete("s"), "DELETE", "/connectors/s", 204),
        (lambda c: c.pause("s"), "PUT", "/connectors/s/pause", 202),
        (lambda c: c.resume("s"), "PUT", "/connectors/s/resume", 202),
        (lambda c: c.stop("s"), "PUT", "/connectors/s/stop", 204),
    ],
)
def test_lifecycle_requests(
    fake: FakeConnect,
    client: ConnectClient,
    call: Callable[[ConnectClient], None],
    method: str,
    path: str,
    answer: int,
) -> None:
    fake.on(method, path, ok(status=answer))
    call(client)
    assert fake.calls() == [(method, path)]
    assert fake.requests[0].content == b""


def test_restart_with_tasks_returns_status(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on(
        "POST",
        "/connectors/pg-src/restart",
        ok(status_body("RESTARTING", [(0, "RESTARTING")]), 202),
    )

    status = client.restart("pg-src", include_tasks=True, only_failed=True)

    assert status is not None and status.state == "RESTARTING"
    params = fake.requests[-1].url.params
    assert (params["includeTasks"], params["onlyFailed"]) == ("true", "true")


def test_restart_connector_only_has_no_body(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("POST", "/connectors/s/restart", ok(status=204))
    assert client.restart("s", include_tasks=False) is None
    params = fake.requests[-1].url.params
    assert (params["includeTasks"], params["onlyFailed"]) == ("false", "false")


# ---------------------------------------------------------------------------------------------
# offsets (KIP-875)
# ---------------------------------------------------------------------------------------------

SINK_OFFSETS = [
    {"partition": {"kafka_topic": "orders", "kafka_partition": 0}, "offset": {"kafka_offset": 42}},
    {"partition": {"kafka_topic": "orders", "kafka_partition": 1}, "offset": {"kafka_offset": 7}},
]


def test_get_offsets(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/sink/offsets", ok({"offsets": SINK_OFFSETS}))
    assert client.get_offsets("sink") == SINK_OFFSETS


def test_alter_offsets_patches_body(fake: FakeConnect, client: ConnectClient) -> None:
    message = "The offsets for this connector have been altered successfully"
    fake.on("PATCH", "/connectors/sink/offsets", ok({"message": message}))

    assert client.alter_offsets("sink", SINK_OFFSETS) == message
    assert fake.body() == {"offsets": SINK_OFFSETS}


def test_alter_offsets_needs_entries(client: ConnectClient) -> None:
    with pytest.raises(ValueError):
        client.alter_offsets("sink", [])


def test_reset_offsets(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("DELETE", "/connectors/sink/offsets", ok({"message": "reset"}))
    assert client.reset_offsets("sink") == "reset"
    assert fake.calls() == [("DELETE", "/connectors/sink/offsets")]


# ---------------------------------------------------------------------------------------------
# error mapping
# ---------------------------------------------------------------------------------------------


def test_404_on_connector_names_it(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/nope/status", err(404, "No status found for connector nope"))

    with pytest.raises(ConnectorNotFoundError) as info:
        client.status("nope")

    exc = info.value
    assert isinstance(exc, ConnectRequestError)
    assert exc.status == 404
    assert exc.exit_code == ExitCode.UNREACHABLE
    assert exc.what == f"connector nope not found on source worker at {URL}"
    assert exc.context["connector"] == "nope"
    assert exc.message == "No status found for connector nope"


def test_404_of_missing_endpoint_is_not_a_missing_connector(
    fake: FakeConnect, client: ConnectClient
) -> None:
    # No route: FakeConnect answers JAX-RS's generic 404, as an old worker does for /offsets.
    with pytest.raises(ConnectRequestError) as info:
        client.get_offsets("sink")
    assert not isinstance(info.value, ConnectorNotFoundError)
    assert info.value.status == 404
    assert info.value.fix is not None and "too old" in info.value.fix


def test_409_is_retried_then_succeeds(fake: FakeConnect, client: ConnectClient) -> None:
    rebalance = err(409, "Cannot complete request momentarily due to stale configuration")
    fake.on("PUT", "/connectors/s/stop", rebalance, rebalance, ok(status=204))

    client.stop("s")

    assert fake.calls() == [("PUT", "/connectors/s/stop")] * 3


def test_409_gives_up_after_retries(fake: FakeConnect) -> None:
    fake.on("PUT", "/connectors/s/stop", err(409, "rebalance in progress"))
    client = ConnectClient(
        URL, transport=httpx.MockTransport(fake), conflict_retries=2, conflict_backoff=0.0
    )
    with client, pytest.raises(ConnectRequestError) as info:
        client.stop("s")
    assert info.value.status == 409
    assert info.value.message == "rebalance in progress"
    assert len(fake.requests) == 3


def test_500_rebalance_expected_is_retried_then_succeeds(
    fake: FakeConnect, client: ConnectClient
) -> None:
    # Connect's ConnectExceptionMapper answers RebalanceNeededException with a plain 500
    expected = err(500, "Request cannot be completed because a rebalance is expected")
    fake.on("GET", "/connectors/s", expected, expected, ok({"name": "s", "config": {}}))
    assert client.exists("s")
    assert fake.calls() == [("GET", "/connectors/s")] * 3


def test_409_already_exists_is_not_retried(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("POST", "/connectors", err(409, "Connector s already exists"))
    with pytest.raises(ConnectRequestError) as info:
        client.create("s", {"connector.class": "X"})
    assert len(fake.requests) == 1
    assert info.value.status == 409
    assert "for connector s" in info.value.what


def test_500_maps_to_request_error(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors", err(500, "Request timed out"))
    with pytest.raises(ConnectRequestError) as info:
        client.connectors()
    exc = info.value
    assert exc.status == 500
    assert exc.message == "Request timed out"
    assert exc.exit_code == ExitCode.UNREACHABLE
    assert "Request timed out" in str(exc)
    assert exc.context["status"] == 500


def test_non_json_error_body(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors", httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ConnectRequestError) as info:
        client.connectors()
    assert info.value.status == 502
    assert info.value.message == "<html>Bad Gateway</html>"


def test_connection_error_names_the_worker(fake: FakeConnect) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = ConnectClient(URL, transport=httpx.MockTransport(refuse), name="destination")
    with client, pytest.raises(ConnectError) as info:
        client.connectors()
    exc = info.value
    assert not isinstance(exc, ConnectRequestError)
    assert exc.exit_code == ExitCode.UNREACHABLE
    assert exc.what == f"could not reach the destination Connect worker at {URL}"
    assert exc.why == "[Errno 111] Connection refused"
    assert exc.fix is not None and "start the worker" in exc.fix
    assert isinstance(exc.__cause__, httpx.ConnectError)


def test_timeout_maps_to_connect_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = ConnectClient(URL, transport=httpx.MockTransport(slow), timeout=2)
    with client, pytest.raises(ConnectError, match="did not answer GET /connectors within 2s"):
        client.connectors()


def test_non_json_success_is_an_error(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/", httpx.Response(200, text="<html>proxy login</html>"))
    with pytest.raises(ConnectError, match="not JSON"):
        client.info()


def test_unexpected_shape_is_an_error(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors", ok({"not": "a list"}))
    with pytest.raises(ConnectError, match="unexpected answer"):
        client.connectors()


def test_invalid_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        ConnectClient("ftp://x", name="source")
    assert info.value.exit_code == ExitCode.USAGE


# ---------------------------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------------------------


def test_error_messages_never_carry_config_secrets(
    fake: FakeConnect, client: ConnectClient
) -> None:
    message = (
        "Connector configuration is invalid: Invalid value s3cr3t-pw for configuration "
        'database.password; sasl.jaas.config=org.X required password="jaaspw";'
    )
    fake.on("POST", "/connectors", err(400, message))
    config = {
        "connector.class": "X",
        "database.password": "s3cr3t-pw",
        "sasl.jaas.config": 'org.X required password="jaaspw";',
    }
    with pytest.raises(ConnectRequestError) as info:
        client.create("s", config)
    exc = info.value
    rendered = str(exc) + repr(exc.as_dict()) + str(exc.message)
    assert "s3cr3t-pw" not in rendered
    assert "jaaspw" not in rendered
    assert "[redacted]" in rendered
    assert exc.status == 400


def test_redact_secrets_only_touches_secret_keys() -> None:
    text = "host db1 with password pw-123 and token tok-9"
    config = {"database.hostname": "db1", "database.password": "pw-123", "api.token": "tok-9"}
    assert (
        redact_secrets(text, [config]) == "host db1 with password [redacted] and token [redacted]"
    )


def test_basic_auth_sent_and_password_hidden(fake: FakeConnect) -> None:
    fake.on("GET", "/connectors", ok([]))
    client = ConnectClient(
        URL, auth=("admin", "topsecret"), transport=httpx.MockTransport(fake), name="source"
    )
    with client:
        client.connectors()
        header = fake.requests[0].headers["authorization"]
        assert header == "Basic " + base64.b64encode(b"admin:topsecret").decode()
        assert "topsecret" not in repr(client)
        assert "topsecret" not in str(client)
        assert "admin" in repr(client)


def test_credentials_in_url_become_auth_and_leave_the_url(fake: FakeConnect) -> None:
    fake.on("GET", "/connectors", ok([]))
    with ConnectClient(
        "http://bob:pw-in-url@connect.test:8083", transport=httpx.MockTransport(fake)
    ) as c:
        c.connectors()
        assert c.url == URL
        assert "pw-in-url" not in repr(c)
    assert fake.requests[0].headers["authorization"].startswith("Basic ")


# ---------------------------------------------------------------------------------------------
# waiting
# ---------------------------------------------------------------------------------------------


def test_wait_for_state_polls_until_tasks_running(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on(
        "GET",
        "/connectors/pg-src/status",
        err(404, "No status found for connector pg-src"),
        ok(status_body("RUNNING", [])),
        ok(status_body("RUNNING", [(0, "UNASSIGNED")])),
        ok(status_body("RUNNING", [(0, "RUNNING"), (1, "RUNNING")])),
    )

    status = client.wait_for_state("pg-src", "RUNNING", tasks_state="RUNNING", interval=0.001)

    assert [t.state for t in status.tasks] == ["RUNNING", "RUNNING"]
    assert len(fake.requests) == 4


def test_wait_for_state_without_tasks(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on(
        "GET",
        "/connectors/s/status",
        ok(status_body("RUNNING", [(0, "RUNNING")])),
        ok(status_body("STOPPED", [])),
    )
    status = client.wait_for_state("s", ConnectorState.STOPPED, interval=0.001)
    assert status.state == "STOPPED"
    assert status.tasks == ()


def test_stopped_is_reached_only_once_its_tasks_are_gone(
    fake: FakeConnect, client: ConnectClient
) -> None:
    """Seen on Connect 3.9: STOPPED at 0.1 s with the task still RUNNING until 0.4 s — a
    source task that still produces and commits its last offsets."""
    fake.on(
        "GET",
        "/connectors/s/status",
        ok(status_body("STOPPED", [(0, "RUNNING")])),
        ok(status_body("STOPPED", [(0, "RUNNING")])),
        ok(status_body("STOPPED", [])),
    )
    status = client.wait_for_state("s", ConnectorState.STOPPED, interval=0.001)
    assert status.tasks == () and len(fake.requests) == 3


def test_wait_for_state_times_out_with_last_state(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/s/status", ok(status_body("RUNNING", [(0, "UNASSIGNED")])))

    with pytest.raises(ConnectError) as info:
        client.wait_for_state("s", "RUNNING", tasks_state="RUNNING", timeout=0.05, interval=0.005)

    exc = info.value
    assert exc.exit_code == ExitCode.UNREACHABLE
    assert "connector s" in exc.what and "RUNNING" in exc.what
    assert exc.why is not None and "RUNNING; tasks: 0 UNASSIGNED" in exc.why
    assert exc.context["state"] == "RUNNING"
    assert len(fake.requests) >= 2


def test_wait_for_state_times_out_when_never_seen(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/s/status", err(404, "No status found for connector s"))
    with pytest.raises(ConnectError, match="no status for the connector"):
        client.wait_for_state("s", "RUNNING", timeout=0.02, interval=0.005)


def test_wait_for_state_stops_on_failed_task(fake: FakeConnect, client: ConnectClient) -> None:
    trace = (
        "org.apache.kafka.connect.errors.ConnectException: cannot log in with password hunter22\n"
        "\tat org.X.start(X.java:1)\n"
    )
    fake.on(
        "GET",
        "/connectors/pg-src/status",
        ok(status_body("RUNNING", [(0, "FAILED")], task_trace=trace)),
    )
    fake.on("GET", "/connectors/pg-src/config", ok({"database.password": "hunter22"}))

    with pytest.raises(ConnectError) as info:
        client.wait_for_state("pg-src", "RUNNING", tasks_state="RUNNING", timeout=5, interval=0.001)

    exc = info.value
    assert exc.why is not None
    assert "FAILED" in exc.why
    assert "ConnectException: cannot log in with password [redacted]" in exc.why
    assert "X.java" not in exc.why  # only the first line of the trace
    assert "hunter22" not in str(exc)
    status_polls = [c for c in fake.calls() if c[1].endswith("/status")]
    assert len(status_polls) == 1  # failed at once, no waiting for the timeout


def test_wait_for_failed_state_is_allowed(fake: FakeConnect, client: ConnectClient) -> None:
    fake.on("GET", "/connectors/s/status", ok(status_body("FAILED", [], trace="java.Y: bad")))
    assert client.wait_for_state("s", "FAILED", interval=0.001).trace_line == "java.Y: bad"


def test_wait_until_ready_retries_until_worker_answers(fake: FakeConnect) -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            raise httpx.ConnectError("Connection refused", request=request)
        return ok({"version": "4.4.0", "commit": "c", "kafka_cluster_id": "K"})

    with ConnectClient(URL, transport=httpx.MockTransport(handler)) as c:
        info = c.wait_until_ready(timeout=5, interval=0.001)
    assert info.version == "4.4.0"
    assert calls["n"] == 3


def test_wait_until_ready_times_out(fake: FakeConnect) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = ConnectClient(URL, transport=httpx.MockTransport(refuse), name="source")
    with client, pytest.raises(ConnectError) as info:
        client.wait_until_ready(timeout=0.02, interval=0.005)
    assert "did not become ready" in info.value.what
    assert info.value.why is not None and "Connection refused" in info.value.why


def test_a_404_on_the_connector_list_says_the_url_is_not_a_workers_root(
    client: ConnectClient,
) -> None:
    """A Connect URL with a wrong path (every worker serves GET /connectors): the fix names
    the URL, not an old Connect version."""
    with pytest.raises(ConnectRequestError) as info:
        client.connectors()
    assert info.value.exit_code == ExitCode.UNREACHABLE
    assert "REST root" in (info.value.fix or "")
    assert "too old" not in info.value.one_line()
