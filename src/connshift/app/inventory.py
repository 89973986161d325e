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

from connshift.app.context import Migration
from connshift.app.rawsecurity import raw_security, raw_unsupported
from connshift.app.sync import select_topics
from connshift.core.acls import relevant
from connshift.core.disksize import TopicSize, topic_sizes, unavailable
from connshift.core.plan import shape_of
from connshift.core.redact import inline_secrets, providers, redact
from connshift.core.spec import Spec
from connshift.core.versions import infer_kafka_version
from connshift.errors import ConnshiftError
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_raw import (
    DESCRIBE_LOG_DIRS_KEY,
    DESCRIBE_LOG_DIRS_VERSION,
    RawClient,
    error_name,
)
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
        # what Connect reports as active, plus what the config names (a stopped sink's
        # `topics`, a FileStream source's `topic`) — a topic is listed once
        "topics": sorted(set(topics) | configured_topics(config)),
        "topics_active": sorted(topics),
        "config": redact(config),
    }


def configured_topics(config: Mapping[str, str]) -> set[str]:
    """Topics a connector's config names literally (``topics``, ``topic``); regexes such as
    ``topics.regex`` are not expanded here."""
    out = {t.strip() for t in config.get("topics", "").split(",") if t.strip()}
    if config.get("topic", "").strip():
        out.add(config["topic"].strip())
    return out


def _formats(samples: Iterable[bytes | None]) -> dict[str, Any]:
    from connshift.core.formats import summarize

    return summarize(list(samples)).to_json()


def per_partition_sample(sample: int, budget: int, partitions_with_data: int) -> int:
    """Records sampled from each non-empty partition of a topic: ``sample``, lowered so
    that the topic's sample stays within ``budget`` records (at least one per partition)."""
    if partitions_with_data <= 0:
        return 0
    return max(1, min(sample, -(-budget // partitions_with_data)))


def topic_entry(
    name: str,
    info: Mapping[str, int],
    configs: Mapping[str, str],
    before: Mapping[int, tuple[int, int]],
    after: Mapping[int, int] | None,
    window: float,
    samples: Iterable[Any],
    size: TopicSize,
) -> dict[str, Any]:
    """One topic's inventory record: partitions, replicas, configs, size, rate, formats.

    ``before`` holds each partition's (log start, high watermark) at the start of the rate
    window, ``after`` the high watermarks ``window`` seconds later (None: no rate taken);
    ``samples`` are the records read to detect the key and value formats.
    """
    records = list(samples)
    return {
        "name": name,
        "partitions": info["partitions"],
        "replication_factor": info["replication_factor"],
        "configs": {k: configs.get(k) for k in TOPIC_CONFIG_KEYS},
        "records_retained_approx": sum(high - low for low, high in before.values()),
        "offsets": {str(p): list(v) for p, v in sorted(before.items())},
        **size.to_json(),
        "rate_per_second": round(sum(after[p] - before[p][1] for p in before) / window, 2)
        if after is not None and window > 0
        else None,
        "key_format": _formats(r.key for r in records),
        "value_format": _formats(r.value for r in records),
        "sampled": len(records),
    }


def disk_sizes(
    spec: Spec,
    cluster: KafkaCluster,
    partitions: Mapping[str, int],
    api_keys: Mapping[int, tuple[int, int]] | None,
    *,
    timeout: float = 30.0,
) -> dict[str, TopicSize]:
    """Each topic's size on disk from DescribeLogDirs (every broker asked once); sizes are
    None, with the reason, when the cluster cannot be asked."""
    if not partitions:
        return {}
    why_not = raw_unsupported(spec.source.kafka)
    if why_not is not None:
        return unavailable(partitions, f"not read by connshift's DescribeLogDirs client: {why_not}")
    served = None if api_keys is None else api_keys.get(DESCRIBE_LOG_DIRS_KEY)
    if api_keys is not None and (
        served is None or not served[0] <= DESCRIBE_LOG_DIRS_VERSION <= served[1]
    ):
        have = "not served" if served is None else f"v{served[0]}-v{served[1]} served"
        return unavailable(
            partitions,
            f"DescribeLogDirs {have} (ApiVersions); connshift asks v{DESCRIBE_LOG_DIRS_VERSION}",
        )
    try:
        with RawClient(
            cluster.bootstrap,
            timeout=timeout,
            name=cluster.name,
            security=raw_security(spec.source.kafka),
        ) as raw:
            answers = raw.describe_log_dirs({t: range(n) for t, n in partitions.items()})
    except ConnshiftError as exc:
        return unavailable(partitions, f"DescribeLogDirs failed: {exc.one_line()}")
    dirs = [d for _error, ds in answers.values() for d in ds]
    errors = {node: error_name(err) for node, (err, _ds) in answers.items() if err}
    return topic_sizes(dirs, partitions, errors=errors, error_name=error_name)


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    size = max(1, -(-len(items) // max(n, 1)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def read_samples(
    cluster: KafkaCluster,
    offsets: Mapping[tuple[str, int], tuple[int, int]],
    *,
    sample: int,
    budget: int,
    pool: ThreadPoolExecutor,
    workers: int,
) -> dict[str, list[Any]]:
    """The last records of each topic's non-empty partitions (see
    :func:`per_partition_sample`), read by ``workers`` consumers in parallel."""
    nonempty: dict[str, int] = {}
    for (t, _p), (low, high) in offsets.items():
        if high > low:
            nonempty[t] = nonempty.get(t, 0) + 1
    ranges: list[tuple[tuple[str, int], tuple[int, int]]] = []
    for (t, p), (low, high) in sorted(offsets.items()):
        n = per_partition_sample(sample, budget, nonempty.get(t, 0))
        if n and high > low:
            ranges.append(((t, p), (max(low, high - n), high)))
    out: dict[str, list[Any]] = {}
    for got in pool.map(lambda c: cluster.read_ranges(dict(c)), _chunks(ranges, workers)):
        for (t, _p), records in got.items():
            out.setdefault(t, []).extend(records)
    return out


def internal_role(cluster: KafkaCluster, name: str) -> str | None:
    """``config``/``offsets``/``status`` when the topic's keys look like Connect's (None
    when they do not, or when the principal may not read the topic)."""
    try:
        low, high = cluster.watermarks(name, 0)
        if high <= low:
            return None
        records = list(
            cluster.read(name, 0, max(low, high - 20), high, isolation="read_uncommitted")
        )
    except ConnshiftError:
        return None
    for r in records:
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
    migration: Migration,
    *,
    sample: int = 20,
    rate_window: float = 2.0,
    sample_budget: int = 200,
    workers: int = 8,
    report: Reporter = lambda _m: None,
    record: bool = True,
) -> Inventory:
    """Read the source estate (in parallel where the APIs allow).

    Topic metadata, configs and offsets are read in batches (one request per broker, not
    one per topic); the message rate is the growth of the high watermarks over one window
    of ``rate_window`` seconds for all topics at once, during which records are sampled
    (at most ``sample`` per partition and ``sample_budget`` per topic) and the sizes on disk
    read. Connect REST calls and group reads run on ``workers`` threads.
    """
    spec, src = migration.spec, migration.src
    report("reading the source cluster")
    info = src.check_reachable()
    cluster: dict[str, Any] = {"cluster_id": info.cluster_id, "brokers": info.brokers}
    av = None
    if raw_unsupported(spec.source.kafka) is None:
        av = api_versions(src.bootstrap, security=raw_security(spec.source.kafka))
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
    described = src.describe_topics(sorted(touched | migrated))
    names = sorted(described)
    names_set = set(names)
    # Connect's internal topics are compacted: look at the keys of those only
    candidates = [n for n in all_topics if not n.startswith("__") and n not in names_set]
    report(
        f"reading {len(names)} topics ({sum(d['partitions'] for d in described.values())} "
        "partitions)"
    )
    configs = src.topics_configs(names + candidates)
    tps = [(t, p) for t in names for p in range(described[t]["partitions"])]
    before = src.watermarks_of(tps)
    window_start = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        report(f"sampling records of {len(names)} topics")
        samples = read_samples(
            src, before, sample=sample, budget=sample_budget, pool=pool, workers=workers
        )
        report("reading sizes on disk (DescribeLogDirs)")
        sizes = disk_sizes(
            spec,
            src,
            {t: described[t]["partitions"] for t in names},
            av.api_keys if av is not None else None,
        )
        compacted = [n for n in candidates if "compact" in configs[n].get("cleanup.policy", "")]
        roles = dict(
            zip(compacted, pool.map(lambda n: internal_role(src, n), compacted), strict=True)
        )
        after: dict[tuple[str, int], tuple[int, int]] | None = None
        window = 0.0
        if rate_window > 0:
            time.sleep(max(0.0, rate_window - (time.monotonic() - window_start)))
            after = src.watermarks_of(tps)
            window = time.monotonic() - window_start
        ends = after or before
        topics = [
            topic_entry(
                t,
                described[t],
                configs.get(t, {}),
                {p: before[(t, p)] for p in range(described[t]["partitions"])},
                None
                if after is None
                else {p: after[(t, p)][1] for p in range(described[t]["partitions"])},
                window,
                samples.get(t, []),
                sizes[t],
            )
            for t in names
        ]
        internal = {
            n: {"role": role, "configs": {k: configs[n].get(k) for k in TOPIC_CONFIG_KEYS}}
            for n, role in roles.items()
            if role is not None
        }
        report("reading consumer groups")
        all_groups = src.groups()
        committed = dict(zip(all_groups, pool.map(src.group_offsets, all_groups), strict=True))
        reading = {
            g: {tp: o for tp, o in offsets.items() if tp[0] in names_set}
            for g, offsets in committed.items()
        }
        reading = {g: o for g, o in reading.items() if o}

        def group_entry(g: str) -> dict[str, Any]:
            offsets = reading[g]
            state, members = src.group_state(g)
            lag = {
                f"{t}[{p}]": max((ends.get((t, p)) or src.watermarks(t, p))[1] - o, 0)
                for (t, p), o in sorted(offsets.items())
            }
            return {
                "group": g,
                "state": state,
                "members": members,
                "member_details": src.group_members(g),
                "committed": {f"{t}[{p}]": o for (t, p), o in sorted(offsets.items())},
                "lag": lag,
            }

        groups = list(pool.map(group_entry, sorted(reading)))
    try:
        acls = [a.__dict__ for a in relevant(src.acls(), names, [g["group"] for g in groups])]
        acl_note = None
    except ConnshiftError as exc:
        acls, acl_note = [], exc.one_line()
    data = {
        "schema": SCHEMA,
        "spec": spec.name,
        "taken_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rate_window_seconds": round(window, 2) if after is not None else None,
        "sample_budget_per_topic": sample_budget,
        "cluster": cluster,
        "connect_worker": worker,
        "connectors": connectors,
        "topics": topics,
        "connect_internal_topics": internal,
        "groups": groups,
        "acls": acls,
        "acls_note": acl_note,
    }
    if record:
        migration.record("inventory", data)
    return Inventory(data)
