"""`connshift check --permissions` on the sandbox's secured listeners.

As ``connshift`` (least-privilege ACLs, ``io/sandbox/security.py``) on SASL_SSL both sides:
``sandbox-secure.yaml`` passes — every essential need of the README's table is granted by the
ACLs, read with DescribeAcls — and is recorded with the ``check`` evidence. A spec that renames
a topic outside connshift's prefixes fails (exit 1), naming the destination topic, the
operations and the ``kafka-acls`` line that would grant them. Nothing is created.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import Sandbox
from connshift.io.kafka import KafkaCluster

from .helpers import run_cli


def _secure_spec(sandbox: Sandbox, tmp_path: Path, **topics: Any) -> Path:
    path = sandbox_mod.write_secure_spec(sandbox, tmp_path / "sandbox-secure.yaml")
    if topics:
        doc = yaml.safe_load(path.read_text())
        doc["topics"].update(topics)
        doc["name"] = f"perms-{uuid.uuid4().hex[:6]}"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_check_permissions_passes_on_sandbox_secure_yaml(sandbox: Sandbox, tmp_path: Path) -> None:
    path = _secure_spec(sandbox, tmp_path)
    proc = run_cli("check", "-c", str(path), "--permissions", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    data = json.loads(proc.stdout)
    perms = data["permissions"]
    assert perms["ok"] and perms["complete"] and perms["missing"] == 0
    assert {s["side"]: (s["principal"], s["method"]) for s in perms["sides"]} == {
        "source": ("User:connshift", "acls"),
        "destination": ("User:connshift", "acls"),
    }
    rows = perms["rows"]
    essential = [r for r in rows if r["essential"]]
    assert essential and all(r["status"] == "GRANTED" for r in essential)
    assert all(r["via"].startswith("ACL: ALLOW User:connshift") for r in essential)
    # the copy's needs are among them: the offset-map topic and sync's group
    assert {"destination", "connshift.offset-maps", "WRITE"} <= {
        v
        for r in essential
        if r["resource"] == "connshift.offset-maps" and r["operation"] == "WRITE"
        for v in (r["side"], r["resource"], r["operation"])
    }
    # optional needs (acls apply's CLUSTER ALTER) are reported, not failed
    optional = [r for r in rows if not r["essential"] and r["status"] == "MISSING"]
    assert any(r["resource_type"] == "CLUSTER" and r["operation"] == "ALTER" for r in optional)
    for user in ("admin", "connshift", "connect"):
        assert sandbox.security.password(user) not in proc.stdout + proc.stderr
    # recorded with the check evidence, which the scorecard reads
    recorded = json.loads((tmp_path / ".connshift" / "evidence" / "check.json").read_text())
    assert json.dumps(recorded).count('"connshift.permissions/1"') == 1


def test_a_rename_outside_connshifts_acls_is_named_with_its_grant(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    topic, renamed = f"app.perms-{tag}", f"perms-renamed-{tag}"
    source = KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"}, name="source"
    )
    source.create_topic(topic, 1)
    try:
        path = _secure_spec(
            sandbox, tmp_path, include=[topic.replace(".", r"\.")], rename={topic: renamed}
        )
        proc = run_cli("check", "-c", str(path), "--permissions", timeout=300)
        assert proc.returncode == 1, proc.stderr + proc.stdout[-3000:]
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, proc.stderr
        assert "destination principal lacks" in errors[0] and renamed in errors[0]
        out = " ".join(proc.stdout.split())  # the terminal may wrap
        assert f"MISSING destination topic {renamed}: CREATE" in out
        grant = (
            f"kafka-acls --bootstrap-server 127.0.0.1:{sandbox.ports['destination-kafka-sasl']} "
            "--command-config admin.properties --add --allow-principal User:connshift "
            "--operation CREATE --operation DESCRIBE --operation WRITE --operation READ "
            f"--topic {renamed}"
        )
        assert grant in out
        # the JSON names the same, and the check created nothing on the destination
        again = run_cli("check", "-c", str(path), "--permissions", "--json", timeout=300)
        assert again.returncode == 1, again.stderr
        data = json.loads(again.stdout)
        assert data["ok"] is False
        missing = {
            (r["side"], r["resource"], r["operation"])
            for r in data["permissions"]["rows"]
            if r["essential"] and r["status"] == "MISSING"
        }
        assert missing == {
            ("destination", renamed, op) for op in ("CREATE", "DESCRIBE", "WRITE", "READ")
        }
        assert grant in data["permissions"]["grants"]
        destination = KafkaCluster(
            {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['destination-kafka']}"},
            name="destination",
        )
        assert renamed not in destination.topics()
    finally:
        source.delete_topic(topic)
