"""The permissions table (core.permissions) and its verification (app.permissions), without
a cluster: ACL evaluation, kafka-acls lines, the README's table, and the fallbacks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from connshift.app import permissions as app
from connshift.core.acls import Acl
from connshift.core.permissions import (
    COMMANDS,
    NEEDS,
    TARGETS,
    Resource,
    decide,
    kafka_acls_line,
    markdown_table,
)
from connshift.errors import KafkaAccessDenied, KafkaError
from connshift.io.sandbox import security

README = Path(__file__).resolve().parents[2] / "README.md"
ME = "User:connshift"


def acl(
    rtype: str,
    name: str,
    op: str,
    *,
    pattern: str = "LITERAL",
    principal: str = ME,
    permission: str = "ALLOW",
) -> Acl:
    return Acl(rtype, name, pattern, principal, "*", op, permission)


def topic(name: str, pattern: str = "LITERAL") -> Resource:
    return Resource("TOPIC", name, pattern)


# --------------------------------------------------------------------------- the table


def test_the_readme_carries_the_table_as_rendered() -> None:
    text = README.read_text()
    found = re.search(
        r"<!-- permissions-table:start -->\n(.*?)<!-- permissions-table:end -->", text, re.S
    )
    assert found, "README.md lost its permissions table markers"
    assert found.group(1) == markdown_table(), "regenerate it from core.permissions"


def test_every_journey_command_is_in_the_table() -> None:
    for command in (
        "check --permissions",
        "inventory",
        "probe",
        "sync",
        "validate",
        "groups translate",
        "groups apply",
        "acls diff",
        "acls apply",
        "offsets",
        "cutover",
        "rollback",
        "cutover --repoint-workers",
    ):
        assert command in COMMANDS
    assert all(n.target in TARGETS and n.side in ("source", "destination") for n in NEEDS)


def test_the_sandbox_grants_connshift_every_essential_need_on_its_prefixes() -> None:
    """The sandbox's least-privilege ACLs cover the table for its estate's names."""
    names = {"TOPIC": "app.orders", "GROUP": "billing"}
    fixed = {
        "map-topic": "connshift.offset-maps",
        "sync-group": "connshift-sync-sandbox",
        "connect-topics": "connect-configs",
    }
    for need in NEEDS:
        if need.when is not None:
            continue
        rtype = need.resource_type
        if need.target.startswith("probe-"):
            res = Resource(rtype, "connshift-probe-", "PREFIXED")
        elif rtype == "CLUSTER":
            res = Resource("CLUSTER", "kafka-cluster")
        else:
            res = Resource(rtype, fixed.get(need.target, names[rtype]))
        granted = security.connshift_acls(need.side)
        for op in need.operations:
            d = decide(granted, [ME], res, op)
            assert d.allowed, (need.command, need.side, res, op, d.via)


# --------------------------------------------------------------------------- decide


def test_literal_prefixed_and_wildcard_patterns() -> None:
    acls = [
        acl("TOPIC", "orders", "READ"),
        acl("TOPIC", "app.", "WRITE", pattern="PREFIXED"),
        acl("GROUP", "*", "DESCRIBE"),
    ]
    assert decide(acls, [ME], topic("orders"), "READ").allowed
    assert not decide(acls, [ME], topic("orders2"), "READ").allowed
    assert decide(acls, [ME], topic("app.x"), "WRITE").allowed
    assert not decide(acls, [ME], topic("apps"), "WRITE").allowed
    assert decide(acls, [ME], Resource("GROUP", "anything"), "DESCRIBE").allowed
    # a literal ACL never covers a whole prefix; a shorter prefix does
    assert not decide(acls, [ME], topic("orders", "PREFIXED"), "READ").allowed
    assert decide(acls, [ME], topic("app.sub.", "PREFIXED"), "WRITE").allowed


def test_implied_operations_and_all() -> None:
    acls = [acl("TOPIC", "t", "WRITE"), acl("TOPIC", "c", "ALTER_CONFIGS")]
    assert decide(acls, [ME], topic("t"), "DESCRIBE").allowed  # WRITE implies DESCRIBE
    assert not decide(acls, [ME], topic("t"), "READ").allowed
    assert decide(acls, [ME], topic("c"), "DESCRIBE_CONFIGS").allowed
    assert decide([acl("TOPIC", "t", "ALL")], [ME], topic("t"), "DELETE").allowed


def test_deny_wins_even_under_a_wider_allow() -> None:
    acls = [
        acl("TOPIC", "app.", "ALL", pattern="PREFIXED"),
        acl("TOPIC", "app.secret", "READ", permission="DENY"),
    ]
    d = decide(acls, [ME], topic("app.secret"), "READ")
    assert not d.allowed and d.via.startswith("denied by DENY")
    assert decide(acls, [ME], topic("app.public"), "READ").allowed
    # a DENY on one name under a prefix spoils the prefix
    assert not decide(acls, [ME], topic("app.", "PREFIXED"), "READ").allowed
    # a DENY of ALL denies every operation; a DENY of READ does not deny DESCRIBE
    assert decide(acls, [ME], topic("app.secret"), "DESCRIBE").allowed
    deny_all = [*acls, acl("TOPIC", "*", "ALL", permission="DENY")]
    assert not decide(deny_all, [ME], topic("app.public"), "DESCRIBE").allowed


def test_principals_user_star_and_others() -> None:
    acls = [
        acl("TOPIC", "t", "READ", principal="User:*"),
        acl("TOPIC", "u", "READ", principal="User:x"),
    ]
    assert decide(acls, [ME], topic("t"), "READ").allowed
    assert not decide(acls, [ME], topic("u"), "READ").allowed


def test_create_topic_by_cluster_create() -> None:
    acls = [acl("CLUSTER", "kafka-cluster", "CREATE")]
    assert decide(acls, [ME], topic("new"), "CREATE").allowed
    assert not decide(acls, [ME], topic("new"), "WRITE").allowed


def test_kafka_acls_lines() -> None:
    line = kafka_acls_line("h:9092", ME, topic("app.", "PREFIXED"), ["WRITE", "READ"])
    assert line == (
        "kafka-acls --bootstrap-server h:9092 --command-config admin.properties --add "
        "--allow-principal User:connshift --operation WRITE --operation READ "
        "--topic app. --resource-pattern-type prefixed"
    )
    assert kafka_acls_line("h:1", ME, Resource("CLUSTER", "kafka-cluster"), ["ALTER"]).endswith(
        "--operation ALTER --cluster"
    )
    assert "--group g" in kafka_acls_line("h:1", ME, Resource("GROUP", "g"), ["READ"])
    tx = kafka_acls_line("h:1", ME, Resource("TRANSACTIONAL_ID", "p-", "PREFIXED"), ["WRITE"])
    assert "--transactional-id p- --resource-pattern-type prefixed" in tx


# --------------------------------------------------------------------------- verification


class FakeCluster:
    """ACLs (or a refusal to describe them) and the answers of harmless tries."""

    bootstrap = "h:9092"

    def __init__(
        self, acls: list[Acl] | Exception, tries: dict[tuple[str, str], bool] | None = None
    ) -> None:
        self._acls, self._tries = acls, tries or {}
        self.tried: list[tuple[str, str, str]] = []

    def acls(self) -> list[Acl]:
        if isinstance(self._acls, Exception):
            raise self._acls
        return self._acls

    def try_access(self, rtype: str, name: str, op: str) -> tuple[bool, str] | None:
        self.tried.append((rtype, name, op))
        if (rtype, op) not in self._tries:
            return None
        return self._tries[(rtype, op)], "a try"


def rows(*pairs: tuple[Resource, str], essential: bool = True) -> list[app.PermissionRow]:
    return [app.PermissionRow("source", r, op, ["sync"], essential) for r, op in pairs]


def side() -> app.SidePermissions:
    return app.SidePermissions("source", "h:9092", ME, "acls")


def verify(cluster: FakeCluster, rs: list[app.PermissionRow]) -> app.SidePermissions:
    s = side()
    app._verify_side(s, cluster, [ME], rs)  # type: ignore[arg-type]
    return s


def test_granted_by_acls_and_missing_without_a_try() -> None:
    rs = rows((topic("app.a"), "READ"), (topic("app.a"), "WRITE"))
    s = verify(FakeCluster([acl("TOPIC", "app.", "READ", pattern="PREFIXED")]), rs)
    assert s.method == "acls"
    assert [r.status for r in rs] == [app.GRANTED, app.MISSING]
    assert rs[0].via.startswith("ACL: ALLOW User:connshift READ")


def test_a_super_user_is_found_out_by_a_try_and_untriable_rows_stay_unverified() -> None:
    rs = rows((topic("app.a"), "DESCRIBE"), (topic("app.a"), "WRITE"))
    cluster = FakeCluster([], {("TOPIC", "DESCRIBE"): True})
    verify(cluster, rs)
    assert rs[0].status == app.GRANTED and "no ACL grants it" in rs[0].via
    assert rs[1].status == app.UNVERIFIED and "super user" in rs[1].via


def test_without_describe_acls_only_tries_count() -> None:
    denied = KafkaAccessDenied("no", why="CLUSTER_AUTHORIZATION_FAILED")
    rs = rows((topic("a"), "DESCRIBE"), (topic("a"), "CREATE"), (topic("a"), "READ"))
    cluster = FakeCluster(denied, {("TOPIC", "DESCRIBE"): True, ("TOPIC", "CREATE"): False})
    s = verify(cluster, rs)
    assert s.method == "tries" and "DescribeAcls" in s.note
    assert [r.status for r in rs] == [app.GRANTED, app.MISSING, app.UNVERIFIED]


def test_no_authorizer_grants_everything() -> None:
    rs = rows((topic("a"), "WRITE"))
    s = verify(FakeCluster(KafkaError("x", why="SECURITY_DISABLED")), rs)
    assert s.method == "no authorizer" and rs[0].status == app.GRANTED


def test_a_prefixed_resource_is_tried_under_a_name_it_covers() -> None:
    denied = KafkaAccessDenied("no")
    cluster = FakeCluster(denied, {("TOPIC", "CREATE"): True})
    verify(cluster, rows((topic("connshift-probe-", "PREFIXED"), "CREATE")))
    assert cluster.tried == [("TOPIC", "connshift-probe-permissions-check", "CREATE")]


def test_result_ok_counts_essential_rows_and_groups_grants() -> None:
    r = app.PermissionsResult(sides=[side()])
    r.rows = [
        app.PermissionRow("source", topic("a"), "READ", ["sync"], True, app.MISSING),
        app.PermissionRow("source", topic("a"), "WRITE", ["rollback"], True, app.MISSING),
        app.PermissionRow("source", Resource("GROUP", "g"), "READ", ["x"], False, app.MISSING),
        app.PermissionRow("source", topic("b"), "READ", ["sync"], True, app.UNVERIFIED),
    ]
    assert not r.ok and not r.complete
    assert r.grants() == [
        "kafka-acls --bootstrap-server h:9092 --command-config admin.properties --add "
        "--allow-principal User:connshift --operation READ --operation WRITE --topic a"
    ]
    assert r.grants(essential=False)[0].endswith("--operation READ --group g")
    data: dict[str, Any] = r.to_json()
    assert data["missing"] == 2 and data["unverified"] == 1 and not data["ok"]


@pytest.mark.parametrize(
    ("kafka", "want"),
    [
        (
            {
                "bootstrap_servers": "h:1",
                "security_protocol": "SASL_SSL",
                "sasl": {"mechanism": "SCRAM-SHA-256", "username": "u", "password": "p"},
            },
            ["User:u"],
        ),
        ({"bootstrap_servers": "h:1"}, ["User:ANONYMOUS"]),
        (
            {
                "bootstrap_servers": "h:1",
                "security_protocol": "SASL_SSL",
                "sasl": {"mechanism": "OAUTHBEARER"},
            },
            [],
        ),
    ],
)
def test_principals_of_the_spec(kafka: dict[str, Any], want: list[str]) -> None:
    from connshift.core.spec import KafkaSpec

    assert app.principals_of(KafkaSpec.model_validate(kafka)) == want


def test_principals_of_a_client_certificate(tmp_path: Path) -> None:
    from connshift.core.spec import KafkaSpec

    ca, key = security.make_ca()
    cert, ckey = security.issue(ca, key, "svc-a")
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(ckey)
    kafka = KafkaSpec.model_validate(
        {
            "bootstrap_servers": "h:1",
            "security_protocol": "SSL",
            "tls": {"cert_file": str(tmp_path / "c.pem"), "key_file": str(tmp_path / "c.key")},
        }
    )
    assert app.principals_of(kafka) == ["User:svc-a", "User:CN=svc-a"]


def test_a_cluster_without_describe_acls_is_never_asked_for_acls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """librdkafka aborts on some partial ACL APIs (tansu 0.6): ApiVersions is asked first."""
    monkeypatch.setattr(app, "_serves_describe_acls", lambda kafka, bootstrap: False)
    cluster = FakeCluster(AssertionError("DescribeAcls sent"), {("TOPIC", "DESCRIBE"): True})
    rs = rows((topic("a"), "DESCRIBE"), (topic("a"), "WRITE"))
    s = side()
    app._verify_side(s, cluster, [ME], rs, kafka=object())  # type: ignore[arg-type]
    assert s.method == "tries" and "does not serve DescribeAcls" in s.note
    assert [r.status for r in rs] == [app.GRANTED, app.UNVERIFIED]


def test_every_command_in_the_table_is_one_the_cli_has() -> None:
    """The table names commands as a user types them: each must exist (with its action)."""
    import typer

    from connshift.cli.main import app

    root = typer.main.get_command(app)
    for command in COMMANDS:
        words = command.split()
        sub = root.commands.get(words[0])  # type: ignore[attr-defined]
        assert sub is not None, command
        if len(words) > 1 and not words[1].startswith("--"):
            action = next(p for p in sub.params if p.name == "action")
            actions = str(getattr(action, "help", "")).replace("|", " ").split()
            assert words[1] in actions, (command, actions)
        for word in words[1:]:
            if word.startswith("--"):
                assert any(word in p.opts for p in sub.params), command
