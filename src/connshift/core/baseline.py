"""The observability baseline: what one sample holds, how a window is summarised, and
which differences between two windows are regressions. Pure: no I/O.

A *sample* (one per interval, taken by :mod:`connshift.app.baseline`)::

    {"t": seconds from the start,
     "connectors": {name: {"side", "state", "tasks", "tasks_running", "tasks_failed",
                           "task_errors", "task_retries"}},     # counts None without metrics
     "group_lag": {group: records}, "groups": {group: state}, "group_members": {group: n},
     "group_sides": {group: side},
     "source_lag_ms": {connector: ms},                          # Debezium MilliSecondsBehindSource
     "storage_bytes": {side: bytes},                            # DescribeLogDirs
     "produce_ms": {side: ms}, "fetch_ms": {side: ms}}          # the canary

The Prometheus text of a worker's JMX exporter is read by :func:`parse_exporter_text`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from connshift.errors import UsageError

SCHEMA = "connshift.baseline/1"
COMPARE_SCHEMA = "connshift.baseline-compare/1"

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str, *, what: str = "--duration") -> float:
    """``30s``, ``5m``, ``1h``, ``500ms`` or plain seconds (``90``) -> seconds (> 0)."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise UsageError(
            f"bad {what} {text!r}", why="expected a number of seconds or e.g. 30s, 5m, 1h"
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise UsageError(f"bad {what} {text!r}", why="must be more than zero")
    return seconds


# --------------------------------------------------------------------------- exporter text


@dataclass
class ExporterReading:
    """What one scrape of a Connect worker's JMX exporter says."""

    #: connector -> state as the worker's connector-metrics report it (upper case)
    states: dict[str, str] = field(default_factory=dict)
    #: connector -> task id -> state
    task_states: dict[str, dict[str, str]] = field(default_factory=dict)
    #: connector -> summed task-error-metrics total-record-errors (+ total-record-failures)
    errors: dict[str, float] = field(default_factory=dict)
    #: connector -> summed task-error-metrics total-retries
    retries: dict[str, float] = field(default_factory=dict)
    #: Debezium server (topic.prefix) -> MilliSecondsBehindSource (only when >= 0)
    behind_ms: dict[str, float] = field(default_factory=dict)
    #: worker-level gauges (connect-worker-metrics), e.g. ``task_startup_failure``
    worker: dict[str, float] = field(default_factory=dict)


_WORKER_PREFIX = "kafka_connect_worker_"


def parse_exporter_text(text: str) -> ExporterReading:
    """Read the series ``connshift baseline`` needs from a JMX exporter's /metrics text
    (the names the shipped rules produce; ValueError for text that is not Prometheus')."""
    out = ExporterReading()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, float(s.value)
            connector = labels.get("connector")
            if name == "kafka_connect_connector_status" and connector and value == 1:
                out.states[connector] = labels.get("status", "").upper()
            elif name == "kafka_connect_connector_task_status" and connector and value == 1:
                task = labels.get("task", "")
                out.task_states.setdefault(connector, {})[task] = labels.get("status", "").upper()
            elif (
                name
                in (
                    "kafka_connect_task_error_total_record_errors",
                    "kafka_connect_task_error_total_record_failures",
                )
                and connector
            ):
                if not math.isnan(value):
                    out.errors[connector] = out.errors.get(connector, 0.0) + value
            elif name == "kafka_connect_task_error_total_retries" and connector:
                if not math.isnan(value):
                    out.retries[connector] = out.retries.get(connector, 0.0) + value
            elif name == "debezium_metrics_millisecondsbehindsource":
                server = labels.get("server")
                if server and labels.get("context", "streaming") == "streaming" and value >= 0:
                    out.behind_ms[server] = max(out.behind_ms.get(server, 0.0), value)
            elif name.startswith(_WORKER_PREFIX) and not labels:
                out.worker[name[len(_WORKER_PREFIX) :]] = value
    return out


# --------------------------------------------------------------------------- one sample


_STATE_RANK = {"RUNNING": 0, "RESTARTING": 1, "UNASSIGNED": 2, "PAUSED": 3, "STOPPED": 4}


def pick_live(entries: Mapping[str, Mapping[str, Any]]) -> tuple[str, Mapping[str, Any]]:
    """Of one connector's entries per side, the one that is live: RUNNING first, then the
    destination (where a moved connector lives), then the source."""
    order = {"destination": 0, "source": 1}

    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, int]:
        side, entry = item
        return (_STATE_RANK.get(str(entry.get("state")), 9), order.get(side, 2))

    return min(entries.items(), key=key)


def pick_group(entries: Mapping[str, Mapping[str, Any]]) -> tuple[str, Mapping[str, Any]]:
    """Of one group's entries per side (``{"lag", "state", "members"}``), the one being
    consumed: the side with members, else the source."""
    order = {"source": 0, "destination": 1}

    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, int]:
        side, entry = item
        return (0 if int(entry.get("members") or 0) > 0 else 1, order.get(side, 2))

    return min(entries.items(), key=key)


# --------------------------------------------------------------------------- summary


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _stats(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "last": values[-1] if values else None,
        "max": max(values) if values else None,
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
    }


def _series(samples: Sequence[Mapping[str, Any]], key: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for s in samples:
        for name, value in (s.get(key) or {}).items():
            if value is not None:
                out.setdefault(str(name), []).append(float(value))
    return out


def _increase(values: Sequence[float]) -> float:
    """How much a cumulative counter grew over a window (a reset counts from zero)."""
    total = 0.0
    for prev, cur in itertools.pairwise(values):
        total += cur - prev if cur >= prev else cur
    return total


def _connector_summary(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    per: dict[str, list[Mapping[str, Any]]] = {}
    for s in samples:
        for name, entry in (s.get("connectors") or {}).items():
            per.setdefault(str(name), []).append(entry)
    out: dict[str, dict[str, Any]] = {}
    for name, entries in per.items():
        last = entries[-1]
        errors = [float(e["task_errors"]) for e in entries if e.get("task_errors") is not None]
        retries = [float(e["task_retries"]) for e in entries if e.get("task_retries") is not None]
        states: list[str] = []
        for e in entries:
            if str(e.get("state")) not in states:
                states.append(str(e.get("state")))
        out[name] = {
            "side": last.get("side"),
            "state_last": last.get("state"),
            "states": states,
            "samples": len(entries),
            "tasks_last": last.get("tasks"),
            "tasks_running_last": last.get("tasks_running"),
            "tasks_failed_max": max(int(e.get("tasks_failed") or 0) for e in entries),
            "task_errors_last": errors[-1] if errors else None,
            "task_errors_increase": _increase(errors) if errors else None,
            "task_retries_last": retries[-1] if retries else None,
            "task_retries_increase": _increase(retries) if retries else None,
        }
    return out


def _group_summary(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in samples:
        for group, state in (s.get("groups") or {}).items():
            g = out.setdefault(
                str(group), {"last": None, "states": [], "stable_samples": 0, "samples": 0}
            )
            g["last"] = state
            g["samples"] += 1
            g["stable_samples"] += 1 if str(state).upper() == "STABLE" else 0
            if state not in g["states"]:
                g["states"].append(state)
            members = (s.get("group_members") or {}).get(group)
            if members is not None:
                g["members_last"] = members
            side = (s.get("group_sides") or {}).get(group)
            if side is not None:
                g["side"] = side
    return out


def _totals(
    connectors: Mapping[str, Mapping[str, Any]], samples: Sequence[Mapping[str, Any]]
) -> dict[str, float | None]:
    """Estate-wide figures over the window (what ``decide`` weighs): tasks seen FAILED,
    task errors and retries counted, storage growth and the window's length."""
    errors = [c["task_errors_increase"] for c in connectors.values()]
    retries = [c["task_retries_increase"] for c in connectors.values()]
    growth = None
    storage = _series(samples, "storage_bytes")
    if storage:
        growth = sum(v[-1] - v[0] for v in storage.values())
    times = [float(s["t"]) for s in samples if s.get("t") is not None]
    return {
        "task_failures": float(sum(int(c["tasks_failed_max"] or 0) for c in connectors.values())),
        "task_errors": sum(e for e in errors if e is not None)
        if any(e is not None for e in errors)
        else None,
        "task_retries": sum(r for r in retries if r is not None)
        if any(r is not None for r in retries)
        else None,
        "storage_growth_bytes": growth,
        "window_seconds": (max(times) - min(times)) if len(times) > 1 else None,
    }


def summarize(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate a window's samples: per connector its states and counter growth, per
    group its lag and states, and last/max/p50/p99 of the numeric series."""
    connectors = _connector_summary(samples)
    return {
        "samples": len(samples),
        "totals": _totals(connectors, samples),
        "connectors": connectors,
        "group_lag": {k: _stats(v) for k, v in sorted(_series(samples, "group_lag").items())},
        "source_lag_ms": {
            k: _stats(v) for k, v in sorted(_series(samples, "source_lag_ms").items())
        },
        "storage_bytes": {
            k: _stats(v) for k, v in sorted(_series(samples, "storage_bytes").items())
        },
        "produce_ms": {k: _stats(v) for k, v in sorted(_series(samples, "produce_ms").items())},
        "fetch_ms": {k: _stats(v) for k, v in sorted(_series(samples, "fetch_ms").items())},
        "groups": _group_summary(samples),
    }


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Tolerances:
    """How much worse ``after`` may be before ``compare`` calls it a regression."""

    #: consumer-group lag may grow by this many records (max over the window)
    lag_records: float = 1000.0
    #: a source connector's lag (MilliSecondsBehindSource) may grow by this many ms
    source_lag_ms: float = 10_000.0
    #: canary p99 latency regresses only when worse by this factor AND ...
    latency_factor: float = 3.0
    #: ... by at least this many milliseconds (this machine's noise is high)
    latency_floor_ms: float = 50.0


@dataclass(frozen=True)
class Regression:
    """One thing that got worse."""

    metric: str
    subject: str
    before: Any
    after: Any
    why: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _connector_regressions(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Regression]:
    out: list[Regression] = []
    for name, b in sorted(before.items()):
        a = after.get(name)
        if b.get("state_last") != "RUNNING":
            continue
        if a is None:
            out.append(
                Regression(
                    "connector.state",
                    name,
                    "RUNNING",
                    None,
                    "RUNNING before; not found on either Connect cluster after",
                )
            )
            continue
        if a.get("state_last") != "RUNNING":
            out.append(
                Regression(
                    "connector.state",
                    name,
                    "RUNNING",
                    a.get("state_last"),
                    f"RUNNING before ({b.get('side')}); {a.get('state_last')} at the end of "
                    f"after ({a.get('side')})",
                )
            )
            continue
        b_run, a_run = _num(b.get("tasks_running_last")), _num(a.get("tasks_running_last"))
        if b_run is not None and a_run is not None and a_run < b_run:
            out.append(
                Regression(
                    "connector.tasks",
                    name,
                    int(b_run),
                    int(a_run),
                    f"{int(b_run)} task(s) RUNNING before, {int(a_run)} after",
                )
            )
    for name, a in sorted(after.items()):
        b = before.get(name)
        b_failed = int(b.get("tasks_failed_max") or 0) if b else 0
        a_failed = int(a.get("tasks_failed_max") or 0)
        if a_failed > b_failed:
            out.append(
                Regression(
                    "connector.tasks_failed",
                    name,
                    b_failed,
                    a_failed,
                    f"{a_failed} task(s) FAILED during after, {b_failed} during before",
                )
            )
        if b is None:
            continue
        for key, label in (("task_errors", "record errors"), ("task_retries", "retries")):
            b_last, a_last = _num(b.get(f"{key}_last")), _num(a.get(f"{key}_last"))
            b_inc, a_inc = _num(b.get(f"{key}_increase")), _num(a.get(f"{key}_increase"))
            if a_last is None or b_last is None:
                continue
            same_side = a.get("side") == b.get("side")
            rose = (same_side and a_last > b_last) or (
                a_inc is not None and b_inc is not None and a_inc > b_inc
            )
            if rose:
                out.append(
                    Regression(
                        f"connector.{key}",
                        name,
                        b_last,
                        a_last,
                        f"task {label} rising: {b_last:g} (+{b_inc or 0:g}) before, "
                        f"{a_last:g} (+{a_inc or 0:g}) after",
                    )
                )
    return out


def _growth(
    metric: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    tolerance: float,
    unit: str,
) -> list[Regression]:
    out: list[Regression] = []
    for name, a in sorted(after.items()):
        b = before.get(name)
        a_max = _num(a.get("max"))
        b_max = _num(b.get("max")) if b else 0.0
        if a_max is None or b_max is None:
            continue
        if a_max - b_max > tolerance:
            out.append(
                Regression(
                    metric,
                    name,
                    b_max,
                    a_max,
                    f"max {a_max:g} {unit} after vs {b_max:g} before: grew more than "
                    f"{tolerance:g} {unit}",
                )
            )
    return out


def _latency(
    metric: str, before: Mapping[str, Any], after: Mapping[str, Any], tol: Tolerances
) -> list[Regression]:
    out: list[Regression] = []
    for side, a in sorted(after.items()):
        b = before.get(side)
        a_p99 = _num(a.get("p99"))
        b_p99 = _num(b.get("p99")) if b else None
        if a_p99 is None or b_p99 is None:
            continue
        if a_p99 > b_p99 * tol.latency_factor and a_p99 - b_p99 > tol.latency_floor_ms:
            out.append(
                Regression(
                    metric,
                    side,
                    b_p99,
                    a_p99,
                    f"canary p99 {a_p99:.1f} ms after vs {b_p99:.1f} ms before: more than "
                    f"{tol.latency_factor:g}x and {tol.latency_floor_ms:g} ms worse",
                )
            )
    return out


def _group_regressions(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Regression]:
    out: list[Regression] = []
    for group, b in sorted(before.items()):
        a = after.get(group)
        if str(b.get("last", "")).upper() != "STABLE" or a is None:
            continue
        if int(a.get("stable_samples") or 0) == 0:
            out.append(
                Regression(
                    "group.state",
                    group,
                    b.get("last"),
                    a.get("last"),
                    f"Stable at the end of before; never Stable during after "
                    f"({', '.join(str(s) for s in a.get('states', []))})",
                )
            )
    return out


def compare(
    before: Mapping[str, Any], after: Mapping[str, Any], tol: Tolerances | None = None
) -> list[Regression]:
    """The regressions from the ``before`` summary to the ``after`` summary."""
    tol = tol or Tolerances()
    out = _connector_regressions(before.get("connectors", {}), after.get("connectors", {}))
    out += _group_regressions(before.get("groups", {}), after.get("groups", {}))
    out += _growth(
        "group.lag",
        before.get("group_lag", {}),
        after.get("group_lag", {}),
        tol.lag_records,
        "records",
    )
    out += _growth(
        "source.lag_ms",
        before.get("source_lag_ms", {}),
        after.get("source_lag_ms", {}),
        tol.source_lag_ms,
        "ms",
    )
    out += _latency(
        "canary.produce_ms", before.get("produce_ms", {}), after.get("produce_ms", {}), tol
    )
    out += _latency("canary.fetch_ms", before.get("fetch_ms", {}), after.get("fetch_ms", {}), tol)
    return out


def compare_json(
    before_label: str,
    after_label: str,
    regressions: Iterable[Regression],
    tol: Tolerances,
) -> dict[str, Any]:
    """The ``connshift.baseline-compare/1`` document."""
    regs = [r.to_json() for r in regressions]
    return {
        "schema": COMPARE_SCHEMA,
        "before": before_label,
        "after": after_label,
        "ok": not regs,
        "regressions": regs,
        "tolerances": dict(tol.__dict__),
    }
