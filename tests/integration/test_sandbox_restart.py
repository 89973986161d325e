"""`sandbox down` stops what `up` started, by PID; `up` brings it back with its data.

Marked ``disruptive``: it runs after the other tests (tests/conftest.py orders them), since
it stops and restarts the whole sandbox.
"""

from __future__ import annotations

import pytest

from connshift.app.sandbox import Sandbox
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster
from connshift.io.sandbox import procs


@pytest.mark.disruptive
def test_down_then_up_keeps_topics_and_connectors(sandbox: Sandbox, seeded: object) -> None:
    source = KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"}, name="source"
    )
    topics_before = {n for n in source.topics() if not n.startswith("__")}
    records = [sandbox.record(s.name) for s in sandbox.services()]
    assert all(r is not None and procs.is_alive(r) for r in records)

    stopped = sandbox.down()
    assert set(stopped) == {s.name for s in sandbox.services()}
    assert not any(procs.is_alive(r) for r in records if r is not None)
    assert not sandbox.status().healthy

    info = sandbox.up(with_tansu=True)
    assert info.healthy
    assert set(info.started) == {s.name for s in sandbox.services()}
    source = KafkaCluster(
        {"bootstrap.servers": f"127.0.0.1:{sandbox.ports['source-kafka']}"}, name="source"
    )
    assert topics_before <= set(source.topics())
    url = f"http://127.0.0.1:{sandbox.ports['source-connect']}"
    with ConnectClient(url, name="source") as client:
        for name in ("shop-cdc", "files-source", "files-sink"):
            client.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
