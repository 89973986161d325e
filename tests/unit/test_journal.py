"""Unit tests of the cutover journal (:mod:`connshift.io.journal`) on a tmp SQLite file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connshift.errors import ConfigError, ExitCode
from connshift.io.journal import Entry, Journal


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "state" / "journal.db") as j:
        yield j


def steps(entries: list[Entry]) -> list[tuple[str, str, str]]:
    return [(e.kind, e.step, e.status) for e in entries]


def test_new_journal_creates_its_folder_and_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "journal.db"
    with Journal(path) as j:
        assert path.exists()
        assert j.entries() == []
        assert j.connectors() == []
        assert j.attempt("x") == 0
        assert j.attempt_entries("x", 1) == []
        assert j.done_steps("x", 1) == {}


def test_unwritable_state_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError) as info:
        Journal(blocker / "journal.db")
    assert info.value.exit_code is ExitCode.USAGE
    assert "state_dir" in info.value.one_line()


def test_record_and_entries_in_order(journal: Journal) -> None:
    before = time.time()
    journal.record("a", 1, "cutover", "preflight", "started")
    journal.record("b", 1, "cutover", "preflight", "started")
    journal.record("a", 1, "cutover", "preflight", "done", {"note": "ok"})
    journal.record("a", 1, "cutover", "stop-source", "failed", error="boom")
    after = time.time()

    everything = journal.entries()
    assert [(e.connector, e.step, e.status) for e in everything] == [
        ("a", "preflight", "started"),
        ("b", "preflight", "started"),
        ("a", "preflight", "done"),
        ("a", "stop-source", "failed"),
    ]
    ids = [e.id for e in everything]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(before <= e.at <= after for e in everything)

    only_a = journal.entries("a")
    assert steps(only_a) == [
        ("cutover", "preflight", "started"),
        ("cutover", "preflight", "done"),
        ("cutover", "stop-source", "failed"),
    ]
    assert only_a[0].data == {}
    assert only_a[0].error is None
    assert only_a[1].data == {"note": "ok"}
    assert only_a[2].error == "boom"
    assert journal.entries("nobody") == []


def test_data_round_trips_as_json(journal: Journal) -> None:
    offsets = [
        {"partition": {"server": "shop"}, "offset": {"lsn": 123, "txId": None, "ok": True}},
    ]
    journal.record("a", 1, "cutover", "read-offsets", "done", {"offsets": offsets, "n": 1.5})
    (entry,) = journal.entries("a")
    assert entry.data == {"offsets": offsets, "n": 1.5}


def test_entry_to_json(journal: Journal) -> None:
    journal.record("a", 2, "rollback", "copy-back", "skipped", {"moved": {}})
    doc = journal.entries()[0].to_json()
    assert doc["connector"] == "a"
    assert doc["attempt"] == 2
    assert doc["kind"] == "rollback"
    assert doc["step"] == "copy-back"
    assert doc["status"] == "skipped"
    assert doc["data"] == {"moved": {}}
    assert doc["error"] is None
    fields = {"id", "connector", "attempt", "kind", "step", "status", "at", "data", "error"}
    assert set(doc) == fields


def test_attempt_is_the_latest_per_connector(journal: Journal) -> None:
    assert journal.attempt("a") == 0
    journal.record("a", 1, "cutover", "preflight", "done")
    assert journal.attempt("a") == 1
    journal.record("a", 2, "cutover", "preflight", "done")
    journal.record("b", 7, "cutover", "preflight", "done")
    # a late line of an older attempt does not lower it
    journal.record("a", 1, "rollback", "rolled-back", "done")
    assert journal.attempt("a") == 2
    assert journal.attempt("b") == 7
    assert journal.attempt("c") == 0


def test_attempt_entries_only_that_attempt_and_connector(journal: Journal) -> None:
    journal.record("a", 1, "cutover", "preflight", "done")
    journal.record("a", 2, "cutover", "preflight", "started")
    journal.record("b", 1, "cutover", "preflight", "started")
    journal.record("a", 1, "rollback", "rolled-back", "done")
    journal.record("a", 2, "cutover", "preflight", "done")

    one = journal.attempt_entries("a", 1)
    assert steps(one) == [("cutover", "preflight", "done"), ("rollback", "rolled-back", "done")]
    assert {(e.connector, e.attempt) for e in one} == {("a", 1)}
    two = journal.attempt_entries("a", 2)
    assert steps(two) == [("cutover", "preflight", "started"), ("cutover", "preflight", "done")]
    assert journal.attempt_entries("a", 3) == []


def test_done_steps_keeps_the_last_done_or_skipped_per_step(journal: Journal) -> None:
    journal.record("a", 1, "cutover", "preflight", "started")
    journal.record("a", 1, "cutover", "preflight", "done", {"n": 1})
    journal.record("a", 1, "cutover", "stop-source", "started")
    journal.record("a", 1, "cutover", "stop-source", "failed", error="timeout")
    journal.record("a", 1, "cutover", "write-offsets", "skipped", {"why": "fresh"})
    journal.record("a", 1, "cutover", "preflight", "done", {"n": 2})  # a rerun did it again
    journal.record("a", 1, "cutover", "read-offsets", "started")  # crashed in it

    done = journal.done_steps("a", 1)
    assert set(done) == {"preflight", "write-offsets"}
    assert done["preflight"].data == {"n": 2}
    assert done["preflight"].status == "done"
    assert done["write-offsets"].status == "skipped"
    assert done["write-offsets"].data == {"why": "fresh"}


def test_done_steps_is_per_kind_attempt_and_connector(journal: Journal) -> None:
    journal.record("a", 1, "cutover", "preflight", "done")
    journal.record("a", 1, "rollback", "stop-destination", "done")
    journal.record("a", 1, "rollback", "copy-back", "skipped")
    journal.record("a", 2, "cutover", "stop-source", "done")
    journal.record("b", 1, "cutover", "verify", "done")

    assert set(journal.done_steps("a", 1)) == {"preflight"}
    assert set(journal.done_steps("a", 1, "cutover")) == {"preflight"}
    assert set(journal.done_steps("a", 1, "rollback")) == {"stop-destination", "copy-back"}
    assert set(journal.done_steps("a", 2)) == {"stop-source"}
    assert set(journal.done_steps("b", 1)) == {"verify"}
    assert journal.done_steps("b", 2) == {}


def test_done_steps_later_failure_does_not_undo_a_done(journal: Journal) -> None:
    journal.record("a", 1, "cutover", "resume", "done", {"running_at": 1.0})
    journal.record("a", 1, "cutover", "resume", "failed", error="late")
    assert journal.done_steps("a", 1)["resume"].data == {"running_at": 1.0}


def test_connectors_distinct_and_sorted(journal: Journal) -> None:
    for name in ["zeta", "alpha", "mid", "alpha", "zeta"]:
        journal.record(name, 1, "cutover", "preflight", "started")
    assert journal.connectors() == ["alpha", "mid", "zeta"]


def test_reopen_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal(path) as j:
        j.record("a", 1, "cutover", "preflight", "done", {"k": "v"})
        j.record("a", 1, "cutover", "stop-source", "started")
        written = j.entries()

    with Journal(path) as j:
        assert j.entries() == written
        assert j.connectors() == ["a"]
        assert j.attempt("a") == 1
        assert set(j.done_steps("a", 1)) == {"preflight"}
        # and it keeps appending after what is there
        j.record("a", 1, "cutover", "stop-source", "done")
        assert [e.id for e in j.entries()][:2] == [e.id for e in written]
        assert j.entries()[-1].id > written[-1].id
        assert set(j.done_steps("a", 1)) == {"preflight", "stop-source"}

    with Journal(path) as j:
        assert len(j.entries()) == 3


def test_two_handles_see_each_others_lines(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal(path) as writer, Journal(path) as reader:
        writer.record("a", 1, "cutover", "preflight", "done")
        assert steps(reader.entries("a")) == [("cutover", "preflight", "done")]
