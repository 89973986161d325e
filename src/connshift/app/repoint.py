"""``connshift cutover --repoint-workers``: move a Connect cluster by moving its state.

The other migration shape. Instead of re-creating each connector on a destination Connect
cluster (``connshift cutover NAME``), the source Connect cluster's three internal topics
(configs, offsets, status) are copied to the destination Kafka cluster with sync's exact
offsets, the sink connectors' consumer groups are translated there, and the *same* workers
are restarted with ``bootstrap.servers`` pointing at the destination. Every connector comes
back with its config, its target state, its source offsets and its sink positions; none is
re-created.

Preconditions, checked before anything is written:

- nothing may write to the internal topics while they are copied: the workers are shut down,
  or every connector and task is STOPPED, PAUSED or FAILED. When the spec names
  ``source.connect`` and it answers, a connector that still runs is refused; when it does not
  answer, the workers are taken as shut down;
- the data topics keep their names (no ``topics.prefix``, no ``topics.rename`` of a topic a
  connector uses): the connector configs are copied as they are and name those topics;
- the three internal topics exist on the source.

Then, in order: the connectors' data topics are synced to their end (``cutover.run_sync``),
the internal topics are created on the destination (compacted, the source's partition
counts and configs) and copied in-process by :mod:`connshift.app.sync` under a derived spec
that selects exactly them (no prefix, no rename, its own sync group), and
``groups apply`` commits each sink connector's group on the destination. The result lists
what was copied and the worker settings to change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connshift.app import groups as groups_app
from connshift.app.context import Migration
from connshift.app.steps import Executor, Learned, Op, Outcome, StepOutcome
from connshift.app.sync import SyncOptions, sync
from connshift.core.spec import Spec
from connshift.core.topicconfig import map_topic_configs
from connshift.errors import CheckFailed, ConnectError, ConnectRequestError, UsageError
from connshift.io.connect import ConnectClient, ConnectorNotFoundError, ConnectorStatus
from connshift.io.kafka import KafkaCluster

Reporter = Callable[[str], None]

REPOINT_SCHEMA = "connshift.repoint/1"
DEFAULT_CONFIG_TOPIC = "connect-configs"
DEFAULT_OFFSET_TOPIC = "connect-offsets"
DEFAULT_STATUS_TOPIC = "connect-status"

#: connector/task states in which nothing is written (to the data or the internal topics)
QUIET_STATES = frozenset({"STOPPED", "PAUSED", "FAILED"})
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


class RepointRefused(CheckFailed):
    """The workers cannot be repointed as things stand; nothing was changed."""


# ---------------------------------------------------------------------------- Connect's topics


@dataclass(frozen=True)
class ConnectorRecord:
    """One connector as the config topic holds it."""

    name: str
    config: Mapping[str, str]
    #: RUNNING, PAUSED or STOPPED (Connect's STARTED is shown as RUNNING)
    target_state: str = "RUNNING"

    @property
    def group(self) -> str:
        """The consumer group a sink connector commits its positions in."""
        return self.config.get("consumer.override.group.id") or f"connect-{self.name}"


def parse_config_topic(
    records: Iterable[tuple[bytes | None, bytes | None]],
) -> dict[str, ConnectorRecord]:
    """The live connectors in a Connect config topic's ``(key, value)`` records, in order.

    ``connector-<name>`` holds ``{"properties": {...}}`` (a tombstone deletes the connector);
    ``target-state-<name>`` holds ``{"state": ..., "state.v2": ...}`` (``state.v2`` carries
    STOPPED, which older workers read as PAUSED). Other keys (tasks, commits, session keys)
    are not needed here.
    """
    configs: dict[str, dict[str, str]] = {}
    states: dict[str, str] = {}
    for raw_key, raw_value in records:
        if raw_key is None:
            continue
        key = raw_key.decode(errors="replace")
        doc = _json_object(raw_value)
        if key.startswith("connector-"):
            name = key[len("connector-") :]
            props = doc.get("properties") if doc is not None else None
            if isinstance(props, dict):
                configs[name] = {str(k): str(v) for k, v in props.items()}
            else:
                configs.pop(name, None)
                states.pop(name, None)
        elif key.startswith("target-state-"):
            name = key[len("target-state-") :]
            if doc is None:
                states.pop(name, None)
                continue
            state = str(doc.get("state.v2") or doc.get("state") or "STARTED")
            states[name] = "RUNNING" if state == "STARTED" else state
    return {
        name: ConnectorRecord(name, config, states.get(name, "RUNNING"))
        for name, config in sorted(configs.items())
    }


def parse_topic_tracking(
    records: Iterable[tuple[bytes | None, bytes | None]],
) -> dict[str, set[str]]:
    """Connector -> the topics it used, from a Connect status topic's records (KIP-558).

    Keys are ``status-topic-<topic>:connector-<connector>``, values
    ``{"topic": {"name": ..., "connector": ..., ...}}``; a tombstone (a reset) forgets one.
    """
    seen: dict[tuple[str, str], bool] = {}
    for raw_key, raw_value in records:
        if raw_key is None:
            continue
        key = raw_key.decode(errors="replace")
        if not key.startswith("status-topic-"):
            continue
        doc = _json_object(raw_value)
        info = doc.get("topic") if doc is not None else None
        if isinstance(info, dict) and info.get("name") and info.get("connector"):
            seen[(str(info["connector"]), str(info["name"]))] = True
            continue
        topic, sep, connector = key[len("status-topic-") :].rpartition(":connector-")
        if sep:
            seen[(connector, topic)] = doc is not None
    out: dict[str, set[str]] = {}
    for (connector, topic), alive in seen.items():
        if alive:
            out.setdefault(connector, set()).add(topic)
    return out


def _json_object(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# ---------------------------------------------------------------------------- the running check


def source_connect_client(spec: Spec) -> ConnectClient | None:
    """The source Connect REST client of ``spec`` (None when the spec names none)."""
    side = spec.source.connect
    if side is None:
        return None
    auth = None
    if side.auth is not None:
        auth = (side.auth.username, side.auth.password.get_secret_value())
    return ConnectClient(str(side.url), auth=auth, name="source", timeout=5.0)


def _active(status: ConnectorStatus) -> str | None:
    """Why this connector still writes (None when it and its tasks are quiet)."""
    if status.state not in QUIET_STATES:
        return status.state
    busy = [t for t in status.tasks if t.state not in QUIET_STATES]
    if busy:
        return f"{status.state} with task {busy[0].id} {busy[0].state}"
    return None


def check_source_quiet(client: ConnectClient | None) -> str:
    """Refuse when the source Connect cluster answers and a connector (or task) still runs.

    Returns a one-line note of what was found. A worker that does not answer is taken as
    shut down (that is the expected state); one that answers with an error is reported
    (exit 3): the check cannot be made.
    """
    if client is None:
        return "source.connect not in the spec: not checked (the workers must be shut down)"
    try:
        names = client.connectors()
    except ConnectRequestError:
        raise
    except ConnectError:
        return f"source Connect at {client.url} does not answer: taken as shut down"
    busy: dict[str, str] = {}
    for name in names:
        try:
            why = _active(client.status(name))
        except ConnectorNotFoundError:
            continue  # deleted meanwhile
        if why is not None:
            busy[name] = why
    if busy:
        name, why = next(iter(sorted(busy.items())))
        more = f" (and {len(busy) - 1} more)" if len(busy) > 1 else ""
        raise RepointRefused(
            f"connector {name} is {why} on the source Connect cluster{more}",
            why="copying the internal topics of a running Connect cluster races with it "
            "(offsets and configs written after the copy would be lost)",
            fix="shut the source workers down (or stop every connector: "
            "PUT /connectors/<name>/stop), then rerun",
            connector=name,
        )
    return f"source Connect at {client.url}: {len(names)} connector(s), none running"


# ---------------------------------------------------------------------------- results


@dataclass
class CopiedTopic:
    """One internal topic, copied (or, in a dry run, to be copied)."""

    topic: str
    partitions: int
    source_end: int  # the source end offsets, summed over partitions
    created: bool
    identical_offsets: bool | None  # None in a dry run
    configs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RepointResult:
    """What ``cutover --repoint-workers`` copied, and what the user changes next."""

    config_topic: str
    offset_topic: str
    status_topic: str
    dry_run: bool = False
    source_connect: str = ""
    topics: list[CopiedTopic] = field(default_factory=list)
    connectors: list[dict[str, Any]] = field(default_factory=list)
    data_topics: list[str] = field(default_factory=list)
    groups_applied: list[str] = field(default_factory=list)
    groups_refused: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    checklist: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    steps: list[StepOutcome] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPOINT_SCHEMA,
            "steps": [s.to_json() for s in self.steps],
            "dry_run": self.dry_run,
            "internal_topics": {
                "config": self.config_topic,
                "offset": self.offset_topic,
                "status": self.status_topic,
            },
            "source_connect": self.source_connect,
            "topics": [t.to_json() for t in self.topics],
            "connectors": self.connectors,
            "data_topics": self.data_topics,
            "groups_applied": self.groups_applied,
            "groups_refused": self.groups_refused,
            "worker_settings": self.settings,
            "checklist": self.checklist,
            "warnings": self.warnings,
        }


# ---------------------------------------------------------------------------- the verb


def _check_names(names: Sequence[str]) -> None:
    for option, name in zip(
        ("--config-topic", "--offset-topic", "--status-topic"), names, strict=True
    ):
        if name in (".", "..") or not _TOPIC_NAME.fullmatch(name):
            raise UsageError(
                f"{option} {name!r} is not a valid Kafka topic name",
                fix="give the worker's config.storage.topic / offset.storage.topic / "
                "status.storage.topic",
            )
    if len(set(names)) != 3:
        raise UsageError(
            "--config-topic, --offset-topic and --status-topic must be three different topics",
            fix="give the worker's config.storage.topic, offset.storage.topic and "
            "status.storage.topic",
        )


def _read_pairs(cluster: KafkaCluster, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    out: list[tuple[bytes | None, bytes | None]] = []
    for p in range(cluster.topics()[topic].partitions):
        out.extend((r.key, r.value) for r in cluster.read(topic, p, timeout=120))
    return out


def _behind(migration: Migration, topics: Iterable[str], *, own_names: bool = False) -> list[str]:
    """``topic[p] (copied up to a, ...)`` for each partition not copied to its end."""
    out = []
    src = migration.src
    infos = src.topics()
    migration.maps.refresh()
    for topic in topics:
        for p in range(infos[topic].partitions):
            low, high = src.watermarks(topic, p)
            found = migration.maps.get(topic, p, dst_topic=topic if own_names else None)
            copied = found.map.src_next if found is not None else None
            if (copied is None and high > low) or (copied is not None and copied < high):
                out.append(f"{topic}[{p}] (copied up to {copied or 0}, source ends at {high})")
    return out


def _create_compacted(
    src: KafkaCluster, dst: KafkaCluster, topic: str
) -> tuple[bool, dict[str, str]]:
    """Create an internal topic on the destination like the source's, compacted.

    Returns (created, configs). Connect refuses internal topics that are not compacted.
    """
    partitions = src.topics()[topic].partitions
    existing = dst.topics().get(topic)
    if existing is not None:
        return False, {}
    mapping = map_topic_configs(src.explicit_topic_configs(topic))
    wanted = {**mapping.kept, "cleanup.policy": "compact"}
    rejected = dst.rejected_topic_configs(topic, partitions, wanted)
    if "cleanup.policy" in rejected:
        raise RepointRefused(
            f"the destination refuses a compacted topic {topic}",
            why=rejected["cleanup.policy"],
            fix="Kafka Connect needs compacted internal topics; check the destination cluster",
            topic=topic,
        )
    kept = {k: v for k, v in wanted.items() if k not in rejected}
    created = dst.create_topic(topic, partitions, replication_factor=-1, config=kept)
    return created, kept if created else {}


def _mentions_source(config: Mapping[str, str], servers: Sequence[str]) -> list[str]:
    """Config keys whose value names a source broker (their values are never shown)."""
    return sorted(k for k, v in config.items() if any(s in v for s in servers))


#: the journal's unit for repointing the workers (the gate's override is journaled there too)
REPOINT_UNIT = "(repoint-workers)"


class _RepointStep(Op):
    def __init__(self, job: _Repoint) -> None:
        self.job = job


class Survey(_RepointStep):
    """Read-only: the source Connect cluster is quiet; what to copy; what a dry run shows."""

    name = "preflight"
    read_only = True

    def describe(self) -> str:
        return "check the source workers are quiet; read the internal topics; list what moves"

    def run(self, learned: Learned) -> Outcome:
        return self.job.survey()


class SyncDataTopics(_RepointStep):
    name = "sync-data-topics"

    def describe(self) -> str:
        return "sync the connectors' data topics to their end"

    def run(self, learned: Learned) -> Outcome:
        return self.job.sync_data(learned)


class CreateInternalTopics(_RepointStep):
    name = "create-internal-topics"

    def describe(self) -> str:
        return "create Connect's internal topics on the destination, compacted"

    def run(self, learned: Learned) -> Outcome:
        return self.job.create_internal(learned)


class CopyInternalTopics(_RepointStep):
    name = "copy-internal-topics"

    def describe(self) -> str:
        return "copy Connect's internal topics with exact offsets"

    def run(self, learned: Learned) -> Outcome:
        return self.job.copy_internal(learned)


class ApplyGroups(_RepointStep):
    name = "apply-groups"

    def describe(self) -> str:
        return "commit the sink connectors' groups on the destination"

    def run(self, learned: Learned) -> Outcome:
        return self.job.apply_groups(learned)


STEPS: tuple[type[_RepointStep], ...] = (
    Survey,
    SyncDataTopics,
    CreateInternalTopics,
    CopyInternalTopics,
    ApplyGroups,
)


class _Repoint:
    """The work of each repoint step, for one migration."""

    def __init__(
        self, migration: Migration, result: RepointResult, say: Reporter, dry_run: bool
    ) -> None:
        self.m = migration
        self.spec = migration.spec
        self.result = result
        self.say = say
        self.dry_run = dry_run

    @property
    def names(self) -> tuple[str, str, str]:
        r = self.result
        return (r.config_topic, r.offset_topic, r.status_topic)

    def survey(self) -> Outcome:
        spec, result, say = self.spec, self.result, self.say
        say("checking that the source Connect cluster is quiet")
        client = source_connect_client(spec)
        try:
            result.source_connect = check_source_quiet(client)
        finally:
            if client is not None:
                client.close()
        src, dst = self.m.src, self.m.dst
        src.check_reachable()
        dst.check_reachable()
        available = src.topics()
        missing = [n for n in self.names if n not in available]
        if missing:
            raise UsageError(
                f"the source cluster has no topic {missing[0]}",
                why="--config-topic/--offset-topic/--status-topic must name the Connect "
                "cluster's internal topics",
                fix="give the workers' config.storage.topic, offset.storage.topic and "
                "status.storage.topic",
                topic=missing[0],
            )
        config_topic, _, status_topic = self.names
        say(f"reading {config_topic} and {status_topic}")
        connectors = parse_config_topic(_read_pairs(src, config_topic))
        tracking = parse_topic_tracking(_read_pairs(src, status_topic))
        source_groups = set(src.groups())
        copy = list(self.names)
        data: set[str] = set()
        servers = [s.strip() for s in spec.source.kafka.bootstrap_servers.split(",") if s.strip()]
        for name, rec in connectors.items():
            entry: dict[str, Any] = {"name": name, "target_state": rec.target_state, "group": None}
            data |= {t for t in tracking.get(name, set()) if t in available}
            if rec.group in source_groups:
                committed = src.group_offsets(rec.group)
                if committed:
                    entry["group"] = rec.group
                    data |= {t for t, _ in committed if t in available}
            own_offsets = rec.config.get("offsets.storage.topic")
            if own_offsets and own_offsets in available and own_offsets not in copy:
                copy.append(own_offsets)  # exactly-once source connectors may keep their own
            keys = _mentions_source(rec.config, servers)
            if keys:
                result.warnings.append(
                    f"connector {name}'s config names a source broker ({', '.join(keys)}): "
                    "update it once the workers run against the destination"
                )
            result.connectors.append(entry)
        if not tracking and connectors:
            result.warnings.append(
                f"{status_topic} holds no topic-tracking records (topic.tracking.enable=false?): "
                "sync the source connectors' topics to their end yourself before restarting"
            )
        renamed = sorted(t for t in data if spec.topics.destination_name(t) != t)
        if renamed:
            raise UsageError(
                f"--repoint-workers keeps topic names, but the spec renames {renamed[0]} to "
                f"{spec.topics.destination_name(renamed[0])}",
                why="a connector uses it and its config is copied as it is",
                fix="drop that topics.rename entry (or move the connector with "
                "`connshift cutover NAME`)",
                topic=renamed[0],
            )
        result.data_topics = sorted(t for t in data if spec.topics.selects(t))
        for t in sorted(data - set(result.data_topics)):
            result.warnings.append(
                f"topic {t} is used by a connector but not migrated by the spec "
                "(topics.include/exclude): its records and positions stay on the source"
            )
        out: dict[str, Any] = {"copy": copy}
        if self.dry_run:  # what the steps would do, read without changing anything
            for line in _behind(self.m, result.data_topics):
                result.warnings.append(f"would sync {line}")
            dst_topics = dst.topics()
            for topic in copy:
                parts = available[topic].partitions
                records = sum(src.watermarks(topic, p)[1] for p in range(parts))
                result.topics.append(
                    CopiedTopic(topic, parts, records, topic not in dst_topics, None)
                )
            self._groups(dry_run=True)
        return Outcome(
            "done",
            f"{len(result.connectors)} connector(s), {len(result.data_topics)} data topic(s), "
            f"{len(copy)} internal topic(s)",
            out,
        )

    def sync_data(self, learned: Learned) -> Outcome:
        topics = self.result.data_topics
        if topics and self.spec.cutover.run_sync:
            self.say(f"syncing the connectors' {len(topics)} data topic(s) to their end")
            sync(self.m, SyncOptions(topics=[re.escape(t) for t in topics], record=False))
        behind = _behind(self.m, topics)
        if behind:
            raise RepointRefused(
                f"the connectors' data topics are not copied to their end: {behind[0]}"
                + (f" (and {len(behind) - 1} more)" if len(behind) > 1 else ""),
                why="a restarted connector would resume after records the destination lacks",
                fix="run `connshift sync --once` (the workers are stopped, the topics are "
                "quiet), then rerun",
            )
        return Outcome("done", f"{len(topics)} data topic(s) copied to their end")

    def create_internal(self, learned: Learned) -> Outcome:
        created: dict[str, dict[str, str] | None] = {}
        for topic in learned["preflight"]["copy"]:
            made, configs = _create_compacted(self.m.src, self.m.dst, topic)
            created[topic] = configs if made else None
        made_ = [t for t, c in created.items() if c is not None]
        return Outcome("done", f"created {', '.join(made_) or 'none'}", {"created": created})

    def copy_internal(self, learned: Learned) -> Outcome:
        copy = learned["preflight"]["copy"]
        created = learned["create-internal-topics"]["created"]
        self.say(f"copying {', '.join(copy)}")
        # under their own names, in their own sync group: a restarted worker looks them up
        synced = sync(
            self.m,
            SyncOptions(
                exact_topics=copy, group_id=f"connshift-repoint-{self.spec.name}", record=False
            ),
        )
        late = _behind(self.m, copy, own_names=True)
        if late:
            raise RepointRefused(
                f"the source Connect cluster wrote to its internal topics during the copy: "
                f"{late[0]}",
                why="a worker is still running",
                fix="shut every source worker down, then rerun (the copy resumes exactly)",
            )
        available = self.m.src.topics()
        rows_out = []
        for topic in copy:
            rows = [r for r in synced.partitions if r["topic"] == topic]
            rows_out.append(
                CopiedTopic(
                    topic,
                    available[topic].partitions,
                    sum(int(r["source_next"]) for r in rows),
                    created[topic] is not None,
                    all(bool(r["contiguous"]) for r in rows),
                    created[topic] or {},
                ).to_json()
            )
        return Outcome("done", f"copied {len(copy)} topic(s)", {"topics": rows_out})

    def _groups(self, *, dry_run: bool) -> groups_app.GroupsResult | None:
        result = self.result
        groups = sorted({c["group"] for c in result.connectors if c["group"]})
        if not groups:
            return None
        verb = "checking" if dry_run else "applying"
        self.say(f"{verb} {len(groups)} sink group(s) on the destination")
        pattern = "|".join(re.escape(g) for g in groups)
        applied = groups_app.apply(self.m, pattern, dry_run=dry_run)
        result.groups_applied = list(applied.applied)
        result.groups_refused = dict(applied.refused)
        for o in applied.offsets:
            if o.translation is groups_app.Translation.NOT_MIGRATED:
                result.warnings.append(
                    f"group {o.group} reads {o.topic}, which the spec does not migrate: "
                    "that position is not carried over"
                )
        return applied

    def apply_groups(self, learned: Learned) -> Outcome:
        applied = self._groups(dry_run=False)
        if applied is None:
            return Outcome("skipped", "no sink group to apply")
        groups_app.raise_if_refused(applied)
        return Outcome("done", f"applied {len(applied.applied)} group(s)")


def repoint_workers(
    migration: Migration,
    *,
    config_topic: str = DEFAULT_CONFIG_TOPIC,
    offset_topic: str = DEFAULT_OFFSET_TOPIC,
    status_topic: str = DEFAULT_STATUS_TOPIC,
    dry_run: bool = False,
    force: bool = False,
    report: Reporter | None = None,
) -> RepointResult:
    """Copy a stopped Connect cluster's internal topics (and its sinks' groups) to the
    destination, so that its workers restart against the destination and resume.

    The steps are journaled under ``(repoint-workers)`` like a connector's cutover: a
    rerun skips what is done and continues; ``dry_run`` runs only the read-only preflight.

    Raises :class:`RepointRefused` (exit 1) when a connector still runs or something wrote
    to the copied topics meanwhile, :class:`~connshift.errors.UsageError` (exit 2) for bad
    topic names or a spec that renames the connectors' topics, and a
    :class:`~connshift.errors.ServiceError` (exit 3) when a cluster cannot be reached.
    """
    spec = migration.spec
    say = report or (lambda _m: None)
    names = (config_topic, offset_topic, status_topic)
    _check_names(names)
    result = RepointResult(config_topic, offset_topic, status_topic, dry_run=dry_run)
    if spec.topics.prefix:
        raise UsageError(
            f"--repoint-workers keeps topic names, but the spec sets topics.prefix "
            f"{spec.topics.prefix!r}",
            why="the connector configs are copied as they are and name the source topics",
            fix="migrate with topics.prefix '' (or move connectors one by one with "
            "`connshift cutover NAME`, which rewrites their topics)",
        )
    from connshift.app.score import gate_workers

    # every connector moves: refused while an estate row of the scorecard is at 0
    gate_workers(spec, force=force, dry_run=dry_run)
    job = _Repoint(migration, result, say, dry_run)
    journal = migration.journal
    attempt = journal.attempt(REPOINT_UNIT)
    done = journal.done_steps(REPOINT_UNIT, attempt, kind="repoint") if attempt else {}
    if not attempt or STEPS[-1].name in done or not done:
        attempt, done = attempt + 1, {}
    # the survey always runs again: its findings are the result's, and things may have moved
    done.pop(Survey.name, None)
    executor = Executor(journal, dry_run=dry_run, report=say)
    learned = executor.run(
        REPOINT_UNIT, attempt, "repoint", [cls(job) for cls in STEPS], result.steps, done=done
    )
    for row in learned.get(CopyInternalTopics.name, {}).get("topics", []):
        result.topics.append(CopiedTopic(**row))
        if row["identical_offsets"] is False:
            result.warnings.append(
                f"{row['topic']} had compaction holes: its destination offsets are dense "
                "(Connect only reads these topics to their end, so this is harmless)"
            )
    if ApplyGroups.name in done and not dry_run:
        job._groups(dry_run=True)  # done before: show the groups as they stand
    _checklist(spec, result)
    return result


def _checklist(spec: Spec, result: RepointResult) -> None:
    kafka = spec.destination.kafka
    settings = {"bootstrap.servers": kafka.bootstrap_servers}
    if kafka.security_protocol != "PLAINTEXT":
        settings["security.protocol"] = kafka.security_protocol
    settings.update(
        {
            "group.id": "(unchanged)",
            "config.storage.topic": result.config_topic,
            "offset.storage.topic": result.offset_topic,
            "status.storage.topic": result.status_topic,
        }
    )
    result.settings = settings
    names = [c["name"] for c in result.connectors]
    steps = [
        "keep every source worker shut down: never run workers against both clusters",
        f"in each worker's properties set bootstrap.servers={kafka.bootstrap_servers}"
        + (
            f" and the destination's security settings (security.protocol="
            f"{kafka.security_protocol}, sasl.*/ssl.*)"
            if kafka.security_protocol != "PLAINTEXT"
            else ""
        )
        + "; also any producer./consumer./admin. prefixed bootstrap or security overrides",
        "keep group.id and the topic names: "
        f"config.storage.topic={result.config_topic}, "
        f"offset.storage.topic={result.offset_topic}, "
        f"status.storage.topic={result.status_topic}",
        f"start the workers; GET /connectors lists {len(names)} connector(s)"
        + (f": {', '.join(names)}" if names else "")
        + " — do not re-create them",
    ]
    quiet = [c for c in result.connectors if c["target_state"] != "RUNNING"]
    for c in quiet:
        steps.append(
            f"{c['name']} comes back {c['target_state']}: PUT /connectors/{c['name']}/resume "
            "when you are ready"
        )
    result.checklist = steps
