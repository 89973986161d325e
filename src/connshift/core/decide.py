"""Which migration path fits, from measured pressure (pure: no I/O).

Three paths (:data:`PATHS`):

* ``move-workers`` — keep self-managed Kafka, move the Connect workers;
* ``managed-connect`` — hand the workers to a managed Kafka Connect service;
* ``other-storage-platform`` — a Kafka-compatible platform with another storage model.

The evidence gives *signals*, each a measured figure tied to its evidence file, on one of
three sides: **worker-plugins** (plugin drift, missing plugins or classes: the review),
**worker-ops** (tasks FAILED in the inventory, task failures and restarts a baseline
counted) and **broker** (retained bytes, infinite or long retention, replay bursts, the time
a reassignment takes, storage growth a baseline saw, what the cost model's broker-side
lines say). Each signal
scores points; each path's *fit* is the pressure it relieves:

* move-workers = 2 * worker-plugins + worker-ops (you pin the plugins, you place the workers)
* managed-connect = 2 * worker-ops + version-drift points - missing-plugin points
  (the provider runs the workers; custom plugins it must accept count against it)
* other-storage-platform = 2 * broker

The highest fit wins; ties go to the smaller change (the order above). No pressure at all
chooses nothing (``path`` null). Confidence is ``low`` when the evidence is thin (no
review), the winner has no pressure or wins by at most one point; ``high`` when it wins by
four or more with review and baseline evidence; ``medium`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from connshift.core.cost import GB, MB, Estate, measure

SCHEMA = "connshift.decision/1"

PATHS: dict[str, str] = {
    "move-workers": "Keep self-managed Kafka, move the workers",
    "managed-connect": "Managed Kafka Connect only",
    "other-storage-platform": "A Kafka-compatible platform with another storage model",
}

Side = Literal["worker-plugins", "worker-ops", "broker"]

PLUGIN_FINDINGS = (
    "connector.plugin-version-drift",
    "connector.plugin-missing",
    "connector.class-missing",
)
#: record size assumed where the inventory measured none (same as the shipped profile)
DEFAULT_RECORD_BYTES = 1024.0
#: retention above this is "long" (Kafka's default is exactly 7 days)
LONG_RETENTION_MS = 7 * 24 * 3600 * 1000
#: retained bytes (all replicas) that start to weigh on broker disks, and that weigh a lot
RETAINED_HEAVY_BYTES = 100 * GB
RETAINED_VERY_HEAVY_BYTES = 1000 * GB
#: what topics with infinite retention may add per month before it counts double
INFINITE_GROWTH_HEAVY_BYTES_PER_MONTH = 50 * GB
#: a replay re-reading this many hours of traffic is a burst (and a big one)
REPLAY_BURST_HOURS = 24.0
REPLAY_BIG_BURST_HOURS = 168.0
#: below this, re-reading the retained data is no burst whatever the ratio
REPLAY_MIN_BYTES = 1 * GB
#: a partition reassignment's throttled throughput (an assumption, stated in the reason)
REASSIGN_BYTES_PER_SECOND = 50 * MB
REASSIGN_SLOW_HOURS = 1.0
REASSIGN_VERY_SLOW_HOURS = 12.0
PARTITION_REPLICAS_PER_BROKER_HEAVY = 2000
#: baseline storage growth per month, as a share of the retained bytes, that counts
STORAGE_GROWTH_SHARE = 0.10
#: the cost model's broker-side lines (measured figures times prices, no effort
#: assumptions) cheaper on the destination by this share, or inter-zone replication this
#: share of the current total
COST_SAVING_SHARE = 0.20
INTER_ZONE_SHARE = 0.10
SECONDS_PER_MONTH = 730 * 3600
BROKER_LINES = ("broker_compute", "broker_storage", "retained_data", "inter_zone_replication")


@dataclass(frozen=True)
class Source:
    """One piece of evidence: its kind, its path (relative to the state dir), its data."""

    kind: str
    path: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Signal:
    """One measured pressure: what was measured, how much it weighs, where it was seen."""

    id: str
    side: Side
    value: float
    unit: str
    points: int
    text: str
    evidence: str
    #: for worker-plugins: ``drift`` or ``missing`` (managed-connect weighs them apart)
    kind: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "points": self.points,
            "text": self.text,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class PathFit:
    """One path: its fit, the reasons for (and against) it, what stays hard on it."""

    id: str
    fit: int
    reasons: tuple[dict[str, str], ...]
    stays_hard: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": PATHS[self.id],
            "fit": self.fit,
            "reasons": list(self.reasons),
            "stays_hard": list(self.stays_hard),
        }


@dataclass(frozen=True)
class Decision:
    """The chosen path (None: no pressure measured), its confidence and every path's fit."""

    path: str | None
    confidence: Literal["low", "medium", "high"]
    paths: tuple[PathFit, ...]
    signals: tuple[Signal, ...]
    summary: str
    thin: tuple[str, ...] = ()
    declared_target: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()

    def points(self, side: Side) -> int:
        return sum(s.points for s in self.signals if s.side == side)

    def to_json(self) -> dict[str, Any]:
        pressures: dict[str, Any] = {"worker": {}, "broker": {}}
        for s in self.signals:
            pressures["broker" if s.side == "broker" else "worker"][s.id] = s.to_json()
        pressures["points"] = {
            side: self.points(side) for side in ("worker-plugins", "worker-ops", "broker")
        }
        return {
            "schema": SCHEMA,
            "path": self.path,
            "title": PATHS[self.path] if self.path else None,
            "confidence": self.confidence,
            "summary": self.summary,
            "thin_evidence": list(self.thin),
            "declared_target": self.declared_target,
            "paths": [p.to_json() for p in self.paths],
            "pressures": pressures,
            "based_on": list(self.evidence),
        }


# --------------------------------------------------------------------------- reading evidence


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    return None


def _first_number(tree: Any, keys: Iterable[str]) -> float | None:
    """The first numeric value under one of ``keys`` in ``tree`` (a mapping), looking one
    level into nested mappings too; anything else reads as absent."""
    if not isinstance(tree, Mapping):
        return None
    wanted = tuple(keys)
    for key in wanted:
        found = _num(tree.get(key))
        if found is not None:
            return found
    for value in tree.values():
        if isinstance(value, Mapping):
            for key in wanted:
                found = _num(value.get(key))
                if found is not None:
                    return found
    return None


_FAILURE_KEYS = ("task_failures", "failed_tasks", "task_failed", "task_errors", "failures")
_RESTART_KEYS = ("task_restarts", "worker_restarts", "restarts")
_GROWTH_KEYS = ("storage_growth_bytes", "broker_storage_growth_bytes", "storage_bytes_delta")
_WINDOW_KEYS = ("duration_seconds", "window_seconds", "seconds")


def _human_bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _hours(ms: int) -> str:
    return f"{ms / 3_600_000:g} h"


def worker_signals(
    inventory: Source, review: Source | None, baseline: Source | None
) -> list[Signal]:
    """Plugin drift/missing plugins (review), FAILED tasks (inventory), task failures and
    restarts (baseline, when its summary carries them)."""
    out: list[Signal] = []
    if review is not None:
        findings = [
            f
            for f in review.data.get("findings") or []
            if isinstance(f, Mapping) and f.get("id") in PLUGIN_FINDINGS
        ]
        drift = [f for f in findings if f.get("id") == "connector.plugin-version-drift"]
        missing = [f for f in findings if f.get("id") != "connector.plugin-version-drift"]
        if drift:
            subjects = ", ".join(sorted({str(f.get("subject", "?")) for f in drift}))
            out.append(
                Signal(
                    "plugin_version_drift",
                    "worker-plugins",
                    len(drift),
                    "findings",
                    min(len(drift), 3),
                    f"{len(drift)} plugin version drift finding(s) between source and "
                    f"destination workers: {subjects}",
                    review.path,
                    kind="drift",
                )
            )
        if missing:
            subjects = ", ".join(sorted({str(f.get("subject", "?")) for f in missing}))
            out.append(
                Signal(
                    "plugin_missing",
                    "worker-plugins",
                    len(missing),
                    "findings",
                    min(len(missing), 3) + 1,
                    f"{len(missing)} connector plugin(s) or class(es) missing on the "
                    f"destination workers: {subjects}",
                    review.path,
                    kind="missing",
                )
            )
    failed = [
        (str(c.get("name", "?")), t)
        for c in inventory.data.get("connectors") or []
        if isinstance(c, Mapping)
        for t in c.get("tasks") or []
        if isinstance(t, Mapping) and str(t.get("state", "")).upper() == "FAILED"
    ]
    if failed:
        traced = sum(1 for _, t in failed if t.get("trace"))
        names = ", ".join(sorted({n for n, _ in failed}))
        out.append(
            Signal(
                "failed_tasks",
                "worker-ops",
                len(failed),
                "tasks",
                min(len(failed), 3),
                f"{len(failed)} task(s) FAILED when the inventory was taken ({traced} with a "
                f"trace): {names}",
                inventory.path,
            )
        )
    if baseline is not None:
        summary = baseline.data.get("summary")
        failures = _first_number(summary, _FAILURE_KEYS)
        restarts = _first_number(summary, _RESTART_KEYS)
        if failures:
            out.append(
                Signal(
                    "baseline_task_failures",
                    "worker-ops",
                    failures,
                    "failures",
                    2 if failures >= 3 else 1,
                    f"{failures:g} task failure(s) counted over the baseline window",
                    baseline.path,
                )
            )
        if restarts:
            out.append(
                Signal(
                    "baseline_restarts",
                    "worker-ops",
                    restarts,
                    "restarts",
                    2 if restarts >= 3 else 1,
                    f"{restarts:g} task or worker restart(s) counted over the baseline window",
                    baseline.path,
                )
            )
    return out


def broker_signals(
    inventory: Source, estate: Estate, baseline: Source | None, cost: Source | None
) -> list[Signal]:
    """Disk, retention, replay bursts and capacity changes (inventory), storage growth
    (baseline), the cost model's saving and inter-zone share (cost)."""
    out: list[Signal] = []
    where = inventory.path
    replica_bytes = estate.retained_replica_bytes
    if replica_bytes >= RETAINED_HEAVY_BYTES:
        out.append(
            Signal(
                "retained_bytes",
                "broker",
                replica_bytes,
                "bytes",
                2 if replica_bytes >= RETAINED_VERY_HEAVY_BYTES else 1,
                f"{_human_bytes(replica_bytes)} retained on broker disks (all replicas)",
                where,
            )
        )
    infinite = [t for t in estate.topics if t.infinite_retention]
    if infinite:
        growth = sum(t.write_bytes_per_second for t in infinite) * SECONDS_PER_MONTH
        out.append(
            Signal(
                "infinite_retention",
                "broker",
                len(infinite),
                "topics",
                2 if growth >= INFINITE_GROWTH_HEAVY_BYTES_PER_MONTH else 1,
                f"{len(infinite)} topic(s) keep data forever (retention.ms=-1: "
                f"{', '.join(t.name for t in infinite)}); they grow by about "
                f"{_human_bytes(growth)} a month at the measured rate",
                where,
            )
        )
    long = [
        t
        for t in estate.topics
        if t.retention_ms is not None and t.retention_ms > LONG_RETENTION_MS
    ]
    if long:
        on_long = sum(t.replica_bytes for t in long)
        out.append(
            Signal(
                "long_retention",
                "broker",
                len(long),
                "topics",
                1,
                f"{len(long)} topic(s) retain more than 7 days ("
                + ", ".join(f"{t.name} {_hours(t.retention_ms or 0)}" for t in long)
                + f"), {_human_bytes(on_long)} on disk",
                where,
            )
        )
    write = estate.write_bytes_per_second
    if write > 0 and estate.retained_bytes >= REPLAY_MIN_BYTES:
        hours = estate.retained_bytes / write / 3600
        if hours >= REPLAY_BURST_HOURS:
            out.append(
                Signal(
                    "replay_burst",
                    "broker",
                    round(hours, 1),
                    "hours of traffic",
                    2 if hours >= REPLAY_BIG_BURST_HOURS else 1,
                    f"a full replay re-reads {hours:.0f} h of traffic "
                    f"({_human_bytes(estate.retained_bytes)} retained at "
                    f"{_human_bytes(write)}/s written): reads burst far above the write rate",
                    where,
                )
            )
    if estate.brokers:
        per_broker = replica_bytes / estate.brokers
        move_hours = per_broker / REASSIGN_BYTES_PER_SECOND / 3600
        if move_hours >= REASSIGN_SLOW_HOURS:
            out.append(
                Signal(
                    "slow_capacity_change",
                    "broker",
                    round(move_hours, 1),
                    "hours",
                    2 if move_hours >= REASSIGN_VERY_SLOW_HOURS else 1,
                    f"adding or replacing a broker moves about {_human_bytes(per_broker)} "
                    f"({move_hours:.1f} h at an assumed 50 MB/s reassignment throttle; "
                    f"{estate.brokers} broker(s))",
                    where,
                )
            )
        per_broker_replicas = estate.partition_replicas / estate.brokers
        if per_broker_replicas >= PARTITION_REPLICAS_PER_BROKER_HEAVY:
            out.append(
                Signal(
                    "partition_density",
                    "broker",
                    round(per_broker_replicas),
                    "partition replicas per broker",
                    1,
                    f"{per_broker_replicas:.0f} partition replicas per broker "
                    f"({estate.partitions} partitions): reassignments and restarts are slow",
                    where,
                )
            )
    if baseline is not None:
        summary = baseline.data.get("summary")
        grown = _first_number(summary, _GROWTH_KEYS)
        window = _first_number(summary, _WINDOW_KEYS)
        retained = estate.retained_bytes or 0.0
        if grown and grown > 0 and window and window > 0 and retained > 0:
            monthly = grown / window * SECONDS_PER_MONTH
            if monthly >= STORAGE_GROWTH_SHARE * retained:
                out.append(
                    Signal(
                        "storage_growth",
                        "broker",
                        monthly,
                        "bytes/month",
                        1,
                        f"broker storage grew {_human_bytes(grown)} in {window:g} s of "
                        f"baseline: about {_human_bytes(monthly)} a month, "
                        f"{100 * monthly / retained:.0f}% of what is retained",
                        baseline.path,
                    )
                )
    if cost is not None:
        out.extend(_cost_signals(cost))
    return out


def _cost_signals(cost: Source) -> list[Signal]:
    out: list[Signal] = []
    models = cost.data.get("models")
    if not isinstance(models, Mapping):
        return out
    current, destination = models.get("current"), models.get("destination")
    if not isinstance(current, Mapping) or not isinstance(destination, Mapping):
        return out

    def infra(model: Mapping[str, Any]) -> float | None:
        found = [
            _num(line.get("monthly"))
            for line in model.get("lines") or []
            if isinstance(line, Mapping) and line.get("id") in BROKER_LINES
        ]
        values = [v for v in found if v is not None]
        return sum(values) if len(values) == len(BROKER_LINES) else None

    total = _num(current.get("total"))
    if not total or total <= 0:
        return out
    now, then = infra(current), infra(destination)
    if (
        destination.get("storage_model") == "shared-storage"
        and now
        and then is not None
        and (now - then) >= COST_SAVING_SHARE * now
    ):
        out.append(
            Signal(
                "cost_saving",
                "broker",
                round(now - then, 2),
                f"{cost.data.get('currency', '')}/month".strip("/"),
                1,
                f"the cost model prices the brokers, their storage and replication "
                f"{100 * (now - then) / now:.0f}% lower on shared storage "
                f"({then:,.2f} vs {now:,.2f} a month)",
                cost.path,
            )
        )
    inter_zone = next(
        (
            _num(line.get("monthly"))
            for line in current.get("lines") or []
            if isinstance(line, Mapping) and line.get("id") == "inter_zone_replication"
        ),
        None,
    )
    if inter_zone and inter_zone >= INTER_ZONE_SHARE * total:
        out.append(
            Signal(
                "inter_zone_share",
                "broker",
                inter_zone,
                f"{cost.data.get('currency', '')}/month".strip("/"),
                1,
                f"inter-zone replication is {100 * inter_zone / total:.0f}% of the current "
                f"monthly cost ({inter_zone:,.2f})",
                cost.path,
            )
        )
    return out


# --------------------------------------------------------------------------- the decision


def _sources_by_shape(inventory: Source) -> tuple[list[str], list[str]]:
    """(source connectors, CDC connectors) by name."""
    sources, cdc = [], []
    for c in inventory.data.get("connectors") or []:
        if not isinstance(c, Mapping):
            continue
        name, shape = str(c.get("name", "?")), str(c.get("shape") or "")
        if shape.endswith("source") or c.get("type") == "source":
            sources.append(name)
        if shape == "cdc-source":
            cdc.append(name)
    return sorted(sources), sorted(cdc)


def _probe_failures(probe: Source | None) -> list[str]:
    if probe is None:
        return []
    return [
        str(c.get("id"))
        for c in probe.data.get("checks") or []
        if isinstance(c, Mapping) and c.get("status") == "FAIL"
    ]


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _reason(signal: Signal, effect: str) -> dict[str, str]:
    return {"text": signal.text, "evidence": signal.evidence, "effect": effect}


def decide(
    inventory: Source,
    *,
    review: Source | None = None,
    probe: Source | None = None,
    baseline: Source | None = None,
    cost: Source | None = None,
    declared_target: Mapping[str, Any] | None = None,
) -> Decision:
    """Score the three paths from the evidence given (see the module docstring)."""
    estate = measure(inventory.data, default_record_bytes=DEFAULT_RECORD_BYTES)
    signals = worker_signals(inventory, review, baseline) + broker_signals(
        inventory, estate, baseline, cost
    )
    plugins = [s for s in signals if s.side == "worker-plugins"]
    ops = [s for s in signals if s.side == "worker-ops"]
    broker = [s for s in signals if s.side == "broker"]
    plugin_pts = sum(s.points for s in plugins)
    drift_pts = sum(s.points for s in plugins if s.kind == "drift")
    missing_pts = sum(s.points for s in plugins if s.kind == "missing")
    ops_pts = sum(s.points for s in ops)
    broker_pts = sum(s.points for s in broker)

    sources, cdc = _sources_by_shape(inventory)
    probe_fails = _probe_failures(probe)
    broker_left = [s.text for s in broker if s.id != "cost_saving"]
    worker_left = [s.text for s in plugins + ops]

    # -- move-workers
    mw_reasons = [_reason(s, "for") for s in plugins + ops]
    mw_reasons += [_reason(s, "not relieved") for s in broker]
    mw_hard = [
        "exact offsets: source connectors' offsets are written on the new workers by "
        "`connshift cutover` (PATCH /connectors/{name}/offsets needs Kafka Connect 3.6+)"
        + (f" — {_names(sources)}" if sources else ""),
        "you still run the workers: plugin images, upgrades, restarts and placement stay yours",
    ]
    mw_hard += [f"broker pressure stays: {t}" for t in broker_left]
    # -- managed-connect
    mc_reasons = [_reason(s, "for") for s in ops]
    mc_reasons += [_reason(s, "for") for s in plugins if s.kind == "drift"]
    mc_reasons += [_reason(s, "against") for s in plugins if s.kind == "missing"]
    mc_reasons += [_reason(s, "not relieved") for s in broker]
    mc_hard = [
        "exact offsets: a managed Connect service that does not expose "
        "PATCH /connectors/{name}/offsets cannot be given the source offsets; "
        + (
            f"{len(sources)} source connector(s) ({_names(sources)}) would re-snapshot or "
            "start from another position"
            if sources
            else "sink connectors resume from their consumer group, which connshift translates"
        ),
        "plugins: every connector class must be one the provider runs or accepts as a custom "
        "plugin" + ("; the review found missing plugins" if missing_pts else ""),
        "network control: the provider's workers must reach your databases and systems "
        "(private link, peering) and you lose control of where they run",
    ]
    mc_hard += [f"broker pressure stays: {t}" for t in broker_left]
    # -- other-storage-platform
    os_reasons = [_reason(s, "for") for s in broker]
    os_reasons += [_reason(s, "not relieved") for s in plugins + ops]
    os_hard = [
        "object-storage latency: produce-to-fetch latency rises to hundreds of milliseconds"
        + (
            f"; CDC connector(s) {_names(cdc)} and their consumers see it"
            if cdc
            else "; latency-sensitive consumers see it"
        ),
        (
            "Kafka-API compatibility: probe-destination FAILED "
            + _names(probe_fails)
            + " (evidence/probe-destination.json)"
            if probe_fails
            else (
                "Kafka-API compatibility: transactions, compaction and the admin APIs Connect "
                "uses must pass `connshift probe`"
                + ("" if probe is not None else " (not probed yet)")
            )
        ),
        "network control: the platform's brokers and its object store sit where the provider "
        "puts them; private connectivity must be arranged",
    ]
    os_hard += [f"worker pressure stays (the workers still move): {t}" for t in worker_left]

    fits = {
        "move-workers": 2 * plugin_pts + ops_pts,
        "managed-connect": max(2 * ops_pts + drift_pts - missing_pts, 0),
        "other-storage-platform": 2 * broker_pts,
    }
    paths = (
        PathFit("move-workers", fits["move-workers"], tuple(mw_reasons), tuple(mw_hard)),
        PathFit("managed-connect", fits["managed-connect"], tuple(mc_reasons), tuple(mc_hard)),
        PathFit(
            "other-storage-platform",
            fits["other-storage-platform"],
            tuple(os_reasons),
            tuple(os_hard),
        ),
    )
    ranked = sorted(paths, key=lambda p: -p.fit)  # stable: ties keep the smaller change
    best, second = ranked[0], ranked[1]
    thin: list[str] = []
    if review is None:
        thin.append("no review evidence: plugin drift and missing plugins are unknown")
    if baseline is None:
        thin.append("no baseline evidence: task failures and restarts over time are unknown")
    if cost is None:
        thin.append("no cost evidence: the cost of each storage model is unknown")
    if probe is None:
        thin.append("no probe-destination evidence: the destination's Kafka API is unchecked")
    margin = best.fit - second.fit
    confidence: Literal["low", "medium", "high"]
    if best.fit == 0 or margin <= 1 or review is None:
        confidence = "low"
    elif margin >= 4 and baseline is not None:
        confidence = "high"
    else:
        confidence = "medium"
    if best.fit == 0:
        path = None
        summary = (
            "no measured pressure favours any path: the evidence shows no plugin drift, "
            "failed tasks or broker-side pressure"
        )
    else:
        path = best.id
        summary = (
            f"{PATHS[best.id]}: fit {best.fit} vs {second.fit} ({second.id}); "
            f"pressure points worker-plugins {plugin_pts}, worker-ops {ops_pts}, "
            f"broker {broker_pts}"
        )
    if thin and confidence == "low":
        summary += " — evidence is thin, see thin_evidence"
    used = [inventory, review, probe, baseline, cost]
    return Decision(
        path=path,
        confidence=confidence,
        paths=paths,
        signals=tuple(signals),
        summary=summary,
        thin=tuple(thin),
        declared_target=dict(declared_target or {}),
        evidence=tuple(s.path for s in used if s is not None),
    )
