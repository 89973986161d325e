"""The spec text ``connshift sandbox up`` writes for the local sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["SaslTls", "sandbox_spec_yaml"]


@dataclass(frozen=True)
class SaslTls:
    """A SASL_SSL listener as the spec names it: mechanism, user, the password as a
    reference (``${file:...}``: the spec never holds the secret), the CA file."""

    mechanism: str
    username: str
    password_ref: str
    ca_file: str

    def lines(self, indent: str = "    ") -> list[str]:
        def q(value: str) -> str:
            return json.dumps(value)

        return [
            f"{indent}security_protocol: SASL_SSL",
            f"{indent}sasl:",
            f"{indent}  mechanism: {self.mechanism}",
            f"{indent}  username: {q(self.username)}",
            f"{indent}  password: {q(self.password_ref)}",
            f"{indent}tls:",
            f"{indent}  ca_file: {q(self.ca_file)}",
        ]


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
    source_security: SaslTls | None = None,
    dest_security: SaslTls | None = None,
    comments: tuple[str, ...] = (),
    name: str = "sandbox",
) -> str:
    """The spec text for the local sandbox (``connshift sandbox up``).

    Kafka arguments are ``host:port`` bootstrap strings and Connect arguments URLs; a bare
    port number stands for ``127.0.0.1:PORT`` (``http://127.0.0.1:PORT``). When
    ``tansu_kafka`` is given a comment names it as the alternative destination.
    ``source_security``/``dest_security`` put a side on a SASL_SSL listener;
    ``comments`` are extra header lines (written as YAML comments).
    """

    def q(value: str) -> str:
        return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar

    lines = [
        "# connshift migration spec for the local sandbox (written by `connshift sandbox up`).",
        "# `connshift init` writes a template that explains every key.",
        *(f"# {c}" if c else "#" for c in comments),
        "version: 1",
        f"name: {name}",
        "source:",
        "  kafka:",
        f"    bootstrap_servers: {q(_address(source_kafka, url=False))}",
        *(source_security.lines() if source_security else []),
        "  connect:",
        f"    url: {q(_address(source_connect, url=True))}",
        *([f"    metrics_url: {q(source_metrics)}"] if source_metrics else []),
        "destination:",
        "  kafka:",
        f"    bootstrap_servers: {q(_address(dest_kafka, url=False))}",
        *(dest_security.lines() if dest_security else []),
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
