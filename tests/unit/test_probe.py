"""Unit tests of ``connshift probe``'s pure parts and its plumbing, without a cluster.

The judgements (records read back, compaction, connector needs), the result and its JSON,
the compatibility matrix, the raw DescribeLogDirs/DescribeProducers codecs, a check that
meets an unforeseen answer (a FAIL, not a crash), and the CLI's exit codes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from connshift.app import probe as probe_app
from connshift.cli import main as cli
from connshift.core.checks import CheckResult, Status
from connshift.core.probe import (
    CHECK_IDS,
    CHECKS,
    SCHEMA,
    ProbeResult,
    compaction_view,
    connector_needs,
    record_differences,
    render_matrix,
)
from connshift.errors import ExitCode, KafkaError
from connshift.io.kafka_raw import (
    decode_describe_log_dirs_response,
    decode_describe_producers_response,
    encode_describe_log_dirs_request,
    encode_describe_producers_request,
)

# --------------------------------------------------------------------------- judgements


def test_record_differences_none_when_identical() -> None:
    recs = [(b"k", b"v", [("h", b"a"), ("h", None)]), (None, None, [])]
    assert record_differences(recs, [(k, v, list(h)) for k, v, h in recs]) == []


def test_record_differences_name_what_changed() -> None:
    sent = [(b"k", None, [("h", None)]), (b"", b"", [])]
    got = [(b"k", b"", [("h", b"")]), (None, b"", [])]
    diffs = record_differences(sent, got)
    assert any("record 0: value sent null, read b''" in d for d in diffs)
    assert any("record 0: headers" in d for d in diffs)
    assert any("record 1: key sent b''" in d and "read null" in d for d in diffs)


def test_record_differences_counts_missing_records() -> None:
    assert record_differences([(b"a", b"1", [])] * 2, [(b"a", b"1", [])]) == [
        "sent 2 records, read 1"
    ]


WRITTEN = [
    (0, b"a", b"a1"),
    (1, b"a", b"a2"),
    (2, b"b", b"b1"),
    (3, b"a", b"a3"),
    (4, b"c", b"c1"),
    (5, b"c", None),
    (6, b"a", b"a4"),
]


def test_compaction_not_started() -> None:
    view = compaction_view(WRITTEN, WRITTEN)
    assert view.superseded == [0, 1, 3, 4]
    assert not view.started and not view.done and not view.lost


def test_compaction_done_and_tombstone_may_go() -> None:
    read = [(2, b"b", b"b1"), (6, b"a", b"a4")]  # tombstone c at 5 removed too: fine
    view = compaction_view(WRITTEN, read)
    assert view.done and view.removed == view.superseded and not view.lost


def test_compaction_partial_is_not_done() -> None:
    read = [r for r in WRITTEN if r[0] != 0]
    view = compaction_view(WRITTEN, read)
    assert view.started and not view.done


def test_compaction_losing_the_latest_value_is_lost() -> None:
    read = [(2, b"b", b"b1"), (6, b"a", b"a3")]  # latest of a changed
    view = compaction_view(WRITTEN, read)
    assert view.lost == [6]
    assert not view.done


def test_connector_needs_unknown_without_inventory() -> None:
    assert connector_needs(None) is None


def test_connector_needs_from_an_inventory() -> None:
    inventory: dict[str, Any] = {
        "schema": "connshift.inventory/1",
        "connectors": [
            {
                "name": "pg",
                "class": "io.debezium.connector.postgresql.PostgresConnector",
                "type": "source",
                "config": {"topic.prefix": "shop"},
            },
            {
                "name": "pg-created",
                "class": "io.debezium.connector.postgresql.PostgresConnector",
                "type": "source",
                "config": {
                    "topic.creation.default.replication.factor": "3",
                    "topic.creation.default.partitions": "1",
                },
            },
            {
                "name": "eos",
                "class": "com.example.Source",
                "type": "source",
                "config": {"exactly.once.support": "required"},
            },
            {"name": "sink", "class": "com.example.Sink", "type": "sink", "config": {}},
        ],
        "topics": [
            {"name": "t1", "configs": {"cleanup.policy": "compact,delete"}},
            {"name": "t2", "configs": {"max.message.bytes": "5242880"}},
            {"name": "t3", "configs": {"message.timestamp.type": "LogAppendTime"}},
            {"name": "t4", "configs": {"max.message.bytes": "bogus"}},
        ],
    }
    needs = connector_needs(inventory)
    assert needs is not None
    assert needs["topics.auto-create"] == ["connector pg"]
    assert needs["transactions.commit-abort"] == ["connector eos"]
    assert needs["groups.join-commit-alter-delete"] == ["connector sink"]
    assert len(needs["connect.internal-topics"]) == 4
    assert needs["compaction.honoured"] == ["topic t1"]
    assert needs["message.max-size"] == ["topic t2"]
    assert needs["timestamps.log-append-time"] == ["topic t3"]
    assert set(needs) <= set(CHECK_IDS)


# --------------------------------------------------------------------------- the result


def _result(
    *statuses: tuple[str, Status], needs: dict[str, list[str]] | None = None
) -> ProbeResult:
    return ProbeResult(
        side="destination",
        bootstrap="127.0.0.1:9092",
        prefix="connshift-probe-0000-",
        started_at="2025-01-01T00:00:00+00:00",
        kafka_version="4.4",
        brokers=1,
        checks=[
            CheckResult(cid, st, "t", f"{cid} {st}", {"error": "E!"} if st is Status.FAIL else {})
            for cid, st in statuses
        ],
        needs=needs,
    )


def test_result_ok_and_tally() -> None:
    ok = _result(("acls.api", Status.PASS), ("logdirs.describe", Status.SKIP))
    assert ok.ok
    bad = _result(("acls.api", Status.PASS), ("logdirs.describe", Status.FAIL))
    assert not bad.ok
    assert [c.id for c in bad.failed] == ["logdirs.describe"]
    data = bad.to_json()
    assert data["schema"] == SCHEMA == "connshift.probe/1"
    assert data["tally"]["PASS"] == 1 and data["tally"]["FAIL"] == 1
    assert data["ok"] is False
    assert bad.status_of("acls.api") is Status.PASS
    assert bad.status_of("nope") is None


def test_result_json_round_trip() -> None:
    res = _result(("acls.api", Status.PASS), ("records.delete", Status.FAIL))
    res.timings = {"acls.api": 0.5}
    res.cleanup = {"leftover_topics": []}
    data = json.loads(json.dumps(res.to_json()))
    back = ProbeResult.from_json(data)
    assert back.to_json() == res.to_json()
    with pytest.raises(ValueError, match=r"connshift\.probe/1"):
        ProbeResult.from_json({"schema": "connshift.inventory/1"})


def test_needed_failures() -> None:
    res = _result(
        ("topics.auto-create", Status.FAIL),
        ("acls.api", Status.SKIP),
        ("records.delete", Status.PASS),
        needs={"topics.auto-create": ["connector pg"], "records.delete": ["x"]},
    )
    assert res.needed_failures() == {"topics.auto-create": ["connector pg"]}
    assert _result(("acls.api", Status.FAIL)).needed_failures() == {}


def test_render_matrix() -> None:
    a = _result(("acls.api", Status.PASS), ("logdirs.describe", Status.FAIL))
    b = _result(("acls.api", Status.SKIP))
    text = render_matrix(
        [("Kafka A", a), ("tansu | B", b)], title="Compatibility", preamble=["Generated."]
    )
    assert text.startswith("# Compatibility\n\nGenerated.\n")
    rows = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")
    }
    assert list(rows) == [f"`{c}`" for c, _ in CHECKS]
    assert "| PASS | **SKIP** [^1] |" in rows["`acls.api`"]
    assert "**FAIL** [^2]" in rows["`logdirs.describe`"]
    assert rows["`logdirs.describe`"].endswith("| — |")
    assert "[^2]: **logdirs.describe** on Kafka A: logdirs.describe FAIL — client error: E!" in text
    assert "[^1]: **acls.api** on tansu | B" in text
    assert "| FAIL | 1 | 0 |" in text


# --------------------------------------------------------------------------- raw codecs


def _uv(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _cs(s: str) -> bytes:
    return _uv(len(s) + 1) + s.encode()


def test_describe_log_dirs_request() -> None:
    assert encode_describe_log_dirs_request(None) == b"\x00\x00"
    assert encode_describe_log_dirs_request({"t": [0, 2]}) == (
        b"\x02" + _cs("t") + b"\x03" + struct.pack(">ii", 0, 2) + b"\x00" + b"\x00"
    )


def test_describe_log_dirs_response() -> None:
    partition = struct.pack(">iqqb", 0, 655, 0, 0) + b"\x00"
    topic = _cs("t") + b"\x02" + partition + b"\x00"
    result = (
        struct.pack(">h", 0)
        + _cs("/data")
        + b"\x02"
        + topic
        + struct.pack(">qq", 1000, 400)
        + b"\x00"
    )
    payload = b"\x00" + struct.pack(">ih", 0, 0) + b"\x02" + result + b"\x00"
    error, dirs = decode_describe_log_dirs_response(payload, broker=7)
    assert error == 0
    assert len(dirs) == 1
    d = dirs[0]
    assert (d.broker, d.path, d.total_bytes, d.usable_bytes) == (7, "/data", 1000, 400)
    assert d.partitions == {("t", 0): (655, 0, False)}


def test_describe_producers_codec() -> None:
    assert encode_describe_producers_request({"t": [0]}) == (
        b"\x02" + _cs("t") + b"\x02" + struct.pack(">i", 0) + b"\x00\x00"
    )
    producer = struct.pack(">qiiqiq", 42, 0, 9, 1234, -1, -1) + b"\x00"
    partition = struct.pack(">ih", 0, 0) + b"\x00" + b"\x02" + producer + b"\x00"
    payload = b"\x00" + struct.pack(">i", 0) + b"\x02" + _cs("t") + b"\x02" + partition
    payload += b"\x00\x00"
    states = decode_describe_producers_response(payload)
    state = states[("t", 0)]
    assert state.error == 0 and state.error_message is None
    assert [(p.producer_id, p.last_sequence) for p in state.producers] == [(42, 9)]


# --------------------------------------------------------------------------- plumbing


class _BrokenCluster:
    """A cluster whose every call is refused (or answers nonsense)."""

    bootstrap = "127.0.0.1:1"
    name = "destination"

    def create_topic(self, *_a: Any, **_k: Any) -> bool:
        raise KafkaError("could not create topic x", why="UNSUPPORTED_VERSION: nope")

    def topics(self, *_a: Any, **_k: Any) -> dict[str, Any]:
        raise ValueError("garbled metadata")


def _probe(cluster: Any, options: probe_app.ProbeOptions | None = None) -> probe_app.ProbeContext:
    return probe_app.ProbeContext(
        cluster,
        _result(),
        options or probe_app.ProbeOptions(),
        lambda _m: None,
        raw=None,
        controller=1,
    )


def _run(ctx: probe_app.ProbeContext, check_id: str) -> CheckResult:
    return probe_app.run_check(ctx, probe_app.REGISTRY.get(check_id))


def test_a_refusal_is_a_fail_with_the_client_error() -> None:
    check = _run(_probe(_BrokenCluster()), "records.delete")
    assert check.status is Status.FAIL
    assert check.evidence["error"] == "could not create topic x: UNSUPPORTED_VERSION: nope"
    assert "UNSUPPORTED_VERSION" in check.summary


def test_an_unforeseen_answer_is_a_fail_not_a_crash() -> None:
    check = _run(_probe(_BrokenCluster()), "topics.auto-create")
    assert check.status is Status.FAIL
    assert check.evidence["unexpected"] is True


def test_raw_checks_skip_when_the_raw_client_cannot_reach() -> None:
    run = _probe(_BrokenCluster())
    for cid in ("logdirs.describe", "producers.describe"):
        check = _run(run, cid)
        assert check.status is Status.SKIP
        assert "SASL mechanism" in check.summary


def test_cleanup_reports_what_it_could_not_do() -> None:
    run = _probe(_BrokenCluster(), probe_app.ProbeOptions(cleanup_timeout=0))
    out = run.cleanup()
    assert out["topics_deleted"] == []
    assert out["errors"]


# --------------------------------------------------------------------------- registry


def test_every_catalogued_check_is_registered_once_in_order() -> None:
    ids = [c.id for c in probe_app.REGISTRY.checks()]
    assert ids == list(CHECK_IDS)
    assert len(set(ids)) == len(ids) == 19
    assert sorted(probe_app.REGISTRY.ids()) == sorted(CHECK_IDS)


def test_a_check_id_is_registered_once_and_only_from_the_catalogue() -> None:
    registry = probe_app.Registry(["a.one", "a.two"])

    def fn(_ctx: probe_app.ProbeContext) -> CheckResult:
        raise AssertionError("not run")

    registry.check("a.one")(fn)
    with pytest.raises(ValueError, match="twice"):
        registry.check("a.one")(fn)
    with pytest.raises(ValueError, match="not in the catalogue"):
        registry.check("a.three")(fn)
    with pytest.raises(LookupError, match=r"a\.two"):
        registry.checks()


def test_every_needed_check_is_registered() -> None:
    inventory = {
        "connectors": [
            {
                "name": "c",
                "class": "io.debezium.connector.mysql.MySqlConnector",
                "type": "sink",
                "config": {"exactly.once.support": "required"},
            }
        ],
        "topics": [
            {
                "name": "t",
                "configs": {
                    "cleanup.policy": "compact",
                    "max.message.bytes": "9999999",
                    "message.timestamp.type": "LogAppendTime",
                },
            }
        ],
    }
    needs = connector_needs(inventory)
    assert needs is not None and len(needs) == 7  # every rule of connector_needs
    registered = set(probe_app.REGISTRY.ids())
    assert set(needs) <= registered


def test_a_registry_runs_its_checks_in_order_and_adds_needed_by() -> None:
    ran: list[str] = []
    registry = probe_app.Registry()

    @registry.check("test.needed")
    def needed(ctx: probe_app.ProbeContext) -> CheckResult:
        ran.append(ctx.name("x"))
        return CheckResult("test.needed", Status.FAIL, "t", "no", {"seen": 1})

    @registry.check("test.other")
    def other(_ctx: probe_app.ProbeContext) -> CheckResult:
        ran.append("other")
        return CheckResult("test.other", Status.PASS, "t", "yes", {})

    @registry.check("test.raises")
    def raises(_ctx: probe_app.ProbeContext) -> CheckResult:
        raise KafkaError("could not ask", why="BOOM")

    ctx = _probe(_BrokenCluster())
    ctx.result.needs = {"test.needed": ["connector pg"], "test.raises": ["topic t"]}
    said: list[str] = []
    ctx.report = said.append
    probe_app.run_checks(ctx, registry.checks())
    assert ran == ["connshift-probe-0000-x", "other"]
    by_id = {c.id: c for c in ctx.result.checks}
    assert [c.id for c in ctx.result.checks] == ["test.needed", "test.other", "test.raises"]
    assert by_id["test.needed"].evidence == {"seen": 1, "needed_by": ["connector pg"]}
    assert "needed_by" not in by_id["test.other"].evidence
    # a refusal the runner turns into a FAIL is not marked (as before the registry)
    assert by_id["test.raises"].status is Status.FAIL
    assert "needed_by" not in by_id["test.raises"].evidence
    assert set(ctx.result.timings) == {"test.needed", "test.other", "test.raises"}
    assert said[:2] == ["test.needed …", "test.needed: FAIL — no"]
    assert ctx.result.needed_failures() == {
        "test.needed": ["connector pg"],
        "test.raises": ["topic t"],
    }


def test_with_needs_without_an_inventory_leaves_the_check() -> None:
    check = CheckResult("acls.api", Status.PASS, "t", "ok", {"a": 1})
    assert probe_app.with_needs(check, None) is check
    assert probe_app.with_needs(check, {"other": ["x"]}) is check
    assert probe_app.with_needs(check, {"acls.api": ["x"]}).evidence == {
        "a": 1,
        "needed_by": ["x"],
    }


# --------------------------------------------------------------------------- CLI

SPEC = """\
version: 1
source:
  kafka:
    bootstrap_servers: 127.0.0.1:1
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:2
"""


@pytest.fixture
def spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli.STATE, "json", False)
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    return path


def _invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        cli.run(list(argv))
    out, err = capsys.readouterr()
    assert isinstance(info.value.code, int)
    return info.value.code, out, err


def test_cli_exit_1_on_a_fail_and_json(
    capsys: pytest.CaptureFixture[str], spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake(spec: Any, side: str, **kwargs: Any) -> ProbeResult:
        seen["side"] = side
        return _result(("acls.api", Status.PASS), ("logdirs.describe", Status.FAIL))

    monkeypatch.setattr(probe_app, "probe", fake)
    code, out, _ = _invoke(capsys, "probe", "-c", str(spec_file), "--side", "source", "--json")
    assert code == ExitCode.CHECK_FAILED
    assert seen["side"] == "source"
    data = json.loads(out)
    assert data["schema"] == "connshift.probe/1"
    assert [c["status"] for c in data["checks"]] == ["PASS", "FAIL"]


def test_cli_table_and_exit_0(
    capsys: pytest.CaptureFixture[str], spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_app, "probe", lambda *a, **k: _result(("acls.api", Status.PASS)))
    code, out, _ = _invoke(capsys, "probe", "-c", str(spec_file))
    assert code == 0
    assert "acls.api" in out and "PASS" in out and "cleaned up" in out


def test_cli_exit_3_when_unreachable(
    capsys: pytest.CaptureFixture[str], spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_a: Any, **_k: Any) -> ProbeResult:
        raise KafkaError("could not reach the destination Kafka cluster at 127.0.0.1:2")

    monkeypatch.setattr(probe_app, "probe", unreachable)
    code, _, err = _invoke(capsys, "probe", "-c", str(spec_file))
    assert code == ExitCode.UNREACHABLE == 3
    assert "could not reach" in err


def test_cli_bad_side_is_a_usage_error(capsys: pytest.CaptureFixture[str], spec_file: Path) -> None:
    code, _, err = _invoke(capsys, "probe", "-c", str(spec_file), "--side", "middle")
    assert code == ExitCode.USAGE
    assert "middle" in err


def test_cli_unreadable_inventory_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], spec_file: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "inventory.json"
    bad.write_text("{not json")
    code, _, err = _invoke(capsys, "probe", "-c", str(spec_file), "--inventory", str(bad))
    assert code == ExitCode.USAGE
    assert "cannot read the inventory" in err


def test_cli_passes_the_inventory_and_names_needed_failures(
    capsys: pytest.CaptureFixture[str],
    spec_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inv = tmp_path / "inventory.json"
    inv.write_text(json.dumps({"connectors": [{"name": "pg", "type": "sink"}]}))
    seen: dict[str, Any] = {}

    def fake(spec: Any, side: str, **kwargs: Any) -> ProbeResult:
        seen.update(kwargs)
        return _result(
            ("groups.join-commit-alter-delete", Status.FAIL),
            needs=connector_needs(kwargs["inventory"]),
        )

    monkeypatch.setattr(probe_app, "probe", fake)
    code, out, _ = _invoke(capsys, "probe", "-c", str(spec_file), "--inventory", str(inv))
    assert code == ExitCode.CHECK_FAILED
    assert seen["inventory"]["connectors"][0]["name"] == "pg"
    assert "the estate relies on 1 check(s) that did not pass" in out
    assert "connector pg" in out
