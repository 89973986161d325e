"""acls refuses a destination without the ACL API before librdkafka is asked anything."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from connshift.app import acls
from connshift.app.config import parse_spec_text
from connshift.errors import KafkaError

SPEC = parse_spec_text(
    "version: 1\n"
    "source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}\n"
    "destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}\n"
)


def test_missing_acl_api_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    served = {0: (0, 9), 1: (0, 12), 29: (1, 3)}  # DescribeAcls only
    monkeypatch.setattr(
        "connshift.io.kafka_wire.api_versions", lambda _b, **_k: SimpleNamespace(api_keys=served)
    )
    with pytest.raises(KafkaError) as info:
        acls._check_acl_api(SPEC, "127.0.0.1:2")
    assert "CreateAcls" in info.value.one_line() and "DeleteAcls" in info.value.one_line()
    assert info.value.exit_code == 3


def test_full_acl_api_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    served = {29: (1, 3), 30: (1, 3), 31: (1, 3)}
    monkeypatch.setattr(
        "connshift.io.kafka_wire.api_versions", lambda _b, **_k: SimpleNamespace(api_keys=served)
    )
    acls._check_acl_api(SPEC, "127.0.0.1:2")  # no error
