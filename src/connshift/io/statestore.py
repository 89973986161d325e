"""The sync state in SQLite: per partition, the copy position and its exact offset map.

One file, ``<state_dir>/sync.db``. A checkpoint of several partitions is one
transaction, so a crash leaves either the old or the new state, never half of one.
The state may lag the destination (records produced after the last checkpoint):
``sync`` reconciles it with the destination's tail on start, by content digest.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from connshift.core.offsetmap import PartitionMap, Run
from connshift.errors import ConfigError
from connshift.io.sqlite import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS partitions (
    topic      TEXT NOT NULL,
    partition  INTEGER NOT NULL,
    dst_topic  TEXT NOT NULL,
    src_start  INTEGER NOT NULL,
    src_next   INTEGER NOT NULL,
    dst_start  INTEGER NOT NULL,
    dst_next   INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS runs (
    topic      TEXT NOT NULL,
    partition  INTEGER NOT NULL,
    src        INTEGER NOT NULL,
    dst        INTEGER NOT NULL,
    length     INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, src)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _corrupt(exc: BaseException | None) -> bool:
    """Whether SQLite said the file is not a (readable) database — not that it is locked,
    read-only or missing (OperationalError), which moving it aside would not fix."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


@dataclass
class StoredPartition:
    """A partition's state as stored: the map and the destination topic it copies to."""

    topic: str
    partition: int
    dst_topic: str
    map: PartitionMap
    updated_at: float


class StateStore:
    """SQLite-backed sync state (one writer process per partition at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        #: where an unreadable ``sync.db`` was moved before a fresh one was made (None: it
        #: was readable); sync then takes each map from the destination's mirror topic
        self.set_aside: Path | None = None
        self.db = self._open()
        self.db.execute("PRAGMA synchronous=NORMAL")
        # how many runs of each partition are already stored (to append only new ones)
        self._stored_runs: dict[tuple[str, int], int] = {}

    def _open(self) -> sqlite3.Connection:
        """Open the state; a file that is not a readable SQLite database (truncated,
        overwritten, malformed) is moved aside and a fresh state is made: the maps it held
        are mirrored in ``connshift.offset-maps`` and the destination is reconciled."""
        try:
            db = open_db(self.path, "the sync state", SCHEMA)
            if db.execute("PRAGMA quick_check").fetchone()[0] == "ok":
                return db
            db.close()
        except ConfigError as exc:
            if not _corrupt(exc.__cause__):
                raise
        self.set_aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        self.path.replace(self.set_aside)
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        return open_db(self.path, "the sync state", SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads
    def load(self, topic: str, partition: int) -> StoredPartition | None:
        row = self.db.execute(
            "SELECT dst_topic, src_start, src_next, dst_start, dst_next, updated_at "
            "FROM partitions WHERE topic = ? AND partition = ?",
            (topic, partition),
        ).fetchone()
        if row is None:
            return None
        runs = [
            Run(s, d, n)
            for s, d, n in self.db.execute(
                "SELECT src, dst, length FROM runs WHERE topic = ? AND partition = ? ORDER BY src",
                (topic, partition),
            )
        ]
        self._stored_runs[(topic, partition)] = len(runs)
        pmap = PartitionMap(
            src_start=row[1], src_next=row[2], dst_start=row[3], dst_next=row[4], runs=runs
        )
        return StoredPartition(topic, partition, row[0], pmap, row[5])

    def all(self) -> list[StoredPartition]:
        keys = self.db.execute("SELECT topic, partition FROM partitions ORDER BY topic, partition")
        out = []
        for topic, partition in list(keys):
            stored = self.load(topic, partition)
            if stored is not None:
                out.append(stored)
        return out

    # ------------------------------------------------------------------ writes
    def save(
        self, items: Iterable[tuple[str, int, str, PartitionMap]], *, full: bool = False
    ) -> None:
        """Checkpoint several partitions in one transaction (``full``: rewrite every run)."""
        now = time.time()
        # run counts as of this transaction: only trusted in the cache once it commits
        counts: dict[tuple[str, int], int] = {}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for topic, partition, dst_topic, pmap in items:
                key = (topic, partition)
                if full:
                    self.db.execute("DELETE FROM runs WHERE topic = ? AND partition = ?", key)
                    counts[key] = 0
                stored = counts[key] if key in counts else self._stored_runs.get(key)
                if stored is None:
                    (stored,) = self.db.execute(
                        "SELECT count(*) FROM runs WHERE topic = ? AND partition = ?", key
                    ).fetchone()
                # the last stored run may have grown since: rewrite it and add the new ones
                first = max(stored - 1, 0)
                self.db.executemany(
                    "INSERT OR REPLACE INTO runs (topic, partition, src, dst, length) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(topic, partition, r.src, r.dst, r.length) for r in pmap.runs[first:]],
                )
                counts[key] = len(pmap.runs)
                self.db.execute(
                    "INSERT OR REPLACE INTO partitions (topic, partition, dst_topic, src_start, "
                    "src_next, dst_start, dst_next, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        topic,
                        partition,
                        dst_topic,
                        pmap.src_start,
                        pmap.src_next,
                        pmap.dst_start,
                        pmap.dst_next,
                        now,
                    ),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._stored_runs.update(counts)

    def replace(self, topic: str, partition: int, dst_topic: str, pmap: PartitionMap) -> None:
        """Store ``pmap`` as the whole state of a partition (after loading it from elsewhere)."""
        self.save([(topic, partition, dst_topic, pmap)], full=True)

    def forget(self, topic: str, partition: int) -> None:
        """Drop a partition's state (used when its destination is found empty and fresh)."""
        self.db.execute("DELETE FROM runs WHERE topic = ? AND partition = ?", (topic, partition))
        self.db.execute(
            "DELETE FROM partitions WHERE topic = ? AND partition = ?", (topic, partition)
        )
        self._stored_runs.pop((topic, partition), None)
