"""Bad input that needs no service: each case of ``tests/bad_inputs.py`` with tier
``unit`` runs the CLI in-process and gets its documented exit code and exactly one
``error:`` line, without a traceback. The docs table is generated from the same cases."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from connshift.cli import main as cli
from tests.bad_inputs import CASES, by_id, table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bad-inputs.md"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli.STATE, "debug", False)
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("CONNSHIFT_SANDBOX_HOME", str(tmp_path / "sandbox-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CONNSHIFT_TEST_UNSET", raising=False)
    monkeypatch.chdir(tmp_path)


def spec(tmp: Path, extra: str = "", *, src: str = CLOSED, dst: str = "127.0.0.1:2") -> Path:
    path = tmp / "spec.yaml"
    path.write_text(
        f"version: 1\nname: bad\nsource:\n  kafka: {{bootstrap_servers: '{src}'}}\n"
        f"destination:\n  kafka: {{bootstrap_servers: '{dst}'}}\n"
        f"state_dir: {tmp / 'state'}\n{extra}"
    )
    return path


def with_connect(
    tmp: Path, src: str = "http://127.0.0.1:9", dst: str = "http://127.0.0.1:10"
) -> Path:
    path = spec(tmp)
    text = path.read_text()
    text = text.replace("destination:\n", f"  connect: {{url: '{src}'}}\ndestination:\n").replace(
        "state_dir:", f"  connect: {{url: '{dst}'}}\nstate_dir:"
    )
    path.write_text(text)
    return path


def _write(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text)
    return tmp / name


def _plan_file(tmp: Path, data: object) -> Path:
    return _write(tmp, "plan.json", json.dumps(data))


Setup = Callable[[Path], list[str]]

#: case id -> how to provoke it (returns the argv; files are written under tmp)
SETUPS: dict[str, Setup] = {
    "spec-missing": lambda t: ["check", "-c", str(t / "missing.yaml")],
    "spec-yaml-syntax": lambda t: [
        "check",
        "-c",
        str(_write(t, "s.yaml", "version: 1\nsource: [\n")),
    ],
    "spec-empty": lambda t: ["check", "-c", str(_write(t, "s.yaml", ""))],
    "spec-version": lambda t: [
        "check",
        "-c",
        str(_write(t, "s.yaml", spec(t).read_text().replace("version: 1", "version: 2"))),
    ],
    "spec-unknown-key": lambda t: ["check", "-c", str(spec(t, "topicz: {}\n"))],
    "spec-bad-regex": lambda t: ["check", "-c", str(spec(t, "topics: {include: ['(']}\n"))],
    "spec-negative-number": lambda t: [
        "check",
        "-c",
        str(spec(t, "cutover: {catch_up_timeout_seconds: -5}\n")),
    ],
    "spec-bad-name": lambda t: [
        "check",
        "-c",
        str(_write(t, "s.yaml", spec(t).read_text().replace("name: bad", "name: my migration"))),
    ],
    "spec-env-unset": lambda t: ["check", "-c", str(spec(t, src="${env:CONNSHIFT_TEST_UNSET}"))],
    "spec-file-missing": lambda t: [
        "check",
        "-c",
        str(spec(t, src="${file:/no/such.properties:key}")),
    ],
    "spec-sasl-missing": lambda t: [
        "check",
        "-c",
        str(
            _write(
                t,
                "s.yaml",
                spec(t)
                .read_text()
                .replace(f"'{CLOSED}'}}", f"'{CLOSED}', security_protocol: SASL_SSL}}"),
            )
        ),
    ],
    "spec-connect-url-no-scheme": lambda t: [
        "check",
        "-c",
        str(with_connect(t, src="connect:8083")),
    ],
    "spec-rename-unselected": lambda t: [
        "check",
        "-c",
        str(spec(t, "topics: {include: ['a.*'], rename: {b: c}}\n")),
    ],
    "spec-same-cluster": lambda t: [
        "sync",
        "-c",
        str(spec(t, src="localhost:19092", dst="127.0.0.1:19092")),
    ],
    "spec-same-connect": lambda t: [
        "cutover",
        "-c",
        str(with_connect(t, src="http://localhost:8083", dst="http://127.0.0.1:8083/")),
        "some-connector",
    ],
    "state-dir-is-a-file": lambda t: [
        "sync",
        "-c",
        str(
            _write(
                t,
                "s.yaml",
                spec(t)
                .read_text()
                .replace(f"state_dir: {t / 'state'}", f"state_dir: {_write(t, 'afile', 'x')}"),
            )
        ),
    ],
    "engine-bogus": lambda t: ["sync", "-c", str(spec(t)), "--engine", "bogus"],
    "once-and-follow": lambda t: ["sync", "-c", str(spec(t)), "--once", "--follow"],
    "unknown-flag": lambda t: ["sync", "-c", str(spec(t)), "--bogus"],
    "topics-bad-regex": lambda t: ["sync", "-c", str(spec(t)), "--topics", "("],
    "groups-bad-regex": lambda t: ["groups", "-c", str(spec(t)), "translate", "--groups", "("],
    "strategy-bogus": lambda t: ["plan", "-c", str(with_connect(t)), "--strategy", "bogus"],
    "no-connect-in-spec": lambda t: ["cutover", "-c", str(spec(t)), "some-connector"],
    "plan-file-not-json": lambda t: [
        "cutover",
        "-c",
        str(with_connect(t)),
        "--plan",
        str(_write(t, "plan.json", "{not json")),
    ],
    "plan-file-not-a-plan": lambda t: [
        "cutover",
        "-c",
        str(with_connect(t)),
        "--plan",
        str(_plan_file(t, {"schema": "x", "connectors": []})),
    ],
    "plan-from-other-spec": lambda t: [
        "cutover",
        "-c",
        str(with_connect(t)),
        "--plan",
        str(
            _plan_file(
                t,
                {
                    "schema": "connshift.plan/1",
                    "spec": "another",
                    "connectors": [{"name": "c", "strategy": "resume"}],
                },
            )
        ),
    ],
    "rollback-nothing": lambda t: ["rollback", "-c", str(spec(t)), "some-connector"],
    "unreachable-kafka": lambda t: ["check", "-c", str(spec(t))],
    "unreachable-connect": lambda t: ["plan", "-c", str(with_connect(t))],
}


CLI_CASES = [c for c in by_id("unit").values() if c.id in SETUPS]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_input_gets_one_line_and_its_exit_code(
    case: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = SETUPS[case.id](tmp_path)  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as info:
        cli.run(argv)
    _out, err = capsys.readouterr()
    assert info.value.code == case.exit, err  # type: ignore[attr-defined]
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert "internal error" not in err
    # nothing was written where a cluster would keep state
    assert not (tmp_path / "state" / "journal.db").exists() or case.command == "rollback"  # type: ignore[attr-defined]


def test_a_corrupted_sync_db_is_set_aside_and_a_fresh_one_made(tmp_path: Path) -> None:
    from connshift.io.statestore import StateStore

    for name, damage in (
        ("garbage", lambda p: p.write_bytes(b"\x00garbage\xff" * 500)),
        ("truncated", lambda p: p.write_bytes(p.read_bytes()[:1500])),
    ):
        path = tmp_path / name / "sync.db"
        path.parent.mkdir()
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE filler (x TEXT)")
        db.executemany("INSERT INTO filler VALUES (?)", [("x" * 900,)] * 50)
        db.commit()
        db.close()
        damage(path)
        store = StateStore(path)
        try:
            assert store.set_aside is not None and store.set_aside.exists(), name
            assert store.all() == []
        finally:
            store.close()


def test_a_locked_or_unwritable_state_is_still_refused(tmp_path: Path) -> None:
    """Only a file that is not a database is set aside; a path that cannot be opened is
    the user's to fix (exit 2)."""
    from connshift.errors import ConfigError
    from connshift.io.statestore import StateStore

    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError):
        StateStore(tmp_path / "afile" / "sync.db")


def test_every_case_has_a_test() -> None:
    from tests.integration.test_bad_inputs import COVERED_BY, SCENARIOS

    implemented = set(SETUPS) | set(SCENARIOS) | set(COVERED_BY) | {"sync-db-corrupt-unit"}
    missing = [c.id for c in CASES if c.id not in implemented]
    assert not missing, f"documented cases without a test: {missing}"
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_docs_table_is_generated_from_the_cases() -> None:
    assert DOCS.read_text() == table(), (
        "regenerate: python -m tests.bad_inputs > docs/bad-inputs.md"
    )


def test_refuse_same_cluster_by_cluster_id() -> None:
    from connshift.app.config import parse_spec_text
    from connshift.app.sync import refuse_same_cluster, refuse_shared_destinations
    from connshift.errors import ConfigError
    from connshift.io.kafka import ClusterInfo

    s = parse_spec_text(spec(Path("/tmp")).read_text())
    one = ClusterInfo("abc", 1, [])
    with pytest.raises(ConfigError, match="same Kafka cluster"):
        refuse_same_cluster(s, one, ClusterInfo("abc", 1, []))
    refuse_same_cluster(s, one, ClusterInfo("xyz", 1, []))
    refuse_same_cluster(s, ClusterInfo(None, 1, []), ClusterInfo(None, 1, []))
    refuse_same_cluster(s)
    twice = parse_spec_text(spec(Path("/tmp"), src="localhost:9", dst="127.0.0.1:9").read_text())
    with pytest.raises(ConfigError, match=r"same Kafka cluster \(127\.0\.0\.1:9\)"):
        refuse_same_cluster(twice)
    # probe and check take such a spec: one side is all they need
    prefixed = twice.model_copy(update={"topics": twice.topics.model_copy(update={"prefix": "p."})})
    refuse_same_cluster(prefixed)
    with pytest.raises(ConfigError, match="would both be copied to b"):
        refuse_shared_destinations(["a", "b"], lambda t: "b")


def test_a_web_port_given_as_a_broker_is_named_as_one() -> None:
    """After a failed connection, connshift asks the port once: an HTTP server (a status
    line, or an HTTP/0.9 HTML page) is named as such; a broker-like answer is not."""
    import http.server
    import socket
    import threading

    from connshift.io.kafka import _answers_http

    web = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    broker = socket.create_server(("127.0.0.1", 0))

    def answer_like_a_broker() -> None:
        conn, _ = broker.accept()
        with conn:
            conn.recv(64)
            conn.sendall(b"\x00\x00\x00\x06\x00\x00\x00\x01\x00\x00")

    threading.Thread(target=answer_like_a_broker, daemon=True).start()
    try:
        web_at = f"127.0.0.1:{web.server_address[1]}"
        assert _answers_http(f"{CLOSED},{web_at}") == web_at
        assert _answers_http(f"127.0.0.1:{broker.getsockname()[1]}") is None
        assert _answers_http(CLOSED) is None
    finally:
        web.shutdown()
        web.server_close()
        broker.close()
