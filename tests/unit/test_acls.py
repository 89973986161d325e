"""core.acls: which ACLs apply to a migration, how they are carried, what is missing, and
what becomes a finding instead of being dropped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from connshift.core.acls import Acl, Carried, Listener, Target, carry, diff, relevant


def acl(
    rtype: str,
    name: str,
    pattern: str = "LITERAL",
    principal: str = "User:a",
    *,
    host: str = "*",
    op: str = "READ",
    permission: str = "ALLOW",
) -> Acl:
    return Acl(rtype, name, pattern, principal, host, op, permission)


TOPICS = ["app.events", "app.payments-tx", "shop.public.orders"]
GROUPS = ["billing-service"]


def carried(
    acls: list[Acl],
    *,
    rename: Mapping[str, str] | None = None,
    prefix: str = "",
    principals: Mapping[str, str] | None = None,
    target: Target | None = None,
    topics: list[str] = TOPICS,
) -> Carried:
    names = dict(rename or {})
    return carry(
        acls,
        topics=topics,
        groups=GROUPS,
        topic_name=lambda t: names.get(t, prefix + t),
        topic_prefix=prefix,
        principals=principals or {},
        target=target or Target(),
    )


def test_relevant_literal_prefixed_and_wildcard() -> None:
    acls = [
        acl("TOPIC", "app.events"),
        acl("TOPIC", "app.pay", "PREFIXED"),
        acl("TOPIC", "*"),
        acl("TOPIC", "hr.", "PREFIXED"),
        acl("TOPIC", "app.eventsX"),
        acl("GROUP", "billing-service"),
        acl("GROUP", "other"),
        acl("CLUSTER", "kafka-cluster"),
    ]
    got = {(a.resource_type, a.name) for a in relevant(acls, TOPICS, GROUPS)}
    assert got == {
        ("TOPIC", "app.events"),
        ("TOPIC", "app.pay"),
        ("TOPIC", "*"),
        ("GROUP", "billing-service"),
    }


def test_carry_renames_topics_prefixes_patterns_and_maps_principals() -> None:
    out = carried(
        [
            acl("TOPIC", "shop.public.orders", principal="User:old"),
            acl("TOPIC", "app.", "PREFIXED"),
            acl("TOPIC", "*"),
            acl("GROUP", "billing-service"),
        ],
        prefix="p.",
        principals={"User:old": "User:new"},
    )
    assert out.findings == []
    assert {(a.resource_type, a.name, a.pattern_type, a.principal) for a in out.wanted} == {
        ("TOPIC", "p.shop.public.orders", "LITERAL", "User:new"),
        ("TOPIC", "p.app.", "PREFIXED", "User:a"),
        ("TOPIC", "*", "LITERAL", "User:a"),
        ("GROUP", "billing-service", "LITERAL", "User:a"),  # groups keep their ids
    }


def test_deny_and_host_restrictions_are_carried_exactly() -> None:
    deny = acl("TOPIC", "app.payments-tx", permission="DENY", principal="User:app")
    hosted = acl("TOPIC", "app.events", host="10.1.2.3", op="DESCRIBE", principal="User:app")
    out = carried([deny, hosted], principals={"User:app": "User:CN=app"})
    assert out.findings == []
    assert sorted(out.wanted) == sorted(
        [replace(deny, principal="User:CN=app"), replace(hosted, principal="User:CN=app")]
    )


def test_a_prefixed_pattern_over_a_renamed_topic_is_carried_as_literal_plus_a_finding() -> None:
    pattern = acl("TOPIC", "app.", "PREFIXED", permission="DENY")
    out = carried([pattern], rename={"app.payments-tx": "payments.tx"}, prefix="p.")
    assert {(a.name, a.pattern_type, a.permission) for a in out.wanted} == {
        ("p.app.", "PREFIXED", "DENY"),  # still covers app.events -> p.app.events
        ("payments.tx", "LITERAL", "DENY"),  # the renamed one, by name
    }
    [finding] = out.findings
    assert finding.id == "acls.prefixed.renamed" and finding.acl == pattern
    assert "app.payments-tx -> payments.tx" in finding.why
    assert [a.name for a in finding.carried] == ["payments.tx"]
    assert out.not_carried == []  # carried, in another form
    assert finding.to_json()["outcome"] == "carried as 1 literal ACL(s)"


def test_a_rename_that_stays_under_the_pattern_needs_no_finding() -> None:
    out = carried([acl("TOPIC", "app.", "PREFIXED")], rename={"app.events": "app.events-v2"})
    assert out.findings == [] and [a.name for a in out.wanted] == ["app."]


def test_a_destination_without_prefixed_patterns_gets_literals_per_covered_name() -> None:
    out = carried(
        [acl("TOPIC", "app.", "PREFIXED"), acl("GROUP", "billing", "PREFIXED")],
        prefix="p.",
        target=Target(prefixed=False),
    )
    assert {(a.resource_type, a.name, a.pattern_type) for a in out.wanted} == {
        ("TOPIC", "p.app.events", "LITERAL"),
        ("TOPIC", "p.app.payments-tx", "LITERAL"),
        ("GROUP", "billing-service", "LITERAL"),
    }
    assert {f.id for f in out.findings} == {"acls.prefixed.unsupported"}
    assert len(out.findings) == 2 and out.not_carried == []


@pytest.mark.parametrize("listener", [Listener.SASL, Listener.MTLS])
def test_anonymous_is_a_finding_on_an_authenticated_destination(listener: Listener) -> None:
    anon = acl("TOPIC", "app.events", principal="User:ANONYMOUS")
    out = carried([anon], target=Target(listener=listener))
    assert out.wanted == []
    [finding] = out.findings
    assert finding.id == "acls.principal.anonymous" and out.not_carried == [finding]
    assert finding.to_json()["outcome"] == "not carried"
    # mapped explicitly, it is carried (to itself or to whom the user names)
    mapped = carried(
        [anon], target=Target(listener=listener), principals={"User:ANONYMOUS": "User:app"}
    )
    assert mapped.findings == [] and [a.principal for a in mapped.wanted] == ["User:app"]


@pytest.mark.parametrize("listener", [Listener.PLAINTEXT, Listener.TLS])
def test_anonymous_is_carried_where_clients_are_anonymous(listener: Listener) -> None:
    out = carried([acl("TOPIC", "app.events", principal="User:ANONYMOUS")], target=Target(listener))
    assert out.findings == [] and len(out.wanted) == 1


def test_a_certificate_principal_on_a_sasl_destination_is_a_finding_unless_mapped() -> None:
    dn = acl("TOPIC", "app.events", principal="User:CN=app-reader,OU=apps")
    on_sasl = carried([dn], target=Target(listener=Listener.SASL))
    assert [f.id for f in on_sasl.findings] == ["acls.principal.certificate-on-sasl"]
    assert on_sasl.wanted == []
    on_mtls = carried([dn], target=Target(listener=Listener.MTLS))
    assert on_mtls.findings == [] and on_mtls.wanted == [dn]
    mapped = carried(
        [dn],
        target=Target(listener=Listener.SASL),
        principals={"User:CN=app-reader,OU=apps": "User:app-reader"},
    )
    assert mapped.findings == [] and [a.principal for a in mapped.wanted] == ["User:app-reader"]


def test_a_principal_is_carried_whole_so_a_dropped_deny_never_widens_access() -> None:
    """ALLOW on a prefix, DENY on one topic in it: if the DENY cannot be carried, neither
    is the ALLOW (both share the principal's finding)."""
    allow = acl("TOPIC", "app.", "PREFIXED", principal="User:ANONYMOUS")
    deny = acl("TOPIC", "app.payments-tx", principal="User:ANONYMOUS", permission="DENY")
    out = carried([allow, deny], target=Target(listener=Listener.SASL))
    assert out.wanted == []
    assert {f.acl for f in out.not_carried} == {allow, deny}


@pytest.mark.parametrize(
    ("target", "finding"),
    [
        (Target(authorizer=False), "acls.destination.no-authorizer"),
        (Target(acl_api=False), "acls.destination.no-acl-api"),
    ],
)
def test_a_destination_that_keeps_no_acls_gets_a_finding_per_acl(
    target: Target, finding: str
) -> None:
    acls = [acl("TOPIC", "app.events"), acl("GROUP", "billing-service", permission="DENY")]
    out = carried(acls, target=target)
    assert out.wanted == []
    assert [f.id for f in out.findings] == [finding, finding]
    assert {f.acl for f in out.not_carried} == set(acls)


def test_every_relevant_acl_is_wanted_or_a_finding() -> None:
    """Nothing silently dropped, over a mix of everything."""
    acls = [
        acl("TOPIC", "app.", "PREFIXED"),
        acl("TOPIC", "app.events", principal="User:ANONYMOUS"),
        acl("TOPIC", "app.events", principal="User:CN=x"),
        acl("TOPIC", "shop.public.orders", permission="DENY", host="127.0.0.1"),
        acl("GROUP", "billing-service"),
        acl("TOPIC", "*", principal="User:*"),
    ]
    out = carried(acls, rename={"app.events": "events"}, target=Target(listener=Listener.SASL))
    carried_sources = {f.acl for f in out.findings}
    for a in acls:
        same = {
            (w.resource_type, w.principal, w.operation, w.permission, w.host) for w in out.wanted
        }
        assert a in carried_sources or (
            (a.resource_type, a.principal, a.operation, a.permission, a.host) in same
        ), a
    assert len(out.not_carried) == 2  # ANONYMOUS and the certificate DN, on SASL


def test_diff_lists_missing_and_never_extra_as_missing() -> None:
    want = [acl("TOPIC", "a"), acl("TOPIC", "b")]
    have = [acl("TOPIC", "b"), acl("TOPIC", "c")]
    d = diff(want, have)
    assert [a.name for a in d.missing] == ["a"]
    assert [a.name for a in d.present] == ["b"]
    assert [a.name for a in d.extra] == ["c"]


def test_diff_extra_is_limited_to_the_migrated_resources_when_named() -> None:
    want = [acl("TOPIC", "p.app.events")]
    have = [
        acl("TOPIC", "p.app.events"),
        acl("TOPIC", "p.app.events", principal="User:other"),  # on a migrated topic
        acl("TOPIC", "p.app.", "PREFIXED", principal="User:connshift"),  # covers one
        acl("TOPIC", "connshift-", "PREFIXED", principal="User:connshift"),  # unrelated
        acl("CLUSTER", "kafka-cluster", principal="User:connshift"),
        acl("GROUP", "billing-service", principal="User:other"),
    ]
    d = diff(want, have, topics=["p.app.events"], groups=["billing-service"])
    assert {(a.resource_type, a.name, a.principal) for a in d.extra} == {
        ("TOPIC", "p.app.events", "User:other"),
        ("TOPIC", "p.app.", "User:connshift"),
        ("GROUP", "billing-service", "User:other"),
    }
    # a wanted prefixed pattern that covers no destination topic is still found present
    pattern = acl("TOPIC", "zz.", "PREFIXED")
    assert diff([pattern], [pattern], topics=["p.app.events"]).present == [pattern]


def test_describe_is_readable() -> None:
    text = acl("TOPIC", "shop.", "PREFIXED", "User:cdc").describe()
    assert text == "ALLOW User:cdc READ on topic shop. (prefixed) from *"
