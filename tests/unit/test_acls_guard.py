"""acls asks the destination's ApiVersions before librdkafka is asked anything: a
destination without the ACL API, or without PREFIXED patterns, is told apart (and its
listener kind read from the spec)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from connshift.app import acls
from connshift.app.config import parse_spec_text
from connshift.core.acls import Listener

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


def test_full_acl_api(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {29: (1, 3), 30: (1, 3), 31: (1, 3)})
    target = acls._target(SPEC, "127.0.0.1:2")
    assert (target.acl_api, target.prefixed, target.listener) == (
        True,
        True,
        Listener.PLAINTEXT,
    )


def test_create_acls_v0_cannot_express_prefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {29: (0, 0), 30: (0, 0)})
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
