"""The monthly cost model of ``connshift cost`` (pure: no I/O).

Two models of the same estate, each split into the same eight lines
(:data:`LINE_IDS`): the **current** model (shared-nothing brokers, each partition's
replicas on local disks across zones) and the **destination** model
(``readiness.target.storage_model``: ``shared-storage`` keeps the retained data once on
object storage and replicates nothing between brokers; ``shared-nothing`` is the current
model on the new cluster).

Every figure is the product of a *measured* estate figure (:func:`measure` reads them from
an inventory: rates, sizes, replication factors, partitions, brokers, tasks) and a figure of
the *pricing profile* (:class:`PricingProfile`: prices and assumptions, each citing its
source). Each :class:`CostLine` carries its formula, written with the names of its inputs,
and the inputs themselves with their units, so a reader can redo the arithmetic.

Units: 1 GB = 10**9 bytes, 1 MB = 10**6 bytes; a month is the profile's ``hours_per_month``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA = "connshift.cost/1"

GB = 1e9
MB = 1e6

LINE_IDS: tuple[str, ...] = (
    "broker_compute",
    "broker_storage",
    "retained_data",
    "inter_zone_replication",
    "connect_compute",
    "network_egress",
    "operations",
    "failure_recovery",
)

LABELS: dict[str, str] = {
    "broker_compute": "Broker compute",
    "broker_storage": "Broker storage",
    "retained_data": "Retained data",
    "inter_zone_replication": "Inter-zone replication traffic",
    "connect_compute": "Connect worker compute",
    "network_egress": "Network egress",
    "operations": "Operational time",
    "failure_recovery": "Failure-recovery effort",
}

StorageModel = Literal["shared-nothing", "shared-storage"]
WorkerBoundary = Literal["self-managed", "managed", "staged"]


# --------------------------------------------------------------------------- the profile


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Figure(_Strict):
    """One figure of a pricing profile: its value, its unit and where it comes from."""

    value: float = Field(ge=0)
    unit: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Prices(_Strict):
    """What things cost (currency per unit)."""

    broker_instance_hour: Figure
    connect_instance_hour: Figure
    managed_connect_task_hour: Figure
    block_storage_gb_month: Figure
    object_storage_gb_month: Figure
    object_storage_put_per_1000: Figure
    inter_zone_gb_each_way: Figure
    internet_egress_gb: Figure
    engineer_hour: Figure


class Assumptions(_Strict):
    """Sizing and effort figures: each is an assumption to replace with your own."""

    hours_per_month: Figure
    zones: Figure
    record_bytes: Figure
    disk_max_utilisation: Figure
    broker_base_volume_gb: Figure
    broker_throughput_mb_per_second: Figure
    partitions_per_broker: Figure
    shared_storage_cache_gb_per_broker: Figure
    object_put_bytes: Figure
    internet_egress_share: Figure
    ops_hours_shared_nothing: Figure
    ops_hours_shared_storage: Figure
    connect_ops_hours_self_managed: Figure
    connect_ops_hours_managed: Figure
    broker_incidents_shared_nothing: Figure
    broker_incidents_shared_storage: Figure
    hours_per_broker_incident_shared_nothing: Figure
    hours_per_broker_incident_shared_storage: Figure
    hours_per_failed_task: Figure

    @model_validator(mode="after")
    def _ranges(self) -> Assumptions:
        def positive(name: str) -> None:
            if getattr(self, name).value <= 0:
                raise ValueError(f"{name}.value must be greater than 0")

        for name in (
            "hours_per_month",
            "zones",
            "record_bytes",
            "broker_throughput_mb_per_second",
            "partitions_per_broker",
            "object_put_bytes",
        ):
            positive(name)
        if not 0 < self.disk_max_utilisation.value <= 1:
            raise ValueError("disk_max_utilisation.value must be in (0, 1]")
        if not 0 <= self.internet_egress_share.value <= 1:
            raise ValueError("internet_egress_share.value must be in [0, 1]")
        return self


class PricingProfile(_Strict):
    """A pricing profile YAML (``resources/pricing/default.yaml`` is the shipped one)."""

    name: str = Field(min_length=1)
    currency: str = Field(min_length=1)
    description: str | None = None
    prices: Prices
    assumptions: Assumptions

    def sources(self) -> dict[str, str]:
        """Every figure's source, by dotted key (``prices.engineer_hour`` ...)."""
        out: dict[str, str] = {}
        for group_name in ("prices", "assumptions"):
            group = getattr(self, group_name)
            for name in type(group).model_fields:
                out[f"{group_name}.{name}"] = getattr(group, name).source
        return out


# --------------------------------------------------------------------------- measured estate


@dataclass(frozen=True)
class TopicFigures:
    """The measured figures of one topic that the model uses."""

    name: str
    partitions: int
    replication_factor: int
    rate_records_per_second: float
    record_bytes: float
    #: ``measured`` (size_bytes / records), ``estate`` (the estate's measured average)
    #: or ``profile`` (the profile's record_bytes assumption)
    record_bytes_basis: str
    size_bytes: float
    #: ``measured`` (DescribeLogDirs) or ``estimated`` (records * record_bytes)
    size_basis: str
    replica_bytes: float
    retention_ms: int | None
    cleanup_policy: str | None
    #: consumer groups with committed offsets on the topic
    readers: int
    #: read by a sink connector
    sink_read: bool

    @property
    def write_bytes_per_second(self) -> float:
        return self.rate_records_per_second * self.record_bytes

    @property
    def infinite_retention(self) -> bool:
        return (
            self.retention_ms is not None
            and self.retention_ms < 0
            and ("delete" in (self.cleanup_policy or "delete"))
        )


@dataclass(frozen=True)
class Estate:
    """The measured estate: per topic figures plus cluster and Connect counts."""

    topics: tuple[TopicFigures, ...] = ()
    brokers: int | None = None
    connectors: int = 0
    tasks: int = 0
    failed_tasks: int = 0
    workers: int = 0
    notes: tuple[str, ...] = ()

    @property
    def write_bytes_per_second(self) -> float:
        return sum(t.write_bytes_per_second for t in self.topics)

    @property
    def replication_bytes_per_second(self) -> float:
        return sum(t.write_bytes_per_second * max(t.replication_factor - 1, 0) for t in self.topics)

    @property
    def read_bytes_per_second(self) -> float:
        return sum(t.write_bytes_per_second * t.readers for t in self.topics)

    @property
    def sink_read_bytes_per_second(self) -> float:
        return sum(t.write_bytes_per_second for t in self.topics if t.sink_read)

    @property
    def retained_bytes(self) -> float:
        return sum(t.size_bytes for t in self.topics)

    @property
    def retained_replica_bytes(self) -> float:
        return sum(t.replica_bytes for t in self.topics)

    @property
    def partitions(self) -> int:
        return sum(t.partitions for t in self.topics)

    @property
    def partition_replicas(self) -> int:
        return sum(t.partitions * max(t.replication_factor, 1) for t in self.topics)

    @property
    def infinite_retention_growth_bytes_per_second(self) -> float:
        return sum(t.write_bytes_per_second for t in self.topics if t.infinite_retention)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None
    return float(value)


def _int(value: Any, default: int = 0) -> int:
    found = _num(value)
    return default if found is None else int(found)


def _topic_of(key: str) -> str:
    """``shop.orders[3]`` -> ``shop.orders``."""
    return key.rsplit("[", 1)[0] if key.endswith("]") else key


def measure(inventory: Mapping[str, Any], *, default_record_bytes: float) -> Estate:
    """The estate's measured figures from an inventory (``connshift.inventory/1``).

    A topic's record size is its ``size_bytes / records_retained_approx``; a topic without
    both takes the estate's measured average, or ``default_record_bytes`` when nothing was
    measured. A topic without ``size_bytes`` is estimated as records * record size. Each
    fallback is named in :attr:`Estate.notes`.
    """
    raw_topics = [t for t in inventory.get("topics") or [] if isinstance(t, Mapping)]
    connectors = [c for c in inventory.get("connectors") or [] if isinstance(c, Mapping)]
    groups = [g for g in inventory.get("groups") or [] if isinstance(g, Mapping)]

    readers: dict[str, int] = {}
    for g in groups:
        committed = g.get("committed") or g.get("lag") or {}
        for name in {_topic_of(str(k)) for k in committed}:
            readers[name] = readers.get(name, 0) + 1
    sink_topics: set[str] = set()
    for c in connectors:
        if str(c.get("type") or "") == "sink" or str(c.get("shape") or "") == "sink":
            sink_topics.update(str(t) for t in c.get("topics") or [])
            config = c.get("config") or {}
            listed = config.get("topics", "") if isinstance(config, Mapping) else ""
            sink_topics.update(n.strip() for n in str(listed).split(",") if n.strip())

    measured_sizes = [
        (float(size), records)
        for t in raw_topics
        if (size := _num(t.get("size_bytes"))) is not None
        and (records := _int(t.get("records_retained_approx"))) > 0
    ]
    estate_avg = (
        sum(s for s, _ in measured_sizes) / sum(r for _, r in measured_sizes)
        if measured_sizes
        else None
    )
    notes: list[str] = []
    topics: list[TopicFigures] = []
    for t in raw_topics:
        name = str(t.get("name", "?"))
        records = _int(t.get("records_retained_approx"))
        size = _num(t.get("size_bytes"))
        if size is not None and records > 0:
            record_bytes, basis = size / records, "measured"
        elif estate_avg is not None:
            record_bytes, basis = estate_avg, "estate"
        else:
            record_bytes, basis = default_record_bytes, "profile"
        rf = max(_int(t.get("replication_factor"), 1), 1)
        if size is None:
            size_basis = "estimated"
            size = records * record_bytes
        else:
            size_basis = "measured"
        all_replicas = _num(t.get("size_bytes_all_replicas"))
        replica_bytes = (
            all_replicas if all_replicas is not None and size_basis == "measured" else size * rf
        )
        rate = _num(t.get("rate_per_second"))
        if rate is None:
            notes.append(f"{name}: no rate_per_second measured; counted as 0 records/s")
        configs = t.get("configs") or {}
        retention = _num(configs.get("retention.ms")) if isinstance(configs, Mapping) else None
        cleanup = configs.get("cleanup.policy") if isinstance(configs, Mapping) else None
        topics.append(
            TopicFigures(
                name=name,
                partitions=max(_int(t.get("partitions")), 0),
                replication_factor=rf,
                rate_records_per_second=max(rate or 0.0, 0.0),
                record_bytes=record_bytes,
                record_bytes_basis=basis,
                size_bytes=size,
                size_basis=size_basis,
                replica_bytes=replica_bytes,
                retention_ms=None if retention is None else int(retention),
                cleanup_policy=None if cleanup is None else str(cleanup),
                readers=readers.get(name, 0),
                sink_read=name in sink_topics,
            )
        )
    estimated = [t.name for t in topics if t.size_basis == "estimated"]
    if estimated:
        notes.append(
            f"{len(estimated)} of {len(topics)} topic(s) have no size_bytes "
            f"({', '.join(estimated)}): estimated as records_retained_approx * record_bytes"
        )
    by_profile = [t.name for t in topics if t.record_bytes_basis == "profile"]
    if by_profile:
        notes.append(
            f"record size of {', '.join(by_profile)}: the profile's record_bytes assumption "
            "(no topic size was measured)"
        )

    cluster = inventory.get("cluster") or {}
    brokers_raw = cluster.get("brokers") if isinstance(cluster, Mapping) else None
    if isinstance(brokers_raw, list):
        brokers: int | None = len(brokers_raw)
    else:
        found = _num(brokers_raw)
        brokers = None if found is None else int(found)
    if not brokers:
        brokers = None
        notes.append("the inventory names no brokers: broker count sized from throughput")

    tasks = [task for c in connectors for task in c.get("tasks") or [] if isinstance(task, Mapping)]
    workers = {str(task.get("worker")) for task in tasks if task.get("worker")}
    workers.update(str(c.get("worker")) for c in connectors if c.get("worker"))
    return Estate(
        topics=tuple(topics),
        brokers=brokers,
        connectors=len(connectors),
        tasks=len(tasks),
        failed_tasks=sum(1 for task in tasks if str(task.get("state", "")).upper() == "FAILED"),
        workers=len(workers),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- the lines


def _in(value: float, unit: str, note: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "unit": unit}
    if note:
        out["note"] = note
    return out


def _fig(figure: Figure) -> dict[str, Any]:
    return {"value": figure.value, "unit": figure.unit, "source": figure.source}


@dataclass(frozen=True)
class CostLine:
    """One monthly line: its figure, how it is computed, and who owns it."""

    id: str
    label: str
    monthly: float
    formula: str
    inputs: dict[str, dict[str, Any]]
    owner: str | None = None

    @property
    def flagged(self) -> bool:
        return self.owner is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "monthly": round(self.monthly, 2),
            "formula": self.formula,
            "inputs": self.inputs,
            "owner": self.owner,
            "flagged": self.flagged,
            "reason": (
                f"no owner: add readiness.cost.owners.{self.id} to the spec"
                if self.flagged
                else None
            ),
        }


@dataclass(frozen=True)
class ModelCost:
    """One model's lines and total."""

    name: str
    storage_model: StorageModel
    worker_boundary: WorkerBoundary
    lines: tuple[CostLine, ...]
    assumed: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)

    def line(self, line_id: str) -> CostLine:
        return next(line for line in self.lines if line.id == line_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "storage_model": self.storage_model,
            "worker_boundary": self.worker_boundary,
            "assumed": list(self.assumed),
            "lines": [line.to_json() for line in self.lines],
            "total": round(self.total, 2),
        }


def _brokers_sized(estate: Estate, profile: PricingProfile, *, replicas: bool) -> int:
    a = profile.assumptions
    mb_per_second = (
        estate.write_bytes_per_second
        + estate.read_bytes_per_second
        + (estate.replication_bytes_per_second if replicas else 0.0)
    ) / MB
    partitions = estate.partition_replicas if replicas else estate.partitions
    return max(
        math.ceil(a.zones.value),
        math.ceil(mb_per_second / a.broker_throughput_mb_per_second.value),
        math.ceil(partitions / a.partitions_per_broker.value),
    )


def model_lines(
    estate: Estate,
    profile: PricingProfile,
    *,
    storage_model: StorageModel,
    worker_boundary: WorkerBoundary,
    network: str | None,
    owners: Mapping[str, str],
    measured_brokers: bool = True,
) -> tuple[CostLine, ...]:
    """The eight lines of one model of ``estate`` priced with ``profile``.

    ``measured_brokers``: a shared-nothing model prices the brokers the inventory counted
    (the current cluster, or a like-for-like new one); otherwise brokers are sized from
    throughput and partitions.
    """
    p, a = profile.prices, profile.assumptions
    hours = a.hours_per_month.value
    seconds = hours * 3600
    write_gb = estate.write_bytes_per_second * seconds / GB
    read_gb = estate.read_bytes_per_second * seconds / GB
    lines: list[CostLine] = []

    def add(line_id: str, monthly: float, formula: str, inputs: dict[str, dict[str, Any]]) -> None:
        owner = owners.get(line_id) or None
        lines.append(CostLine(line_id, LABELS[line_id], monthly, formula, inputs, owner))

    shared_storage = storage_model == "shared-storage"
    # ---- broker_compute
    zones = a.zones.value
    if not shared_storage and measured_brokers and estate.brokers is not None:
        brokers = estate.brokers
        brokers_in = _in(brokers, "brokers", "measured: inventory cluster.brokers")
    else:
        brokers = _brokers_sized(estate, profile, replicas=not shared_storage)
        what = "partition replicas" if not shared_storage else "partitions"
        brokers_in = _in(
            brokers,
            "brokers",
            "sized: max(zones, ceil(MB/s served / broker_throughput_mb_per_second), "
            f"ceil({what} / partitions_per_broker))",
        )
    add(
        "broker_compute",
        brokers * p.broker_instance_hour.value * hours,
        "brokers * broker_instance_hour * hours_per_month",
        {
            "brokers": brokers_in,
            "broker_instance_hour": _fig(p.broker_instance_hour),
            "hours_per_month": _fig(a.hours_per_month),
        },
    )
    # ---- broker_storage and retained_data
    retained_gb = estate.retained_bytes / GB
    replica_gb = estate.retained_replica_bytes / GB
    if shared_storage:
        add(
            "broker_storage",
            brokers * a.shared_storage_cache_gb_per_broker.value * p.block_storage_gb_month.value,
            "brokers * shared_storage_cache_gb_per_broker * block_storage_gb_month",
            {
                "brokers": brokers_in,
                "shared_storage_cache_gb_per_broker": _fig(a.shared_storage_cache_gb_per_broker),
                "block_storage_gb_month": _fig(p.block_storage_gb_month),
            },
        )
        puts = estate.write_bytes_per_second * seconds / a.object_put_bytes.value
        add(
            "retained_data",
            retained_gb * p.object_storage_gb_month.value
            + puts / 1000 * p.object_storage_put_per_1000.value,
            "retained_gb * object_storage_gb_month + (write_gb_per_month * 10^9 / "
            "object_put_bytes) / 1000 * object_storage_put_per_1000",
            {
                "retained_gb": _in(retained_gb, "GB", "stored once: the object store is durable"),
                "object_storage_gb_month": _fig(p.object_storage_gb_month),
                "write_gb_per_month": _in(write_gb, "GB/month"),
                "object_put_bytes": _fig(a.object_put_bytes),
                "object_storage_put_per_1000": _fig(p.object_storage_put_per_1000),
            },
        )
    else:
        headroom = 1 / a.disk_max_utilisation.value - 1
        add(
            "broker_storage",
            (replica_gb * headroom + brokers * a.broker_base_volume_gb.value)
            * p.block_storage_gb_month.value,
            "(retained_replica_gb * (1 / disk_max_utilisation - 1) + brokers * "
            "broker_base_volume_gb) * block_storage_gb_month",
            {
                "retained_replica_gb": _in(replica_gb, "GB", "every replica on broker disks"),
                "disk_max_utilisation": _fig(a.disk_max_utilisation),
                "brokers": brokers_in,
                "broker_base_volume_gb": _fig(a.broker_base_volume_gb),
                "block_storage_gb_month": _fig(p.block_storage_gb_month),
            },
        )
        add(
            "retained_data",
            replica_gb * p.block_storage_gb_month.value,
            "retained_replica_gb * block_storage_gb_month",
            {
                "retained_replica_gb": _in(replica_gb, "GB", "every replica on broker disks"),
                "block_storage_gb_month": _fig(p.block_storage_gb_month),
            },
        )
    # ---- inter_zone_replication
    if shared_storage:
        add(
            "inter_zone_replication",
            0.0,
            "0: brokers replicate nothing to each other; the object store keeps the copies",
            {},
        )
    else:
        replication_gb = estate.replication_bytes_per_second * seconds / GB
        crossing = 1.0 if zones > 1 else 0.0
        add(
            "inter_zone_replication",
            replication_gb * crossing * 2 * p.inter_zone_gb_each_way.value,
            "replication_gb_per_month * zone_crossing * 2 * inter_zone_gb_each_way",
            {
                "replication_gb_per_month": _in(
                    replication_gb, "GB/month", "Σ topic write bytes * (replication_factor - 1)"
                ),
                "zone_crossing": _in(
                    crossing, "fraction", "1: replicas across zones (0 with a single zone)"
                ),
                "inter_zone_gb_each_way": _fig(p.inter_zone_gb_each_way),
            },
        )
    # ---- connect_compute
    if worker_boundary == "managed":
        add(
            "connect_compute",
            estate.tasks * p.managed_connect_task_hour.value * hours,
            "tasks * managed_connect_task_hour * hours_per_month",
            {
                "tasks": _in(estate.tasks, "tasks", "measured: inventory connectors' tasks"),
                "managed_connect_task_hour": _fig(p.managed_connect_task_hour),
                "hours_per_month": _fig(a.hours_per_month),
            },
        )
    else:
        add(
            "connect_compute",
            estate.workers * p.connect_instance_hour.value * hours,
            "workers * connect_instance_hour * hours_per_month",
            {
                "workers": _in(
                    estate.workers, "workers", "measured: distinct workers running tasks"
                ),
                "connect_instance_hour": _fig(p.connect_instance_hour),
                "hours_per_month": _fig(a.hours_per_month),
            },
        )
    # ---- network_egress
    egress_inputs: dict[str, dict[str, Any]] = {
        "read_gb_per_month": _in(read_gb, "GB/month", "Σ topic write bytes * consumer groups"),
        "internet_egress_share": _fig(a.internet_egress_share),
        "internet_egress_gb": _fig(p.internet_egress_gb),
    }
    egress = read_gb * a.internet_egress_share.value * p.internet_egress_gb.value
    formula = "read_gb_per_month * internet_egress_share * internet_egress_gb"
    if network == "public-internet" and worker_boundary != "managed":
        sink_gb = estate.sink_read_bytes_per_second * seconds / GB
        egress += sink_gb * p.internet_egress_gb.value
        formula += " + sink_read_gb_per_month * internet_egress_gb"
        egress_inputs["sink_read_gb_per_month"] = _in(
            sink_gb, "GB/month", "sink connectors read over the public internet"
        )
    add("network_egress", egress, formula, egress_inputs)
    # ---- operations
    ops = a.ops_hours_shared_storage if shared_storage else a.ops_hours_shared_nothing
    ops_name = "ops_hours_shared_storage" if shared_storage else "ops_hours_shared_nothing"
    connect_ops: dict[str, Figure] = {}
    if worker_boundary in ("self-managed", "staged"):
        connect_ops["connect_ops_hours_self_managed"] = a.connect_ops_hours_self_managed
    if worker_boundary in ("managed", "staged"):
        connect_ops["connect_ops_hours_managed"] = a.connect_ops_hours_managed
    add(
        "operations",
        (ops.value + sum(f.value for f in connect_ops.values())) * p.engineer_hour.value,
        f"({' + '.join([ops_name, *connect_ops])}) * engineer_hour",
        {ops_name: _fig(ops), **{k: _fig(v) for k, v in connect_ops.items()}}
        | {"engineer_hour": _fig(p.engineer_hour)},
    )
    # ---- failure_recovery
    suffix = "shared_storage" if shared_storage else "shared_nothing"
    incidents: Figure = getattr(a, f"broker_incidents_{suffix}")
    per_incident: Figure = getattr(a, f"hours_per_broker_incident_{suffix}")
    add(
        "failure_recovery",
        (incidents.value * per_incident.value + estate.failed_tasks * a.hours_per_failed_task.value)
        * p.engineer_hour.value,
        f"(broker_incidents_{suffix} * hours_per_broker_incident_{suffix} + failed_tasks * "
        "hours_per_failed_task) * engineer_hour",
        {
            f"broker_incidents_{suffix}": _fig(incidents),
            f"hours_per_broker_incident_{suffix}": _fig(per_incident),
            "failed_tasks": _in(
                estate.failed_tasks, "tasks", "measured: tasks FAILED in the inventory"
            ),
            "hours_per_failed_task": _fig(a.hours_per_failed_task),
            "engineer_hour": _fig(p.engineer_hour),
        },
    )
    return tuple(lines)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class CostReport:
    """Both models, the measured inputs they share, and what is unowned."""

    currency: str
    profile: PricingProfile
    profile_path: str
    estate: Estate
    current: ModelCost
    destination: ModelCost
    unknown_owner_keys: tuple[str, ...] = ()
    evidence: Sequence[str] = field(default_factory=tuple)

    @property
    def unowned(self) -> list[str]:
        return [line.id for line in self.current.lines if line.flagged]

    @property
    def difference(self) -> float:
        return self.destination.total - self.current.total

    def inputs(self) -> dict[str, Any]:
        """The measured estate figures every line draws from, with units."""
        e = self.estate
        seconds = self.profile.assumptions.hours_per_month.value * 3600
        return {
            "topics": _in(len(e.topics), "topics"),
            "partitions": _in(e.partitions, "partitions"),
            "partition_replicas": _in(e.partition_replicas, "partition replicas"),
            "brokers": _in(e.brokers or 0, "brokers", None if e.brokers else "not measured"),
            "connectors": _in(e.connectors, "connectors"),
            "tasks": _in(e.tasks, "tasks"),
            "failed_tasks": _in(e.failed_tasks, "tasks"),
            "workers": _in(e.workers, "workers"),
            "write_bytes_per_second": _in(
                e.write_bytes_per_second, "bytes/s", "Σ rate_per_second * record_bytes"
            ),
            "read_bytes_per_second": _in(
                e.read_bytes_per_second, "bytes/s", "Σ write bytes * consumer groups"
            ),
            "replication_bytes_per_second": _in(e.replication_bytes_per_second, "bytes/s"),
            "retained_bytes": _in(e.retained_bytes, "bytes", "each topic's data once"),
            "retained_replica_bytes": _in(e.retained_replica_bytes, "bytes", "every replica"),
            "infinite_retention_growth_gb_per_month": _in(
                e.infinite_retention_growth_bytes_per_second * seconds / GB,
                "GB/month",
                "what topics with retention.ms=-1 add each month (not in the monthly lines)",
            ),
            "per_topic": [
                {
                    "topic": t.name,
                    "partitions": t.partitions,
                    "replication_factor": t.replication_factor,
                    "rate_per_second": t.rate_records_per_second,
                    "record_bytes": round(t.record_bytes, 1),
                    "record_bytes_basis": t.record_bytes_basis,
                    "size_bytes": round(t.size_bytes),
                    "size_basis": t.size_basis,
                    "retention_ms": t.retention_ms,
                    "readers": t.readers,
                }
                for t in e.topics
            ],
            "notes": list(e.notes),
        }

    def to_json(self) -> dict[str, Any]:
        diff = self.difference
        current_total = self.current.total
        return {
            "schema": SCHEMA,
            "currency": self.currency,
            "profile": {
                "path": self.profile_path,
                "name": self.profile.name,
                "sources": self.profile.sources(),
            },
            "inputs": self.inputs(),
            "models": {
                "current": self.current.to_json(),
                "destination": self.destination.to_json(),
            },
            "unowned": self.unowned,
            "unknown_owner_keys": list(self.unknown_owner_keys),
            "difference": {
                "monthly": round(diff, 2),
                "percent": round(100 * diff / current_total, 1) if current_total else None,
                "by_line": {
                    line.id: round(self.destination.line(line.id).monthly - line.monthly, 2)
                    for line in self.current.lines
                },
            },
            "based_on": list(self.evidence),
        }


def compute(
    inventory: Mapping[str, Any],
    profile: PricingProfile,
    *,
    storage_model: StorageModel | None,
    worker_boundary: WorkerBoundary | None,
    network: str | None,
    owners: Mapping[str, str],
    profile_path: str = "(shipped default)",
    evidence: Sequence[str] = (),
) -> CostReport:
    """Both models of the inventory's estate priced with ``profile``.

    The destination's storage model and worker boundary come from the spec
    (``readiness.target``); when the spec leaves one out, the destination assumes
    ``shared-storage`` / ``self-managed`` and says so in ``assumed``.
    """
    estate = measure(inventory, default_record_bytes=profile.assumptions.record_bytes.value)
    assumed: list[str] = []
    if storage_model is None:
        storage_model = "shared-storage"
        assumed.append("storage_model: shared-storage (readiness.target.storage_model not set)")
    if worker_boundary is None:
        worker_boundary = "self-managed"
        assumed.append("worker_boundary: self-managed (readiness.target.worker_boundary not set)")
    current = ModelCost(
        "current",
        "shared-nothing",
        "self-managed",
        model_lines(
            estate,
            profile,
            storage_model="shared-nothing",
            worker_boundary="self-managed",
            network=None,
            owners=owners,
        ),
    )
    destination = ModelCost(
        "destination",
        storage_model,
        worker_boundary,
        model_lines(
            estate,
            profile,
            storage_model=storage_model,
            worker_boundary=worker_boundary,
            network=network,
            owners=owners,
        ),
        assumed=tuple(assumed),
    )
    return CostReport(
        currency=profile.currency,
        profile=profile,
        profile_path=profile_path,
        estate=estate,
        current=current,
        destination=destination,
        unknown_owner_keys=tuple(sorted(k for k in owners if k not in LINE_IDS)),
        evidence=tuple(evidence),
    )
