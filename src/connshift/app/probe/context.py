"""What a probe check works with: :class:`ProbeContext` (the cluster, the run's scratch names,
the topics earlier checks left for later ones, the cleanup) and the helpers checks share to
turn a refusal into a FAIL with its evidence."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from connshift.core.acls import Acl
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import ProbeResult
from connshift.errors import ConnshiftError
from connshift.io.kafka import Delivery, KafkaCluster, Record
from connshift.io.kafka_security import RawSecurity

__all__ = [
    "PREFIX",
    "ProbeContext",
    "ProbeOptions",
    "Reporter",
    "delivered",
    "error_text",
    "now_ms",
    "records_refused",
    "refused",
]

Reporter = Callable[[str], None]

PREFIX = "connshift-probe-"


@dataclass(frozen=True)
class ProbeOptions:
    """Bounds of one probe run, in seconds."""

    op_timeout: float = 10.0
    compaction_wait: float = 20.0
    group_timeout: float = 20.0
    cleanup_timeout: float = 20.0


def error_text(exc: BaseException) -> str:
    """The error a client saw, as a check's evidence shows it."""
    if isinstance(exc, ConnshiftError):
        return f"{exc.what}: {exc.why}" if exc.why else exc.what
    return f"{type(exc).__name__}: {exc}"


def refused(check_id: str, subject: str, exc: ConnshiftError, **evidence: Any) -> CheckResult:
    """The FAIL of a check whose request the cluster refused (the client's error shown)."""
    why = exc.why or exc.what
    return CheckResult(
        check_id,
        Status.FAIL,
        subject,
        f"refused: {why}",
        {**evidence, "error": error_text(exc)},
    )


def verdict(
    check_id: str,
    subject: str,
    problems: list[str],
    passed: str,
    evidence: dict[str, Any],
) -> CheckResult:
    """FAIL naming every problem found, else PASS saying what held."""
    if problems:
        return CheckResult(check_id, Status.FAIL, subject, "; ".join(problems), evidence)
    return CheckResult(check_id, Status.PASS, subject, passed, evidence)


def now_ms() -> int:
    return int(time.time() * 1000)


def delivered(deliveries: list[Delivery]) -> list[str]:
    """The errors among ``deliveries`` (empty when every record was delivered)."""
    return [f"record {i}: {d.error}" for i, d in enumerate(deliveries) if d.error is not None]


def records_refused(
    cid: str, subject: str, errors: list[str], evidence: dict[str, Any]
) -> CheckResult:
    """The FAIL of a check whose test records the cluster refused (first error shown)."""
    return CheckResult(
        cid, Status.FAIL, subject, "records were refused", {**evidence, "error": errors[0]}
    )


class ProbeContext:
    """One probe run as its checks see it: the cluster, the scratch names they share, the
    topics earlier checks leave for later ones, and the cleanup at the end."""

    def __init__(
        self,
        cluster: KafkaCluster,
        result: ProbeResult,
        options: ProbeOptions,
        report: Reporter,
        *,
        raw: RawSecurity | None,
        controller: int | None,
        api_keys: Mapping[int, tuple[int, int]] | None = None,
    ) -> None:
        self.cluster = cluster
        self.result = result
        self.prefix = result.prefix
        self.opts = options
        self.report = report
        #: how connshift's raw client reaches the cluster (None: it cannot)
        self.raw = raw
        self.controller = controller
        #: the API version ranges the bootstrap broker lists (None: not asked, no raw client)
        self.api_keys = api_keys
        self.acls_created: list[Acl] = []
        #: topics later checks reuse: role -> name (set when the topic exists with records)
        self.topics: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def name(self, role: str) -> str:
        return f"{self.prefix}{role}"

    def make_topic(
        self, role: str, partitions: int = 1, config: Mapping[str, str] | None = None
    ) -> str:
        name = self.name(role)
        self.cluster.create_topic(
            name,
            partitions,
            replication_factor=-1,
            config=config,
            exist_ok=False,
            timeout=self.opts.op_timeout,
        )
        return name

    def read(self, topic: str, partition: int = 0, **kwargs: Any) -> list[Record]:
        return list(self.cluster.read(topic, partition, timeout=self.opts.op_timeout, **kwargs))

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> dict[str, Any]:
        """Delete every topic and group with the prefix, and the ACLs created; report it.

        Best effort: each deletion is tried on its own and whatever goes wrong (a refusal, a
        timeout, a cluster gone away) is recorded in ``errors``, never raised.
        """
        out: dict[str, Any] = {"topics_deleted": [], "groups_deleted": [], "errors": []}
        timeout = self.opts.op_timeout

        def attempt(what: Callable[[], Any]) -> tuple[bool, Any]:
            try:
                return True, what()
            except Exception as exc:  # cleanup must finish whatever the cluster does
                out["errors"].append(error_text(exc))
                return False, None

        _ok, topics = attempt(lambda: self._scratch(self.cluster.topics(timeout=timeout)))
        for t in topics or []:
            if attempt(partial(self.cluster.delete_topic, t, timeout=timeout))[0]:
                out["topics_deleted"].append(t)
        _ok, groups = attempt(lambda: self._scratch(self.cluster.groups(timeout=timeout)))
        for g in groups or []:
            if attempt(partial(self.cluster.delete_groups, [g], timeout=timeout))[0]:
                out["groups_deleted"].append(g)
        if self.acls_created:
            _ok, deleted = attempt(
                lambda: self.cluster.delete_acls(self.acls_created, timeout=timeout)
            )
            out["acls_deleted"] = [a.describe() for a in deleted or []]
        out["leftover_topics"] = self._leftovers()
        out["not_removable"] = [
            f"transactional id {self.name('txn')} (expires with transactional.id.expiration.ms)"
        ]
        return out

    def _scratch(self, names: Any) -> list[str]:
        return sorted(n for n in names if n.startswith(self.prefix))

    def _leftovers(self) -> list[str]:
        """Scratch topics still listed, after waiting up to ``cleanup_timeout`` for deletions."""
        deadline = time.monotonic() + self.opts.cleanup_timeout
        while True:
            try:
                left = self._scratch(self.cluster.topics(timeout=self.opts.op_timeout))
            except Exception as exc:  # reported, not raised: the run is over
                left = [f"(could not list topics: {error_text(exc)})"]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
