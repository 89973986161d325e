"""acls asks the destination's ApiVersions before librdkafka is asked anything: a
destination without the ACL API, or without PREFIXED patterns, is told apart (and its
listener kind read from the spec)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from connshift.app import acls
from connshift.app.config import parse_spec_text
from connshift.core.acls import Acl, Listener
from connshift.errors import KafkaNoAuthorizer

SPEC = parse_spec_text(
    "version: 1\n"
    "source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}\n"
    "destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}\n"
)


def _serve(monkeypatch: pytest.MonkeyPatch, served: dict[int, tuple[int, int]]) -> None:
    monkeypatch.setattr(
        "connshift.io.kafka_wire.api_versions", lambda _b, **_k: SimpleNamespace(api_keys=served)
    )


def test_missing_acl_api_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {0: (0, 9), 1: (0, 12), 29: (1, 3)})  # DescribeAcls only
    target = acls._target(SPEC, "127.0.0.1:2")
    assert target.acl_api is False
    assert target.acl_api_missing == ("CreateAcls", "DeleteAcls")


def test_full_acl_api(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {29: (1, 3), 30: (1, 3), 31: (1, 3)})
    target = acls._target(SPEC, "127.0.0.1:2")
    assert (target.acl_api, target.prefixed, target.listener) == (
        True,
        True,
        Listener.PLAINTEXT,
    )


def test_create_acls_v0_cannot_express_prefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {29: (0, 0), 30: (0, 0), 31: (0, 0)})
    assert acls._target(SPEC, "127.0.0.1:2").prefixed is False


@pytest.mark.parametrize(
    ("kafka", "listener"),
    [
        ("{bootstrap_servers: 'h:1'}", Listener.PLAINTEXT),
        ("{bootstrap_servers: 'h:1', security_protocol: SSL}", Listener.TLS),
        (
            "{bootstrap_servers: 'h:1', security_protocol: SSL, "
            "tls: {cert_file: /c.pem, key_file: /c.key}}",
            Listener.MTLS,
        ),
        (
            "{bootstrap_servers: 'h:1', security_protocol: SASL_SSL, "
            "sasl: {mechanism: SCRAM-SHA-256, username: u, password: p}}",
            Listener.SASL,
        ),
    ],
)
def test_listener_of_the_spec(kafka: str, listener: Listener) -> None:
    spec = parse_spec_text(
        f"version: 1\nsource: {{kafka: {{bootstrap_servers: 'h:0'}}}}\n"
        f"destination: {{kafka: {kafka}}}\n"
    )
    assert acls.listener_of(spec.destination.kafka) is listener


@pytest.mark.parametrize("entry", ["billing: User:billing-svc", "User:billing: billing-svc"])
def test_a_principal_map_entry_without_a_type_is_refused(tmp_path: Path, entry: str) -> None:
    from connshift.errors import ConfigError

    path = tmp_path / "principals.yaml"
    path.write_text(entry + "\n")
    with pytest.raises(ConfigError) as info:
        acls.load_principal_map(path)
    assert info.value.exit_code == 2 and "is not a principal" in info.value.one_line()


def test_a_principal_map_to_a_certificate_dn(tmp_path: Path) -> None:
    path = tmp_path / "principals.yaml"
    path.write_text("User:app-reader: User:CN=app-reader,OU=apps\n")
    assert acls.load_principal_map(path) == {"User:app-reader": "User:CN=app-reader,OU=apps"}


class _Source:
    def __init__(self, acls: list[Acl]) -> None:
        self._acls = acls

    def topics(self) -> dict[str, object]:
        return {"app.events": object(), "hr.salaries": object()}

    def groups(self) -> list[str]:
        return ["billing"]

    def group_offsets(self, _group: str) -> dict[tuple[str, int], int]:
        return {("app.events", 0): 5}

    def acls(self) -> list[Acl]:
        return self._acls


class _NoAuthorizer:
    bootstrap = "127.0.0.1:2"

    def acls(self) -> list[Acl]:
        raise KafkaNoAuthorizer("the destination cluster has no authorizer: it keeps no ACLs")

    def create_acls(self, acls: list[Acl]) -> None:
        raise AssertionError(f"nothing may be created: {acls}")


def test_a_destination_without_an_authorizer_gets_findings_in_the_evidence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _serve(monkeypatch, {29: (1, 3), 30: (1, 3), 31: (1, 3)})
    source = [
        Acl("TOPIC", "app.", "PREFIXED", "User:app", "*", "READ", "ALLOW"),
        Acl("TOPIC", "app.events", "LITERAL", "User:app", "10.0.0.1", "WRITE", "DENY"),
        Acl("GROUP", "billing", "LITERAL", "User:app", "*", "READ", "ALLOW"),
        Acl("TOPIC", "hr.", "PREFIXED", "User:hr", "*", "READ", "ALLOW"),  # not migrated
    ]
    recorded: dict[str, dict[str, object]] = {}
    spec = parse_spec_text(
        "version: 1\n"
        "source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}\n"
        "destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}\n"
        "topics: {include: ['app\\..*']}\n"
    )
    migration = SimpleNamespace(
        spec=spec,
        src=_Source(source),
        dst=_NoAuthorizer(),
        record=lambda kind, data: recorded.__setitem__(kind, data),
    )
    result = acls.apply(migration, None)  # type: ignore[arg-type]
    assert result.target.authorizer is False and not result.ok
    assert result.diff.missing == [] and result.created == []
    assert {f.acl for f in result.findings} == set(source[:3])
    evidence = recorded["acls"]
    assert evidence["not_carried"] == 3
    assert evidence["destination"]["authorizer"] is False  # type: ignore[index]
    assert {f["id"] for f in evidence["findings"]} == {"acls.destination.no-authorizer"}  # type: ignore[attr-defined]
