"""The `connshift` command as a user runs it: one-line errors, documented exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from connshift.app.sandbox import Sandbox

CLI = [sys.executable, "-m", "connshift.cli.main"]


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env, check=False
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def spec_text(source_kafka: str, dest_kafka: str, extra: str = "") -> str:
    return (
        "version: 1\n"
        f"source:\n  kafka:\n    bootstrap_servers: '{source_kafka}'\n"
        f"destination:\n  kafka:\n    bootstrap_servers: '{dest_kafka}'\n" + extra
    )


def test_malformed_spec_is_one_line_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: 1\nsource: [unclosed\n")
    proc = run("check", "-c", str(spec))
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "bad.yaml" in line and "line" in line


def test_unknown_key_is_named_exit_2(tmp_path: Path) -> None:
    spec = tmp_path / "typo.yaml"
    spec.write_text(spec_text("127.0.0.1:19092", "127.0.0.1:29092").replace("kafka:", "kafak:", 1))
    proc = run("check", "-c", str(spec))
    assert proc.returncode == 2
    assert "source.kafak" in one_error_line(proc)


def test_unreachable_cluster_is_one_line_exit_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    spec = tmp_path / "unreachable.yaml"
    spec.write_text(spec_text(f"127.0.0.1:{closed}", f"127.0.0.1:{closed}"))
    proc = run("check", "-c", str(spec))
    assert proc.returncode == 3
    line = one_error_line(proc)
    assert f"127.0.0.1:{closed}" in line and "source" in line


def test_check_passes_on_the_sandbox_spec_and_hides_secrets(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = tmp_path / "sandbox.yaml"
    up = run("sandbox", "up", "--with-tansu", "--spec", str(spec), "--json")
    assert up.returncode == 0, up.stderr
    info = json.loads(up.stdout)
    assert info["healthy"] is True
    assert info["started"] == []  # idempotent: everything was already running
    assert "postgres:postgres@" not in up.stdout
    # sandbox-secure.yaml beside it, the secured listeners among the endpoints, no password
    assert info["secure_spec"] == str(tmp_path / "sandbox-secure.yaml")
    assert (tmp_path / "sandbox-secure.yaml").is_file()
    assert info["endpoints"]["destination.kafka.mtls"].endswith(
        f":{sandbox.ports['destination-kafka-mtls']}"
    )
    for user in ("admin", "connshift", "connect"):
        assert sandbox.security.password(user) not in up.stdout + up.stderr

    # a spec whose Connect worker needs a password given through the environment
    text = spec.read_text().replace(
        'url: "http://127.0.0.1:18083"',
        'url: "http://127.0.0.1:18083"\n    auth:\n      username: admin\n'
        '      password: "${env:CS_TEST_PW}"',
    )
    assert "${env:CS_TEST_PW}" in text
    spec.write_text(text)
    import os

    env = {**os.environ, "CS_TEST_PW": "hunter2-very-secret"}
    proc = run("check", "-c", str(spec), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "hunter2-very-secret" not in proc.stdout + proc.stderr
    checks = json.loads(proc.stdout)["checks"]
    assert {(c["side"], c["service"], c["status"]) for c in checks} == {
        ("source", "kafka", "PASS"),
        ("source", "connect", "PASS"),
        ("destination", "kafka", "PASS"),
        ("destination", "connect", "PASS"),
    }


def test_sandbox_status_json(sandbox: Sandbox) -> None:
    proc = run("sandbox", "status", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    names = {s["name"]: s for s in info["services"]}
    assert set(names) >= {
        "source-kafka",
        "destination-kafka",
        "postgres",
        "source-connect",
        "destination-connect",
        "s3",
        "tansu",
    }
    assert all(s["healthy"] and s["pid"] for s in names.values())
