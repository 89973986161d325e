"""``connshift review``: inventory and probe results turned into findings with fixes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connshift.app.context import Migration
from connshift.core.review import Finding, Severity, review
from connshift.core.spec import Spec
from connshift.core.topicconfig import map_topic_configs
from connshift.errors import ConfigError

SCHEMA = "connshift.review/1"
Reporter = Callable[[str], None]


def _load(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the {what} {path}", why=str(exc).splitlines()[0]) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a connshift {what}")
    return data


def security_findings(spec: Spec) -> list[Finding]:
    """Gaps between how clients authenticate to the source and to the destination."""
    src, dst = spec.source.kafka, spec.destination.kafka
    out = []
    if src.sasl is not None and (dst.sasl is None or dst.sasl.mechanism != src.sasl.mechanism):
        out.append(
            Finding(
                "security.sasl-mapping",
                Severity.HIGH,
                "clients",
                f"clients authenticate with SASL {src.sasl.mechanism} on the source, "
                f"{dst.sasl.mechanism if dst.sasl else 'without SASL'} on the destination",
                "map every client principal and credential to the destination's mechanism",
                {
                    "source": src.sasl.mechanism,
                    "destination": dst.sasl.mechanism if dst.sasl else None,
                },
            )
        )
    if ("SSL" in src.security_protocol) != ("SSL" in dst.security_protocol):
        out.append(
            Finding(
                "security.tls-mapping",
                Severity.MEDIUM,
                "clients",
                f"TLS differs: source {src.security_protocol}, destination {dst.security_protocol}",
                "give every client the destination's trust store and listener",
                {"source": src.security_protocol, "destination": dst.security_protocol},
            )
        )
    return out


def run_review(
    migration: Migration,
    *,
    inventory_file: Path | None = None,
    probe_file: Path | None = None,
    replay_window_hours: float | None = None,
    report: Reporter = lambda _m: None,
    record: bool = True,
) -> dict[str, Any]:
    """Take (or read) the inventory and the destination probe, then review them."""
    spec = migration.spec
    if inventory_file is not None:
        inventory = _load(inventory_file, "inventory")
    else:
        from connshift.app.inventory import inventory as take

        report("taking the inventory")
        inventory = take(migration, rate_window=1.0, report=report, record=False).to_json()
    if probe_file is not None:
        probe = _load(probe_file, "probe result")
    else:
        from connshift.app.probe import probe as run_probe

        report("probing the destination")
        probe = run_probe(spec, "destination", inventory=inventory, report=report).to_json()
    plugins = None
    if spec.destination.connect is not None:
        c = migration.dst_connect
        plugins = {p.class_name: p.version for p in c.plugins(connectors_only=False)}
    rejected: dict[str, dict[str, str]] = {}
    validate_only = next(
        (c for c in probe.get("checks", []) if c.get("id") == "configs.rejected-keys"), None
    )
    if validate_only is not None and validate_only.get("status") == "PASS":
        src, dst = migration.src, migration.dst
        for topic in inventory.get("topics", []):
            mapping = map_topic_configs(src.explicit_topic_configs(topic["name"]))
            bad = dst.rejected_topic_configs(
                f"connshift-review-{topic['name']}"[:249], topic["partitions"], mapping.kept
            )
            if bad:
                rejected[topic["name"]] = bad
    findings = review(
        inventory,
        probe=probe,
        destination_plugins=plugins,
        rejected_configs=rejected,
        replay_window_hours=(
            replay_window_hours
            if replay_window_hours is not None
            else spec.readiness.replay_window_hours
        ),
    ) + security_findings(spec)
    counts = {s.value: sum(1 for f in findings if f.severity is s) for s in Severity}
    out = {"schema": SCHEMA, "counts": counts, "findings": [f.to_json() for f in findings]}
    if record:
        migration.record("review", out)
    return out
