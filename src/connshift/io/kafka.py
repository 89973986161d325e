"""The only module that imports confluent-kafka.

A thin wrapper over librdkafka's admin client, producer and consumer that speaks
connshift's types and maps librdkafka's errors into :class:`KafkaError` with the
cluster (and topic/partition/group) a user needs to act. librdkafka's own log
lines go to the ``connshift.librdkafka`` logger, never straight to the terminal.

:class:`KafkaCluster` is one cluster (its admin client made lazily);
:meth:`KafkaCluster.open_producer` and :meth:`KafkaCluster.open_consumer` give a
:class:`KafkaProducer` / :class:`KafkaConsumer`: librdkafka's clients behind
connshift's errors, with ``close()`` and ``with`` support. Their per-record methods
(``produce``, and reading a consumed message) are librdkafka's own, so the copy's
hot loop pays nothing for the wrapping; everything else translates librdkafka's
errors here, once. (:meth:`KafkaCluster.producer` / :meth:`KafkaCluster.consumer`
still hand out the bare librdkafka objects, for callers not yet moved over.)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka import KafkaError as _RdError
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
)

from connshift.core.acls import Acl
from connshift.errors import (
    KafkaAccessDenied,
    KafkaAuthError,
    KafkaError,
    KafkaNoAuthorizer,
    KafkaUnavailable,
)

LOG = logging.getLogger("connshift.librdkafka")
LOG.addHandler(logging.NullHandler())
LOG.propagate = False

Headers = list[tuple[str, bytes | None]]

#: librdkafka's "reached the end of the partition" event code (a consumed message's error)
PARTITION_EOF = _RdError._PARTITION_EOF

#: a consumed (or delivered) message as librdkafka gives it: ``topic()``, ``partition()``,
#: ``offset()``, ``key()``, ``value()``, ``headers()``, ``timestamp()``, ``error()``
Message = Any
#: a rebalance callback of :meth:`KafkaConsumer.subscribe`
RebalanceCallback = Callable[["KafkaConsumer", list[TopicPartition]], None]

__all__ = [
    "OFFSET_BEGINNING",
    "OFFSET_END",
    "PARTITION_EOF",
    "Delivery",
    "KafkaCluster",
    "KafkaConsumer",
    "KafkaProducer",
    "Message",
    "OutRecord",
    "RebalanceCallback",
    "Record",
    "TopicPartition",
]


@dataclass(frozen=True)
class Record:
    """One consumed record, with the fields a copy must preserve."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp: int
    timestamp_type: int


@dataclass(frozen=True)
class OutRecord:
    """A record to produce: ``timestamp`` (ms) and ``partition`` are optional."""

    key: bytes | None
    value: bytes | None
    headers: Headers | None = None
    timestamp: int | None = None
    partition: int | None = None


@dataclass(frozen=True)
class Delivery:
    """Where a produced record landed, or the error the client saw (``error``)."""

    partition: int | None
    offset: int | None
    timestamp: tuple[int, int] | None
    error: str | None


@dataclass(frozen=True)
class ClusterInfo:
    """What a cluster says about itself."""

    cluster_id: str | None
    controller_id: int | None
    brokers: list[str]


@dataclass(frozen=True)
class TopicInfo:
    """A topic's partition count (and, when asked, its configs)."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)


def _headers(raw: Any) -> Headers:
    """librdkafka gives headers as a list of (name, value) pairs (or None)."""
    return [
        (str(k), v if v is None or isinstance(v, bytes) else str(v).encode()) for k, v in raw or []
    ]


#: Kafka calls resource type 4 CLUSTER; librdkafka calls it BROKER
_RESOURCE_TO_RD = {"CLUSTER": "BROKER"}
_RESOURCE_FROM_RD = {v: k for k, v in _RESOURCE_TO_RD.items()}


def _acl_args(a: Acl) -> tuple[Any, ...]:
    """An :class:`Acl` as the positional arguments of AclBinding / AclBindingFilter."""
    return (
        ResourceType[_RESOURCE_TO_RD.get(a.resource_type, a.resource_type)],
        a.name,
        ResourcePatternType[a.pattern_type],
        a.principal,
        a.host,
        AclOperation[a.operation],
        AclPermissionType[a.permission],
    )


def _acl_of(b: Any) -> Acl:
    """An AclBinding as connshift's :class:`Acl`."""
    return Acl(
        resource_type=_RESOURCE_FROM_RD.get(b.restype.name, b.restype.name),
        name=b.name,
        pattern_type=b.resource_pattern_type.name,
        principal=b.principal,
        host=b.host,
        operation=b.operation.name,
        permission=b.permission_type.name,
    )


def _why(exc: BaseException | _RdError) -> str:
    """librdkafka's name and text of an error (a KafkaException's, or a message's error)."""
    err = _rd_error(exc)
    if err is not None:
        return f"{err.name()}: {err.str()}"
    return str(exc) or type(exc).__name__


#: an ApiVersions v0 request (api key 18, correlation id 1, client id "connshift"), then an
#: empty line: a broker answers the request (and drops the connection on the rest), an HTTP
#: server takes it all as a bad request line and answers ``HTTP/1.x 400`` (or, taking it
#: for HTTP/0.9, an HTML page)
_API_VERSIONS_V0 = b"\x00\x00\x00\x13\x00\x12\x00\x00\x00\x00\x00\x01\x00\x09connshift\r\n\r\n"


def _answers_http(bootstrap: str, timeout: float = 2.0) -> str | None:
    """The first ``host:port`` of ``bootstrap`` that answers a Kafka request with HTTP (a
    Connect or registry port given as a broker), or None. Asked only after a failure, to
    say why; plain TCP, so a TLS or SASL listener is never mistaken for one."""
    import socket

    for server in bootstrap.split(",")[:3]:
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
                sock.settimeout(timeout)
                sock.sendall(_API_VERSIONS_V0)
                if sock.recv(5).startswith((b"HTTP/", b"<")):  # a status line, or HTTP/0.9
                    return server.strip()
        except (OSError, ValueError):
            continue
    return None


#: librdkafka's codes for "the authorizer said no", and the resource each is about
_DENIED = {
    _RdError.TOPIC_AUTHORIZATION_FAILED: "topic",
    _RdError.GROUP_AUTHORIZATION_FAILED: "group",
    _RdError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
    _RdError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
}


def _rd_error(exc: BaseException | _RdError) -> _RdError | None:
    if isinstance(exc, _RdError):
        return exc
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], _RdError):
        return exc.args[0]
    return None


def _is_eof(err: _RdError) -> bool:
    """Whether a consumed message's error is the partition-EOF event (not a failure)."""
    return bool(err.code() == _RdError._PARTITION_EOF)


#: librdkafka's codes for "not now": a broker restarting or unreachable, a leader moving,
#: a request timing out (librdkafka itself retries these; a follower waits them out)
_TRANSIENT = frozenset(
    {
        _RdError._TRANSPORT,
        _RdError._ALL_BROKERS_DOWN,
        _RdError._TIMED_OUT,
        _RdError._MSG_TIMED_OUT,
        _RdError._WAIT_COORD,
        _RdError._TIMED_OUT_QUEUE,
        _RdError.LEADER_NOT_AVAILABLE,
        _RdError.NOT_LEADER_FOR_PARTITION,
        _RdError.REQUEST_TIMED_OUT,
        _RdError.NETWORK_EXCEPTION,
        _RdError.NOT_ENOUGH_REPLICAS,
        _RdError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        _RdError.COORDINATOR_NOT_AVAILABLE,
        _RdError.NOT_COORDINATOR,
        _RdError.COORDINATOR_LOAD_IN_PROGRESS,
        _RdError.REPLICA_NOT_AVAILABLE,
        _RdError.KAFKA_STORAGE_ERROR,
    }
)


def _error_class(err: _RdError | None) -> type[KafkaError]:
    return KafkaUnavailable if err is not None and err.code() in _TRANSIENT else KafkaError


def _read_error(err: _RdError, what: str, **context: object) -> KafkaError:
    """A consumed message's (non-EOF) error as a :class:`KafkaError`
    (:class:`KafkaUnavailable` for a transient one)."""
    return _error_class(err)(what, why=_why(err), fix=None, **context)


#: a TLS alert from the peer in a librdkafka transport error (a refused client certificate)
_TLS_ALERT = re.compile(r"SSL routines|ssl/tls alert|SSL alert number", re.I)


#: :meth:`KafkaCluster.create_topics`: partitions per CreateTopics request (at least one
#: topic per request)
CREATE_PARTITIONS_PER_REQUEST = 100


def _chunks(topics: Sequence[NewTopic], partitions: int) -> Iterator[list[NewTopic]]:
    """``topics`` in runs of about ``partitions`` partitions (at least one topic each)."""
    run: list[NewTopic] = []
    count = 0
    for t in topics:
        if run and count + t.num_partitions > partitions:
            yield run
            run, count = [], 0
        run.append(t)
        count += t.num_partitions
    if run:
        yield run


@dataclass(frozen=True)
class NewTopicSpec:
    """A topic to create: name, partition count, configs."""

    name: str
    partitions: int
    config: Mapping[str, str] = field(default_factory=dict)


def _values(entries: Mapping[str, Any]) -> dict[str, str]:
    """Every config that has a value (DescribeConfigs entries)."""
    return {k: v.value for k, v in entries.items() if v.value is not None}


def _explicit(entries: Mapping[str, Any]) -> dict[str, str]:
    """Only the configs set on the topic itself (DescribeConfigs entries)."""
    return {
        k: v.value
        for k, v in entries.items()
        if v.value is not None and v.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    }


class KafkaCluster:
    """One Kafka cluster, reached with librdkafka configuration ``config``.

    ``name`` ("source", "destination", ...) labels errors. The admin client is
    created lazily and reused.
    """

    def __init__(self, config: Mapping[str, Any], *, name: str = "kafka") -> None:
        self.config = dict(config)
        self.name = name
        self._admin: AdminClient | None = None
        self._auth_failure: str | None = None

    @property
    def bootstrap(self) -> str:
        return str(self.config.get("bootstrap.servers", "?"))

    def _client_config(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        cfg = {**self.config, "logger": LOG}
        if extra:
            cfg.update(extra)
        return cfg

    def translate(self, what: str, exc: BaseException | _RdError, **context: object) -> KafkaError:
        """librdkafka's error ``exc`` (an exception, or a message's error) as a KafkaError;
        a :class:`KafkaAuthError` when the listener refused our credentials meanwhile."""
        refused = self.auth_refused(what, **context)
        if refused is not None:
            return refused
        err = _rd_error(exc)
        if err is not None and err.code() in _DENIED:
            return self.denied(what, _DENIED[err.code()], _why(exc), **context)
        return _error_class(err)(
            what,
            why=_why(exc),
            fix=f"check that the {self.name} cluster at {self.bootstrap} is running and reachable",
            cluster=self.name,
            **context,
        )

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            config: dict[str, Any] = {**self._client_config(), "error_cb": self._on_error}
            self._admin = AdminClient(config)
        return self._admin

    def _on_error(self, err: _RdError) -> None:
        """librdkafka's client-level errors: keep the last authentication or TLS failure
        (librdkafka retries such a connection until the request times out)."""
        if err.code() in (_RdError._AUTHENTICATION, _RdError._SSL) or (
            # the broker refused our certificate: an alert read where a response was due
            err.code() == _RdError._TRANSPORT and _TLS_ALERT.search(err.str())
        ):
            self._auth_failure = err.str()

    def principal(self) -> str:
        """Who this client says it is: the SASL mechanism and user, or the TLS certificate
        (never a secret)."""
        protocol = str(self.config.get("security.protocol", "PLAINTEXT")).upper()
        if protocol.startswith("SASL"):
            mechanism = self.config.get("sasl.mechanism", self.config.get("sasl.mechanisms", "?"))
            return f"{protocol}, {mechanism}, user '{self.config.get('sasl.username', '?')}'"
        if "ssl.certificate.location" in self.config:
            return f"{protocol}, certificate {self.config['ssl.certificate.location']}"
        return protocol

    def denied(self, what: str, resource: str, why: str, **context: object) -> KafkaAccessDenied:
        """The one line for an operation the cluster's authorizer refused our principal."""
        user = self.config.get("sasl.username")
        principal = f"User:{user}" if user else f"connshift ({self.principal()})"
        named = next((f"{k} {v}" for k, v in context.items() if k in ("topic", "group")), "")
        return KafkaAccessDenied(
            f"{what}: the {self.name} cluster's authorizer refused {principal}"
            + (f" on {named}" if named else f" (a {resource} ACL)"),
            why=why,
            fix=f"grant {principal} the {resource} ACL this needs on the {self.name} cluster, "
            "or use a principal that has it; this step changed nothing",
            cluster=self.name,
            **context,
        )

    def auth_refused(self, what: str, **context: object) -> KafkaAuthError | None:
        """The error to raise when the listener refused our credentials (None: it did not)."""
        if self._admin is not None:
            self._admin.poll(0)  # serve the client-level error callbacks queued meanwhile
        failure = self._auth_failure
        if failure is None:
            return None
        return KafkaAuthError(
            f"{what}: the {self.name} Kafka cluster at {self.bootstrap} refused connshift "
            f"({self.principal()})",
            why=failure,
            fix=f"check the {self.name} cluster's sasl/tls settings in the spec (user, "
            "password file, CA, client certificate)",
            cluster=self.name,
            **context,
        )

    def close(self) -> None:
        """Let go of the admin client (idempotent; the cluster object stays usable)."""
        self._admin = None

    def __enter__(self) -> KafkaCluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ cluster
    def check_reachable(self, timeout: float = 10.0) -> ClusterInfo:
        """Ask the cluster to describe itself; :class:`KafkaError` when unreachable,
        :class:`KafkaAuthError` when it refused our credentials."""
        try:
            fut = self.admin.describe_cluster(request_timeout=timeout)
            desc = fut.result(timeout=timeout + 1)
        except Exception as exc:
            refused = self.auth_refused(f"could not reach the {self.name} Kafka cluster")
            if refused is not None:
                raise refused from exc
            http = _answers_http(self.bootstrap)
            raise KafkaError(
                f"could not reach the {self.name} Kafka cluster at {self.bootstrap}",
                why=f"{http} answers HTTP, not the Kafka protocol" if http else _why(exc),
                fix="check bootstrap_servers in the spec: that is a web port (Kafka Connect's "
                "REST API, a schema registry?), not a Kafka listener"
                if http
                else "check bootstrap_servers in the spec and that the cluster is running",
                cluster=self.name,
            ) from exc
        controller = desc.controller.id if desc.controller is not None else None
        return ClusterInfo(
            cluster_id=desc.cluster_id,
            controller_id=controller,
            brokers=[f"{n.host}:{n.port}" for n in desc.nodes],
        )

    def topics(self, timeout: float = 10.0) -> dict[str, TopicInfo]:
        """All topics (internal ones included) with their partition counts."""
        try:
            md = self.admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise self.translate(f"could not list topics on the {self.name} cluster", exc) from exc
        return {
            name: TopicInfo(name=name, partitions=len(t.partitions))
            for name, t in md.topics.items()
            if t.error is None
        }

    def describe_topic(self, name: str, timeout: float = 10.0) -> dict[str, int]:
        """Partition count and replication factor (the smallest over partitions)."""
        try:
            md = self.admin.list_topics(topic=name, timeout=timeout)
        except KafkaException as exc:
            raise self.translate(f"could not describe topic {name}", exc, topic=name) from exc
        t = md.topics.get(name)
        if t is None or t.error is not None:
            raise KafkaError(f"topic {name} does not exist on the {self.name} cluster", topic=name)
        replicas = [len(p.replicas) for p in t.partitions.values()]
        return {"partitions": len(t.partitions), "replication_factor": min(replicas or [0])}

    def describe_topics(
        self, names: Iterable[str], timeout: float = 30.0
    ) -> dict[str, dict[str, int]]:
        """:meth:`describe_topic` for many topics from one Metadata request (missing
        topics are left out)."""
        try:
            md = self.admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise self.translate(f"could not list topics on the {self.name} cluster", exc) from exc
        out: dict[str, dict[str, int]] = {}
        for name in names:
            t = md.topics.get(name)
            if t is None or t.error is not None:
                continue
            replicas = [len(p.replicas) for p in t.partitions.values()]
            out[name] = {
                "partitions": len(t.partitions),
                "replication_factor": min(replicas or [0]),
            }
        return out

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        *,
        replication_factor: int = 1,
        config: Mapping[str, str] | None = None,
        exist_ok: bool = True,
        timeout: float = 30.0,
    ) -> bool:
        """Create ``name``; True if created, False if it existed (and ``exist_ok``)."""
        return self.create_topics(
            [NewTopicSpec(name, partitions, dict(config or {}))],
            replication_factor=replication_factor,
            exist_ok=exist_ok,
            timeout=timeout,
        )[name]

    def create_topics(
        self,
        topics: Sequence[NewTopicSpec],
        *,
        replication_factor: int = 1,
        exist_ok: bool = True,
        timeout: float = 30.0,
        wait: bool = True,
    ) -> dict[str, bool]:
        """Create many topics, then (``wait``) wait until every partition of those created
        has a leader; per name: True if created, False if it existed (and ``exist_ok``).
        The first refusal raises (the topics before it may be created)."""
        if not topics:
            return {}
        new = [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=replication_factor,
                config=dict(t.config),
            )
            for t in topics
        ]
        # sent as several requests at once, not one: a broker applies one CreateTopics as
        # one metadata change, and serves none of its partitions until it has created the
        # logs of all of them (2,000 partitions in one request: ~10 s here, the first
        # partition served only at the end; in requests of ~100 partitions: ~6 s, the first
        # served after ~0.3 s)
        futs: dict[str, Any] = {}
        for chunk in _chunks(new, CREATE_PARTITIONS_PER_REQUEST):
            futs.update(self.admin.create_topics(chunk, operation_timeout=timeout))
        created: dict[str, bool] = {}
        for t in topics:
            try:
                futs[t.name].result(timeout=timeout + 5)
                created[t.name] = True
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if (
                    exist_ok
                    and isinstance(err, _RdError)
                    and err.code() == _RdError.TOPIC_ALREADY_EXISTS
                ):
                    created[t.name] = False
                    continue
                raise self.translate(f"could not create topic {t.name}", exc, topic=t.name) from exc
        if wait:
            self._wait_for_topics([n for n, c in created.items() if c], timeout)
        return created

    def _wait_for_topics(self, names: Sequence[str], timeout: float) -> None:
        """Wait until the new topics are known and every partition has a leader (a produce
        right after creation otherwise meets NOT_LEADER_OR_FOLLOWER)."""
        waiting = set(names)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            try:
                # one topic: ask for it alone; many: one Metadata request for them all
                md = self.admin.list_topics(
                    **({"topic": next(iter(waiting))} if len(waiting) == 1 else {}), timeout=5
                )
            except KafkaException:
                md = None
            for name in list(waiting):
                t = md.topics.get(name) if md is not None else None
                if (
                    t is not None
                    and t.error is None
                    and t.partitions
                    and all(p.leader >= 0 for p in t.partitions.values())
                ):
                    waiting.discard(name)
            if waiting:
                time.sleep(0.1)

    def delete_topic(self, name: str, timeout: float = 30.0) -> None:
        fut = self.admin.delete_topics([name], operation_timeout=timeout)[name]
        try:
            fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not delete topic {name}", exc, topic=name) from exc

    def topic_configs(self, name: str, timeout: float = 10.0) -> dict[str, str]:
        """The topic's configuration values (defaults included)."""
        res = ConfigResource(ResourceType.TOPIC, name)
        try:
            entries = self.admin.describe_configs([res], request_timeout=timeout)[res].result()
        except KafkaException as exc:
            raise self.translate(f"could not describe topic {name}", exc, topic=name) from exc
        return _values(entries)

    def topics_configs(
        self, names: Sequence[str], *, chunk: int = 200, timeout: float = 30.0
    ) -> dict[str, dict[str, str]]:
        """:meth:`topic_configs` for many topics, ``chunk`` topics per DescribeConfigs."""
        return self._describe_many(names, _values, chunk=chunk, timeout=timeout)

    def _describe_many(
        self,
        names: Sequence[str],
        pick: Callable[[Mapping[str, Any]], dict[str, str]],
        *,
        chunk: int,
        timeout: float,
    ) -> dict[str, dict[str, str]]:
        """DescribeConfigs of many topics, ``chunk`` per request; ``pick`` keeps what the
        caller wants of each topic's entries."""
        out: dict[str, dict[str, str]] = {}
        for i in range(0, len(names), chunk):
            resources = [ConfigResource(ResourceType.TOPIC, n) for n in names[i : i + chunk]]
            try:
                futs = self.admin.describe_configs(resources, request_timeout=timeout)
                for res, fut in futs.items():
                    out[res.name] = pick(fut.result(timeout=timeout + 5))
            except KafkaException as exc:
                raise self.translate(
                    f"could not describe the configs of {len(resources)} topics", exc
                ) from exc
        return out

    def explicit_topic_configs(self, name: str, timeout: float = 10.0) -> dict[str, str]:
        """Only the configs set on the topic itself (not broker defaults): what a copy maps."""
        res = ConfigResource(ResourceType.TOPIC, name)
        try:
            entries = self.admin.describe_configs([res], request_timeout=timeout)[res].result()
        except KafkaException as exc:
            raise self.translate(f"could not describe topic {name}", exc, topic=name) from exc
        return _explicit(entries)

    def explicit_topics_configs(
        self, names: Sequence[str], *, chunk: int = 200, timeout: float = 30.0
    ) -> dict[str, dict[str, str]]:
        """:meth:`explicit_topic_configs` for many topics, ``chunk`` per DescribeConfigs."""
        return self._describe_many(names, _explicit, chunk=chunk, timeout=timeout)

    def rejected_topic_configs(
        self, name: str, partitions: int, config: Mapping[str, str], timeout: float = 30.0
    ) -> dict[str, str]:
        """Which of ``config``'s keys this cluster refuses for a new topic, with its reason.

        Asks with ``validate_only`` (nothing is created): first all keys at once, then,
        if refused, each key on its own.
        """
        found = self.rejected_topics_configs(
            [NewTopicSpec(name, partitions, dict(config))], timeout=timeout
        )
        return found.get(name, {})

    def rejected_topics_configs(
        self, topics: Sequence[NewTopicSpec], timeout: float = 30.0
    ) -> dict[str, dict[str, str]]:
        """:meth:`rejected_topic_configs` of many new topics: one ``validate_only`` request
        for all of them, then each key on its own only for the topics refused."""

        def refused(specs: Sequence[NewTopicSpec]) -> dict[str, str]:
            new = [
                NewTopic(
                    t.name,
                    num_partitions=t.partitions,
                    replication_factor=-1,
                    config=dict(t.config),
                )
                for t in specs
            ]
            futs = self.admin.create_topics(new, validate_only=True, operation_timeout=timeout)
            out: dict[str, str] = {}
            for t in specs:
                try:
                    futs[t.name].result(timeout=timeout + 5)
                except KafkaException as exc:
                    err = exc.args[0] if exc.args else None
                    if isinstance(err, _RdError) and err.code() == _RdError.TOPIC_ALREADY_EXISTS:
                        continue
                    out[t.name] = _why(exc)
            return out

        asked = {t.name: t for t in topics if t.config}
        if not asked:
            return {}
        out: dict[str, dict[str, str]] = {}
        for name in refused(list(asked.values())):
            t = asked[name]
            for key, value in t.config.items():
                why = refused([NewTopicSpec(name, t.partitions, {key: value})]).get(name)
                if why is not None:
                    out.setdefault(name, {})[key] = why
        return out

    def end_offsets(
        self, topic: str, partitions: Sequence[int], timeout: float = 30.0
    ) -> dict[int, tuple[int, int]]:
        """:meth:`end_offsets_of` for partitions of one topic, keyed by partition."""
        found = self.end_offsets_of([(topic, p) for p in partitions], timeout=timeout)
        return {p: found[(topic, p)] for p in partitions}

    def end_offsets_of(
        self,
        partitions: Iterable[tuple[str, int]],
        timeout: float = 30.0,
    ) -> dict[tuple[str, int], tuple[int, int]]:
        """(log start, high watermark) per partition, as *fetch responses* report them.

        ListOffsets is not trusted here: some Kafka-API brokers (tansu 0.6) answer
        ListOffsets(LATEST) wrongly, while the high watermark in a fetch response is right.
        One consumer fetches from each partition's start (every partition of every topic at
        once: one Fetch per broker carries them all) until every partition has answered,
        then reads the cached watermarks.
        """
        tps = list(dict.fromkeys(partitions))
        if not tps:
            return {}
        consumer = self.consumer(
            {
                "group.id": "connshift-end-offsets",
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 10,
                "isolation.level": "read_uncommitted",
                "fetch.max.bytes": 1024 * 1024,
                "max.partition.fetch.bytes": 64 * 1024,
            }
        )
        try:
            consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in tps])
            waiting = set(tps)
            deadline = time.monotonic() + timeout
            while waiting and time.monotonic() < deadline:
                answered = []
                for msg in consumer.consume(10000, timeout=0.05):
                    t, p = msg.topic(), msg.partition()
                    if p is None or t is None:
                        continue
                    err = msg.error()
                    if err is not None and not _is_eof(err):
                        raise _read_error(
                            err,
                            f"could not read {t}[{p}] on the {self.name} cluster",
                            topic=t,
                            partition=p,
                        )
                    if (t, p) in waiting:
                        waiting.discard((t, p))
                        answered.append(TopicPartition(t, p))
                if answered:
                    consumer.pause(answered)
            if waiting:
                left = sorted(waiting)
                names = ", ".join(f"{t}[{p}]" for t, p in left[:5])
                raise KafkaError(
                    f"could not learn the end offsets of {len(tps)} partition(s) on the "
                    f"{self.name} cluster",
                    why=f"{len(left)} partition(s) did not answer within {timeout:.0f}s ({names})",
                    topic=left[0][0],
                )
            out: dict[tuple[str, int], tuple[int, int]] = {}
            for t, p in tps:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(t, p), timeout=timeout, cached=True
                )
                out[(t, p)] = (int(low), int(high))
            return out
        finally:
            consumer.close()

    def delete_records(self, topic: str, before: Mapping[int, int], timeout: float = 30.0) -> None:
        """Delete records before the given offset in each partition (moves log start)."""
        tps = [TopicPartition(topic, p, o) for p, o in before.items()]
        try:
            futs = self.admin.delete_records(tps, request_timeout=timeout)
            for fut in futs.values():
                fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not delete records of {topic}", exc, topic=topic) from exc

    # ------------------------------------------------------------------ offsets
    def watermarks(self, topic: str, partition: int, timeout: float = 10.0) -> tuple[int, int]:
        """(log start offset, high watermark) of one partition."""
        consumer = self.consumer({"group.id": "connshift-watermarks", "enable.auto.commit": False})
        try:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout, cached=False
            )
        except KafkaException as exc:
            raise self.translate(
                f"could not read the offsets of {topic}[{partition}]", exc, topic=topic
            ) from exc
        finally:
            consumer.close()
        return int(low), int(high)

    def watermarks_of(
        self, partitions: Iterable[tuple[str, int]], timeout: float = 30.0
    ) -> dict[tuple[str, int], tuple[int, int]]:
        """:meth:`watermarks` of many partitions: two ListOffsets rounds (earliest, latest),
        each one request per leader."""
        tps = list(partitions)
        if not tps:
            return {}
        ends: dict[str, dict[tuple[str, int], int]] = {}
        for spec in ("earliest", "latest"):
            req = {TopicPartition(t, p): getattr(OffsetSpec, spec)() for t, p in tps}
            try:
                futs = self.admin.list_offsets(
                    req, isolation_level=IsolationLevel.READ_UNCOMMITTED, request_timeout=timeout
                )
                ends[spec] = {
                    (tp.topic, tp.partition): int(fut.result(timeout=timeout + 5).offset)
                    for tp, fut in futs.items()
                }
            except KafkaException as exc:
                error = self.translate(f"could not read the offsets of {len(tps)} partitions", exc)
                rd = _rd_error(exc)
                if type(error) is KafkaError and rd is not None and rd.code() == _RdError._NOENT:
                    # "Failed to query partition leaders: No leaders found": being elected (a
                    # broker restarting), as the one-partition lookup says with a transient code
                    raise KafkaUnavailable(
                        error.what, why=error.why, fix=error.fix, **error.context
                    ) from exc
                raise error from exc
        return {tp: (ends["earliest"][tp], ends["latest"][tp]) for tp in tps}

    def group_offsets(self, group: str, timeout: float = 10.0) -> dict[tuple[str, int], int]:
        """A consumer group's committed offsets, keyed by (topic, partition)."""
        req = [ConsumerGroupTopicPartitions(group)]
        try:
            res = self.admin.list_consumer_group_offsets(req, request_timeout=timeout)[group]
            tps = res.result(timeout=timeout + 5).topic_partitions
        except KafkaException as exc:
            raise self.translate(
                f"could not read offsets of group {group}", exc, group=group
            ) from exc
        return {(tp.topic, tp.partition): tp.offset for tp in tps if tp.offset >= 0}

    def commit_group_offsets(
        self, group: str, offsets: Mapping[tuple[str, int], int], timeout: float = 10.0
    ) -> None:
        """Set a (memberless) group's committed offsets."""
        tps = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        req = [ConsumerGroupTopicPartitions(group, tps)]
        try:
            res = self.admin.alter_consumer_group_offsets(req, request_timeout=timeout)[group]
            res.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(
                f"could not commit offsets of group {group}", exc, group=group
            ) from exc

    def group_state(self, group: str, timeout: float = 10.0) -> tuple[str, int]:
        """(state, number of members) of a consumer group; ("DEAD", 0) when unknown."""
        try:
            fut = self.admin.describe_consumer_groups([group], request_timeout=timeout)[group]
            desc = fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not describe group {group}", exc, group=group) from exc
        state = getattr(desc.state, "name", str(desc.state))
        return str(state), len(desc.members or [])

    # ------------------------------------------------------------------ ACLs
    def acls(self, timeout: float = 10.0) -> list[Acl]:
        """Every ACL binding of the cluster (empty when no authorizer is configured)."""
        anything: Any = None  # None matches any name, principal and host
        flt = AclBindingFilter(
            ResourceType.ANY,
            anything,
            ResourcePatternType.ANY,
            anything,
            anything,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        try:
            bindings = self.admin.describe_acls(flt, request_timeout=timeout).result(timeout + 5)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, _RdError) and err.code() == _RdError.SECURITY_DISABLED:
                raise KafkaNoAuthorizer(
                    f"the {self.name} cluster has no authorizer: it keeps no ACLs",
                    why="SECURITY_DISABLED",
                    fix="nothing to copy; or enable an authorizer on the cluster",
                    cluster=self.name,
                ) from exc
            raise self.translate(
                f"could not read the ACLs of the {self.name} cluster", exc
            ) from exc
        return [_acl_of(b) for b in bindings]

    def try_access(
        self, resource_type: str, name: str, operation: str, timeout: float = 10.0
    ) -> tuple[bool, str] | None:
        """Whether the authorizer lets us do ``operation`` on a resource, found by a request
        that changes nothing: ``(allowed, what was tried)``, or None when no harmless
        request exists for that pair (READ, WRITE, DELETE, ALTER, ...).

        TOPIC DESCRIBE: DescribeTopics (no auto-creation); TOPIC DESCRIBE_CONFIGS:
        DescribeConfigs; TOPIC CREATE: CreateTopics with ``validate_only``; GROUP DESCRIBE:
        DescribeGroups; CLUSTER DESCRIBE: DescribeAcls. An authorization error is a
        refusal; any other answer (the topic or group does not exist, it already exists)
        means the authorizer let the request through."""
        from confluent_kafka import TopicCollection

        denied = set(_DENIED)
        call: Callable[[], Any]
        if resource_type == "TOPIC" and operation == "DESCRIBE":
            tried = "DescribeTopics"

            def call() -> Any:
                futs = self.admin.describe_topics(TopicCollection([name]), request_timeout=timeout)
                return [f.result(timeout=timeout + 5) for f in futs.values()]

        elif resource_type == "TOPIC" and operation == "DESCRIBE_CONFIGS":
            tried = "DescribeConfigs"

            def call() -> Any:
                res = ConfigResource(ResourceType.TOPIC, name)
                futs = self.admin.describe_configs([res], request_timeout=timeout)
                return futs[res].result(timeout=timeout + 5)

        elif resource_type == "TOPIC" and operation == "CREATE":
            tried = "CreateTopics (validate_only)"

            def call() -> Any:
                topic = NewTopic(name, num_partitions=1, replication_factor=-1)
                futs = self.admin.create_topics(
                    [topic], validate_only=True, operation_timeout=timeout
                )
                return futs[name].result(timeout=timeout + 5)

        elif resource_type == "GROUP" and operation == "DESCRIBE":
            tried = "DescribeGroups"

            def call() -> Any:
                futs = self.admin.describe_consumer_groups([name], request_timeout=timeout)
                return futs[name].result(timeout=timeout + 5)

        elif resource_type == "CLUSTER" and operation == "DESCRIBE":
            tried = "DescribeAcls"

            def call() -> Any:
                return self.acls(timeout=timeout)

        else:
            return None
        try:
            call()
        except KafkaAccessDenied:
            return False, tried
        except KafkaError as exc:
            if exc.why == "SECURITY_DISABLED":
                return True, tried
            raise
        except KafkaException as exc:
            refused = self.auth_refused(f"could not try {tried} on the {self.name} cluster")
            if refused is not None:
                raise refused from exc
            err = _rd_error(exc)
            if err is not None and err.code() in denied:
                return False, tried
            if err is not None and err.code() in (_RdError._TIMED_OUT, _RdError._TRANSPORT):
                raise self.translate(
                    f"could not try {tried} on the {self.name} cluster", exc
                ) from exc
            return True, f"{tried} ({err.name() if err is not None else exc})"
        return True, tried

    def create_acls(self, acls: Sequence[Acl], timeout: float = 10.0) -> None:
        """Create ACL bindings (idempotent on the broker side)."""
        if not acls:
            return
        bindings = [AclBinding(*_acl_args(a)) for a in acls]
        try:
            for fut in self.admin.create_acls(bindings, request_timeout=timeout).values():
                fut.result(timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not create ACLs on the {self.name} cluster", exc) from exc

    def upsert_scram_users(
        self,
        users: Mapping[str, str],
        mechanism: str,
        *,
        iterations: int = 8192,
        timeout: float = 10.0,
    ) -> None:
        """Create or replace SCRAM credentials (``user -> password``) for ``mechanism``
        (``SCRAM-SHA-256`` or ``SCRAM-SHA-512``); the passwords never appear in an error."""
        from confluent_kafka.admin import (  # type: ignore[attr-defined]
            ScramCredentialInfo,
            ScramMechanism,
            UserScramCredentialUpsertion,
        )

        mech = ScramMechanism[mechanism.replace("-", "_").upper()]
        changes: list[Any] = [
            UserScramCredentialUpsertion(user, ScramCredentialInfo(mech, iterations), pw.encode())
            for user, pw in users.items()
        ]
        if not changes:
            return
        try:
            futures = self.admin.alter_user_scram_credentials(changes, request_timeout=timeout)
            for fut in futures.values():
                fut.result(timeout + 5)
        except KafkaException as exc:
            raise self.translate(
                f"could not set SCRAM credentials on the {self.name} cluster", exc
            ) from exc

    def group_members(self, group: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        """A group's members: client id, host and assigned partitions."""
        try:
            fut = self.admin.describe_consumer_groups([group], request_timeout=timeout)[group]
            desc = fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not describe group {group}", exc, group=group) from exc
        out = []
        for m in desc.members or []:
            tps = m.assignment.topic_partitions if m.assignment else []
            out.append(
                {
                    "client_id": m.client_id,
                    "host": m.host,
                    "assigned": sorted(f"{tp.topic}[{tp.partition}]" for tp in tps),
                }
            )
        return out

    def groups(self, timeout: float = 10.0) -> list[str]:
        """Ids of the consumer groups the cluster knows."""
        try:
            res = self.admin.list_consumer_groups(request_timeout=timeout).result()
        except KafkaException as exc:
            raise self.translate(f"could not list groups on the {self.name} cluster", exc) from exc
        return sorted(g.group_id for g in res.valid)

    # ------------------------------------------------------------------ clients
    def open_producer(
        self,
        extra: Mapping[str, Any] | None = None,
        *,
        on_error: Callable[[KafkaError], None] | None = None,
    ) -> KafkaProducer:
        """A :class:`KafkaProducer` with librdkafka settings ``extra``.

        ``on_error`` receives each refused record's error as a :class:`KafkaError` (from
        within ``poll``/``flush``); it takes the place of an ``on_delivery`` setting. With
        ``delivery.report.only.error`` set, successful deliveries cost no Python call.
        """
        cfg = dict(extra or {})
        if on_error is not None:
            cfg["on_delivery"] = delivery_reporter(self, on_error)
        return KafkaProducer(self, self.producer(cfg))

    def open_consumer(self, extra: Mapping[str, Any] | None = None) -> KafkaConsumer:
        """A :class:`KafkaConsumer` with librdkafka settings ``extra`` (no auto-commit and
        ``auto.offset.reset=earliest`` unless ``extra`` says otherwise)."""
        return KafkaConsumer(self, self.consumer(extra))

    def producer(self, extra: Mapping[str, Any] | None = None) -> Producer:
        """librdkafka's own producer (callers not yet on :meth:`open_producer`)."""
        return Producer(self._client_config(extra))

    def consumer(self, extra: Mapping[str, Any] | None = None) -> Consumer:
        """librdkafka's own consumer (callers not yet on :meth:`open_consumer`)."""
        base = {"enable.auto.commit": False, "auto.offset.reset": "earliest"}
        return Consumer(self._client_config({**base, **(extra or {})}))

    def produce(
        self,
        topic: str,
        records: Iterable[tuple[bytes | str | None, bytes | str | None]],
        *,
        partition: int | None = None,
        headers: Headers | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: float = 30.0,
    ) -> int:
        """Produce (key, value) pairs idempotently and wait for every delivery."""
        producer = self.producer({"enable.idempotence": True, "linger.ms": 5, **(extra or {})})
        errors: list[str] = []

        def on_delivery(err: _RdError | None, _msg: Any) -> None:
            if err is not None:
                errors.append(_why(err))

        count = 0
        for key, value in records:
            kwargs: dict[str, Any] = {"key": key, "value": value, "on_delivery": on_delivery}
            if partition is not None:
                kwargs["partition"] = partition
            if headers:
                kwargs["headers"] = headers
            while True:
                try:
                    producer.produce(topic, **kwargs)
                    break
                except BufferError:
                    producer.poll(0.1)
            count += 1
        remaining = producer.flush(timeout)
        if errors or remaining:
            raise KafkaError(
                f"could not produce to {topic} on the {self.name} cluster",
                why=errors[0] if errors else f"{remaining} records undelivered after {timeout}s",
                fix=f"check that the {self.name} cluster at {self.bootstrap} is healthy",
                topic=topic,
            )
        return count

    def transactional_producer(self, transactional_id: str) -> Producer:
        """A producer with ``transactional.id`` set and ``init_transactions`` done."""
        producer = self.producer({"transactional.id": transactional_id})
        try:
            producer.init_transactions(30)
        except KafkaException as exc:
            raise self.translate("could not start a transactional producer", exc) from exc
        return producer

    def read(
        self,
        topic: str,
        partition: int,
        start: int = OFFSET_BEGINNING,
        end: int | None = None,
        *,
        isolation: str = "read_committed",
        timeout: float = 30.0,
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[Record]:
        """Records of one partition from ``start`` up to ``end`` (exclusive).

        Without ``end`` it reads to the end the *fetch* responses report (partition
        EOF), not to the end ListOffsets reports: some Kafka-API brokers (tansu 0.6)
        answer ListOffsets(LATEST) wrongly. ``extra`` adds consumer settings.
        """
        consumer = self._reader(isolation, extra)
        try:
            consumer.assign([TopicPartition(topic, partition, start)])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for msg in consumer.consume(500, timeout=0.05):
                    err = msg.error()
                    if err is not None:
                        if _is_eof(err):
                            return
                        raise _read_error(
                            err,
                            f"could not read {topic}[{partition}] on the {self.name} cluster",
                            topic=topic,
                            partition=partition,
                        )
                    off = msg.offset()
                    if off is None or (end is not None and off >= end):
                        return
                    yield _record(msg, topic, partition, off)
                    if end is not None and off + 1 >= end:
                        return
            raise KafkaError(
                f"timed out reading {topic}[{partition}] on the {self.name} cluster",
                why=f"the end was not reached within {timeout:.0f}s",
                topic=topic,
                partition=partition,
            )
        finally:
            consumer.close()

    def _reader(self, isolation: str, extra: Mapping[str, Any] | None = None) -> Any:
        """A consumer for reading ranges: no commits, partition EOF on, short fetch waits."""
        return self.consumer(
            {
                "group.id": "connshift-reader",
                "isolation.level": isolation,
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 10,
                "fetch.queue.backoff.ms": 10,
                **(extra or {}),
            }
        )

    def read_ranges(
        self,
        ranges: Mapping[tuple[str, int], tuple[int, int]],
        *,
        isolation: str = "read_uncommitted",
        timeout: float = 30.0,
    ) -> dict[tuple[str, int], list[Record]]:
        """Records of many partitions with one consumer: ``(topic, partition) -> (start,
        end)`` (end exclusive; empty ranges are skipped). Stops at each partition's end or
        its EOF; :class:`KafkaError` when not all ends are reached within ``timeout``."""
        out: dict[tuple[str, int], list[Record]] = {tp: [] for tp in ranges}
        waiting = {tp: end for tp, (start, end) in ranges.items() if end > start}
        if not waiting:
            return out
        consumer = self._reader(isolation)
        try:
            consumer.assign([TopicPartition(t, p, ranges[(t, p)][0]) for t, p in waiting])
            deadline = time.monotonic() + timeout
            while waiting and time.monotonic() < deadline:
                for msg in consumer.consume(1000, timeout=0.05):
                    tp = (msg.topic(), msg.partition())
                    if tp not in waiting:
                        continue
                    err = msg.error()
                    off: int | None = msg.offset()
                    if err is not None:
                        if not _is_eof(err):
                            raise _read_error(
                                err,
                                f"could not read {tp[0]}[{tp[1]}] on the {self.name} cluster",
                                topic=tp[0],
                                partition=tp[1],
                            )
                        off = None  # the end the fetch reports: nothing more to read
                    elif off is not None and off < waiting[tp]:
                        out[tp].append(_record(msg, tp[0], tp[1], off))
                        off += 1
                    if off is None or off >= waiting[tp]:
                        del waiting[tp]
                        consumer.pause([TopicPartition(*tp)])
            if waiting:
                first = sorted(waiting)[0]
                raise KafkaError(
                    f"timed out reading {len(waiting)} partition(s) on the {self.name} cluster",
                    why=f"{first[0]}[{first[1]}] and others did not reach their end within "
                    f"{timeout:.0f}s",
                    topic=first[0],
                    partition=first[1],
                )
            return out
        finally:
            consumer.close()

    def read_all(self, topic: str, *, timeout: float = 30.0) -> list[Record]:
        """Every (committed) record of every partition of ``topic``."""
        info = self.topics().get(topic)
        if info is None:
            raise KafkaError(
                f"topic {topic} does not exist on the {self.name} cluster", topic=topic
            )
        out: list[Record] = []
        for p in range(info.partitions):
            out.extend(self.read(topic, p, timeout=timeout))
        return out

    # ------------------------------------------------------------------ probe helpers
    # Small, bounded operations `connshift probe` runs against a scratch topic prefix. They
    # report what the client saw rather than retrying: a refusal is the evidence.

    def deliver(
        self,
        topic: str,
        records: Sequence[OutRecord],
        *,
        extra: Mapping[str, Any] | None = None,
        timeout: float = 15.0,
    ) -> list[Delivery]:
        """Produce ``records`` with one producer and report each one's delivery, in order.

        Never raises for a refused record: its :class:`Delivery` carries the client's error
        text (librdkafka's name and message). ``extra`` adds producer settings; without
        ``message.timeout.ms`` there, records time out after ``timeout`` seconds.
        """
        cfg = {"message.timeout.ms": int(timeout * 1000), **(extra or {})}
        producer = self.producer(cfg)
        out: list[Delivery] = [Delivery(None, None, None, "not delivered") for _ in records]

        def on_delivery(index: int) -> Any:
            def done(err: _RdError | None, msg: Any) -> None:
                if err is not None:
                    out[index] = Delivery(None, None, None, _why(err))
                else:
                    ts_type, ts = msg.timestamp()
                    out[index] = Delivery(msg.partition(), msg.offset(), (ts_type, ts), None)

            return done

        for i, r in enumerate(records):
            kwargs: dict[str, Any] = {"key": r.key, "value": r.value, "on_delivery": on_delivery(i)}
            if r.partition is not None:
                kwargs["partition"] = r.partition
            if r.headers:
                kwargs["headers"] = r.headers
            if r.timestamp is not None:
                kwargs["timestamp"] = r.timestamp
            try:
                producer.produce(topic, **kwargs)
            except (KafkaException, BufferError, ValueError, TypeError) as exc:
                out[i] = Delivery(None, None, None, _why(exc))
            producer.poll(0)
        remaining = producer.flush(timeout + 5)
        if remaining:
            for i, d in enumerate(out):
                if d.error == "not delivered":
                    out[i] = Delivery(None, None, None, f"undelivered after {timeout:g}s")
        return out

    def run_transactions(
        self,
        topic: str,
        transactions: Sequence[tuple[Sequence[OutRecord], bool]],
        *,
        transactional_id: str,
        timeout: float = 15.0,
    ) -> None:
        """Run one transaction per ``(records, commit)``: commit it or abort it."""
        producer = self.producer(
            {"transactional.id": transactional_id, "transaction.timeout.ms": 30_000}
        )
        step = "init_transactions"
        try:
            producer.init_transactions(timeout)
            for records, commit in transactions:
                step = "begin_transaction"
                producer.begin_transaction()
                step = "produce"
                for r in records:
                    kwargs: dict[str, Any] = {"key": r.key, "value": r.value}
                    if r.partition is not None:
                        kwargs["partition"] = r.partition
                    producer.produce(topic, **kwargs)
                step = "flush"
                if producer.flush(timeout):
                    raise KafkaError(
                        f"transactional records to {topic} were not delivered",
                        why=f"still queued after {timeout:g}s",
                        cluster=self.name,
                        topic=topic,
                    )
                step = "commit_transaction" if commit else "abort_transaction"
                if commit:
                    producer.commit_transaction(timeout)
                else:
                    producer.abort_transaction(timeout)
        except KafkaException as exc:
            raise self.translate(
                f"a transaction on {topic} failed at {step}", exc, topic=topic
            ) from exc

    def create_partitions(self, topic: str, total: int, timeout: float = 15.0) -> None:
        """Grow ``topic`` to ``total`` partitions."""
        try:
            futs = self.admin.create_partitions(
                [NewPartitions(topic, total)], operation_timeout=timeout, request_timeout=timeout
            )
            futs[topic].result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(f"could not add partitions to {topic}", exc, topic=topic) from exc

    def list_offsets(
        self,
        topic: str,
        specs: Mapping[int, int | str],
        *,
        isolation: str = "read_uncommitted",
        timeout: float = 10.0,
    ) -> dict[int, tuple[int, int]]:
        """ListOffsets per partition: ``(offset, timestamp)`` for each spec.

        A spec is ``"earliest"``, ``"latest"``, ``"max_timestamp"`` or a timestamp in ms
        (the first offset whose timestamp is at or after it; -1 when there is none).
        """

        def offset_spec(spec: int | str) -> Any:
            if isinstance(spec, int):
                return OffsetSpec.for_timestamp(spec)
            return getattr(OffsetSpec, spec)()

        req = {TopicPartition(topic, p): offset_spec(s) for p, s in specs.items()}
        level = (
            IsolationLevel.READ_COMMITTED
            if isolation == "read_committed"
            else IsolationLevel.READ_UNCOMMITTED
        )
        try:
            futs = self.admin.list_offsets(req, isolation_level=level, request_timeout=timeout)
            return {
                tp.partition: (int(info.offset), int(info.timestamp))
                for tp, fut in futs.items()
                for info in [fut.result(timeout=timeout + 5)]
            }
        except KafkaException as exc:
            raise self.translate(f"could not list offsets of {topic}", exc, topic=topic) from exc

    def alter_topic_configs(
        self,
        topic: str,
        *,
        set_values: Mapping[str, str] | None = None,
        delete: Sequence[str] = (),
        timeout: float = 10.0,
    ) -> None:
        """IncrementalAlterConfigs on one topic: set some keys, delete (reset) others."""
        entries = [
            ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
            for k, v in (set_values or {}).items()
        ] + [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in delete]
        res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
        try:
            fut = self.admin.incremental_alter_configs([res], request_timeout=timeout)[res]
            fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(
                f"could not alter the configs of {topic}", exc, topic=topic
            ) from exc

    def broker_configs(self, broker_id: int, timeout: float = 10.0) -> dict[str, str]:
        """One broker's configuration values (DescribeConfigs on the BROKER resource)."""
        res = ConfigResource(ResourceType.BROKER, str(broker_id))
        try:
            entries = self.admin.describe_configs([res], request_timeout=timeout)[res].result()
        except KafkaException as exc:
            raise self.translate(f"could not describe broker {broker_id}", exc) from exc
        return {k: v.value for k, v in entries.items() if v.value is not None}

    def consume_in_group(
        self,
        group: str,
        topic: str,
        count: int,
        *,
        timeout: float = 20.0,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[list[Record], dict[tuple[str, int], int]]:
        """Join ``group`` subscribed to ``topic``, read up to ``count`` records, commit.

        Returns the records read (fewer when ``timeout`` passes first) and the offsets the
        synchronous commit stored (empty when nothing was read).
        """
        consumer = self.consumer({"group.id": group, "session.timeout.ms": 6000, **(extra or {})})
        records: list[Record] = []
        try:
            consumer.subscribe([topic])
            deadline = time.monotonic() + timeout
            while len(records) < count and time.monotonic() < deadline:
                for msg in consumer.consume(count - len(records), timeout=0.5):
                    err = msg.error()
                    if err is not None:
                        if _is_eof(err):
                            continue
                        raise _read_error(
                            err,
                            f"group {group} could not read {topic}",
                            cluster=self.name,
                            group=group,
                            topic=topic,
                        )
                    records.append(_record(msg, topic, msg.partition() or 0, msg.offset() or 0))
            committed: dict[tuple[str, int], int] = {}
            if records:
                for tp in consumer.commit(asynchronous=False) or []:
                    committed[(tp.topic, tp.partition)] = tp.offset
            return records, committed
        except KafkaException as exc:
            raise self.translate(f"group {group} failed on {topic}", exc, group=group) from exc
        finally:
            consumer.close()

    def delete_groups(self, groups: Sequence[str], timeout: float = 10.0) -> None:
        """Delete consumer groups (they must have no members)."""
        if not groups:
            return
        try:
            futs = self.admin.delete_consumer_groups(list(groups), request_timeout=timeout)
            for fut in futs.values():
                fut.result(timeout=timeout + 5)
        except KafkaException as exc:
            raise self.translate(
                f"could not delete groups {', '.join(groups)}", exc, group=groups[0]
            ) from exc

    def delete_acls(self, acls: Sequence[Acl], timeout: float = 10.0) -> list[Acl]:
        """Delete exactly these ACL bindings; returns the ones the cluster deleted."""
        if not acls:
            return []
        filters = [AclBindingFilter(*_acl_args(a)) for a in acls]
        deleted: list[Acl] = []
        try:
            for fut in self.admin.delete_acls(filters, request_timeout=timeout).values():
                for b in fut.result(timeout + 5):
                    deleted.append(_acl_of(b))
        except KafkaException as exc:
            raise self.translate(f"could not delete ACLs on the {self.name} cluster", exc) from exc
        return deleted


# ---------------------------------------------------------------------------- clients


def delivery_reporter(
    cluster: KafkaCluster, on_error: Callable[[KafkaError], None]
) -> Callable[[_RdError | None, Message], None]:
    """An ``on_delivery`` callback handing each refused record's error to ``on_error``."""

    def delivered(err: _RdError | None, msg: Message) -> None:
        if err is not None:
            topic = msg.topic() if msg is not None else None
            partition = msg.partition() if msg is not None else None
            where = f" for {topic}[{partition}]" if topic is not None else ""
            on_error(
                cluster.translate(
                    f"the {cluster.name} cluster refused a record{where}",
                    err,
                    topic=topic,
                    partition=partition,
                )
            )

    return delivered


class KafkaProducer:
    """A librdkafka producer behind connshift's errors (:meth:`KafkaCluster.open_producer`).

    ``produce(topic, value=None, key=None, partition=-1, on_delivery=None, timestamp=0,
    headers=None)`` and ``poll(timeout)`` are librdkafka's own bound methods: the copy's
    hot loop calls them per record, so they are not wrapped (``produce`` raises
    ``BufferError`` when the local queue is full: ``poll`` a little and retry). Refused
    records reach the ``on_error`` given to :meth:`KafkaCluster.open_producer`;
    :meth:`flush` raises :class:`KafkaError` when records remain undelivered.
    """

    __slots__ = ("_cluster", "_raw", "poll", "produce")

    def __init__(self, cluster: KafkaCluster, raw: Producer) -> None:
        self._cluster = cluster
        self._raw: Producer | None = raw
        self.produce = raw.produce
        self.poll = raw.poll

    @property
    def cluster(self) -> str:
        return self._cluster.name

    def __len__(self) -> int:
        """Records (and librdkafka events) queued or in flight."""
        return len(self._raw) if self._raw is not None else 0

    def _client(self) -> Producer:
        raw = self._raw
        if raw is None:
            raise self._closed_error()
        return raw

    def _closed_error(self) -> KafkaError:
        return KafkaError(
            f"a producer of the {self.cluster} cluster was used after close()",
            cluster=self.cluster,
        )

    def _used_after_close(self, *_args: object, **_kwargs: object) -> Any:
        raise self._closed_error()

    def flush(
        self,
        timeout: float = 30.0,
        *,
        what: str | None = None,
        fix: str | None = None,
        **context: object,
    ) -> None:
        """Wait up to ``timeout`` seconds for every record's delivery (serving delivery
        callbacks); :class:`KafkaError` (``what``, ``fix``, ``context``) when records are
        still in flight then."""
        try:
            remaining = self._client().flush(timeout)
        except KafkaException as exc:
            raise self._cluster.translate(
                what or f"could not deliver records to the {self.cluster} cluster", exc, **context
            ) from exc
        if remaining:
            raise KafkaUnavailable(
                what or f"the {self.cluster} cluster did not acknowledge every record",
                why=f"{remaining} records still in flight after {timeout:g}s",
                fix=fix
                or f"check that the {self.cluster} cluster at {self._cluster.bootstrap} is healthy",
                cluster=self.cluster,
                **context,
            )

    def close(self, timeout: float = 30.0) -> int:
        """Deliver what is queued (waiting up to ``timeout`` seconds) and let the producer
        go; returns how many records were left undelivered. Idempotent."""
        raw, self._raw = self._raw, None
        if raw is None:
            return 0
        self.produce = self.poll = self._used_after_close
        try:
            return int(raw.flush(timeout))
        except KafkaException:
            return len(raw)

    def __enter__(self) -> KafkaProducer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        # leaving on an error: let the producer go without waiting for deliveries
        self.close(30.0 if exc_type is None else 0)


class KafkaConsumer:
    """A librdkafka consumer behind connshift's errors (:meth:`KafkaCluster.open_consumer`).

    :meth:`consume` and :meth:`poll` return librdkafka's messages as they are (no
    per-message work here): a message whose ``error()`` is set is an event, and
    :meth:`eof_offset` tells the partition-EOF event from a failure (which it raises as
    :class:`KafkaError`). Everything else raises :class:`KafkaError` instead of
    librdkafka's exceptions. Rebalance callbacks given to :meth:`subscribe` receive this
    object.
    """

    __slots__ = ("_cluster", "_raw")

    def __init__(self, cluster: KafkaCluster, raw: Consumer) -> None:
        self._cluster = cluster
        self._raw: Consumer | None = raw

    @property
    def cluster(self) -> str:
        return self._cluster.name

    def _client(self) -> Consumer:
        if self._raw is None:
            raise KafkaError(
                f"a consumer of the {self.cluster} cluster was used after close()",
                cluster=self.cluster,
            )
        return self._raw

    def _failed(self, what: str, exc: Exception, **context: object) -> KafkaError:
        return self._cluster.translate(what, exc, **context)

    # -- reading -------------------------------------------------------------------------------
    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        """Up to ``num_messages`` messages (records and events), waiting up to ``timeout``."""
        try:
            return self._client().consume(num_messages, timeout)
        except KafkaException as exc:
            raise self._failed(f"could not consume from the {self.cluster} cluster", exc) from exc

    def poll(self, timeout: float = -1) -> Message | None:
        """One message (record or event) or None; serves rebalance callbacks."""
        try:
            return self._client().poll(timeout)
        except KafkaException as exc:
            raise self._failed(f"could not poll the {self.cluster} cluster", exc) from exc

    def eof_offset(self, msg: Message, *, what: str | None = None, **context: object) -> int | None:
        """For a message whose ``error()`` is set: the offset a partition-EOF event reports
        (the partition's end; None when librdkafka gives none). Any other error raises
        :class:`KafkaError` ("could not read topic[partition] on the ... cluster", or
        ``what``), with the cluster, topic and partition."""
        err = msg.error()
        if err is None:
            raise ValueError("eof_offset() is for messages whose error() is set")
        if _is_eof(err):
            offset = msg.offset()
            return None if offset is None else int(offset)
        topic, partition = msg.topic(), msg.partition()
        raise _read_error(
            err,
            what or f"could not read {topic}[{partition}] on the {self.cluster} cluster",
            cluster=self.cluster,
            **{"topic": topic, "partition": partition, **context},
        )

    # -- assignment ----------------------------------------------------------------------------
    def subscribe(
        self,
        topics: Sequence[str],
        *,
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
    ) -> None:
        """Join the group for ``topics``; the callbacks get ``(this consumer, partitions)``
        from within :meth:`consume` / :meth:`poll`."""
        callbacks: dict[str, Any] = {}
        for name, callback in (
            ("on_assign", on_assign),
            ("on_revoke", on_revoke),
            ("on_lost", on_lost),
        ):
            if callback is not None:
                callbacks[name] = self._rebalance(callback)
        try:
            self._client().subscribe(list(topics), **callbacks)
        except KafkaException as exc:
            raise self._failed(f"could not subscribe to {', '.join(topics)}", exc) from exc

    def _rebalance(
        self, callback: RebalanceCallback
    ) -> Callable[[Consumer, list[TopicPartition]], None]:
        def call(_raw: Consumer, partitions: list[TopicPartition]) -> None:
            callback(self, partitions)

        return call

    def _partitions_call(self, op: str, partitions: Sequence[TopicPartition]) -> None:
        try:
            getattr(self._client(), op)(list(partitions))
        except KafkaException as exc:
            first = partitions[0] if partitions else None
            raise self._failed(
                f"could not {op.replace('_', ' ')} {len(partitions)} partition(s) on the "
                f"{self.cluster} cluster",
                exc,
                topic=first.topic if first is not None else None,
                partition=first.partition if first is not None else None,
            ) from exc

    def assign(self, partitions: Sequence[TopicPartition]) -> None:
        """Read exactly these partitions (from each one's ``offset``), outside any group."""
        self._partitions_call("assign", partitions)

    def incremental_assign(self, partitions: Sequence[TopicPartition]) -> None:
        """Add partitions to the assignment (cooperative rebalancing)."""
        self._partitions_call("incremental_assign", partitions)

    def incremental_unassign(self, partitions: Sequence[TopicPartition]) -> None:
        """Remove partitions from the assignment (cooperative rebalancing)."""
        self._partitions_call("incremental_unassign", partitions)

    def pause(self, partitions: Sequence[TopicPartition]) -> None:
        """Stop fetching these partitions (their assignment stays)."""
        self._partitions_call("pause", partitions)

    def resume(self, partitions: Sequence[TopicPartition]) -> None:
        """Fetch paused partitions again."""
        self._partitions_call("resume", partitions)

    def learn_topics(self, timeout: float = 30.0) -> None:
        """Ask for the metadata of every topic now, so that partitions assigned later start
        at once (librdkafka otherwise looks up each newly assigned topic's leaders first:
        about 0.2 s per assignment that brings new topics)."""
        try:
            self._client().list_topics(timeout=timeout)
        except KafkaException as exc:
            raise self._failed(f"could not list topics on the {self.cluster} cluster", exc) from exc

    def assignment(self) -> list[TopicPartition]:
        try:
            return list(self._client().assignment())
        except KafkaException as exc:
            raise self._failed("could not read the consumer's assignment", exc) from exc

    # -- offsets -------------------------------------------------------------------------------
    def commit(self) -> dict[tuple[str, int], int]:
        """Commit the consumed positions synchronously; what was stored."""
        try:
            stored = self._client().commit(asynchronous=False) or []
        except KafkaException as exc:
            what = f"could not commit offsets on the {self.cluster} cluster"
            raise self._failed(what, exc) from exc
        return {(tp.topic, tp.partition): tp.offset for tp in stored}

    def watermarks(
        self, topic: str, partition: int, *, timeout: float = 10.0, cached: bool = False
    ) -> tuple[int, int]:
        """(log start, high watermark) of a partition (``cached``: from the last fetch)."""
        try:
            low, high = self._client().get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout, cached=cached
            )
        except KafkaException as exc:
            raise self._failed(
                f"could not read the offsets of {topic}[{partition}]",
                exc,
                topic=topic,
                partition=partition,
            ) from exc
        return int(low), int(high)

    # -- life cycle ----------------------------------------------------------------------------
    def close(self) -> None:
        """Leave the group (revoking partitions through the callbacks) and let the consumer
        go. Idempotent."""
        raw = self._raw
        if raw is None:
            return
        try:
            raw.close()  # may call on_revoke / on_lost with this (still usable) consumer
        except KafkaException as exc:
            what = f"could not close a consumer of the {self.cluster} cluster"
            raise self._failed(what, exc) from exc
        finally:
            self._raw = None

    def __enter__(self) -> KafkaConsumer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def client_versions() -> dict[str, str]:
    """The Kafka client libraries in use: confluent-kafka and the librdkafka it wraps."""
    from confluent_kafka import libversion, version

    ours: Any = version()  # a string in confluent-kafka 2.x, a (string, int) tuple before
    return {
        "confluent-kafka": ours if isinstance(ours, str) else str(ours[0]),
        "librdkafka": str(libversion()[0]),
    }


def describe_partitions(
    cluster: KafkaCluster, topics: Sequence[str]
) -> dict[tuple[str, int], tuple[int, int]]:
    """(log start, high watermark) for every partition of ``topics``."""
    out: dict[tuple[str, int], tuple[int, int]] = {}
    infos = cluster.topics()
    for t in topics:
        for p in range(infos[t].partitions if t in infos else 0):
            out[(t, p)] = cluster.watermarks(t, p)
    return out


def _record(msg: Any, topic: str, partition: int, offset: int) -> Record:
    """A consumed message as a :class:`Record`."""
    ts_type, ts = msg.timestamp()
    return Record(
        topic=topic,
        partition=partition,
        offset=offset,
        key=msg.key(),
        value=msg.value(),
        headers=_headers(msg.headers()),
        timestamp=ts,
        timestamp_type=ts_type,
    )
