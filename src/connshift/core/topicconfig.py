"""Which source topic configs a copy carries to the destination, and why not the others.

Only configs set on the topic itself are mapped (broker defaults stay the
destination's business). Keys tied to one broker's internals or one vendor are
dropped by a documented deny list; ``message.timestamp.type`` is forced to
``CreateTime`` so the copied timestamps are kept as they were on the source. The
destination may refuse more (it is asked with a validate-only create, see
``io.kafka.KafkaCluster.rejected_topic_configs``): those are dropped and reported too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: key (or regex) -> why it is not copied
DENY: dict[str, str] = {
    "message.format.version": "removed in Kafka 4.0; batches are copied as v2",
    "message.downconversion.enable": "removed in Kafka 4.0",
    "leader.replication.throttled.replicas": "names source broker ids",
    "follower.replication.throttled.replicas": "names source broker ids",
    "remote.storage.enable": "tiered storage is a destination decision",
    "local.retention.ms": "tiered storage is a destination decision",
    "local.retention.bytes": "tiered storage is a destination decision",
    r"confluent\..*": "Confluent Platform specific",
    "preallocate": "a broker file-system tuning",
}

FORCED: dict[str, str] = {
    # the copy preserves source timestamps: LogAppendTime on the destination would restamp
    "message.timestamp.type": "CreateTime",
}


@dataclass(frozen=True)
class ConfigMapping:
    """The configs to create the destination topic with, and what was left out."""

    kept: dict[str, str]
    dropped: dict[str, str] = field(default_factory=dict)  # key -> reason
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (from, to)


def _denied(key: str) -> str | None:
    for pattern, why in DENY.items():
        if re.fullmatch(pattern, key):
            return why
    return None


def map_topic_configs(explicit: dict[str, str]) -> ConfigMapping:
    """Map a source topic's explicitly set configs to the destination's create request."""
    kept: dict[str, str] = {}
    dropped: dict[str, str] = {}
    changed: dict[str, tuple[str, str]] = {}
    for key, value in sorted(explicit.items()):
        why = _denied(key)
        if why is not None:
            dropped[key] = why
        else:
            kept[key] = value
    for key, value in FORCED.items():
        old = kept.get(key)
        if old is not None and old != value:
            changed[key] = (old, value)
        kept[key] = value
    return ConfigMapping(kept=kept, dropped=dropped, changed=changed)


def without_rejected(mapping: ConfigMapping, rejected: dict[str, str]) -> ConfigMapping:
    """Drop the keys the destination refused (reason: its own error message)."""
    kept = {k: v for k, v in mapping.kept.items() if k not in rejected}
    dropped = {
        **mapping.dropped,
        **{k: f"refused by the destination: {w}" for k, w in rejected.items()},
    }
    return ConfigMapping(kept=kept, dropped=dropped, changed=mapping.changed)
