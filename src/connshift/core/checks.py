"""Evidence as data: every check connshift runs yields a :class:`CheckResult`.

Validation, probe and the scorecard are streams of these; reports only render them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """The outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    INFO = "INFO"


@dataclass(frozen=True)
class CheckResult:
    """One check: what was checked, the outcome, and the evidence behind it."""

    id: str
    status: Status
    subject: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": str(self.status),
            "subject": self.subject,
            "summary": self.summary,
            "evidence": self.evidence,
        }


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    """The failing results."""
    return [r for r in results if r.status is Status.FAIL]


def tally(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many results of each status."""
    out = {s.value: 0 for s in Status}
    for r in results:
        out[r.status.value] += 1
    return out
