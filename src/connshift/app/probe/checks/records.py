"""Records and producers: keys, headers and nulls byte for byte, timestamps, the idempotent
producer, compaction and the record size limit."""

from __future__ import annotations

import os
import time
from typing import Any

from connshift.app.probe.context import (
    ProbeContext,
    delivered,
    error_text,
    now_ms,
    records_refused,
    refused,
    verdict,
)
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import CREATE_TIME, LOG_APPEND_TIME, compaction_view, record_differences
from connshift.core.recordbatch import Rec, encode_batch
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord, Record
from connshift.io.kafka_raw import RawClient, error_name
from connshift.io.kafka_security import PLAINTEXT


@check("produce.keys-headers-nulls")
def produce_keys_headers_nulls(ctx: ProbeContext) -> CheckResult:
    cid = "produce.keys-headers-nulls"
    topic = ctx.make_topic("records")
    sent = [
        OutRecord(b"k1", b"v1", [("h", b"a"), ("h", b"b"), ("h-null", None), ("h-empty", b"")]),
        OutRecord(b"k2", None),
        OutRecord(None, b"no key"),
        OutRecord(b"", b""),
        OutRecord(b"\x00\xff", bytes(range(256)), [("bin", bytes(range(256)))]),
    ]
    deliveries = ctx.cluster.deliver(topic, sent, timeout=ctx.opts.op_timeout)
    errors = delivered(deliveries)
    evidence: dict[str, Any] = {
        "topic": topic,
        "sent": [
            "key k1, value v1, headers h=a, h=b, h-null=null, h-empty=''",
            "key k2, null value (tombstone)",
            "null key, value 'no key'",
            "empty key, empty value",
            "binary key, 256-byte binary value and header",
        ],
    }
    if errors:
        return records_refused(cid, topic, errors, evidence)
    got = ctx.read(topic)
    diffs = record_differences(
        [(r.key, r.value, r.headers or []) for r in sent],
        [(r.key, r.value, r.headers) for r in got],
    )
    evidence["offsets"] = [r.offset for r in got]
    if diffs:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            f"{len(diffs)} difference(s) reading back what was sent",
            {**evidence, "differences": diffs[:10]},
        )
    ctx.topics["records"] = topic
    return CheckResult(
        cid, Status.PASS, topic, f"{len(sent)} records read back identical", evidence
    )


@check("timestamps.create-time")
def timestamps_create_time(ctx: ProbeContext) -> CheckResult:
    cid = "timestamps.create-time"
    topic = ctx.make_topic("create-time")
    ts = now_ms() - 3_600_000
    sent = [OutRecord(b"a", b"1", timestamp=ts), OutRecord(b"b", b"2", timestamp=ts + 1)]
    errors = delivered(ctx.cluster.deliver(topic, sent, timeout=ctx.opts.op_timeout))
    evidence: dict[str, Any] = {"topic": topic, "sent_timestamps": [ts, ts + 1]}
    if errors:
        return records_refused(cid, topic, errors, evidence)
    got = ctx.read(topic)
    evidence["read"] = [{"timestamp": r.timestamp, "type": r.timestamp_type} for r in got]
    ok = [(r.timestamp, r.timestamp_type) for r in got] == [
        (ts, CREATE_TIME),
        (ts + 1, CREATE_TIME),
    ]
    if not ok:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            "the timestamps read back are not the CreateTime sent",
            evidence,
        )
    return CheckResult(
        cid, Status.PASS, topic, "CreateTime kept as sent (an hour in the past)", evidence
    )


@check("timestamps.log-append-time")
def timestamps_log_append_time(ctx: ProbeContext) -> CheckResult:
    cid = "timestamps.log-append-time"
    config = {"message.timestamp.type": "LogAppendTime"}
    try:
        topic = ctx.make_topic("log-append-time", config=config)
    except KafkaError as exc:
        return refused(cid, ctx.name("log-append-time"), exc, config=config)
    sent_ts = now_ms() - 3_600_000
    before = now_ms()
    deliveries = ctx.cluster.deliver(
        topic, [OutRecord(b"a", b"1", timestamp=sent_ts)], timeout=ctx.opts.op_timeout
    )
    after = now_ms()
    errors = delivered(deliveries)
    evidence: dict[str, Any] = {
        "topic": topic,
        "config": config,
        "sent_timestamp": sent_ts,
        "local_clock_ms": [before, after],
        "delivery_report_timestamp": deliveries[0].timestamp,
    }
    if errors:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            "the record was refused",
            {**evidence, "error": errors[0]},
        )
    got = ctx.read(topic)
    if not got:
        return CheckResult(cid, Status.FAIL, topic, "the record could not be read back", evidence)
    rec = got[0]
    evidence["read"] = {"timestamp": rec.timestamp, "type": rec.timestamp_type}
    if rec.timestamp_type != LOG_APPEND_TIME or rec.timestamp == sent_ts:
        kind = {CREATE_TIME: "CreateTime", LOG_APPEND_TIME: "LogAppendTime"}.get(
            rec.timestamp_type, str(rec.timestamp_type)
        )
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            f"the record kept the producer's timestamp ({kind}): the topic's "
            "message.timestamp.type=LogAppendTime is not applied",
            evidence,
        )
    skew = rec.timestamp - after if rec.timestamp > after else min(0, rec.timestamp - before)
    evidence["broker_minus_local_ms"] = skew
    return CheckResult(
        cid,
        Status.PASS,
        topic,
        "stamped with the broker's time (LogAppendTime)",
        evidence,
    )


@check("producer.idempotent")
def producer_idempotent(ctx: ProbeContext) -> CheckResult:
    cid = "producer.idempotent"
    topic = ctx.make_topic("idempotent")
    n = 200
    sent = [OutRecord(str(i).encode(), f"value-{i}".encode()) for i in range(n)]
    deliveries = ctx.cluster.deliver(
        topic,
        sent,
        extra={"enable.idempotence": True, "acks": "all", "linger.ms": 5},
        timeout=ctx.opts.op_timeout,
    )
    errors = delivered(deliveries)
    evidence: dict[str, Any] = {"topic": topic, "client_records": n}
    if errors:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            "the idempotent producer's records were refused",
            {**evidence, "error": errors[0]},
        )
    got = ctx.read(topic)
    offsets = [r.offset for r in got]
    values = [r.value for r in got]
    evidence["client_read_back"] = len(got)
    if offsets != list(range(n)) or values != [r.value for r in sent]:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            f"read back {len(got)} records, not the {n} sent in order at offsets 0..{n - 1}",
            {**evidence, "offsets_read": offsets[:20]},
        )
    ctx.topics["idempotent"] = topic
    if ctx.raw is None:
        evidence["retry_dedup"] = (
            "not checked: the raw client does not speak this cluster's SASL mechanism"
        )
        return CheckResult(
            cid, Status.PASS, topic, f"{n} records in order, no duplicates", evidence
        )
    return _idempotent_retry(ctx, cid, topic, n, evidence)


def _idempotent_retry(
    ctx: ProbeContext, cid: str, topic: str, base: int, evidence: dict[str, Any]
) -> CheckResult:
    """Send one idempotent batch twice (a retry), then one with a sequence gap."""
    ts = now_ms()
    recs = [Rec(0, ts, f"retry-{i}".encode(), b"x") for i in range(3)]
    with RawClient(
        ctx.cluster.bootstrap,
        timeout=ctx.opts.op_timeout,
        name=ctx.cluster.name,
        security=ctx.raw or PLAINTEXT,
    ) as raw:
        pid, epoch = raw.init_producer_id(retry_for=ctx.opts.op_timeout)
        batch = encode_batch(recs, producer_id=pid, producer_epoch=epoch, base_sequence=0)
        first = raw.produce(topic, {0: batch})[0]
        again = raw.produce(topic, {0: batch})[0]
        gap = encode_batch(recs[:1], producer_id=pid, producer_epoch=epoch, base_sequence=10)
        gapped = raw.produce(topic, {0: gap})[0]
    got = ctx.read(topic, start=base)
    retry_copies = sum(1 for r in got if r.key == b"retry-0")
    evidence.update(
        {
            "raw_producer": {"producer_id": pid, "epoch": epoch},
            "first_send": {"error": error_name(first.error), "base_offset": first.base_offset},
            "retried_send": {
                "error": error_name(again.error),
                "base_offset": again.base_offset,
            },
            "sequence_gap_send": {
                "error": error_name(gapped.error),
                "message": gapped.error_message,
            },
            "copies_of_retried_batch": retry_copies,
        }
    )
    problems = []
    if first.error != 0:
        problems.append(f"the first idempotent batch was refused ({error_name(first.error)})")
    if retry_copies != 1:
        problems.append(f"a retried batch was written {retry_copies} times")
    if gapped.error == 0:
        problems.append("a batch with a sequence gap was accepted")
    return verdict(
        cid,
        topic,
        problems,
        f"{base} records in order; a retried batch written once "
        f"({error_name(again.error)}); a sequence gap refused ({error_name(gapped.error)})",
        evidence,
    )


@check("compaction.honoured")
def compaction_honoured(ctx: ProbeContext) -> CheckResult:
    cid = "compaction.honoured"
    config = {
        "cleanup.policy": "compact",
        "segment.ms": "100",
        "min.cleanable.dirty.ratio": "0.001",
        "min.compaction.lag.ms": "0",
        "delete.retention.ms": "100",
    }
    try:
        topic = ctx.make_topic("compacted", config=config)
    except KafkaError as exc:
        return refused(cid, ctx.name("compacted"), exc, config=config)
    sent = [
        OutRecord(b"a", b"a1"),
        OutRecord(b"a", b"a2"),
        OutRecord(b"b", b"b1"),
        OutRecord(b"a", b"a3"),
        OutRecord(b"c", b"c1"),
        OutRecord(b"c", None),
        OutRecord(b"a", b"a4"),
    ]
    deliveries = ctx.cluster.deliver(topic, sent, timeout=ctx.opts.op_timeout)
    evidence: dict[str, Any] = {
        "topic": topic,
        "config": config,
        "written": "a=a1, a=a2, b=b1, a=a3, c=c1, c=null, a=a4 then a record every second",
        "wait_bound_seconds": ctx.opts.compaction_wait,
    }
    errors = delivered(deliveries)
    if errors:
        return records_refused(cid, topic, errors, evidence)
    written = [
        (d.offset if d.offset is not None else -1, r.key, r.value)
        for d, r in zip(deliveries, sent, strict=True)
    ]
    deadline = time.monotonic() + ctx.opts.compaction_wait
    rolls = 0
    view = compaction_view(written, [(o, k, v) for o, k, v in written])
    got: list[Record] = []
    read_errors: list[str] = []
    while time.monotonic() < deadline:
        time.sleep(1.0)
        # appending after segment.ms has passed rolls the segment holding the records above
        ctx.cluster.deliver(topic, [OutRecord(b"roll", str(rolls).encode())], timeout=5)
        rolls += 1
        try:  # a read racing the cleaner's segment swap may time out: try again
            got = ctx.read(topic)
        except KafkaError as exc:
            read_errors.append(error_text(exc))
            continue
        view = compaction_view(written, [(r.offset, r.key, r.value) for r in got])
        if view.lost or view.done:
            break
    evidence.update(
        {
            "superseded_offsets": view.superseded,
            "removed_offsets": view.removed,
            "lost_latest_offsets": view.lost,
            "seconds_waited": round(ctx.opts.compaction_wait - (deadline - time.monotonic()), 1),
            "offsets_remaining": [r.offset for r in got if r.key != b"roll"],
        }
    )
    if read_errors:
        evidence["read_errors"] = read_errors[:3]
    if view.lost:
        return CheckResult(
            cid,
            Status.FAIL,
            topic,
            "compaction lost or changed the latest record of a key",
            evidence,
        )
    if view.done:
        return CheckResult(
            cid,
            Status.PASS,
            topic,
            f"superseded records {view.superseded} removed, latest per key kept at its offset",
            evidence,
        )
    what = "partly" if view.started else "not"
    return CheckResult(
        cid,
        Status.SKIP,
        topic,
        f"compaction {what} observed within {ctx.opts.compaction_wait:g}s "
        f"({len(view.removed)}/{len(view.superseded)} superseded records removed): "
        "the cleaner may run later — inconclusive",
        evidence,
    )


@check("message.max-size")
def message_max_size(ctx: ProbeContext) -> CheckResult:
    cid = "message.max-size"
    topic = ctx.make_topic("max-size")
    configs = ctx.cluster.topic_configs(topic, timeout=ctx.opts.op_timeout)
    stated = configs.get("max.message.bytes")
    limit = int(stated) if stated else 1048588
    extra = {"message.max.bytes": 16 << 20}
    under = ctx.cluster.deliver(
        topic,
        [OutRecord(None, os.urandom(limit - 1024))],
        extra=extra,
        timeout=ctx.opts.op_timeout,
    )[0]
    over = ctx.cluster.deliver(
        topic,
        [OutRecord(None, os.urandom(limit + 1024))],
        extra=extra,
        timeout=ctx.opts.op_timeout,
    )[0]
    raised_limit = 2 * limit
    raised_topic = ctx.name("max-size-raised")
    big = os.urandom(limit + limit // 2)
    evidence: dict[str, Any] = {
        "topic": topic,
        "max.message.bytes": stated if stated else "not described (assumed 1048588)",
        "under_limit": {"bytes": limit - 1024, "error": under.error},
        "over_limit": {"bytes": limit + 1024, "error": over.error},
    }
    try:
        ctx.make_topic("max-size-raised", config={"max.message.bytes": str(raised_limit)})
        raised = ctx.cluster.deliver(
            raised_topic, [OutRecord(None, big)], extra=extra, timeout=ctx.opts.op_timeout
        )[0]
        raised_error = raised.error
    except KafkaError as exc:
        raised_error = error_text(exc)
    read_ok = False
    if raised_error is None:
        got = ctx.read(raised_topic, extra={"fetch.message.max.bytes": 16 << 20})
        read_ok = len(got) == 1 and got[0].value == big
    evidence["raised_topic"] = {
        "topic": raised_topic,
        "max.message.bytes": raised_limit,
        "bytes": len(big),
        "error": raised_error,
        "read_back_identical": read_ok,
    }
    problems = []
    if under.error is not None:
        problems.append(f"a record under the limit was refused ({under.error})")
    if over.error is None:
        stated_as = "its stated" if stated else "Kafka's default (it describes none)"
        problems.append(f"a record over {stated_as} limit of {limit} B was accepted")
    elif "MSG_SIZE_TOO_LARGE" not in over.error:
        problems.append(f"a record over the limit failed otherwise ({over.error})")
    if raised_error is not None:
        problems.append(f"a raised max.message.bytes was not honoured ({raised_error})")
    elif not read_ok:
        problems.append("the large record did not read back identical")
    if problems:
        evidence["error"] = next((e for e in (under.error, raised_error) if e is not None), None)
        if evidence["error"] is None:
            del evidence["error"]
        return CheckResult(cid, Status.FAIL, topic, "; ".join(problems), evidence)
    return CheckResult(
        cid,
        Status.PASS,
        topic,
        f"limit {limit} B enforced (MSG_SIZE_TOO_LARGE above it); {len(big)} B "
        f"accepted under a raised {raised_limit} B limit",
        evidence,
    )
