"""``connshift inventory``: the source estate as evidence (``inventory.json``).

Per connector: class and plugin version, tasks with state and error trace,
converters, the SMT chain with predicates, error handling and dead-letter settings,
config providers used, topics, shape. Per topic it touches (and per topic the spec
migrates): partitions, replication factor, the configs that matter for a move, a
message rate sampled over a short window, and key/value formats from sampled
records. Plus Connect's internal topics, the consumer groups reading the topics
(members, lag), the ACLs on them, and what the cluster and the worker say they are.
Secrets in connector configs are redacted before anything is kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from connshift.app.sync import clusters, select_topics
from connshift.core.acls import relevant
from connshift.core.plan import shape_of
from connshift.core.redact import inline_secrets, providers, redact
from connshift.core.spec import Spec
from connshift.core.versions import infer_kafka_version
from connshift.errors import ConnshiftError
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_wire import api_versions

SCHEMA = "connshift.inventory/1"
Reporter = Callable[[str], None]

TOPIC_CONFIG_KEYS = (
    "cleanup.policy",
    "retention.ms",
    "retention.bytes",
    "segment.bytes",
    "segment.ms",
    "max.message.bytes",
    "min.insync.replicas",
    "message.timestamp.type",
    "compression.type",
)
CONNECT_INTERNAL_KEYS = {
    "config": re.compile(rb"^(connector-|task-|commit-|target-state-|session-key)"),
    "status": re.compile(rb"^status-(connector|task|topic)-"),
    "offsets": re.compile(rb'^\["'),
}


def smt_chain(config: Mapping[str, str]) -> list[dict[str, Any]]:
    """The transforms in order, with their class and predicate."""
    chain = []
    for name in [t.strip() for t in config.get("transforms", "").split(",") if t.strip()]:
        prefix = f"transforms.{name}."
        predicate = config.get(prefix + "predicate")
        chain.append(
            {
                "name": name,
                "class": config.get(prefix + "type"),
                "predicate": predicate,
                "predicate_class": config.get(f"predicates.{predicate}.type")
                if predicate
                else None,
                "negate": config.get(prefix + "negate", "false") == "true",
            }
        )
    return chain


def connector_entry(
    name: str,
    config: Mapping[str, str],
    status: Any,
    topics: list[str],
    plugins: Mapping[str, Any],
) -> dict[str, Any]:
    """One connector's inventory record (config redacted)."""
    cls = config.get("connector.class", "")
    plugin = plugins.get(cls)
    ctype = status.type or (plugin.type if plugin else "source")
    return {
        "name": name,
        "class": cls,
        "type": ctype,
        "shape": str(shape_of(cls, ctype)),
        "plugin_version": plugin.version if plugin else None,
        "state": status.state,
        "worker": status.worker_id,
        "tasks": [
            {"id": t.id, "state": t.state, "worker": t.worker_id, "trace": t.trace_line}
            for t in status.tasks
        ],
        "converters": {
            role: config.get(f"{role}.converter", "worker default")
            for role in ("key", "value", "header")
        },
        "transforms": smt_chain(config),
        "errors": {
            "tolerance": config.get("errors.tolerance", "none"),
            "dead_letter_topic": config.get("errors.deadletterqueue.topic.name"),
            "log_enable": config.get("errors.log.enable", "false"),
        },
        "config_providers": providers(config),
        "inline_secrets": inline_secrets(config),
        "topics": sorted(topics),
        "config": redact(config),
    }


def _formats(samples: Iterable[bytes | None]) -> dict[str, Any]:
    from connshift.core.formats import summarize

    return summarize(list(samples)).to_json()


def topic_entry(
    cluster: KafkaCluster, name: str, *, sample: int, rate_window: float
) -> dict[str, Any]:
    """One topic's inventory record: partitions, replicas, configs, rate, formats."""
    info = cluster.describe_topic(name)
    configs = cluster.topic_configs(name)
    before = {p: cluster.watermarks(name, p) for p in range(info["partitions"])}
    time.sleep(rate_window)
    after = {p: cluster.watermarks(name, p)[1] for p in range(info["partitions"])}
    keys: list[bytes | None] = []
    values: list[bytes | None] = []
    for p, (low, high) in before.items():
        start = max(low, high - sample)
        if high > start:
            for r in cluster.read(name, p, start, high, isolation="read_uncommitted", timeout=30):
                keys.append(r.key)
                values.append(r.value)
    records = sum(high - low for low, high in before.values())
    return {
        "name": name,
        "partitions": info["partitions"],
        "replication_factor": info["replication_factor"],
        "configs": {k: configs.get(k) for k in TOPIC_CONFIG_KEYS},
        "records_retained_approx": records,
        "offsets": {str(p): list(v) for p, v in before.items()},
        "rate_per_second": round(sum(after[p] - before[p][1] for p in before) / rate_window, 2)
        if rate_window
        else None,
        "key_format": _formats(keys),
        "value_format": _formats(values),
        "sampled": len(values),
    }


def internal_role(cluster: KafkaCluster, name: str) -> str | None:
    """``config``/``offsets``/``status`` when the topic's keys look like Connect's."""
    try:
        low, high = cluster.watermarks(name, 0)
    except ConnshiftError:
        return None
    if high <= low:
        return None
    for r in cluster.read(name, 0, max(low, high - 20), high, isolation="read_uncommitted"):
        for role, pattern in CONNECT_INTERNAL_KEYS.items():
            if r.key and pattern.match(r.key):
                return role
    return None


@dataclass
class Inventory:
    """The whole inventory, JSON-ready."""

    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return self.data


def inventory(
    spec: Spec,
    *,
    sample: int = 20,
    rate_window: float = 2.0,
    workers: int = 8,
    report: Reporter = lambda _m: None,
) -> Inventory:
    """Read the source estate (in parallel where the APIs allow)."""
    src, _dst = clusters(spec)
    report("reading the source cluster")
    info = src.check_reachable()
    cluster: dict[str, Any] = {"cluster_id": info.cluster_id, "brokers": info.brokers}
    if spec.source.kafka.security_protocol == "PLAINTEXT":
        av = api_versions(src.bootstrap)
        ver = infer_kafka_version(av.api_keys, av.finalized_features)
        cluster["version"] = {
            "release": ver.release,
            "metadata_version": ver.metadata_version,
            "basis": str(ver.basis),
        }
    all_topics = src.topics()
    connectors: list[dict[str, Any]] = []
    worker: dict[str, Any] | None = None
    if spec.source.connect is not None:
        report("reading the source Connect cluster")
        auth = None
        if spec.source.connect.auth is not None:
            auth = (
                spec.source.connect.auth.username,
                spec.source.connect.auth.password.get_secret_value(),
            )
        with ConnectClient(str(spec.source.connect.url), auth=auth, name="source") as connect:
            w = connect.info()
            worker = {
                "version": w.version,
                "commit": w.commit,
                "kafka_cluster_id": w.kafka_cluster_id,
            }
            plugins = {p.class_name: p for p in connect.plugins()}
            names = [n for n in connect.connectors() if spec.connectors.selects(n)]

            def one(name: str) -> dict[str, Any]:
                return connector_entry(
                    name,
                    connect.connector_config(name),
                    connect.status(name),
                    connect.topics(name),
                    plugins,
                )

            with ThreadPoolExecutor(max_workers=workers) as pool:
                connectors = list(pool.map(one, names))
    touched = {t for c in connectors for t in c["topics"] if t in all_topics}
    for c in connectors:  # sinks name their topics in config
        for t in c["config"].get("topics", "").split(","):
            if t.strip() in all_topics:
                touched.add(t.strip())
    migrated = set(select_topics(list(all_topics), spec))
    names = sorted(touched | migrated)
    report(f"sampling {len(names)} topics")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        topics = list(
            pool.map(lambda n: topic_entry(src, n, sample=sample, rate_window=rate_window), names)
        )
    # Connect's internal topics are compacted: look at the keys of those only
    candidates = [n for n in all_topics if not n.startswith("__") and n not in names]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        configs = dict(zip(candidates, pool.map(src.topic_configs, candidates), strict=True))
        compacted = [n for n in candidates if "compact" in configs[n].get("cleanup.policy", "")]
        roles = dict(
            zip(compacted, pool.map(lambda n: internal_role(src, n), compacted), strict=True)
        )
    internal = {
        n: {"role": role, "configs": {k: configs[n].get(k) for k in TOPIC_CONFIG_KEYS}}
        for n, role in roles.items()
        if role is not None
    }
    report("reading consumer groups")
    groups: list[dict[str, Any]] = []
    for g in src.groups():
        offsets = {tp: o for tp, o in src.group_offsets(g).items() if tp[0] in names}
        if not offsets:
            continue
        state, members = src.group_state(g)
        lag = {}
        for (t, p), o in offsets.items():
            lag[f"{t}[{p}]"] = max(src.watermarks(t, p)[1] - o, 0)
        groups.append(
            {
                "group": g,
                "state": state,
                "members": members,
                "member_details": src.group_members(g),
                "committed": {f"{t}[{p}]": o for (t, p), o in sorted(offsets.items())},
                "lag": lag,
            }
        )
    try:
        acls = [a.__dict__ for a in relevant(src.acls(), names, [g["group"] for g in groups])]
        acl_note = None
    except ConnshiftError as exc:
        acls, acl_note = [], exc.one_line()
    data = {
        "schema": SCHEMA,
        "spec": spec.name,
        "taken_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cluster": cluster,
        "connect_worker": worker,
        "connectors": connectors,
        "topics": topics,
        "connect_internal_topics": internal,
        "groups": groups,
        "acls": acls,
        "acls_note": acl_note,
    }
    return Inventory(data)
