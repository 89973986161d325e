"""Which copy engine sync picks, from the spec's security settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from connshift.app.config import parse_spec_text
from connshift.app.sync import Syncer, SyncOptions
from connshift.errors import UsageError

PLAIN = """version: 1
source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}
destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}
state_dir: STATE
"""
SASL = """version: 1
source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}
destination:
  kafka:
    bootstrap_servers: '127.0.0.1:2'
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: u, password: p}
state_dir: STATE
"""


def syncer(text: str, tmp_path: Path, engine: str) -> Syncer:
    spec = parse_spec_text(text.replace("STATE", str(tmp_path / "state")))
    return Syncer(spec, SyncOptions(engine=engine))


def test_auto_is_raw_on_plaintext_and_record_with_sasl(tmp_path: Path) -> None:
    assert syncer(PLAIN, tmp_path, "auto").engine() == "raw"
    assert syncer(SASL, tmp_path, "auto").engine() == "record"
    assert syncer(PLAIN, tmp_path, "record").engine() == "record"


def test_raw_refused_without_plaintext(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        syncer(SASL, tmp_path, "raw").engine()
    assert info.value.exit_code == 2
    assert "PLAINTEXT" in info.value.one_line()
