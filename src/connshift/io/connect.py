"""The Kafka Connect REST client — the only module in connshift that speaks HTTP to Connect.

:class:`ConnectClient` wraps one synchronous :class:`httpx.Client` pointed at one Connect
worker (or a load balancer in front of a Connect cluster). Every method maps to one REST
endpoint of Apache Kafka Connect (``RootResource``, ``ConnectorsResource``,
``ConnectorPluginsResource``) and returns typed, frozen values.

Errors are mapped into connshift's exception tree here and nowhere else:

* the worker cannot be reached, or does not answer in time ->
  :class:`~connshift.errors.ConnectError` (exit code 3) naming the worker and what to do;
* Connect answers with an error status -> :class:`~connshift.errors.ConnectRequestError` carrying
  the HTTP ``status`` and Connect's JSON ``message``; a missing connector is the subclass
  :class:`ConnectorNotFoundError`;
* ``409 Conflict`` (a rebalance or a concurrent config change on the worker) is retried a few
  times with a short backoff before it is reported.

Secrets: request bodies and connector configs are never logged and never put into an exception.
When Connect's own error message (or a task's stack trace) echoes a value of a secret-looking
config key (``*password*``, ``*secret*``, ``*token*``, ``sasl.jaas.config``, ...), the value is
replaced by ``[redacted]``. The basic-auth password never appears in ``repr``/``str`` of the
client.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from connshift import __version__
from connshift.errors import ConfigError, ConnectError, ConnectRequestError

__all__ = [
    "ConfigValidation",
    "ConnectClient",
    "ConnectorNotFoundError",
    "ConnectorState",
    "ConnectorStatus",
    "PluginInfo",
    "TaskStatus",
    "WorkerInfo",
    "redact_secrets",
]

log = logging.getLogger(__name__)

REDACTED = "[redacted]"

# Config keys whose values are treated as secrets (matched case-insensitively, anywhere in the key).
_SECRET_KEY = re.compile(
    r"password|passwd|pwd|secret|token|credential|jaas|api[._-]?key|private[._-]?key"
    r"|access[._-]?key|user\.info|keystore\.key|\.key\.pem|auth\.key",
    re.IGNORECASE,
)

# The message JAX-RS sends when the *endpoint* (not the connector) does not exist.
_GENERIC_404 = "HTTP 404 Not Found"

_INITIAL_STATES = frozenset({"RUNNING", "PAUSED", "STOPPED"})


# --------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------


class ConnectorState(StrEnum):
    """States Connect reports for a connector or a task (``GET /connectors/{name}/status``).

    Parsed values stay plain ``str`` (a newer Connect may report a state this enum does not
    know); compare them with these members, which are ``str`` too.
    """

    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"


@dataclass(frozen=True)
class WorkerInfo:
    """What a Connect worker says about itself (``GET /``)."""

    version: str
    """Apache Kafka version of the worker, e.g. ``"3.9.2"``."""
    commit: str
    """Git commit of the worker's build."""
    kafka_cluster_id: str | None
    """Id of the Kafka cluster the worker stores its state in."""


@dataclass(frozen=True)
class PluginInfo:
    """One plugin installed on a worker (``GET /connector-plugins``)."""

    class_name: str
    """Fully qualified class name (Connect's ``class``)."""
    type: str
    """``source``, ``sink``, ``converter``, ``header_converter``, ``transformation``,
    ``predicate`` (as Connect spells it)."""
    version: str | None
    """The plugin's own version string, if it reports one."""


@dataclass(frozen=True)
class TaskStatus:
    """State of one task of a connector."""

    id: int
    state: str
    worker_id: str | None
    trace: str | None = None
    """Java stack trace when the task FAILED, else ``None``."""

    @property
    def trace_line(self) -> str | None:
        """First line of :attr:`trace` (the exception and its message), or ``None``."""
        return _first_line(self.trace)


@dataclass(frozen=True)
class ConnectorStatus:
    """State of a connector and of its tasks (``GET /connectors/{name}/status``)."""

    name: str
    state: str
    """Connector state, see :class:`ConnectorState`."""
    worker_id: str | None
    type: str | None
    """``source`` or ``sink`` (``None`` if the worker could not tell)."""
    tasks: tuple[TaskStatus, ...] = ()
    trace: str | None = None
    """Java stack trace when the connector itself FAILED, else ``None``."""

    @property
    def failed_tasks(self) -> tuple[TaskStatus, ...]:
        """The tasks in state FAILED."""
        return tuple(t for t in self.tasks if t.state == ConnectorState.FAILED)

    @property
    def trace_line(self) -> str | None:
        """First line of the connector's trace, else of the first failed task's trace."""
        line = _first_line(self.trace)
        if line is None:
            for task in self.failed_tasks:
                line = task.trace_line
                if line is not None:
                    break
        return line

    def describe(self) -> str:
        """One line such as ``RUNNING; tasks: 0 RUNNING, 1 FAILED``."""
        if not self.tasks:
            return f"{self.state}; no tasks"
        tasks = ", ".join(f"{t.id} {t.state}" for t in self.tasks)
        return f"{self.state}; tasks: {tasks}"


@dataclass(frozen=True)
class ConfigValidation:
    """Result of validating a connector config against a plugin
    (``PUT /connector-plugins/{class}/config/validate``).

    Only the error messages are kept — never the config values Connect echoes back.
    """

    class_name: str
    error_count: int
    errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Config key -> its error messages, for keys that have at least one error."""

    @property
    def ok(self) -> bool:
        """True when Connect found no error."""
        return self.error_count == 0 and not self.errors


class ConnectorNotFoundError(ConnectRequestError):
    """The named connector does not exist on the worker (HTTP 404)."""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return None


def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact_secrets(text: str, configs: Iterable[Mapping[str, Any]]) -> str:
    """Return ``text`` with the values of secret-looking keys of ``configs`` replaced.

    Used on everything Connect sends back that may echo a config (error messages, task traces)
    before it goes into an exception. Values shorter than 3 characters are left alone.
    """
    secrets: set[str] = set()
    for config in configs:
        for key, value in config.items():
            if value is None or not _is_secret_key(str(key)):
                continue
            value_text = str(value)
            if len(value_text) >= 3:
                secrets.add(value_text)
    # Longest first, so a secret containing another is replaced whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _seg(value: str) -> str:
    """Quote one path segment (connector names may hold ``/``, spaces, ...)."""
    return quote(value, safe="")


def _as_str(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------------


def _rebalancing(status: int, message: str) -> bool:
    """Whether an error answer means "ask again once the worker's rebalance is over".

    409: a rebalance in progress or a stale configuration (not "already exists"). 500:
    Connect's exception mapper answers RebalanceNeededException ("Request cannot be
    completed because a rebalance is expected") with a plain internal error.
    """
    text = message.lower()
    if status == 409:
        return "already exists" not in text
    return status == 500 and "rebalance is expected" in text


#: paths every Kafka Connect REST API serves: a 404 there means the URL is not a worker's root
_EVERY_WORKER_ANSWERS = frozenset({"/", "/connectors", "/connector-plugins"})


class ConnectClient:
    """A client for one Kafka Connect worker's REST API.

    ``url`` is the worker's REST base URL (``http://host:8083``; a path prefix is kept).
    ``auth`` is ``(user, password)`` for HTTP basic auth; credentials written into the URL are
    taken as ``auth`` and removed from the URL. ``name`` labels the worker in messages
    (``"source"``, ``"destination"``). ``transport`` replaces the network (tests pass an
    :class:`httpx.MockTransport`). Answers that mean "the worker is rebalancing" — ``409
    Conflict`` (other than "already exists"), and the ``500`` Connect sends for its
    RebalanceNeededException ("a rebalance is expected") — are retried
    ``conflict_retries`` times, sleeping ``conflict_backoff`` seconds doubled each time
    (capped at 2 s): about 36 s by default, as a rebalance after a connector is stopped,
    resumed or deleted can take that long on a loaded worker.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        name: str = "connect",
        conflict_retries: int = 20,
        conflict_backoff: float = 0.25,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.conflict_retries = max(0, conflict_retries)
        self.conflict_backoff = max(0.0, conflict_backoff)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigError(
                f"the {name} Connect URL is not a valid URL",
                why=str(exc),
                fix="set it to the worker's REST address, e.g. http://127.0.0.1:8083",
                worker=name,
            ) from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError(
                f"the {name} Connect URL must be an http(s) URL with a host",
                why=f"got scheme {parsed.scheme or '(none)'!r}",
                fix="set it to the worker's REST address, e.g. http://127.0.0.1:8083",
                worker=name,
            )
        if auth is None and (parsed.username or parsed.password):
            auth = (parsed.username, parsed.password)
        parsed = parsed.copy_with(username=None, password=None)
        self.url = str(parsed).rstrip("/")
        self._user = auth[0] if auth else None
        self._http = httpx.Client(
            base_url=self.url,
            auth=httpx.BasicAuth(auth[0], auth[1]) if auth else None,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": f"connshift/{__version__}"},
            follow_redirects=False,
        )

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        user = f", user={self._user!r}" if self._user else ""
        return f"ConnectClient(name={self.name!r}, url={self.url!r}{user})"

    __str__ = __repr__

    # -- worker ---------------------------------------------------------------------------

    def info(self) -> WorkerInfo:
        """``GET /`` — the worker's version, commit and Kafka cluster id."""
        data = self._request("GET", "/")
        body = self._expect_dict(data, "GET /")
        return WorkerInfo(
            version=str(body.get("version", "")),
            commit=str(body.get("commit", "")),
            kafka_cluster_id=_as_str(body.get("kafka_cluster_id")),
        )

    def wait_until_ready(self, timeout: float = 60.0, *, interval: float = 0.5) -> WorkerInfo:
        """Poll ``GET /`` until the worker answers; return its :class:`WorkerInfo`.

        Raises :class:`ConnectError` (with the last failure as ``why``) after ``timeout`` s.
        """
        deadline = time.monotonic() + timeout
        last: ConnectError | None = None
        while True:
            try:
                return self.info()
            except ConnectError as exc:
                last = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        raise ConnectError(
            f"the {self.name} Connect worker at {self.url} did not become ready "
            f"within {timeout:g}s",
            why=last.one_line() if last else None,
            fix="check the worker's log; it may still be starting, or failed to start",
            worker=self.name,
            url=self.url,
        ) from last

    def plugins(self, connectors_only: bool = True) -> list[PluginInfo]:
        """``GET /connector-plugins`` — installed plugins.

        With ``connectors_only=False`` converters, transformations and predicates are listed too.
        """
        params = {"connectorsOnly": "true" if connectors_only else "false"}
        data = self._request("GET", "/connector-plugins", params=params)
        items = self._expect_list(data, "GET /connector-plugins")
        plugins = []
        for item in items:
            entry = self._expect_dict(item, "GET /connector-plugins")
            plugins.append(
                PluginInfo(
                    class_name=str(entry.get("class", "")),
                    type=str(entry.get("type", "")),
                    version=_as_str(entry.get("version")),
                )
            )
        return plugins

    def validate_config(self, class_name: str, config: Mapping[str, Any]) -> ConfigValidation:
        """``PUT /connector-plugins/{class}/config/validate`` — validate ``config``.

        ``connector.class`` is added to the body when missing. Only the per-key error
        messages are returned.
        """
        body = {str(k): _as_str(v) for k, v in config.items()}
        body.setdefault("connector.class", class_name)
        path = f"/connector-plugins/{_seg(class_name)}/config/validate"
        data = self._request("PUT", path, json=body, secrets=[body])
        result = self._expect_dict(data, f"PUT {path}")
        errors: dict[str, tuple[str, ...]] = {}
        for item in result.get("configs") or []:
            value = item.get("value") if isinstance(item, dict) else None
            if not isinstance(value, dict):
                continue
            messages = tuple(redact_secrets(str(m), [body]) for m in value.get("errors") or [] if m)
            if messages:
                errors[str(value.get("name", ""))] = messages
        count = result.get("error_count")
        return ConfigValidation(
            class_name=class_name,
            error_count=count if isinstance(count, int) else len(errors),
            errors=errors,
        )

    # -- connectors: read -----------------------------------------------------------------

    def connectors(self) -> list[str]:
        """``GET /connectors`` — names of all connectors on the Connect cluster."""
        data = self._request("GET", "/connectors")
        return [str(n) for n in self._expect_list(data, "GET /connectors")]

    def exists(self, name: str) -> bool:
        """``GET /connectors/{name}`` — whether the connector exists."""
        try:
            self._request("GET", f"/connectors/{_seg(name)}", connector=name)
        except ConnectorNotFoundError:
            return False
        return True

    def connector_config(self, name: str) -> dict[str, str]:
        """``GET /connectors/{name}/config`` — the connector's config (may hold secrets:
        never log it)."""
        path = f"/connectors/{_seg(name)}/config"
        data = self._request("GET", path, connector=name)
        return {str(k): str(v) for k, v in self._expect_dict(data, f"GET {path}").items()}

    def status(self, name: str) -> ConnectorStatus:
        """``GET /connectors/{name}/status`` — connector and task states."""
        path = f"/connectors/{_seg(name)}/status"
        data = self._request("GET", path, connector=name)
        return self._parse_status(data, f"GET {path}")

    def topics(self, name: str) -> list[str]:
        """``GET /connectors/{name}/topics`` — topics the connector has used (topic tracking)."""
        path = f"/connectors/{_seg(name)}/topics"
        data = self._request("GET", path, connector=name)
        body = self._expect_dict(data, f"GET {path}")
        info = body.get(name)
        if info is None and len(body) == 1:
            info = next(iter(body.values()))
        if not isinstance(info, dict):
            return []
        return [str(t) for t in info.get("topics") or []]

    # -- connectors: write ----------------------------------------------------------------

    def create(
        self,
        name: str,
        config: Mapping[str, Any],
        initial_state: str | None = None,
    ) -> None:
        """``POST /connectors`` — create a connector.

        ``initial_state`` is ``RUNNING``, ``STOPPED`` or ``PAUSED`` (KIP-980, Connect 3.7+);
        ``None`` leaves it out (the connector starts RUNNING).
        """
        body_config = {str(k): _as_str(v) for k, v in config.items()}
        payload: dict[str, Any] = {"name": name, "config": body_config}
        if initial_state is not None:
            state = str(initial_state).upper()
            if state not in _INITIAL_STATES:
                raise ValueError(
                    f"initial_state must be one of {sorted(_INITIAL_STATES)}, not {initial_state!r}"
                )
            payload["initial_state"] = state
        self._request("POST", "/connectors", json=payload, connector=name, secrets=[body_config])

    def put_config(self, name: str, config: Mapping[str, Any]) -> bool:
        """``PUT /connectors/{name}/config`` — create or reconfigure; True if it was created."""
        body = {str(k): _as_str(v) for k, v in config.items()}
        response = self._send(
            "PUT", f"/connectors/{_seg(name)}/config", json=body, connector=name, secrets=[body]
        )
        return response.status_code == 201

    def delete(self, name: str) -> None:
        """``DELETE /connectors/{name}`` — delete the connector and its tasks."""
        self._request("DELETE", f"/connectors/{_seg(name)}", connector=name)

    def pause(self, name: str) -> None:
        """``PUT /connectors/{name}/pause`` (asynchronous: see :meth:`wait_for_state`)."""
        self._request("PUT", f"/connectors/{_seg(name)}/pause", connector=name)

    def resume(self, name: str) -> None:
        """``PUT /connectors/{name}/resume`` (asynchronous: see :meth:`wait_for_state`)."""
        self._request("PUT", f"/connectors/{_seg(name)}/resume", connector=name)

    def stop(self, name: str) -> None:
        """``PUT /connectors/{name}/stop`` — stop the connector and shut its tasks down
        (KIP-875, Connect 3.5+); required before offsets can be altered or reset."""
        self._request("PUT", f"/connectors/{_seg(name)}/stop", connector=name)

    def restart(
        self, name: str, include_tasks: bool = True, only_failed: bool = False
    ) -> ConnectorStatus | None:
        """``POST /connectors/{name}/restart?includeTasks=…&onlyFailed=…``.

        Returns the status Connect answers with (``202``), or ``None`` when it answers without
        a body (both flags false).
        """
        path = f"/connectors/{_seg(name)}/restart"
        params = {
            "includeTasks": "true" if include_tasks else "false",
            "onlyFailed": "true" if only_failed else "false",
        }
        data = self._request("POST", path, params=params, connector=name)
        if data is None:
            return None
        return self._parse_status(data, f"POST {path}")

    # -- offsets (KIP-875) ----------------------------------------------------------------

    def get_offsets(self, name: str) -> list[dict[str, Any]]:
        """``GET /connectors/{name}/offsets`` — ``[{"partition": {...}, "offset": {...}}]``."""
        path = f"/connectors/{_seg(name)}/offsets"
        data = self._request("GET", path, connector=name)
        body = self._expect_dict(data, f"GET {path}")
        entries = self._expect_list(body.get("offsets", []), f"GET {path}")
        return [dict(self._expect_dict(e, f"GET {path}")) for e in entries]

    def alter_offsets(self, name: str, offsets: Sequence[Mapping[str, Any]]) -> str:
        """``PATCH /connectors/{name}/offsets`` — write offsets (connector must be STOPPED).

        ``offsets`` has the shape :meth:`get_offsets` returns; an entry whose ``offset`` is
        ``None`` resets that partition. Returns Connect's confirmation message.
        """
        if not offsets:
            raise ValueError("alter_offsets needs at least one partition/offset entry")
        entries = [{"partition": dict(e["partition"]), "offset": e.get("offset")} for e in offsets]
        data = self._request(
            "PATCH", f"/connectors/{_seg(name)}/offsets", json={"offsets": entries}, connector=name
        )
        return self._message(data)

    def reset_offsets(self, name: str) -> str:
        """``DELETE /connectors/{name}/offsets`` — forget all offsets (connector must be
        STOPPED). Returns Connect's confirmation message."""
        data = self._request("DELETE", f"/connectors/{_seg(name)}/offsets", connector=name)
        return self._message(data)

    # -- waiting --------------------------------------------------------------------------

    def wait_for_state(
        self,
        name: str,
        state: str,
        *,
        tasks_state: str | None = None,
        timeout: float = 60.0,
        interval: float = 0.5,
    ) -> ConnectorStatus:
        """Poll :meth:`status` until the connector is in ``state``; return that status.

        With ``tasks_state``, also wait until the connector has at least one task and every
        task is in ``tasks_state``. STOPPED is reached only once no task is left: Connect
        reports the connector STOPPED while its tasks are still shutting down (KIP-875). A
        connector or task that is FAILED (when FAILED is not what we wait for) stops the wait
        at once. A 404 while polling counts as "no status yet"
        (Connect writes status asynchronously after a create).

        Raises :class:`ConnectError` naming the connector, the last state seen and the first
        line of any trace, on timeout or failure.
        """
        want = str(state).upper()
        want_tasks = str(tasks_state).upper() if tasks_state is not None else None
        deadline = time.monotonic() + timeout
        last: ConnectorStatus | None = None
        while True:
            try:
                last = self.status(name)
            except ConnectorNotFoundError:
                last = None
            if last is not None:
                if self._state_reached(last, want, want_tasks):
                    return last
                failed = ConnectorState.FAILED not in (want, want_tasks) and (
                    last.state == ConnectorState.FAILED or bool(last.failed_tasks)
                )
                if failed:
                    raise self._wait_error(name, want, want_tasks, last, timeout, failed=True)
            if time.monotonic() >= deadline:
                raise self._wait_error(name, want, want_tasks, last, timeout, failed=False)
            time.sleep(interval)

    @staticmethod
    def _state_reached(status: ConnectorStatus, want: str, want_tasks: str | None) -> bool:
        if status.state != want:
            return False
        if want == ConnectorState.STOPPED and want_tasks is None:
            # the connector reports STOPPED before its tasks are shut down: a source task
            # still produces, and commits its last offsets, until its status is gone
            return not status.tasks
        if want_tasks is None:
            return True
        return bool(status.tasks) and all(t.state == want_tasks for t in status.tasks)

    def _wait_error(
        self,
        name: str,
        want: str,
        want_tasks: str | None,
        last: ConnectorStatus | None,
        timeout: float,
        *,
        failed: bool,
    ) -> ConnectError:
        target = want if want_tasks is None else f"{want} with tasks {want_tasks}"
        if last is None:
            why = f"no status for the connector after {timeout:g}s"
        else:
            prefix = "it FAILED" if failed else f"still not there after {timeout:g}s"
            why = f"{prefix}; last seen {last.describe()}"
            trace = last.trace_line
            if trace:
                why += f"; {self._redact_from_config(name, trace)}"
        fix = (
            "check the connector's status and the worker log, fix the cause, then restart it"
            if failed
            else "check the worker log; a rebalance or a slow task start may need a longer wait"
        )
        return ConnectError(
            f"connector {name} on the {self.name} worker did not reach {target}",
            why=why,
            fix=fix,
            connector=name,
            worker=self.name,
            url=self.url,
            state=last.state if last else None,
        )

    def _redact_from_config(self, name: str, text: str) -> str:
        """Best effort: hide secret config values a trace may echo (e.g. in a JDBC URL)."""
        try:
            config = self.connector_config(name)
        except ConnectError:
            return text
        return redact_secrets(text, [config])

    # -- plumbing -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        connector: str | None = None,
        secrets: Sequence[Mapping[str, Any]] = (),
    ) -> Any:
        """Send a request, map errors, and return the decoded JSON body (``None`` if empty)."""
        response = self._send(
            method, path, params=params, json=json, connector=connector, secrets=secrets
        )
        if not response.content or response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectError(
                f"the {self.name} Connect worker at {self.url} sent an answer that is not JSON "
                f"for {method} {path}",
                why=f"HTTP {response.status_code}, content-type "
                f"{response.headers.get('content-type', '(none)')}",
                fix="check that the URL points at a Kafka Connect REST endpoint",
                worker=self.name,
                url=self.url,
                connector=connector,
            ) from exc

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        connector: str | None = None,
        secrets: Sequence[Mapping[str, Any]] = (),
    ) -> httpx.Response:
        """Send with 409 retries; return a 2xx response or raise a mapped error."""
        attempt = 0
        while True:
            response = self._send_once(method, path, params=params, json=json)
            log.debug("%s %s %s -> %s", self.name, method, path, response.status_code)
            if response.is_success:
                return response
            message = self._error_message(response, secrets)
            retryable = _rebalancing(response.status_code, message)
            if retryable and attempt < self.conflict_retries:
                delay = min(self.conflict_backoff * (2**attempt), 2.0)
                attempt += 1
                log.debug(
                    "%s: 409 on %s %s, retry %d in %.2fs", self.name, method, path, attempt, delay
                )
                time.sleep(delay)
                continue
            raise self._status_error(method, path, response.status_code, message, connector)

    def _send_once(
        self, method: str, path: str, *, params: Mapping[str, str] | None, json: Any
    ) -> httpx.Response:
        try:
            return self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise ConnectError(
                f"the {self.name} Connect worker at {self.url} did not answer {method} {path} "
                f"within {self.timeout:g}s",
                why=str(exc) or type(exc).__name__,
                fix="check the worker is healthy (its log, GET /); a change may still be "
                "applied — read the connector's status before retrying",
                worker=self.name,
                url=self.url,
            ) from exc
        except httpx.TransportError as exc:
            raise ConnectError(
                f"could not reach the {self.name} Connect worker at {self.url}",
                why=str(exc) or type(exc).__name__,
                fix=f"check the {self.name} Connect URL in the migration spec, or start the "
                "worker (`connshift sandbox up` for the local sandbox)",
                worker=self.name,
                url=self.url,
            ) from exc

    @staticmethod
    def _error_message(response: httpx.Response, secrets: Sequence[Mapping[str, Any]]) -> str:
        """Connect's JSON ``message`` (or a short excerpt of the body), secrets redacted."""
        message = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("message") is not None:
            message = str(body["message"])
        elif response.content:
            message = response.text.strip()[:300]
        if not message:
            message = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        return redact_secrets(message, secrets)

    def _status_error(
        self, method: str, path: str, status: int, message: str, connector: str | None
    ) -> ConnectRequestError:
        request = f"{method} {path}"
        if status == 404 and connector is not None and message.strip() != _GENERIC_404:
            return ConnectorNotFoundError(
                f"connector {connector} not found on {self.name} worker at {self.url}",
                status=status,
                message=message,
                fix="check the connector name (`GET /connectors` lists them)",
                worker=self.name,
                url=self.url,
                connector=connector,
                request=request,
            )
        what = f"the {self.name} Connect worker at {self.url} refused {method} {path}"
        if connector is not None and _seg(connector) not in path.split("/"):
            what += f" for connector {connector}"
        fix: str | None
        if status == 404 and path in _EVERY_WORKER_ANSWERS:
            fix = (
                f"every Kafka Connect worker answers {method} {path}: check the {self.name} "
                f"Connect URL in the spec — it should be the REST root, such as http://host:8083"
            )
        elif status == 404 or status == 405:
            fix = (
                f"the {self.name} worker does not offer {method} {path}; "
                "it may run a Kafka Connect version that is too old for this operation"
            )
        elif status in (401, 403):
            fix = f"check the credentials and permissions for the {self.name} Connect worker"
        elif status == 409:
            fix = (
                "the worker is rebalancing or applying a concurrent change; retry in a moment"
                if "already exists" not in message.lower()
                else "delete it first, or reuse it"
            )
        elif status >= 500:
            fix = f"check the {self.name} worker's log"
        else:
            fix = None
        return ConnectRequestError(
            what,
            status=status,
            message=message,
            fix=fix,
            worker=self.name,
            url=self.url,
            connector=connector,
            request=request,
        )

    def _expect_dict(self, data: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(data, dict):
            raise self._shape_error(what, "an object")
        return data

    def _expect_list(self, data: Any, what: str) -> list[Any]:
        if not isinstance(data, list):
            raise self._shape_error(what, "a list")
        return data

    def _shape_error(self, what: str, expected: str) -> ConnectError:
        return ConnectError(
            f"unexpected answer from the {self.name} Connect worker at {self.url} to {what}",
            why=f"expected {expected}",
            fix="check that the URL points at a Kafka Connect REST endpoint",
            worker=self.name,
            url=self.url,
        )

    def _parse_status(self, data: Any, what: str) -> ConnectorStatus:
        body = self._expect_dict(data, what)
        connector = body.get("connector")
        connector = connector if isinstance(connector, dict) else {}
        tasks = []
        for item in body.get("tasks") or []:
            task = self._expect_dict(item, what)
            tasks.append(
                TaskStatus(
                    id=int(task.get("id", -1)),
                    state=str(task.get("state", "")),
                    worker_id=_as_str(task.get("worker_id")),
                    trace=_as_str(task.get("trace")),
                )
            )
        tasks.sort(key=lambda t: t.id)
        return ConnectorStatus(
            name=str(body.get("name", "")),
            state=str(connector.get("state", "")),
            worker_id=_as_str(connector.get("worker_id")),
            type=_as_str(body.get("type")),
            tasks=tuple(tasks),
            trace=_as_str(connector.get("trace")),
        )

    @staticmethod
    def _message(data: Any) -> str:
        if isinstance(data, dict) and data.get("message") is not None:
            return str(data["message"])
        return ""
