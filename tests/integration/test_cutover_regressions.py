"""Two defects the one-executor refactor fixed, proven on the sandbox.

- A sink's rollback mapped destination topics back to source topics by zipping two lists
  sorted separately: with a rename that changes the sort order, positions went back to the
  wrong topic. Plans now carry a source -> destination ``topic_map``, journaled at preflight.
- ``cutover`` beside a running ``sync --follow`` (the set-up the README recommends) never
  left ``catch-up`` on a one-partition topic: its in-process ``sync --once`` was never given
  a partition and never looked at what the follower copied. Catch-up now reads the shared
  map store and every wait is bounded; a catch-up that cannot finish resumes the source.

Like test_cutover.py, these pass ``--force`` past the (empty) readiness scorecard.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from connshift.app.sandbox import Sandbox
from connshift.io.postgres import WriterStats

from .conftest import SpecFor
from .helpers import (
    CLI,
    connect,
    copied_so_far,
    kafka,
    live_writer,
    run_cli,
    run_json,
    unique_prefix,
    wait_for,
)

FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def test_sink_rollback_through_a_rename_that_changes_sort_order(
    sandbox: Sandbox, tmp_path: Path, spec_for: SpecFor
) -> None:
    tag = uuid.uuid4().hex[:6]
    alpha, beta, zzz = f"rn{tag}-alpha", f"rn{tag}-beta", f"rn{tag}-zzz"
    name, group = f"rn{tag}-sink", f"connect-rn{tag}-sink"
    src, dst = kafka(sandbox, "source"), kafka(sandbox, "destination")
    for topic in (alpha, beta):
        src.create_topic(topic, 1)
    src.produce(alpha, [(f"k{i}", f"alpha {i}") for i in range(30)], partition=0)
    src.produce(beta, [(f"k{i}", f"beta {i}") for i in range(10)], partition=0)
    spec = spec_for(name="rename", include=[f"rn{tag}-.*"], rename={alpha: zzz})
    config = {
        "connector.class": FILE_SINK,
        "topics": f"{alpha},{beta}",
        "file": str(tmp_path / "sink.txt"),
        "tasks.max": "1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    want_src = {(alpha, 0): 30, (beta, 0): 10}
    want_dst = {(zzz, 0): 30, (beta, 0): 10}
    with connect(sandbox, "source") as src_c, connect(sandbox, "destination") as dst_c:
        try:
            src_c.create(name, config)
            src_c.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
            wait_for(lambda: src.group_offsets(group) == want_src, 90, "the sink to read all")
            run_json("sync", "-c", str(spec), "--once")

            result = run_json("cutover", "--force", "-c", str(spec), name)
            assert [s["status"] for s in result["steps"][1:8]] == ["done"] * 7
            written = next(s for s in result["steps"] if s["step"] == "write-offsets")["data"]
            assert {
                (w["partition"]["kafka_topic"], w["offset"]["kafka_offset"])
                for w in written["written"]
            } == {(zzz, 30), (beta, 10)}
            wait_for(
                lambda: dst.group_offsets(group) == want_dst, 90, "destination group positions"
            )

            back = run_json("rollback", "-c", str(spec), name)
            steps = {s["step"]: s for s in back["steps"]}
            assert steps["write-source-offsets"]["status"] == "done"
            assert {
                (w["partition"]["kafka_topic"], w["offset"]["kafka_offset"])
                for w in steps["write-source-offsets"]["data"]["written"]
            } == {(alpha, 30), (beta, 10)}
            assert not dst_c.exists(name)
            assert src_c.status(name).state == "RUNNING"
            # the source group is where the sink left it on each topic: none moved across
            wait_for(lambda: src.group_offsets(group) == want_src, 60, "source group positions")
            src.produce(alpha, [("k", "alpha after")], partition=0)
            src.produce(beta, [("k", "beta after")], partition=0)
            wait_for(
                lambda: src.group_offsets(group) == {(alpha, 0): 31, (beta, 0): 11},
                90,
                "the source sink to go on from there",
            )
        finally:
            for client in (src_c, dst_c):
                if client.exists(name):
                    client.delete(name)
            for cluster, topics in ((src, (alpha, beta)), (dst, (zzz, beta))):
                for topic in topics:
                    if topic in cluster.topics():
                        cluster.delete_topic(topic)


@pytest.mark.usefixtures("restore")
def test_cutover_beside_sync_follow_on_a_one_partition_cdc_topic(
    sandbox: Sandbox,
    spec_for: SpecFor,
) -> None:
    prefix = unique_prefix("follow")
    spec = spec_for(
        name="cut", prefix=prefix, include=[r"shop\..*"], cutover={"catch_up_timeout_seconds": 60}
    )
    dst = kafka(sandbox, "destination")
    follow = subprocess.Popen(
        [*CLI, "sync", "-c", str(spec), "--follow"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        src = kafka(sandbox, "source")
        ends = {t: src.watermarks(t, 0)[1] for t in ("shop.public.customers", "shop.public.orders")}
        wait_for(
            lambda: all(copied_so_far(dst, prefix + t, 1) >= end for t, end in ends.items()),
            90,
            "sync --follow to copy the CDC topics",
        )
        stats: list[WriterStats] = []
        writer = live_writer(sandbox, 40, stats)
        time.sleep(1.0)
        began = time.monotonic()
        # before the fix this never returned; the subprocess timeout makes a hang a failure
        proc = run_cli("cutover", "--force", "-c", str(spec), "shop-cdc", "--json", timeout=240)
        took = time.monotonic() - began
        writer.join(60)
        assert proc.returncode == 0, proc.stderr
        assert follow.poll() is None, "sync --follow must keep running beside the cutover"
        print(f"cutover beside sync --follow took {took:.1f}s")
    finally:
        follow.terminate()
        _, err = follow.communicate(timeout=60)
    assert follow.returncode == 0, err
    run_json("rollback", "-c", str(spec), "shop-cdc")


@pytest.mark.usefixtures("restore")
def test_a_catch_up_that_cannot_finish_resumes_the_source_within_its_timeout(
    sandbox: Sandbox,
    spec_for: SpecFor,
) -> None:
    prefix = unique_prefix("stuck")
    # only wait for a sync running elsewhere — and none runs: the catch-up cannot finish
    spec = spec_for(
        name="cut",
        prefix=prefix,
        include=[r"shop\..*"],
        cutover={"catch_up_timeout_seconds": 5, "run_sync": False},
    )
    run_json("sync", "-c", str(spec), "--once")
    src = kafka(sandbox, "source")
    before = sum(src.watermarks(t, 0)[1] for t in ("shop.public.customers", "shop.public.orders"))
    stats: list[WriterStats] = []
    live_writer(sandbox, 5, stats).join(60)
    wait_for(
        lambda: (
            sum(src.watermarks(t, 0)[1] for t in ("shop.public.customers", "shop.public.orders"))
            > before
        ),
        60,
        "new change events on the source",
    )
    began = time.monotonic()
    proc = run_cli("cutover", "--force", "-c", str(spec), "shop-cdc", timeout=120)
    took = time.monotonic() - began
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("  ")]
    assert len(lines) == 1 and "did not copy shop-cdc's topics to the end within 5s" in lines[0]
    assert "Traceback" not in proc.stderr
    print(f"refused after {took:.1f}s (timeout 5 s, plus preflight and the resume)")
    with connect(sandbox, "source") as c, connect(sandbox, "destination") as d:
        assert c.status("shop-cdc").state == "RUNNING"
        assert not d.exists("shop-cdc")
    status = run_json("status", "-c", str(spec))["connectors"]["shop-cdc"]
    assert status["rolled_back"] is True
    steps = [(e["kind"], e["step"], e["status"]) for e in status["entries"]]
    assert ("cutover", "catch-up", "failed") in steps
    assert ("rollback", "resume-source", "done") in steps
    # a rerun starts a new attempt (and, with the copy caught up, would go through)
    assert run_cli("rollback", "-c", str(spec), "shop-cdc").returncode == 1
