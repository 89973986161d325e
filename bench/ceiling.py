"""The physical ceiling of a copy: how fast the source gives out a case's record batches and
how fast the destination takes them, each alone, with connshift's own raw client.

* **fetch-only** — :class:`~connshift.io.kafka_raw.RawClient` reads every partition of the
  case's topics from its start to its end as record batches (READ_COMMITTED, the fetch sizes
  ``sync`` uses: 4 MiB per answer, 1 MiB per partition). Only the 61-byte batch headers are
  read (record count, next offset): no decompression, no record decoding. Up to
  ``FETCH_DEPTH`` fetches (of different topics) are in flight at once.
* **produce-only** — the fetched batches, kept in memory (up to ``SAMPLE_BUDGET`` bytes; past
  that, the kept ones are produced again in turn until as many records as the case holds
  have gone), are re-stamped for one idempotent producer id
  (:func:`connshift.core.recordbatch.restamp`: producer id, epoch, base sequence continuing
  per partition, CRC32C — what ``sync`` does to a batch it copies as is) and produced with
  ``acks=all`` to scratch topics ``<topic>.ceiling`` on the destination (same partition
  counts), one batch per partition per request (all Kafka accepts), up to
  ``PRODUCE_IN_FLIGHT`` requests in flight. The re-stamping is inside the timing: a copier
  cannot avoid it.

Both are records/s over the wall time of the loop (connections are opened and the producer id
is taken before the clock starts). The ceiling is the lower of the two: a copier that fetches
and produces at once on the same machine can at best reach it (on 2 shared cores, both
brokers and the copier compete, so it is an upper bound, not a promise).

RawClient speaks one topic per Fetch and per Produce request today; for many small topics
(the estate case) the ceiling is measured with those per-topic requests, pipelined across
topics, and rises when multi-topic requests arrive.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic

from connshift.core.recordbatch import iter_batches, restamp
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_raw import (
    READ_COMMITTED,
    ErrorCode,
    PendingFetch,
    PendingProduce,
    RawClient,
    error_name,
)

MIB = 1024 * 1024
SCRATCH_SUFFIX = ".ceiling"
#: batches kept for the produce-only pass (beyond it they are produced again in turn)
SAMPLE_BUDGET = 256 * MIB
FETCH_MAX_BYTES = 4 << 20
FETCH_PARTITION_MAX_BYTES = 1 << 20
FETCH_DEPTH = 4
PRODUCE_IN_FLIGHT = 5


@dataclass
class Sample:
    """Batches of one topic kept for the produce pass: ``partition -> [(bytes, records)]``."""

    partitions: dict[int, list[tuple[bytes, int]]] = field(default_factory=dict)


def rate(records: int, nbytes: int, seconds: float) -> dict[str, Any]:
    return {
        "records": records,
        "bytes": nbytes,
        "seconds": round(seconds, 3),
        "records_per_s": round(records / seconds, 1) if seconds > 0 else None,
        "mib_per_s": round(nbytes / seconds / MIB, 2) if seconds > 0 else None,
    }


def ceiling_of(fetch_rps: float | None, produce_rps: float | None) -> tuple[float | None, str]:
    """The lower of the two rates and which side it is (``fetch``/``produce``)."""
    if fetch_rps is None and produce_rps is None:
        return None, "unknown"
    if produce_rps is None or (fetch_rps is not None and fetch_rps <= produce_rps):
        return fetch_rps, "fetch"
    return produce_rps, "produce"


def percent_of(rate_: float | None, ceiling: float | None) -> float | None:
    """``rate_`` as a fraction of ``ceiling`` (None when either is unknown)."""
    if not rate_ or not ceiling:
        return None
    return rate_ / ceiling


def produce_rounds(
    sample: Mapping[int, Sequence[tuple[bytes, int]]], records_wanted: int
) -> list[dict[int, int]]:
    """The order in which the produce pass sends the kept batches: rounds of one batch per
    partition (``partition -> index into its list``), going round the kept batches again until
    ``records_wanted`` records are planned (pure; at least one pass when anything is kept)."""
    rounds: list[dict[int, int]] = []
    lengths = {p: len(b) for p, b in sample.items() if b}
    if not lengths:
        return rounds
    planned = 0
    longest = max(lengths.values())
    while True:
        for i in range(longest):
            rnd = {p: i for p, n in lengths.items() if i < n}
            rounds.append(rnd)
            planned += sum(sample[p][i][1] for p in rnd)
            if planned >= records_wanted:
                return rounds
        if planned == 0:
            return rounds


def fetch_only(
    client: RawClient,
    ends: Mapping[str, Mapping[int, int]],
    budget: int = SAMPLE_BUDGET,
) -> tuple[dict[str, Any], dict[str, Sample]]:
    """Read every topic of ``ends`` (``topic -> partition -> end offset``) from offset 0 to its
    end as batches; the rate and the kept batches (up to ``budget`` bytes)."""
    positions = {t: dict.fromkeys(parts, 0) for t, parts in ends.items()}
    samples = {t: Sample() for t in ends}
    kept = records = nbytes = batches = 0
    todo = deque(t for t in ends if any(e > 0 for e in ends[t].values()))
    client.metadata(list(todo))  # partitions and leaders, before the clock starts
    in_flight: deque[tuple[str, PendingFetch]] = deque()
    started = time.monotonic()
    while todo or in_flight:
        busy = {t for t, _ in in_flight}
        while todo and len(in_flight) < FETCH_DEPTH and todo[0] not in busy:
            topic = todo.popleft()
            want = {p: o for p, o in positions[topic].items() if o < ends[topic][p]}
            pending = client.send_fetch(
                topic,
                want,
                max_bytes=FETCH_MAX_BYTES,
                partition_max_bytes=FETCH_PARTITION_MAX_BYTES,
                isolation=READ_COMMITTED,
                max_wait_ms=100,
            )
            in_flight.append((topic, pending))
            busy.add(topic)
        topic, pending = in_flight.popleft()
        results = client.receive_fetch(pending)
        for partition, result in results.items():
            if result.error != ErrorCode.NONE:
                raise RuntimeError(
                    f"fetch of {topic}[{partition}] failed: {error_name(result.error)}"
                )
            pos = positions[topic][partition]
            for batch in iter_batches(result.records):
                if batch.next_offset <= pos:
                    continue
                pos = batch.next_offset
                n = batch.record_count
                records += n
                nbytes += batch.size
                batches += 1
                if kept + batch.size <= budget and not batch.is_control:
                    samples[topic].partitions.setdefault(partition, []).append(
                        (bytes(batch.raw), n)
                    )
                    kept += batch.size
            positions[topic][partition] = pos
        if any(positions[topic][p] < e for p, e in ends[topic].items()):
            todo.append(topic)
    seconds = time.monotonic() - started
    out = rate(records, nbytes, seconds)
    out.update(batches=batches, kept_bytes=kept, topics=len(ends))
    return out, samples


def produce_only(
    client: RawClient,
    samples: Mapping[str, Sample],
    records_wanted: int,
    suffix: str = SCRATCH_SUFFIX,
) -> dict[str, Any]:
    """Produce the kept batches (re-stamped) to ``<topic><suffix>`` until ``records_wanted``
    records have gone (each topic its share); the rate."""
    from connshift.core.recordbatch import BatchView

    producer_id, epoch = client.init_producer_id()
    total_kept = sum(n for s in samples.values() for b in s.partitions.values() for _, n in b)
    plans: list[tuple[str, list[dict[int, int]]]] = []
    for topic, sample in samples.items():
        kept = sum(n for b in sample.partitions.values() for _, n in b)
        if not kept:
            continue
        share = max(kept, round(records_wanted * kept / max(total_kept, 1)))
        plans.append((topic + suffix, produce_rounds(sample.partitions, share)))
    client.metadata([name for name, _ in plans])
    views = {
        topic + suffix: {
            p: [(BatchView(memoryview(raw)), n) for raw, n in batches]
            for p, batches in sample.partitions.items()
        }
        for topic, sample in samples.items()
    }
    sequences: dict[tuple[str, int], int] = {}
    # interleave the topics' rounds so that requests for different topics pipeline
    queue: deque[tuple[str, dict[int, int]]] = deque()
    longest = max((len(r) for _, r in plans), default=0)
    for i in range(longest):
        for topic, rounds in plans:
            if i < len(rounds):
                queue.append((topic, rounds[i]))
    records = nbytes = requests = 0
    in_flight: deque[tuple[str, PendingProduce]] = deque()

    def settle() -> None:
        topic, pending = in_flight.popleft()
        for result in client.receive_produce(pending).values():
            client.check_produce(topic, result)

    started = time.monotonic()
    while queue:
        topic, rnd = queue.popleft()
        batches: dict[int, bytes] = {}
        for partition, index in rnd.items():
            view, n = views[topic][partition][index]
            seq = sequences.get((topic, partition), 0)
            batches[partition] = restamp(view, producer_id, epoch, seq)
            sequences[(topic, partition)] = (seq + n) & 0x7FFFFFFF
            records += n
            nbytes += view.size
        if len(in_flight) >= PRODUCE_IN_FLIGHT:
            settle()
        in_flight.append((topic, client.send_produce(topic, batches, acks=-1)))
        requests += 1
    while in_flight:
        settle()
    seconds = time.monotonic() - started
    out = rate(records, nbytes, seconds)
    out.update(requests=requests, topics=len(plans))
    return out


def create_scratch(cluster: KafkaCluster, topics: Mapping[str, int]) -> list[str]:
    """Create ``<topic>.ceiling`` for each topic (``-> partitions``)."""
    return create_topics(cluster, {t + SCRATCH_SUFFIX: n for t, n in topics.items()})


def create_topics(
    cluster: KafkaCluster, names: Mapping[str, int], timeout: float = 60.0, attempts: int = 3
) -> list[str]:
    """Create topics (``name -> partitions``) in one admin call (a busy controller may time
    out: what failed is asked again, up to ``attempts`` times; existing topics are fine)."""
    todo = dict(names)
    for attempt in range(attempts):
        futs = cluster.admin.create_topics(
            [NewTopic(name, num_partitions=n, replication_factor=1) for name, n in todo.items()],
            operation_timeout=timeout,
        )
        failed: dict[str, str] = {}
        for name, fut in futs.items():
            try:
                fut.result(timeout=timeout + 5)
            except KafkaException as exc:
                err = exc.args[0] if exc.args else None
                if not (
                    isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS
                ):
                    failed[name] = str(exc)
        if not failed:
            return list(names)
        todo = {name: names[name] for name in failed}
        if attempt + 1 < attempts:
            time.sleep(2)
    raise RuntimeError(
        f"could not create {len(failed)} scratch topic(s): {next(iter(failed.values()))}"
    )


def measure(
    source: str,
    destination: str,
    dst: KafkaCluster,
    ends: Mapping[str, Mapping[int, int]],
    records: int,
    created: set[str] | None = None,
    budget: int = SAMPLE_BUDGET,
) -> dict[str, Any]:
    """Fetch-only on ``source`` and produce-only on ``destination`` for a case's topics
    (``topic -> partition -> end offset``); scratch topics are added to ``created`` (the
    caller deletes them)."""
    partitions = {t: len(p) for t, p in ends.items()}
    scratch = [t + SCRATCH_SUFFIX for t in ends]
    if created is not None:
        created.update(scratch)
    with RawClient(source, name="source", client_id="connshift-bench-ceiling") as src:
        fetch, samples = fetch_only(src, ends, budget)
    create_scratch(dst, partitions)
    with RawClient(destination, name="destination", client_id="connshift-bench-ceiling") as out:
        for name in scratch:
            out.wait_leaders(name, range(partitions[name[: -len(SCRATCH_SUFFIX)]]))
        produce = produce_only(out, samples, records)
    value, side = ceiling_of(fetch["records_per_s"], produce["records_per_s"])
    return {
        "fetch": fetch,
        "produce": produce,
        "records_per_s": value,
        "limited_by": side,
        "sample_budget_bytes": budget,
    }
