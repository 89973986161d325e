"""The replicated sandbox profile (``sandbox up --brokers 3 [--source-brokers 3]``) without
real services: ports, broker and worker configurations, state, refusals, stop order.

Every sandbox home is ``tmp_path``; Maven is never run and no service is started.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import (
    Sandbox,
    endpoints,
    parse_ports,
    sandbox_secure_spec_text,
    sandbox_spec_text,
)
from connshift.errors import ExitCode, SandboxError, UsageError
from connshift.io.sandbox import jars, procs
from connshift.io.sandbox.services import (
    DEFAULT_PORTS,
    ConnectWorker,
    KafkaBroker,
    kafka_uuid,
    replication,
    resolve_ports,
)


class Reached(Exception):
    """Raised by a stand-in to show that ``up`` got past its checks."""


@pytest.fixture(autouse=True)
def _no_real_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNSHIFT_SANDBOX_HOME", str(tmp_path / "default-home"))
    monkeypatch.setenv("CONNSHIFT_CACHE", str(tmp_path / "cache"))

    def no_fetch(root: Path | None = None) -> dict[str, jars.KafkaDist]:
        raise Reached("jars.fetch_all")

    def no_start(*args: object, **kwargs: object) -> procs.ProcRecord:
        raise AssertionError("no service may be started in a unit test")

    monkeypatch.setattr(jars, "fetch_all", no_fetch)
    monkeypatch.setattr(jars, "is_fetched", lambda root=None: True)
    monkeypatch.setattr(procs, "start", no_start)


def dist(version: str, tmp_path: Path) -> jars.KafkaDist:
    return jars.KafkaDist(
        version=version,
        lib=tmp_path / f"kafka-{version}" / "lib",
        plugin_dirs=(tmp_path / "plugins" / "connect-file",),
    )


def replicated(tmp_path: Path, destination: int = 3, source: int = 1) -> Sandbox:
    sb = Sandbox(home=tmp_path / "home")
    sb.state["brokers"] = {"source": source, "destination": destination}
    return sb


def dists(tmp_path: Path) -> dict[str, jars.KafkaDist]:
    return {"source": dist("3.9.2", tmp_path), "destination": dist("4.4.0", tmp_path)}


def by_name(sb: Sandbox, tmp_path: Path) -> dict[str, object]:
    return {s.name: s for s in sb.services(dists(tmp_path))}


def free_ports(n: int) -> list[int]:
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


# ---------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("brokers", "expected"), [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))]
)
def test_replication_factor_and_min_isr_follow_the_broker_count(
    brokers: int, expected: tuple[int, int]
) -> None:
    assert replication(brokers) == expected


def test_extra_brokers_take_the_first_brokers_ports_plus_ten_each() -> None:
    ports = resolve_ports({})
    assert {k: ports[k] for k in DEFAULT_PORTS} == DEFAULT_PORTS  # the first broker: as today
    assert ports["destination-kafka-2"] == 29102
    assert ports["destination-controller-2"] == 29103
    assert ports["destination-kafka-sasl-2"] == 29104
    assert ports["destination-kafka-mtls-2"] == 29105
    assert ports["destination-kafka-3"] == 29112
    assert ports["source-kafka-3"] == 19112
    assert ports["source-kafka-sasl-3"] == 19114
    assert "source-kafka-mtls-2" not in ports  # the source has no mTLS listener
    # no extra broker port collides with another port of the sandbox
    assert len(set(ports.values())) == len(ports)


def test_an_extra_brokers_port_follows_its_first_broker_unless_set() -> None:
    ports = resolve_ports({"destination-kafka": 29192, "destination-kafka-3": 40000})
    assert ports["destination-kafka-2"] == 29202
    assert ports["destination-kafka-3"] == 40000
    assert ports["destination-controller-2"] == DEFAULT_PORTS["destination-controller"] + 10


def test_port_names_of_extra_brokers_parse() -> None:
    got = parse_ports(["destination-kafka-2=29202", "source-controller-3=19213"])
    assert got == {"destination-kafka-2": 29202, "source-controller-3": 19213}
    with pytest.raises(UsageError) as info:
        parse_ports(["destination-kafka-9=1"])
    assert "destination-kafka-2" in (info.value.why or "")


def test_kafka_uuid_looks_like_storage_tools() -> None:
    ids = {kafka_uuid() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 22
        assert not cid.startswith("-")
        assert set(cid) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# ---------------------------------------------------------------------------- configurations


def test_three_destination_brokers_form_one_quorum_with_rf_3_and_min_isr_2(
    tmp_path: Path,
) -> None:
    services = by_name(replicated(tmp_path), tmp_path)
    names = list(services)
    assert names == [
        "source-kafka",
        "destination-kafka",
        "destination-kafka-2",
        "destination-kafka-3",
        "postgres",
        "source-connect",
        "destination-connect",
    ]
    voters = "1@127.0.0.1:29093,2@127.0.0.1:29103,3@127.0.0.1:29113"
    for i, name in enumerate(("destination-kafka", "destination-kafka-2", "destination-kafka-3")):
        b = services[name]
        assert isinstance(b, KafkaBroker)
        assert b.directory == tmp_path / "home" / name
        cfg = b._config()
        step = 10 * i
        assert cfg["node.id"] == i + 1
        assert cfg["process.roles"] == "broker,controller"
        assert cfg["controller.quorum.voters"] == voters
        assert cfg["listeners"] == (
            f"PLAINTEXT://127.0.0.1:{29092 + step},SASL_SSL://127.0.0.1:{29094 + step},"
            f"SSL://127.0.0.1:{29095 + step},CONTROLLER://127.0.0.1:{29093 + step}"
        )
        assert cfg["inter.broker.listener.name"] == "PLAINTEXT"
        assert cfg["default.replication.factor"] == 3
        assert cfg["min.insync.replicas"] == 2
        assert cfg["offsets.topic.replication.factor"] == 3
        assert cfg["transaction.state.log.replication.factor"] == 3
        assert cfg["transaction.state.log.min.isr"] == 2
        assert cfg["share.coordinator.state.topic.replication.factor"] == 3
        assert cfg["share.coordinator.state.topic.min.isr"] == 2
        # every broker has its own certificate (SANs 127.0.0.1, localhost)
        assert cfg["ssl.keystore.location"] == str(sb_tls(tmp_path) / f"{name}.keystore.pem")
        assert b.cluster_id_file == tmp_path / "home" / "destination-kafka" / "cluster.id"
        assert f"(node {i + 1} of 3)" in b.describe()
    first, second = services["destination-kafka"], services["destination-kafka-2"]
    assert isinstance(first, KafkaBroker) and isinstance(second, KafkaBroker)
    # SCRAM users and ACLs are cluster metadata: the first broker creates them, once
    assert first.manages_principals and first.acls
    assert not second.manages_principals and second.acls == ()


def sb_tls(tmp_path: Path) -> Path:
    return tmp_path / "home" / "tls"


def test_one_broker_keeps_todays_configuration(tmp_path: Path) -> None:
    services = by_name(replicated(tmp_path), tmp_path)
    src = services["source-kafka"]
    assert isinstance(src, KafkaBroker)
    cfg = src._config()
    assert cfg["node.id"] == 1
    assert cfg["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert cfg["default.replication.factor"] == 1
    assert cfg["offsets.topic.replication.factor"] == 1
    assert cfg["transaction.state.log.min.isr"] == 1
    assert "min.insync.replicas" not in cfg
    assert src.cluster_id_file is None
    assert src.manages_principals
    assert "node" not in src.describe()


def test_connect_workers_follow_their_clusters_brokers(tmp_path: Path) -> None:
    services = by_name(replicated(tmp_path), tmp_path)
    src, dst = services["source-connect"], services["destination-connect"]
    assert isinstance(src, ConnectWorker) and isinstance(dst, ConnectWorker)
    assert src.replication_factor == 1
    assert src.bootstrap == "127.0.0.1:19094"
    assert dst.replication_factor == 3
    assert dst.bootstrap == "127.0.0.1:29094,127.0.0.1:29104,127.0.0.1:29114"
    from connshift.io.sandbox import security

    security.ensure(tmp_path / "home", (), db_password="x")
    dst.prepare()
    props = dict(
        line.split("=", 1) for line in dst.properties.read_text().splitlines() if "=" in line
    )
    for key in ("config", "offset", "status"):
        assert props[f"{key}.storage.replication.factor"] == "3"
    assert props["bootstrap.servers"] == "127.0.0.1:29094,127.0.0.1:29104,127.0.0.1:29114"


def test_both_clusters_replicated(tmp_path: Path) -> None:
    sb = replicated(tmp_path, destination=3, source=3)
    services = by_name(sb, tmp_path)
    kafkas = [n for n, s in services.items() if isinstance(s, KafkaBroker)]
    assert kafkas == [
        "source-kafka",
        "source-kafka-2",
        "source-kafka-3",
        "destination-kafka",
        "destination-kafka-2",
        "destination-kafka-3",
    ]
    s2 = services["source-kafka-2"]
    assert isinstance(s2, KafkaBroker)
    assert s2.mtls_port is None
    assert s2._config()["controller.quorum.voters"] == (
        "1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113"
    )
    assert sb.broker_names() == kafkas


def test_brokers_of_a_cluster_share_one_cluster_id(tmp_path: Path) -> None:
    services = by_name(replicated(tmp_path), tmp_path)
    ids = set()
    for name in ("destination-kafka", "destination-kafka-2", "destination-kafka-3"):
        b = services[name]
        assert isinstance(b, KafkaBroker)
        ids.add(b.cluster_id())
    assert len(ids) == 1
    b1 = services["destination-kafka"]
    assert isinstance(b1, KafkaBroker) and b1.cluster_id_file is not None
    assert b1.cluster_id_file.read_text().strip() in ids


def test_status_lists_every_broker_and_the_profile(tmp_path: Path) -> None:
    sb = replicated(tmp_path, destination=3, source=3)
    info = sb.status()
    names = [s.name for s in info.services]
    for i in ("", "-2", "-3"):
        assert f"source-kafka{i}" in names
        assert f"destination-kafka{i}" in names
    data = info.to_json()
    assert data["brokers"] == {"source": 3, "destination": 3}
    assert data["ports"]["destination-kafka-3"] == 29112
    assert data["endpoints"]["destination.kafka"] == (
        "127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112"
    )
    assert data["endpoints"]["destination.kafka.mtls"] == (
        "127.0.0.1:29095,127.0.0.1:29105,127.0.0.1:29115"
    )
    json.dumps(data)


def test_a_one_broker_sandbox_reports_only_todays_ports(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path / "home")
    assert sb.ports == DEFAULT_PORTS
    assert endpoints(sb.ports, False)["destination.kafka"] == "127.0.0.1:29092"
    assert sb.status().to_json()["brokers"] == {"source": 1, "destination": 1}


def test_specs_name_every_broker(tmp_path: Path) -> None:
    sb = replicated(tmp_path)
    plain = sandbox_spec_text(sb)
    assert '"127.0.0.1:29092,127.0.0.1:29102,127.0.0.1:29112"' in plain
    assert '"127.0.0.1:19092"' in plain
    secure = sandbox_secure_spec_text(sb)
    assert '"127.0.0.1:29094,127.0.0.1:29104,127.0.0.1:29114"' in secure
    import yaml

    from connshift.core.spec import parse_spec

    spec = parse_spec(yaml.safe_load(plain), env={}, read_file=lambda _p: "")
    assert spec.destination.kafka.bootstrap_servers.count(",") == 2


# ---------------------------------------------------------------------------- up and state


def free_every_port() -> dict[str, int]:
    names = list(resolve_ports({}))
    return dict(zip(names, free_ports(len(names)), strict=True))


def test_up_records_the_profile_and_certifies_every_broker(tmp_path: Path) -> None:
    sb = Sandbox(home=tmp_path / "home")
    with pytest.raises(Reached):
        sb.up(brokers=3, source_brokers=3, ports=free_every_port())
    assert sb.brokers == {"source": 3, "destination": 3}
    for name in sb.broker_names():
        assert (tmp_path / "home" / "tls" / f"{name}.keystore.pem").is_file()


def test_up_without_brokers_keeps_a_replicated_profile(tmp_path: Path) -> None:
    sb = replicated(tmp_path, destination=3)
    sb._save_state()
    messages: list[str] = []
    again = Sandbox(home=tmp_path / "home")
    with pytest.raises(Reached):
        again.up(ports=free_every_port(), report=messages.append)
    assert again.brokers == {"source": 1, "destination": 3}
    assert any("keeping the destination's 3 brokers" in m for m in messages)


def test_up_checks_the_ports_of_the_extra_brokers(tmp_path: Path) -> None:
    ports = free_every_port()
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        ports["destination-kafka-sasl-3"] = srv.getsockname()[1]
        sb = Sandbox(home=tmp_path / "home")
        with pytest.raises(SandboxError) as info:
            sb.up(brokers=3, ports=ports)
    assert "destination-kafka-3" in info.value.what
    assert "--port destination-kafka-3=PORT" in (info.value.fix or "")


@pytest.mark.parametrize(("before", "after"), [(1, 3), (3, 1)])
def test_a_cluster_with_data_refuses_another_broker_count(
    tmp_path: Path, before: int, after: int
) -> None:
    sb = replicated(tmp_path, destination=before)
    sb._save_state()
    (tmp_path / "home" / "destination-kafka" / "data").mkdir(parents=True)
    (tmp_path / "home" / "destination-kafka" / "data" / "meta.properties").write_text("x")
    with pytest.raises(UsageError) as info:
        Sandbox(home=tmp_path / "home").up(brokers=after, ports=free_every_port())
    err = info.value
    assert err.exit_code == ExitCode.USAGE
    assert "down --purge" in err.what
    assert f"--brokers {after}" in err.what
    assert Sandbox(home=tmp_path / "home").brokers["destination"] == before


def test_a_cluster_without_data_takes_a_new_broker_count(tmp_path: Path) -> None:
    sb = replicated(tmp_path, destination=1)
    sb._save_state()
    (tmp_path / "home" / "source-kafka" / "data").mkdir(parents=True)
    (tmp_path / "home" / "source-kafka" / "data" / "meta.properties").write_text("x")
    again = Sandbox(home=tmp_path / "home")
    with pytest.raises(Reached):
        again.up(brokers=3, ports=free_every_port())
    assert again.brokers == {"source": 1, "destination": 3}


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_bad_broker_counts_are_usage_errors(tmp_path: Path, bad: int) -> None:
    with pytest.raises(UsageError) as info:
        Sandbox(home=tmp_path / "home").up(brokers=bad)
    assert "--brokers" in info.value.what
    with pytest.raises(UsageError):
        Sandbox(home=tmp_path / "home").up(source_brokers=bad)
    assert not (tmp_path / "home" / "state.json").exists()


# ---------------------------------------------------------------------------- down


def test_a_clusters_brokers_are_stopped_together(tmp_path: Path) -> None:
    sb = replicated(tmp_path, destination=3, source=1)
    batches = sandbox_mod._stop_batches(reversed(sb.services(dists(tmp_path))))
    names = [[s.name for s in b] for b in batches]
    assert ["destination-kafka-3", "destination-kafka-2", "destination-kafka"] in names
    assert ["source-kafka"] in names
    assert names[0] == ["destination-connect"]


@pytest.fixture
def stop_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    monkeypatch.setattr(procs, "is_alive", lambda rec: True)
    monkeypatch.setattr(procs, "stop", lambda rec, **kw: calls.append(rec.name) or True)
    yield calls


def test_down_stops_every_broker_and_keeps_the_profile(
    tmp_path: Path, stop_calls: list[str]
) -> None:
    sb = replicated(tmp_path, destination=3)
    for name in sb.broker_names():
        rec = procs.ProcRecord(name=name, pid=1, marker="m", log="l", started_at=0.0)
        sb.state.setdefault("processes", {})[name] = rec.to_json()
    sb._save_state()
    stopped = Sandbox(home=tmp_path / "home").down()
    assert sorted(stopped) == sorted(sb.broker_names())
    assert sorted(stop_calls) == sorted(sb.broker_names())
    assert Sandbox(home=tmp_path / "home").brokers["destination"] == 3
