"""The cutover journal (SQLite, ``<state_dir>/journal.db``).

Every step of every connector's cutover (and rollback) is recorded *before* it
runs and again *after*, with what it learned (offsets read, what it created).
A rerun after a crash continues from here; ``rollback`` replays it backwards;
``connshift status`` shows it. One *attempt* is one cutover of one connector, from
its first step to verification or to its rollback.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connshift.io.sqlite import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    connector  TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    kind       TEXT NOT NULL,          -- cutover | rollback
    step       TEXT NOT NULL,
    status     TEXT NOT NULL,          -- started | done | failed | skipped
    at         REAL NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    error      TEXT
);
CREATE INDEX IF NOT EXISTS journal_connector ON journal (connector, attempt);
"""


@dataclass(frozen=True)
class Entry:
    """One journal line."""

    id: int
    connector: str
    attempt: int
    kind: str
    step: str
    status: str
    at: float
    data: dict[str, Any]
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Journal:
    """Append-only record of cutover and rollback steps."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = open_db(self.path, "the cutover journal", SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[Entry]:
        return [
            Entry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8])
            for r in self.db.execute(sql, args)
        ]

    # ------------------------------------------------------------------ writes
    def record(
        self,
        connector: str,
        attempt: int,
        kind: str,
        step: str,
        status: str,
        data: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO journal (connector, attempt, kind, step, status, at, data, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (connector, attempt, kind, step, status, time.time(), json.dumps(data or {}), error),
        )

    # ------------------------------------------------------------------ reads
    def entries(self, connector: str | None = None) -> list[Entry]:
        if connector is None:
            return self._rows(
                "SELECT id, connector, attempt, kind, step, status, at, data, error FROM journal "
                "ORDER BY id",
                (),
            )
        return self._rows(
            "SELECT id, connector, attempt, kind, step, status, at, data, error FROM journal "
            "WHERE connector = ? ORDER BY id",
            (connector,),
        )

    def attempt(self, connector: str) -> int:
        """The connector's latest attempt number (0 when it never started)."""
        row = self.db.execute(
            "SELECT max(attempt) FROM journal WHERE connector = ?", (connector,)
        ).fetchone()
        return int(row[0] or 0)

    def attempt_entries(self, connector: str, attempt: int) -> list[Entry]:
        return self._rows(
            "SELECT id, connector, attempt, kind, step, status, at, data, error FROM journal "
            "WHERE connector = ? AND attempt = ? ORDER BY id",
            (connector, attempt),
        )

    def done_steps(self, connector: str, attempt: int, kind: str = "cutover") -> dict[str, Entry]:
        """Steps of an attempt that finished, with their last 'done' entry."""
        out: dict[str, Entry] = {}
        for e in self.attempt_entries(connector, attempt):
            if e.kind == kind and e.status in ("done", "skipped"):
                out[e.step] = e
        return out

    def connectors(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT connector FROM journal ORDER BY 1")]
