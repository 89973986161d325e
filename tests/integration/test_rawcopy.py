"""The raw record-batch copy path on the real sandbox: Kafka 3.9 -> Kafka 4.4, and -> tansu.

Each seeded topic is copied into a fresh destination topic; both sides are read back with
librdkafka (READ_COMMITTED) and compared record by record; the chunks' runs must map every
source offset to the destination offset of the same record, and where the source is contiguous
from 0 the offsets must be equal. Every destination batch's CRC32C is checked here from the raw
bytes (tansu stores a batch with a wrong CRC without complaint, and librdkafka does not check
CRCs unless ``check.crcs`` is set).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator

import pytest

from connshift.app import seed as seedmod
from connshift.app.rawcopy import Chunk, PartitionRange, RawPartitionCopier, copy_many
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.core.recordbatch import iter_batches
from connshift.io.kafka import KafkaCluster, Record
from connshift.io.kafka_raw import LATEST, READ_UNCOMMITTED, RawClient

from .helpers import unique_prefix

SEEDED = [seedmod.EVENTS, seedmod.COMPACTED, seedmod.TRANSACTIONAL, seedmod.TRIMMED]
CODECS = ["gzip", "snappy", "lz4", "zstd", "LogAppendTime"]


@pytest.fixture(params=["kafka", pytest.param("tansu", marks=pytest.mark.tansu)])
def destination(request: pytest.FixtureRequest, sandbox: Sandbox) -> str:
    port = sandbox.ports["destination-kafka" if request.param == "kafka" else "tansu"]
    return f"127.0.0.1:{port}"


@pytest.fixture
def source(sandbox: Sandbox) -> str:
    return f"127.0.0.1:{sandbox.ports['source-kafka']}"


class _SourceRecords(dict[tuple[str, int], list[Record]]):
    """``(topic, partition) -> records``, each read once from the source (librdkafka,
    READ_COMMITTED) on first use."""

    def __init__(self, kafka: KafkaCluster) -> None:
        super().__init__()
        self.kafka = kafka

    def __missing__(self, key: tuple[str, int]) -> list[Record]:
        records = self[key] = list(self.kafka.read(*key))
        return records


@pytest.fixture(scope="module")
def source_records(sandbox: Sandbox) -> _SourceRecords:
    """Source partitions read once, shared by both destinations' tests."""
    port = sandbox.ports["source-kafka"]
    return _SourceRecords(KafkaCluster({"bootstrap.servers": f"127.0.0.1:{port}"}))


@pytest.fixture
def clients(source: str, destination: str) -> Iterator[tuple[RawClient, RawClient]]:
    with (
        RawClient(source, name="source") as src,
        RawClient(destination, name="destination") as dst,
    ):
        yield src, dst


def _content(records: list[Record]) -> list[tuple[object, ...]]:
    return [(r.key, r.value, r.headers, r.timestamp) for r in records]


def _mapping(chunks: list[Chunk]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in chunks:
        for src, dst, length in chunk.runs:
            for i in range(length):
                assert src + i not in out, f"source offset {src + i} mapped twice"
                out[src + i] = dst + i
    return out


def _check_destination_batches(client: RawClient, topic: str, partition: int, pid: int) -> int:
    """Fetch every batch of a destination partition: CRC valid, ours, not transactional."""
    offset, batches = 0, 0
    while True:
        result = client.fetch(topic, {partition: offset}, isolation=READ_UNCOMMITTED)[partition]
        assert result.error == 0
        got = list(iter_batches(result.records))
        for batch in got:
            assert batch.crc_valid(), f"{topic}[{partition}] batch at {batch.base_offset}"
            assert batch.producer_id == pid and not batch.is_transactional
            assert batch.is_contiguous and not batch.is_control
            offset = batch.next_offset
            batches += 1
        if not got or offset >= result.high_watermark:
            return batches


def test_raw_copy_of_the_seeded_estate(
    seeded: SeedResult,
    destination: str,
    clients: tuple[RawClient, RawClient],
    source_records: _SourceRecords,
) -> None:
    src, dst = clients
    dst_kafka = KafkaCluster({"bootstrap.servers": destination}, name="destination")
    prefix = unique_prefix("raw")
    producer = dst.init_producer_id()
    for topic in SEEDED:
        partitions = src.partitions(topic)
        dst_topic = prefix + topic
        dst_kafka.create_topic(dst_topic, len(partitions))
        ends = src.list_offsets(topic, dict.fromkeys(partitions, LATEST))  # LSO: committed end
        chunks: dict[int, list[Chunk]] = defaultdict(list)
        ranges = {p: PartitionRange(dst_next=0) for p in partitions}
        for p, chunk in copy_many(src, dst, topic, ranges, dst_topic=dst_topic, producer=producer):
            chunks[p].append(chunk)
        for p in partitions:
            where = f"{topic}[{p}]"
            src_records = source_records[(topic, p)]
            dst_records = list(dst_kafka.read(dst_topic, p))
            assert _content(dst_records) == _content(src_records), where
            mapping = _mapping(chunks[p])
            assert sorted(mapping) == [r.offset for r in src_records], where
            assert [mapping[r.offset] for r in src_records] == [r.offset for r in dst_records]
            assert [r.offset for r in dst_records] == list(range(len(dst_records))), where
            if topic == seedmod.EVENTS:  # contiguous from 0: the very same offsets
                assert [r.offset for r in dst_records] == [r.offset for r in src_records]
                assert mapping == {o: o for o in mapping}
            nexts = [c.src_next for c in chunks[p]]
            assert nexts == sorted(nexts) and nexts[-1] == ends[p], where
            assert _check_destination_batches(dst, dst_topic, p, producer[0]) > 0
        # where the source log is not contiguous, the map says so
        gaps = {p: len(_mapping(chunks[p])) < chunks[p][-1].src_next for p in partitions}
        if topic in (seedmod.COMPACTED, seedmod.TRANSACTIONAL, seedmod.TRIMMED):
            assert all(gaps.values()), topic
        else:
            assert not any(gaps.values()), topic


def test_resume_inside_a_batch_continues_the_map(
    seeded: SeedResult,
    destination: str,
    clients: tuple[RawClient, RawClient],
    source_records: _SourceRecords,
) -> None:
    """Two copies, the second starting at an offset inside a source batch: one exact map."""
    src, dst = clients
    dst_kafka = KafkaCluster({"bootstrap.servers": destination}, name="destination")
    topic = seedmod.TRANSACTIONAL
    dst_topic = unique_prefix("raw-resume") + topic
    dst_kafka.create_topic(dst_topic, 1)
    first = RawPartitionCopier(src, dst, topic, 0, dst_next=0, until=15, dst_topic=dst_topic)
    chunks = list(first)
    assert first.src_next == 15 and chunks[-1].src_next == 15
    # a new copier, as after a restart: a new producer id, the destination's end
    second = RawPartitionCopier(
        src, dst, topic, 0, dst_next=first.dst_next, start=15, dst_topic=dst_topic
    )
    chunks += list(second)
    assert second.producer != first.producer
    src_records = source_records[(topic, 0)]
    dst_records = list(dst_kafka.read(dst_topic, 0))
    assert _content(dst_records) == _content(src_records)
    mapping = _mapping(chunks)
    assert [mapping[r.offset] for r in src_records] == [r.offset for r in dst_records]


@pytest.fixture(scope="module")
def codec_topics(sandbox: Sandbox) -> dict[str, tuple[str, list[Record]]]:
    """One source topic per codec, compressed by the Java broker (its xerial snappy, its lz4
    frames, ...), and one with LogAppendTime: codec -> (topic, its records)."""
    kafka = KafkaCluster({"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"})
    prefix = unique_prefix("raw-codec")
    out = {}
    for codec in CODECS:
        topic = prefix + codec
        config = (
            {"message.timestamp.type": "LogAppendTime"}
            if codec == "LogAppendTime"
            else {"compression.type": codec}
        )
        kafka.create_topic(topic, 1, config=config)
        kafka.produce(
            topic,
            [(f"k{i}".encode(), f"value {i} ".encode() * 30) for i in range(300)],
            partition=0,
            headers=[("h", b"x"), ("null", None)],
            extra={"compression.type": "none", "linger.ms": 20},
        )
        out[codec] = (topic, list(kafka.read(topic, 0)))
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_broker_compressed_batches(
    destination: str,
    clients: tuple[RawClient, RawClient],
    codec_topics: dict[str, tuple[str, list[Record]]],
    codec: str,
) -> None:
    """Copied whole, the broker's batches keep their record bytes; copied from an offset
    inside a batch up to one inside another, they are re-encoded (and Apache Kafka's validator
    decompresses and checks them on produce)."""
    src, dst = clients
    dst_kafka = KafkaCluster({"bootstrap.servers": destination}, name="destination")
    topic, src_records = codec_topics[codec]
    source_batches = list(iter_batches(src.fetch(topic, {0: 0})[0].records))
    assert source_batches and all(b.crc_valid() for b in source_batches)  # a real broker's
    if codec != "LogAppendTime":
        assert {b.compression.name.lower() for b in source_batches} == {codec}

    whole = f"{topic}.copy.whole"
    dst_kafka.create_topic(whole, 1)
    chunks = list(RawPartitionCopier(src, dst, topic, 0, dst_next=0, dst_topic=whole))
    assert _mapping(chunks) == {r.offset: r.offset for r in src_records}
    copied = list(iter_batches(dst.fetch(whole, {0: 0}, partition_max_bytes=4 << 20)[0].records))
    assert all(b.crc_valid() for b in copied)
    if codec != "LogAppendTime":  # LogAppendTime batches are re-encoded as CreateTime
        assert [bytes(b.raw[61:]) for b in copied] == [bytes(b.raw[61:]) for b in source_batches]

    part = f"{topic}.copy.part"
    dst_kafka.create_topic(part, 1)
    copier = RawPartitionCopier(src, dst, topic, 0, dst_next=0, start=7, until=251, dst_topic=part)
    chunks = list(copier)
    want = [r for r in src_records if 7 <= r.offset < 251]
    got = list(dst_kafka.read(part, 0))
    assert _content(got) == _content(want)
    assert _mapping(chunks) == {r.offset: i for i, r in enumerate(want)}
    assert _check_destination_batches(dst, part, 0, (copier.producer or (0, 0))[0])


def test_tansu_list_offsets_latest_is_wrong_use_fetch(sandbox: Sandbox) -> None:
    """Documents the quirk the copy path works around: tansu's ListOffsets(LATEST)."""
    bootstrap = f"127.0.0.1:{sandbox.ports['tansu']}"
    kafka = KafkaCluster({"bootstrap.servers": bootstrap}, name="tansu")
    topic = unique_prefix("raw-quirk") + "latest"
    kafka.create_topic(topic, 1)
    kafka.produce(topic, [(b"k", b"v")] * 10, partition=0)
    kafka.produce(topic, [(b"k", b"v")] * 10, partition=0)
    with RawClient(bootstrap, name="tansu") as client:
        deadline = time.monotonic() + 10
        while client.fetch(topic, {0: 0})[0].high_watermark < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.fetch(topic, {0: 0})[0].high_watermark == 20
        latest = client.list_offsets(topic, {0: -1})[0]
    if latest == 20:
        pytest.skip("tansu answers ListOffsets(LATEST) correctly now: the workaround can go")
    assert latest != 20
