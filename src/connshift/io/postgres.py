"""The only module that talks to PostgreSQL (psycopg).

Used by the sandbox (the ``shop`` database behind the Debezium connector and the
live writer that keeps changing it) and by tests that check what CDC captured.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from connshift.errors import PostgresError

SHOP_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id          serial PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    name        text NOT NULL,
    tier        text NOT NULL DEFAULT 'standard',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
    id           serial PRIMARY KEY,
    customer_id  integer NOT NULL REFERENCES customers(id),
    status       text NOT NULL DEFAULT 'new',
    amount_cents integer NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
"""

FIRST_NAMES = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie"]
ORDER_STATUSES = ["new", "paid", "packed", "shipped", "delivered"]


def _dsn(host: str, port: int, user: str, password: str, dbname: str) -> str:
    return f"host={host} port={port} user={user} password={password} dbname={dbname}"


def connect(host: str, port: int, user: str, password: str, dbname: str) -> psycopg.Connection:
    """Open a connection, mapping failures to :class:`PostgresError` (password never shown)."""
    try:
        return psycopg.connect(_dsn(host, port, user, password, dbname), connect_timeout=5)
    except psycopg.Error as exc:
        # psycopg's message names host and port but not the password
        raise PostgresError(
            f"could not connect to PostgreSQL at {host}:{port}/{dbname}",
            why=str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            fix="check that PostgreSQL is running (`connshift sandbox status`)",
        ) from exc


def can_connect(host: str, port: int, user: str, password: str, dbname: str) -> bool:
    """True when a connection can be opened right now."""
    try:
        connect(host, port, user, password, dbname).close()
    except PostgresError:
        return False
    return True


def ensure_shop_database(host: str, port: int, user: str, password: str) -> None:
    """Create the ``shop`` database with ``customers`` and ``orders`` and a few rows."""
    with connect(host, port, user, password, "postgres") as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'shop'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE shop")
    with connect(host, port, user, password, "shop") as conn:
        conn.execute(SHOP_SCHEMA)
        (count,) = conn.execute("SELECT count(*) FROM customers").fetchone() or (0,)
        if count == 0:
            rng = random.Random(7)
            for i in range(20):
                _insert_customer(conn, rng, i)
            for _ in range(40):
                _insert_order(conn, rng)
        conn.commit()


def _insert_customer(conn: psycopg.Connection, rng: random.Random, n: int) -> None:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    email = f"{name.lower().replace(' ', '.')}.{n}.{rng.randrange(10**6)}@example.com"
    conn.execute("INSERT INTO customers (email, name) VALUES (%s, %s)", (email, name))


def _insert_order(conn: psycopg.Connection, rng: random.Random) -> None:
    conn.execute(
        "INSERT INTO orders (customer_id, amount_cents) "
        "SELECT id, %s FROM customers ORDER BY random() LIMIT 1",
        (rng.randrange(100, 100_000),),
    )


@dataclass
class WriterStats:
    """What the live writer did: every change is one committed transaction."""

    inserts: int = 0
    updates: int = 0
    #: the PostgreSQL transaction id of every committed change (Debezium's source.txId)
    txids: list[int] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.inserts + self.updates


def live_writer(
    host: str,
    port: int,
    user: str,
    password: str,
    *,
    rate: float = 20.0,
    max_changes: int | None = None,
    duration: float | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_change: Callable[[WriterStats], None] | None = None,
    seed: int | None = None,
) -> WriterStats:
    """Keep inserting and updating ``shop`` rows (one transaction each) until told to stop.

    Bounded by ``max_changes`` and/or ``duration`` (seconds) when given; ``rate`` is
    changes per second. Returns what it did.
    """
    rng = random.Random(seed)
    stats = WriterStats()
    interval = 1.0 / rate if rate > 0 else 0.0
    deadline = time.monotonic() + duration if duration is not None else None
    with connect(host, port, user, password, "shop") as conn:
        n = 0
        while not should_stop():
            if max_changes is not None and stats.changes >= max_changes:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            roll = rng.random()
            try:
                if roll < 0.2:
                    _insert_customer(conn, rng, 10_000 + n)
                    stats.inserts += 1
                elif roll < 0.5:
                    _insert_order(conn, rng)
                    stats.inserts += 1
                elif roll < 0.8:
                    conn.execute(
                        "UPDATE orders SET status = %s, updated_at = now() "
                        "WHERE id = (SELECT id FROM orders ORDER BY random() LIMIT 1)",
                        (rng.choice(ORDER_STATUSES),),
                    )
                    stats.updates += 1
                else:
                    conn.execute(
                        "UPDATE customers SET tier = %s, updated_at = now() "
                        "WHERE id = (SELECT id FROM customers ORDER BY random() LIMIT 1)",
                        (rng.choice(["standard", "gold", "platinum"]),),
                    )
                    stats.updates += 1
                row = conn.execute("SELECT txid_current()").fetchone()
                conn.commit()
                if row is not None:
                    stats.txids.append(int(row[0]))
            except psycopg.Error as exc:
                raise PostgresError(
                    "the live writer could not change the shop database",
                    why=str(exc).strip().splitlines()[0],
                    fix="check PostgreSQL (`connshift sandbox status`)",
                ) from exc
            n += 1
            if on_change is not None:
                on_change(stats)
            if interval:
                time.sleep(interval)
    return stats
