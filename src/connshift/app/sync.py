"""``connshift sync``: copy topics so that every offset is kept, or mapped exactly.

Each source partition is copied in order into its destination partition by an
idempotent producer (no transactions: their markers would shift offsets).
Contiguous source ranges keep their offsets; everything else is recorded in an
exact run-length map (:mod:`connshift.core.offsetmap`), checkpointed in SQLite
(:mod:`connshift.io.statestore`) and mirrored to a compacted topic on the
destination so that another machine can take a partition over.

Crash safety: the checkpoint may lag the destination. On (re)start each
partition's destination tail beyond the checkpoint is read and matched, record by
record, to the source by content digest; matching records extend the map, and a
mismatch means someone else wrote there: the partition is refused, untouched.

Scale-out: the copy's consumer joins a consumer group on the source
(cooperative-sticky), so several ``sync`` processes given the same spec share the
partitions; each partition has one writer, and a new owner reconciles from the
destination and the mirrored map before it writes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from connshift.app.context import Migration
from connshift.app.maps import MAP_TOPIC
from connshift.app.rawsecurity import raw_security, raw_unsupported
from connshift.core.digest import record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.core.retry import Outages
from connshift.core.spec import Spec, same_kafka
from connshift.core.topicconfig import map_topic_configs, without_rejected
from connshift.errors import CheckFailed, ConfigError, KafkaError, KafkaUnavailable, UsageError
from connshift.io.kafka import (
    ClusterInfo,
    KafkaCluster,
    KafkaConsumer,
    KafkaProducer,
    NewTopicSpec,
    Record,
    TopicInfo,
    TopicPartition,
)

CHECKPOINT_SECONDS = 1.0
#: raw engine: source offsets per partition in one round (the group is polled between rounds)
ROUND_OFFSETS = 500_000
#: partitions the group gave us whose destination does not answer yet (topics created a
#: moment ago) are asked again each round for this long (seconds), while the others copy;
#: then they must answer within the same time, or sync stops
ASSIGN_WAIT_S = 30.0
# sync --once waits this long for partitions another group member holds to make progress
ONCE_WAIT_S = 120.0

if TYPE_CHECKING:
    from connshift.app.rawcopy import CopyOptions
    from connshift.io.kafka_raw import RawClient

LOG = logging.getLogger(__name__)


class SyncRefused(CheckFailed):
    """A destination partition cannot be written safely (foreign records, lost records)."""


class DestinationBehind(SyncRefused):
    """A destination partition ends before what the copy wrote there. Records deleted, or
    (for a while) a replicated partition just after its brokers restarted: its new leader's
    high watermark starts from its last checkpoint and catches up as the followers fetch."""


#: how long a destination partition behind its map is waited for before it is refused
BEHIND_SECONDS = 60.0


@dataclass
class PartitionState:
    """A partition being copied by this process."""

    topic: str
    partition: int
    dst_topic: str
    map: PartitionMap
    target: int | None  # --once: copy up to here (source high watermark at start)
    start: int = 0
    # the open run, kept out of the map in the hot loop and folded in at checkpoints
    run_src: int = -1
    run_dst: int = -1
    run_len: int = 0
    bytes: int = 0
    dirty: bool = False
    sequence: int = 0  # raw engine: next producer sequence of this partition

    def fold(self) -> None:
        """Move the open run into the map."""
        if self.run_len:
            self.map.append(self.run_src, self.run_dst, self.run_len)
            self.run_len = 0

    @property
    def position(self) -> int:
        """Next source offset to copy, counting the open run."""
        if self.run_len:
            return max(self.map.src_next, self.run_src + self.run_len)
        return self.map.src_next

    @property
    def done(self) -> bool:
        return self.target is not None and self.position >= self.target


@dataclass
class TopicReport:
    """What happened to one topic."""

    topic: str
    dst_topic: str
    partitions: int
    created: bool
    configs: dict[str, str] = field(default_factory=dict)
    dropped_configs: dict[str, str] = field(default_factory=dict)


@dataclass
class SyncResult:
    """The ``--json`` summary of a sync run."""

    records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    topics: list[TopicReport] = field(default_factory=list)
    partitions: list[dict[str, Any]] = field(default_factory=list)
    recovered: dict[str, int] = field(default_factory=dict)  # "topic[p]" -> records matched
    engine: str = ""
    #: why ``auto`` chose the record engine (None: it chose raw, or the engine was asked for)
    engine_reason: str | None = None
    #: transient failures waited out (retries) and the outages they made up
    retries: int = 0
    outages: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.sync/1",
            "engine": self.engine,
            "engine_reason": self.engine_reason,
            "records": self.records,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records / self.seconds, 1) if self.seconds else None,
            "topics": [t.__dict__ for t in self.topics],
            "partitions": self.partitions,
            "recovered_from_destination_tail": self.recovered,
            "retries": self.retries,
            "outages": self.outages,
        }


# ---------------------------------------------------------------------------- selection


def select_topics(
    available: Sequence[str], spec: Spec, patterns: Sequence[str] | None = None
) -> list[str]:
    """Source topics in scope: the spec's include/exclude, narrowed by ``--topics`` regexes."""
    compiled = []
    for pat in patterns or []:
        try:
            compiled.append(re.compile(pat))
        except re.error as exc:
            raise UsageError(f"bad --topics regex {pat!r}", why=str(exc)) from exc
    out = []
    for name in sorted(available):
        if name == MAP_TOPIC or not spec.topics.selects(name):
            continue
        if compiled and not any(c.fullmatch(name) for c in compiled):
            continue
        out.append(name)
    return out


# ---------------------------------------------------------------------------- bad input


def refuse_same_cluster(
    spec: Spec, src: ClusterInfo | None = None, dst: ClusterInfo | None = None
) -> None:
    """Refuse (exit 2) copying when source and destination are one cluster: by the spec's
    addresses (no I/O), or, given what each side said, by cluster id. A ``topics.prefix``
    renames every copy, so a copy within one cluster is allowed with one."""
    if spec.topics.prefix:
        return
    if shared := same_kafka(spec):
        named = ", ".join(shared)
    elif src is not None and dst is not None and src.cluster_id == dst.cluster_id is not None:
        named = f"cluster id {src.cluster_id}"
    else:
        return
    raise ConfigError(
        f"source and destination are the same Kafka cluster ({named})",
        why="every topic would be copied onto itself",
        fix="point destination.kafka.bootstrap_servers at the destination cluster "
        "(or set topics.prefix to copy within one cluster)",
        key="destination.kafka.bootstrap_servers",
    )


def refuse_shared_destinations(
    topics: Sequence[str], destination_name: Callable[[str], str]
) -> None:
    """Refuse (exit 2, before anything is created) two source topics whose copies would share
    one destination topic (a ``topics.rename`` target that is another selected topic's name)."""
    seen: dict[str, str] = {}
    for topic in topics:
        dst_topic = destination_name(topic)
        if dst_topic in seen:
            raise ConfigError(
                f"source topics {seen[dst_topic]} and {topic} would both be copied to {dst_topic}",
                why="the spec's topics.rename/prefix gives them one destination name, and "
                "their records would mix in it",
                fix="rename one of them to a free name, or exclude one (topics.exclude)",
                topic=dst_topic,
            )
        seen[dst_topic] = topic


# ---------------------------------------------------------------------------- topics


def prepare_topic(src: KafkaCluster, dst: KafkaCluster, topic: str, dst_topic: str) -> TopicReport:
    """Create the destination topic if missing (same partitions, mapped configs)."""
    return prepare_topics(src, dst, {topic: dst_topic})[0]


def prepare_topics(
    src: KafkaCluster,
    dst: KafkaCluster,
    names: Mapping[str, str],
    source_topics: Mapping[str, TopicInfo] | None = None,
) -> list[TopicReport]:
    """Create the destination topics that are missing (same partitions, mapped configs),
    ``names`` mapping each source topic to its destination name. Every step asks about all
    topics at once — one Metadata per side, one DescribeConfigs per 200 topics, one
    validate-only and one CreateTopics request — so hundreds of topics cost about as much
    as one."""
    source_topics = source_topics if source_topics is not None else src.topics()
    existing = dst.topics()
    reports: dict[str, TopicReport] = {}
    missing: list[str] = []
    for topic, dst_topic in names.items():
        partitions = source_topics[topic].partitions
        there = existing.get(dst_topic)
        if there is None:
            missing.append(topic)
            continue
        if there.partitions < partitions:
            raise SyncRefused(
                f"destination topic {dst_topic} has {there.partitions} partitions, "
                f"the source has {partitions}",
                why="records keep their partition: every source partition needs its own",
                fix=f"add partitions to {dst_topic} on the destination, or delete it",
                topic=dst_topic,
            )
        reports[topic] = TopicReport(topic, dst_topic, partitions, created=False)
    if missing:
        explicit = src.explicit_topics_configs(missing)
        mappings = {t: map_topic_configs(explicit.get(t, {})) for t in missing}
        wanted = [
            NewTopicSpec(names[t], source_topics[t].partitions, mappings[t].kept) for t in missing
        ]
        rejected = dst.rejected_topics_configs(wanted)
        for t in missing:
            mappings[t] = without_rejected(mappings[t], rejected.get(names[t], {}))
        created = dst.create_topics(
            [
                NewTopicSpec(names[t], source_topics[t].partitions, mappings[t].kept)
                for t in missing
            ],
            replication_factor=-1,
            wait=False,  # sync copies each partition once its destination answers
        )
        for t in missing:
            partitions = source_topics[t].partitions
            if not created[names[t]]:  # another sync process created it meanwhile
                reports[t] = TopicReport(t, names[t], partitions, created=False)
                continue
            reports[t] = TopicReport(
                t,
                names[t],
                partitions,
                created=True,
                configs=mappings[t].kept,
                dropped_configs=mappings[t].dropped,
            )
    return [reports[t] for t in names]


# ---------------------------------------------------------------------------- reconcile


def _digest(rec: Record) -> bytes:
    return record_digest(rec.key, rec.value, rec.headers, rec.timestamp)


def reconcile(
    src: KafkaCluster,
    dst: KafkaCluster,
    topic: str,
    partition: int,
    dst_topic: str,
    stored: PartitionMap | None,
    src_bounds: tuple[int, int],
    dst_bounds: tuple[int, int],
) -> tuple[PartitionMap, int]:
    """The map to resume ``topic[partition]`` from, made true against the destination.

    Returns the map and how many records were recovered from the destination tail.
    Raises :class:`SyncRefused` when the destination holds records that are not our
    own resumable copy (the destination is then left untouched).
    """
    src_low, _src_high = src_bounds
    dst_low, dst_high = dst_bounds
    where = f"{dst_topic}[{partition}]"
    if stored is None:
        if dst_high > dst_low:
            raise SyncRefused(
                f"destination partition {where} already holds {dst_high - dst_low} records "
                "that are not a connshift copy",
                why="there is no offset map for it here or in the destination's "
                f"{MAP_TOPIC} topic, so copying would mix foreign records with the source's",
                fix="copy into an empty topic (topics.rename/prefix in the spec), "
                "or empty this one if it is a leftover",
                topic=dst_topic,
                partition=partition,
            )
        return PartitionMap.starting_at(src_low, dst_start=dst_high), 0
    pmap = replace(stored, runs=list(stored.runs))  # a refusal leaves ``stored`` as it was
    if dst_high < pmap.dst_next:
        raise DestinationBehind(
            f"destination partition {where} ends at {dst_high}, but the copy had written up "
            f"to {pmap.dst_next}",
            why="records were deleted on the destination (or the topic was re-created)",
            fix=f"delete {where}'s state from {MAP_TOPIC} and the state dir, and copy into an "
            "empty topic",
            topic=dst_topic,
            partition=partition,
        )
    if pmap.src_next < src_low:
        raise SyncRefused(
            f"source records {topic}[{partition}] {pmap.src_next}..{src_low - 1} were deleted "
            "before they were copied",
            why="retention (or delete-records) on the source moved the log start past the copy",
            fix="raise retention on the source while migrating; this gap cannot be recovered",
            topic=topic,
            partition=partition,
        )
    recovered = 0
    if dst_high > pmap.dst_next:
        tail = list(
            dst.read(dst_topic, partition, pmap.dst_next, dst_high, isolation="read_uncommitted")
        )
        source_iter = src.read(topic, partition, pmap.src_next, isolation="read_committed")
        try:
            for d in tail:
                s = next(source_iter, None)
                if d.offset != pmap.dst_next or s is None or _digest(s) != _digest(d):
                    raise SyncRefused(
                        f"destination partition {where} has records after offset "
                        f"{pmap.dst_next} that do not match the source",
                        why="something other than this copy wrote to the destination topic",
                        fix="stop the other writer; this partition is left untouched",
                        topic=dst_topic,
                        partition=partition,
                    )
                pmap.append(s.offset, d.offset, 1)
                recovered += 1
        finally:
            close = getattr(source_iter, "close", None)
            if close is not None:
                close()
    return pmap, recovered


# ---------------------------------------------------------------------------- the copy


ProgressFn = Callable[[dict[str, tuple[int, int]]], None]


@dataclass
class SyncOptions:
    """How to run a sync."""

    topics: Sequence[str] | None = None
    follow: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    progress: ProgressFn | None = None
    metrics_port: int | None = None
    group_id: str | None = None
    linger_ms: int = 20
    engine: str = "auto"  # auto | raw | record
    #: give up (:class:`SyncDeadlinePassed`) when ``time.monotonic()`` passes this
    deadline: float | None = None
    #: copy exactly these source topics under their own names, whatever the spec's
    #: include/exclude and rename/prefix say (Connect's internal topics, repointed)
    exact_topics: Sequence[str] | None = None
    #: keep the result as ``sync`` evidence (a cutover's catch-up and repoint do not)
    record: bool = True
    #: told one line when ``auto`` keeps the record engine, and why (the CLI warns on stderr);
    #: and when a cluster becomes unreachable for a while, and when it is back
    notice: Callable[[str], None] | None = None
    #: how long one outage (a broker restarting, a leader moving, a lost connection) is
    #: waited out, retrying with backoff, before sync gives up with exit 3
    retry_seconds: float = 300.0


class SyncDeadlinePassed(CheckFailed):
    """A bounded sync (the catch-up inside ``cutover``) ran out of time."""


class Syncer:
    """One sync process: its source consumer (in the group), producer, state and maps."""

    def __init__(self, migration: Migration, options: SyncOptions) -> None:
        self.migration = migration
        self.spec = migration.spec
        self.opts = options
        self.src, self.dst = migration.src, migration.dst
        self.store = migration.store
        self.mirror = migration.mirror
        self.states: dict[tuple[str, int], PartitionState] = {}
        self.result = SyncResult()
        self.topic_names: dict[str, str] = {}
        self._mirrored: dict[tuple[str, int], tuple[str, PartitionMap]] | None = None
        self._error: BaseException | None = None
        self._metrics: Any = None
        self._assignment_changed = False
        self._last_checkpoint = time.monotonic()
        self._last_progress = 0.0
        self.released: list[PartitionState] = []  # partitions this process gave up (or closed)
        self._once_targets: dict[tuple[str, int], tuple[int, int]] = {}
        self._rest_checked = 0.0
        self._rest_since = time.monotonic()
        self._rest_positions: dict[tuple[str, int], int] = {}
        self.outages = Outages(give_up_after=options.retry_seconds)
        #: partitions the group gave us while a cluster was unreachable: assigned once it is back
        self._pending: list[tuple[str, int]] = []
        self._pending_since: float | None = None
        #: the raw engine's destination client (while it runs): asks many partitions' bounds
        #: at once without waiting for those not served yet
        self._dst_raw: RawClient | None = None

    # ------------------------------------------------------------------ setup
    def prepare(self) -> list[str]:
        # bad input that needs no cluster first: a bad --topics regex, one cluster twice
        select_topics([], self.spec, self.opts.topics)
        refuse_same_cluster(self.spec)
        refuse_same_cluster(self.spec, self.src.check_reachable(), self.dst.check_reachable())
        source_topics = self.src.topics()
        if self.opts.exact_topics is not None:
            topics = sorted(t for t in self.opts.exact_topics if t in source_topics)
        else:
            topics = select_topics(list(source_topics), self.spec, self.opts.topics)
        if not topics:
            raise UsageError(
                "no source topic matches the spec's topics and --topics",
                fix="check topics.include/exclude in the spec and the --topics regexes",
            )
        refuse_shared_destinations(topics, self.destination_name)
        self.mirror.ensure()
        for topic in topics:
            self.topic_names[topic] = self.destination_name(topic)
        self.result.topics += prepare_topics(self.src, self.dst, self.topic_names, source_topics)
        if not self.opts.follow:
            # what --once promises: every selected partition copied up to its end as of now,
            # whichever group member owns it
            tps = [(t, p) for t in topics for p in range(source_topics[t].partitions)]
            self._once_targets = self.src.watermarks_of(tps)
        return topics

    def destination_name(self, topic: str) -> str:
        """The destination copy of ``topic``: named by the spec, or as it is (exact_topics)."""
        if self.opts.exact_topics is not None:
            return topic
        return self.spec.topics.destination_name(topic)

    # ------------------------------------------------------------------ --once: the rest
    def _rest_copied(self) -> bool:
        """--once: whether every selected partition this process does not own is copied to
        its end as of the run's start — by another sync process in the group, or, once the
        group hands them over, by this one (a member killed a moment ago holds its
        partitions until its session times out; leaving before then would leave them
        uncopied). Reads the mirrored maps at most every 2 s; raises when they make no
        progress for ``ONCE_WAIT_S``."""
        released = {(s.topic, s.partition): s.map.src_next for s in self.released}
        rest = {
            tp: high
            for tp, (low, high) in self._once_targets.items()
            if high > low and tp not in self.states and released.get(tp, -1) < high
        }
        if not rest:
            return True
        now = time.monotonic()
        if now - self._rest_checked < 2.0:
            return False
        self._rest_checked = now
        maps = self.migration.maps
        maps.refresh()  # only what was mirrored since the last look
        positions = {}
        for topic, p in rest:
            found = maps.mirrored(self.topic_names[topic], p)
            positions[(topic, p)] = found[1].src_next if found and found[0] == topic else -1
        left = sorted(tp for tp, high in rest.items() if positions[tp] < high)
        if not left:
            return True
        if positions != self._rest_positions:
            self._rest_positions = positions
            self._rest_since = now
        elif now - self._rest_since > ONCE_WAIT_S:
            names = ", ".join(f"{t}[{p}]" for t, p in left[:5])
            raise KafkaError(
                f"sync --once: {len(left)} partition(s) held by another member of the sync "
                f"group made no progress for {ONCE_WAIT_S:g}s ({names})",
                why="another sync process owns them and is stuck, or the group never handed "
                "them to this one",
                fix="check other `connshift sync` processes with this spec (group "
                f"{self.opts.group_id or 'connshift-sync-' + self.spec.name}); rerun sync",
            )
        return False

    def _stored(
        self, topic: str, partition: int, *, mirrored: bool = True
    ) -> tuple[str, PartitionMap] | None:
        """(source topic, map) of the partition copied into our destination partition.

        The local state first; then, if ``mirrored``, the map mirrored on the destination.
        """
        local = self.store.load(topic, partition)
        if local is not None:
            if local.dst_topic != self.topic_names[topic]:
                raise SyncRefused(
                    f"the state dir tracks {topic}[{partition}] copied to {local.dst_topic}, "
                    f"the spec now says {self.topic_names[topic]}",
                    why="the spec's topics.rename/prefix changed since the last sync",
                    fix="restore the old rename/prefix, or use a new state_dir for the new copy",
                    topic=topic,
                )
            return topic, local.map
        if not mirrored:
            return None
        if self._mirrored is None:
            self._mirrored = self.mirror.load_all()
        return self._mirrored.get((self.topic_names[topic], partition))

    def assign(
        self, tps: Sequence[tuple[str, int]], *, partial: bool = False
    ) -> list[PartitionState]:
        """Reconcile newly owned partitions and return their states.

        The bounds of every partition on both sides are asked at once (one request per
        broker, not one per partition), and the maps stored in one transaction: the cost of
        taking on a partition stays with its data, however many partitions there are.
        ``partial`` (the raw engine, while its destination client runs): take on only those
        whose destination answers now (a topic created a moment ago is served a while later:
        2,000 new partitions take a broker seconds); otherwise a partition that does not
        answer within ``ASSIGN_WAIT_S`` is an error.
        """
        tps = list(dict.fromkeys(tps))
        if not tps:
            return []
        self._mirrored = None  # another owner may have moved on since we last looked
        # always ask, even for a topic this process created: another sync process in the
        # group may have written to it before this one's first assignment
        dst_of = {(t, p): (self.topic_names[t], p) for t, p in tps}
        if partial and self._dst_raw is not None:
            dst_bounds = self._dst_raw.bounds(dst_of.values())  # what answers now
        else:
            dst_bounds = self.dst.end_offsets_of(dst_of.values(), timeout=ASSIGN_WAIT_S)
        tps = [tp for tp in tps if dst_of[tp] in dst_bounds]
        if not tps:
            return []
        src_bounds = self.src.watermarks_of(tps)
        out: list[PartitionState] = []
        for topic, p in tps:
            dst_topic = self.topic_names[topic]
            low, high = dst_bounds[(dst_topic, p)]
            # an empty destination partition needs no map: a stale one would not apply
            stored = self._stored(topic, p, mirrored=high > low)
            if stored is not None and stored[0] != topic:
                raise SyncRefused(
                    f"{topic}[{p}] maps to {dst_topic}[{p}], but that destination partition "
                    f"is already a copy of {stored[0]}",
                    why="two source topics cannot share one destination partition "
                    "(or the spec's topics.rename/prefix changed since the last sync)",
                    fix="pick another destination name (topics.rename/prefix), or a new "
                    "state_dir if the old state is stale",
                    topic=topic,
                )
            pmap, recovered = self._reconcile(
                topic,
                p,
                dst_topic,
                stored[1] if stored else None,
                src_bounds[(topic, p)],
                (low, high),
            )
            if recovered:
                self.result.recovered[f"{topic}[{p}]"] = recovered
            target = None if self.opts.follow else src_bounds[(topic, p)][1]
            st = PartitionState(topic, p, dst_topic, pmap, target, start=pmap.src_next)
            st.dirty = True  # mirror it at the next checkpoint: the map topic may be gone
            out.append(st)
        self.store.save([(s.topic, s.partition, s.dst_topic, s.map) for s in out], full=True)
        for st in out:
            self.states[(st.topic, st.partition)] = st
        return out

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(
        self, producer: KafkaProducer, states: Sequence[PartitionState] | None = None
    ) -> None:
        """Wait for every produced record, then persist the maps (SQLite + mirror)."""
        try:
            producer.flush(
                60,
                what="the destination did not acknowledge the copied records",
                fix="check the destination cluster; rerun sync to resume exactly",
            )
        except KafkaError:
            if self._error is not None:  # a refused record says more than the records left
                raise self._error from None
            raise
        if self._error is not None:
            raise self._error
        todo = [s for s in (states or list(self.states.values())) if s.dirty or s.run_len]
        for st in todo:
            st.fold()
        if todo:
            self.store.save([(s.topic, s.partition, s.dst_topic, s.map) for s in todo])
            self.mirror.publish(todo)
            for st in todo:
                st.dirty = False

    # ------------------------------------------------------------------ run
    def run(self) -> SyncResult:
        started = time.monotonic()
        topics = self.prepare()
        self._start_metrics()
        group = self.opts.group_id or f"connshift-sync-{self.spec.name}"
        raw = self.engine() == "raw"
        if not raw and self.opts.engine == "auto":
            self.result.engine_reason = self.engine_reason()
            if self.opts.notice is not None and self.result.engine_reason:
                self.opts.notice(f"sync uses the record engine: {self.result.engine_reason}")
        # with the raw engine the consumer only holds group membership (its partitions stay
        # paused): give it small buffers
        buffers = (
            {
                "queued.min.messages": 1,
                "queued.max.messages.kbytes": 1024,
                "fetch.max.bytes": 1048576,
                "max.partition.fetch.bytes": 65536,
            }
            if raw
            else {}
        )
        consumer = self.src.open_consumer(
            {
                "group.id": group,
                "partition.assignment.strategy": "cooperative-sticky",
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.queue.backoff.ms": 10,
                "queued.min.messages": 200000,
                "queued.max.messages.kbytes": 262144,
                "fetch.max.bytes": 52428800,
                "max.partition.fetch.bytes": 4194304,
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
                **buffers,
            }
        )

        def on_error(err: KafkaError) -> None:
            if self._error is None:
                self._error = KafkaError(
                    "the destination refused a copied record",
                    why=err.why,
                    fix="rerun sync: it resumes exactly from what the destination holds",
                )

        producer = self.dst.open_producer(
            {
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": self.opts.linger_ms,
                "batch.size": 1048576,
                "batch.num.messages": 100000,
                "queue.buffering.max.messages": 1000000,
                "queue.buffering.max.kbytes": 1048576,
                "compression.type": "none",
                "delivery.report.only.error": True,
                "message.max.bytes": 16 * 1024 * 1024,
            },
            on_error=on_error,
        )

        def on_assign(c: KafkaConsumer, partitions: list[TopicPartition]) -> None:
            assigned = False
            try:
                self._pending += [(tp.topic, tp.partition) for tp in partitions]
                assigned = self._assign_pending(c, raw)
            except KafkaUnavailable:
                pass  # kept in _pending: the main loop waits the outage out and assigns them
            except BaseException as exc:  # surfaced from the main loop
                self._error = exc
            if partitions and not assigned:
                # an assignment callback that assigns nothing itself gets every partition
                # assigned by the client after it returns; the pending ones are assigned
                # later, as their destination answers (or the outage ends)
                try:
                    c.incremental_assign([])
                except KafkaError as exc:
                    self._error = self._error or exc

        def on_revoke(c: KafkaConsumer, partitions: list[TopicPartition]) -> None:
            keys = {(tp.topic, tp.partition) for tp in partitions}
            self._pending = [k for k in self._pending if k not in keys]
            gone = [self.states[k] for k in sorted(keys) if k in self.states]
            try:
                self.checkpoint(producer, gone)
            except KafkaUnavailable as exc:
                if not raw:  # records may still be in flight for them: never let go of those
                    self._error = exc
                    return
                # raw: every map is acknowledged and saved locally; only the mirror lags, and
                # the next owner recovers the destination's tail by digest
                LOG.warning("partitions released without mirroring their maps: %s", exc)
            except BaseException as exc:
                self._error = exc
                return
            for st in gone:
                del self.states[(st.topic, st.partition)]
                self.released.append(st)
            self._assignment_changed = True

        self.result.engine = "raw" if raw else "record"
        consumer.subscribe(topics, on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
        try:
            if raw:
                self._loop_raw(consumer, producer)
            else:
                self._loop(consumer, producer)
            self.checkpoint(producer)
        finally:
            try:
                consumer.close()
            finally:
                try:
                    producer.close(0)  # checkpoint() waited for every delivery; errors don't
                finally:
                    self.mirror.close()  # the migration context closes the rest
        self.result.seconds = time.monotonic() - started
        finished = {(s.topic, s.partition): s for s in [*self.released, *self.states.values()]}
        for (t, p), st in sorted(finished.items()):
            self.result.partitions.append(
                {
                    "topic": t,
                    "partition": p,
                    "dst_topic": st.dst_topic,
                    "source_next": st.map.src_next,
                    "destination_next": st.map.dst_next,
                    "copied_this_run": st.map.src_next - st.start,
                    "contiguous": st.map.contiguous,
                    "runs": len(st.map.runs),
                }
            )
        return self.result

    def _assign_pending(self, consumer: KafkaConsumer, raw: bool) -> bool:
        """Take on the partitions the group gave us (reconciled against the destination);
        :class:`KafkaUnavailable` leaves them pending for the next try. Whether any was
        assigned to the consumer."""
        if not self._pending:
            return False
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        # raw engine: the partitions whose destination answers are copied while the others
        # (topics just created) are still being made ready; ASSIGN_WAIT_S after the first
        # try, the ones left must answer or fail. The record engine waits for them all.
        waited = time.monotonic() - self._pending_since
        partial = raw and waited < ASSIGN_WAIT_S
        states = self.assign(self._pending, partial=partial)
        taken = {(s.topic, s.partition) for s in states}
        self._pending = [k for k in self._pending if k not in taken]
        if not self._pending:
            self._pending_since = None
        if not states:
            return False  # (the assignment callback assigns nothing itself then: on_assign)
        consumer.incremental_assign(
            [TopicPartition(s.topic, s.partition, s.map.src_next) for s in states]
        )
        done = [TopicPartition(s.topic, s.partition) for s in states if s.done or raw]
        if done:
            consumer.pause(done)
        self._assignment_changed = True
        return True

    def _reconcile(
        self,
        topic: str,
        partition: int,
        dst_topic: str,
        stored: PartitionMap | None,
        src_bounds: tuple[int, int],
        dst_bounds: tuple[int, int],
    ) -> tuple[PartitionMap, int]:
        """:func:`reconcile`; a destination partition behind its map is first waited for,
        as an outage (:data:`BEHIND_SECONDS`): after a replicated cluster restarts, a
        partition's high watermark is behind what it acknowledged until its followers
        catch up."""
        try:
            return reconcile(
                self.src, self.dst, topic, partition, dst_topic, stored, src_bounds, dst_bounds
            )
        except DestinationBehind as behind:
            if self.outages.lasted() >= BEHIND_SECONDS:
                raise
            raise KafkaUnavailable(
                f"destination partition {dst_topic}[{partition}] is behind what the copy wrote",
                why=behind.what,
                fix="waiting for its replicas to catch up (a restarted cluster)",
            ) from behind

    def _reconcile_owned(self) -> None:
        """After a transient failure of the raw engine: make each owned partition's map true
        against the destination again. A produce that failed may still have landed: its
        records are recovered from the destination's tail by digest, like on a restart."""
        states = list(self.states.values())
        dst_bounds = self.dst.end_offsets_of((s.dst_topic, s.partition) for s in states)
        src_bounds = self.src.watermarks_of((s.topic, s.partition) for s in states)
        for st in states:
            st.fold()
            pmap, recovered = self._reconcile(
                st.topic,
                st.partition,
                st.dst_topic,
                st.map,
                src_bounds[(st.topic, st.partition)],
                dst_bounds[(st.dst_topic, st.partition)],
            )
            if recovered:
                key = f"{st.topic}[{st.partition}]"
                self.result.recovered[key] = self.result.recovered.get(key, 0) + recovered
                st.dirty = True
            st.map = pmap  # its sequence restarts with the new producer id

    def _wait_out(self, exc: KafkaUnavailable) -> None:
        """One transient failure: wait (with backoff) before the next try, or give up when
        the outage has lasted ``retry_seconds`` or would outlast the deadline."""
        delay = self.outages.failed()
        self.result.retries, self.result.outages = self.outages.retries, self.outages.count
        if self._metrics is not None and self._metrics.retries is not None:
            self._metrics.retries.inc()
        bound = self.opts.retry_seconds
        if delay is None:
            raise KafkaUnavailable(
                f"sync could not reach a cluster for {bound:g}s and gave up",
                why=exc.one_line(),
                fix="check the clusters; rerun sync: it resumes exactly where it stopped",
                **exc.context,
            ) from exc
        if self.opts.deadline is not None and time.monotonic() + delay > self.opts.deadline:
            raise exc
        if self.outages.first:
            self._say(f"sync: {exc.one_line()}; retrying with backoff for up to {bound:g}s")
        else:
            LOG.info("retry %d in %.1fs: %s", self.outages.attempts, delay, exc.one_line())
        self.opts.stop.wait(delay)

    def _back(self) -> None:
        """A try worked: end the outage, if one was going on (said once)."""
        lasted = self.outages.recovered()
        if lasted is not None:
            self._say(
                f"sync: the clusters answer again after {lasted:.1f}s; copying resumes "
                f"({self.outages.retries} retries so far)"
            )

    def _say(self, line: str) -> None:
        """One line for the user (the CLI's warning), else the log."""
        if self.opts.notice is not None:
            self.opts.notice(line)
        else:
            LOG.warning("%s", line)

    def _tick(self, producer: KafkaProducer) -> None:
        """Periodic work of both engines: checkpoint, progress, metrics, the deadline."""
        now = time.monotonic()
        if self.opts.deadline is not None and now > self.opts.deadline:
            self.checkpoint(producer)  # keep what was copied: the next run resumes from it
            left = sorted(f"{s.topic}[{s.partition}]" for s in self.states.values() if not s.done)
            raise SyncDeadlinePassed(
                "sync ran out of time before copying everything to its end",
                why="still copying: " + (", ".join(left[:5]) or "partitions other members hold"),
                fix="rerun: the copy resumes exactly where it stopped",
            )
        if now - self._last_checkpoint >= CHECKPOINT_SECONDS:
            self.checkpoint(producer)
            self._last_checkpoint = now
        if self.opts.progress is not None and now - self._last_progress >= 0.25:
            self._report_progress()
            self._last_progress = now
        if self._metrics is not None:
            self._update_metrics()

    def engine_reason(self) -> str | None:
        """Why the raw engine cannot reach the clusters (one line naming the side and the
        mechanism or settings), or None when it can: PLAINTEXT, SSL, SASL_PLAINTEXT and
        SASL_SSL with PLAIN or SCRAM-SHA-256/512 on both sides."""
        reasons = [
            f"{name}: {why}"
            for name, side in (("source", self.spec.source), ("destination", self.spec.destination))
            if (why := raw_unsupported(side.kafka)) is not None
        ]
        return "; ".join(reasons) or None

    def engine(self) -> str:
        """The copy engine: ``raw`` (record batches as bytes) where connshift's raw client
        reaches both sides (:func:`connshift.app.rawsecurity.raw_unsupported`), else
        ``record`` (librdkafka consume + produce, any security)."""
        wanted = self.opts.engine
        reason = self.engine_reason()
        if wanted == "raw" and reason is not None:
            raise UsageError(
                "--engine raw cannot reach these clusters",
                why=reason,
                fix="use --engine record (or auto)",
            )
        if wanted == "auto":
            return "raw" if reason is None else "record"
        return wanted

    def _loop_raw(self, consumer: KafkaConsumer, producer: KafkaProducer) -> None:
        """Copy with the raw batch engine; the consumer only keeps group membership.

        The copy runs in bounded rounds (at most ``ROUND_OFFSETS`` per partition), each
        drained to its last acknowledgement; the group is polled only between rounds, so
        a partition is never revoked while a batch for it is in flight.
        """
        from connshift.app.rawcopy import CopyOptions
        from connshift.io.kafka_raw import RawClient

        def clients() -> tuple[RawClient, RawClient]:
            return (
                RawClient(
                    self.src.bootstrap, name="source", security=raw_security(self.spec.source.kafka)
                ),
                RawClient(
                    self.dst.bootstrap,
                    name="destination",
                    security=raw_security(self.spec.destination.kafka),
                ),
            )

        src_raw, dst_raw = clients()
        self._dst_raw = dst_raw
        pid: tuple[int, int] | None = None
        #: after a transient failure: the owned maps are reconciled before copying goes on
        recovering = False
        # tiny source batches (Connect polls, copy-backs, trickles) go across merged: a broker
        # that stores each batch as one object (tansu 0.6 on S3) lists them all on every fetch,
        # and a partition of ~100 tiny batches was never read to its end by a consumer with a
        # short fetch wait; batches of 8 KiB and more keep their bytes
        options = CopyOptions(idle_timeout=120.0, coalesce_below=8 << 10, coalesce_bytes=64 << 10)
        try:
            while True:
                consumer.poll(0.05 if not self.states else 0)
                if self._error is not None:
                    raise self._error
                if self._assignment_changed:
                    # partitions may come back to us later: a fresh producer id each time the
                    # assignment changes keeps sequence numbers valid (_round_raw restarts
                    # every partition's sequence when it takes a new one)
                    self._assignment_changed = False
                    pid = None
                if self.opts.stop.is_set():
                    break
                try:
                    if recovering:
                        self._reconcile_owned()
                        recovering = False
                    self._assign_pending(consumer, raw=True)
                    pid, finished = self._round_raw(src_raw, dst_raw, producer, pid, options)
                except KafkaUnavailable as exc:
                    self._wait_out(exc)
                    src_raw.close()
                    dst_raw.close()
                    src_raw, dst_raw = clients()
                    self._dst_raw = dst_raw
                    pid, recovering = None, True
                    continue
                self._back()
                if finished:
                    break
        finally:
            self._dst_raw = None
            src_raw.close()
            dst_raw.close()
        if self.opts.progress is not None:
            self._report_progress()
        self.result.bytes = sum(s.bytes for s in [*self.released, *self.states.values()])

    def _round_raw(
        self,
        src_raw: RawClient,
        dst_raw: RawClient,
        producer: KafkaProducer,
        pid: tuple[int, int] | None,
        options: CopyOptions,
    ) -> tuple[tuple[int, int] | None, bool]:
        """One bounded round of the raw engine over every owned partition; returns the
        producer id to go on with, and whether sync is finished (``--once``)."""
        from connshift.app.rawcopy import PartitionRange, RawCopier
        from connshift.io.kafka_raw import LATEST, READ_COMMITTED

        active = [s for s in self.states.values() if not s.done]
        if not active and self._pending:
            time.sleep(0.05)  # ours, their destination not served yet (just created)
            return pid, False
        if not active:
            # --once: done when every selected partition reached its start-time end,
            # whoever copied it — also when the group never gave this member any
            # (a `sync --follow` holds them all, as beside a cutover's catch-up)
            waiting = not self.opts.follow
            if waiting and self._rest_copied():
                return pid, True
            self._tick(producer)
            time.sleep(0.1 if self.opts.follow or waiting else 0)
            return pid, False
        if pid is None:
            pid = dst_raw.init_producer_id()
            for st in self.states.values():
                st.sequence = 0
        moved = False
        lso: dict[tuple[str, int], int] = {}
        if self.opts.follow:  # every topic's ends in one request per broker
            lso = src_raw.list_offsets_many(
                {(s.topic, s.partition): LATEST for s in active}, isolation=READ_COMMITTED
            )
        ranges: dict[tuple[str, int], PartitionRange] = {}
        for s in active:
            key = (s.topic, s.partition)
            end = s.target if s.target is not None else lso[key]
            until = min(end, s.map.src_next + ROUND_OFFSETS)
            if until > s.map.src_next:
                ranges[key] = PartitionRange(
                    dst_next=s.map.dst_next,
                    start=s.map.src_next,
                    until=until,
                    base_sequence=s.sequence,
                )
        if ranges:
            # every topic in one copier: one Fetch per source broker and one Produce per
            # destination broker carry all the partitions of the round
            copier = RawCopier(
                src_raw,
                dst_raw,
                ranges,
                dst_of={k: (self.states[k].dst_topic, k[1]) for k in ranges},
                producer=pid,
                options=options,
            )
            for key, chunk in copier:
                owned = self.states[key]
                owned.map.extend(chunk.runs, chunk.src_next)
                owned.bytes += chunk.bytes
                owned.dirty = True
                self.result.records += chunk.records
                moved = True
                self._tick(producer)
            for key in ranges:
                planner = copier.planner(key)
                if planner is not None:
                    self.states[key].sequence = planner.sequence
        self._tick(producer)  # idle or not: the last chunks get checkpointed too
        if not moved and self.opts.follow:
            time.sleep(0.1)
        return pid, False

    def _loop(self, consumer: KafkaConsumer, producer: KafkaProducer) -> None:
        while True:
            if self._error is not None:
                raise self._error
            try:
                self._assign_pending(consumer, raw=False)
                finished = self._round_records(consumer, producer)
            except KafkaUnavailable as exc:
                # librdkafka reconnects and retries on its own (idempotently, within
                # message.timeout.ms): only wait; nothing to rebuild
                self._wait_out(exc)
                continue
            self._back()
            if finished:
                break
        self.result.bytes = sum(s.bytes for s in [*self.released, *self.states.values()])
        if self.opts.progress is not None:
            self._report_progress()

    def _round_records(self, consumer: KafkaConsumer, producer: KafkaProducer) -> bool:
        """One poll of the record engine: copy what came, checkpoint when due; returns
        whether sync is finished (``--once``)."""
        states = self.states
        produce = producer.produce
        poll = producer.poll
        eof_offset = consumer.eof_offset
        msgs = consumer.consume(2000, timeout=0.1)
        for m in msgs:
            err = m.error()
            topic = m.topic()
            part = m.partition()
            st = states.get((topic, part))
            if st is None:
                continue
            if err is not None:
                # partition EOF: its end offset; any other error raises KafkaError
                try:
                    end = eof_offset(m, what=f"could not read {topic}[{part}] from the source")
                except KafkaUnavailable as exc:
                    # an event (a broker restarting), not a record: librdkafka reconnects by
                    # itself; raising here would drop the rest of this batch
                    LOG.info("%s", exc.one_line())
                    continue
                if end is not None and end > st.position:
                    if st.target is not None:
                        end = min(end, st.target)
                    st.fold()
                    st.map.advance(end)
                    st.dirty = True
                if st.done:
                    consumer.pause([TopicPartition(topic, part)])
                continue
            off = m.offset()
            if off < st.position:
                continue  # already copied (a re-delivery after a rebalance)
            if st.target is not None and off >= st.target:
                consumer.pause([TopicPartition(topic, part)])
                continue
            value = m.value()
            key = m.key()
            ts = m.timestamp()[1]
            while True:
                try:
                    produce(st.dst_topic, value, key, part, None, None, ts, m.headers())
                    break
                except BufferError:
                    poll(0.05)
            if st.run_len and off == st.run_src + st.run_len:
                st.run_len += 1
            else:
                st.fold()
                if off > st.map.src_next:
                    st.map.advance(off)
                st.run_src = off
                st.run_dst = st.map.dst_next
                st.run_len = 1
            # the open run's destination end is the map's dst_next plus the run
            st.bytes += (len(value) if value else 0) + (len(key) if key else 0)
            self.result.records += 1
            st.dirty = True
        poll(0)
        self._tick(producer)
        if self.opts.stop.is_set():
            return True
        return (
            not self.opts.follow
            and not self._pending  # ours, their destination not served yet
            and all(s.done for s in states.values())
            and self._rest_copied()
        )

    # ------------------------------------------------------------------ reporting
    def _report_progress(self) -> None:
        assert self.opts.progress is not None
        per_topic: dict[str, tuple[int, int]] = {}
        for st in self.states.values():
            done = st.position - st.start
            total = (st.target - st.start) if st.target is not None else done
            d, t = per_topic.get(st.topic, (0, 0))
            per_topic[st.topic] = (d + done, t + max(total, done))
        self.opts.progress(per_topic)

    def _start_metrics(self) -> None:
        if self.opts.metrics_port is None:
            return
        from connshift.io import metrics

        self._metrics = metrics.start_sync_metrics(self.opts.metrics_port)

    def _update_metrics(self) -> None:
        self._metrics.update(
            {
                (s.topic, s.partition): (s.position - s.start, s.bytes, s.target, s.position)
                for s in self.states.values()
            }
        )


def sync(migration: Migration, options: SyncOptions | None = None) -> SyncResult:
    """Copy the spec's topics (``--once`` by default; ``follow`` keeps tailing); the result
    is recorded as ``sync`` evidence unless ``options.record`` is off."""
    options = options or SyncOptions()
    result = Syncer(migration, options).run()
    if options.record:
        migration.record("sync", result.to_json())
    return result


def drop_destination_copies(
    migration: Migration, topics: Sequence[str], report: Callable[[str], None], *, why: str
) -> list[str]:
    """Delete the destination copies of source ``topics`` and forget their mirrored maps
    (a fresh copy starts from nothing); returns the destination topics deleted."""
    spec, src, dst = migration.spec, migration.src, migration.dst
    source_topics = src.topics()
    existing = dst.topics()
    dropped = []
    mirror = migration.mirror
    try:
        for topic in topics:
            dst_topic = spec.topics.destination_name(topic)
            if dst_topic in existing:
                report(f"dropping {dst_topic} on the destination ({why})")
                dst.delete_topic(dst_topic)
                dropped.append(dst_topic)
            if topic in source_topics:
                mirror.forget(dst_topic, list(range(source_topics[topic].partitions)))
    finally:
        mirror.close()
    return dropped
