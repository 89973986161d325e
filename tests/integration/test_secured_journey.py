"""The migration journey over the sandbox's secured listeners, as ``sandbox-secure.yaml``
sets it: both clusters on SASL_SSL as ``connshift`` (least privilege), both Connect workers on
SASL_SSL as ``connect``, the Debezium connector's database password from the workers'
FileConfigProvider.

- inventory and probe over SASL_SSL, the connector's provider reference reported;
- sync, cutover and rollback of the Debezium connector under a live writer: every change
  exactly once on each side, the provider reference carried unchanged;
- a destination worker that cannot resolve a reference: preflight refuses naming the provider,
  nothing changed;
- an unknown CA, an expired client certificate: one line, exit 3, nothing created.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connshift.app import sandbox as sandbox_mod
from connshift.app import seed as seedmod
from connshift.app.config import load_spec
from connshift.app.context import Migration
from connshift.app.cutover import CutoverRefused, Mover, plan
from connshift.app.sandbox import Sandbox
from connshift.core.acls import Acl
from connshift.io.kafka import KafkaCluster
from connshift.io.postgres import WriterStats

from .helpers import cdc_events, connect, kafka, live_writer, run_cli, run_json, wait_for

SECRETS = ("connshift", "connect", "admin")


def _secured_spec(sandbox: Sandbox, tmp_path: Path, **topics: Any) -> Path:
    """``sandbox-secure.yaml`` as ``sandbox up`` writes it, with this test's state dir and
    topic selection."""
    path = sandbox_mod.write_secure_spec(sandbox, tmp_path / "sandbox-secure.yaml")
    doc = yaml.safe_load(path.read_text())
    doc["state_dir"] = str(tmp_path / "state")
    doc["topics"].update(topics)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _secrets(sandbox: Sandbox) -> list[str]:
    """The sandbox's SCRAM passwords (random per sandbox; its database password is the
    well-known ``postgres``, too common a word to scan for)."""
    files = sandbox.security
    return [files.password_file(user).read_text().strip() for user in SECRETS]


def _assert_no_secret(sandbox: Sandbox, *texts: str, under: Path | None = None) -> None:
    secrets = _secrets(sandbox)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    if under is not None:
        for path in under.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, path


def test_inventory_and_probe_over_sasl_ssl_report_provider_references(
    sandbox: Sandbox, seeded: Any, tmp_path: Path
) -> None:
    spec = _secured_spec(sandbox, tmp_path, include=[r"shop\..*", r"files\..*"])
    inv = run_cli("inventory", "-c", str(spec), "--json")
    assert inv.returncode == 0, inv.stderr
    doc = json.loads(inv.stdout)
    cdc = next(c for c in doc["connectors"] if c["name"] == "shop-cdc")
    assert cdc["config_providers"] == ["file"]
    assert cdc["config"]["database.password"].startswith("${file:")
    probe = run_cli("probe", "-c", str(spec), "--json")
    assert probe.returncode in (0, 1), probe.stderr  # 1: a finding, never an access error
    checks = json.loads(probe.stdout)["checks"]
    assert checks and not any("denied" in str(c).lower() for c in checks), checks
    _assert_no_secret(sandbox, inv.stdout, inv.stderr, probe.stdout, probe.stderr, under=tmp_path)


def test_debezium_cutover_and_rollback_over_sasl_ssl_exactly_once(
    sandbox: Sandbox, restore: None, tmp_path: Path
) -> None:
    # destination topics under `shop.`: connshift's and connect's ACLs cover them there
    prefix = f"shop.s{uuid.uuid4().hex[:6]}."
    spec = _secured_spec(sandbox, tmp_path, include=[r"shop\..*"], prefix=prefix)
    sync = run_json("sync", "-c", str(spec), "--once")
    assert sync["engine"] == "raw"
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    src_topics = list(seedmod.CDC_TOPICS)
    dst_topics = [prefix + t for t in src_topics]

    stats: list[WriterStats] = []
    writer = live_writer(sandbox, 60, stats)
    time.sleep(1.0)
    moved = run_cli("cutover", "--force", "-c", str(spec), "shop-cdc", "--json")
    writer.join(60)
    assert moved.returncode == 0, moved.stderr
    result = json.loads(moved.stdout)
    assert [s["status"] for s in result["steps"][1:]][:-1] == ["done"] * 7
    with connect(sandbox, "destination") as dst_c:
        carried = dst_c.connector_config("shop-cdc")["database.password"]
    assert carried.startswith("${file:") and carried.endswith(":password}")
    first = set(stats[0].txids)
    assert len(first) == 60

    def seen(cluster: KafkaCluster, topics: list[str], txids: set[int]) -> bool:
        return txids <= {e["txid"] for e in cdc_events(cluster, topics)}

    wait_for(lambda: seen(dst, dst_topics, first), timeout=90, what="changes on destination")
    per_tx = Counter(e["txid"] for e in cdc_events(dst, dst_topics) if e["txid"] in first)
    assert set(per_tx.values()) == {1}, "a change was read twice or not at all"

    stats2: list[WriterStats] = []
    writer = live_writer(sandbox, 40, stats2)
    time.sleep(0.5)
    back = run_cli("rollback", "-c", str(spec), "shop-cdc", "--json")
    writer.join(60)
    assert back.returncode == 0, back.stderr
    steps = {s["step"]: s["status"] for s in json.loads(back.stdout)["steps"]}
    assert steps["copy-back"] == "done", steps
    both = first | set(stats2[0].txids)
    wait_for(lambda: seen(src, src_topics, both), timeout=90, what="changes on source")
    events = cdc_events(src, src_topics)
    per_tx = Counter(e["txid"] for e in events if e["txid"] in both)
    assert set(per_tx.values()) == {1}, "a change is missing or doubled on the source"
    with connect(sandbox, "destination") as dst_c:
        assert not dst_c.exists("shop-cdc")
    _assert_no_secret(sandbox, moved.stdout, moved.stderr, back.stdout, back.stderr, under=tmp_path)


@pytest.mark.parametrize("provider", ["vault", "file"])
def test_preflight_names_a_reference_the_destination_cannot_resolve(
    sandbox: Sandbox, seeded: Any, tmp_path: Path, provider: str
) -> None:
    """The destination worker has no ``vault`` provider, and its ``file`` provider cannot
    read a file that is not there: Connect leaves the reference as it is, Debezium's
    validation then fails to log in. Preflight names the provider; nothing changes."""
    spec = _secured_spec(sandbox, tmp_path, include=[r"shop\..*"])
    reference = {
        "vault": "${vault:secret/shop:password}",
        "file": f"${{file:{tmp_path / 'absent.properties'}:password}}",
    }[provider]
    with Migration(load_spec(spec)) as migration:
        [p] = plan(migration, ["shop-cdc"])
        p.destination_config["database.password"] = reference
        mover = Mover(migration, dry_run=False, report=lambda *_: None, blockers={})
        with pytest.raises(CutoverRefused) as refused:
            mover.cutover([p])
    message = str(refused.value)
    assert f"provider `{provider}` for database.password" in message, message
    assert "\n" not in message
    with connect(sandbox, "source") as src_c, connect(sandbox, "destination") as dst_c:
        assert src_c.status("shop-cdc").state == "RUNNING"
        assert not dst_c.exists("shop-cdc")


# ------------------------------------------------------------------------ TLS refusals


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: Any, days: int
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=10))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(signer, hashes.SHA256())
    )


def _pem(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    path.chmod(0o600)
    return str(path)


def _one_line_exit_3(proc: Any, *words: str) -> str:
    assert proc.returncode == 3, (proc.returncode, proc.stderr)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]
    print(errors[0])  # shown with -s
    return errors[0]


@pytest.mark.parametrize("engine", ["raw", "record"])
def test_unknown_ca_is_one_line_exit_3_and_creates_nothing(
    sandbox: Sandbox, tmp_path: Path, engine: str
) -> None:
    """A CA that did not sign the broker's certificate (another sandbox's, say)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    other = _cert("some other CA", key, name, key, 30)
    topic = f"app.tls{uuid.uuid4().hex[:8]}"
    kafka(sandbox, "source").create_topic(topic, 1)
    spec = _secured_spec(sandbox, tmp_path, include=[topic.replace(".", r"\.")])
    doc = yaml.safe_load(spec.read_text())
    ca = _pem(tmp_path / "other-ca.pem", other.public_bytes(serialization.Encoding.PEM))
    doc["destination"]["kafka"]["tls"]["ca_file"] = ca
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = run_cli("sync", "-c", str(spec), "--once", "--engine", engine, timeout=120)
    _one_line_exit_3(proc, "destination", "certificate")
    assert topic not in kafka(sandbox, "destination").topics()


def test_expired_client_certificate_is_one_line_exit_3_and_creates_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A client certificate signed by the sandbox's CA, expired yesterday, on the mTLS
    listener: the broker refuses the handshake."""
    files = sandbox.security
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    expired = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connshift")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=30))
        .not_valid_after(now - dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert = _pem(tmp_path / "expired.pem", expired.public_bytes(serialization.Encoding.PEM))
    keyfile = _pem(
        tmp_path / "expired.key",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    topic = f"app.tls{uuid.uuid4().hex[:8]}"
    kafka(sandbox, "source").create_topic(topic, 1)
    spec = _secured_spec(sandbox, tmp_path, include=[topic.replace(".", r"\.")])
    doc = yaml.safe_load(spec.read_text())
    doc["destination"]["kafka"] = {
        "bootstrap_servers": f"127.0.0.1:{sandbox.ports['destination-kafka-mtls']}",
        "security_protocol": "SSL",
        "tls": {"ca_file": str(files.ca_file), "cert_file": cert, "key_file": keyfile},
    }
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = run_cli("sync", "-c", str(spec), "--once", "--engine", "raw", timeout=120)
    line = _one_line_exit_3(proc, "destination", "refused connshift", "certificate")
    assert "expired.pem" in line  # which certificate
    assert topic not in kafka(sandbox, "destination").topics()


def test_rollback_without_write_on_the_source_is_refused_before_it_stops_anything(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A DENY of WRITE on the connector's source topic for User:connshift: the rollback
    would stop the destination connector, then fail to copy back. It is refused first
    (one line naming the operation and the topic, exit 3), the connector keeps running on
    the destination, and once the DENY is gone the same rollback finishes."""
    tag = uuid.uuid4().hex[:8]
    topic, name = f"app.rbw{tag}", f"rbw{tag}-source"
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"line {i}\n" for i in range(5)))
    spec = _secured_spec(sandbox, tmp_path, include=[topic.replace(".", r"\.")])
    doc = yaml.safe_load(spec.read_text())
    doc["connectors"] = {"include": [name]}
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    src = kafka(sandbox, "source")
    src.create_topic(topic, 1)
    deny = Acl("TOPIC", topic, "LITERAL", "User:connshift", "*", "WRITE", "DENY")
    config = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(lines),
        "topic": topic,
    }
    with connect(sandbox, "source") as src_c, connect(sandbox, "destination") as dst_c:
        try:
            src_c.create(name, config)
            src_c.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
            wait_for(lambda: src.watermarks(topic, 0)[1] == 5, 60, "the lines on the source")
            run_json("sync", "-c", str(spec), "--once")
            moved = run_cli("cutover", "--force", "-c", str(spec), name)
            assert moved.returncode == 0, moved.stderr
            with lines.open("a") as fh:
                fh.write("on the destination\n")
            dst = kafka(sandbox, "destination")
            wait_for(lambda: dst.watermarks(topic, 0)[1] == 6, 60, "the line on the destination")

            src.create_acls([deny])
            refused = run_cli("rollback", "-c", str(spec), name)
            line = _one_line_exit_3(refused, "refused before it changed anything", "WRITE")
            assert f"topic {topic}" in line and "kafka-acls" in line
            assert dst_c.status(name).state == "RUNNING"
            assert src_c.status(name).state == "STOPPED"

            src.delete_acls([deny])
            back = run_cli("rollback", "-c", str(spec), name)
            assert back.returncode == 0, back.stderr
            assert not dst_c.exists(name)
            src_c.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
            values = [r.value for r in src.read(topic, 0, timeout=60)]
            assert b"on the destination" in (values[-1] or b"") and len(values) == 6
        finally:
            src.delete_acls([deny])
            for client in (dst_c, src_c):
                if client.exists(name):
                    client.delete(name)
