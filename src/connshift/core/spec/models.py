"""The spec's typed models: every section of ``connshift.yaml`` and :class:`Spec` itself.

Shape of a spec (every model forbids unknown keys)::

    version: 1
    name: migration
    source:       {kafka: KafkaSpec, connect: ConnectSpec | null}
    destination:  {kafka: KafkaSpec, connect: ConnectSpec | null}
    connectors:   {include: [...], exclude: [...]}
    topics:       {include: [...], exclude: [...], rename: {...}, prefix: ""}
    cutover:      {catch_up_timeout_seconds, ..., rollback_window_hours}
    readiness:    {replay_window_hours, criteria: {...}, target: {...}, cost: {...}}
    state_dir: .connshift

Password-like fields are :class:`~pydantic.SecretStr` and always render as ``***``;
:meth:`Spec.redacted_dict` shows a value that came from a ``${...}`` reference as its
reference text. Only :meth:`KafkaSpec.client_config` and the ``get_secret_value()`` of a
secret field reveal a secret.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import PurePath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

REDACTED = "***"
"""How every secret value is rendered outside :meth:`KafkaSpec.client_config`."""

DEFAULT_TOPIC_EXCLUDE: tuple[str, ...] = ("__.*", "connect-(configs|offsets|status)")
"""Topics never copied unless ``topics.exclude`` is set: Kafka's internal topics
(``__consumer_offsets``, ``__transaction_state``, ...) and Kafka Connect's internal topics
under their default names. Connect's positions move through its REST API, not by copying."""

KeyPath = tuple[str | int, ...]
"""A location in the spec tree: ``("source", "kafka", "bootstrap_servers")``."""

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]

_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")
_SPEC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SENSITIVE_KEY = re.compile(
    r"password|secret|token|credential|jaas|oauthbearer\.config|key\.pem|keystore", re.IGNORECASE
)


def format_key_path(path: Iterable[str | int]) -> str:
    """Render a key path the way a user would point at it: ``topics.include[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class SpecValueError(ValueError):
    """A validation failure that belongs to a key *below* the model that found it.

    ``key`` is appended to pydantic's location, so the user is pointed at e.g.
    ``source.kafka.sasl`` rather than ``source.kafka``.
    """

    def __init__(self, key: str | int | KeyPath, message: str) -> None:
        super().__init__(message)
        self.key: KeyPath = key if isinstance(key, tuple) else (key,)


# --------------------------------------------------------------------------- field types


def _anchor_path(value: str, info: ValidationInfo) -> str:
    """Anchor a relative path at ``context["base_dir"]`` (the spec file's folder) and
    expand a leading ``~`` with ``context["home"]``; without context, keep it as written."""
    if not value.strip():
        raise ValueError("must not be empty")
    context = info.context if isinstance(info.context, Mapping) else {}
    home, base = context.get("home"), context.get("base_dir")
    if home is not None and (value == "~" or value.startswith("~/")):
        return str(PurePath(str(home)) / value[2:])
    if base is None or PurePath(value).is_absolute():
        return value
    return str(PurePath(str(base)) / value)


def _render_secret(_: SecretStr) -> str:
    return REDACTED


SecretText = Annotated[SecretStr, PlainSerializer(_render_secret, return_type=str)]
"""A secret: ``SecretStr`` that also dumps (python and JSON) as ``***``."""

PathText = Annotated[str, AfterValidator(_anchor_path)]
"""A file-system path; relative paths are anchored at the spec file's folder."""


class _Model(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _upper(value: object) -> object:
    return value.upper().strip() if isinstance(value, str) else value


# --------------------------------------------------------------------------- kafka


class SaslSpec(_Model):
    """SASL credentials. ``PLAIN``/``SCRAM-*`` take ``username`` and ``password``;
    ``OAUTHBEARER`` optionally takes OIDC client credentials (``token_endpoint_url``,
    ``client_id``, ``client_secret``, ``scope``)."""

    mechanism: SaslMechanism
    username: str | None = None
    password: SecretText | None = None
    token_endpoint_url: str | None = None
    client_id: str | None = None
    client_secret: SecretText | None = None
    scope: str | None = None

    _normalise_mechanism = field_validator("mechanism", mode="before")(_upper)

    @model_validator(mode="after")
    def _check_mechanism_fields(self) -> SaslSpec:
        oauth = ("token_endpoint_url", "client_id", "client_secret", "scope")
        if self.mechanism == "OAUTHBEARER":
            for key in ("username", "password"):
                if getattr(self, key) is not None:
                    raise SpecValueError(key, "not used with mechanism OAUTHBEARER")
            if self.token_endpoint_url is not None:
                for key in ("client_id", "client_secret"):
                    if getattr(self, key) is None:
                        raise SpecValueError(key, "required when token_endpoint_url is set")
            elif self.client_id is not None or self.client_secret is not None:
                raise SpecValueError(
                    "token_endpoint_url", "required when client_id/client_secret are set"
                )
        else:
            for key in ("username", "password"):
                if getattr(self, key) is None:
                    raise SpecValueError(key, f"required for mechanism {self.mechanism}")
            for key in oauth:
                if getattr(self, key) is not None:
                    raise SpecValueError(key, "only used with mechanism OAUTHBEARER")
        return self


class TlsSpec(_Model):
    """TLS material for ``SSL``/``SASL_SSL``: PEM files, optional client certificate."""

    ca_file: PathText | None = None
    cert_file: PathText | None = None
    key_file: PathText | None = None
    key_password: SecretText | None = None
    verify_hostname: bool = True

    @model_validator(mode="after")
    def _check_pairs(self) -> TlsSpec:
        if (self.cert_file is None) != (self.key_file is None):
            missing = "key_file" if self.key_file is None else "cert_file"
            raise SpecValueError(missing, "cert_file and key_file go together; set both")
        if self.key_password is not None and self.key_file is None:
            raise SpecValueError("key_password", "set only together with key_file")
        return self


class KafkaSpec(_Model):
    """How to reach one Kafka cluster.

    ``bootstrap_servers`` may be written as a list or a comma-separated string; it is
    stored as the comma-separated string librdkafka wants. ``client_config`` (the YAML key;
    the attribute is ``extra_config``) holds additional librdkafka settings.
    """

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl: SaslSpec | None = None
    tls: TlsSpec | None = None
    extra_config: dict[str, str] = Field(default_factory=dict, alias="client_config")

    _masked_keys: frozenset[str] = PrivateAttr(default=frozenset())

    _normalise_protocol = field_validator("security_protocol", mode="before")(_upper)

    @field_validator("bootstrap_servers", mode="before")
    @classmethod
    def _join_servers(cls, value: object) -> object:
        if isinstance(value, str):
            items: list[object] = list(value.split(","))
        elif isinstance(value, list):
            items = list(value)
        else:
            raise ValueError("must be a host:port string or a list of them")
        servers: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise SpecValueError(index, "must be a host:port string")
            server = item.strip()
            if not server or any(ch.isspace() for ch in server):
                where = "an empty entry" if not server else f"{server!r} contains whitespace"
                raise ValueError(f"{where}; write host:port[,host:port...]")
            servers.append(server)
        if not servers:
            raise ValueError("must name at least one broker (host:port)")
        return ",".join(servers)

    @field_validator("extra_config", mode="before")
    @classmethod
    def _stringify_config(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
                raise ValueError(f"{key!r} is not a librdkafka property name")
            if isinstance(item, bool):
                out[key] = "true" if item else "false"
            elif isinstance(item, str | int | float):
                out[key] = str(item)
            else:
                raise SpecValueError(key, "must be a string, number or boolean")
        return out

    @field_serializer("extra_config")
    def _mask_config(self, value: dict[str, str]) -> dict[str, str]:
        return self._masked_config(value)

    @model_validator(mode="after")
    def _check_security(self) -> KafkaSpec:
        protocol = self.security_protocol
        if protocol.startswith("SASL_") and self.sasl is None:
            raise SpecValueError("sasl", f"required when security_protocol is {protocol}")
        if self.sasl is not None and not protocol.startswith("SASL_"):
            raise SpecValueError(
                "sasl",
                f"is set but security_protocol is {protocol}; use SASL_PLAINTEXT or SASL_SSL",
            )
        if self.tls is not None and protocol not in ("SSL", "SASL_SSL"):
            raise SpecValueError(
                "tls", f"is set but security_protocol is {protocol}; use SSL or SASL_SSL"
            )
        generated = self._generated_config(reveal=False)
        for key in self.extra_config:
            if key in generated:
                raise SpecValueError(
                    ("client_config", key),
                    f"{key} is already set from the spec's structured fields; remove it here",
                )
        return self

    def _generated_config(self, *, reveal: bool) -> dict[str, str]:
        def secret(value: SecretStr) -> str:
            return value.get_secret_value() if reveal else REDACTED

        config = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        sasl = self.sasl
        if sasl is not None:
            config["sasl.mechanism"] = sasl.mechanism
            if sasl.username is not None:
                config["sasl.username"] = sasl.username
            if sasl.password is not None:
                config["sasl.password"] = secret(sasl.password)
            if sasl.token_endpoint_url is not None:
                config["sasl.oauthbearer.method"] = "oidc"
                config["sasl.oauthbearer.token.endpoint.url"] = sasl.token_endpoint_url
            if sasl.client_id is not None:
                config["sasl.oauthbearer.client.id"] = sasl.client_id
            if sasl.client_secret is not None:
                config["sasl.oauthbearer.client.secret"] = secret(sasl.client_secret)
            if sasl.scope is not None:
                config["sasl.oauthbearer.scope"] = sasl.scope
        tls = self.tls
        if tls is not None:
            if tls.ca_file is not None:
                config["ssl.ca.location"] = tls.ca_file
            if tls.cert_file is not None:
                config["ssl.certificate.location"] = tls.cert_file
            if tls.key_file is not None:
                config["ssl.key.location"] = tls.key_file
            if tls.key_password is not None:
                config["ssl.key.password"] = secret(tls.key_password)
            config["ssl.endpoint.identification.algorithm"] = (
                "https" if tls.verify_hostname else "none"
            )
        return config

    def _masked_config(self, config: Mapping[str, str]) -> dict[str, str]:
        return {
            key: REDACTED if key in self._masked_keys or _SENSITIVE_KEY.search(key) else value
            for key, value in config.items()
        }

    def client_config(self) -> dict[str, str]:
        """The librdkafka configuration for this cluster, secrets revealed.

        ``bootstrap.servers``, ``security.protocol``, ``sasl.*`` and ``ssl.*`` come from the
        structured fields, then the extra ``client_config`` settings. Hand the result to a
        client and do not log it.
        """
        config = self._generated_config(reveal=True)
        config.update(self.extra_config)
        return config

    def redacted_client_config(self) -> dict[str, str]:
        """:meth:`client_config` with every secret shown as ``***`` (safe to print)."""
        config = self._generated_config(reveal=False)
        config.update(self._masked_config(self.extra_config))
        return config

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "extra_config" and isinstance(value, Mapping):
                yield name, self._masked_config(value)
            else:
                yield name, value


# --------------------------------------------------------------------------- connect


class BasicAuth(_Model):
    """HTTP basic authentication for a Connect REST endpoint."""

    username: str
    password: SecretText


class ConnectSpec(_Model):
    """How to reach one Kafka Connect cluster's REST API."""

    url: str
    auth: BasicAuth | None = None
    #: a Prometheus endpoint of the worker(s) (the JMX exporter's /metrics); optional
    metrics_url: str | None = None

    @field_validator("metrics_url")
    @classmethod
    def _check_metrics_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise ValueError(
                "must be an http(s):// URL without credentials, such as "
                "http://127.0.0.1:18084/metrics"
            )
        return value.strip()

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL, such as http://127.0.0.1:8083")
        if "@" in parts.netloc:
            raise ValueError("must not carry credentials; put them under auth")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        try:
            parts.port  # noqa: B018 -- raises ValueError for a bad port
        except ValueError:
            raise ValueError("has an invalid port") from None
        if not parts.hostname:
            raise ValueError("has no host name")
        return url.rstrip("/")


class Side(_Model):
    """One end of the migration: its Kafka cluster and (optionally) its Connect cluster."""

    kafka: KafkaSpec
    connect: ConnectSpec | None = None


# --------------------------------------------------------------------------- scopes


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled, or None when it is not a valid regex."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _fullmatch(pattern: str, text: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is not None and compiled.fullmatch(text) is not None


def _compile_patterns(patterns: list[str]) -> list[str]:
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SpecValueError(index, f"not a valid regex: {pattern!r} ({exc})") from None
    return patterns


def _check_topic_name(name: str) -> str | None:
    if name in (".", "..") or not _TOPIC_NAME.fullmatch(name):
        return (
            f"{name!r} is not a valid Kafka topic name "
            "(1-249 of letters, digits, '.', '_', '-'; not '.' or '..')"
        )
    return None


class ConnectorScope(_Model):
    """Which connectors move. Each entry is an exact connector name or a regex that must
    match the whole name; an entry that is not a valid regex matches only by name.
    ``include: []`` (the default) means every connector."""

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        for index, entry in enumerate(value):
            if not entry.strip():
                raise SpecValueError(index, "must not be empty")
        return value

    @staticmethod
    def _matches(entry: str, name: str) -> bool:
        if entry == name:
            return True
        pattern = _compiled(entry)
        return pattern is not None and pattern.fullmatch(name) is not None

    def selects(self, name: str) -> bool:
        """Whether connector ``name`` is in scope."""
        included = not self.include or any(self._matches(e, name) for e in self.include)
        return included and not any(self._matches(e, name) for e in self.exclude)


class TopicScope(_Model):
    """Which topics move and what they are called on the destination.

    A topic is selected when it fully matches (Java ``matches()`` semantics, as in
    MirrorMaker 2) one ``include`` regex and no ``exclude`` regex. Its destination name is
    ``rename[topic]`` when present (exact names), else ``prefix + topic``.
    """

    include: list[str] = Field(default_factory=lambda: [".*"])
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_TOPIC_EXCLUDE))
    rename: dict[str, str] = Field(default_factory=dict)
    prefix: str = ""

    _check_patterns = field_validator("include", "exclude")(_compile_patterns)

    @field_validator("include")
    @classmethod
    def _some_include(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least one regex; use '.*' for every topic")
        return value

    @field_validator("rename")
    @classmethod
    def _check_rename(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for source, target in value.items():
            problem = _check_topic_name(source) or _check_topic_name(target)
            if problem:
                raise SpecValueError(source, problem)
            if target in seen:
                raise SpecValueError(source, f"{seen[target]!r} is already renamed to {target!r}")
            seen[target] = source
        return value

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value and not _TOPIC_NAME.fullmatch(value):
            raise ValueError("may only contain letters, digits, '.', '_' and '-'")
        return value

    @model_validator(mode="after")
    def _check_rename_selected(self) -> TopicScope:
        for source in self.rename:
            if not self.selects(source):
                raise SpecValueError(
                    ("rename", source), "this topic is not selected by topics.include/exclude"
                )
        return self

    def selects(self, topic: str) -> bool:
        """Whether ``topic`` is in scope."""
        return any(_fullmatch(p, topic) for p in self.include) and not any(
            _fullmatch(p, topic) for p in self.exclude
        )

    def destination_name(self, topic: str) -> str:
        """The destination topic for source ``topic``: its rename, or prefix + name."""
        return self.rename.get(topic, self.prefix + topic)


# --------------------------------------------------------------------------- the spec


class CutoverSpec(_Model):
    """How ``cutover`` and ``rollback`` behave: bounds and the rollback window."""

    catch_up_timeout_seconds: float = Field(default=120.0, gt=0)
    verify_timeout_seconds: float = Field(default=30.0, gt=0)
    state_timeout_seconds: float = Field(default=90.0, gt=0)
    rollback_window_hours: float = Field(default=24.0, gt=0)
    #: catch-up runs `sync --once` for the connector's topics itself (else it only waits
    #: for a `sync --follow` running elsewhere)
    run_sync: bool = True


class CriteriaSpec(_Model):
    """Failure and rollback criteria (``readiness.criteria``): when a cutover is stopped or
    rolled back. The scorecard counts a criterion only when the spec declares it."""

    #: the most records sync may be behind on a connector's topics when cutover starts
    max_lag_records: int | None = Field(default=None, ge=0)
    #: the longest a source connector may report being behind (Debezium MilliSecondsBehindSource)
    max_lag_seconds: float | None = Field(default=None, ge=0)
    #: records validate may find twice (0: any duplicate fails the migration)
    max_duplicates: int | None = Field(default=None, ge=0)
    #: records validate may find missing (0: any gap fails the migration)
    max_missing: int | None = Field(default=None, ge=0)
    #: conditions that stop a cutover and trigger rollback, in the team's words
    stop_conditions: list[str] = Field(default_factory=list)


WorkerBoundary = Literal["self-managed", "managed", "staged"]
StorageModel = Literal["shared-nothing", "shared-storage"]
NetworkControl = Literal["same-network", "peering", "private-link", "vpn", "public-internet"]


class TargetModel(_Model):
    """What the destination is (``readiness.target``): the answers to the scorecard's
    destination questions that a document, not a check, gives."""

    #: who runs the connectors after the move: our own workers, a managed Connect
    #: service, or a staged mix of both
    worker_boundary: WorkerBoundary | None = None
    #: replicated local disks (shared-nothing) or object storage (shared-storage)
    storage_model: StorageModel | None = None
    #: how the migration host and the workers reach the destination
    network: NetworkControl | None = None


class CostSpec(_Model):
    """Inputs of ``connshift cost`` (``readiness.cost``)."""

    #: a pricing profile YAML (default: the shipped profile, whose figures cite sources)
    profile: PathText | None = None
    #: cost line -> team or person who owns it; a line without an owner is flagged
    owners: dict[str, str] = Field(default_factory=dict)


class ReadinessSpec(_Model):
    """What the readiness scorecard needs from the team (``readiness``)."""

    #: how far back consumers may need to replay; topics retaining less are flagged
    replay_window_hours: float | None = Field(default=None, gt=0)
    criteria: CriteriaSpec = Field(default_factory=CriteriaSpec)
    target: TargetModel = Field(default_factory=TargetModel)
    cost: CostSpec = Field(default_factory=CostSpec)


class Spec(_Model):
    """A whole migration spec (``connshift.yaml``, ``version: 1``).

    Build one with :func:`parse_spec` (or :func:`connshift.app.config.load_spec`) so that
    ``${...}`` references are resolved and remembered for :meth:`redacted_dict`.
    """

    version: Literal[1]
    name: str = "migration"
    source: Side
    destination: Side
    connectors: ConnectorScope = Field(default_factory=ConnectorScope)
    topics: TopicScope = Field(default_factory=TopicScope)
    cutover: CutoverSpec = Field(default_factory=CutoverSpec)
    readiness: ReadinessSpec = Field(default_factory=ReadinessSpec)
    state_dir: PathText = Field(default=".connshift", validate_default=True)

    _display: dict[KeyPath, Any] = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _check_version(cls, value: object) -> object:
        if isinstance(value, bool) or value != 1:
            raise ValueError(f"unsupported spec version {value!r}; this connshift reads 1")
        return value

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _SPEC_NAME.fullmatch(value):
            raise ValueError("must be 1-128 letters, digits, '.', '_' or '-'")
        return value

    def redacted_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data, safe to print or store: every secret is ``***``
        and every value that came from a ``${...}`` reference shows the reference text."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        for path, shown in self._display.items():
            _set_at(data, path, copy.deepcopy(shown))
        return data

    def _remember_references(self, raw: Any, references: Mapping[KeyPath, str]) -> None:
        dumped = self.model_dump(mode="json", by_alias=True)
        for path in references:
            stop = _deepest_scalar(dumped, path)
            if stop is None:
                continue
            self._display[stop] = _get_at(raw, stop)
            if stop == path and len(path) == 4 and path[1:3] == ("kafka", "client_config"):
                side = self.source if path[0] == "source" else self.destination
                kafka = side.kafka
                kafka._masked_keys = kafka._masked_keys | {str(path[3])}


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _broker_set(servers: str) -> set[str]:
    """``host:port`` entries of a bootstrap list, case-folded, loopback names as one."""
    out = set()
    for entry in servers.split(","):
        host, _, port = entry.strip().lower().rpartition(":")
        out.add(f"{'127.0.0.1' if host in _LOOPBACK else host}:{port}")
    return out


def same_kafka(spec: Spec) -> list[str]:
    """The broker addresses the spec's source and destination Kafka clusters share (one
    cluster on both sides: fine for ``probe``, wrong for anything that copies)."""
    shared = _broker_set(spec.source.kafka.bootstrap_servers) & _broker_set(
        spec.destination.kafka.bootstrap_servers
    )
    return sorted(shared)


def same_connect(spec: Spec) -> bool:
    """Whether the spec's source and destination Connect URLs name one Connect cluster."""
    src, dst = spec.source.connect, spec.destination.connect
    return src is not None and dst is not None and _url_key(src.url) == _url_key(dst.url)


def _url_key(url: str) -> str:
    parts = urlsplit(url.lower().rstrip("/"))
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{'127.0.0.1' if host in _LOOPBACK else host}:{port}{parts.path}"


def _get_at(tree: Any, path: KeyPath) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def _set_at(tree: Any, path: KeyPath, value: Any) -> None:
    if not path:
        return
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


def _deepest_scalar(tree: Any, path: KeyPath) -> KeyPath | None:
    """The prefix of ``path`` that reaches a non-container in ``tree`` (``path`` itself
    for a plain leaf; shorter when validation folded a list into a string)."""
    for depth, part in enumerate(path):
        in_dict = isinstance(tree, dict) and isinstance(part, str) and part in tree
        in_list = isinstance(tree, list) and isinstance(part, int) and 0 <= part < len(tree)
        if in_dict or in_list:
            tree = tree[part]
        elif isinstance(tree, dict | list):
            return None
        else:
            return path[:depth]
    return path
