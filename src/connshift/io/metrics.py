"""Prometheus metrics served by long-running commands (``--metrics-port``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from connshift.errors import UsageError


@dataclass
class SyncMetrics:
    """What ``sync`` exposes: records and bytes copied, and lag per partition."""

    registry: CollectorRegistry
    records: Counter
    bytes: Counter
    lag: Gauge
    position: Gauge
    _seen: dict[tuple[str, int], tuple[int, int]]

    def update(self, states: Mapping[tuple[str, int], tuple[int, int, int | None, int]]) -> None:
        """``states``: (topic, partition) -> (records copied, bytes copied, target, position)."""
        for (topic, part), (records, nbytes, target, position) in states.items():
            labels = {"topic": topic, "partition": str(part)}
            old_r, old_b = self._seen.get((topic, part), (0, 0))
            if records > old_r:
                self.records.labels(**labels).inc(records - old_r)
            if nbytes > old_b:
                self.bytes.labels(**labels).inc(nbytes - old_b)
            self._seen[(topic, part)] = (records, nbytes)
            self.position.labels(**labels).set(position)
            if target is not None:
                self.lag.labels(**labels).set(max(target - position, 0))


def start_sync_metrics(port: int) -> SyncMetrics:
    """Serve sync metrics on 127.0.0.1:``port``."""
    registry = CollectorRegistry()
    labels = ["topic", "partition"]
    metrics = SyncMetrics(
        registry=registry,
        records=Counter("connshift_sync_records", "Records copied", labels, registry=registry),
        bytes=Counter("connshift_sync_bytes", "Key+value bytes copied", labels, registry=registry),
        lag=Gauge(
            "connshift_sync_lag_records", "Source offsets not yet copied", labels, registry=registry
        ),
        position=Gauge(
            "connshift_sync_source_position",
            "Next source offset to copy",
            labels,
            registry=registry,
        ),
        _seen={},
    )
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as exc:
        raise UsageError(
            f"cannot serve metrics on 127.0.0.1:{port}",
            why=str(exc),
            fix="pick a free port for --metrics-port",
        ) from exc
    return metrics
