"""Findings from the inventory and the probe: what to fix before moving, and how.

Pure: the inputs are ``inventory.json`` (a dict), the destination probe's JSON, the
destination worker's plugins, and the configs the destination refuses. Each rule
yields :class:`Finding` values with a severity and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters for the move."""

    HIGH = "high"  # blocks a safe move until fixed
    MEDIUM = "medium"  # a risk to decide on
    LOW = "low"  # worth knowing


@dataclass(frozen=True)
class Finding:
    """One thing the review found."""

    id: str
    severity: Severity
    subject: str
    finding: str
    fix: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "severity": str(self.severity)}


def _ms(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def topic_findings(
    topic: Mapping[str, Any],
    *,
    replay_window_hours: float | None,
    consumed: bool,
    used_by_connector: bool,
) -> Iterator[Finding]:
    """Durability, retention, compaction and leftover rules for one topic."""
    name = str(topic["name"])
    configs: Mapping[str, Any] = topic.get("configs", {})
    if int(topic.get("replication_factor", 0)) == 1:
        yield Finding(
            "topic.replication-factor-1",
            Severity.MEDIUM,
            name,
            "replication factor 1: one broker loss loses data",
            "create it on the destination with replication factor 3",
            {"replication_factor": 1},
        )
    if str(configs.get("min.insync.replicas")) == "1":
        yield Finding(
            "topic.min-insync-1",
            Severity.MEDIUM,
            name,
            "min.insync.replicas 1: acknowledged writes can be lost",
            "set min.insync.replicas=2 (with replication factor 3) on the destination",
            {"min.insync.replicas": 1},
        )
    policy = str(configs.get("cleanup.policy") or "delete")
    retention = _ms(configs.get("retention.ms"))
    if "delete" in policy and retention == -1:
        yield Finding(
            "topic.infinite-retention",
            Severity.LOW,
            name,
            "infinite retention: the destination must hold all of it, forever",
            "size destination storage for it, or set a retention the business agrees to",
            {"retention.ms": -1},
        )
    if (
        replay_window_hours is not None
        and "delete" in policy
        and retention is not None
        and 0 <= retention < replay_window_hours * 3_600_000
    ):
        yield Finding(
            "topic.retention-below-replay-window",
            Severity.HIGH,
            name,
            f"retention {retention / 3_600_000:.1f} h is shorter than the replay window "
            f"({replay_window_hours:g} h)",
            "raise retention.ms on the source (and destination) for the migration",
            {"retention.ms": retention, "replay_window_hours": replay_window_hours},
        )
    key_format = topic.get("key_format", {})
    if "compact" in policy and key_format.get("dominant") == "NULL":
        yield Finding(
            "topic.compaction-without-keys",
            Severity.HIGH,
            name,
            "compacted, but its records have no keys: compaction removes nothing, or fails",
            "give the records keys, or use cleanup.policy=delete",
            {"key_format": key_format},
        )
    if key_format.get("mixed"):
        yield Finding(
            "topic.mixed-key-formats",
            Severity.MEDIUM,
            name,
            "keys in several formats: the same logical key hashes to different partitions",
            "settle on one key format before moving producers (a change re-partitions)",
            {"key_format": key_format},
        )
    records = int(topic.get("records_retained_approx", 0))
    rate = topic.get("rate_per_second")
    if not consumed and not used_by_connector and (records == 0 or rate == 0):
        yield Finding(
            "topic.leftover",
            Severity.LOW,
            name,
            "no recent traffic and no consumer: a proof-of-concept leftover?",
            "confirm an owner, or leave it out of the migration (topics.exclude)",
            {"records": records, "rate_per_second": rate},
        )


def connector_findings(
    connector: Mapping[str, Any], destination_plugins: Mapping[str, str | None] | None
) -> Iterator[Finding]:
    """Plugin, converter, SMT and secret rules for one connector."""
    name = str(connector["name"])
    if connector.get("inline_secrets"):
        yield Finding(
            "connector.inline-secrets",
            Severity.MEDIUM,
            name,
            "secrets written inline in its config: " + ", ".join(connector["inline_secrets"]),
            "move them to a config provider (${file:...}, ${env:...}) on both worker clusters",
            {"keys": connector["inline_secrets"]},
        )
    if destination_plugins is None:
        return
    cls = str(connector.get("class"))
    if cls not in destination_plugins:
        yield Finding(
            "connector.plugin-missing",
            Severity.HIGH,
            name,
            f"plugin {cls} is not installed on the destination worker",
            "install it on the destination workers' plugin.path",
            {"class": cls},
        )
    elif connector.get("plugin_version") and destination_plugins[cls] != connector.get(
        "plugin_version"
    ):
        yield Finding(
            "connector.plugin-version-drift",
            Severity.LOW,
            name,
            f"plugin {cls} is {connector.get('plugin_version')} on the source and "
            f"{destination_plugins[cls]} on the destination",
            "check the plugin's release notes for config and offset changes",
            {"source": connector.get("plugin_version"), "destination": destination_plugins[cls]},
        )
    needed = [c for c in connector.get("converters", {}).values() if "." in str(c)]
    needed += [t["class"] for t in connector.get("transforms", []) if t.get("class")]
    needed += [
        t["predicate_class"] for t in connector.get("transforms", []) if t.get("predicate_class")
    ]
    for cls in sorted(set(needed)):
        if cls not in destination_plugins:
            yield Finding(
                "connector.class-missing",
                Severity.HIGH,
                name,
                f"{cls} (a converter, transform or predicate it uses) is not on the "
                "destination worker",
                "install the plugin that provides it on the destination workers",
                {"class": cls},
            )


def review(
    inventory: Mapping[str, Any],
    *,
    probe: Mapping[str, Any] | None = None,
    destination_plugins: Mapping[str, str | None] | None = None,
    rejected_configs: Mapping[str, Mapping[str, str]] | None = None,
    replay_window_hours: float | None = None,
) -> list[Finding]:
    """Every finding, most severe first."""
    findings: list[Finding] = []
    consumed = {
        key.rsplit("[", 1)[0] for g in inventory.get("groups", []) for key in g.get("committed", {})
    }
    used = {t for c in inventory.get("connectors", []) for t in c.get("topics", [])}
    for topic in inventory.get("topics", []):
        findings += topic_findings(
            topic,
            replay_window_hours=replay_window_hours,
            consumed=topic["name"] in consumed,
            used_by_connector=topic["name"] in used,
        )
    for name, keys in sorted((rejected_configs or {}).items()):
        for key, why in sorted(keys.items()):
            findings.append(
                Finding(
                    "topic.config-rejected",
                    Severity.MEDIUM,
                    name,
                    f"the destination refuses {key} as the source sets it",
                    "sync drops it when it creates the topic: decide on a value the "
                    "destination accepts",
                    {"key": key, "why": why},
                )
            )
    for connector in inventory.get("connectors", []):
        findings += connector_findings(connector, destination_plugins)
    for check in (probe or {}).get("checks", []):
        if check.get("status") == "FAIL":
            findings.append(
                Finding(
                    f"destination.{check.get('id')}",
                    Severity.MEDIUM,
                    "destination",
                    f"the destination fails the contract check {check.get('id')}: "
                    f"{check.get('summary', '')}",
                    "check whether the estate relies on it (probe --inventory marks that)",
                    {"evidence": check.get("evidence", {})},
                )
            )
    if inventory.get("acls") and probe is not None:
        acl = next((c for c in probe.get("checks", []) if c.get("id") == "acls.api"), None)
        if acl is not None and acl.get("status") != "PASS":
            findings.append(
                Finding(
                    "security.acls-not-supported",
                    Severity.HIGH,
                    "destination",
                    f"the estate has {len(inventory['acls'])} ACL(s); the destination's ACL "
                    "API does not work",
                    "map access control to the destination's own mechanism before moving",
                    {"acls": len(inventory["acls"])},
                )
            )
    order = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.id, f.subject))
