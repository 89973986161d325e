"""``connshift sandbox seed``: a small, realistic estate on the sandbox's source side.

What it creates (all idempotent: what exists is left alone):

- connectors on the source Connect worker:
  ``shop-cdc`` (Debezium PostgreSQL on the ``shop`` database: topics
  ``shop.public.customers`` and ``shop.public.orders``), ``files-source``
  (FileStream source: a file of access-log lines into ``files.access-log``) and
  ``files-sink`` (FileStream sink: ``app.events`` into a file; its consumer group
  is ``connect-files-sink``);
- topics with the shapes that make offsets hard to keep:
  ``app.events`` (3 partitions, keyed JSON, headers), ``app.customers-compacted``
  (compacted, with updates and tombstones, cleaned before seed returns),
  ``app.payments-tx`` (transactional producer, every third transaction aborted:
  control markers and aborted records leave holes), ``app.audit-trimmed``
  (first records removed with delete-records: the log start moved);
- consumer groups with committed offsets: ``billing-service`` (app.events),
  ``payments-reader`` (app.payments-tx), ``audit-reader`` (app.audit-trimmed).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from connshift.app.sandbox import Sandbox
from connshift.core.acls import Acl
from connshift.errors import SandboxError
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.postgres import WriterStats, live_writer
from connshift.io.sandbox.services import HOST, POSTGRES_PASSWORD, POSTGRES_USER

Reporter = Callable[[str], None]

EVENTS = "app.events"
COMPACTED = "app.customers-compacted"
TRANSACTIONAL = "app.payments-tx"
TRIMMED = "app.audit-trimmed"
FILE_TOPIC = "files.access-log"
CDC_TOPICS = ("shop.public.customers", "shop.public.orders")

#: ACLs on the source: three cover migrated topics/groups, the last one does not
SEED_ACLS = [
    Acl("TOPIC", EVENTS, "LITERAL", "User:billing", "*", "READ", "ALLOW"),
    Acl("GROUP", "billing-service", "LITERAL", "User:billing", "*", "READ", "ALLOW"),
    Acl("TOPIC", "app.payments", "PREFIXED", "User:payments", "*", "READ", "ALLOW"),
    Acl("TOPIC", "shop.", "PREFIXED", "User:cdc", "*", "WRITE", "ALLOW"),
    Acl("TOPIC", "hr.", "PREFIXED", "User:hr", "*", "READ", "ALLOW"),
]

TRIMMED_RECORDS = 200
TRIMMED_DELETE_BEFORE = 60
TX_COUNT = 12
TX_SIZE = 10


@dataclass
class SeedResult:
    """What seed created (or found already there)."""

    topics_created: list[str] = field(default_factory=list)
    connectors_created: list[str] = field(default_factory=list)
    groups_committed: list[str] = field(default_factory=list)
    acls_created: int = 0
    connectors: dict[str, str] = field(default_factory=dict)  # name -> state
    topic_records: dict[str, int] = field(default_factory=dict)  # topic -> high watermark sum

    def to_json(self) -> dict[str, Any]:
        return {"schema": "connshift.seed/1", **self.__dict__}


def connector_configs(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    """The seeded connectors' configurations (as created on the source worker)."""
    files = sandbox.files_dir()
    pg_port = sandbox.ports["postgres"]
    return {
        "shop-cdc": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": HOST,
            "database.port": str(pg_port),
            "database.user": POSTGRES_USER,
            # from the workers' FileConfigProvider (<home>/secrets/shop-db.properties), not
            # inline: both workers resolve it, so a cutover carries the reference unchanged
            "database.password": sandbox.security.db_password_reference(),
            "database.dbname": "shop",
            "topic.prefix": "shop",
            "plugin.name": "pgoutput",
            "slot.name": "connshift_shop",
            "publication.name": "connshift_shop",
            "publication.autocreate.mode": "filtered",
            "table.include.list": "public.customers,public.orders",
            "snapshot.mode": "initial",
            # -1: the broker's default.replication.factor (3 with `sandbox up --source-brokers 3`)
            "topic.creation.default.replication.factor": "-1",
            "topic.creation.default.partitions": "1",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        },
        "files-source": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": str(files / "access.log"),
            "topic": FILE_TOPIC,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "topic.creation.default.replication.factor": "-1",
            "topic.creation.default.partitions": "1",
        },
        "files-sink": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "1",
            "file": str(files / "app-events.out"),
            "topics": EVENTS,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        },
    }


def _password_moved(current: dict[str, str], wanted: dict[str, str]) -> bool:
    """True when ``wanted`` takes ``database.password`` from a config provider and the
    connector's ``current`` configuration does not."""
    want = wanted.get("database.password", "")
    return want.startswith("${") and current.get("database.password") != want


def _json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _seed_events(kafka: KafkaCluster) -> None:
    rng = random.Random(1)
    records = []
    for i in range(300):
        user = f"user-{rng.randrange(40)}"
        records.append(
            (
                user.encode(),
                _json(
                    {
                        "seq": i,
                        "user": user,
                        "type": rng.choice(["page_view", "add_to_cart", "checkout", "login"]),
                    }
                ),
            )
        )
    kafka.produce(EVENTS, records, headers=[("source", b"seed"), ("schema", b"event/1")])


def _seed_compacted(kafka: KafkaCluster, report: Reporter, timeout: float = 60.0) -> None:
    # several rounds so segments roll (segment.ms is tiny) and the cleaner has work
    for rnd in range(6):
        records: list[tuple[bytes | str | None, bytes | str | None]] = []
        for k in range(40):
            if rnd == 0 and k % 4 == 0:
                # written once, never updated: survives compaction between removed records
                records.append((f"customer-static-{k}".encode(), _json({"static": k})))
            key = f"customer-{k}".encode()
            if rnd == 4 and k % 10 == 0:
                records.append((key, None))  # tombstone
            else:
                records.append((key, _json({"customer": k, "version": rnd, "pad": "x" * 200})))
        kafka.produce(COMPACTED, records)
        time.sleep(0.3)
    report("waiting for the log cleaner to compact app.customers-compacted")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kafka.produce(COMPACTED, [(b"customer-roll", _json({"roll": time.time()}))])
        offsets = [r.offset for r in kafka.read(COMPACTED, 0)]
        if any(b - a > 1 for a, b in pairwise(offsets)):  # holes inside the log, not only before
            return
        time.sleep(1.0)
    raise SandboxError(
        f"{COMPACTED} was not compacted within {timeout:.0f}s",
        why="the source broker's log cleaner did not run",
        fix="see the source-kafka log under the sandbox home",
    )


def _seed_transactional(kafka: KafkaCluster) -> None:
    producer = kafka.transactional_producer("connshift-seed-payments")
    for t in range(TX_COUNT):
        producer.begin_transaction()
        for i in range(TX_SIZE):
            payment = {"tx": t, "n": i, "amount_cents": 100 * (t + 1) + i}
            producer.produce(TRANSACTIONAL, key=f"payment-{t}-{i}".encode(), value=_json(payment))
        # send before deciding: an abort purges records still in the client's buffer, and
        # the point of this topic is aborted records *in the log*
        producer.flush(30)
        if t % 3 == 2:
            producer.abort_transaction(30)
        else:
            producer.commit_transaction(30)
    producer.flush(30)


def _seed_trimmed(kafka: KafkaCluster) -> None:
    kafka.produce(
        TRIMMED,
        [(f"audit-{i}".encode(), _json({"audit": i})) for i in range(TRIMMED_RECORDS)],
    )
    kafka.delete_records(TRIMMED, {0: TRIMMED_DELETE_BEFORE})


def _seed_file(path: Path) -> None:
    if path.exists():
        return
    rng = random.Random(3)
    lines = [
        f"127.0.0.1 - - [26/Nov/2026:03:{i // 60:02d}:{i % 60:02d} +0000] "
        f'"GET /products/{rng.randrange(500)} HTTP/1.1" 200 {rng.randrange(200, 9000)}'
        for i in range(120)
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o666)


def _reclaim(sandbox: Sandbox, report: Reporter) -> None:
    """Bring seeded connectors that were cut over back to the source (a sandbox reset).

    For each one found on the destination: stop it there, carry its positions back to
    the (stopped) source connector — a Debezium connector must continue from where the
    replication slot is, not from before the cutover — delete it there, resume it on
    the source. A source connector left FAILED (e.g. by an older reset) has its offsets
    reset and starts again from a snapshot.
    """
    ports = sandbox.ports
    configs = connector_configs(sandbox)
    with (
        ConnectClient(f"http://{HOST}:{ports['destination-connect']}", name="destination") as dst,
        ConnectClient(f"http://{HOST}:{ports['source-connect']}", name="source") as src,
    ):
        for name, config in configs.items():
            if not src.exists(name):
                continue
            status = src.status(name)
            state = status.state
            if any(t.state == "FAILED" for t in status.tasks):
                state = "FAILED"
            if dst.exists(name):
                report(f"bringing {name} back from the destination (seed restores the estate)")
                dst_server = dst.connector_config(name).get("topic.prefix")
                dst.stop(name)
                dst.wait_for_state(name, "STOPPED", timeout=60)
                offsets = [  # only its own position (a worker keeps every old incarnation's)
                    e
                    for e in dst.get_offsets(name)
                    if e.get("partition", {}).get("server", dst_server) == dst_server
                ]
                dst.delete(name)
                if state != "STOPPED":
                    src.stop(name)
                    src.wait_for_state(name, "STOPPED", timeout=60)
                    state = "STOPPED"
                sink = "topics" in config
                if offsets and not sink:
                    server = config.get("topic.prefix")
                    for entry in offsets:
                        part = entry.get("partition", {})
                        if server and "server" in part:
                            part["server"] = server
                    src.alter_offsets(name, offsets)
            if state == "FAILED":
                report(f"{name} is FAILED on the source: resetting its offsets")
                src.stop(name)
                deadline = time.monotonic() + 60
                while src.status(name).state != "STOPPED" and time.monotonic() < deadline:
                    time.sleep(0.5)  # (its failed task's status may linger: not waited on)
                src.reset_offsets(name)
                state = "STOPPED"
            if state in ("STOPPED", "PAUSED"):
                report(f"resuming {name} on the source")
                src.resume(name)


def seed(
    sandbox: Sandbox,
    *,
    timeout: float = 120.0,
    report: Reporter = lambda _msg: None,
) -> SeedResult:
    """Create the seeded estate on the sandbox's source side (idempotent)."""
    ports = sandbox.ports
    kafka = KafkaCluster({"bootstrap.servers": f"{HOST}:{ports['source-kafka']}"}, name="source")
    kafka.check_reachable()
    result = SeedResult()

    topics: list[tuple[str, int, dict[str, str], Callable[[], None]]] = [
        (EVENTS, 3, {}, lambda: _seed_events(kafka)),
        (
            COMPACTED,
            1,
            {
                "cleanup.policy": "compact",
                "segment.ms": "100",
                "segment.bytes": "16384",
                "min.cleanable.dirty.ratio": "0.01",
                "min.compaction.lag.ms": "0",
            },
            lambda: _seed_compacted(kafka, report),
        ),
        (TRANSACTIONAL, 1, {}, lambda: _seed_transactional(kafka)),
        (TRIMMED, 1, {"retention.ms": str(30 * 24 * 3600 * 1000)}, lambda: _seed_trimmed(kafka)),
    ]
    for name, partitions, config, fill in topics:
        if kafka.create_topic(name, partitions, replication_factor=-1, config=config):
            report(f"creating topic {name}")
            fill()
            result.topics_created.append(name)

    groups = {
        "billing-service": {(EVENTS, 0): 40, (EVENTS, 1): 25, (EVENTS, 2): 0},
        "payments-reader": {(TRANSACTIONAL, 0): 44},
        "audit-reader": {(TRIMMED, 0): 120},
    }
    for group, offsets in groups.items():
        if not kafka.group_offsets(group):
            kafka.commit_group_offsets(group, offsets)
            result.groups_committed.append(group)

    if set(SEED_ACLS) - set(kafka.acls()):
        kafka.create_acls(SEED_ACLS)
        result.acls_created = len(SEED_ACLS)

    files = sandbox.files_dir()
    files.mkdir(parents=True, exist_ok=True)
    _seed_file(files / "access.log")
    _reclaim(sandbox, report)
    with ConnectClient(f"http://{HOST}:{ports['source-connect']}", name="source") as connect:
        existing = set(connect.connectors())
        for name, config in connector_configs(sandbox).items():
            if name not in existing:
                report(f"creating connector {name}")
                connect.create(name, config)
                result.connectors_created.append(name)
            elif _password_moved(connect.connector_config(name), config):
                # seeded by an older connshift with the password inline
                report(f"moving {name}'s database password to the config provider")
                connect.put_config(name, config)
        for name in connector_configs(sandbox):
            connect.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=timeout)
            result.connectors[name] = "RUNNING"

    # every seeded connector's topic must have received records
    want = [*CDC_TOPICS, FILE_TOPIC, EVENTS, COMPACTED, TRANSACTIONAL, TRIMMED]
    deadline = time.monotonic() + timeout
    while True:
        present = kafka.topics()
        counts = {}
        for t in want:
            if t in present:
                counts[t] = sum(kafka.watermarks(t, p)[1] for p in range(present[t].partitions))
        if all(counts.get(t, 0) > 0 for t in want):
            break
        if time.monotonic() > deadline:
            empty = [t for t in want if counts.get(t, 0) == 0]
            raise SandboxError(
                "seeded connectors did not write their topics in time",
                why="no records yet in " + ", ".join(empty),
                fix="check `connshift sandbox status` and the source-connect log",
            )
        time.sleep(1.0)
    result.topic_records = counts
    return result


def live(
    sandbox: Sandbox,
    *,
    rate: float = 20.0,
    duration: float | None = None,
    max_changes: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> WriterStats:
    """Keep inserting and updating ``shop`` rows (``sandbox seed --live``)."""
    return live_writer(
        HOST,
        sandbox.ports["postgres"],
        POSTGRES_USER,
        POSTGRES_PASSWORD,
        rate=rate,
        duration=duration,
        max_changes=max_changes,
        should_stop=should_stop,
    )
