"""Typed evidence: the recorded results the scorecard and the report read, parsed once.

Every command records its JSON result under ``<state_dir>/evidence/<kind>.json``
(:mod:`connshift.io.evidence`). This module is the one place that knows those shapes:
each kind has a frozen value object with a ``from_json(data)`` classmethod, and
:class:`EvidenceSet` holds every kind of one state directory (parsed lazily, so a file
that cannot be read costs only the view that reads it).

``from_json`` is tolerant, and that tolerance is behaviour: an older or partial file must
score and render exactly as it did when the readers dug into the dicts themselves.

* A missing key, a ``null`` or a value of the wrong JSON type reads as "not known" (an
  empty string, ``None``, an empty tuple), never as an exception.
* Where :mod:`connshift.core.score` and :mod:`connshift.core.report` apply *different*
  defaults to the same missing field (the scorecard writes ``None``, the report ``?``),
  the field is ``Optional`` (``None``: not recorded) and each reader keeps its own default.
* Older shapes connshift (or the report) has accepted are folded in here: ``acls``'s
  ``missing_on_destination`` / ``diff.missing`` / ``missing``; a scorecard's connectors
  as an object or a list; a decision's ``path`` as a string or ``{"id"}``; a cost's
  ``difference`` as a number or ``{"monthly", "percent"}``; a group's ``members`` and an
  inventory's ``brokers`` as a list or a count; baseline samples' per-connector states.

Fields that are one of a few strings (a check's status, a finding's severity) hold the
:class:`CheckStatus` / :class:`Severity` member when they are one, and the recorded text
otherwise (the report shows an unknown status as it was written).

Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Self, TypeVar

Raw = Mapping[str, Any]

# ---------------------------------------------------------------------------- coercions


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: object, default: str = "") -> str:
    """A scalar as text (``default`` for null); containers as compact JSON."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def as_num(value: object) -> float | None:
    """A finite number, or None (booleans and non-numeric text are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    number = as_num(value)
    return int(number) if number is not None else None


def as_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def opt_str(value: object) -> str | None:
    """:func:`as_str`, but ``None`` stays ``None`` (the reader picks its own default)."""
    return None if value is None else as_str(value)


def _top(data: object) -> Raw:
    """A whole evidence file: any JSON object (anything else reads as an empty one)."""
    return data if isinstance(data, Mapping) else {}


def _objects(value: object) -> Iterator[dict[str, Any]]:
    """The non-empty JSON objects of a JSON array (anything else in it is skipped)."""
    for item in as_list(value):
        d = as_dict(item)
        if d:
            yield d


def _entries(value: object) -> list[Any]:
    """A recorded list; anything else that is there counts as one entry (a gate must not
    read a malformed list of problems as no problem)."""
    if isinstance(value, list):
        return value
    return [value] if value else []


def _counts(value: object) -> dict[str, int]:
    """A recorded tally/counts object (``{}`` when the file has none)."""
    return {as_str(k): as_int(v) or 0 for k, v in as_dict(value).items()}


def lag_total(value: object) -> int | None:
    """A lag as recorded: a number, or ``{partition: lag}`` summed over the known ones."""
    if isinstance(value, dict):
        nums = [as_int(v) for v in value.values()]
        known = [n for n in nums if n is not None]
        return sum(known) if known else (0 if not value else None)
    return as_int(value)


def recorded_at(data: object) -> str:
    """The ``evidence`` envelope's ``recorded_at`` (``""`` when the file has none)."""
    return as_str(as_dict(_top(data).get("evidence")).get("recorded_at"))


E = TypeVar("E", bound=StrEnum)


def _known(enum: type[E], value: object) -> E | str | None:
    """The member of ``enum`` ``value`` names, else the recorded text (None: not recorded)."""
    text = opt_str(value)
    if text is None:
        return None
    try:
        return enum(text)
    except ValueError:
        return text


def evidence_paths(value: object) -> tuple[str, ...]:
    """The evidence a row or a reason cites: a path, or a list of paths, of
    ``{"path": ...}`` or of ``{"kind": ...}`` (then ``evidence/<kind>.json``)."""
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            path = as_str(item.get("path")) or (
                f"evidence/{as_str(item.get('kind'))}.json" if item.get("kind") else ""
            )
        else:
            path = as_str(item)
        if path:
            out.append(path)
    return tuple(out)


# ---------------------------------------------------------------------------- enums


class CheckStatus(StrEnum):
    """What a probe, validate or check check came to."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    INFO = "INFO"


class Severity(StrEnum):
    """A review finding's severity."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One check of a probe or a validate run."""

    id: str | None
    #: as recorded (a :class:`CheckStatus` when it is one; the case is kept)
    status: CheckStatus | str | None
    subject: str = ""
    summary: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            id=opt_str(d.get("id")),
            status=_known(CheckStatus, d.get("status")),
            subject=as_str(d.get("subject")),
            summary=as_str(d.get("summary")),
        )

    @property
    def failed(self) -> bool:
        return self.status == CheckStatus.FAIL

    @property
    def passed(self) -> bool:
        return self.status == CheckStatus.PASS


def _checks(value: object) -> tuple[Check, ...]:
    return tuple(Check.from_json(d) for d in _objects(value))


@dataclass(frozen=True)
class Validate:
    """``validate.json`` (connshift.validate/1)."""

    ok: bool | None = None
    #: the tally as recorded (``{}`` when the file has none)
    tally: dict[str, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        return cls(
            ok=as_bool(d.get("ok")),
            tally=_counts(d.get("tally")),
            checks=_checks(d.get("checks")),
            recorded_at=recorded_at(d),
        )


@dataclass(frozen=True)
class Reachability:
    """``check.json`` (connshift.check/1): were both clusters and workers reached."""

    ok: bool | None = None
    recorded_at: str = ""
    #: ``check --permissions`` (None: not run): no essential permission missing
    permissions_ok: bool | None = None
    #: every essential permission verified (by the ACLs or a harmless try)
    permissions_complete: bool | None = None
    permissions_missing: int = 0

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        perms = as_dict(d.get("permissions"))
        missing = perms.get("missing")
        return cls(
            ok=as_bool(d.get("ok")),
            recorded_at=recorded_at(d),
            permissions_ok=as_bool(perms.get("ok")) if perms else None,
            permissions_complete=as_bool(perms.get("complete")) if perms else None,
            permissions_missing=missing if isinstance(missing, int) else 0,
        )


@dataclass(frozen=True)
class Probe:
    """``probe-<side>.json`` (connshift.probe/1)."""

    side: str
    bootstrap: str = ""
    kafka_version: str = ""
    ok: bool | None = None
    #: the tally as recorded (``{}`` when the file has none)
    tally: dict[str, int] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    #: whether the probe knew what the estate needs (it ran with --inventory)
    knows_needs: bool = False
    #: failed check id -> who needs it (``connector <name>``, ``topic <name>``)
    needed_failures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object, kind: str = "probe-destination") -> Self:
        d = _top(data)
        return cls(
            side=as_str(d.get("side")) or kind.removeprefix("probe-"),
            bootstrap=as_str(d.get("bootstrap")),
            kafka_version=as_str(d.get("kafka_version")),
            ok=as_bool(d.get("ok")),
            tally=_counts(d.get("tally")),
            checks=_checks(d.get("checks")),
            knows_needs=bool(d.get("needs")),
            needed_failures={
                as_str(k): tuple(as_str(w) for w in as_list(v))
                for k, v in as_dict(d.get("needed_failures")).items()
            },
            recorded_at=recorded_at(d),
        )

    def count(self, status: CheckStatus) -> int | None:
        """How many checks the recorded tally gives ``status`` (None: it does not say)."""
        return self.tally.get(status.value)

    def relied_failures(self) -> dict[str, list[str]]:
        """Failed checks the estate relies on. A probe run without the inventory knows no
        needs: then every failed check counts (we cannot tell which ones do not matter)."""
        if self.knows_needs:
            return {k: list(v) for k, v in self.needed_failures.items()}
        return {str(c.id): ["(probe ran without --inventory)"] for c in self.checks if c.failed}


# ---------------------------------------------------------------------------- review


@dataclass(frozen=True)
class Finding:
    """One review finding."""

    id: str | None
    #: as recorded (a :class:`Severity` when it is one; the case is kept)
    severity: Severity | str | None
    subject: str | None
    finding: str | None
    fix: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            id=opt_str(d.get("id")),
            severity=_known(Severity, d.get("severity")),
            subject=opt_str(d.get("subject")),
            finding=opt_str(d.get("finding")),
            fix=as_str(d.get("fix")),
        )

    @property
    def high(self) -> bool:
        return self.severity == Severity.HIGH


@dataclass(frozen=True)
class Review:
    """``review.json`` (connshift.review/1)."""

    #: the counts as recorded (``{}`` when the file has none)
    counts: dict[str, int] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        return cls(
            counts=_counts(d.get("counts")),
            findings=tuple(Finding.from_json(f) for f in _objects(d.get("findings"))),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class InventoryConnector:
    name: str | None
    cls: str | None
    shape: str | None = None
    plugin_version: str = ""
    state: str | None = None
    #: each task's state, one per recorded task (None: the task says none)
    task_states: tuple[str | None, ...] = ()
    topics: tuple[str, ...] = ()
    #: the connector's (redacted) configuration, free-form
    config: Mapping[str, Any] = field(default_factory=dict)
    inline_secrets: bool = False

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            name=opt_str(d.get("name")),
            cls=opt_str(d.get("class")),
            shape=opt_str(d.get("shape")),
            plugin_version=as_str(d.get("plugin_version")),
            state=opt_str(d.get("state")),
            task_states=tuple(opt_str(as_dict(t).get("state")) for t in as_list(d.get("tasks"))),
            topics=tuple(as_str(t) for t in as_list(d.get("topics"))),
            config=as_dict(d.get("config")),
            inline_secrets=bool(d.get("inline_secrets")),
        )


@dataclass(frozen=True)
class InventoryTopic:
    name: str | None = None
    partitions: int | None = None
    size_bytes: int | None = None
    records_retained: int | None = None
    rate_per_second: float | None = None
    #: ``retention.ms`` when it is recorded as a whole number (``-1``: forever)
    retention_ms: int | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        retention = str(as_dict(d.get("configs")).get("retention.ms") or "")
        try:
            retention_ms: int | None = int(retention)
        except ValueError:
            retention_ms = None
        return cls(
            name=opt_str(d.get("name")),
            partitions=as_int(d.get("partitions")),
            size_bytes=as_int(d.get("size_bytes")),
            records_retained=as_int(d.get("records_retained_approx")),
            rate_per_second=as_num(d.get("rate_per_second")),
            retention_ms=retention_ms,
        )


@dataclass(frozen=True)
class ConsumerGroup:
    #: the ``group`` field as recorded
    group: str | None
    #: what to call it: ``group``, else the older ``name``, else ``?``
    label: str = "?"
    state: str = ""
    members: int | None = None
    lag: int | None = None
    #: the partitions (``topic[partition]``) it has committed offsets for
    committed: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        members = d.get("members")
        committed = d.get("committed")
        return cls(
            group=opt_str(d.get("group")),
            label=as_str(d.get("group") or d.get("name"), "?"),
            state=as_str(d.get("state")),
            members=len(members) if isinstance(members, list) else as_int(members),
            lag=lag_total(d.get("lag")),
            committed=tuple(str(k) for k in committed)
            if isinstance(committed, dict | list)
            else (),
        )

    def reads(self, topics: set[str]) -> bool:
        """Whether it has committed offsets on one of ``topics``."""
        return any(k.rsplit("[", 1)[0] in topics for k in self.committed)


@dataclass(frozen=True)
class Inventory:
    """``inventory.json`` (connshift.inventory/1)."""

    cluster_id: str = ""
    brokers: int | None = None
    worker_version: str = ""
    connectors: tuple[InventoryConnector, ...] = ()
    #: every recorded topic (one that is not an object reads as an empty one)
    topics: tuple[InventoryTopic, ...] = ()
    groups: tuple[ConsumerGroup, ...] = ()
    taken_at: str = ""
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        cluster = as_dict(d.get("cluster"))
        brokers = cluster.get("brokers")
        return cls(
            cluster_id=as_str(cluster.get("cluster_id")),
            brokers=len(brokers) if isinstance(brokers, list) else as_int(brokers),
            worker_version=as_str(as_dict(d.get("connect_worker")).get("version")),
            connectors=tuple(
                InventoryConnector.from_json(c) for c in _objects(d.get("connectors"))
            ),
            topics=tuple(InventoryTopic.from_json(t) for t in as_list(d.get("topics"))),
            groups=tuple(ConsumerGroup.from_json(g) for g in _objects(d.get("groups"))),
            taken_at=as_str(d.get("taken_at")),
            recorded_at=recorded_at(d),
        )

    def connector(self, name: str) -> InventoryConnector | None:
        return next((c for c in self.connectors if c.name == name), None)


# ---------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PlannedConnector:
    name: str | None
    strategy: str | None = None
    shape: str | None = None
    topics: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            name=opt_str(d.get("name")),
            strategy=opt_str(d.get("strategy")),
            shape=opt_str(d.get("shape")),
            topics=tuple(as_str(t) for t in as_list(d.get("topics"))),
        )


@dataclass(frozen=True)
class Plan:
    """``plan.json`` (connshift.plan/1)."""

    connectors: tuple[PlannedConnector, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        return cls(
            connectors=tuple(PlannedConnector.from_json(c) for c in _objects(d.get("connectors"))),
            recorded_at=recorded_at(d),
        )

    def connector(self, name: str) -> PlannedConnector | None:
        return next((c for c in self.connectors if c.name == name), None)


# ---------------------------------------------------------------------------- acls


@dataclass(frozen=True)
class Acls:
    """``acls.json`` (connshift.acls/1, what ``acls diff`` recorded)."""

    #: the ACLs the destination lacks (free-form ACL bindings)
    missing: tuple[Any, ...] = ()
    #: the source ACLs the destination got in no form at all (findings, ``not carried``)
    not_carried: tuple[Any, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        # connshift.acls/1 says missing_on_destination; older files diff.missing or missing
        missing = (
            d.get("missing_on_destination")
            or as_dict(d.get("diff")).get("missing")
            or d.get("missing")
            or []
        )
        # findings (added to connshift.acls/1): carried in another form, or not carried
        not_carried = [
            f for f in _entries(d.get("findings")) if as_dict(f).get("outcome") == "not carried"
        ]
        return cls(
            missing=tuple(_entries(missing)),
            not_carried=tuple(not_carried),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- rehearsal


@dataclass(frozen=True)
class Step:
    """One step of a rehearsal."""

    #: the ``step`` field as recorded
    name: str | None
    ok: bool | None = None
    seconds: float | None = None
    summary: str = ""
    #: what to call it: ``step``, else the older ``id``, else ``?``
    label: str = "?"

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            name=opt_str(d.get("step")),
            ok=as_bool(d.get("ok")),
            seconds=as_num(d.get("seconds")),
            summary=as_str(d.get("summary")),
            label=as_str(d.get("step") or d.get("id"), "?"),
        )


@dataclass(frozen=True)
class Rehearsal:
    """``rehearsal-<connector>.json`` (connshift.rehearsal/1)."""

    #: the connector (the file name may be a sanitized form of it)
    connector: str
    target: str = ""
    ok: bool | None = None
    steps: tuple[Step, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object, kind: str = "rehearsal-") -> Self:
        d = _top(data)
        return cls(
            connector=as_str(d.get("connector")) or kind.removeprefix("rehearsal-"),
            target=as_str(d.get("target")),
            ok=as_bool(d.get("ok")),
            steps=tuple(Step.from_json(s) for s in _objects(d.get("steps"))),
            recorded_at=recorded_at(d),
        )

    def passed(self, step: str) -> bool:
        """Whether ``step`` ran and passed."""
        return any(s.name == step and s.ok for s in self.steps)


# ---------------------------------------------------------------------------- baseline

Points = list[tuple[float, float]]


def _by_side(value: object) -> dict[str, float]:
    """``{side: n}`` read as is; a bare number as ``{"": n}``."""
    if isinstance(value, dict):
        out = {as_str(k): as_num(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    number = as_num(value)
    return {"": number} if number is not None else {}


@dataclass(frozen=True)
class Baseline:
    """One ``baseline-<label>`` window (connshift.baseline/1). Per-side series
    (``produce_ms`` ...) are keyed by side (``source``/``destination``; ``""`` when a
    sample holds a bare number)."""

    label: str
    started_at: str
    duration_seconds: float | None
    #: (t, value) per series; t is seconds from the window's start
    total_lag: Points
    produce_ms: dict[str, Points]
    fetch_ms: dict[str, Points]
    storage_bytes: dict[str, Points]
    source_lag_ms: dict[str, Points]
    task_failures: Points
    samples: int
    groups: list[str]
    last_states: dict[str, str]
    summary: dict[str, str]
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object, kind: str = "baseline-") -> Self:
        d = _top(data)
        lag: Points = []
        failures: Points = []
        per_side: dict[str, dict[str, Points]] = {
            k: {} for k in ("produce_ms", "fetch_ms", "storage_bytes", "source_lag_ms")
        }
        groups: dict[str, None] = {}
        states: dict[str, str] = {}
        samples = as_list(d.get("samples"))
        for i, item in enumerate(samples):
            s = as_dict(item)
            t = as_num(s.get("t"))
            t = float(i) if t is None else t
            raw_lag = s.get("group_lag")
            for g in as_dict(raw_lag):
                groups.setdefault(as_str(g), None)
            total = lag_total(raw_lag)
            if total is not None:
                lag.append((t, float(total)))
            for key, series in per_side.items():
                for side, value in _by_side(s.get(key)).items():
                    series.setdefault(side, []).append((t, value))
            # connector states: {"connectors": {name: {"state", "tasks_failed"}}} (or the
            # flat {"connector_states": {name: state}}, "task_failures": n)
            failed: float | None = as_num(s.get("task_failures"))
            for name, entry in as_dict(s.get("connectors")).items():
                e = as_dict(entry)
                states[as_str(name)] = as_str(e.get("state"))
                n = as_num(e.get("tasks_failed"))
                if n is not None:
                    failed = (failed or 0.0) + n
            for name, state in as_dict(s.get("connector_states")).items():
                states[as_str(name)] = as_str(
                    state.get("state") if isinstance(state, dict) else state
                )
            if failed is not None:
                failures.append((t, failed))
        summary = {
            as_str(k): as_str(v, "null")
            for k, v in as_dict(d.get("summary")).items()
            if not isinstance(v, dict | list)
        }
        return cls(
            label=as_str(d.get("label")) or kind.removeprefix("baseline-"),
            started_at=as_str(d.get("started_at")),
            duration_seconds=as_num(d.get("duration_seconds")),
            total_lag=lag,
            produce_ms=per_side["produce_ms"],
            fetch_ms=per_side["fetch_ms"],
            storage_bytes=per_side["storage_bytes"],
            source_lag_ms=per_side["source_lag_ms"],
            task_failures=failures,
            samples=len(samples),
            groups=list(groups),
            last_states=states,
            summary=summary,
            recorded_at=recorded_at(d),
        )


@dataclass(frozen=True)
class Regression:
    metric: str | None
    subject: str | None
    before: str = "null"
    after: str = "null"
    why: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            metric=opt_str(d.get("metric")),
            subject=opt_str(d.get("subject")),
            before=as_str(d.get("before"), "null"),
            after=as_str(d.get("after"), "null"),
            why=as_str(d.get("why")),
        )


@dataclass(frozen=True)
class BaselineCompare:
    """``baseline-compare.json`` (connshift.baseline-compare/1)."""

    #: as recorded (None: the file does not say)
    ok: bool | None = None
    before: str = "before"
    after: str = "after"
    regressions: tuple[Regression, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        return cls(
            ok=as_bool(d.get("ok")),
            before=as_str(d.get("before"), "before"),
            after=as_str(d.get("after"), "after"),
            regressions=tuple(Regression.from_json(r) for r in _objects(d.get("regressions"))),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- sync


@dataclass(frozen=True)
class SyncPartition:
    topic: str
    dst_topic: str
    #: records copied in the run (``copied_this_run``; older files: ``source_next``)
    copied: int
    contiguous: bool = True

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        topic = as_str(d.get("topic"))
        copied = as_int(d.get("copied_this_run"))
        if copied is None:
            copied = as_int(d.get("source_next")) or 0
        return cls(
            topic=topic,
            dst_topic=as_str(d.get("dst_topic")) or topic,
            copied=copied,
            contiguous=d.get("contiguous") is not False,
        )


@dataclass(frozen=True)
class Sync:
    """``sync.json`` (connshift.sync/1)."""

    engine: str = ""
    records: int | None = None
    seconds: float | None = None
    records_per_second: float | None = None
    #: every partition copied that names its topic
    partitions: tuple[SyncPartition, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        parts = (SyncPartition.from_json(p) for p in as_list(d.get("partitions")))
        return cls(
            engine=as_str(d.get("engine")),
            records=as_int(d.get("records")),
            seconds=as_num(d.get("seconds")),
            records_per_second=as_num(d.get("records_per_second")),
            partitions=tuple(p for p in parts if p.topic),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class CostLine:
    id: str
    label: str
    monthly: float | None
    formula: str
    inputs: dict[str, str]
    owner: str
    flagged: bool
    reason: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        owner = as_str(d.get("owner"))
        flagged = as_bool(d.get("flagged"))
        return cls(
            id=as_str(d.get("id"), "?"),
            label=as_str(d.get("label")) or as_str(d.get("id"), "?"),
            monthly=as_num(d.get("monthly")),
            formula=as_str(d.get("formula")),
            inputs={as_str(k): _input(v) for k, v in as_dict(d.get("inputs")).items()},
            owner=owner,
            flagged=flagged if flagged is not None else not owner,
            reason=as_str(d.get("reason")),
        )


def _input(value: object) -> str:
    """An input figure: ``{"value", "unit", "source"|"note"}`` as ``12.5 GB (source)``."""
    if not isinstance(value, dict):
        return as_str(value, "null")
    text = f"{as_str(value.get('value'), 'null')} {as_str(value.get('unit'))}".strip()
    where = as_str(value.get("source") or value.get("note"))
    return f"{text} ({where})" if where else text


@dataclass(frozen=True)
class CostModel:
    key: str
    title: str
    lines: list[CostLine]
    #: as recorded, else the sum of the lines when every line has a figure
    total: float | None
    assumed: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: object, key: str = "") -> Self:
        d = as_dict(data)
        lines = [CostLine.from_json(ln) for ln in _objects(d.get("lines"))]
        total = as_num(d.get("total"))
        if total is None and lines and all(ln.monthly is not None for ln in lines):
            total = round(sum(ln.monthly or 0.0 for ln in lines), 2)
        shape = ", ".join(
            as_str(d.get(k)) for k in ("storage_model", "worker_boundary") if as_str(d.get(k))
        )
        title = as_str(d.get("title") or d.get("label")) or (f"{key} ({shape})" if shape else key)
        assumed = [as_str(a) for a in as_list(d.get("assumed"))]
        return cls(key, title, lines, total, assumed)


@dataclass(frozen=True)
class Cost:
    """``cost.json`` (connshift.cost/1: currency, models{current, destination}, unowned,
    difference)."""

    currency: str
    models: list[CostModel]
    #: lines without an owner: as recorded, else the lines flagged as such
    unowned: list[str]
    difference: float | None
    profile: str
    percent: float | None = None
    recorded_at: str = ""
    #: ``unowned`` exactly as the file lists it (the scorecard counts these)
    recorded_unowned: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        raw_models = as_dict(d.get("models"))
        keys: list[str] = [k for k in ("current", "destination") if k in raw_models]
        keys += [k for k in raw_models if k not in keys]
        models = [CostModel.from_json(raw_models[k], k) for k in keys]
        unowned_raw = as_list(d.get("unowned"))
        unowned = [as_str(u.get("id") if isinstance(u, dict) else u) for u in unowned_raw]
        recorded = [
            as_str(u.get("id") if isinstance(u, dict) else u) for u in _entries(d.get("unowned"))
        ]
        if not unowned_raw:
            unowned = sorted({ln.id for m in models for ln in m.lines if ln.flagged})
        raw_difference = d.get("difference")
        difference = as_num(raw_difference)
        percent = None
        if isinstance(raw_difference, dict):
            difference = as_num(raw_difference.get("monthly"))
            percent = as_num(raw_difference.get("percent"))
        if difference is None:
            cur, dst = (
                next((m.total for m in models if m.key == k), None)
                for k in ("current", "destination")
            )
            if cur is not None and dst is not None:
                difference = round(dst - cur, 2)
        profile = d.get("profile")
        if isinstance(profile, dict):
            name, path = as_str(profile.get("name")), as_str(profile.get("path"))
            profile_text = f"{name} ({path})" if name and path else name or path
        else:
            profile_text = as_str(profile)
        return cls(
            currency=as_str(d.get("currency"), "USD"),
            models=models,
            unowned=[u for u in unowned if u],
            difference=difference,
            profile=profile_text,
            percent=percent,
            recorded_at=recorded_at(d),
            recorded_unowned=tuple(recorded),
        )

    def model(self, key: str) -> CostModel | None:
        return next((m for m in self.models if m.key == key), None)


# ---------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class DecisionReason:
    text: str
    #: the evidence files it cites (paths relative to the state directory)
    evidence: tuple[str, ...] = ()
    #: for, against, not relieved (empty when the file does not say)
    effect: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        if not isinstance(data, dict):  # older files: a bare sentence
            return cls(as_str(data))
        return cls(
            as_str(data.get("text")),
            evidence_paths(data.get("evidence")),
            as_str(data.get("effect")),
        )


@dataclass(frozen=True)
class DecisionPath:
    id: str
    title: str
    fit: str = ""
    reasons: tuple[DecisionReason, ...] = ()
    stays_hard: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(
            id=as_str(d.get("id"), "?"),
            title=as_str(d.get("title")) or as_str(d.get("id"), "?"),
            fit=as_str(d.get("fit")),
            reasons=tuple(DecisionReason.from_json(r) for r in as_list(d.get("reasons"))),
            stays_hard=tuple(as_str(s) for s in as_list(d.get("stays_hard"))),
        )


@dataclass(frozen=True)
class Decision:
    """``decision.json`` (connshift.decision/1)."""

    path: str = ""
    confidence: str = ""
    paths: tuple[DecisionPath, ...] = ()
    title: str = ""
    summary: str = ""
    thin_evidence: tuple[str, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        chosen = d.get("path")
        if isinstance(chosen, dict):  # tolerated: {"id": ..., "title": ...}
            chosen = chosen.get("id")
        return cls(
            path=as_str(chosen),
            confidence=as_str(d.get("confidence")),
            paths=tuple(DecisionPath.from_json(p) for p in _objects(d.get("paths"))),
            title=as_str(d.get("title")),
            summary=as_str(d.get("summary")),
            thin_evidence=tuple(as_str(t) for t in as_list(d.get("thin_evidence"))),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- score


@dataclass(frozen=True)
class ScoreRow:
    id: str
    title: str
    #: 0, 1, 2; None when the file says something else
    score: int | None
    why: str = ""
    evidence: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        score = as_int(d.get("score"))
        rid = as_str(d.get("id"), "?")
        return cls(
            id=rid,
            title=as_str(d.get("title")) or rid,
            score=score if score in (0, 1, 2) else None,
            why=as_str(d.get("why")),
            evidence=evidence_paths(d.get("evidence")),
        )


def _score_rows(value: object) -> tuple[ScoreRow, ...]:
    """``{"rows": [...]}`` or a bare list of rows."""
    rows = as_dict(value).get("rows") if isinstance(value, dict) else value
    return tuple(ScoreRow.from_json(r) for r in _objects(rows))


@dataclass(frozen=True)
class ScoreBlocker:
    scope: str
    row: str
    why: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(as_str(d.get("scope"), "estate"), as_str(d.get("row")), as_str(d.get("why")))


@dataclass(frozen=True)
class ScorePilot:
    connector: str
    shape: str = ""
    why: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = as_dict(data)
        return cls(as_str(d.get("connector"), "?"), as_str(d.get("shape")), as_str(d.get("why")))


@dataclass(frozen=True)
class RecordedScore:
    """``score.json`` (connshift.score/1): the scorecard ``connshift score`` recorded."""

    ok: bool | None = None
    estate: tuple[ScoreRow, ...] = ()
    connectors: dict[str, tuple[ScoreRow, ...]] = field(default_factory=dict)
    #: as listed (None: the file lists none; then every row at 0 blocks)
    blockers: tuple[ScoreBlocker, ...] | None = None
    pilots: tuple[ScorePilot, ...] = ()
    recorded_at: str = ""

    @classmethod
    def from_json(cls, data: object) -> Self:
        d = _top(data)
        connectors: dict[str, tuple[ScoreRow, ...]] = {}
        raw_connectors = d.get("connectors")
        if isinstance(raw_connectors, dict):
            for name, value in raw_connectors.items():
                connectors[as_str(name)] = _score_rows(value)
        else:  # tolerated: [{"connector": name, "rows": [...]}]
            for item in as_list(raw_connectors):
                c = as_dict(item)
                connectors[as_str(c.get("connector") or c.get("name"), "?")] = _score_rows(c)
        raw_blockers = d.get("blockers")
        return cls(
            ok=as_bool(d.get("ok")),
            estate=_score_rows(d.get("estate")),
            connectors=connectors,
            blockers=tuple(ScoreBlocker.from_json(b) for b in _objects(raw_blockers))
            if isinstance(raw_blockers, list)
            else None,
            pilots=tuple(ScorePilot.from_json(p) for p in _objects(d.get("pilots"))),
            recorded_at=recorded_at(d),
        )


# ---------------------------------------------------------------------------- the set

T = TypeVar("T")


@dataclass(frozen=True)
class EvidenceSet:
    """Every piece of evidence of one state directory, by kind, typed.

    Built from what :meth:`connshift.io.evidence.EvidenceStore.all` gives (kind -> the
    file's data). Each kind is parsed the first time it is read; ``raw`` keeps the files
    as recorded for the views that render a file's free-form payload (the report's
    evidence index and excerpts, its JSON dump).
    """

    raw: Mapping[str, Raw] = field(default_factory=dict)

    @classmethod
    def from_json(cls, evidence: Mapping[str, object] | EvidenceSet) -> EvidenceSet:
        """The set of ``evidence`` (kind -> data); a kind whose file is not a JSON object
        is left out."""
        if isinstance(evidence, EvidenceSet):
            return evidence
        return cls({k: v for k, v in evidence.items() if isinstance(v, Mapping)})

    def __contains__(self, kind: object) -> bool:
        return kind in self.raw

    def kinds(self) -> list[str]:
        return list(self.raw)

    def recorded(self, kind: str) -> bool:
        """Whether ``kind`` was recorded with something in it (an empty file is none)."""
        return bool(self.raw.get(kind))

    def _one(self, kind: str, parse: Any) -> Any:
        data = self.raw.get(kind)
        return None if data is None else parse(data)

    def _many(self, prefix: str, parse: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        return {
            k: parse(v, k) for k, v in self.raw.items() if k.startswith(prefix) and k not in skip
        }

    @cached_property
    def inventory(self) -> Inventory | None:
        found: Inventory | None = self._one("inventory", Inventory.from_json)
        return found

    @cached_property
    def plan(self) -> Plan | None:
        found: Plan | None = self._one("plan", Plan.from_json)
        return found

    @cached_property
    def review(self) -> Review | None:
        found: Review | None = self._one("review", Review.from_json)
        return found

    @cached_property
    def validate(self) -> Validate | None:
        found: Validate | None = self._one("validate", Validate.from_json)
        return found

    @cached_property
    def check(self) -> Reachability | None:
        found: Reachability | None = self._one("check", Reachability.from_json)
        return found

    @cached_property
    def acls(self) -> Acls | None:
        found: Acls | None = self._one("acls", Acls.from_json)
        return found

    @cached_property
    def cost(self) -> Cost | None:
        found: Cost | None = self._one("cost", Cost.from_json)
        return found

    @cached_property
    def decision(self) -> Decision | None:
        found: Decision | None = self._one("decision", Decision.from_json)
        return found

    @cached_property
    def score(self) -> RecordedScore | None:
        found: RecordedScore | None = self._one("score", RecordedScore.from_json)
        return found

    @cached_property
    def sync(self) -> Sync | None:
        found: Sync | None = self._one("sync", Sync.from_json)
        return found

    @cached_property
    def baseline_compare(self) -> BaselineCompare | None:
        found: BaselineCompare | None = self._one("baseline-compare", BaselineCompare.from_json)
        return found

    @cached_property
    def probes(self) -> dict[str, Probe]:
        """Every ``probe-<side>`` by kind, in recorded order."""
        found: dict[str, Probe] = self._many("probe-", Probe.from_json)
        return found

    @property
    def probe_destination(self) -> Probe | None:
        return self.probes.get("probe-destination")

    @cached_property
    def baselines(self) -> dict[str, Baseline]:
        """Every ``baseline-<label>`` window by kind (not the comparison), in recorded order."""
        found: dict[str, Baseline] = self._many(
            "baseline-", Baseline.from_json, ("baseline-compare",)
        )
        return found

    @cached_property
    def rehearsals(self) -> dict[str, Rehearsal]:
        """Every ``rehearsal-<connector>`` by kind, in recorded order."""
        found: dict[str, Rehearsal] = self._many("rehearsal-", Rehearsal.from_json)
        return found
