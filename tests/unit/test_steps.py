"""The one step executor (:mod:`connshift.app.steps`): journaled before and after, done
steps skipped on a rerun, the only dry-run point, undo on a failure that promises it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connshift.app.steps import ENDED, Executor, Learned, Op, Outcome, StepOutcome, ended
from connshift.app.steps import reverse_of as undo_of
from connshift.errors import CheckFailed
from connshift.io.journal import Journal


class Rec(Op):
    """A step that records its runs in a shared list and can be told to fail."""

    def __init__(
        self,
        name: str,
        log: list[str],
        *,
        undo: list[Op] | None = None,
        fail: bool = False,
        read_only: bool = False,
        undo_on_failure: bool = False,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.log = log
        self.undo = undo or []
        self.fail = fail
        self.read_only = read_only  # type: ignore[misc]
        self.undo_on_failure = undo_on_failure  # type: ignore[misc]
        self.data = data or {}
        self.seen: Learned = {}

    def describe(self) -> str:
        return f"do {self.name}"

    def run(self, learned: Learned) -> Outcome:
        self.log.append(self.name)
        self.seen = {k: dict(v) for k, v in learned.items()}
        if self.fail:
            raise CheckFailed(f"{self.name} failed", why="told to", fix="rerun")
        return Outcome("done", f"{self.name} ran", dict(self.data))

    def reverse(self) -> list[Op]:
        return list(self.undo)


@pytest.fixture
def journal(tmp_path: Path) -> Any:
    with Journal(tmp_path / "journal.db") as j:
        yield j


def trail(journal: Journal, unit: str = "c") -> list[tuple[str, str, str]]:
    return [(e.kind, e.step, e.status) for e in journal.entries(unit)]


def test_steps_are_journaled_before_and_after_and_pass_what_they_learned(
    journal: Journal,
) -> None:
    log: list[str] = []
    first = Rec("a", log, data={"offsets": [1, 2]})
    second = Rec("b", log)
    hooks: list[tuple[Any, ...]] = []
    out: list[StepOutcome] = []
    learned = Executor(journal, on_step=lambda *a: hooks.append(a)).run(
        "c", 1, "cutover", [first, second], out
    )
    assert log == ["a", "b"]
    assert trail(journal) == [
        ("cutover", "a", "started"),
        ("cutover", "a", "done"),
        ("cutover", "b", "started"),
        ("cutover", "b", "done"),
    ]
    assert second.seen == {"a": {"offsets": [1, 2]}}
    assert learned["a"] == {"offsets": [1, 2]}
    assert [(o.step, o.status) for o in out] == [("a", "done"), ("b", "done")]
    assert [h[3] for h in hooks] == ["started", "done", "started", "done"]


def test_a_rerun_skips_what_the_journal_has_done_and_hands_on_its_data(
    journal: Journal,
) -> None:
    log: list[str] = []
    journal.record("c", 1, "cutover", "a", "started")
    journal.record("c", 1, "cutover", "a", "done", {"offsets": [7]})
    b = Rec("b", log)
    out: list[StepOutcome] = []
    Executor(journal).run(
        "c", 1, "cutover", [Rec("a", log), b], out, done=journal.done_steps("c", 1)
    )
    assert log == ["b"]
    assert b.seen == {"a": {"offsets": [7]}}
    assert (out[0].step, out[0].status, out[0].detail) == ("a", "skipped", "done before")


def test_a_dry_run_runs_only_read_only_steps_and_journals_nothing(journal: Journal) -> None:
    log: list[str] = []
    out: list[StepOutcome] = []
    Executor(journal, dry_run=True).run(
        "c", 1, "cutover", [Rec("check", log, read_only=True), Rec("change", log)], out
    )
    assert log == ["check"]
    assert trail(journal) == []
    assert [(o.step, o.status) for o in out] == [("check", "done"), ("change", "would")]
    assert out[1].detail == "would do change"


def test_a_failure_is_journaled_and_raised_and_nothing_after_it_runs(journal: Journal) -> None:
    log: list[str] = []
    out: list[StepOutcome] = []
    with pytest.raises(CheckFailed):
        Executor(journal).run(
            "c", 1, "cutover", [Rec("a", log), Rec("b", log, fail=True), Rec("x", log)], out
        )
    assert log == ["a", "b"]
    assert trail(journal)[-1] == ("cutover", "b", "failed")
    assert (
        journal.entries("c")[-1].error is not None and "b failed" in journal.entries("c")[-1].error
    )
    assert not ended(journal, "c", 1)  # the attempt stays open: a rerun continues


def test_a_failure_that_promises_it_undoes_the_steps_done_and_ends_the_attempt(
    journal: Journal,
) -> None:
    log: list[str] = []
    out: list[StepOutcome] = []
    resume = Rec("resume-source", log)
    ops = [
        Rec("preflight", log),
        Rec("stop-source", log, undo=[resume]),
        Rec("catch-up", log, fail=True, undo_on_failure=True),
    ]
    with pytest.raises(CheckFailed):
        Executor(journal).run("c", 1, "cutover", ops, out)
    assert log == ["preflight", "stop-source", "catch-up", "resume-source"]
    assert trail(journal)[-3:] == [
        ("rollback", "resume-source", "started"),
        ("rollback", "resume-source", "done"),
        ("rollback", ENDED, "done"),
    ]
    assert ended(journal, "c", 1)


def test_undo_of_runs_the_last_steps_undo_first() -> None:
    log: list[str] = []
    a_undo, b_undo1, b_undo2 = Rec("undo-a", log), Rec("undo-b1", log), Rec("undo-b2", log)
    ops = [
        Rec("a", log, undo=[a_undo]),
        Rec("nothing", log),
        Rec("b", log, undo=[b_undo1, b_undo2]),
    ]
    assert [op.name for op in undo_of(ops)] == ["undo-b1", "undo-b2", "undo-a"]


def test_ended_counts_only_a_rollback_line_that_is_done(journal: Journal) -> None:
    journal.record("c", 1, "cutover", ENDED, "done")
    assert not ended(journal, "c", 1)
    journal.record("c", 1, "rollback", ENDED, "failed")
    assert not ended(journal, "c", 1)
    journal.record("c", 1, "rollback", ENDED, "done")
    assert ended(journal, "c", 1) and not ended(journal, "c", 2)
