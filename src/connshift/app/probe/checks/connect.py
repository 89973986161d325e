"""Kafka Connect's internal topics: created compacted with their partition counts, read to
their end."""

from __future__ import annotations

from typing import Any

from connshift.app.probe.context import ProbeContext, delivered, error_text
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import CONNECT_INTERNAL_TOPICS
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord


@check("connect.internal-topics")
def connect_internal_topics(ctx: ProbeContext) -> CheckResult:
    cid = "connect.internal-topics"
    rf = max(1, min(3, ctx.result.brokers))
    evidence: dict[str, Any] = {"replication_factor": rf, "topics": {}}
    problems: list[str] = []
    for role, partitions in CONNECT_INTERNAL_TOPICS.items():
        name = ctx.name(f"connect-{role}")
        entry: dict[str, Any] = {"partitions_asked": partitions}
        evidence["topics"][name] = entry
        try:
            ctx.cluster.create_topic(
                name,
                partitions,
                replication_factor=rf,
                config={"cleanup.policy": "compact"},
                exist_ok=False,
                timeout=ctx.opts.op_timeout,
            )
        except KafkaError as exc:
            entry["error"] = error_text(exc)
            problems.append(f"{role} topic refused ({exc.why})")
            continue
        info = ctx.cluster.topics(timeout=ctx.opts.op_timeout).get(name)
        entry["partitions"] = info.partitions if info else None
        policy = ctx.cluster.topic_configs(name, timeout=ctx.opts.op_timeout).get("cleanup.policy")
        entry["cleanup.policy"] = policy
        if entry["partitions"] != partitions:
            problems.append(f"{role} topic has {entry['partitions']} partitions, not {partitions}")
        if policy != "compact":
            problems.append(
                f"{role} topic describes cleanup.policy={policy!r}: Connect refuses to start "
                "unless it reads 'compact'"
            )
    configs = ctx.name("connect-configs")
    if "error" not in evidence["topics"][configs]:
        errors = delivered(
            ctx.cluster.deliver(
                configs,
                [OutRecord(f"connector-{i}".encode(), b"{}") for i in range(3)],
                extra={"enable.idempotence": True, "acks": "all"},
                timeout=ctx.opts.op_timeout,
            )
        )
        if errors:
            problems.append(f"writing to the config topic failed ({errors[0]})")
        else:
            # Connect's KafkaBasedLog reads to the end ListOffsets(LATEST) reports
            latest = ctx.cluster.list_offsets(configs, {0: "latest"}, timeout=ctx.opts.op_timeout)[
                0
            ][0]
            evidence["config_topic_end"] = {"written": 3, "list_offsets_latest": latest}
            if latest != 3:
                problems.append(
                    f"ListOffsets(LATEST) of the config topic is {latest} after 3 records: "
                    "Connect's read-to-end would stop short or wait"
                )
    if problems:
        first_error = next((t["error"] for t in evidence["topics"].values() if "error" in t), None)
        if first_error:
            evidence["error"] = first_error
        return CheckResult(
            cid, Status.FAIL, ctx.prefix + "connect-*", "; ".join(problems), evidence
        )
    return CheckResult(
        cid,
        Status.PASS,
        ctx.prefix + "connect-*",
        f"config/offset/status topics created compacted (1/25/5 partitions, RF {rf}); "
        "the config topic reads to its end",
        evidence,
    )
