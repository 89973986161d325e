"""Integration fixtures: the real sandbox, started by the same code users run.

The session starts `connshift sandbox up --with-tansu` (idempotent: a sandbox that is
already running is reused) and stops at the end only if it started it — unless
CONNSHIFT_KEEP_SANDBOX=1.

Pointing at existing clusters instead: set all four of
CONNSHIFT_TEST_SOURCE_KAFKA, CONNSHIFT_TEST_SOURCE_CONNECT,
CONNSHIFT_TEST_DESTINATION_KAFKA, CONNSHIFT_TEST_DESTINATION_CONNECT; the cluster
tests then run against those, and tests that need the sandbox's own services
(PostgreSQL, tansu, the seeded estate) are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connshift.app.sandbox import Sandbox

from .helpers import connect, write_spec

EXTERNAL_VARS = (
    "CONNSHIFT_TEST_SOURCE_KAFKA",
    "CONNSHIFT_TEST_SOURCE_CONNECT",
    "CONNSHIFT_TEST_DESTINATION_KAFKA",
    "CONNSHIFT_TEST_DESTINATION_CONNECT",
)
EXTERNAL = all(os.environ.get(v) for v in EXTERNAL_VARS)


@dataclass(frozen=True)
class Estate:
    """Where the two sides are."""

    source_kafka: str
    source_connect: str
    destination_kafka: str
    destination_connect: str
    from_sandbox: bool


#: ``make test-faults``: the replicated profile (three destination brokers), in a home and on
#: ports of its own beside the default sandbox, which ``make test`` keeps using
REPLICATED = os.environ.get("CONNSHIFT_TEST_REPLICATED") == "1"
REPLICATED_PORT_SHIFT = 300


def _session_sandbox() -> tuple[Sandbox, dict[str, Any]]:
    """The sandbox this session uses, and what ``up`` needs to start it."""
    if not REPLICATED:
        return Sandbox(), {}
    from connshift.app.sandbox import default_home
    from connshift.io.sandbox.services import DEFAULT_PORTS

    home = default_home()
    ports = {name: port + REPLICATED_PORT_SHIFT for name, port in DEFAULT_PORTS.items()}
    return Sandbox(home.with_name(home.name + "-replicated")), {"ports": ports, "brokers": 3}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    if EXTERNAL:
        pytest.skip("pointed at external clusters: the sandbox's own services are not there")
    sb, profile = _session_sandbox()
    before = sb.status()
    already = {s.name for s in before.services if s.healthy}
    sb.up(with_tansu=True, report=lambda m: print(f"[sandbox] {m}"), **profile)
    yield sb
    started_here = {s.name for s in sb.status().services} - already
    if started_here and os.environ.get("CONNSHIFT_KEEP_SANDBOX") != "1":
        sb.down()


@pytest.fixture(scope="session")
def estate(request: pytest.FixtureRequest) -> Estate:
    if EXTERNAL:
        return Estate(*(os.environ[v] for v in EXTERNAL_VARS), from_sandbox=False)
    sb: Sandbox = request.getfixturevalue("sandbox")
    p = sb.ports
    return Estate(
        source_kafka=f"127.0.0.1:{p['source-kafka']}",
        source_connect=f"http://127.0.0.1:{p['source-connect']}",
        destination_kafka=f"127.0.0.1:{p['destination-kafka']}",
        destination_connect=f"http://127.0.0.1:{p['destination-connect']}",
        from_sandbox=True,
    )


@pytest.fixture(scope="session")
def seeded(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    from connshift.app.seed import seed

    return seed(sandbox)


SpecFor = Callable[..., Path]


@pytest.fixture
def spec_for(sandbox: Sandbox, tmp_path: Path) -> SpecFor:
    """Write a migration spec for the sandbox's two sides (Kafka and Connect) under the
    test's tmp dir; keyword arguments as :func:`helpers.write_spec` (``connect=False``
    leaves the Connect workers out, ``destination`` names another destination)."""

    def make(
        *,
        include: list[str],
        connect: bool = True,
        destination: str | None = None,
        path: Path | None = None,
        **kw: Any,
    ) -> Path:
        p = sandbox.ports
        urls = {
            side: f"http://127.0.0.1:{p[side + '-connect']}" if connect else None
            for side in ("source", "destination")
        }
        kw.setdefault("state_dir", tmp_path / "state")
        return write_spec(
            path or tmp_path / "spec.yaml",
            source=sandbox.bootstrap("source"),
            destination=destination or sandbox.bootstrap("destination"),
            source_connect=urls["source"],
            destination_connect=urls["destination"],
            include=include,
            **kw,
        )

    return make


#: the seeded connectors, which cutover tests move and must leave where they found them
SEEDED_CONNECTORS = ("shop-cdc", "files-source", "files-sink")


@pytest.fixture
def restore(sandbox: Sandbox, seeded: Any) -> Iterator[None]:
    """Whatever a test did, leave each seeded connector RUNNING on the source only."""
    yield
    from connshift.app.seed import _reclaim

    # as `sandbox seed` does: a connector left on the destination has its position carried
    # back (Debezium must go on from where the replication slot is: resuming it from its
    # older offsets would FAIL it, and every later test with it); one left FAILED restarts
    # from a snapshot
    _reclaim(sandbox, report=lambda m: print(f"[restore] {m}"))
    with connect(sandbox, "source") as src:
        for name in SEEDED_CONNECTORS:
            src.wait_for_state(name, "RUNNING", tasks_state="RUNNING", timeout=120)
