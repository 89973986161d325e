"""Micro-benchmark of the raw record-batch copy path (not a test).

Fills a fresh source topic with N records of ``--size`` bytes using confluent-kafka (batches of
about ``--batch-bytes``), then copies it with :func:`connshift.app.rawcopy.copy_many` into a
fresh destination topic and prints records/s and the copier's CPU time (the copying thread's
user+sys, and per million records: the figure that carries over between machines, since the
brokers share the cores). Finally checks that the destination's end offsets equal the source's.

    .venv/bin/python bench/rawcopy_micro.py                       # sandbox Kafka 3.9 -> 4.4
    .venv/bin/python bench/rawcopy_micro.py --dst 127.0.0.1:39092 # -> tansu
    .venv/bin/python bench/rawcopy_micro.py -n 1000000 --batch-bytes 16384
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from connshift.app.rawcopy import CopyOptions, PartitionRange, copy_many
from connshift.io.kafka import KafkaCluster
from connshift.io.kafka_raw import RawClient


def _thread_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def fill(cluster: KafkaCluster, topic: str, n: int, size: int, partitions: int, batch: int) -> None:
    """N records of ``size`` bytes (keyless, round-robin over partitions) via librdkafka."""
    producer = cluster.producer(
        {
            "enable.idempotence": True,
            "linger.ms": 50,
            "batch.size": batch,
            "batch.num.messages": 1_000_000,
            "compression.type": "none",
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 2_000_000,
        }
    )
    value = os.urandom(size)
    produce = producer.produce
    for i in range(n):
        while True:
            try:
                produce(topic, value, None, i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 100_000 == 0:
            producer.poll(0)
    left = producer.flush(120)
    if left:
        raise SystemExit(f"{left} records not delivered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="127.0.0.1:19092")
    parser.add_argument("--dst", default="127.0.0.1:29092")
    parser.add_argument("-n", "--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--batch-bytes", type=int, default=1_000_000)
    parser.add_argument("--fetch-bytes", type=int, default=4 << 20)
    parser.add_argument("--partition-fetch-bytes", type=int, default=1 << 20)
    parser.add_argument("--in-flight", type=int, default=5)
    parser.add_argument("--topic", help="copy this existing source topic instead of filling one")
    args = parser.parse_args()

    source = KafkaCluster({"bootstrap.servers": args.src}, name="source")
    destination = KafkaCluster({"bootstrap.servers": args.dst}, name="destination")
    stamp = int(time.time())
    topic = args.topic
    if topic is None:
        topic = f"bench.raw.{args.records}x{args.size}.{stamp}"
        source.create_topic(topic, args.partitions)
        t0 = time.perf_counter()
        fill(source, topic, args.records, args.size, args.partitions, args.batch_bytes)
        print(f"filled {topic}: {args.records} x {args.size} B in {time.perf_counter() - t0:.1f}s")
    partitions = source.topics()[topic].partitions
    dst_topic = f"bench.raw.copy.{stamp}"
    destination.create_topic(dst_topic, partitions)

    options = CopyOptions(
        max_bytes=args.fetch_bytes,
        partition_max_bytes=args.partition_fetch_bytes,
        max_in_flight=args.in_flight,
    )
    with (
        RawClient(args.src, name="source") as src,
        RawClient(args.dst, name="destination") as dst,
    ):
        ranges = {p: PartitionRange(dst_next=0) for p in range(partitions)}
        records = nbytes = chunks = 0
        ends: dict[int, int] = {}
        wall0, cpu0 = time.perf_counter(), _thread_cpu()
        for partition, chunk in copy_many(
            src, dst, topic, ranges, dst_topic=dst_topic, options=options
        ):
            records += chunk.records
            nbytes += chunk.bytes
            chunks += 1
            ends[partition] = chunk.src_next
        wall, cpu = time.perf_counter() - wall0, _thread_cpu() - cpu0
        dst_ends = {
            p: r.high_watermark
            for p, r in dst.fetch(
                dst_topic, dict.fromkeys(range(partitions), 0), partition_max_bytes=1
            ).items()
        }

    per_million = cpu / records * 1e6 if records else float("nan")
    print(
        f"copied {records} records ({nbytes / 1e6:.1f} MB, {chunks} batches) in {wall:.2f}s: "
        f"{records / wall:,.0f} records/s, {nbytes / wall / 1e6:.0f} MB/s"
    )
    print(
        f"copier CPU {cpu:.2f}s = {per_million:.3f}s per million records "
        f"({cpu / wall:.0%} of one core)"
    )
    assert dst_ends == ends, (dst_ends, ends)
    print(f"destination ends = source ends: {dst_ends}")


if __name__ == "__main__":
    main()
