"""`connshift sandbox seed` builds an estate whose hard shapes are really there."""

from __future__ import annotations

import time
from itertools import pairwise

from connshift.app import seed as seedmod
from connshift.app.sandbox import Sandbox
from connshift.app.seed import SeedResult
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster


def _source(sandbox: Sandbox) -> KafkaCluster:
    return KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"}, name="source"
    )


def test_every_seeded_connector_runs_and_writes_its_topic(
    sandbox: Sandbox, seeded: SeedResult
) -> None:
    url = f"http://127.0.0.1:{sandbox.ports['source-connect']}"
    with ConnectClient(url, name="source") as client:
        for name in ("shop-cdc", "files-source", "files-sink"):
            status = client.status(name)
            assert status.state == "RUNNING", status.describe()
            assert status.tasks and all(t.state == "RUNNING" for t in status.tasks)
        assert set(client.topics("shop-cdc")) >= set(seedmod.CDC_TOPICS)
    source = _source(sandbox)
    for topic in (*seedmod.CDC_TOPICS, seedmod.FILE_TOPIC):
        assert source.watermarks(topic, 0)[1] > 0, topic
    # the FileStream source read every line of its file
    lines = (sandbox.files_dir() / "access.log").read_text().splitlines()
    deadline = time.monotonic() + 30
    while source.watermarks(seedmod.FILE_TOPIC, 0)[1] < len(lines) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert source.watermarks(seedmod.FILE_TOPIC, 0)[1] == len(lines)


def test_filestream_sink_consumes_through_its_group(sandbox: Sandbox, seeded: SeedResult) -> None:
    source = _source(sandbox)
    # other tests may have added events: the sink must have consumed up to the end
    ends = {(seedmod.EVENTS, p): source.watermarks(seedmod.EVENTS, p)[1] for p in range(3)}
    deadline = time.monotonic() + 60
    committed: dict[tuple[str, int], int] = {}
    while time.monotonic() < deadline:
        committed = source.group_offsets("connect-files-sink")
        if all(committed.get(tp, 0) >= end for tp, end in ends.items()):
            break
        time.sleep(1)
    assert all(committed.get(tp, 0) >= end for tp, end in ends.items()), (committed, ends)
    assert sum(ends.values()) >= 300
    out = (sandbox.files_dir() / "app-events.out").read_text().splitlines()
    assert len(out) >= 300


def test_compacted_topic_has_offset_holes(sandbox: Sandbox, seeded: SeedResult) -> None:
    source = _source(sandbox)
    low, high = source.watermarks(seedmod.COMPACTED, 0)
    offsets = [r.offset for r in source.read(seedmod.COMPACTED, 0)]
    assert source.topic_configs(seedmod.COMPACTED)["cleanup.policy"] == "compact"
    assert len(offsets) < high - low  # the cleaner removed superseded records
    assert offsets == sorted(offsets)
    assert any(b - a > 1 for a, b in pairwise(offsets))


def test_transactional_topic_has_markers_and_aborted_records(
    sandbox: Sandbox, seeded: SeedResult
) -> None:
    source = _source(sandbox)
    _, high = source.watermarks(seedmod.TRANSACTIONAL, 0)
    committed = list(source.read(seedmod.TRANSACTIONAL, 0, isolation="read_committed"))
    uncommitted = list(source.read(seedmod.TRANSACTIONAL, 0, isolation="read_uncommitted"))
    aborted_tx = len([t for t in range(seedmod.TX_COUNT) if t % 3 == 2])
    assert len(committed) == (seedmod.TX_COUNT - aborted_tx) * seedmod.TX_SIZE
    assert len(uncommitted) == seedmod.TX_COUNT * seedmod.TX_SIZE
    # one control marker per transaction makes the log longer than its records
    assert high == seedmod.TX_COUNT * (seedmod.TX_SIZE + 1)


def test_trimmed_topic_log_start_moved(sandbox: Sandbox, seeded: SeedResult) -> None:
    low, high = _source(sandbox).watermarks(seedmod.TRIMMED, 0)
    assert (low, high) == (seedmod.TRIMMED_DELETE_BEFORE, seedmod.TRIMMED_RECORDS)


def test_consumer_groups_have_committed_offsets(sandbox: Sandbox, seeded: SeedResult) -> None:
    source = _source(sandbox)
    assert source.group_offsets("billing-service")[(seedmod.EVENTS, 0)] == 40
    assert source.group_offsets("payments-reader") == {(seedmod.TRANSACTIONAL, 0): 44}
    assert source.group_offsets("audit-reader") == {(seedmod.TRIMMED, 0): 120}


def test_seed_is_idempotent(sandbox: Sandbox, seeded: SeedResult) -> None:
    again = seedmod.seed(sandbox)
    assert again.topics_created == []
    assert again.connectors_created == []
    assert again.groups_committed == []
    assert set(again.connectors) == {"shop-cdc", "files-source", "files-sink"}


def test_live_writer_changes_reach_the_cdc_topics(sandbox: Sandbox, seeded: SeedResult) -> None:
    source = _source(sandbox)

    def cdc_end() -> int:
        return sum(source.watermarks(t, 0)[1] for t in seedmod.CDC_TOPICS)

    start = cdc_end()
    stats = seedmod.live(sandbox, rate=50, max_changes=30)
    assert stats.changes == 30
    deadline = time.monotonic() + 60
    while cdc_end() < start + 30 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cdc_end() == start + 30  # one change event per committed change, no more
