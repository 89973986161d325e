"""Least privilege as data: what each command needs of each cluster, and whether ACLs grant it.

:data:`NEEDS` is the table the README shows (:func:`markdown_table` renders it; a unit test
keeps the README equal to it): for each command and side, the (resource, operation) pairs
the command's Kafka calls need under an authorizer. Resources are named by *target* — "the
topics in scope", "their destination names", ``connshift.offset-maps``, connshift's own
groups — which :mod:`connshift.app.permissions` resolves against a spec and the clusters.

How Kafka maps calls to ACLs (what the table follows): Metadata and ListOffsets need
DESCRIBE on the topic, Fetch READ, Produce WRITE (and, since Kafka 3.0, an idempotent
producer needs nothing more: KIP-679), DescribeConfigs DESCRIBE_CONFIGS, CreateTopics CREATE
on the topic (or the cluster), DeleteTopics DELETE; OffsetFetch DESCRIBE on the group,
OffsetCommit READ on the group and the topic, joining a group READ, DeleteGroups DELETE;
DescribeAcls, DescribeLogDirs and listing every group DESCRIBE on the cluster, CreateAcls
ALTER on it.

:func:`decide` evaluates one need against ACL bindings as Kafka's StandardAuthorizer does:
a DENY that matches wins; an ALLOW of READ, WRITE, DELETE or ALTER implies DESCRIBE, one of
ALTER_CONFIGS implies DESCRIBE_CONFIGS, ALL implies everything; ``User:*`` and the ``*``
resource name match anyone and anything; a PREFIXED pattern covers the names it prefixes.
A super user's rights are not in the ACLs: the app confirms what the ACLs do not grant by
a harmless try where one exists.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from connshift.core.acls import Acl

SCHEMA = "connshift.permissions/1"
CLUSTER_NAME = "kafka-cluster"
SIDES = ("source", "destination")

#: (resource type, how the README names it) of each target a need can name
TARGETS: dict[str, tuple[str, str]] = {
    "topics": ("TOPIC", "the topics in scope"),
    "dst-topics": ("TOPIC", "their destination names"),
    "map-topic": ("TOPIC", "`connshift.offset-maps`"),
    "connect-topics": ("TOPIC", "Connect's internal topics (`connect-configs|offsets|status`)"),
    "probe-topics": ("TOPIC", "`connshift-probe-*`"),
    "groups": ("GROUP", "the groups that read the topics in scope"),
    "sync-group": ("GROUP", "`connshift-sync-<spec name>`"),
    "repoint-group": ("GROUP", "`connshift-repoint-<spec name>`"),
    "probe-groups": ("GROUP", "`connshift-probe-*`"),
    "probe-txn": ("TRANSACTIONAL_ID", "`connshift-probe-*`"),
    "cluster": ("CLUSTER", "the cluster"),
}


@dataclass(frozen=True)
class Need:
    """One command needs ``operations`` on ``target`` of the ``side`` cluster.

    ``when`` is set when only a mode of the command needs it (``--reverse``, an optional
    probe check): such a need is reported, but its absence does not fail the check."""

    command: str
    side: str
    target: str
    operations: tuple[str, ...]
    why: str
    when: str | None = None

    @property
    def resource_type(self) -> str:
        return TARGETS[self.target][0]


def _n(command: str, side: str, target: str, ops: str, why: str, when: str | None = None) -> Need:
    return Need(command, side, target, tuple(ops.split()), why, when)


_S, _D = "source", "destination"


def _sync(command: str) -> list[Need]:
    """What a copy needs (both engines: the raw engine speaks Fetch/Produce itself, the
    record engine through librdkafka; both keep the source group's membership)."""
    return [
        _n(command, _S, "topics", "DESCRIBE DESCRIBE_CONFIGS READ", "list, configs, fetch"),
        _n(command, _S, "sync-group", "READ DESCRIBE", "the copy's consumer group"),
        _n(
            command,
            _D,
            "dst-topics",
            "CREATE DESCRIBE WRITE READ",
            "create (validate_only first), produce, reconcile the tail",
        ),
        _n(command, _D, "map-topic", "CREATE DESCRIBE WRITE READ", "mirror the offset maps"),
    ]


#: Every command's needs, in the order of the user's journey.
NEEDS: tuple[Need, ...] = (
    _n(
        "check --permissions",
        _S,
        "cluster",
        "DESCRIBE",
        "DescribeAcls (without it: harmless tries)",
        when="to read the ACLs; without it the check tries instead",
    ),
    _n(
        "check --permissions",
        _D,
        "cluster",
        "DESCRIBE",
        "DescribeAcls (without it: harmless tries)",
        when="to read the ACLs; without it the check tries instead",
    ),
    _n("inventory", _S, "topics", "DESCRIBE DESCRIBE_CONFIGS READ", "sizes, configs, samples"),
    _n("inventory", _S, "groups", "DESCRIBE", "committed offsets, members"),
    _n("inventory", _S, "cluster", "DESCRIBE", "every group, ACLs, log dirs"),
    _n(
        "probe",
        _D,
        "probe-topics",
        "CREATE DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS ALTER WRITE READ DELETE",
        "scratch topics: configs, partitions, records, cleanup",
    ),
    _n("probe", _D, "probe-groups", "READ DESCRIBE DELETE", "a scratch group"),
    _n("probe", _D, "probe-txn", "WRITE DESCRIBE", "a scratch transaction"),
    _n("probe", _D, "cluster", "DESCRIBE", "groups, ACLs"),
    _n(
        "probe",
        _D,
        "cluster",
        "ALTER",
        "create and delete one scratch ACL",
        when="only for the `acls.api` probe check",
    ),
    *_sync("sync"),
    _n("validate", _S, "topics", "DESCRIBE DESCRIBE_CONFIGS READ", "read the source side"),
    _n("validate", _D, "dst-topics", "DESCRIBE READ", "read the copy"),
    _n("validate", _D, "map-topic", "DESCRIBE READ", "the offset maps"),
    _n("validate", _D, "groups", "DESCRIBE", "resume positions"),
    _n("groups translate", _S, "topics", "DESCRIBE", "list topics"),
    _n("groups translate", _S, "groups", "DESCRIBE", "committed offsets"),
    _n("groups translate", _D, "map-topic", "DESCRIBE READ", "the offset maps"),
    _n("groups apply", _S, "topics", "DESCRIBE", "list topics"),
    _n("groups apply", _S, "groups", "DESCRIBE", "committed offsets"),
    _n("groups apply", _D, "map-topic", "DESCRIBE READ", "the offset maps"),
    _n("groups apply", _D, "groups", "DESCRIBE READ", "group state, commit offsets"),
    _n("groups apply", _D, "dst-topics", "DESCRIBE READ", "commit offsets on them"),
    _n(
        "groups apply --reverse",
        _S,
        "groups",
        "DESCRIBE READ",
        "commit positions back",
        when="only to move groups back",
    ),
    _n(
        "groups apply --reverse",
        _S,
        "topics",
        "DESCRIBE READ",
        "commit positions back",
        when="only to move groups back",
    ),
    _n(
        "groups apply --reverse",
        _D,
        "groups",
        "DESCRIBE",
        "destination positions",
        when="only to move groups back",
    ),
    _n("acls diff", _S, "cluster", "DESCRIBE", "DescribeAcls"),
    _n("acls diff", _S, "topics", "DESCRIBE", "list topics"),
    _n("acls diff", _S, "groups", "DESCRIBE", "which groups are migrated"),
    _n("acls diff", _D, "cluster", "DESCRIBE", "DescribeAcls"),
    _n(
        "acls apply",
        _D,
        "cluster",
        "ALTER",
        "CreateAcls",
        when="only to create ACLs as connshift; an admin can run the lines `acls diff` prints",
    ),
    _n("offsets", _D, "map-topic", "DESCRIBE READ", "the offset maps"),
    *_sync("cutover"),
    _n("cutover", _D, "dst-topics", "DESCRIBE READ", "verify the resumed connector"),
    _n("rollback", _S, "topics", "DESCRIBE WRITE", "copy back what the destination wrote"),
    _n("rollback", _D, "dst-topics", "DESCRIBE READ", "read what to copy back"),
    _n("rollback", _D, "map-topic", "DESCRIBE READ WRITE", "extend the offset maps"),
    *(
        Need(
            "cutover --repoint-workers",
            n.side,
            n.target,
            n.operations,
            n.why,
            "only to move Connect's workers",
        )
        for n in (
            *_sync("cutover --repoint-workers"),
            _n("-", _S, "connect-topics", "DESCRIBE DESCRIBE_CONFIGS READ", "copy Connect's state"),
            _n("-", _S, "repoint-group", "READ DESCRIBE", "the internal topics' copy group"),
            _n("-", _S, "groups", "DESCRIBE", "sink connectors' offsets"),
            _n(
                "-",
                _D,
                "connect-topics",
                "CREATE DESCRIBE WRITE READ",
                "create and fill Connect's state",
            ),
            _n("-", _D, "groups", "DESCRIBE READ", "commit sink connectors' offsets"),
        )
    ),
)

COMMANDS: tuple[str, ...] = tuple(dict.fromkeys(n.command for n in NEEDS))


def needs_of(command: str) -> list[Need]:
    return [n for n in NEEDS if n.command == command]


# --------------------------------------------------------------------------- the README table


def _cell(needs: Sequence[Need]) -> str:
    if not needs:
        return "—"
    parts = []
    for n in needs:
        kind, label = TARGETS[n.target]
        ops = ", ".join(n.operations)
        text = f"{kind} {label}: {ops}" if kind != "CLUSTER" else f"CLUSTER: {ops}"
        if n.when:
            text += f" (*{n.when}*)"
        parts.append(text)
    return "<br>".join(parts)


def markdown_table() -> str:
    """The README's permissions table: one row per command, a cell per side."""
    lines = ["| command | source | destination |", "|---|---|---|"]
    for command in COMMANDS:
        needs = needs_of(command)
        cells = [_cell([n for n in needs if n.side == side]) for side in SIDES]
        lines.append(f"| `{command}` | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, order=True)
class Resource:
    """A concrete resource: a LITERAL name, or every name under a PREFIXED one."""

    resource_type: str
    name: str
    pattern_type: str = "LITERAL"

    def describe(self) -> str:
        if self.resource_type == "CLUSTER":
            return "cluster"
        kind = self.resource_type.lower().replace("_", " ")
        return f"{kind} {self.name}" + ("*" if self.pattern_type == "PREFIXED" else "")


#: an ALLOW of the key also allows these operations (Kafka's implied operations)
_IMPLIES = {
    "DESCRIBE": ("DESCRIBE", "READ", "WRITE", "DELETE", "ALTER", "ALL"),
    "DESCRIBE_CONFIGS": ("DESCRIBE_CONFIGS", "ALTER_CONFIGS", "ALL"),
}


def _allows(acl_op: str, op: str) -> bool:
    return acl_op in _IMPLIES.get(op, (op, "ALL"))


def _applies_to_all(acl: Acl, res: Resource) -> bool:
    """Whether the binding's pattern covers every name ``res`` stands for."""
    if acl.resource_type != res.resource_type:
        return False
    if acl.name == "*" and acl.pattern_type == "LITERAL":
        return True
    if res.pattern_type == "PREFIXED":
        return acl.pattern_type == "PREFIXED" and res.name.startswith(acl.name)
    if acl.pattern_type == "PREFIXED":
        return res.name.startswith(acl.name)
    return acl.pattern_type == "LITERAL" and acl.name == res.name


def _applies_to_some(acl: Acl, res: Resource) -> bool:
    """Whether the binding's pattern covers at least one name ``res`` stands for."""
    if _applies_to_all(acl, res):
        return True
    if acl.resource_type != res.resource_type or res.pattern_type != "PREFIXED":
        return False
    return acl.name.startswith(res.name)


@dataclass(frozen=True)
class Decision:
    """What the ACLs say about one (resource, operation) for one principal."""

    allowed: bool
    via: str  # the binding that decided, or why none did


def decide(acls: Iterable[Acl], principals: Sequence[str], res: Resource, op: str) -> Decision:
    """Whether ``acls`` let any of ``principals`` do ``op`` on ``res``."""
    who = {*principals, "User:*"}
    mine = [a for a in acls if a.principal in who]
    alternatives = [res]
    if res.resource_type == "TOPIC" and op == "CREATE":
        alternatives.append(Resource("CLUSTER", CLUSTER_NAME))  # CreateTopics: either one
    for alt in alternatives:
        for a in mine:
            if a.permission == "DENY" and a.operation in (op, "ALL") and _applies_to_some(a, alt):
                return Decision(False, f"denied by {a.describe()}")
    for alt in alternatives:
        for a in mine:
            if a.permission == "ALLOW" and _allows(a.operation, op) and _applies_to_all(a, alt):
                return Decision(True, f"{a.describe()}")
    return Decision(False, "no ACL grants it")


# --------------------------------------------------------------------------- kafka-acls lines


def kafka_acls_line(
    bootstrap: str, principal: str, res: Resource, operations: Sequence[str]
) -> str:
    """The ``kafka-acls`` command an administrator runs to grant ``operations`` on ``res``."""
    ops = " ".join(f"--operation {op}" for op in operations)
    if res.resource_type == "CLUSTER":
        target = "--cluster"
    else:
        flag = {"TOPIC": "--topic", "GROUP": "--group", "TRANSACTIONAL_ID": "--transactional-id"}
        target = f"{flag.get(res.resource_type, '--' + res.resource_type.lower())} {res.name}"
        if res.pattern_type == "PREFIXED":
            target += " --resource-pattern-type prefixed"
    return (
        f"kafka-acls --bootstrap-server {bootstrap} --command-config admin.properties --add "
        f"--allow-principal {principal} {ops} {target}"
    )
