"""`sync --engine raw` over the sandbox's secured listeners, then `validate`.

Both sides on SASL_SSL as ``connshift`` (source SCRAM-SHA-512 on 127.0.0.1:19094, destination
SCRAM-SHA-256 on 127.0.0.1:29094), and once more with the destination on its mTLS listener
(127.0.0.1:29095, client certificate CN=connshift). Passwords are ``${file:...}`` references
to ``<sandbox home>/secrets/connshift.password``; the CA is ``<sandbox home>/tls/ca.pem``.

Until the sandbox has those listeners, every test here is skipped with the reason. The topics
are created over the PLAINTEXT listener (its ANONYMOUS principal is a super user) under the
``app.`` prefix, which ``connshift``'s least-privilege ACLs cover on both sides.
"""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from connshift.app.sandbox import Sandbox
from connshift.io.kafka import KafkaCluster, OutRecord

from .helpers import run_cli, run_json

RECORDS = 300
PARTITIONS = 3


@dataclass(frozen=True)
class Secured:
    """The sandbox's secured listeners and the files the spec refers to."""

    source_plain: str
    destination_plain: str
    source_sasl: str
    destination_sasl: str
    destination_mtls: str
    ca: Path
    password: Path
    client_cert: Path
    client_key: Path


def _listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture
def secured(sandbox: Sandbox) -> Secured:
    ports = sandbox.ports
    home = sandbox.home
    found = Secured(
        source_plain=f"127.0.0.1:{ports['source-kafka']}",
        destination_plain=f"127.0.0.1:{ports['destination-kafka']}",
        source_sasl=f"127.0.0.1:{ports.get('source-kafka-sasl', 19094)}",
        destination_sasl=f"127.0.0.1:{ports.get('destination-kafka-sasl', 29094)}",
        destination_mtls=f"127.0.0.1:{ports.get('destination-kafka-mtls', 29095)}",
        ca=home / "tls" / "ca.pem",
        password=home / "secrets" / "connshift.password",
        client_cert=home / "tls" / "connshift.pem",
        client_key=home / "tls" / "connshift.key",
    )
    down = [
        f"{name} {address}"
        for name, address in (
            ("source SASL_SSL", found.source_sasl),
            ("destination SASL_SSL", found.destination_sasl),
            ("destination mTLS", found.destination_mtls),
        )
        if not _listening(address)
    ]
    if down:
        pytest.skip(f"the sandbox has no secured listeners yet (nothing at {', '.join(down)})")
    missing = [
        str(f)
        for f in (found.ca, found.password, found.client_cert, found.client_key)
        if not f.is_file()
    ]
    if missing:
        pytest.skip(f"the sandbox's TLS material or secrets are missing: {', '.join(missing)}")
    return found


def _sasl_side(bootstrap: str, mechanism: str, s: Secured) -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl": {
            "mechanism": mechanism,
            "username": "connshift",
            "password": f"${{file:{s.password}}}",
        },
        "tls": {"ca_file": str(s.ca)},
    }


def _spec(tmp_path: Path, s: Secured, topic: str, destination: dict[str, Any]) -> Path:
    doc = {
        "version": 1,
        "name": f"rawsec-{uuid.uuid4().hex[:6]}",
        "source": {"kafka": _sasl_side(s.source_sasl, "SCRAM-SHA-512", s)},
        "destination": {"kafka": destination},
        "topics": {"include": [topic.replace(".", r"\.")]},
        "state_dir": str(tmp_path / "state"),
    }
    path = tmp_path / "secure.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _seed_topic(s: Secured) -> str:
    """A small topic on the source, written over PLAINTEXT (the ANONYMOUS super user)."""
    topic = f"app.rawsec-{uuid.uuid4().hex[:8]}"
    source = KafkaCluster({"bootstrap.servers": s.source_plain}, name="source")
    source.create_topic(topic, PARTITIONS)
    records = [
        OutRecord(f"k{i}".encode(), f"value-{i}".encode() * 10, partition=i % PARTITIONS)
        for i in range(RECORDS)
    ]
    failed = [d for d in source.deliver(topic, records) if d.error]
    assert not failed, failed[:3]
    return topic


def _sync_and_validate(spec: Path, s: Secured, topic: str) -> None:
    summary = run_json("sync", "-c", str(spec), "--once", "--engine", "raw")
    assert summary["engine"] == "raw"
    assert summary["records"] == RECORDS
    rows = summary["partitions"]
    assert {r["topic"] for r in rows} == {topic} and len(rows) == PARTITIONS
    assert all(r["contiguous"] for r in rows), rows  # offsets kept exactly
    # the copy is on the destination, read back over PLAINTEXT as a super user
    dst = KafkaCluster({"bootstrap.servers": s.destination_plain}, name="destination")
    for part in range(PARTITIONS):
        assert dst.watermarks(topic, part)[1] == RECORDS // PARTITIONS
    report = run_json("validate", "-c", str(spec))
    diffs = [c for c in report["checks"] if c["id"] == "stream.diff"]
    assert diffs and all(c["status"] == "PASS" for c in diffs), diffs
    # --engine auto picks raw on these clusters too (a second run copies nothing), says
    # nothing about the record engine, and the secret never shows in what it printed or kept
    secret = s.password.read_text().strip()
    again = run_cli("sync", "-c", str(spec), "--once", "--json")
    assert again.returncode == 0, again.stderr
    assert '"engine": "raw"' in again.stdout and "record engine" not in again.stderr
    assert secret not in again.stdout and secret not in again.stderr
    for path in (spec.parent / "state").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_raw_sync_over_sasl_ssl_both_sides(tmp_path: Path, secured: Secured) -> None:
    topic = _seed_topic(secured)
    destination = _sasl_side(secured.destination_sasl, "SCRAM-SHA-256", secured)
    spec = _spec(tmp_path, secured, topic, destination)
    _sync_and_validate(spec, secured, topic)


def test_raw_sync_to_the_mtls_destination(tmp_path: Path, secured: Secured) -> None:
    topic = _seed_topic(secured)
    destination = {
        "bootstrap_servers": secured.destination_mtls,
        "security_protocol": "SSL",
        "tls": {
            "ca_file": str(secured.ca),
            "cert_file": str(secured.client_cert),
            "key_file": str(secured.client_key),
        },
    }
    spec = _spec(tmp_path, secured, topic, destination)
    _sync_and_validate(spec, secured, topic)


def test_wrong_password_is_one_line_and_exit_3(tmp_path: Path, secured: Secured) -> None:
    topic = _seed_topic(secured)
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password-" + uuid.uuid4().hex)
    destination = _sasl_side(secured.destination_sasl, "SCRAM-SHA-256", secured)
    destination["sasl"]["password"] = f"${{file:{wrong}}}"
    spec = _spec(tmp_path, secured, topic, destination)
    proc = run_cli("sync", "-c", str(spec), "--once", "--engine", "raw")
    assert proc.returncode == 3, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "connshift" in errors[0] and wrong.read_text() not in proc.stderr


def test_record_engine_groups_and_validate_over_sasl_ssl_leave_no_secret(
    tmp_path: Path, secured: Secured
) -> None:
    """The librdkafka path over SASL_SSL on both sides: copy, group translation applied on
    the destination, validate — and the password is in nothing connshift printed or kept,
    nor in the offset maps it mirrored to the destination."""
    topic = _seed_topic(secured)
    group = f"app-reader-{uuid.uuid4().hex[:6]}"
    source = KafkaCluster({"bootstrap.servers": secured.source_plain}, name="source")
    source.commit_group_offsets(group, {(topic, 0): 7, (topic, 1): 3})
    destination = _sasl_side(secured.destination_sasl, "SCRAM-SHA-256", secured)
    spec = _spec(tmp_path, secured, topic, destination)
    outputs = []
    synced = run_cli("sync", "-c", str(spec), "--once", "--engine", "record", "--json")
    assert synced.returncode == 0, synced.stderr
    outputs.append(synced)
    summary = json.loads(synced.stdout)
    assert summary["engine"] == "record" and summary["records"] == RECORDS
    assert all(r["contiguous"] for r in summary["partitions"])
    applied = run_cli("groups", "-c", str(spec), "apply", "--groups", group, "--json")
    assert applied.returncode == 0, applied.stderr
    outputs.append(applied)
    assert json.loads(applied.stdout)["applied"] == [group]
    dst = KafkaCluster({"bootstrap.servers": secured.destination_plain}, name="destination")
    assert dst.group_offsets(group) == {(topic, 0): 7, (topic, 1): 3}
    checked = run_cli("validate", "-c", str(spec), "--json")
    assert checked.returncode == 0, checked.stdout[-2000:]
    outputs.append(checked)
    kinds = {c["id"] for c in json.loads(checked.stdout)["checks"] if c["status"] == "PASS"}
    assert {"stream.diff", "group.resume"} <= kinds
    # a failing command under --debug shows its traceback, still without the secret
    failed = run_cli("--debug", "offsets", "-c", str(spec), topic, "0", "-1")
    outputs.append(failed)

    secret = secured.password.read_text().strip()
    for proc in outputs:
        assert secret not in proc.stdout and secret not in proc.stderr
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    maps = [r.value or b"" for r in dst.read("connshift.offset-maps", 0, timeout=60)]
    assert maps and not any(secret.encode() in value for value in maps)


@pytest.mark.parametrize("engine", ["raw", "record"])
def test_a_destination_topic_outside_connshifts_acls_is_refused_and_not_created(
    tmp_path: Path, secured: Secured, engine: str
) -> None:
    """connshift's ACLs on the destination cover the estate's prefixes: a rename outside
    them is refused by the authorizer — one line naming the principal and the topic, exit
    3 — and no destination topic is left behind."""
    topic = _seed_topic(secured)
    outside = f"nope.{topic}"
    spec = _spec(
        tmp_path, secured, topic, _sasl_side(secured.destination_sasl, "SCRAM-SHA-256", secured)
    )
    doc = yaml.safe_load(spec.read_text())
    doc["topics"]["rename"] = {topic: outside}
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = run_cli("sync", "-c", str(spec), "--once", "--engine", engine)
    assert proc.returncode == 3, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert f"authorizer refused User:connshift on topic {outside}" in errors[0]
    assert "Traceback" not in proc.stderr
    dst = KafkaCluster({"bootstrap.servers": secured.destination_plain}, name="destination")
    assert outside not in dst.topics()
