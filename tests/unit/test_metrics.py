"""sync's Prometheus metrics, scraped over HTTP as Prometheus would."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from connshift.errors import UsageError
from connshift.io.metrics import start_sync_metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_records_bytes_lag_are_served() -> None:
    port = free_port()
    metrics = start_sync_metrics(port)
    metrics.update({("app.events", 0): (10, 1000, 50, 10)})
    metrics.update({("app.events", 0): (30, 3000, 50, 30)})  # cumulative: counters add 20
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'connshift_sync_records_total{partition="0",topic="app.events"} 30.0' in body
    assert 'connshift_sync_bytes_total{partition="0",topic="app.events"} 3000.0' in body
    assert 'connshift_sync_lag_records{partition="0",topic="app.events"} 20.0' in body
    assert 'connshift_sync_source_position{partition="0",topic="app.events"} 30.0' in body


def test_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(UsageError) as info:
            start_sync_metrics(s.getsockname()[1])
    assert info.value.exit_code == 2
