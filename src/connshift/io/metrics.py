"""Prometheus metrics served by long-running commands (``--metrics-port``).

``sync``: ``connshift_sync_records_total``, ``connshift_sync_bytes_total``,
``connshift_sync_lag_records``, ``connshift_sync_source_position`` (per topic, partition);
``connshift_sync_retries_total`` (transient failures waited out: a broker restarting, a
leader moving, a lost connection).
``cutover``/``rollback``: ``connshift_cutover_step_seconds`` (how long each step took),
``connshift_cutover_step_state`` (1 for the step's current state) and
``connshift_cutover_steps_total`` (steps finished, by status), per connector, kind, step.
"""

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
    retries: Counter | None = None

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


def _serve(port: int, registry: CollectorRegistry) -> None:
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as exc:
        raise UsageError(
            f"cannot serve metrics on 127.0.0.1:{port}",
            why=str(exc),
            fix="pick a free port for --metrics-port",
        ) from exc


def sync_metrics(registry: CollectorRegistry | None = None) -> SyncMetrics:
    """Sync metrics in ``registry`` (a new one by default), not served."""
    registry = registry or CollectorRegistry()
    labels = ["topic", "partition"]
    return SyncMetrics(
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
        retries=Counter(
            "connshift_sync_retries",
            "Transient failures waited out (broker restarts, leader moves, lost connections)",
            registry=registry,
        ),
    )


def start_sync_metrics(port: int) -> SyncMetrics:
    """Serve sync metrics on 127.0.0.1:``port``."""
    metrics = sync_metrics()
    _serve(port, metrics.registry)
    return metrics


STEP_STATES = ("started", "done", "skipped", "failed")


@dataclass
class CutoverMetrics:
    """What ``cutover``/``rollback`` expose: each step's duration and state."""

    registry: CollectorRegistry
    seconds: Gauge
    state: Gauge
    finished: Counter

    def on_step(
        self, connector: str, kind: str, step: str, status: str, seconds: float | None
    ) -> None:
        """The :class:`connshift.app.cutover.Mover` step hook."""
        labels = {"connector": connector, "kind": kind, "step": step}
        for s in STEP_STATES:
            self.state.labels(**labels, state=s).set(1 if s == status else 0)
        if seconds is not None:
            self.seconds.labels(**labels).set(seconds)
            self.finished.labels(**labels, status=status).inc()


def cutover_metrics(registry: CollectorRegistry | None = None) -> CutoverMetrics:
    """Cutover metrics in ``registry`` (a new one by default), not served."""
    registry = registry or CollectorRegistry()
    labels = ["connector", "kind", "step"]
    return CutoverMetrics(
        registry=registry,
        seconds=Gauge(
            "connshift_cutover_step_seconds",
            "How long the step took (its latest run)",
            labels,
            registry=registry,
        ),
        state=Gauge(
            "connshift_cutover_step_state",
            "1 for the step's current state (started, done, skipped, failed), else 0",
            [*labels, "state"],
            registry=registry,
        ),
        finished=Counter(
            "connshift_cutover_steps",
            "Steps finished, by status",
            [*labels, "status"],
            registry=registry,
        ),
    )


def start_cutover_metrics(port: int) -> CutoverMetrics:
    """Serve cutover/rollback step metrics on 127.0.0.1:``port``."""
    metrics = cutover_metrics()
    _serve(port, metrics.registry)
    return metrics
