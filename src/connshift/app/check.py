"""``connshift check``: the spec is valid, and every cluster and worker it names answers.

The first contact a migration has with an estate; later commands assume it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.app.config import load_spec
from connshift.app.rawsecurity import raw_security, raw_unsupported
from connshift.errors import ConnshiftError
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_wire import api_versions


@dataclass
class CheckRow:
    """One service reached (or not)."""

    side: str
    service: str
    address: str
    ok: bool
    detail: str
    error: ConnshiftError | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "service": self.service,
            "address": self.address,
            "status": "PASS" if self.ok else "FAIL",
            "detail": self.detail,
            "error": self.error.as_dict() if self.error else None,
        }


@dataclass
class CheckResult:
    """Every row of ``connshift check``."""

    spec: str
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.check/1",
            "spec": self.spec,
            "ok": self.ok,
            "checks": [r.to_json() for r in self.rows],
        }


def check_spec(path: Path, *, timeout: float = 5.0) -> CheckResult:
    """Load the spec (ConfigError on a bad one) and reach its clusters and workers."""
    spec = load_spec(path)
    result = CheckResult(spec=str(path))
    for side_name in ("source", "destination"):
        side = getattr(spec, side_name)
        config = side.kafka.client_config()
        cluster = KafkaCluster(config, name=side_name)
        try:
            info = cluster.check_reachable(timeout=timeout)
            detail = f"{len(info.brokers)} broker(s), cluster id {info.cluster_id}"
            if raw_unsupported(side.kafka) is None:
                from connshift.core.versions import infer_kafka_version

                security = raw_security(side.kafka)
                av = api_versions(cluster.bootstrap, timeout=timeout, security=security)
                ver = infer_kafka_version(av.api_keys, av.finalized_features)
                shown = ver.metadata_version or ver.basis
                detail = f"Kafka {ver.release or 'unknown'} ({shown}), " + detail
            result.rows.append(CheckRow(side_name, "kafka", cluster.bootstrap, True, detail))
        except ConnshiftError as exc:
            result.rows.append(
                CheckRow(side_name, "kafka", cluster.bootstrap, False, exc.one_line(), exc)
            )
        if side.connect is not None:
            auth = None
            if side.connect.auth is not None:
                auth = (
                    side.connect.auth.username,
                    side.connect.auth.password.get_secret_value(),
                )
            url = str(side.connect.url)
            try:
                with ConnectClient(url, auth=auth, name=side_name, timeout=timeout) as client:
                    worker = client.info()
                    n = len(client.connectors())
                detail = f"Kafka Connect {worker.version}, {n} connector(s)"
                result.rows.append(CheckRow(side_name, "connect", url, True, detail))
            except ConnshiftError as exc:
                result.rows.append(CheckRow(side_name, "connect", url, False, exc.one_line(), exc))
    return result
