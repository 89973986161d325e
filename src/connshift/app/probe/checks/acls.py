"""ACLs: created, described and deleted (only when the cluster serves all three APIs)."""

from __future__ import annotations

import time
from typing import Any

from connshift.app.probe.context import ProbeContext, error_text, refused
from connshift.app.probe.registry import check
from connshift.core.acls import Acl
from connshift.core.checks import CheckResult, Status
from connshift.errors import KafkaError

#: API key -> name of the ACL APIs: all three are needed to create and remove an ACL
ACL_APIS = {29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls"}


@check("acls.api")
def acls_api(ctx: ProbeContext) -> CheckResult:
    cid = "acls.api"
    principal = f"User:{ctx.prefix}principal"
    acl = Acl(
        resource_type="TOPIC",
        name=ctx.name("acl"),
        pattern_type="LITERAL",
        principal=principal,
        host="*",
        operation="READ",
        permission="ALLOW",
    )
    evidence: dict[str, Any] = {"acl": acl.describe()}
    stage = "describe"
    try:
        before = ctx.cluster.acls(timeout=ctx.opts.op_timeout)
        evidence["acls_before"] = len(before)
        if ctx.api_keys is not None:
            served = {api: ctx.api_keys.get(key) for key, api in ACL_APIS.items()}
            evidence["api_versions"] = {
                api: f"v{r[0]}-v{r[1]}" if r else "not served" for api, r in served.items()
            }
            missing = [api for api, r in served.items() if r is None]
            if missing:
                # never create what cannot be deleted (and librdkafka 2.16 aborts the
                # process on tansu 0.6's CreateAcls answer)
                return CheckResult(
                    cid,
                    Status.FAIL,
                    ctx.cluster.bootstrap,
                    f"{', '.join(missing)} not served (ApiVersions): ACLs cannot be "
                    "managed (nothing created)",
                    {**evidence, "error": f"{', '.join(missing)} not served (ApiVersions)"},
                )
        stage = "create"
        ctx.acls_created.append(acl)
        ctx.cluster.create_acls([acl], timeout=ctx.opts.op_timeout)
        stage = "describe after create"
        listed = _wait_acl(ctx, principal, present=True)
        evidence["listed_after_create"] = listed
        stage = "delete"
        deleted = ctx.cluster.delete_acls([acl], timeout=ctx.opts.op_timeout)
        evidence["deleted"] = [a.describe() for a in deleted]
        if acl in deleted:
            ctx.acls_created.remove(acl)
        stage = "describe after delete"
        gone = not _wait_acl(ctx, principal, present=False)
        evidence["gone_after_delete"] = gone
    except KafkaError as exc:
        if exc.why == "SECURITY_DISABLED":
            return CheckResult(
                cid,
                Status.SKIP,
                ctx.cluster.bootstrap,
                "the cluster has no authorizer: it keeps no ACLs",
                {**evidence, "error": error_text(exc)},
            )
        return refused(cid, ctx.cluster.bootstrap, exc, stage=stage, **evidence)
    problems = []
    if not listed:
        problems.append("the created ACL was not described")
    if acl not in deleted:
        problems.append("DeleteAcls did not report the ACL deleted")
    if not gone:
        problems.append("the ACL is still described after deleting it")
    if problems:
        return CheckResult(cid, Status.FAIL, ctx.cluster.bootstrap, "; ".join(problems), evidence)
    return CheckResult(
        cid, Status.PASS, ctx.cluster.bootstrap, "ACL created, described and deleted", evidence
    )


def _wait_acl(ctx: ProbeContext, principal: str, *, present: bool) -> bool:
    """Whether an ACL of ``principal`` is described, waiting up to 5 s for ``present``."""
    deadline = time.monotonic() + 5.0
    while True:
        found = any(a.principal == principal for a in ctx.cluster.acls(timeout=ctx.opts.op_timeout))
        if found == present or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
