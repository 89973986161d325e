"""``connshift acls diff|apply``: the ACLs of the migrated topics and groups.

Source ACLs that cover a migrated topic or a group reading one are mapped (topic
rename/prefix, ``--principal-map``) and compared with the destination's;
``apply`` creates the missing ones. Nothing is ever deleted on the destination.
What the destination cannot hold as it is becomes a finding (see
:func:`connshift.core.acls.carry`), in the result and in the ``acls`` evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connshift.app.context import Migration
from connshift.app.sync import select_topics
from connshift.core.acls import (
    Acl,
    AclDiff,
    Carried,
    Finding,
    Listener,
    Target,
    carry,
    diff,
    relevant,
)
from connshift.core.spec import Spec
from connshift.core.spec.models import KafkaSpec
from connshift.errors import ConfigError, KafkaNoAuthorizer

_PRINCIPAL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*:.+$")


def load_principal_map(path: Path | None) -> dict[str, str]:
    """A YAML mapping ``User:old: User:new`` (one line an entry)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read the principal map {path}", why=str(exc).splitlines()[0]
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(
            f"{path}: the principal map must be a mapping of principal to principal",
            fix="write lines such as `User:billing: User:billing-svc`",
        )
    bad = [p for pair in data.items() for p in pair if not _PRINCIPAL.match(p)]
    if bad:
        raise ConfigError(
            f"{path}: {bad[0]!r} is not a principal",
            why="a principal is TYPE:NAME, such as User:billing or User:CN=billing",
            fix="write each side of an entry with its type, e.g. `User:app: User:CN=app`",
        )
    return dict(data)


@dataclass
class AclsResult:
    """The comparison, the findings, and what ``apply`` created."""

    source_relevant: list[Acl]
    diff: AclDiff
    carried: Carried = field(default_factory=Carried)
    target: Target = field(default_factory=Target)
    created: list[Acl] = field(default_factory=list)
    dry_run: bool = False

    @property
    def findings(self) -> list[Finding]:
        return self.carried.findings

    @property
    def ok(self) -> bool:
        """Every relevant source ACL is on the destination (exactly or in another form)."""
        return not self.diff.missing and not self.carried.not_carried

    def to_json(self) -> dict[str, Any]:
        def rows(acls: list[Acl]) -> list[dict[str, str]]:
            return [a.__dict__ for a in acls]

        return {
            "schema": "connshift.acls/1",
            "dry_run": self.dry_run,
            "destination": {
                "listener": self.target.listener.value,
                "acl_api": self.target.acl_api,
                "acl_api_missing": list(self.target.acl_api_missing),
                "authorizer": self.target.authorizer,
                "prefixed_patterns": self.target.prefixed,
            },
            "source_relevant": rows(self.source_relevant),
            "missing_on_destination": rows(self.diff.missing),
            "present_on_destination": rows(self.diff.present),
            "extra_on_destination": rows(self.diff.extra),
            "findings": [f.to_json() for f in self.carried.findings],
            "not_carried": len(self.carried.not_carried),
            "created": rows(self.created),
        }


#: a platform that serves only part of these is a partial implementation: librdkafka aborts
#: the whole process on some of their answers (seen with tansu 0.6), so none is asked
ACL_APIS = {29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls"}


def listener_of(kafka: KafkaSpec) -> Listener:
    """How the spec's listener authenticates clients (a client certificate configured in
    ``tls`` or ``client_config`` means mTLS)."""
    protocol = kafka.security_protocol
    if protocol.startswith("SASL_"):
        return Listener.SASL
    if protocol == "SSL":
        cert = (kafka.tls is not None and kafka.tls.cert_file is not None) or any(
            k in kafka.extra_config for k in ("ssl.certificate.location", "ssl.certificate.pem")
        )
        return Listener.MTLS if cert else Listener.TLS
    return Listener.PLAINTEXT


def _target(spec: Spec, bootstrap: str) -> Target:
    """What the destination can hold: its listener kind, whether it serves the ACL API
    (librdkafka aborts the whole process on some partial implementations' answers, seen
    with tansu 0.6, so this is asked first) and PREFIXED patterns (CreateAcls v1+)."""
    from connshift.app.rawsecurity import raw_security, raw_unsupported

    kafka = spec.destination.kafka
    listener = listener_of(kafka)
    if raw_unsupported(kafka) is not None:
        return Target(listener=listener)  # not askable without librdkafka: assume Kafka's
    from connshift.io.kafka_wire import api_versions

    served = api_versions(bootstrap, security=raw_security(kafka)).api_keys
    missing = tuple(name for key, name in ACL_APIS.items() if key not in served)
    if missing:
        return Target(listener=listener, acl_api=False, acl_api_missing=missing)
    return Target(listener=listener, prefixed=served[30][1] >= 1)


def compare(
    migration: Migration, principal_map: Path | None = None, *, record: bool = True
) -> AclsResult:
    """Map the source ACLs of migrated topics/groups and compare with the destination;
    recorded as ``acls`` evidence."""
    spec, src, dst = migration.spec, migration.src, migration.dst
    principals = load_principal_map(principal_map)
    target = _target(spec, dst.bootstrap)
    destination: list[Acl] = []
    if target.acl_api:
        try:
            destination = dst.acls()
        except KafkaNoAuthorizer:
            target = Target(listener=target.listener, authorizer=False)
    topics = select_topics(list(src.topics()), spec)
    groups = [g for g in src.groups() if any(t in topics for t, _ in src.group_offsets(g))]
    source_acls = relevant(src.acls(), topics, groups)
    carried = carry(
        source_acls,
        topics=topics,
        groups=groups,
        topic_name=spec.topics.destination_name,
        topic_prefix=spec.topics.prefix,
        principals=principals,
        target=target,
    )
    compared = diff(
        carried.wanted,
        destination,
        topics=[spec.topics.destination_name(t) for t in topics],
        groups=groups,
    )
    result = AclsResult(source_relevant=source_acls, diff=compared, carried=carried, target=target)
    if record:
        migration.record("acls", result.to_json())
    return result


def apply(
    migration: Migration, principal_map: Path | None = None, *, dry_run: bool = False
) -> AclsResult:
    """Create on the destination the mapped ACLs it lacks; what the destination holds
    afterwards is recorded as ``acls`` evidence (a dry run records nothing). Findings
    are carried over as they are: nothing is created for an ACL that is not carried."""
    result = compare(migration, principal_map, record=False)
    result.dry_run = dry_run
    if not dry_run and result.diff.missing:
        migration.dst.create_acls(result.diff.missing)
    if not dry_run:
        compare(migration, principal_map)  # the state after: what the scorecard reads
    result.created = list(result.diff.missing)
    return result
