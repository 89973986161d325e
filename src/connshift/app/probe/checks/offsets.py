"""Offsets: ListOffsets by timestamp and EARLIEST/LATEST, and DeleteRecords."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from connshift.app.probe.context import ProbeContext, delivered, now_ms, records_refused, refused
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord


@check("offsets.by-timestamp")
def offsets_by_timestamp(ctx: ProbeContext) -> CheckResult:
    cid = "offsets.by-timestamp"
    topic = ctx.make_topic("by-timestamp")
    t0 = now_ms() - 600_000
    sent = [OutRecord(b"k", str(i).encode(), timestamp=t0 + 1000 * i) for i in range(3)]
    errors = delivered(ctx.cluster.deliver(topic, sent, timeout=ctx.opts.op_timeout))
    evidence: dict[str, Any] = {"topic": topic, "timestamps": "t0, t0+1000, t0+2000"}
    if errors:
        return records_refused(cid, topic, errors, evidence)
    ctx.topics["by-timestamp"] = topic
    expected = {
        "t0-1": (t0 - 1, 0),
        "t0": (t0, 0),
        "t0+500": (t0 + 500, 1),
        "t0+2000": (t0 + 2000, 2),
        "t0+10000": (t0 + 10_000, -1),
    }
    got: dict[str, int] = {}
    for label, (ts, _want) in expected.items():
        got[label] = ctx.cluster.list_offsets(topic, {0: ts}, timeout=ctx.opts.op_timeout)[0][0]
    evidence["expected"] = {k: w for k, (_t, w) in expected.items()}
    evidence["got"] = got
    with suppress(KafkaError):
        evidence["max_timestamp_offset"] = ctx.cluster.list_offsets(
            topic, {0: "max_timestamp"}, timeout=ctx.opts.op_timeout
        )[0][0]
    wrong = [k for k, (_t, w) in expected.items() if got[k] != w]
    if wrong:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            "wrong offsets for "
            + ", ".join(f"{k} (got {got[k]}, expected {expected[k][1]})" for k in wrong),
            evidence,
        )
    return CheckResult(
        cid, Status.PASS, topic, "every timestamp lookup found the right offset", evidence
    )


@check("records.delete")
def records_delete(ctx: ProbeContext) -> CheckResult:
    cid = "records.delete"
    topic = ctx.make_topic("delete-records")
    errors = delivered(
        ctx.cluster.deliver(
            topic,
            [OutRecord(b"k", str(i).encode()) for i in range(10)],
            timeout=ctx.opts.op_timeout,
        )
    )
    evidence: dict[str, Any] = {"topic": topic, "records": 10, "delete_before": 4}
    if errors:
        return records_refused(cid, topic, errors, evidence)
    try:
        ctx.cluster.delete_records(topic, {0: 4}, timeout=ctx.opts.op_timeout)
    except KafkaError as exc:
        return refused(cid, topic, exc, **evidence)
    low, high = ctx.cluster.end_offsets(topic, [0], timeout=ctx.opts.op_timeout)[0]
    got = ctx.read(topic)
    evidence.update(
        {
            "log_start_in_fetch": low,
            "high_watermark_in_fetch": high,
            "first_offset_read": got[0].offset if got else None,
        }
    )
    ctx.topics["delete-records"] = topic
    if low != 4 or not got or got[0].offset != 4:
        return CheckResult(
            cid, Status.FAIL, topic, f"the log start is {low}, not 4, after deleting", evidence
        )
    return CheckResult(
        cid, Status.PASS, topic, "log start moved to 4; reading starts there", evidence
    )


@check("offsets.earliest-latest")
def offsets_earliest_latest(ctx: ProbeContext) -> CheckResult:
    cid = "offsets.earliest-latest"
    expected: dict[str, tuple[str, int | str, str, int]] = {}
    if "by-timestamp" in ctx.topics:
        t = ctx.topics["by-timestamp"]
        expected[f"{t} earliest"] = (t, "earliest", "read_uncommitted", 0)
        expected[f"{t} latest"] = (t, "latest", "read_uncommitted", 3)
    if "delete-records" in ctx.topics:
        t = ctx.topics["delete-records"]
        expected[f"{t} earliest (after delete-records)"] = (
            t,
            "earliest",
            "read_uncommitted",
            4,
        )
        expected[f"{t} latest"] = (t, "latest", "read_uncommitted", 10)
    if "transactions" in ctx.topics:
        t = ctx.topics["transactions"]
        # 6 records and 3 transaction markers: the end (and LSO, nothing open) is 9
        expected[f"{t} latest (read_committed)"] = (t, "latest", "read_committed", 9)
    if not expected:
        return CheckResult(
            cid,
            Status.SKIP,
            ctx.cluster.bootstrap,
            "no topic of the earlier checks to ask about (they failed)",
            {},
        )
    got: dict[str, int] = {}
    for label, (topic, spec, isolation, _want) in expected.items():
        got[label] = ctx.cluster.list_offsets(
            topic, {0: spec}, isolation=isolation, timeout=ctx.opts.op_timeout
        )[0][0]
    evidence = {"expected": {k: v[3] for k, v in expected.items()}, "got": got}
    wrong = [k for k, v in expected.items() if got[k] != v[3]]
    subject = ctx.prefix + "*"
    if wrong:
        return CheckResult(
            cid,
            Status.FAIL,
            subject,
            "ListOffsets answered wrongly for "
            + ", ".join(
                f"{k.removeprefix(ctx.prefix)} (got {got[k]}, expected {expected[k][3]})"
                for k in wrong
            ),
            evidence,
        )
    return CheckResult(cid, Status.PASS, subject, f"{len(expected)} answers right", evidence)
