"""``connshift sandbox``: a real two-cluster Kafka Connect estate on 127.0.0.1.

The same code serves users (``connshift sandbox up``), ``make demo`` and the
integration tests. State (ports, PIDs) lives in ``<home>/state.json`` so that
``status``/``down`` work from any directory and stop only what ``up`` started.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.core.acls import Acl
from connshift.errors import SandboxError, UsageError
from connshift.io import artifacts
from connshift.io.sandbox import jars, procs, security
from connshift.io.sandbox.security import SecurityFiles
from connshift.io.sandbox.services import (
    DEFAULT_PORTS,
    HOST,
    MAX_BROKERS,
    PORT_NAMES,
    POSTGRES_PASSWORD,
    ConnectWorker,
    KafkaBroker,
    Postgres,
    S3Server,
    Service,
    Tansu,
    broker_port_name,
    cluster_port_names,
    replication,
    resolve_ports,
)

STATE_SCHEMA = "connshift.sandbox-state/1"
SOURCE_SCRAM = "SCRAM-SHA-512"
DESTINATION_SCRAM = "SCRAM-SHA-256"
SECURE_SPEC_NAME = "sandbox-secure.yaml"
#: the secured listeners' port names (recorded in the state by every ``up``)
SECURED_PORTS = ("source-kafka-sasl", "destination-kafka-sasl", "destination-kafka-mtls")
SIDES = ("source", "destination")
Reporter = Callable[[str], None]


def default_home() -> Path:
    """Where the sandbox keeps data and state: ``$CONNSHIFT_SANDBOX_HOME``, or a fixed
    per-user directory (``/var/lib/connshift/sandbox`` for root, whose home the
    ``postgres`` OS user cannot enter; ``~/.local/state/connshift/sandbox`` otherwise)."""
    env = os.environ.get("CONNSHIFT_SANDBOX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    if os.geteuid() == 0:
        return Path("/var/lib/connshift/sandbox")
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "connshift" / "sandbox"


def check_brokers(value: int | None, flag: str) -> int | None:
    """``--brokers``/``--source-brokers``: None (keep what the sandbox runs) or 1 to
    :data:`MAX_BROKERS`."""
    if value is not None and not 1 <= value <= MAX_BROKERS:
        raise UsageError(
            f"bad {flag} {value}",
            why=f"a sandbox cluster has 1 to {MAX_BROKERS} brokers",
            fix=f"for example {flag} 3 (replication factor 3, min.insync.replicas 2)",
        )
    return value


def bootstrap(ports: Mapping[str, int], base: str, brokers: int) -> str:
    """The comma-separated addresses of a cluster's ``brokers`` on the listener whose first
    broker's port is named ``base`` (``destination-kafka``, ``destination-kafka-sasl``...)."""
    return ",".join(f"{HOST}:{ports[broker_port_name(base, i)]}" for i in range(1, brokers + 1))


def parse_ports(items: list[str]) -> dict[str, int]:
    """Parse ``NAME=PORT`` overrides, naming the bad one on error."""
    out: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in PORT_NAMES:
            raise UsageError(
                f"bad --port {item!r}",
                why="expected NAME=PORT with NAME one of "
                + ", ".join(n for n in PORT_NAMES if not n[-1].isdigit())
                + f" (broker i of a cluster, 2 to {MAX_BROKERS}: NAME-i, e.g. "
                "destination-kafka-2)",
                fix="for example --port source-kafka=19192",
            )
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise UsageError(f"bad --port {item!r}", why="PORT must be a number from 1 to 65535")
        out[name] = int(value)
    return out


@dataclass
class ServiceStatus:
    """One service's health as ``status`` reports it."""

    name: str
    address: str
    description: str
    pid: int | None
    running: bool
    healthy: bool
    log: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SandboxInfo:
    """What ``up``/``status`` report: where everything is."""

    home: Path
    ports: dict[str, int]
    with_tansu: bool
    services: list[ServiceStatus] = field(default_factory=list)
    #: brokers per cluster (``source``, ``destination``)
    brokers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 1))
    spec_path: Path | None = None
    secure_spec_path: Path | None = None
    started: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return bool(self.services) and all(s.healthy for s in self.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.sandbox/1",
            "home": str(self.home),
            "ports": self.ports,
            "with_tansu": self.with_tansu,
            "brokers": self.brokers,
            "healthy": self.healthy,
            "started": self.started,
            "spec": str(self.spec_path) if self.spec_path else None,
            "secure_spec": str(self.secure_spec_path) if self.secure_spec_path else None,
            "services": [s.to_json() for s in self.services],
            "endpoints": endpoints(self.ports, self.with_tansu, self.brokers),
        }


def endpoints(
    ports: Mapping[str, int], with_tansu: bool, brokers: Mapping[str, int] | None = None
) -> dict[str, str]:
    """The addresses a user needs, by role (a cluster's: every broker, comma-separated)."""
    n = {side: 1 for side in SIDES} | dict(brokers or {})
    out = {
        "source.kafka": bootstrap(ports, "source-kafka", n["source"]),
        "source.connect": f"http://{HOST}:{ports['source-connect']}",
        "destination.kafka": bootstrap(ports, "destination-kafka", n["destination"]),
        "destination.connect": f"http://{HOST}:{ports['destination-connect']}",
        "source.connect.metrics": f"http://{HOST}:{ports['source-connect-metrics']}/metrics",
        "destination.connect.metrics": (
            f"http://{HOST}:{ports['destination-connect-metrics']}/metrics"
        ),
        "postgres": f"postgresql://postgres@{HOST}:{ports['postgres']}/shop",
        # the secured listeners (users and passwords: <home>/secrets/, CA: <home>/tls/ca.pem)
        "source.kafka.sasl_ssl": bootstrap(ports, "source-kafka-sasl", n["source"]),
        "destination.kafka.sasl_ssl": bootstrap(ports, "destination-kafka-sasl", n["destination"]),
        "destination.kafka.mtls": bootstrap(ports, "destination-kafka-mtls", n["destination"]),
    }
    if with_tansu:
        out["tansu.kafka"] = f"{HOST}:{ports['tansu']}"
        out["s3"] = f"http://{HOST}:{ports['s3']}"
    return out


class Sandbox:
    """The set of local services, their state file, and the operations on them."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.state_file = self.home / "state.json"
        self.state = self._load_state()

    # ------------------------------------------------------------------ state
    def _load_state(self) -> dict[str, Any]:
        if self.state_file.is_file():
            try:
                data = artifacts.read_json(self.state_file)
            except ValueError:
                data = {}
            if isinstance(data, dict) and data.get("schema") == STATE_SCHEMA:
                return data
        return {"schema": STATE_SCHEMA, "ports": {}, "with_tansu": False, "processes": {}}

    def _save_state(self) -> None:
        artifacts.write_json_atomic(self.state_file, self.state)

    @property
    def ports(self) -> dict[str, int]:
        """Every port by name: the defaults, those recorded, and those of the brokers 2..N
        the sandbox runs (following their first broker's unless set)."""
        stored = {k: int(v) for k, v in self.state.get("ports", {}).items()}
        active = {*DEFAULT_PORTS, *stored}
        for side, n in self.brokers.items():
            active.update(cluster_port_names(side, n))
        return {k: v for k, v in resolve_ports(stored).items() if k in active}

    @property
    def brokers(self) -> dict[str, int]:
        """Brokers per cluster (``source``, ``destination``), as the last ``up`` chose
        (1 each for a sandbox that never chose)."""
        stored = self.state.get("brokers") or {}
        return {side: int(stored.get(side, 1)) for side in SIDES}

    def broker_names(self, side: str | None = None) -> list[str]:
        """The broker services' names: ``destination-kafka``, ``destination-kafka-2``..."""
        sides = SIDES if side is None else (side,)
        return [
            broker_port_name(f"{s}-kafka", i) for s in sides for i in range(1, self.brokers[s] + 1)
        ]

    def bootstrap(self, side: str, listener: str = "") -> str:
        """Every broker of ``side`` on its PLAINTEXT listener (``listener`` ``sasl``/``mtls``:
        that one), comma-separated."""
        base = f"{side}-kafka" + (f"-{listener}" if listener else "")
        return bootstrap(self.ports, base, self.brokers[side])

    @property
    def with_tansu(self) -> bool:
        return bool(self.state.get("with_tansu"))

    @property
    def security(self) -> SecurityFiles:
        """Where the sandbox's CA, certificates and passwords are (``<home>/tls``,
        ``<home>/secrets``)."""
        return SecurityFiles(self.home)

    def record(self, name: str) -> procs.ProcRecord | None:
        raw = self.state.get("processes", {}).get(name)
        return procs.ProcRecord.from_json(raw) if raw else None

    # ------------------------------------------------------------------ services
    def services(self, dists: Mapping[str, jars.KafkaDist] | None = None) -> list[Service]:
        """The services in start order (dependencies first)."""
        p = self.ports
        if dists is None:
            dists = {
                "source": jars.locate(jars.KAFKA_SOURCE_VERSION),
                "destination": jars.locate(jars.KAFKA_DESTINATION_VERSION),
            }
        src, dst = dists["source"], dists["destination"]
        agent = jars.jmx_exporter_jar()
        files = self.security
        out: list[Service] = [
            *self._cluster(
                "source",
                src,
                mechanism=SOURCE_SCRAM,
                acls=(
                    *security.connshift_acls("source"),
                    *security.connect_acls("connect-source", "connect"),
                ),
            ),
            *self._cluster(
                "destination",
                dst,
                mechanism=DESTINATION_SCRAM,
                acls=(
                    *security.connshift_acls("destination"),
                    *security.connect_acls("connect-destination", "connect-dst"),
                ),
            ),
            Postgres("postgres", self.home / "postgres", p["postgres"]),
        ]
        if self.with_tansu:
            out.append(S3Server("s3", self.home / "s3", p["s3"]))
            out.append(
                Tansu(
                    "tansu", self.home / "tansu", p["tansu"], s3_endpoint=f"http://{HOST}:{p['s3']}"
                )
            )
        out += [
            ConnectWorker(
                "source-connect",
                self.home / "source-connect",
                p["source-connect"],
                bootstrap=self.bootstrap("source", "sasl"),
                group_id="connect-source",
                topic_prefix="connect",
                dist=src,
                agent_jar=agent,
                metrics_port=p["source-connect-metrics"],
                security=files,
                sasl_mechanism=SOURCE_SCRAM,
                replication_factor=replication(self.brokers["source"])[0],
            ),
            ConnectWorker(
                "destination-connect",
                self.home / "destination-connect",
                p["destination-connect"],
                bootstrap=self.bootstrap("destination", "sasl"),
                group_id="connect-destination",
                topic_prefix="connect-dst",
                dist=dst,
                agent_jar=agent,
                metrics_port=p["destination-connect-metrics"],
                security=files,
                sasl_mechanism=DESTINATION_SCRAM,
                replication_factor=replication(self.brokers["destination"])[0],
            ),
        ]
        return out

    def _cluster(
        self, side: str, dist: jars.KafkaDist, *, mechanism: str, acls: tuple[Acl, ...]
    ) -> list[KafkaBroker]:
        """A cluster's brokers: node i at the ports named ``<side>-kafka[-i]`` etc., all in
        one combined-mode KRaft quorum; the first creates the SCRAM users and ACLs."""
        p = self.ports
        n = self.brokers[side]
        voters = tuple((i, p[broker_port_name(f"{side}-controller", i)]) for i in range(1, n + 1))
        out = []
        for i in range(1, n + 1):
            name = broker_port_name(f"{side}-kafka", i)
            mtls = broker_port_name(f"{side}-kafka-mtls", i)
            out.append(
                KafkaBroker(
                    name,
                    self.home / name,
                    p[name],
                    controller_port=p[broker_port_name(f"{side}-controller", i)],
                    dist=dist,
                    security=self.security,
                    sasl_port=p[broker_port_name(f"{side}-kafka-sasl", i)],
                    sasl_mechanism=mechanism,
                    mtls_port=p[mtls] if side == "destination" else None,
                    acls=acls if i == 1 else (),
                    manages_principals=i == 1,
                    node_id=i,
                    voters=voters if n > 1 else (),
                    cluster_id_file=(self.home / f"{side}-kafka" / "cluster.id") if n > 1 else None,
                )
            )
        return out

    def files_dir(self) -> Path:
        """Where FileStream connectors read and write (shared by both workers)."""
        return self.home / "files"

    # ------------------------------------------------------------------ operations
    def status(self) -> SandboxInfo:
        """Each service's process and health, without changing anything."""
        info = SandboxInfo(
            home=self.home, ports=self.ports, with_tansu=self.with_tansu, brokers=self.brokers
        )
        for svc in self.services():
            rec = self.record(svc.name)
            running = rec is not None and procs.is_alive(rec)
            healthy = running and svc.ready()
            info.services.append(
                ServiceStatus(
                    name=svc.name,
                    address=svc.address,
                    description=svc.describe(),
                    pid=rec.pid if rec else None,
                    running=running,
                    healthy=healthy,
                    log=str(svc.log),
                )
            )
        return info

    def up(
        self,
        *,
        with_tansu: bool = False,
        ports: Mapping[str, int] | None = None,
        brokers: int | None = None,
        source_brokers: int | None = None,
        timeout: float = 180.0,
        report: Reporter = lambda _msg: None,
    ) -> SandboxInfo:
        """Start every service that is not already running and healthy (idempotent).

        ``brokers``/``source_brokers``: the destination's/source's broker count; None keeps
        what the sandbox was last started with (1 for a new one). A cluster with data
        cannot change its count (its KRaft voter set is fixed when it is formatted):
        :class:`UsageError` then, naming ``sandbox down --purge``."""
        wanted = {
            "source": check_brokers(source_brokers, "--source-brokers"),
            "destination": check_brokers(brokers, "--brokers"),
        }
        resized = self._resize(wanted, report)
        ports = dict(ports or {})
        running = [n for n in self.state.get("processes", {}) if self._alive(n)]
        stored = self.state.get("ports", {})
        # a sandbox started before the secured listeners existed never bound their ports
        unbound = {n for n in SECURED_PORTS if n not in stored}
        changed = {k: v for k, v in ports.items() if self.ports.get(k) != v and k not in unbound}
        if running and changed:
            raise UsageError(
                "the sandbox is already running with other ports",
                why="asked for " + ", ".join(f"{k}={v}" for k, v in changed.items()),
                fix="run `connshift sandbox down` first, then `up` with the new ports",
            )
        secured = {n: self.ports[n] for n in SECURED_PORTS}
        self.state["ports"] = {**stored, **secured, **ports}
        self.state["brokers"] = resized
        self.state["with_tansu"] = self.with_tansu or with_tansu
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o755)
        self.files_dir().mkdir(parents=True, exist_ok=True)
        self.files_dir().chmod(0o777)
        self._check_ports()
        security.ensure(self.home, tuple(self.broker_names()), db_password=POSTGRES_PASSWORD)

        if not jars.is_fetched():
            report("resolving Kafka, Connect and Debezium jars from Maven Central (once)")
        dists = jars.fetch_all()
        started: list[str] = []
        services = self.services(dists)
        # two waves: brokers, PostgreSQL and storage first; then what depends on them
        first = [s for s in services if not isinstance(s, (ConnectWorker, Tansu))]
        second = [s for s in services if isinstance(s, (ConnectWorker, Tansu))]
        for wave in (first, second):
            pending = []
            for svc in wave:
                if self._alive(svc.name) and svc.ready():
                    if not svc.outdated():
                        continue
                    rec = self.record(svc.name)
                    assert rec is not None
                    report(f"restarting {svc.name} (started without what it runs with now)")
                    procs.stop(rec, sig=svc.stop_signal, timeout=30.0)
                report(f"starting {svc.describe()}")
                svc.prepare()
                rec = svc.start()
                self.state.setdefault("processes", {})[svc.name] = rec.to_json()
                self._save_state()
                pending.append(svc)
                started.append(svc.name)
            self._wait_ready(pending, timeout, report)
            for svc in wave:
                svc.after_ready()
        self._save_state()
        info = self.status()
        info.started = started
        return info

    def down(self, *, purge: bool = False, report: Reporter = lambda _msg: None) -> list[str]:
        """Stop what the sandbox started (by PID and command line); ``purge`` deletes data.

        A cluster's brokers are stopped together: stopped one by one, the last ones of a
        three-node KRaft quorum wait for a controller majority that is gone."""
        stopped: list[str] = []
        for batch in _stop_batches(reversed(self.services())):
            running: list[tuple[Service, procs.ProcRecord]] = []
            for svc in batch:
                rec = self.record(svc.name)
                if rec is None:
                    continue
                if procs.is_alive(rec):
                    report(f"stopping {svc.name} (pid {rec.pid})")
                    running.append((svc, rec))
                    stopped.append(svc.name)
                self.state.get("processes", {}).pop(svc.name, None)
            _stop_all(running)
        if purge:
            import shutil

            if self.home.exists():
                report(f"deleting {self.home}")
                shutil.rmtree(self.home)
            self.state = self._load_state()
        else:
            self._save_state()
        return stopped

    # ------------------------------------------------------------------ helpers
    def _has_data(self, side: str) -> bool:
        """Whether any broker directory of ``side`` holds a formatted log directory."""
        return any(
            (d / "data" / "meta.properties").is_file()
            for d in self.home.glob(f"{side}-kafka*")
            if d.is_dir()
        )

    def _resize(self, wanted: Mapping[str, int | None], report: Reporter) -> dict[str, int]:
        """The broker count per cluster for this ``up``: as asked, or as before; refused
        (one line) when a cluster with data would change its count."""
        current = self.brokers
        out: dict[str, int] = {}
        for side in SIDES:
            ask = wanted.get(side)
            now = current[side]
            if ask is None or ask == now:
                if ask is None and now > 1:
                    flag = "--brokers" if side == "destination" else "--source-brokers"
                    report(f"keeping the {side}'s {now} brokers ({flag} {now} from before)")
                out[side] = now
                continue
            if self._has_data(side):
                flag = "--brokers" if side == "destination" else "--source-brokers"
                raise UsageError(
                    f"the sandbox's {side} has {now} broker{'s' if now > 1 else ''} and data: "
                    f"{flag} {ask} needs `connshift sandbox down --purge` first",
                    why="a KRaft cluster's controller quorum is fixed when its brokers are "
                    "formatted; it cannot grow or shrink in place",
                    fix=f"`down --purge` deletes {self.home}; then `connshift sandbox up "
                    f"{flag} {ask}`",
                )
            out[side] = ask
        return out

    def _alive(self, name: str) -> bool:
        rec = self.record(name)
        return rec is not None and procs.is_alive(rec)

    def _check_ports(self) -> None:
        """Refuse to start a service whose port another process already holds."""
        for svc in self.services():
            if self._alive(svc.name):
                continue
            wanted = [svc.port]
            if isinstance(svc, KafkaBroker):
                wanted.append(svc.controller_port)
                wanted += svc.secured_ports()
            if isinstance(svc, ConnectWorker) and svc.metrics_port is not None:
                wanted.append(svc.metrics_port)
            for port in wanted:
                if procs.port_open(HOST, port):
                    raise SandboxError(
                        f"port {port} for {svc.name} is already in use by another process",
                        why="the sandbox did not start whatever listens there",
                        fix=f"stop that process, or pick another port: --port {svc.name}=PORT",
                    )

    def _wait_ready(self, pending: list[Service], timeout: float, report: Reporter) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(pending)
        while waiting:
            for svc in list(waiting):
                rec = self.record(svc.name)
                if rec is None or not procs.is_alive(rec):
                    raise SandboxError(
                        f"{svc.name} exited while starting",
                        why=procs.log_tail(svc.log, 3) or "no output",
                        fix=f"see {svc.log}",
                    )
                if svc.ready():
                    report(f"{svc.name} is ready")
                    waiting.remove(svc)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise SandboxError(
                    f"{names} did not become ready within {timeout:.0f}s",
                    fix=f"see the logs under {self.home}",
                )
            if waiting:
                time.sleep(0.5)


def _stop_batches(services: Iterable[Service]) -> list[list[Service]]:
    """Services in stop order, a cluster's brokers (consecutive) in one batch."""
    out: list[list[Service]] = []
    for svc in services:
        prev = out[-1][-1] if out else None
        if (
            isinstance(svc, KafkaBroker)
            and isinstance(prev, KafkaBroker)
            and prev.voters
            and prev.voters == svc.voters
        ):
            out[-1].append(svc)
        else:
            out.append([svc])
    return out


def _stop_all(running: list[tuple[Service, procs.ProcRecord]]) -> None:
    """Stop every process in ``running`` at once (each: its stop signal, 30 s, SIGKILL)."""
    if len(running) == 1:
        svc, rec = running[0]
        procs.stop(rec, sig=svc.stop_signal, timeout=30.0)
        return
    threads = [
        threading.Thread(
            target=procs.stop, args=(rec,), kwargs={"sig": svc.stop_signal, "timeout": 30.0}
        )
        for svc, rec in running
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def write_sandbox_spec(sandbox: Sandbox, path: Path) -> Path:
    """Write the migration spec that points at this sandbox (``sandbox.yaml``)."""
    return artifacts.write_text_atomic(Path(path), sandbox_spec_text(sandbox))


def sandbox_spec_text(sandbox: Sandbox, *, state_dir: str = ".connshift") -> str:
    """The migration spec (YAML text) that points at this sandbox."""
    from connshift.core.spec import sandbox_spec_yaml

    p = sandbox.ports
    return sandbox_spec_yaml(
        source_kafka=sandbox.bootstrap("source"),
        source_connect=f"http://{HOST}:{p['source-connect']}",
        dest_kafka=sandbox.bootstrap("destination"),
        dest_connect=f"http://{HOST}:{p['destination-connect']}",
        source_metrics=f"http://{HOST}:{p['source-connect-metrics']}/metrics",
        dest_metrics=f"http://{HOST}:{p['destination-connect-metrics']}/metrics",
        tansu_kafka=f"{HOST}:{p['tansu']}" if sandbox.with_tansu else None,
        state_dir=state_dir,
    )


def secure_spec_path(spec_path: Path) -> Path:
    """Where ``sandbox-secure.yaml`` goes: beside the plain spec."""
    return Path(spec_path).with_name(SECURE_SPEC_NAME)


def write_secure_spec(sandbox: Sandbox, path: Path) -> Path:
    """Write ``sandbox-secure.yaml``: the sandbox's estate on the SASL_SSL listeners."""
    return artifacts.write_text_atomic(Path(path), sandbox_secure_spec_text(sandbox))


def sandbox_secure_spec_text(sandbox: Sandbox, *, state_dir: str = ".connshift") -> str:
    """The migration spec for the sandbox's secured listeners: both clusters on SASL_SSL
    as user ``connshift`` (source SCRAM-SHA-512, destination SCRAM-SHA-256), the
    passwords as ``${file:...}`` references to ``<home>/secrets``, the sandbox's CA."""
    from connshift.core.spec import SaslTls, sandbox_spec_yaml

    p = sandbox.ports
    files = sandbox.security
    password_ref = f"${{file:{files.password_file('connshift')}}}"
    ca = str(files.ca_file)
    mtls = sandbox.bootstrap("destination", "mtls")
    return sandbox_spec_yaml(
        source_kafka=sandbox.bootstrap("source", "sasl"),
        source_connect=f"http://{HOST}:{p['source-connect']}",
        dest_kafka=sandbox.bootstrap("destination", "sasl"),
        dest_connect=f"http://{HOST}:{p['destination-connect']}",
        source_metrics=f"http://{HOST}:{p['source-connect-metrics']}/metrics",
        dest_metrics=f"http://{HOST}:{p['destination-connect-metrics']}/metrics",
        source_security=SaslTls(SOURCE_SCRAM, "connshift", password_ref, ca),
        dest_security=SaslTls(DESTINATION_SCRAM, "connshift", password_ref, ca),
        comments=(
            "The same estate as sandbox.yaml, on the secured listeners, as user connshift",
            "(its ACLs: least privilege). Passwords stay in <sandbox home>/secrets/.",
            f"The destination's mTLS listener is {mtls}: security_protocol SSL with",
            f"tls: {{ca_file: {ca}, cert_file: {files.client_cert},",
            f"key_file: {files.client_key}}} (principal User:connshift, the certificate's CN).",
        ),
        state_dir=state_dir,
    )
