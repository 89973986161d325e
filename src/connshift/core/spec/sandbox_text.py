"""The spec text ``connshift sandbox up`` writes for the local sandbox."""

from __future__ import annotations

import json

__all__ = ["sandbox_spec_yaml"]


def _address(value: str, *, url: bool) -> str:
    if value.isdigit():
        return f"http://127.0.0.1:{value}" if url else f"127.0.0.1:{value}"
    return value


def sandbox_spec_yaml(
    source_kafka: str = "127.0.0.1:19092",
    source_connect: str = "http://127.0.0.1:18083",
    dest_kafka: str = "127.0.0.1:29092",
    dest_connect: str = "http://127.0.0.1:28083",
    tansu_kafka: str | None = None,
    state_dir: str = ".connshift",
    source_metrics: str | None = None,
    dest_metrics: str | None = None,
) -> str:
    """The spec text for the local sandbox (``connshift sandbox up``).

    Kafka arguments are ``host:port`` bootstrap strings and Connect arguments URLs; a bare
    port number stands for ``127.0.0.1:PORT`` (``http://127.0.0.1:PORT``). When
    ``tansu_kafka`` is given a comment names it as the alternative destination.
    """

    def q(value: str) -> str:
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar

    lines = [
        "# connshift migration spec for the local sandbox (written by `connshift sandbox up`).",
        "# `connshift init` writes a template that explains every key.",
        "version: 1",
        "name: sandbox",
        "source:",
        "  kafka:",
        f"    bootstrap_servers: {q(_address(source_kafka, url=False))}",
        "  connect:",
        f"    url: {q(_address(source_connect, url=True))}",
        *([f"    metrics_url: {q(source_metrics)}"] if source_metrics else []),
        "destination:",
        "  kafka:",
        f"    bootstrap_servers: {q(_address(dest_kafka, url=False))}",
    ]
    if tansu_kafka is not None:
        lines += [
            "    # tansu (Kafka API, data in S3) is also running; to migrate to it instead, use:",
            f"    # bootstrap_servers: {q(_address(tansu_kafka, url=False))}",
        ]
    lines += [
        "  connect:",
        f"    url: {q(_address(dest_connect, url=True))}",
        *([f"    metrics_url: {q(dest_metrics)}"] if dest_metrics else []),
        "connectors:",
        "  include: []   # every connector on the source Connect cluster",
        "  exclude: []",
        "topics:",
        "  # the seeded estate (`connshift sandbox seed`); tests and benchmarks leave other topics",
        "  include: ['app\\..*', 'shop\\..*', 'files\\..*']",
        "  exclude: ['__.*', 'connect-(configs|offsets|status)']",
        "  rename: {}",
        "  prefix: ''",
        "cutover:",
        "  rollback_window_hours: 24",
        "readiness:",
        "  replay_window_hours: 24",
        "  criteria:",
        "    max_lag_records: 10000",
        "    max_lag_seconds: 60",
        "    max_duplicates: 0",
        "    max_missing: 0",
        "    stop_conditions:",
        "      - a destination task FAILED after resume",
        "      - validate finds a duplicate or a missing record",
        "  target:",
        "    worker_boundary: self-managed",
        "    storage_model: shared-nothing",
        "    network: same-network",
        "  cost:",
        "    owners:",
        "      broker_compute: platform",
        "      broker_storage: platform",
        "      retained_data: platform",
        "      inter_zone_replication: platform",
        "      connect_compute: data-integration",
        "      network_egress: platform",
        "      operations: platform",
        "      failure_recovery: data-integration",
        f"state_dir: {q(state_dir)}",
    ]
    return "\n".join(lines) + "\n"
