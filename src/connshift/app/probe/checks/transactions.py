"""Transactions: committed ones visible, aborted ones hidden under read_committed."""

from __future__ import annotations

from typing import Any

from connshift.app.probe.context import ProbeContext, refused, verdict
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord


@check("transactions.commit-abort")
def transactions_commit_abort(ctx: ProbeContext) -> CheckResult:
    cid = "transactions.commit-abort"
    topic = ctx.make_topic("transactions")
    txns = [
        ([OutRecord(b"c", f"commit-{i}".encode()) for i in (1, 2, 3)], True),
        ([OutRecord(b"a", f"abort-{i}".encode()) for i in (1, 2)], False),
        ([OutRecord(b"c", b"commit-4")], True),
    ]
    evidence: dict[str, Any] = {
        "topic": topic,
        "transactional_id": ctx.name("txn"),
        "sent": "commit [commit-1..3], abort [abort-1, abort-2], commit [commit-4]",
    }
    try:
        ctx.cluster.run_transactions(
            topic, txns, transactional_id=ctx.name("txn"), timeout=ctx.opts.op_timeout
        )
    except KafkaError as exc:
        return refused(cid, topic, exc, **evidence)
    committed = ctx.read(topic, isolation="read_committed")
    uncommitted = ctx.read(topic, isolation="read_uncommitted")
    evidence["read_committed"] = [(r.offset, (r.value or b"").decode()) for r in committed]
    evidence["read_uncommitted"] = [(r.offset, (r.value or b"").decode()) for r in uncommitted]
    want_committed = [b"commit-1", b"commit-2", b"commit-3", b"commit-4"]
    want_all = [b"commit-1", b"commit-2", b"commit-3", b"abort-1", b"abort-2", b"commit-4"]
    problems = []
    seen_committed = [r.value for r in committed]
    if seen_committed != want_committed:
        extra = [(v or b"").decode() for v in seen_committed if v not in want_committed]
        missing = [v.decode() for v in want_committed if v not in seen_committed]
        problems.append(
            "read_committed does not see exactly the committed records"
            + (f": it also sees {', '.join(extra)}" if extra else "")
            + (f"; it misses {', '.join(missing)}" if missing else "")
        )
    if [r.value for r in uncommitted] != want_all:
        problems.append(
            "read_uncommitted does not see every record written (it sees "
            + ", ".join((r.value or b"").decode() for r in uncommitted)
            + ")"
        )
    ctx.topics["transactions"] = topic
    return verdict(
        cid,
        topic,
        problems,
        "2 committed transactions visible, the aborted one hidden under read_committed",
        evidence,
    )
