"""core.acls: which ACLs apply to a migration, how they map, what is missing."""

from __future__ import annotations

from connshift.core.acls import Acl, diff, map_acl, relevant


def acl(rtype: str, name: str, pattern: str = "LITERAL", principal: str = "User:a") -> Acl:
    return Acl(rtype, name, pattern, principal, "*", "READ", "ALLOW")


TOPICS = ["app.events", "app.payments-tx", "shop.public.orders"]
GROUPS = ["billing-service"]


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


def test_map_renames_topics_prefixes_patterns_and_maps_principals() -> None:
    rename = {"app.events": "events.v2"}.get
    literal = map_acl(
        acl("TOPIC", "app.events", principal="User:old"),
        lambda t: rename(t) or t,
        "",
        {"User:old": "User:new"},
    )
    assert (literal.name, literal.principal) == ("events.v2", "User:new")
    prefixed = map_acl(acl("TOPIC", "app.", "PREFIXED"), lambda t: "p." + t, "p.", {})
    assert prefixed.name == "p.app."
    wildcard = map_acl(acl("TOPIC", "*"), lambda t: "p." + t, "p.", {})
    assert wildcard.name == "*"
    group = map_acl(acl("GROUP", "billing-service"), lambda t: "p." + t, "p.", {})
    assert group.name == "billing-service"  # groups keep their ids


def test_diff_lists_missing_and_never_extra_as_missing() -> None:
    want = [acl("TOPIC", "a"), acl("TOPIC", "b")]
    have = [acl("TOPIC", "b"), acl("TOPIC", "c")]
    d = diff(want, have)
    assert [a.name for a in d.missing] == ["a"]
    assert [a.name for a in d.present] == ["b"]
    assert [a.name for a in d.extra] == ["c"]


def test_describe_is_readable() -> None:
    text = acl("TOPIC", "shop.", "PREFIXED", "User:cdc").describe()
    assert text == "ALLOW User:cdc READ on topic shop. (prefixed) from *"
