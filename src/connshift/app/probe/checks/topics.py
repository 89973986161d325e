"""Topics and their configs: growing partitions, describing and altering configs, the
configs estates set, auto-creation."""

from __future__ import annotations

import time
from typing import Any

from connshift.app.probe.context import ProbeContext, refused, verdict
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import COMMON_TOPIC_CONFIGS, LEGACY_TOPIC_CONFIGS
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord


@check("partitions.create")
def partitions_create(ctx: ProbeContext) -> CheckResult:
    cid = "partitions.create"
    topic = ctx.make_topic("partitions")
    try:
        ctx.cluster.create_partitions(topic, 3, timeout=ctx.opts.op_timeout)
    except KafkaError as exc:
        return refused(cid, topic, exc, topic=topic, asked="1 -> 3 partitions")
    deadline = time.monotonic() + ctx.opts.op_timeout
    count = 1
    while time.monotonic() < deadline:
        info = ctx.cluster.topics(timeout=ctx.opts.op_timeout).get(topic)
        count = info.partitions if info else 0
        if count == 3:
            break
        time.sleep(0.2)
    d = ctx.cluster.deliver(
        topic, [OutRecord(b"k", b"v", partition=2)], timeout=ctx.opts.op_timeout
    )[0]
    evidence = {
        "topic": topic,
        "asked": "1 -> 3 partitions",
        "partitions_seen": count,
        "write_to_partition_2": {"offset": d.offset, "error": d.error},
    }
    if count != 3 or d.error is not None or d.partition != 2:
        if d.error:
            evidence["error"] = d.error
        return CheckResult(
            cid, Status.FAIL, topic, f"{count} partitions seen after growing to 3", evidence
        )
    return CheckResult(
        cid, Status.PASS, topic, "grew 1 -> 3 partitions and wrote to the new one", evidence
    )


@check("configs.describe-alter")
def configs_describe_alter(ctx: ProbeContext) -> CheckResult:
    cid = "configs.describe-alter"
    topic = ctx.topics.get("records") or ctx.make_topic("configs")
    evidence: dict[str, Any] = {"topic": topic}
    stage = "describe topic"
    try:
        described = ctx.cluster.topic_configs(topic, timeout=ctx.opts.op_timeout)
        evidence["topic_configs_described"] = len(described)
        stage = "set retention.ms"
        ctx.cluster.alter_topic_configs(
            topic, set_values={"retention.ms": "86400123"}, timeout=ctx.opts.op_timeout
        )
        after_set = ctx.cluster.explicit_topic_configs(topic, timeout=ctx.opts.op_timeout)
        evidence["after_set"] = after_set
        stage = "delete retention.ms"
        ctx.cluster.alter_topic_configs(topic, delete=["retention.ms"], timeout=ctx.opts.op_timeout)
        after_delete = ctx.cluster.explicit_topic_configs(topic, timeout=ctx.opts.op_timeout)
        evidence["after_delete"] = after_delete
        stage = "describe broker"
        if ctx.controller is not None:
            broker = ctx.cluster.broker_configs(ctx.controller, timeout=ctx.opts.op_timeout)
            evidence["broker_configs_described"] = len(broker)
    except KafkaError as exc:
        return refused(cid, topic, exc, stage=stage, **evidence)
    problems = []
    if not described:
        problems.append("DescribeConfigs returned no topic config")
    if after_set.get("retention.ms") != "86400123":
        problems.append(
            f"retention.ms reads {after_set.get('retention.ms')!r} after setting 86400123"
        )
    if "retention.ms" in after_delete:
        problems.append("retention.ms is still set on the topic after deleting it")
    if ctx.controller is not None and not evidence.get("broker_configs_described"):
        problems.append("DescribeConfigs returned no broker config")
    return verdict(
        cid,
        topic,
        problems,
        f"{len(described)} topic configs described; retention.ms set and deleted",
        evidence,
    )


@check("configs.rejected-keys")
def configs_rejected_keys(ctx: ProbeContext) -> CheckResult:
    cid = "configs.rejected-keys"
    name = ctx.name("validate-only")
    rejected = ctx.cluster.rejected_topic_configs(
        name, 1, COMMON_TOPIC_CONFIGS, timeout=ctx.opts.op_timeout
    )
    legacy = ctx.cluster.rejected_topic_configs(
        name, 1, LEGACY_TOPIC_CONFIGS, timeout=ctx.opts.op_timeout
    )
    created = name in ctx.cluster.topics(timeout=ctx.opts.op_timeout)
    evidence: dict[str, Any] = {
        "asked": COMMON_TOPIC_CONFIGS,
        "rejected": rejected,
        "accepted": sorted(k for k in COMMON_TOPIC_CONFIGS if k not in rejected),
        "legacy_asked": LEGACY_TOPIC_CONFIGS,
        "legacy_rejected": legacy,
        "validate_only_created_the_topic": created,
    }
    if created:
        return CheckResult(
            cid,
            Status.FAIL,
            name,
            "a validate_only CreateTopics created the topic: the cluster does not honour "
            "validate_only, so its answers do not show which configs it refuses "
            f"({len(rejected)} refused, legacy {len(legacy)} refused)",
            evidence,
        )
    if rejected:
        first = next(iter(rejected.items()))
        evidence["error"] = f"{first[0]}: {first[1]}"
        return CheckResult(
            cid,
            Status.FAIL,
            name,
            f"{len(rejected)} of {len(COMMON_TOPIC_CONFIGS)} common topic configs refused: "
            + ", ".join(sorted(rejected)),
            evidence,
        )
    note = f"; legacy refused: {', '.join(sorted(legacy))}" if legacy else ""
    return CheckResult(
        cid,
        Status.PASS,
        name,
        f"all {len(COMMON_TOPIC_CONFIGS)} common topic configs accepted{note}",
        evidence,
    )


@check("topics.auto-create")
def topics_auto_create(ctx: ProbeContext) -> CheckResult:
    cid = "topics.auto-create"
    topic = ctx.name("auto-created")
    d = ctx.cluster.deliver(topic, [OutRecord(b"k", b"v")], timeout=ctx.opts.op_timeout)[0]
    info = ctx.cluster.topics(timeout=ctx.opts.op_timeout).get(topic)
    evidence: dict[str, Any] = {
        "topic": topic,
        "delivery": {"partition": d.partition, "offset": d.offset, "error": d.error},
        "created": info is not None,
        "partitions": info.partitions if info else None,
    }
    if d.error is None and info is not None:
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"producing to a missing topic created it ({info.partitions} partition(s))",
            evidence,
        )
    if d.error:
        evidence["error"] = d.error
    needs = ctx.result.needs
    if needs is not None and not needs.get(cid):
        return CheckResult(
            cid,
            Status.SKIP,
            topic,
            "producing to a missing topic does not create it; no connector of the "
            "inventory relies on it",
            evidence,
        )
    who = (
        "connectors of the inventory rely on it"
        if needs
        else "no inventory says whether a connector (e.g. Debezium) relies on it"
    )
    return CheckResult(
        cid,
        Status.FAIL,
        topic,
        f"producing to a missing topic does not create it; {who} — set "
        "topic.creation.default.* on those connectors, or create their topics first",
        evidence,
    )
