"""``connshift acls diff|apply``: the ACLs of the migrated topics and groups.

Source ACLs that cover a migrated topic or a group reading one are mapped (topic
rename/prefix, ``--principal-map``) and compared with the destination's;
``apply`` creates the missing ones. Nothing is ever deleted on the destination.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connshift.app.context import Migration
from connshift.app.sync import select_topics
from connshift.core.acls import Acl, AclDiff, diff, map_acl, relevant
from connshift.core.spec import Spec
from connshift.errors import ConfigError, KafkaError


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
    return dict(data)


@dataclass
class AclsResult:
    """The comparison, and what ``apply`` created."""

    source_relevant: list[Acl]
    diff: AclDiff
    created: list[Acl] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        def rows(acls: list[Acl]) -> list[dict[str, str]]:
            return [a.__dict__ for a in acls]

        return {
            "schema": "connshift.acls/1",
            "dry_run": self.dry_run,
            "source_relevant": rows(self.source_relevant),
            "missing_on_destination": rows(self.diff.missing),
            "present_on_destination": rows(self.diff.present),
            "created": rows(self.created),
        }


ACL_APIS = {29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls"}


def _check_acl_api(spec: Spec, bootstrap: str) -> None:
    """Refuse a cluster that does not serve the ACL API: librdkafka aborts the whole
    process on some partial implementations' answers (seen with tansu 0.6)."""
    from connshift.app.rawsecurity import raw_security, raw_unsupported

    kafka = spec.destination.kafka
    if raw_unsupported(kafka) is not None:
        return
    from connshift.io.kafka_wire import api_versions

    served = api_versions(bootstrap, security=raw_security(kafka)).api_keys
    missing = [name for key, name in ACL_APIS.items() if key not in served]
    if missing:
        raise KafkaError(
            f"the destination at {bootstrap} does not serve the ACL API",
            why="missing " + ", ".join(missing),
            fix="manage access on that platform with its own tools; nothing was changed",
            cluster="destination",
        )


def compare(
    migration: Migration, principal_map: Path | None = None, *, record: bool = True
) -> AclsResult:
    """Map the source ACLs of migrated topics/groups and compare with the destination;
    recorded as ``acls`` evidence."""
    spec, src, dst = migration.spec, migration.src, migration.dst
    _check_acl_api(spec, dst.bootstrap)
    principals = load_principal_map(principal_map)
    topics = select_topics(list(src.topics()), spec)
    groups = [g for g in src.groups() if any(t in topics for t, _ in src.group_offsets(g))]
    source_acls = relevant(src.acls(), topics, groups)
    wanted = [
        map_acl(a, spec.topics.destination_name, spec.topics.prefix, principals)
        for a in source_acls
    ]
    result = AclsResult(source_relevant=source_acls, diff=diff(wanted, dst.acls()))
    if record:
        migration.record("acls", result.to_json())
    return result


def apply(
    migration: Migration, principal_map: Path | None = None, *, dry_run: bool = False
) -> AclsResult:
    """Create on the destination the mapped ACLs it lacks; what the destination holds
    afterwards is recorded as ``acls`` evidence (a dry run records nothing)."""
    result = compare(migration, principal_map, record=False)
    result.dry_run = dry_run
    if not dry_run and result.diff.missing:
        migration.dst.create_acls(result.diff.missing)
    if not dry_run:
        compare(migration, principal_map)  # the state after: what the scorecard reads
    result.created = list(result.diff.missing)
    return result
