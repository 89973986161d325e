"""Opening connshift's SQLite files (sync state, cutover journal) the same way everywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from connshift.errors import ConfigError


def open_db(path: Path, what: str, schema: str) -> sqlite3.Connection:
    """Open (creating) ``path`` in autocommit + WAL mode and apply ``schema``.

    ``what`` names the file in the error a user sees ("the sync state", ...).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(
            f"cannot open {what} at {path}",
            why=str(exc),
            fix="check state_dir in the spec: it must be a writable directory",
        ) from exc
    return db
