"""Steps as data, and the one executor that runs them.

Like alembic's operations: each step of a flow (a connector's cutover, its rollback,
repointing the workers) is an object that can :meth:`Op.describe` itself, :meth:`Op.run`
itself, and say which steps undo it (:meth:`Op.reverse`). One :class:`Executor` runs a
list of them, and is the only place that

- records each step in the journal before it runs and after it ends (done, skipped or
  failed, with what it learned),
- skips what the journal says is done, so a rerun after a crash continues,
- decides a dry run: a read-only step runs, every other one is described ("would ..."),
- undoes the steps done so far when a step that promises it fails
  (:attr:`Op.undo_on_failure`: the catch-up of a stopped connector resumes it).

A rollback is the reverse of the journaled flow: :func:`reverse_of` turns the steps an
attempt started, newest first, into the steps that undo them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connshift.errors import ConnshiftError
from connshift.io.journal import Entry, Journal

Reporter = Callable[[str], None]
#: called as a step starts (seconds None) and ends: (unit, kind, step, status, seconds)
StepHook = Callable[[str, str, str, str, float | None], None]
#: what earlier steps learned, by step name (from this run or from the journal)
Learned = Mapping[str, Mapping[str, Any]]


@dataclass
class Outcome:
    """What a step did: ``done`` or ``skipped`` (nothing to do), a line, what it learned."""

    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepOutcome:
    """One step of one unit (a connector, the workers) as the command reports it."""

    connector: str
    step: str
    status: str  # done | skipped | would | failed | forced
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Op:
    """One step: what it does, how it runs, what undoes it."""

    #: the step's name in the journal and the output
    name: ClassVar[str] = ""
    #: a read-only step also runs in a dry run (it changes nothing)
    read_only: ClassVar[bool] = False
    #: when it fails, the executor undoes the steps done before it and ends the attempt
    undo_on_failure: ClassVar[bool] = False

    def describe(self) -> str:
        """What the step does, in one line."""
        raise NotImplementedError

    def run(self, learned: Learned) -> Outcome:
        """Do it; ``learned`` holds what earlier steps recorded."""
        raise NotImplementedError

    def reverse(self) -> list[Op]:
        """The steps that undo this one, in order (none: nothing to undo)."""
        return []


def reverse_of(ops: Sequence[Op]) -> list[Op]:
    """The steps undoing ``ops`` (in the order they ran): the last one's undo first."""
    out: list[Op] = []
    for op in reversed(ops):
        out.extend(op.reverse())
    return out


def _fault_injection(step: str) -> None:
    """Tests set CONNSHIFT_CRASH_AFTER_STEP to kill -9 this process right after a step."""
    if os.environ.get("CONNSHIFT_CRASH_AFTER_STEP") == step:
        os.kill(os.getpid(), signal.SIGKILL)


class Executor:
    """Runs steps, journaled; the only place where a dry run is decided."""

    def __init__(
        self,
        journal: Journal,
        *,
        dry_run: bool = False,
        report: Reporter | None = None,
        on_step: StepHook | None = None,
    ) -> None:
        self.journal = journal
        self.dry_run = dry_run
        self.report: Reporter = report or (lambda _m: None)
        self.on_step: StepHook = on_step or (lambda *_a: None)

    def run(
        self,
        unit: str,
        attempt: int,
        kind: str,
        ops: Sequence[Op],
        outcomes: list[StepOutcome],
        *,
        done: Mapping[str, Entry] | None = None,
        learned: Mapping[str, Mapping[str, Any]] | None = None,
        undo_kind: str = "rollback",
    ) -> dict[str, dict[str, Any]]:
        """Run ``ops`` of ``unit``'s ``attempt`` as ``kind`` steps; return what they learned.

        ``done`` are the steps the journal already has as done (skipped now), ``learned``
        what earlier flows of the attempt recorded (a rollback reads its cutover's).
        """
        done = dict(done or {})
        known: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (learned or {}).items()}
        for step, entry in done.items():
            known[step] = dict(entry.data)
        ran: list[Op] = []
        for op in ops:
            if op.name in done:
                outcomes.append(
                    StepOutcome(unit, op.name, "skipped", "done before", done[op.name].data)
                )
                ran.append(op)
                continue
            if self.dry_run and not op.read_only:
                outcomes.append(StepOutcome(unit, op.name, "would", "would " + op.describe()))
                continue
            if self.dry_run:
                result = op.run(known)
                outcomes.append(StepOutcome(unit, op.name, "done", result.detail, result.data))
                known[op.name] = result.data
                continue
            self.report(f"{unit}: {'' if kind == 'cutover' else kind + ' '}{op.name}")
            self.journal.record(unit, attempt, kind, op.name, "started")
            self.on_step(unit, kind, op.name, "started", None)
            began = time.monotonic()
            try:
                result = op.run(known)
            except ConnshiftError as exc:
                self.journal.record(unit, attempt, kind, op.name, "failed", error=exc.one_line())
                outcomes.append(StepOutcome(unit, op.name, "failed", exc.one_line()))
                self.on_step(unit, kind, op.name, "failed", time.monotonic() - began)
                # an error may ask for it too (a refusal after the source was stopped)
                if op.undo_on_failure or getattr(exc, "undo_attempt", False):
                    self._undo(unit, attempt, undo_kind, ran, known, outcomes, exc)
                raise
            self.on_step(unit, kind, op.name, result.status, time.monotonic() - began)
            self.journal.record(unit, attempt, kind, op.name, result.status, result.data)
            outcomes.append(StepOutcome(unit, op.name, result.status, result.detail, result.data))
            known[op.name] = result.data
            ran.append(op)
            _fault_injection(op.name)
        return known

    def _undo(
        self,
        unit: str,
        attempt: int,
        kind: str,
        ran: Sequence[Op],
        known: dict[str, dict[str, Any]],
        outcomes: list[StepOutcome],
        cause: ConnshiftError,
    ) -> None:
        """Undo ``ran`` after a failure and end the attempt (a rerun starts anew)."""
        for op in reverse_of(ran):
            self.journal.record(unit, attempt, kind, op.name, "started")
            result = op.run(known)
            self.journal.record(unit, attempt, kind, op.name, result.status, result.data)
            outcomes.append(StepOutcome(unit, op.name, result.status, result.detail, result.data))
        self.journal.record(unit, attempt, kind, ENDED, "done", {"reason": cause.one_line()})


#: the journal step that ends an attempt by undoing it (a rollback, or an undone failure)
ENDED = "rolled-back"


def ended(journal: Journal, unit: str, attempt: int) -> bool:
    """Whether ``unit``'s ``attempt`` was undone (rolled back) to its end."""
    return any(
        e.kind == "rollback" and e.step == ENDED and e.status == "done"
        for e in journal.attempt_entries(unit, attempt)
    )
