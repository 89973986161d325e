"""Running the probe: reach the cluster, run every registered check in catalogue order, mark
the checks the estate relies on (``needed_by``), and always clean up."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import connshift.app.probe.checks  # noqa: F401 -- registers every check in REGISTRY
from connshift.app.probe.context import (
    PREFIX,
    ProbeContext,
    ProbeOptions,
    Reporter,
    error_text,
    refused,
)
from connshift.app.probe.registry import REGISTRY, Check
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import ProbeResult, connector_needs
from connshift.core.spec import Spec
from connshift.errors import ConnshiftError, UsageError
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_security import PLAINTEXT, RawSecurity

__all__ = ["probe", "probe_cluster", "run_check", "run_checks", "with_needs"]


def probe(
    spec: Spec,
    side: str = "destination",
    *,
    inventory: Mapping[str, Any] | None = None,
    options: ProbeOptions | None = None,
    report: Reporter | None = None,
) -> ProbeResult:
    """Run every contract check against the spec's ``side`` ("destination" or "source").

    ``inventory`` (an ``inventory.json``) says which checks the estate relies on. Raises
    :class:`~connshift.errors.KafkaError` (exit 3) when the cluster cannot be reached at all;
    every other refusal is a FAIL in the result.
    """
    if side not in ("destination", "source"):
        raise UsageError(f"unknown side {side!r}", fix="use destination or source")
    from connshift.app.rawsecurity import raw_security, raw_unsupported

    kafka = getattr(spec, side).kafka
    cluster = KafkaCluster(kafka.client_config(), name=side)
    return probe_cluster(
        cluster,
        side=side,
        raw=raw_security(kafka) if raw_unsupported(kafka) is None else None,
        inventory=inventory,
        options=options,
        report=report,
    )


def probe_cluster(
    cluster: KafkaCluster,
    *,
    side: str = "destination",
    raw: RawSecurity | None = PLAINTEXT,
    inventory: Mapping[str, Any] | None = None,
    options: ProbeOptions | None = None,
    report: Reporter | None = None,
) -> ProbeResult:
    """Run every contract check against ``cluster`` (see :func:`probe`).

    ``raw`` says how connshift's raw client reaches it (None: it cannot, e.g. OAUTHBEARER).
    """
    checks = REGISTRY.checks()
    opts = options or ProbeOptions()
    say = report or (lambda _msg: None)
    started = time.monotonic()
    info = cluster.check_reachable(timeout=opts.op_timeout)  # KafkaError: exit 3
    result = ProbeResult(
        side=side,
        bootstrap=cluster.bootstrap,
        prefix=f"{PREFIX}{uuid.uuid4().hex[:8]}-",
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        cluster_id=info.cluster_id,
        brokers=len(info.brokers),
        needs=connector_needs(inventory),
    )
    api_keys = None
    if raw is not None:
        result.kafka_version, api_keys = _kafka_version(cluster.bootstrap, opts.op_timeout, raw)
    ctx = ProbeContext(
        cluster,
        result,
        opts,
        say,
        raw=raw,
        controller=info.controller_id,
        api_keys=api_keys,
    )
    try:
        run_checks(ctx, checks)
    finally:
        say(f"cleaning up {result.prefix}*")
        result.cleanup = ctx.cleanup()
        result.seconds = time.monotonic() - started
    return result


def run_checks(ctx: ProbeContext, checks: Iterable[Check]) -> None:
    """Run ``checks`` in order, adding each result and its duration to ``ctx.result``."""
    result, say = ctx.result, ctx.report
    for chk in checks:
        say(f"{chk.id} …")
        t0 = time.monotonic()
        outcome = run_check(ctx, chk)
        result.timings[chk.id] = time.monotonic() - t0
        result.checks.append(outcome)
        say(f"{chk.id}: {outcome.status} — {outcome.summary}")


def run_check(ctx: ProbeContext, chk: Check) -> CheckResult:
    """Run one check; a refusal or an unforeseen answer is a FAIL, never an exception.

    The result the check returns is marked with who needs it (:func:`with_needs`).
    """
    subject = ctx.cluster.bootstrap
    try:
        outcome = chk.run(ctx)
    except ConnshiftError as exc:
        return refused(chk.id, subject, exc)
    except Exception as exc:  # an answer we did not foresee must not end the probe
        return CheckResult(
            chk.id,
            Status.FAIL,
            subject,
            f"unexpected {type(exc).__name__} while checking: {exc}",
            {"error": error_text(exc), "unexpected": True},
        )
    return with_needs(outcome, ctx.result.needs)


def with_needs(check: CheckResult, needs: Mapping[str, list[str]] | None) -> CheckResult:
    """``check`` with ``needed_by`` in its evidence when the estate relies on it.

    ``needs`` is :func:`~connshift.core.probe.connector_needs` of the inventory (``check id
    -> who``); None (no inventory) or a check nobody needs leaves ``check`` as it is. This is
    the one place ``needed_by`` is set.
    """
    if not needs or check.id not in needs:
        return check
    return CheckResult(
        check.id,
        check.status,
        check.subject,
        check.summary,
        {**check.evidence, "needed_by": needs[check.id]},
    )


def _kafka_version(
    bootstrap: str, timeout: float, security: RawSecurity = PLAINTEXT
) -> tuple[str | None, dict[int, tuple[int, int]] | None]:
    """The release ApiVersions suggests, and the API version ranges it lists."""
    from connshift.core.versions import infer_kafka_version
    from connshift.io.kafka_wire import api_versions

    try:
        av = api_versions(bootstrap, timeout=timeout, security=security)
    except ConnshiftError:
        return None, None
    ver = infer_kafka_version(av.api_keys, av.finalized_features)
    return ver.release or ver.basis, dict(av.api_keys)
