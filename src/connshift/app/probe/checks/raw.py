"""APIs librdkafka does not expose, asked with connshift's raw client (any security but
SASL mechanisms other than PLAIN/SCRAM): DescribeLogDirs and DescribeProducers."""

from __future__ import annotations

from typing import Any

from connshift.app.probe.context import ProbeContext, delivered
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.io.kafka import OutRecord
from connshift.io.kafka_raw import (
    DESCRIBE_LOG_DIRS_KEY,
    DESCRIBE_LOG_DIRS_VERSION,
    DESCRIBE_PRODUCERS_KEY,
    DESCRIBE_PRODUCERS_VERSION,
    RawClient,
    error_name,
)
from connshift.io.kafka_security import PLAINTEXT


def _raw_unavailable(
    ctx: ProbeContext, cid: str, api: str, key: int, version: int
) -> CheckResult | None:
    """SKIP when the raw client cannot ask (its SASL mechanism); FAIL when ApiVersions does not
    list the version it would ask; None when it can go ahead."""
    if ctx.raw is None:
        return CheckResult(
            cid,
            Status.SKIP,
            ctx.cluster.bootstrap,
            f"not checked: librdkafka does not expose {api}, and connshift's raw client "
            "does not speak this cluster's SASL mechanism",
            {"api": api},
        )
    served = None if ctx.api_keys is None else ctx.api_keys.get(key)
    if ctx.api_keys is not None and (served is None or not served[0] <= version <= served[1]):
        have = "not served" if served is None else f"v{served[0]}-v{served[1]}"
        return CheckResult(
            cid,
            Status.FAIL,
            ctx.cluster.bootstrap,
            f"{api} not served (ApiVersions)"
            if served is None
            else f"{api} {have} served (ApiVersions); connshift asks v{version}",
            {"api": api, "served": have, "error": f"{api} {have} (ApiVersions)"},
        )
    return None


@check("logdirs.describe")
def logdirs_describe(ctx: ProbeContext) -> CheckResult:
    cid = "logdirs.describe"
    gap = _raw_unavailable(
        ctx, cid, "DescribeLogDirs", DESCRIBE_LOG_DIRS_KEY, DESCRIBE_LOG_DIRS_VERSION
    )
    if gap is not None:
        return gap
    topic = ctx.topics.get("records") or ctx.make_topic("logdirs")
    with RawClient(
        ctx.cluster.bootstrap,
        timeout=ctx.opts.op_timeout,
        name=ctx.cluster.name,
        security=ctx.raw or PLAINTEXT,
    ) as raw:
        answers = raw.describe_log_dirs({topic: [0]})
    dirs = [d for _err, ds in answers.values() for d in ds]
    errors = {node: error_name(err) for node, (err, _ds) in answers.items() if err}
    found = [d for d in dirs if (topic, 0) in d.partitions]
    evidence: dict[str, Any] = {
        "topic": topic,
        "brokers_asked": sorted(answers),
        "log_dirs": [
            {
                "broker": d.broker,
                "path": d.path,
                "error": error_name(d.error),
                "total_bytes": d.total_bytes,
                "usable_bytes": d.usable_bytes,
                "scratch_partition_bytes": d.partitions.get((topic, 0), (None,))[0],
            }
            for d in dirs
        ],
    }
    if errors or not dirs or not found:
        why = (
            f"errors {errors}"
            if errors
            else "no log dir described"
            if not dirs
            else f"{topic}[0] is in no log dir described"
        )
        return CheckResult(
            cid, Status.FAIL, topic, f"DescribeLogDirs answered, but {why}", evidence
        )
    return CheckResult(
        cid,
        Status.PASS,
        topic,
        f"{len(dirs)} log dir(s) on {len(answers)} broker(s); the scratch partition holds "
        f"{found[0].partitions[(topic, 0)][0]} B",
        evidence,
    )


@check("producers.describe")
def producers_describe(ctx: ProbeContext) -> CheckResult:
    cid = "producers.describe"
    gap = _raw_unavailable(
        ctx, cid, "DescribeProducers", DESCRIBE_PRODUCERS_KEY, DESCRIBE_PRODUCERS_VERSION
    )
    if gap is not None:
        return gap
    topic = ctx.topics.get("idempotent")
    if topic is None:
        topic = ctx.make_topic("producers")
        errors = delivered(
            ctx.cluster.deliver(
                topic,
                [OutRecord(b"k", b"v")],
                extra={"enable.idempotence": True},
                timeout=ctx.opts.op_timeout,
            )
        )
        if errors:
            return CheckResult(
                cid, Status.FAIL, topic, "records were refused", {"error": errors[0]}
            )
    with RawClient(
        ctx.cluster.bootstrap,
        timeout=ctx.opts.op_timeout,
        name=ctx.cluster.name,
        security=ctx.raw or PLAINTEXT,
    ) as raw:
        state = raw.describe_producers(topic, [0])[0]
    evidence: dict[str, Any] = {
        "topic": topic,
        "error": error_name(state.error) if state.error else None,
        "error_message": state.error_message,
        "active_producers": [
            {
                "producer_id": p.producer_id,
                "epoch": p.producer_epoch,
                "last_sequence": p.last_sequence,
            }
            for p in state.producers
        ],
    }
    if evidence["error"] is None:
        del evidence["error"]
    if state.error or not state.producers:
        why = error_name(state.error) if state.error else "no active producer listed"
        return CheckResult(cid, Status.FAIL, topic, f"DescribeProducers: {why}", evidence)
    return CheckResult(
        cid,
        Status.PASS,
        topic,
        f"{len(state.producers)} active idempotent producer(s) listed",
        evidence,
    )
