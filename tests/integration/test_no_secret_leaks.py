"""No secret from the spec, the sandbox or a connector config lands in anything connshift
writes (issue 12, item 6).

Distinctive secrets are planted wherever a user could put one:

- the source's SCRAM password as an ``${env:...}`` reference (the sandbox's own password);
- the destination on the mTLS listener with an *encrypted* client key whose passphrase is
  written inline in the spec (``tls.key_password``);
- a connector on the source with secrets in its config: an inline ``*.password``, an API key,
  a password inside a JDBC URL's query and one in a URL's user info, a JAAS config.

Then the whole journey runs as a user would, from a working directory of its own — check,
inventory, probe, review, plan, sync, validate, groups, acls, cutover, status, rollback,
score, the report in its three formats, and a failing command under ``--debug`` — and every
byte it printed, every file it wrote, and the offset maps it mirrored to the destination
are scanned for each secret.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization

from connshift.app import sandbox as sandbox_mod
from connshift.app.sandbox import Sandbox

from .helpers import connect, kafka, run_cli, wait_for

FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def test_no_planted_secret_in_anything_connshift_prints_keeps_or_mirrors(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    files = sandbox.security
    secrets = {
        "key passphrase": f"kp-{uuid.uuid4().hex}",
        "inline password": f"pw-{uuid.uuid4().hex}",
        "api key": f"ak-{uuid.uuid4().hex}",
        "jdbc url password": f"ju-{uuid.uuid4().hex}",
        "url user info": f"ui-{uuid.uuid4().hex}",
        "jaas password": f"ja-{uuid.uuid4().hex}",
        "scram password": files.password_file("connshift").read_text().strip(),
    }
    work = tmp_path / "work"
    work.mkdir()
    inputs = tmp_path / "inputs"  # what the user wrote: not scanned
    inputs.mkdir()

    # the destination's client key, encrypted with a passphrase the spec holds inline
    key = serialization.load_pem_private_key(files.client_key.read_bytes(), None)
    encrypted = inputs / "connshift.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(secrets["key passphrase"].encode()),
        )
    )
    spec = sandbox_mod.write_secure_spec(sandbox, inputs / "spec.yaml")
    doc = yaml.safe_load(spec.read_text())
    topic, name = f"app.leak{tag}", f"leak{tag}-source"
    doc["source"]["kafka"]["sasl"]["password"] = "${env:CONNSHIFT_LEAK_SOURCE_PASSWORD}"
    doc["destination"]["kafka"] = {
        "bootstrap_servers": f"127.0.0.1:{sandbox.ports['destination-kafka-mtls']}",
        "security_protocol": "SSL",
        "tls": {
            "ca_file": str(files.ca_file),
            "cert_file": str(files.client_cert),
            "key_file": str(encrypted),
            "key_password": secrets["key passphrase"],
        },
    }
    doc["connectors"] = {"include": [name]}
    doc["topics"]["include"] = [topic.replace(".", r"\.")]
    doc["state_dir"] = str(work / "state")
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = {"CONNSHIFT_LEAK_SOURCE_PASSWORD": secrets["scram password"]}

    lines = inputs / "lines.txt"
    lines.write_text("".join(f"line {i}\n" for i in range(20)))
    config = {
        "connector.class": FILE_SOURCE,
        "tasks.max": "1",
        "file": str(lines),
        "topic": topic,
        "connection.password": secrets["inline password"],
        "service.api.key": secrets["api key"],
        "connection.url": f"jdbc:postgresql://db:5432/shop?user=app&password="
        f"{secrets['jdbc url password']}&ssl=true",
        "callback.url": f"https://app:{secrets['url user info']}@hooks.example/ping",
        "service.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
        f'required username="app" password="{secrets["jaas password"]}";',
    }
    kafka(sandbox, "source").create_topic(topic, 1)
    outputs: list[Any] = []

    def cli(*args: str, ok: tuple[int, ...] = (0,)) -> Any:
        proc = run_cli(*args, env=env, cwd=work, timeout=300)
        assert proc.returncode in ok, (args, proc.returncode, proc.stderr[-2000:])
        outputs.append((args, proc))
        return proc

    with connect(sandbox, "source") as src_c, connect(sandbox, "destination") as dst_c:
        try:
            src_c.create(name, config)
            src_c.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
            wait_for(
                lambda: kafka(sandbox, "source").watermarks(topic, 0)[1] == 20, 60, "the lines"
            )
            c = str(spec)
            cli("check", "-c", c)
            cli("check", "-c", c, "--json")
            cli("inventory", "-c", c)
            cli("inventory", "-c", c, "--json")
            cli("probe", "-c", c, "--json", ok=(0, 1))
            cli("review", "-c", c, "--json", ok=(0, 1))
            cli("plan", "-c", c, "--json")
            cli("sync", "-c", c, "--once")
            cli("validate", "-c", c, "--json")
            cli("groups", "-c", c, "translate", "--json")
            cli("acls", "-c", c, "diff", "--json")
            cli("cutover", "--force", "-c", c, name, "--json")
            cli("status", "-c", c, "--json")
            cli("rollback", "-c", c, name, "--json")
            cli("score", "-c", c, "--json", ok=(0, 1))
            for fmt in ("html", "json", "md"):
                cli("report", "-c", c, "--format", fmt, "-o", str(work / f"report.{fmt}"))
            cli("--debug", "offsets", "-c", c, f"{topic}-absent", "0", "0", ok=(1, 2, 3))
        finally:
            for client in (dst_c, src_c):
                if client.exists(name):
                    client.delete(name)

    assert (work / "report.html").stat().st_size > 0
    for args, proc in outputs:
        for what, secret in secrets.items():
            assert secret not in proc.stdout, f"{what} in the output of {args}"
            assert secret not in proc.stderr, f"{what} in the stderr of {args}"
    written = [p for p in work.rglob("*") if p.is_file()]
    assert any(p.name == "journal.db" for p in written), written
    for path in written:
        data = path.read_bytes()
        for what, secret in secrets.items():
            assert secret.encode() not in data, f"{what} in {path}"
    maps = [r.value or b"" for r in kafka(sandbox, "destination").read("connshift.offset-maps", 0)]
    assert maps
    for what, secret in secrets.items():
        assert not any(secret.encode() in value for value in maps), f"{what} in the offset maps"
