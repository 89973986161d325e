"""ACLs of migrated topics and groups: which apply, how they map, what is missing.

Pure: ACL entries come in as :class:`Acl` values read by ``io.kafka``. An ACL is
relevant when its resource pattern covers a migrated topic (or a group read by
the migration): a LITERAL name, a PREFIXED pattern that is a prefix of one, or
the ``*`` wildcard. Topic names are mapped like the topics (rename, prefix);
principals through an optional principal map (``User:old`` -> ``User:new``).

:func:`carry` is the whole decision: every relevant source ACL ends up either in
the destination ACLs wanted (exactly, or in another form) or in a :class:`Finding`
that says what could not be carried, why and what to do — never silently dropped.
DENY entries and host restrictions are carried like ALLOW entries. A principal is
carried whole or not at all (all of its ACLs share the principal's fate), so leaving
a DENY behind never leaves its principal's ALLOW entries to grant more than on the
source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class AclDiff:
    """What the destination lacks, and what it has beyond the source (never removed)."""

    missing: list[Acl]
    present: list[Acl]
    extra: list[Acl]


def diff(
    wanted: Iterable[Acl],
    destination: Iterable[Acl],
    *,
    topics: Iterable[str] | None = None,
    groups: Iterable[str] = (),
) -> AclDiff:
    """Compare the mapped source ACLs with the destination's.

    ``extra`` is what the destination holds beyond ``wanted``; given the destination's
    names of the migrated ``topics`` (and the ``groups``), only the extra ACLs covering
    them — not every other principal's ACLs on unrelated resources.
    """
    want, have = set(wanted), set(destination)
    beyond = have - want
    if topics is not None:
        beyond = set(relevant(beyond, topics, groups))
    return AclDiff(missing=sorted(want - have), present=sorted(want & have), extra=sorted(beyond))


# ---------------------------------------------------------------------------- carrying


ANONYMOUS = "User:ANONYMOUS"
#: a principal named like an X.500 distinguished name: what an mTLS listener with the
#: DEFAULT ``ssl.principal.mapping.rules`` makes of a client certificate
_DN = re.compile(r"^User:(CN|OU|O|L|ST|C|DC|UID|EMAILADDRESS)=", re.IGNORECASE)


class Listener(StrEnum):
    """How clients authenticate on the destination listener the spec names."""

    PLAINTEXT = "plaintext"  # nobody authenticates: every client is User:ANONYMOUS
    TLS = "tls"  # encrypted, no client certificate: User:ANONYMOUS too
    MTLS = "mtls"  # client certificate: the principal comes from its subject
    SASL = "sasl"  # SASL: the principal is the SASL user

    @property
    def authenticated(self) -> bool:
        return self in (Listener.MTLS, Listener.SASL)


@dataclass(frozen=True)
class Target:
    """What connshift knows of the destination's ability to hold ACLs."""

    listener: Listener = Listener.PLAINTEXT
    #: it serves the ACL API (DescribeAcls, CreateAcls, DeleteAcls)
    acl_api: bool = True
    #: the ACL API's requests it does not serve, when it serves only part
    acl_api_missing: tuple[str, ...] = ()
    #: an authorizer is configured (a broker without one answers SECURITY_DISABLED)
    authorizer: bool = True
    #: CreateAcls v1+ (Kafka 2.0, KIP-290): PREFIXED patterns can be expressed
    prefixed: bool = True


@dataclass(frozen=True)
class Finding:
    """A source ACL the destination does not get exactly as it is: what, why, what to do,
    and what was carried instead (nothing, or literal ACLs for a pattern)."""

    id: str
    acl: Acl
    what: str
    why: str
    fix: str
    carried: tuple[Acl, ...] = ()

    @property
    def outcome(self) -> str:
        if not self.carried:
            return "not carried"
        return f"carried as {len(self.carried)} literal ACL(s)"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "acl": self.acl.__dict__,
            "what": self.what,
            "why": self.why,
            "fix": self.fix,
            "outcome": self.outcome,
            "carried": [a.__dict__ for a in self.carried],
        }


@dataclass(frozen=True)
class Carried:
    """The destination ACLs that carry the source's, and the findings."""

    wanted: list[Acl] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def not_carried(self) -> list[Finding]:
        """The findings whose source ACL has no counterpart on the destination at all."""
        return [f for f in self.findings if not f.carried]


def _principal_finding(acl: Acl, target: Target) -> Finding | None:
    """A principal the principal map does not cover, which the destination listener
    makes meaningless (only what can be told from the spec: its security protocol)."""
    kind = target.listener.value.upper().replace("MTLS", "mTLS")
    if acl.principal == ANONYMOUS and target.listener.authenticated:
        return Finding(
            "acls.principal.anonymous",
            acl,
            f"{acl.describe()}: not carried",
            f"the destination listener authenticates every client ({kind}), so no client "
            "is User:ANONYMOUS there; carried unchanged it would grant nobody anything, or "
            "anonymous clients of another, unauthenticated listener",
            "map User:ANONYMOUS in --principal-map to the principal those clients "
            "authenticate as (or to itself to carry it as it is)",
        )
    if _DN.match(acl.principal) and target.listener is Listener.SASL:
        return Finding(
            "acls.principal.certificate-on-sasl",
            acl,
            f"{acl.describe()}: not carried",
            "the principal is a certificate's distinguished name, but on the destination "
            "listener (SASL) a principal is a SASL user name",
            f"map {acl.principal} in --principal-map to the SASL user those clients use",
        )
    return None


def carry(
    source: Iterable[Acl],
    *,
    topics: Iterable[str],
    groups: Iterable[str],
    topic_name: Callable[[str], str],
    topic_prefix: str,
    principals: Mapping[str, str],
    target: Target,
) -> Carried:
    """The destination's version of each relevant ``source`` ACL, or a finding.

    ``topics`` and ``groups`` are the migrated ones (source names). A PREFIXED topic
    pattern becomes ``topic_prefix`` + pattern; the migrated topics it covers whose
    destination name that pattern does not cover (renamed ones) get a LITERAL ACL each,
    and a finding. A destination that cannot express PREFIXED patterns gets a LITERAL
    ACL per covered topic or group instead, with a finding. A destination without an
    authorizer or an ACL API gets nothing, and a finding per ACL.
    """
    topics, groups = list(topics), list(groups)
    out = Carried()
    for acl in sorted(set(source)):
        if not target.acl_api or not target.authorizer:
            out.findings.append(_no_acls(acl, target))
            continue
        if acl.principal in principals:
            principal = principals[acl.principal]
        else:
            found = _principal_finding(acl, target)
            if found is not None:
                out.findings.append(found)
                continue
            principal = acl.principal
        mapped = replace(acl, principal=principal)
        if acl.pattern_type != "PREFIXED" or acl.name == "*":
            name = acl.name
            if acl.resource_type == "TOPIC" and name != "*":
                name = topic_name(name)
            out.wanted.append(replace(mapped, name=name))
            continue
        names = topics if acl.resource_type == "TOPIC" else groups
        covered = sorted(n for n in names if n.startswith(acl.name))
        rename = topic_name if acl.resource_type == "TOPIC" else (lambda n: n)
        pattern = topic_prefix + acl.name if acl.resource_type == "TOPIC" else acl.name
        if not target.prefixed:
            literals = tuple(
                replace(mapped, name=rename(n), pattern_type="LITERAL") for n in covered
            )
            out.wanted.extend(literals)
            out.findings.append(
                Finding(
                    "acls.prefixed.unsupported",
                    acl,
                    f"{acl.describe()}: carried as literal ACLs on the "
                    f"{len(covered)} migrated {acl.resource_type.lower()}(s) it covers",
                    "the destination's CreateAcls API predates PREFIXED patterns (KIP-290)",
                    f"a {acl.resource_type.lower()} created later under {pattern!r} is not "
                    "covered: grant it there yourself",
                    literals,
                )
            )
            continue
        out.wanted.append(replace(mapped, name=pattern))
        renamed = [n for n in covered if not rename(n).startswith(pattern)]
        if renamed:
            literals = tuple(
                replace(mapped, name=rename(n), pattern_type="LITERAL") for n in renamed
            )
            out.wanted.extend(literals)
            shown = ", ".join(f"{n} -> {rename(n)}" for n in renamed[:5])
            more = f" and {len(renamed) - 5} more" if len(renamed) > 5 else ""
            out.findings.append(
                Finding(
                    "acls.prefixed.renamed",
                    acl,
                    f"{acl.describe()}: carried as the pattern {pattern!r} plus literal "
                    f"ACLs on {len(renamed)} renamed topic(s)",
                    f"the pattern cannot cover a topic renamed out of it ({shown}{more})",
                    "rename within the pattern, or grant a prefixed ACL for the new names "
                    "yourself if topics will be created under them",
                    literals,
                )
            )
    out.wanted[:] = sorted(set(out.wanted))
    return out


def _no_acls(acl: Acl, target: Target) -> Finding:
    if not target.acl_api:
        return Finding(
            "acls.destination.no-acl-api",
            acl,
            f"{acl.describe()}: not carried",
            "the destination does not serve the ACL API ("
            + (
                "missing " + ", ".join(target.acl_api_missing)
                if target.acl_api_missing
                else "DescribeAcls, CreateAcls, DeleteAcls"
            )
            + ")",
            "grant the equivalent access with that platform's own tools",
        )
    return Finding(
        "acls.destination.no-authorizer",
        acl,
        f"{acl.describe()}: not carried",
        "the destination has no authorizer: it keeps no ACLs and lets every client do everything",
        "configure an authorizer on the destination (authorizer.class.name), then run "
        "`connshift acls apply` again",
    )
