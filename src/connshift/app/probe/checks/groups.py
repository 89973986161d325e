"""Consumer groups: join, read, commit; offsets read and altered by an admin; delete."""

from __future__ import annotations

import time
from typing import Any

from connshift.app.probe.context import ProbeContext, delivered, records_refused, refused, verdict
from connshift.app.probe.registry import check
from connshift.core.checks import CheckResult, Status
from connshift.errors import KafkaError
from connshift.io.kafka import OutRecord


@check("groups.join-commit-alter-delete")
def groups_join_commit_alter_delete(ctx: ProbeContext) -> CheckResult:
    cid = "groups.join-commit-alter-delete"
    topic = ctx.make_topic("group")
    n = 10
    errors = delivered(
        ctx.cluster.deliver(
            topic,
            [OutRecord(b"k", str(i).encode()) for i in range(n)],
            timeout=ctx.opts.op_timeout,
        )
    )
    group = ctx.name("group")
    evidence: dict[str, Any] = {"topic": topic, "group": group}
    if errors:
        return records_refused(cid, topic, errors, evidence)
    stage = "join and read"
    try:
        t0 = time.monotonic()
        records, committed = ctx.cluster.consume_in_group(
            group, topic, n, timeout=ctx.opts.group_timeout
        )
        evidence["join_and_read_seconds"] = round(time.monotonic() - t0, 1)
        evidence["read"] = len(records)
        evidence["committed"] = {f"{t}[{p}]": o for (t, p), o in committed.items()}
        if len(records) != n:
            return CheckResult(
                cid,
                Status.FAIL,
                group,
                f"the group member read {len(records)} of {n} records in "
                f"{ctx.opts.group_timeout:g}s",
                evidence,
            )
        stage = "read committed offsets"
        stored = ctx.cluster.group_offsets(group, timeout=ctx.opts.op_timeout)
        evidence["offsets_after_commit"] = {f"{t}[{p}]": o for (t, p), o in stored.items()}
        stage = "alter offsets"
        ctx.cluster.commit_group_offsets(group, {(topic, 0): 3}, timeout=ctx.opts.op_timeout)
        altered = ctx.cluster.group_offsets(group, timeout=ctx.opts.op_timeout)
        evidence["offsets_after_alter"] = {f"{t}[{p}]": o for (t, p), o in altered.items()}
        stage = "delete group"
        ctx.cluster.delete_groups([group], timeout=ctx.opts.op_timeout)
        still = group in ctx.cluster.groups(timeout=ctx.opts.op_timeout)
        evidence["listed_after_delete"] = still
    except KafkaError as exc:
        return refused(cid, group, exc, stage=stage, **evidence)
    problems = []
    if stored.get((topic, 0)) != n:
        problems.append(f"committed offset {stored.get((topic, 0))}, expected {n}")
    if altered.get((topic, 0)) != 3:
        problems.append(f"altered offset reads {altered.get((topic, 0))}, expected 3")
    if still:
        problems.append("the group is still listed after being deleted")
    return verdict(
        cid,
        group,
        problems,
        f"joined and read {n} records in {evidence['join_and_read_seconds']}s, committed "
        f"{n}, altered to 3, deleted",
        evidence,
    )
