"""Unit tests of the cutover executor's pure parts (:mod:`connshift.app.cutover`).

Connect is an ``httpx.MockTransport``; Kafka is never touched: the :class:`Mover` runs on a
:class:`Migration` given mocked Connect clients.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connshift.app.config import parse_spec_text
from connshift.app.context import Migration
from connshift.app.cutover import (
    CutoverRefused,
    CutoverResult,
    Mover,
    change_lsn,
    connect_version,
    plan_json,
    redact_config,
    status,
)
from connshift.app.steps import ended
from connshift.core.plan import PLAN_SCHEMA, ConnectorPlan, Shape, Strategy, plan_connector
from connshift.core.spec import Spec
from connshift.errors import CheckFailed, ExitCode
from connshift.io.connect import ConnectClient
from connshift.io.journal import Journal

SRC_URL = "http://source-connect.test:8083"
DST_URL = "http://destination-connect.test:8083"
PG = "io.debezium.connector.postgresql.PostgresConnector"
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"

SPEC = """version: 1
source:
  kafka: {bootstrap_servers: '127.0.0.1:1'}
  connect: {url: 'SRC_URL'}
destination:
  kafka: {bootstrap_servers: '127.0.0.1:2'}
  connect: {url: 'DST_URL'}
topics: {prefix: 'PREFIX'}
state_dir: STATE
"""


def make_spec(tmp_path: Path, prefix: str = "") -> Spec:
    text = (
        SPEC.replace("SRC_URL", SRC_URL)
        .replace("DST_URL", DST_URL)
        .replace("PREFIX", prefix)
        .replace("STATE", str(tmp_path / "state"))
    )
    return parse_spec_text(text, env={}, base_dir=tmp_path)


class Worker:
    """A Connect worker that answers ``GET /`` with a version and records every request."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.requests: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        if request.method == "GET" and request.url.path == "/":
            return httpx.Response(
                200, json={"version": self.version, "commit": "abc", "kafka_cluster_id": "k"}
            )
        parts = request.url.path.split("/")
        if len(parts) >= 3 and parts[1] == "connectors":  # Connect's answer for a name it lacks
            message = f"Connector {parts[2]} not found"
            return httpx.Response(404, json={"error_code": 404, "message": message})
        return httpx.Response(404, json={"error_code": 404, "message": "HTTP 404 Not Found"})


def make_mover(
    tmp_path: Path,
    src: Worker | None = None,
    dst: Worker | None = None,
    prefix: str = "",
    *,
    blockers: dict[str, Any] | None = None,
    force: bool = False,
    dry_run: bool = False,
    on_step: Any = None,
) -> Mover:
    """A Mover on a Migration whose Connect clients are mocks (Kafka is never reached)."""
    spec = make_spec(tmp_path, prefix)
    migration = Migration(
        spec,
        src_connect=ConnectClient(
            SRC_URL,
            transport=httpx.MockTransport(src or Worker("3.9.1")),
            name="source",
            conflict_backoff=0.0,
        ),
        dst_connect=ConnectClient(
            DST_URL,
            transport=httpx.MockTransport(dst or Worker("3.9.1")),
            name="destination",
            conflict_backoff=0.0,
        ),
    )
    return Mover(
        migration,
        blockers={} if blockers is None else blockers,
        force=force,
        dry_run=dry_run,
        on_step=on_step,
    )


def close(mover: Mover) -> None:
    mover.migration.src_connect.close()
    mover.migration.dst_connect.close()
    mover.migration.close()


@pytest.fixture
def movers(tmp_path: Path) -> Iterator[list[Mover]]:
    """Movers made in a test are closed after it."""
    made: list[Mover] = []
    yield made
    for m in made:
        close(m)


def mover_for(
    movers: list[Mover],
    tmp_path: Path,
    src: Worker | None = None,
    dst: Worker | None = None,
    prefix: str = "",
) -> Mover:
    m = make_mover(tmp_path, src, dst, prefix)
    movers.append(m)
    return m


def dr(topic: str) -> str:
    return "dr." + topic


def cdc_plan() -> ConnectorPlan:
    return plan_connector(
        "pg",
        PG,
        "source",
        {"connector.class": PG, "topic.prefix": "shop"},
        ["shop.public.orders"],
        destination_topic=dr,
        topic_prefix="dr.",
    )


def file_plan() -> ConnectorPlan:
    return plan_connector(
        "file", FILE_SOURCE, "source", {"topic": "lines"}, ["lines"], destination_topic=dr
    )


# --------------------------------------------------------------------------- _versions


def test_versions_refuses_a_3_4_source(tmp_path: Path, movers: list[Mover]) -> None:
    src, dst = Worker("3.4.1"), Worker("3.9.1")
    mover = mover_for(movers, tmp_path, src, dst)
    with pytest.raises(CutoverRefused) as info:
        mover.check_versions()
    err = info.value
    line = err.one_line()
    assert "\n" not in line
    assert "3.4.1" in line
    assert "3.6" in line
    assert "source" in err.what
    assert err.exit_code is ExitCode.CHECK_FAILED
    assert int(err.exit_code) == 1
    assert isinstance(err, CheckFailed)
    assert src.requests == [("GET", "/")]


def test_versions_refuses_a_3_6_destination(tmp_path: Path, movers: list[Mover]) -> None:
    mover = mover_for(movers, tmp_path, Worker("3.9.1"), Worker("3.6.2"))
    with pytest.raises(CutoverRefused) as info:
        mover.check_versions()
    line = info.value.one_line()
    assert "\n" not in line
    assert "destination" in info.value.what
    assert "3.6.2" in line
    assert "3.7" in line
    assert int(info.value.exit_code) == 1


@pytest.mark.parametrize(
    ("src", "dst"),
    [("3.9.1", "4.4.0"), ("4.4.0", "3.9.1"), ("3.6.0", "3.7.0"), ("3.9.0-SNAPSHOT", "4.0")],
)
def test_versions_accepts(tmp_path: Path, movers: list[Mover], src: str, dst: str) -> None:
    s, d = Worker(src), Worker(dst)
    mover_for(movers, tmp_path, s, d).check_versions()
    assert s.requests == [("GET", "/")]
    assert d.requests == [("GET", "/")]


@pytest.mark.parametrize("src", ["3.5.2", "2.8.0", "", "unknown"])
def test_versions_refuses_sources_before_3_6(tmp_path: Path, movers: list[Mover], src: str) -> None:
    with pytest.raises(CutoverRefused):
        mover_for(movers, tmp_path, Worker(src), Worker("3.9.1")).check_versions()


@pytest.mark.parametrize(
    ("text", "want"),
    [("3.9.1", (3, 9)), ("4.0", (4, 0)), ("3.10.0", (3, 10)), ("4", (0, 0)), ("", (0, 0))],
)
def test_version_parse(text: str, want: tuple[int, int]) -> None:
    assert connect_version(text) == want


# --------------------------------------------------------------------------- _server_keys

DEBEZIUM_OFFSETS: list[dict[str, Any]] = [
    {"partition": {"server": "shop"}, "offset": {"lsn": 123, "txId": 7}},
    {"partition": {"server": "shop", "database": "db2"}, "offset": {"lsn": 456}},
]


def test_server_keys_maps_to_the_destination_and_back(tmp_path: Path, movers: list[Mover]) -> None:
    mover = mover_for(movers, tmp_path, prefix="dr.")
    original = json.loads(json.dumps(DEBEZIUM_OFFSETS))
    there = mover.server_keys(cdc_plan(), DEBEZIUM_OFFSETS, to_destination=True)
    assert there == [
        {"partition": {"server": "dr.shop"}, "offset": {"lsn": 123, "txId": 7}},
        {"partition": {"server": "dr.shop", "database": "db2"}, "offset": {"lsn": 456}},
    ]
    assert original == DEBEZIUM_OFFSETS  # the input is not changed
    back = mover.server_keys(cdc_plan(), there, to_destination=False)
    assert back == DEBEZIUM_OFFSETS


def test_server_keys_keep_only_this_connectors_server(tmp_path: Path, movers: list[Mover]) -> None:
    """A worker remembers the offsets of every earlier incarnation of a connector name:
    only this copy's server key moves; partitions without a server key are kept."""
    mover = mover_for(movers, tmp_path, prefix="dr.")
    offsets: list[dict[str, Any]] = [
        {"partition": {"server": "other"}, "offset": {"lsn": 1}},
        {"partition": {"server": "dr.shop"}, "offset": {"lsn": 2}},
        {"partition": {"server": "x.dr.shop"}, "offset": {"lsn": 3}},
        {"partition": {"file": "/x"}, "offset": {"position": 4}},
    ]
    back = mover.server_keys(cdc_plan(), offsets, to_destination=False)
    assert back == [
        {"partition": {"server": "shop"}, "offset": {"lsn": 2}},
        {"partition": {"file": "/x"}, "offset": {"position": 4}},
    ]
    there = mover.server_keys(cdc_plan(), offsets, to_destination=True)
    assert there == [{"partition": {"file": "/x"}, "offset": {"position": 4}}]


@pytest.mark.parametrize("to_destination", [True, False])
def test_server_keys_only_for_cdc_sources(
    tmp_path: Path, movers: list[Mover], to_destination: bool
) -> None:
    mover = mover_for(movers, tmp_path, prefix="dr.")
    offsets = [{"partition": {"server": "dr.shop"}, "offset": {"lsn": 1}}]
    assert mover.server_keys(file_plan(), offsets, to_destination=to_destination) == offsets


@pytest.mark.parametrize("to_destination", [True, False])
def test_server_keys_only_with_a_spec_prefix(
    tmp_path: Path, movers: list[Mover], to_destination: bool
) -> None:
    mover = mover_for(movers, tmp_path, prefix="")
    plan = cdc_plan()
    plan.destination_config["topic.prefix"] = "shop"  # no spec prefix: the same server
    offsets = [{"partition": {"server": "shop"}, "offset": {"lsn": 1}}]
    assert mover.server_keys(plan, offsets, to_destination=to_destination) == offsets
    stale = [{"partition": {"server": "old.shop"}, "offset": {"lsn": 0}}]
    assert mover.server_keys(plan, offsets + stale, to_destination=to_destination) == offsets


# --------------------------------------------------------------------------- redact_config


def test_redact_config_hides_secret_looking_keys() -> None:
    config = {
        "database.password": "hunter2",
        "DATABASE.PASSWORD": "HUNTER2",
        "client.secret": "s",
        "oauth.token": "t",
        "producer.override.sasl.jaas.config": "PlainLoginModule required password='x';",
        "api.key": "k1",
        "apikey": "k2",
        "aws.credentials": "c",
        "database.user": "postgres",
        "topic.prefix": "shop",
        "tasks.max": "1",
    }
    out = redact_config(config)
    for key in [
        "database.password",
        "DATABASE.PASSWORD",
        "client.secret",
        "oauth.token",
        "producer.override.sasl.jaas.config",
        "api.key",
        "apikey",
        "aws.credentials",
    ]:
        assert out[key] == "***", key
    assert out["database.user"] == "postgres"
    assert out["topic.prefix"] == "shop"
    assert out["tasks.max"] == "1"
    assert config["database.password"] == "hunter2"  # the input is not changed
    assert "hunter2" not in json.dumps(out)


def test_redact_config_keeps_references() -> None:
    config = {
        "database.password": "${file:/secrets/db.properties:password}",
        "client.secret": "${env:CLIENT_SECRET}",
        "other.password": "plain${not-a-ref}",
    }
    out = redact_config(config)
    assert out["database.password"] == "${file:/secrets/db.properties:password}"
    assert out["client.secret"] == "${env:CLIENT_SECRET}"
    assert out["other.password"] == "***"


def test_plan_json_redacts() -> None:
    plan = plan_connector(
        "pg",
        PG,
        "source",
        {"connector.class": PG, "database.password": "hunter2"},
        [],
        destination_topic=dr,
    )
    doc = plan_json([plan])
    assert doc["schema"] == PLAN_SCHEMA
    assert doc["connectors"][0]["destination_config"]["database.password"] == "***"
    assert "hunter2" not in json.dumps(doc)


# --------------------------------------------------------------------------- change_lsn


def change(lsn: Any) -> dict[str, Any]:
    return {"before": None, "after": {"id": 1}, "source": {"lsn": lsn, "db": "shop"}, "op": "c"}


@pytest.mark.parametrize("lsn", [123456, "123456"])
def test_lsn_without_schemas(lsn: Any) -> None:
    assert change_lsn(json.dumps(change(lsn)).encode()) == 123456


def test_lsn_with_the_schema_envelope() -> None:
    doc = {"schema": {"type": "struct", "fields": []}, "payload": change(987654321)}
    assert change_lsn(json.dumps(doc).encode()) == 987654321


def test_lsn_of_a_payload_field_that_is_not_an_envelope() -> None:
    # a record whose own data has a "payload" string is read as it is
    doc = {**change(42), "payload": "text"}
    assert change_lsn(json.dumps(doc).encode()) == 42


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b"42",
        b'"text"',
        b"null",
        b"{}",
        b'{"source": null}',
        b'{"source": "pg"}',
        b'{"source": {"db": "shop"}}',
        b'{"source": {"lsn": null}}',
        b'{"source": {"lsn": "abc"}}',
        b'{"source": {"lsn": -5}}',
        b'{"source": {"lsn": 1.5}}',
        b'{"source": {"lsn": true}}',
        b'{"source": {"lsn": "\\u00b2"}}',
        b'{"schema": {}, "payload": null}',
        b'{"schema": {}, "payload": {"source": {}}}',
    ],
)
def test_lsn_of_junk_is_none(value: bytes | None) -> None:
    assert change_lsn(value) is None


# --------------------------------------------------------------------------- journal views


def fill_cutover(journal: Journal, name: str, attempt: int, last: str = "verify") -> None:
    for step in ["preflight", "stop-source", "read-offsets", "catch-up", "create-stopped"]:
        journal.record(name, attempt, "cutover", step, "started")
        journal.record(name, attempt, "cutover", step, "done")
        if step == last:
            return
    for step in ["write-offsets", "resume", "verify"]:
        journal.record(name, attempt, "cutover", step, "started")
        journal.record(name, attempt, "cutover", step, "done")
        if step == last:
            return


def testended(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.db") as j:
        assert not ended(j, "a", 1)
        fill_cutover(j, "a", 1)
        assert not ended(j, "a", 1)
        j.record("a", 1, "rollback", "stop-destination", "done")
        j.record("a", 1, "rollback", "rolled-back", "started")
        assert not ended(j, "a", 1)
        j.record("a", 1, "rollback", "rolled-back", "failed", error="x")
        assert not ended(j, "a", 1)
        j.record("a", 1, "rollback", "rolled-back", "done")
        assert ended(j, "a", 1)
        # only that attempt, that connector, and the rollback kind
        assert not ended(j, "a", 2)
        assert not ended(j, "b", 1)
        j.record("c", 1, "cutover", "rolled-back", "done")
        assert not ended(j, "c", 1)


def test_rolled_back_by_a_failed_catch_up(tmp_path: Path) -> None:
    """A failed catch-up closes its attempt with a rollback 'rolled-back' line."""
    with Journal(tmp_path / "journal.db") as j:
        fill_cutover(j, "a", 1, last="read-offsets")
        j.record("a", 1, "cutover", "catch-up", "started")
        j.record("a", 1, "rollback", "rolled-back", "done", {"reason": "timeout"})
        j.record("a", 1, "cutover", "catch-up", "failed", error="timeout")
        assert ended(j, "a", 1)


def test_status_of_an_empty_journal(tmp_path: Path) -> None:
    empty = {"schema": "connshift.status/1", "connectors": {}}
    assert status(Migration(make_spec(tmp_path))) == empty


def test_status_reports_the_latest_attempt(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    with Journal(Path(spec.state_dir) / "journal.db") as j:
        fill_cutover(j, "pg", 1)
        j.record("pg", 1, "rollback", "rolled-back", "done")
        j.record("pg", 2, "cutover", "preflight", "started")
        j.record("pg", 2, "cutover", "preflight", "failed", error="plugin missing")
        fill_cutover(j, "file", 1, last="stop-source")
        j.record("sink", 1, "cutover", "preflight", "started")
        j.record("sink", 1, "cutover", "preflight", "done")
        j.record("sink", 1, "rollback", "rolled-back", "done")

    doc = status(Migration(spec))
    assert doc["schema"] == "connshift.status/1"
    connectors = doc["connectors"]
    assert list(connectors) == ["file", "pg", "sink"]

    pg = connectors["pg"]
    assert pg["attempt"] == 2
    assert pg["rolled_back"] is False
    assert [(e["kind"], e["step"], e["status"], e["error"]) for e in pg["entries"]] == [
        ("cutover", "preflight", "started", None),
        ("cutover", "preflight", "failed", "plugin missing"),
    ]
    assert all(isinstance(e["at"], float) for e in pg["entries"])
    assert set(pg["entries"][0]) == {"kind", "step", "status", "at", "error"}

    file = connectors["file"]
    assert file["attempt"] == 1
    assert file["rolled_back"] is False
    assert [(e["step"], e["status"]) for e in file["entries"]] == [
        ("preflight", "started"),
        ("preflight", "done"),
        ("stop-source", "started"),
        ("stop-source", "done"),
    ]

    assert connectors["sink"]["rolled_back"] is True
    json.dumps(doc)  # JSON-ready


def test_status_does_not_leak_entry_data(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    with Journal(Path(spec.state_dir) / "journal.db") as j:
        j.record("pg", 1, "cutover", "read-offsets", "done", {"offsets": [{"secret": "x"}]})
    entry = status(Migration(spec))["connectors"]["pg"]["entries"][0]
    assert "data" not in entry


# --------------------------------------------------------------------------- the bare Mover


def test_bare_mover_talks_only_to_its_mocks(tmp_path: Path, movers: list[Mover]) -> None:
    src, dst = Worker("3.9.1"), Worker("4.0.0")
    mover = mover_for(movers, tmp_path, src, dst)
    assert mover.migration.src_connect.info().version == "3.9.1"
    assert mover.migration.dst_connect.info().version == "4.0.0"
    assert mover.journal.path == tmp_path / "state" / "journal.db"
    assert mover.timeouts.rollback_window_hours == 24.0
    assert cdc_plan().shape is Shape.CDC_SOURCE
    assert file_plan().strategy is Strategy.RESUME


# --------------------------------------------------------------------------- readiness gate

BLOCKERS = [{"scope": "estate", "row": "cost", "why": "no cost lines recorded"}]


def test_gate_refuses_a_blocked_connector_and_changes_nothing(tmp_path: Path) -> None:
    mover = make_mover(tmp_path, blockers={"pg": BLOCKERS})
    try:
        with pytest.raises(CutoverRefused) as info:
            mover.cutover([cdc_plan()])
        assert "scorecard blocks the cutover of pg" in info.value.one_line()
        assert "cost" in info.value.one_line() and "--force" in info.value.one_line()
        assert mover.journal.entries("pg") == []  # not even preflight ran
    finally:
        close(mover)


def test_gate_forced_is_journaled_before_the_first_step(tmp_path: Path) -> None:
    # preflight refuses after the gate
    mover = make_mover(tmp_path, src=Worker("3.4.0"), blockers={"pg": BLOCKERS}, force=True)
    try:
        with pytest.raises(CutoverRefused):
            mover.cutover([cdc_plan()])
        first = mover.journal.entries("pg")[0]
        assert (first.kind, first.step, first.status) == ("gate", "scorecard", "forced")
        assert first.data["blockers"] == BLOCKERS
    finally:
        close(mover)


def test_gate_in_a_dry_run_reports_instead_of_refusing(tmp_path: Path) -> None:
    mover = make_mover(tmp_path, blockers={"pg": BLOCKERS}, dry_run=True)
    result = CutoverResult(dry_run=True)
    try:
        mover._gate("pg", 1, result)
    finally:
        close(mover)
    assert [(s.step, s.status) for s in result.steps] == [("scorecard", "failed")]
    assert "would be refused" in result.steps[0].detail


# --------------------------------------------------------------------------- rollback


def journal_cutover(mover: Mover, plan: ConnectorPlan, last: str) -> None:
    """A cutover attempt of ``plan`` journaled up to ``last`` (started, not necessarily done),
    with the plan recorded at preflight as the executor does."""
    steps = [
        "preflight",
        "stop-source",
        "read-offsets",
        "catch-up",
        "create-stopped",
        "write-offsets",
        "resume",
        "verify",
    ]
    j = mover.journal
    for step in steps:
        j.record(plan.name, 1, "cutover", step, "started")
        if step == last:
            return
        data = {"plan": plan.to_json(redact_config)} if step == "preflight" else {}
        j.record(plan.name, 1, "cutover", step, "done", data)


def test_rollback_of_a_finished_cutover_is_the_reverse_of_its_steps(
    tmp_path: Path, movers: list[Mover]
) -> None:
    mover = mover_for(movers, tmp_path)
    dry = Mover(mover.migration, dry_run=True)
    journal_cutover(mover, cdc_plan(), last="")
    result = dry.rollback(["pg"])
    assert [s.step for s in result.steps] == [
        "stop-destination",  # undo of resume
        "read-destination-offsets",
        "copy-back",
        "write-source-offsets",  # undo of write-offsets
        "delete-destination",  # undo of create-stopped
        "resume-source",  # undo of stop-source
        "rolled-back",
    ]
    # only the read-only step ran (the destination has no such connector here)
    assert [s.status for s in result.steps].count("would") == 6
    assert not any(e.kind == "rollback" for e in mover.journal.entries("pg"))


def test_rollback_of_a_cutover_cut_short_undoes_only_what_it_started(
    tmp_path: Path, movers: list[Mover]
) -> None:
    mover = mover_for(movers, tmp_path)
    journal_cutover(mover, cdc_plan(), last="catch-up")  # crashed during catch-up
    result = Mover(mover.migration, dry_run=True).rollback(["pg"])
    assert [s.step for s in result.steps] == ["resume-source", "rolled-back"]


def test_rollback_uses_the_journaled_plan_not_the_source_connector(
    tmp_path: Path, movers: list[Mover]
) -> None:
    """The source Worker answers 404 to everything: planning anew would fail."""
    mover = mover_for(movers, tmp_path)
    rename = {"alpha": "zzz", "beta": "beta"}
    sink = plan_connector(
        "pg",
        FILE_SINK,
        "sink",
        {"topics": "alpha,beta"},
        [],
        destination_topic=lambda t: rename[t],
    )
    journal_cutover(mover, sink, last="")
    found = mover.journaled_plan("pg")
    assert found is not None and found.topic_map == {"alpha": "zzz", "beta": "beta"}
    assert found.source_topic("zzz") == "alpha"
    result = Mover(mover.migration, dry_run=True).rollback(["pg"])
    assert result.steps[-1].step == "rolled-back"


def test_nothing_to_roll_back_is_refused(tmp_path: Path, movers: list[Mover]) -> None:
    mover = mover_for(movers, tmp_path)
    with pytest.raises(CutoverRefused, match="no cutover to roll back"):
        mover.rollback(["pg"])


def test_a_finished_cutover_is_not_cut_over_again(tmp_path: Path, movers: list[Mover]) -> None:
    """A second attempt would hide the finished move from rollback: refused before any
    step runs, and the journal keeps the finished attempt as the latest."""
    mover = mover_for(movers, tmp_path)
    mover.blockers = []  # past the readiness gate
    journal_cutover(mover, cdc_plan(), last="")
    with pytest.raises(CutoverRefused, match="already cut over"):
        mover.cutover([cdc_plan()])
    assert mover.journal.attempt("pg") == 1
    # once rolled back, it may be cut over anew (here the refusal comes from elsewhere)
    mover.journal.record("pg", 1, "rollback", "rolled-back", "done")
    mover._refuse_already_moved("pg")


def test_a_plan_file_from_another_spec_is_refused() -> None:
    from connshift.app.cutover import check_plan_file, plan_json
    from connshift.errors import UsageError

    here = file_plan()  # lines -> dr.lines
    data = plan_json([here], "estate")
    check_plan_file(data, "plan.json", "estate", [here])  # its own spec: fine
    with pytest.raises(UsageError, match="planned for spec 'estate'"):
        check_plan_file(data, "plan.json", "other", [here])
    elsewhere = plan_connector(
        "file", FILE_SOURCE, "source", {"topic": "lines"}, ["lines"], destination_topic=str
    )
    unnamed = plan_json([elsewhere])  # an older plan.json: no spec name, other topics
    with pytest.raises(UsageError, match=r"plans file onto lines, this spec onto dr\.lines"):
        check_plan_file(unnamed, "plan.json", "estate", [here])
    with pytest.raises(UsageError, match="not a connshift plan"):
        check_plan_file({"schema": "x"}, "plan.json", "estate")
