"""ACLs of migrated topics and groups: which apply, how they map, what is missing.

Pure: ACL entries come in as :class:`Acl` values read by ``io.kafka``. An ACL is
relevant when its resource pattern covers a migrated topic (or a group read by
the migration): a LITERAL name, a PREFIXED pattern that is a prefix of one, or
the ``*`` wildcard. Topic names are mapped like the topics (rename, prefix);
principals through an optional principal map (``User:old`` -> ``User:new``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True, order=True)
class Acl:
    """One ACL binding: resource pattern plus access control entry."""

    resource_type: str  # TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, ...
    name: str
    pattern_type: str  # LITERAL, PREFIXED
    principal: str
    host: str
    operation: str
    permission: str  # ALLOW, DENY

    def describe(self) -> str:
        pattern = "" if self.pattern_type == "LITERAL" else f" ({self.pattern_type.lower()})"
        return (
            f"{self.permission} {self.principal} {self.operation} on "
            f"{self.resource_type.lower()} {self.name}{pattern} from {self.host}"
        )


def _covers(acl: Acl, names: Iterable[str]) -> bool:
    if acl.name == "*":
        return True
    if acl.pattern_type == "PREFIXED":
        return any(n.startswith(acl.name) for n in names)
    return acl.name in set(names)


def relevant(acls: Iterable[Acl], topics: Iterable[str], groups: Iterable[str]) -> list[Acl]:
    """The ACLs that apply to the migrated topics and groups."""
    topics, groups = list(topics), list(groups)
    out = []
    for acl in acls:
        names = {"TOPIC": topics, "GROUP": groups}.get(acl.resource_type)
        if names is not None and _covers(acl, names):
            out.append(acl)
    return sorted(set(out))


def map_acl(
    acl: Acl,
    topic_name: Callable[[str], str],
    topic_prefix: str,
    principals: Mapping[str, str],
) -> Acl:
    """The destination's version of ``acl``: topic names and principals mapped."""
    name = acl.name
    if acl.resource_type == "TOPIC" and name != "*":
        name = topic_name(name) if acl.pattern_type == "LITERAL" else topic_prefix + name
    return replace(acl, name=name, principal=principals.get(acl.principal, acl.principal))


@dataclass(frozen=True)
class AclDiff:
    """What the destination lacks, and what it has beyond the source (never removed)."""

    missing: list[Acl]
    present: list[Acl]
    extra: list[Acl]


def diff(wanted: Iterable[Acl], destination: Iterable[Acl]) -> AclDiff:
    """Compare the mapped source ACLs with the destination's."""
    want, have = set(wanted), set(destination)
    return AclDiff(
        missing=sorted(want - have), present=sorted(want & have), extra=sorted(have - want)
    )
