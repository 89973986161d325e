"""`acls diff|apply` under the sandbox's real authorizers, over its secured listeners.

On the source (written over PLAINTEXT, whose ANONYMOUS principal is a super user) a unique
application principal gets what real estates have: LITERAL READ/DESCRIBE on a topic, a
PREFIXED READ, a DENY inside that prefix, a host-restricted entry, a group READ, and one
topic of the prefix renamed out of it by the spec; plus a User:ANONYMOUS entry. The
source names the principal by its certificate's distinguished name
(``User:CN=app-reader-<id>,OU=apps``, what an mTLS listener with the DEFAULT mapping rules
yields); the destination's mTLS listener maps a certificate to its CN
(``RULE:^CN=([^,]+).*$/$1/``), so ``--principal-map`` carries it to ``User:app-reader-<id>``.

connshift reads both sides as ``connshift`` over SASL_SSL / mTLS (DescribeAcls needs
DESCRIBE on the cluster, which the sandbox grants). Creating ACLs needs ALTER on the
cluster, which lets a principal grant itself anything, so the sandbox does not grant it to
``connshift``: apply as ``connshift`` is refused in one line (exit 3, nothing created), and
apply runs as the SCRAM super user ``admin`` on the same SASL_SSL listener. Then a client
certificate CN=app-reader-<id>, signed by the sandbox CA, proves the destination's
authorizer enforces what was carried over the mTLS listener: READ where it was granted
(literal, prefixed, renamed, host 127.0.0.1), denied under the DENY and the other host.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from connshift.core.acls import Acl
from connshift.errors import KafkaError
from connshift.io.kafka import KafkaCluster, OutRecord
from connshift.io.sandbox import security

from .helpers import run_cli
from .test_raw_secure import Secured, secured  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Estate:
    """The test's names on both sides."""

    id: str
    source_principal: str  # the certificate DN, as a DEFAULT-rules listener names it
    principal: str  # what the destination's mTLS listener makes of CN=app-reader-<id>
    group: str
    literal: str
    pattern: str
    prefixed: str
    denied: str
    renamed: str
    renamed_to: str
    near: str  # READ from 127.0.0.1
    far: str  # READ from another host only
    source_acls: tuple[Acl, ...]

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.literal, self.prefixed, self.denied, self.renamed, self.near, self.far)

    def destination_name(self, topic: str) -> str:
        return self.renamed_to if topic == self.renamed else topic


def _plain(address: str, name: str) -> KafkaCluster:
    return KafkaCluster({"bootstrap.servers": address}, name=name)


def _estate() -> Estate:
    uid = uuid.uuid4().hex[:8]
    base = f"app.acl-{uid}."
    src_p = f"User:CN=app-reader-{uid},OU=apps"
    group = f"app-reader-{uid}"
    pattern = base + "pay."

    def allow(rtype: str, name: str, op: str, pattern_type: str = "LITERAL", **kw: str) -> Acl:
        return Acl(
            rtype,
            name,
            pattern_type,
            kw.get("principal", src_p),
            kw.get("host", "*"),
            op,
            kw.get("permission", "ALLOW"),
        )

    acls = (
        allow("TOPIC", base + "orders", "READ"),
        allow("TOPIC", base + "orders", "DESCRIBE"),
        allow("TOPIC", pattern, "READ", "PREFIXED"),
        allow("TOPIC", pattern + "secret", "READ", permission="DENY"),
        allow("TOPIC", base + "audit", "READ", host="127.0.0.1"),
        allow("TOPIC", base + "archive", "READ", host="10.255.255.1"),
        allow("TOPIC", base + "archive", "DESCRIBE"),  # seen from anywhere, read from one host
        allow("GROUP", group, "READ"),
        allow("TOPIC", base + "orders", "READ", principal="User:ANONYMOUS"),
    )
    return Estate(
        id=uid,
        source_principal=src_p,
        principal=f"User:app-reader-{uid}",
        group=group,
        literal=base + "orders",
        pattern=pattern,
        prefixed=pattern + "events",
        denied=pattern + "secret",
        renamed=pattern + "legacy",
        renamed_to=base + "legacy",
        near=base + "audit",
        far=base + "archive",
        source_acls=acls,
    )


@pytest.fixture
def acl_estate(secured: Secured) -> Iterator[Estate]:  # noqa: F811
    e = _estate()
    source = _plain(secured.source_plain, "source")
    destination = _plain(secured.destination_plain, "destination")
    for topic in e.topics:
        source.create_topic(topic, 1)
        name = e.destination_name(topic)
        destination.create_topic(name, 1)
        failed = [d for d in destination.deliver(name, [OutRecord(b"k", b"v")]) if d.error]
        assert not failed, failed
    source.create_acls(list(e.source_acls))
    # the group reads the literal topic on the source: it is one the migration moves
    source.commit_group_offsets(e.group, {(e.literal, 0): 0})
    try:
        yield e
    finally:
        source.delete_acls(list(e.source_acls))
        ours = [a for a in destination.acls() if a.principal in (e.principal, e.source_principal)]
        destination.delete_acls(ours)
        for cluster, names in (
            (source, e.topics),
            (destination, [e.destination_name(t) for t in e.topics]),
        ):
            for name in names:
                with contextlib.suppress(KafkaError):
                    cluster.delete_topic(name)
        for cluster in (source, destination):
            with contextlib.suppress(KafkaError):
                cluster.delete_groups([e.group])


def _sasl(bootstrap: str, mechanism: str, s: Secured, user: str = "connshift") -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": "SASL_SSL",
        "sasl": {
            "mechanism": mechanism,
            "username": user,
            "password": f"${{file:{s.password.with_name(user + '.password')}}}",
        },
        "tls": {"ca_file": str(s.ca)},
    }


def _mtls(s: Secured, cert: Path, key: Path) -> dict[str, Any]:
    return {
        "bootstrap_servers": s.destination_mtls,
        "security_protocol": "SSL",
        "tls": {"ca_file": str(s.ca), "cert_file": str(cert), "key_file": str(key)},
    }


def _spec(tmp_path: Path, s: Secured, e: Estate, destination: dict[str, Any], tag: str) -> Path:
    doc = {
        "version": 1,
        "name": f"acls-{e.id}",
        "source": {"kafka": _sasl(s.source_sasl, "SCRAM-SHA-512", s)},
        "destination": {"kafka": destination},
        "topics": {
            "include": [rf"app\.acl-{e.id}\..*"],
            "rename": {e.renamed: e.renamed_to},
        },
        "state_dir": str(tmp_path / "state"),
    }
    path = tmp_path / f"{tag}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(*args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_cli(*args, "--json")
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr


def _ours(rows: list[dict[str, str]], principal: str) -> set[tuple[str, ...]]:
    return {
        (
            r["resource_type"],
            r["name"],
            r["pattern_type"],
            r["host"],
            r["operation"],
            r["permission"],
        )
        for r in rows
        if r["principal"] == principal
    }


def test_acls_are_carried_under_real_authorizers_and_enforced_over_mtls(
    tmp_path: Path,
    secured: Secured,  # noqa: F811
    acl_estate: Estate,
) -> None:
    e, s = acl_estate, secured
    secret = s.password.read_text().strip()
    outputs: list[str] = []

    # 1. no principal map, destination on SASL_SSL: the certificate DNs mean nothing there
    # and nobody is ANONYMOUS there; each is a finding (not carried), exit 1
    sasl_spec = _spec(
        tmp_path, s, e, _sasl(s.destination_sasl, "SCRAM-SHA-256", s), "connshift-sasl"
    )
    rc, unmapped, err = _run("acls", "-c", str(sasl_spec), "diff")
    outputs += [json.dumps(unmapped), err]
    assert rc == 1, err
    assert unmapped["destination"]["listener"] == "sasl"
    by_id: dict[str, set[str]] = {}
    for f in unmapped["findings"]:
        by_id.setdefault(f["id"], set()).add(f["acl"]["principal"])
        assert f["what"] and f["why"] and f["fix"]
    assert by_id["acls.principal.certificate-on-sasl"] == {e.source_principal}
    assert by_id["acls.principal.anonymous"] == {"User:ANONYMOUS"}
    assert not _ours(unmapped["missing_on_destination"], e.source_principal)
    # every relevant source ACL of ours is accounted for: all of them are findings
    relevant = {tuple(r.values()) for r in unmapped["source_relevant"]}
    assert {tuple(a.__dict__.values()) for a in e.source_acls} <= relevant
    assert unmapped["not_carried"] >= len(e.source_acls)

    # 2. with the map, destination on its mTLS listener (connshift's certificate)
    pmap = tmp_path / "principals.yaml"
    pmap.write_text(f"{e.source_principal}: {e.principal}\n")
    mtls_spec = _spec(tmp_path, s, e, _mtls(s, s.client_cert, s.client_key), "connshift-mtls")
    table = run_cli("acls", "-c", str(mtls_spec), "diff", "--principal-map", str(pmap))
    outputs += [table.stdout, table.stderr]
    assert table.returncode == 1, table.stderr
    text = " ".join(table.stdout.split())  # the table wraps at the terminal width
    assert "finding acls.prefixed.renamed" in text and "why:" in text and "do:" in text
    assert "finding acls.principal.anonymous" in text
    rc, before, err = _run("acls", "-c", str(mtls_spec), "diff", "--principal-map", str(pmap))
    outputs += [json.dumps(before), err]
    assert rc == 1 and before["destination"]["listener"] == "mtls", err
    want = {
        ("TOPIC", e.literal, "LITERAL", "*", "READ", "ALLOW"),
        ("TOPIC", e.literal, "LITERAL", "*", "DESCRIBE", "ALLOW"),
        ("TOPIC", e.pattern, "PREFIXED", "*", "READ", "ALLOW"),
        ("TOPIC", e.denied, "LITERAL", "*", "READ", "DENY"),
        ("TOPIC", e.near, "LITERAL", "127.0.0.1", "READ", "ALLOW"),
        ("TOPIC", e.far, "LITERAL", "10.255.255.1", "READ", "ALLOW"),
        ("TOPIC", e.far, "LITERAL", "*", "DESCRIBE", "ALLOW"),
        ("GROUP", e.group, "LITERAL", "*", "READ", "ALLOW"),
        # the renamed topic left the prefix: carried by name, and said so
        ("TOPIC", e.renamed_to, "LITERAL", "*", "READ", "ALLOW"),
    }
    assert _ours(before["missing_on_destination"], e.principal) == want
    findings = {f["id"]: f for f in before["findings"] if e.id in json.dumps(f["acl"])}
    renamed = findings["acls.prefixed.renamed"]
    assert renamed["acl"]["name"] == e.pattern and renamed["outcome"].startswith("carried as")
    assert f"{e.renamed} -> {e.renamed_to}" in renamed["why"]
    anonymous = findings["acls.principal.anonymous"]
    assert anonymous["outcome"] == "not carried" and anonymous["acl"]["name"] == e.literal
    # the evidence holds the same findings
    evidence = json.loads((tmp_path / "state" / "evidence" / "acls.json").read_text())
    data = evidence.get("data", evidence)
    assert {f["id"] for f in data["findings"]} >= {
        "acls.prefixed.renamed",
        "acls.principal.anonymous",
    }

    # 3. apply as connshift: it may describe ACLs, not create them (no CLUSTER ALTER)
    refused = run_cli("acls", "-c", str(mtls_spec), "apply", "--principal-map", str(pmap))
    outputs += [refused.stdout, refused.stderr]
    assert refused.returncode == 3, refused.stderr
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "authorizer refused" in errors[0], refused.stderr
    plain_dst = _plain(s.destination_plain, "destination")
    assert not [a for a in plain_dst.acls() if a.principal == e.principal]

    # 4. apply as the SCRAM super user admin on the destination's SASL_SSL listener
    admin_spec = _spec(
        tmp_path, s, e, _sasl(s.destination_sasl, "SCRAM-SHA-256", s, user="admin"), "admin"
    )
    rc, applied, err = _run("acls", "-c", str(admin_spec), "apply", "--principal-map", str(pmap))
    outputs += [json.dumps(applied), err]
    assert rc == 1, err  # applied, but the ANONYMOUS entry is still not carried
    assert _ours(applied["created"], e.principal) == want
    rc, after, err = _run("acls", "-c", str(mtls_spec), "diff", "--principal-map", str(pmap))
    assert rc == 1, err  # only because of the ANONYMOUS finding
    assert not _ours(after["missing_on_destination"], e.principal)
    assert _ours(after["present_on_destination"], e.principal) == want
    held = {
        (a.resource_type, a.name, a.pattern_type, a.host, a.operation, a.permission)
        for a in plain_dst.acls()
        if a.principal == e.principal
    }
    assert held == want
    assert not [a for a in plain_dst.acls() if a.principal == "User:ANONYMOUS"]

    # 5. the destination's authorizer enforces them for a certificate CN=app-reader-<id>
    files = security.SecurityFiles(s.ca.parent.parent)
    cert_pem, key_pem = security.issue(
        files.ca_file.read_bytes(), files.ca_key.read_bytes(), f"app-reader-{e.id}"
    )
    cert, key = tmp_path / "app-reader.pem", tmp_path / "app-reader.key"
    cert.write_bytes(cert_pem)
    key.write_bytes(key_pem)
    key.chmod(0o600)
    reader = KafkaCluster(
        {
            "bootstrap.servers": s.destination_mtls,
            "security.protocol": "SSL",
            "ssl.ca.location": str(s.ca),
            "ssl.certificate.location": str(cert),
            "ssl.key.location": str(key),
        },
        name="destination",
    )
    as_group = {"group.id": e.group}  # the consumer asks for its group's coordinator
    for topic in (e.literal, e.prefixed, e.renamed_to, e.near):
        got = list(reader.read(topic, 0, timeout=30, extra=as_group))
        assert [r.value for r in got] == [b"v"], topic
    reader.commit_group_offsets(e.group, {(e.literal, 0): 1})  # the group READ
    for topic in (e.denied, e.far):
        with pytest.raises(KafkaError) as info:
            list(reader.read(topic, 0, timeout=30, extra=as_group))
        assert "TOPIC_AUTHORIZATION_FAILED" in str(info.value), topic
    # another group is refused: the group ACL is what lets it in
    with pytest.raises(KafkaError) as info:
        list(reader.read(e.literal, 0, timeout=30, extra={"group.id": f"other-{e.id}"}))
    assert "GROUP_AUTHORIZATION_FAILED" in str(info.value)

    admin_secret = s.password.with_name("admin.password").read_text().strip()
    for out in outputs:
        assert secret not in out and admin_secret not in out
