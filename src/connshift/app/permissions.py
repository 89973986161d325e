"""``connshift check --permissions``: does each configured principal hold what connshift needs.

The needs are :data:`connshift.core.permissions.NEEDS` (the README's table), resolved against
the spec and the clusters: the topics in scope and their destination names, the groups that
read them, connshift's own topics and groups. Each side is verified one of two ways, and
every row says which:

- **ACLs**: when the principal may DescribeAcls (CLUSTER DESCRIBE), each need is evaluated
  against the cluster's bindings (:func:`connshift.core.permissions.decide`). What the ACLs
  do not grant is then *tried* where a harmless request exists: a super user (or
  ``allow.everyone.if.no.acl.found``) holds rights no ACL shows;
- **tries**: without DescribeAcls, harmless requests only (DescribeTopics, DescribeConfigs,
  CreateTopics with ``validate_only``, DescribeGroups). READ, WRITE, DELETE and ALTER have
  no harmless request: such rows stay UNVERIFIED (said, never counted as granted).

A cluster without an authorizer grants everything. Each MISSING row carries the
``kafka-acls`` line that grants it. Nothing is created or changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connshift.core.acls import Acl
from connshift.core.permissions import (
    CLUSTER_NAME,
    NEEDS,
    SCHEMA,
    SIDES,
    TARGETS,
    Resource,
    decide,
    kafka_acls_line,
)
from connshift.core.spec import KafkaSpec, Spec
from connshift.errors import KafkaAccessDenied, KafkaError
from connshift.io.kafka import KafkaCluster

GRANTED, MISSING, UNVERIFIED = "GRANTED", "MISSING", "UNVERIFIED"
MAP_TOPIC = "connshift.offset-maps"
PROBE_PREFIX = "connshift-probe-"
CONNECT_TOPICS = ("connect-configs", "connect-offsets", "connect-status")
#: the name a try uses for a PREFIXED resource (validate_only: never created)
_TRY_SUFFIX = "permissions-check"

Reporter = Callable[[str], None]


@dataclass
class PermissionRow:
    """One (resource, operation) on one side, for the commands that need it."""

    side: str
    resource: Resource
    operation: str
    commands: list[str]
    essential: bool  # some command needs it unconditionally
    status: str = UNVERIFIED
    via: str = ""
    when: str | None = None  # why it is optional (when not essential)
    grant: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "resource_type": self.resource.resource_type,
            "resource": self.resource.name,
            "pattern_type": self.resource.pattern_type,
            "operation": self.operation,
            "commands": self.commands,
            "essential": self.essential,
            "when": self.when,
            "status": self.status,
            "via": self.via,
            "grant": self.grant,
        }


@dataclass
class SidePermissions:
    side: str
    bootstrap: str
    principal: str | None
    method: str  # "acls", "tries", "no authorizer"
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "bootstrap": self.bootstrap,
            "principal": self.principal,
            "method": self.method,
            "note": self.note,
        }


@dataclass
class PermissionsResult:
    sides: list[SidePermissions] = field(default_factory=list)
    rows: list[PermissionRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _essential(self, status: str) -> list[PermissionRow]:
        return [r for r in self.rows if r.essential and r.status == status]

    @property
    def missing(self) -> list[PermissionRow]:
        return self._essential(MISSING)

    @property
    def unverified(self) -> list[PermissionRow]:
        return self._essential(UNVERIFIED)

    @property
    def ok(self) -> bool:
        """No essential need is missing."""
        return not self.missing

    @property
    def complete(self) -> bool:
        """Every essential need was verified (by the ACLs or a try)."""
        return not self.unverified

    def grants(self, *, essential: bool = True) -> list[str]:
        """One ``kafka-acls`` line per missing resource (its operations together): of the
        essential needs, or (``essential=False``) of the optional ones."""
        out: dict[tuple[str, Resource], list[PermissionRow]] = {}
        for r in self.rows:
            if r.status == MISSING and r.essential == essential:
                out.setdefault((r.side, r.resource), []).append(r)
        lines = []
        for (side, res), rows in out.items():
            s = next(x for x in self.sides if x.side == side)
            lines.append(
                kafka_acls_line(
                    s.bootstrap,
                    s.principal or "User:<connshift's principal>",
                    res,
                    [r.operation for r in rows],
                )
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ok": self.ok,
            "complete": self.complete,
            "missing": len(self.missing),
            "unverified": len(self.unverified),
            "sides": [s.to_json() for s in self.sides],
            "rows": [r.to_json() for r in self.rows],
            "grants": self.grants(),
            "optional_grants": self.grants(essential=False),
            "notes": self.notes,
        }


# --------------------------------------------------------------------------- principals


def principals_of(kafka: KafkaSpec) -> list[str]:
    """The principal(s) a cluster may see us as: ``User:<sasl user>``; for a client
    certificate its CN and its whole DN (which one depends on the broker's
    ``ssl.principal.mapping.rules``); ``User:ANONYMOUS`` without either. Empty when the
    principal cannot be known here (OAUTHBEARER: the token's subject)."""
    protocol = kafka.security_protocol
    if kafka.sasl is not None:
        if kafka.sasl.username is None:
            return []
        return [f"User:{kafka.sasl.username}"]
    if protocol == "SSL" and kafka.tls is not None and kafka.tls.cert_file:
        try:
            from cryptography import x509
            from cryptography.x509.oid import NameOID

            with open(kafka.tls.cert_file, "rb") as fh:
                cert = x509.load_pem_x509_certificate(fh.read())
        except (OSError, ValueError):
            return []
        dn = cert.subject.rfc4514_string()
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        out = [f"User:{cns[0].value!s}"] if cns else []
        return [*out, f"User:{dn}"]
    return ["User:ANONYMOUS"]


# --------------------------------------------------------------------------- resolution


class _Resolver:
    """The needs' targets as concrete resources of one spec and its clusters."""

    def __init__(
        self,
        spec: Spec,
        src: KafkaCluster,
        notes: list[str],
        topics: Sequence[str] | None = None,
    ) -> None:
        self.spec, self.src, self.notes = spec, src, notes
        self._topics: list[str] | None = None if topics is None else sorted(topics)
        self._groups: list[str] | None = None

    def topics(self) -> list[str]:
        if self._topics is None:
            from connshift.app.sync import select_topics

            self._topics = select_topics(list(self.src.topics()), self.spec)
            if not self._topics:
                self.notes.append(
                    "no topic in scope is visible on the source (Metadata shows only the "
                    "topics a principal may DESCRIBE): topic rows are left out"
                )
        return self._topics

    def groups(self) -> list[str]:
        if self._groups is None:
            wanted = set(self.topics())
            out = []
            try:
                for g in self.src.groups():
                    if g.startswith("connshift-"):
                        continue
                    if any(t in wanted for t, _ in self.src.group_offsets(g)):
                        out.append(g)
            except KafkaAccessDenied as exc:
                self.notes.append(f"the source's groups could not be read: {exc.one_line()}")
            self._groups = out
        return self._groups

    def resolve(self, target: str) -> list[Resource]:
        kind = TARGETS[target][0]
        spec = self.spec
        names: list[str]
        if target == "topics":
            names = self.topics()
        elif target == "dst-topics":
            names = sorted({spec.topics.destination_name(t) for t in self.topics()})
        elif target == "map-topic":
            names = [MAP_TOPIC]
        elif target == "connect-topics":
            names = list(CONNECT_TOPICS)
        elif target == "groups":
            names = self.groups()
        elif target == "sync-group":
            names = [f"connshift-sync-{spec.name}"]
        elif target == "repoint-group":
            names = [f"connshift-repoint-{spec.name}"]
        elif target in ("probe-topics", "probe-groups", "probe-txn"):
            return [Resource(kind, PROBE_PREFIX, "PREFIXED")]
        elif target == "cluster":
            names = [CLUSTER_NAME]
        else:  # pragma: no cover - TARGETS and this list go together
            raise ValueError(target)
        return [Resource(kind, n) for n in names]


def _rows(resolver: _Resolver, commands: Sequence[str] | None = None) -> list[PermissionRow]:
    """One row per (side, resource, operation), with the commands that need it (of
    ``commands``; default every command)."""
    rows: dict[tuple[str, Resource, str], PermissionRow] = {}
    for need in NEEDS:
        if commands is not None and need.command not in commands:
            continue
        for res in resolver.resolve(need.target):
            for op in need.operations:
                key = (need.side, res, op)
                row = rows.get(key)
                if row is None:
                    row = rows[key] = PermissionRow(need.side, res, op, [], essential=False)
                if need.command not in row.commands:
                    row.commands.append(need.command)
                if need.when is None:
                    row.essential, row.when = True, None
                elif not row.essential:
                    row.when = row.when or need.when
    order = {s: i for i, s in enumerate(SIDES)}
    return sorted(
        rows.values(), key=lambda r: (order[r.side], r.resource.resource_type, r.resource.name)
    )


# --------------------------------------------------------------------------- verification


def _try(cluster: KafkaCluster, row: PermissionRow) -> tuple[bool, str] | None:
    res = row.resource
    name = res.name + _TRY_SUFFIX if res.pattern_type == "PREFIXED" else res.name
    return cluster.try_access(res.resource_type, name, row.operation)


def _serves_describe_acls(kafka: KafkaSpec, bootstrap: str) -> bool:
    """Whether the cluster serves DescribeAcls, asked with ApiVersions first: librdkafka
    aborts the whole process on some partial implementations' answers (tansu 0.6)."""
    from connshift.app.acls import ACL_APIS
    from connshift.app.rawsecurity import raw_security, raw_unsupported
    from connshift.io.kafka_wire import api_versions

    if raw_unsupported(kafka) is not None:
        return True  # not askable without librdkafka: assume Kafka's
    describe = next(k for k, name in ACL_APIS.items() if name == "DescribeAcls")
    return describe in api_versions(bootstrap, security=raw_security(kafka)).api_keys


def _verify_side(
    side: SidePermissions,
    cluster: KafkaCluster,
    candidates: list[str],
    rows: list[PermissionRow],
    kafka: KafkaSpec | None = None,
) -> None:
    acls: list[Acl] | None = None
    try:
        if kafka is not None and not _serves_describe_acls(kafka, cluster.bootstrap):
            side.method = "tries"
            side.note = (
                "the cluster does not serve DescribeAcls: verified by harmless tries; "
                "READ, WRITE, DELETE and ALTER cannot be tried"
            )
        else:
            acls = cluster.acls()
    except KafkaAccessDenied:
        side.method = "tries"
        side.note = (
            "the principal may not DescribeAcls (CLUSTER DESCRIBE): verified by harmless "
            "tries; READ, WRITE, DELETE and ALTER cannot be tried"
        )
    except KafkaError as exc:
        if exc.why != "SECURITY_DISABLED":
            raise
        side.method = "no authorizer"
        side.note = "the cluster has no authorizer: every request is allowed"
        for r in rows:
            r.status, r.via = GRANTED, "no authorizer"
        return
    if acls is not None:
        side.method = "acls"
        mentioned = [p for p in candidates if any(a.principal == p for a in acls)]
        side.principal = next(iter(mentioned or candidates), None)
        if not mentioned:
            side.note = (
                f"no ACL names {side.principal or 'this principal'}: what the ACLs do not grant "
                "is tried (a super user holds rights no ACL shows)"
            )
    # a try let through what no ACL grants: the authorizer grants more than its ACLs show
    beyond_acls = False
    for r in rows:
        if acls is not None and side.principal is not None:
            d = decide(acls, [side.principal], r.resource, r.operation)
            if d.allowed:
                r.status, r.via = GRANTED, f"ACL: {d.via}"
                continue
            if d.via.startswith("denied"):
                r.status, r.via = MISSING, f"ACL: {d.via}"
                continue
        tried = _try(cluster, r)
        if tried is None:
            r.status = MISSING if acls is not None and side.principal else UNVERIFIED
            r.via = (
                "ACL: no ACL grants it (no harmless try for " + r.operation + ")"
                if r.status == MISSING
                else f"not verified: no harmless try for {r.operation}"
            )
            continue
        allowed, how = tried
        if allowed:
            r.status = GRANTED
            if acls is not None:
                beyond_acls = True
                r.via = f"tried {how}: allowed though no ACL grants it"
            else:
                r.via = f"tried {how}: allowed"
        else:
            r.status, r.via = MISSING, f"tried {how}: refused"
    if beyond_acls:
        # a super user or allow.everyone.if.no.acl.found: what could not be tried is unknown
        for r in rows:
            if r.status == MISSING and "no harmless try" in r.via:
                r.status = UNVERIFIED
                r.via = (
                    f"not verified: no harmless try for {r.operation}, and the authorizer "
                    "allowed other requests no ACL grants (a super user?)"
                )
    if side.principal is None and side.method == "tries":
        side.principal = candidates[0] if candidates else None


def check_permissions(
    spec: Spec,
    report: Reporter | None = None,
    *,
    commands: Sequence[str] | None = None,
    topics: Sequence[str] | None = None,
) -> PermissionsResult:
    """Verify every need of every command (or of ``commands``) for the spec's principals,
    over the spec's topics (or ``topics``: one connector's); changes nothing."""
    result = PermissionsResult()
    clusters = {
        "source": KafkaCluster(spec.source.kafka.client_config(), name="source"),
        "destination": KafkaCluster(spec.destination.kafka.client_config(), name="destination"),
    }
    try:
        resolver = _Resolver(spec, clusters["source"], result.notes, topics)
        result.rows = _rows(resolver, commands)
        for side_name in SIDES:
            kafka = getattr(spec, side_name).kafka
            candidates = principals_of(kafka)
            side = SidePermissions(
                side_name,
                clusters[side_name].bootstrap,
                candidates[0] if candidates else None,
                "acls",
            )
            result.sides.append(side)
            if report:
                report(f"verifying {side_name} permissions of {side.principal or 'connshift'}")
            rows = [r for r in result.rows if r.side == side_name]
            _verify_side(side, clusters[side_name], candidates, rows, kafka)
        for r in result.rows:
            if r.status == MISSING:
                side = next(s for s in result.sides if s.side == r.side)
                r.grant = kafka_acls_line(
                    side.bootstrap,
                    side.principal or "User:<connshift's principal>",
                    r.resource,
                    [r.operation],
                )
    finally:
        for c in clusters.values():
            c.close()
    return result
