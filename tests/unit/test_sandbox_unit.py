"""The sandbox orchestration without real services: ports, state, refusals, down, configs.

Every sandbox home is ``tmp_path``; every port is an ephemeral one; Maven is never run
(``jars.fetch_all``/``is_fetched`` are replaced) and no service is started — the only
processes are Python sleepers this test starts and kills itself.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import STATE_SCHEMA, Sandbox, endpoints, parse_ports
from connshift.errors import ExitCode, SandboxError, UsageError
from connshift.io.sandbox import jars, procs
from connshift.io.sandbox.services import (
    DEFAULT_PORTS,
    POSTGRES_PASSWORD,
    ConnectWorker,
    KafkaBroker,
    Postgres,
    S3Server,
    Tansu,
)

#: The real ``procs.start``: the autouse fixture replaces it for the code under test.
REAL_START = procs.start


class Reached(Exception):
    """Raised by a stand-in to show that ``up`` got past its checks."""


@pytest.fixture(autouse=True)
def _no_real_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No default sandbox home or jar cache outside ``tmp_path``; no Maven; no start."""
    monkeypatch.setenv("CONNSHIFT_SANDBOX_HOME", str(tmp_path / "default-home"))
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "cache"))

    def no_fetch(root: Path | None = None) -> dict[str, jars.KafkaDist]:
        raise Reached("jars.fetch_all")

    def no_start(*args: object, **kwargs: object) -> procs.ProcRecord:
        raise AssertionError("no service may be started in a unit test")

    monkeypatch.setattr(jars, "fetch_all", no_fetch)
    monkeypatch.setattr(jars, "is_fetched", lambda root=None: True)
    monkeypatch.setattr(procs, "start", no_start)


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports nothing listens on (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def all_free_ports() -> dict[str, int]:
    return dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True))


@pytest.fixture
def listener() -> Iterator[int]:
    """A port held by a 'foreign' listening socket."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        yield srv.getsockname()[1]


SLEEPER = "import time; print('ready', flush=True); time.sleep(30)"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[Callable[[], procs.ProcRecord]]:
    """Start a Python sleeper carrying a unique marker; killed afterwards if still alive."""
    started: list[procs.ProcRecord] = []

    def _sleeper() -> procs.ProcRecord:
        marker = f"connshift-test-{uuid.uuid4().hex}"
        log = tmp_path / f"sleeper-{len(started)}.log"
        rec = REAL_START("sleeper", [sys.executable, "-c", SLEEPER, marker], log=log, marker=marker)
        started.append(rec)
        deadline = time.monotonic() + 5
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert procs.is_alive(rec)
        return rec

    yield _sleeper
    for rec in started:
        procs.stop(rec, timeout=0.0, sig=signal.SIGKILL)


def record_as(sb: Sandbox, name: str, rec: procs.ProcRecord, **changes: object) -> None:
    data = {**rec.to_json(), "name": name, **changes}
    sb.state.setdefault("processes", {})[name] = data
    sb._save_state()


# ---------------------------------------------------------------------------- parse_ports


def test_parse_ports_accepts_name_equals_port() -> None:
    assert parse_ports([]) == {}
    assert parse_ports(["source-kafka=19192", "postgres=1", "s3=65535"]) == {
        "source-kafka": 19192,
        "postgres": 1,
        "s3": 65535,
    }


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ("bogus=1", "NAME one of"),
        ("source-kafka", "NAME one of"),
        ("=19092", "NAME one of"),
        ("source-kafka=abc", "1 to 65535"),
        ("source-kafka=", "1 to 65535"),
        ("source-kafka=-1", "1 to 65535"),
        ("source-kafka=0", "1 to 65535"),
        ("source-kafka=65536", "1 to 65535"),
    ],
)
def test_parse_ports_rejects_bad_values(item: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_ports(["postgres=15433", item])
    assert info.value.exit_code == ExitCode.USAGE == 2
    assert repr(item) in info.value.what
    assert why in (info.value.why or "")


# ---------------------------------------------------------------------------- state


def test_state_defaults_on_an_empty_home(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path)
    assert sb.home == tmp_path.resolve()
    assert sb.ports == DEFAULT_PORTS
    assert sb.with_tansu is False
    assert sb.record("source-kafka") is None


def test_state_round_trips_through_state_json(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path)
    rec = procs.ProcRecord(
        name="postgres",
        pid=4242,
        marker=str(tmp_path / "postgres" / "data"),
        log="x",
        started_at=1.5,
    )
    sb.state["ports"] = {"postgres": 25432}
    sb.state["with_tansu"] = True
    sb.state["processes"]["postgres"] = rec.to_json()
    sb._save_state()

    raw = json.loads((tmp_path / "state.json").read_text())
    assert raw["schema"] == STATE_SCHEMA

    again = Sandbox(home=tmp_path)
    assert again.ports == {**DEFAULT_PORTS, "postgres": 25432}
    assert again.with_tansu is True
    assert again.record("postgres") == rec
    assert again.record("source-kafka") is None


@pytest.mark.parametrize(
    "content", ["{not json", json.dumps({"schema": "someone-else/9", "ports": {"postgres": 1}})]
)
def test_unreadable_or_foreign_state_is_ignored(tmp_path: Path, content: str) -> None:
    (tmp_path / "state.json").write_text(content)
    sb = Sandbox(home=tmp_path)
    assert sb.ports == DEFAULT_PORTS
    assert sb.state["processes"] == {}


def test_services_in_start_order(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path)
    assert [s.name for s in sb.services()] == [
        "source-kafka",
        "destination-kafka",
        "postgres",
        "source-connect",
        "destination-connect",
    ]
    sb.state["with_tansu"] = True
    services = sb.services()
    assert [s.name for s in services] == [
        "source-kafka",
        "destination-kafka",
        "postgres",
        "s3",
        "tansu",
        "source-connect",
        "destination-connect",
    ]
    assert all(s.directory == sb.home / s.name for s in services)
    by_name = {s.name: s for s in services}
    assert isinstance(by_name["tansu"], Tansu)
    assert isinstance(by_name["s3"], S3Server)
    assert by_name["tansu"].s3_endpoint == f"http://127.0.0.1:{DEFAULT_PORTS['s3']}"


def test_status_of_an_empty_home_is_unhealthy(tmp_path: Path) -> None:
    info = Sandbox(home=tmp_path).status()
    assert info.healthy is False
    assert [s.running for s in info.services] == [False] * len(info.services)
    assert info.to_json()["healthy"] is False


# ---------------------------------------------------------------------------- up refuses


@pytest.mark.parametrize(
    ("taken", "service"),
    [("postgres", "postgres"), ("destination-controller", "destination-kafka")],
)
def test_up_refuses_a_port_held_by_a_foreign_process(
    tmp_path: Path, listener: int, taken: str, service: str
) -> None:
    ports = {**all_free_ports(), taken: listener}
    sb = Sandbox(home=tmp_path / "home")
    with pytest.raises(SandboxError) as info:
        sb.up(ports=ports)
    err = info.value
    assert err.exit_code == ExitCode.UNREACHABLE
    assert f"port {listener}" in err.what
    assert service in err.what
    assert f"--port {service}=PORT" in (err.fix or "")
    # nothing was started or recorded
    assert sb.state["processes"] == {}
    assert Sandbox(home=tmp_path / "home").state["processes"] == {}


def test_up_gets_past_the_port_check_when_every_port_is_free(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path / "home")
    with pytest.raises(Reached):  # the next step, fetching jars, is replaced
        sb.up(ports=all_free_ports())


def test_up_refuses_other_ports_while_running(
    tmp_path: Path, sleeper: Callable[[], procs.ProcRecord]
) -> None:
    sb = Sandbox(home=tmp_path)
    rec = sleeper()
    record_as(sb, "source-kafka", rec)

    with pytest.raises(UsageError) as info:
        Sandbox(home=tmp_path).up(ports={"postgres": 25999})
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert "already running with other ports" in err.what
    assert "postgres=25999" in (err.why or "")
    assert "sandbox down" in (err.fix or "")
    assert procs.is_alive(rec)
    assert Sandbox(home=tmp_path).ports["postgres"] == DEFAULT_PORTS["postgres"]


def test_up_accepts_new_ports_when_the_recorded_process_is_not_ours(
    tmp_path: Path, sleeper: Callable[[], procs.ProcRecord]
) -> None:
    sb = Sandbox(home=tmp_path)
    rec = sleeper()
    record_as(sb, "source-kafka", rec, marker="connshift-test-some-other-command")
    with pytest.raises(Reached):
        Sandbox(home=tmp_path).up(ports=all_free_ports())


# ---------------------------------------------------------------------------- down


def test_down_never_stops_a_pid_whose_marker_differs(
    tmp_path: Path, sleeper: Callable[[], procs.ProcRecord]
) -> None:
    rec = sleeper()  # runs with marker A
    sb = Sandbox(home=tmp_path)
    record_as(sb, "source-kafka", rec, marker=f"connshift-test-{uuid.uuid4().hex}")  # marker B

    stopped = Sandbox(home=tmp_path).down()
    assert stopped == []
    assert procs.is_alive(rec)
    assert Sandbox(home=tmp_path).state["processes"] == {}  # the stale record is dropped


def test_down_stops_a_process_whose_marker_matches(
    tmp_path: Path, sleeper: Callable[[], procs.ProcRecord]
) -> None:
    rec = sleeper()
    bystander = sleeper()
    sb = Sandbox(home=tmp_path)
    record_as(sb, "source-connect", rec)
    messages: list[str] = []

    stopped = Sandbox(home=tmp_path).down(report=messages.append)
    assert stopped == ["source-connect"]
    assert not procs.is_alive(rec)
    assert procs.is_alive(bystander)
    assert any(f"pid {rec.pid}" in m for m in messages)
    assert Sandbox(home=tmp_path).state["processes"] == {}


def test_down_purge_deletes_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sb = Sandbox(home=home)
    sb.state["ports"] = {"postgres": 25432}
    sb._save_state()
    (home / "source-kafka" / "data").mkdir(parents=True)
    (home / "source-kafka" / "data" / "x.log").write_text("data")

    assert sb.down(purge=True) == []
    assert not home.exists()
    assert sb.ports == DEFAULT_PORTS  # state reset with the home


# ---------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize("with_tansu", [False, True])
def test_endpoints_name_every_role_and_hold_no_password(with_tansu: bool) -> None:
    ports = {name: 30000 + i for i, name in enumerate(DEFAULT_PORTS)}
    out = endpoints(ports, with_tansu)
    assert out["source.kafka"] == f"127.0.0.1:{ports['source-kafka']}"
    assert out["destination.connect"] == f"http://127.0.0.1:{ports['destination-connect']}"
    pg = urlsplit(out["postgres"])
    assert pg.port == ports["postgres"]
    assert pg.username == "postgres"
    assert pg.password is None
    assert ("tansu.kafka" in out) is with_tansu
    assert ("s3" in out) is with_tansu
    assert f":{POSTGRES_PASSWORD}@" not in json.dumps(out)


def test_sandbox_json_holds_no_password(tmp_path: Path) -> None:
    info = Sandbox(home=tmp_path).status()
    text = json.dumps(info.to_json())
    assert f":{POSTGRES_PASSWORD}@" not in text
    assert "password" not in text.lower()


# ---------------------------------------------------------------------------- service configs


def dist(version: str, tmp_path: Path) -> jars.KafkaDist:
    return jars.KafkaDist(
        version=version,
        lib=tmp_path / f"kafka-{version}" / "lib",
        plugin_dirs=(tmp_path / "plugins" / "connect-file", tmp_path / "plugins" / "debezium"),
    )


def broker(version: str, tmp_path: Path) -> KafkaBroker:
    return KafkaBroker(
        "source-kafka", tmp_path / "k", 31092, controller_port=31093, dist=dist(version, tmp_path)
    )


def test_kafka_3_config_has_no_share_coordinator_keys(tmp_path: Path) -> None:
    cfg = broker("3.9.2", tmp_path)._config()
    assert not [k for k in cfg if k.startswith("share.coordinator")]
    assert cfg["listeners"] == "PLAINTEXT://127.0.0.1:31092,CONTROLLER://127.0.0.1:31093"
    assert cfg["controller.quorum.voters"] == "1@127.0.0.1:31093"
    assert cfg["log.dirs"] == str(tmp_path / "k" / "data")


def test_kafka_4_config_sets_share_coordinator_keys(tmp_path: Path) -> None:
    cfg = broker("4.4.0", tmp_path)._config()
    assert cfg["share.coordinator.state.topic.replication.factor"] == 1
    assert cfg["share.coordinator.state.topic.min.isr"] == 1
    assert cfg["share.coordinator.state.topic.num.partitions"] == 1


def test_broker_marker_is_its_properties_file(tmp_path: Path) -> None:
    b = broker("4.4.0", tmp_path)
    assert b.marker == str(tmp_path / "k" / "server.properties")
    assert b.log == tmp_path / "k" / "source-kafka.log"


def read_props(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line)


def test_connect_worker_prepare_writes_worker_properties(tmp_path: Path) -> None:
    d = dist("4.4.0", tmp_path)
    worker = ConnectWorker(
        "destination-connect",
        tmp_path / "dc",
        31083,
        bootstrap="127.0.0.1:31092",
        group_id="connect-destination",
        topic_prefix="connect-dst",
        dist=d,
    )
    worker.prepare()
    props = read_props(tmp_path / "dc" / "worker.properties")
    assert props["plugin.path"] == f"{d.plugin_dirs[0]},{d.plugin_dirs[1]}"
    assert props["config.storage.topic"] == "connect-dst-configs"
    assert props["offset.storage.topic"] == "connect-dst-offsets"
    assert props["status.storage.topic"] == "connect-dst-status"
    assert props["bootstrap.servers"] == "127.0.0.1:31092"
    assert props["group.id"] == "connect-destination"
    assert props["listeners"] == "http://127.0.0.1:31083"
    assert props["rest.advertised.port"] == "31083"
    assert worker.marker == str(tmp_path / "dc" / "worker.properties")


def test_connect_worker_prepare_does_not_rewrite_an_unchanged_file(tmp_path: Path) -> None:
    worker = ConnectWorker("c", tmp_path / "c", 31083, dist=dist("3.9.2", tmp_path))
    worker.prepare()
    before = worker.properties.stat().st_mtime_ns
    time.sleep(0.01)
    worker.prepare()
    assert worker.properties.stat().st_mtime_ns == before
    worker.port = 31084
    worker.prepare()
    assert read_props(worker.properties)["listeners"] == "http://127.0.0.1:31084"


def test_postgres_options(tmp_path: Path) -> None:
    pg = Postgres("postgres", tmp_path / "pg", 31432)
    opts = pg._options().split(" -c ")
    opts[0] = opts[0].removeprefix("-c ")
    assert "wal_level=logical" in opts
    assert "port=31432" in opts
    assert "listen_addresses=127.0.0.1" in opts
    assert f"unix_socket_directories={tmp_path / 'pg'}" in opts
    assert pg.stop_signal == signal.SIGINT
    assert pg.marker == str(tmp_path / "pg" / "data")


def test_write_sandbox_spec_points_at_the_sandbox_ports(tmp_path: Path) -> None:
    from connshift.app.config import load_spec

    sb = Sandbox(home=tmp_path / "home")
    sb.state["ports"] = {"source-kafka": 31092, "destination-connect": 31083}
    path = sandbox_mod.write_sandbox_spec(sb, tmp_path / "sandbox.yaml")
    spec = load_spec(path)
    assert spec.source.kafka.bootstrap_servers == "127.0.0.1:31092"
    assert spec.destination.connect is not None
    assert str(spec.destination.connect.url).rstrip("/") == "http://127.0.0.1:31083"


def test_connect_worker_runs_the_jmx_exporter_agent_on_loopback(tmp_path: Path) -> None:
    from connshift.io.sandbox.services import jmx_exporter_config

    jar = tmp_path / "agent.jar"
    worker = ConnectWorker(
        "source-connect",
        tmp_path / "sc",
        31083,
        dist=dist("3.9.2", tmp_path),
        agent_jar=jar,
        metrics_port=31084,
    )
    assert worker.metrics_url == "http://127.0.0.1:31084/metrics"
    (arg,) = worker.agent_args()
    assert arg == f"-javaagent:{jar}=127.0.0.1:31084:{jmx_exporter_config()}"
    assert Path(jmx_exporter_config()).is_file()
    # nothing answers on 31084 here: a running worker without the agent is outdated
    assert worker.outdated() is True
    bare = ConnectWorker("c", tmp_path / "c", 31083, dist=dist("3.9.2", tmp_path))
    assert bare.agent_args() == ()
    assert bare.metrics_url is None
    assert bare.outdated() is False


def test_sandbox_services_give_each_worker_its_metrics_port(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path / "home")
    workers = {s.name: s for s in sb.services() if isinstance(s, ConnectWorker)}
    assert workers["source-connect"].metrics_port == DEFAULT_PORTS["source-connect-metrics"]
    dst = workers["destination-connect"]
    assert dst.metrics_port == DEFAULT_PORTS["destination-connect-metrics"]
    assert dst.agent_jar == jars.jmx_exporter_jar()
    eps = endpoints(sb.ports, False)
    assert eps["source.connect.metrics"] == "http://127.0.0.1:18084/metrics"
    assert eps["destination.connect.metrics"] == "http://127.0.0.1:28084/metrics"


def test_sandbox_spec_names_both_metrics_urls(tmp_path: Path) -> None:
    from connshift.app.config import load_spec

    sb = Sandbox(home=tmp_path / "home")
    sb.state["ports"] = {"source-connect-metrics": 31084}
    spec = load_spec(sandbox_mod.write_sandbox_spec(sb, tmp_path / "sandbox.yaml"))
    assert spec.source.connect is not None and spec.destination.connect is not None
    assert spec.source.connect.metrics_url == "http://127.0.0.1:31084/metrics"
    assert spec.destination.connect.metrics_url == "http://127.0.0.1:28084/metrics"
