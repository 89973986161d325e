"""Which copy engine sync picks, from the spec's security settings; when --once is done."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from connshift.app import sync as syncmod
from connshift.app.config import parse_spec_text
from connshift.app.context import Migration
from connshift.app.sync import PartitionState, Syncer, SyncOptions
from connshift.core.offsetmap import PartitionMap
from connshift.errors import KafkaError, UsageError

PLAIN = """version: 1
source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}
destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}
state_dir: STATE
"""
SASL = """version: 1
source: {kafka: {bootstrap_servers: '127.0.0.1:1'}}
destination:
  kafka:
    bootstrap_servers: '127.0.0.1:2'
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: u, password: p}
state_dir: STATE
"""


def syncer(text: str, tmp_path: Path, engine: str, mirror: Any = None) -> Syncer:
    spec = parse_spec_text(text.replace("STATE", str(tmp_path / "state")))
    migration = Migration(spec)
    if mirror is not None:
        migration.mirror = mirror  # what the cached property would have opened
    return Syncer(migration, SyncOptions(engine=engine))


OAUTH = """version: 1
source:
  kafka:
    bootstrap_servers: '127.0.0.1:1'
    security_protocol: SASL_SSL
    sasl: {mechanism: OAUTHBEARER}
destination: {kafka: {bootstrap_servers: '127.0.0.1:2'}}
state_dir: STATE
"""
SCRAM_TLS = """version: 1
source:
  kafka:
    bootstrap_servers: '127.0.0.1:1'
    security_protocol: SASL_SSL
    sasl: {mechanism: SCRAM-SHA-512, username: u, password: s3cr3t-planted}
    tls: {ca_file: /nonexistent/ca.pem}
destination:
  kafka:
    bootstrap_servers: '127.0.0.1:2'
    security_protocol: SSL
    tls: {ca_file: ca.pem, cert_file: c.pem, key_file: c.key, verify_hostname: false}
state_dir: STATE
"""
EXTRA = """version: 1
source:
  kafka:
    bootstrap_servers: '127.0.0.1:1'
    client_config: {ssl.cipher.suites: 'ECDHE-RSA-AES128-GCM-SHA256', client.id: me}
    security_protocol: SSL
destination: {kafka: {bootstrap_servers: '127.0.0.1:2', client_config: {linger.ms: 5}}}
state_dir: STATE
"""


def test_auto_is_raw_on_plaintext_tls_and_sasl_plain_scram(tmp_path: Path) -> None:
    assert syncer(PLAIN, tmp_path, "auto").engine() == "raw"
    assert syncer(SASL, tmp_path, "auto").engine() == "raw"
    assert syncer(SCRAM_TLS, tmp_path, "auto").engine() == "raw"
    assert syncer(SCRAM_TLS, tmp_path, "auto").engine_reason() is None
    assert syncer(PLAIN, tmp_path, "record").engine() == "record"


def test_auto_keeps_record_for_oauthbearer_and_connection_settings(tmp_path: Path) -> None:
    oauth = syncer(OAUTH, tmp_path, "auto")
    assert oauth.engine() == "record"
    reason = oauth.engine_reason()
    assert reason is not None and reason.startswith("source: ") and "OAUTHBEARER" in reason
    extra = syncer(EXTRA, tmp_path, "auto")
    assert extra.engine() == "record"
    reason = extra.engine_reason()
    assert reason is not None and "ssl.cipher.suites" in reason
    assert "client.id" not in reason and "destination" not in reason  # tuning keys are fine


def test_raw_refused_with_an_unsupported_mechanism(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        syncer(OAUTH, tmp_path, "raw").engine()
    assert info.value.exit_code == 2
    assert "OAUTHBEARER" in info.value.one_line()


def test_auto_says_once_why_it_keeps_the_record_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    s = syncer(OAUTH, tmp_path, "auto")
    s.opts.notice = said.append

    class _Stop(Exception):
        pass

    def stop(*_a: Any, **_k: Any) -> list[str]:
        raise _Stop

    monkeypatch.setattr(s, "prepare", lambda: [])
    s.src = SimpleNamespace(open_consumer=stop)  # type: ignore[assignment]
    with pytest.raises(_Stop):
        s.run()
    assert s.result.engine_reason is not None and "OAUTHBEARER" in s.result.engine_reason
    assert s.result.to_json()["engine_reason"] == s.result.engine_reason
    assert said == [f"sync uses the record engine: {s.result.engine_reason}"]


# ------------------------------------------------------------- --once and other members


class _Mirror:
    """The mirrored maps another member publishes (a fake of MapMirror.read)."""

    def __init__(self) -> None:
        self.maps: dict[tuple[str, int], tuple[str, PartitionMap]] = {}
        self.loads = 0
        self.writes = 0

    def read(self, start: int = 0) -> tuple[dict[Any, Any], int]:
        self.loads += 1
        return dict(self.maps), start

    def close(self) -> None:
        pass


def _once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Syncer, _Mirror, list[float]]:
    mirror = _Mirror()
    s = syncer(PLAIN, tmp_path, "raw", mirror)
    s.topic_names = {"t": "d.t"}
    s._once_targets = {("t", 0): (0, 100), ("t", 1): (0, 50), ("t", 2): (7, 7)}  # 2 is empty
    clock = [1000.0]
    monkeypatch.setattr(syncmod.time, "monotonic", lambda: clock[0])
    s._rest_since = clock[0]
    own = PartitionState("t", 0, "d.t", PartitionMap(src_next=100, dst_next=100), 100)
    s.states = {("t", 0): own}
    return s, mirror, clock


def test_once_waits_for_a_partition_another_member_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, mirror, clock = _once(tmp_path, monkeypatch)
    assert s._rest_copied() is False  # t[1] is not ours and nobody has copied it
    mirror.maps[("d.t", 1)] = ("t", PartitionMap(src_next=30, dst_next=30))
    clock[0] += 1
    assert s._rest_copied() is False and mirror.loads == 1  # the mirror is read every 2 s
    clock[0] += 2
    assert s._rest_copied() is False and mirror.loads == 2  # 30 < 50
    mirror.maps[("d.t", 1)] = ("other", PartitionMap(src_next=50, dst_next=50))
    clock[0] += 2
    assert s._rest_copied() is False  # a map of another source topic does not count
    mirror.maps[("d.t", 1)] = ("t", PartitionMap(src_next=50, dst_next=50))
    clock[0] += 2
    assert s._rest_copied() is True


def test_once_is_done_when_the_rest_is_ours_or_released_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, mirror, _clock = _once(tmp_path, monkeypatch)
    s.released = [PartitionState("t", 1, "d.t", PartitionMap(src_next=50, dst_next=50), 50)]
    assert s._rest_copied() is True and mirror.loads == 0
    s.released = []
    s.states[("t", 1)] = PartitionState("t", 1, "d.t", PartitionMap(src_next=50), 50)
    assert s._rest_copied() is True and mirror.loads == 0


def test_once_gives_up_when_the_other_member_makes_no_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, mirror, clock = _once(tmp_path, monkeypatch)
    mirror.maps[("d.t", 1)] = ("t", PartitionMap(src_next=10, dst_next=10))
    assert s._rest_copied() is False
    clock[0] += syncmod.ONCE_WAIT_S - 1
    assert s._rest_copied() is False
    mirror.maps[("d.t", 1)] = ("t", PartitionMap(src_next=20, dst_next=20))  # progress
    clock[0] += 5
    assert s._rest_copied() is False
    clock[0] += syncmod.ONCE_WAIT_S + 1
    with pytest.raises(KafkaError, match=r"held by another member .* \(t\[1\]\)"):
        s._rest_copied()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_transient_failure_is_waited_out_said_once_and_given_up_at_the_bound(
    tmp_path: Path,
) -> None:
    """A broker restarting: sync says so once, waits with backoff (the stop event's wait),
    says when the clusters answer again, and gives up — exit 3 — only after
    ``retry_seconds`` of one outage."""
    from connshift.core.retry import Outages
    from connshift.errors import ExitCode, KafkaUnavailable

    said: list[str] = []
    s = syncer(PLAIN, tmp_path, "raw")
    s.opts.notice = said.append
    s.opts.retry_seconds = 10.0
    clock = Clock()
    s.outages = Outages(give_up_after=10.0, first_delay=1.0, clock=clock)
    waited: list[float] = []

    def wait(delay: float) -> bool:
        waited.append(delay)
        clock.now += delay
        return False

    s.opts.stop.wait = wait  # type: ignore[method-assign]
    lost = KafkaUnavailable("lost the connection to Kafka at 127.0.0.1:2", why="short read")
    for _ in range(3):
        s._wait_out(lost)
    assert waited == [1.0, 2.0, 4.0]
    assert len(said) == 1 and "retrying with backoff for up to 10s" in said[0]
    assert "short read" in said[0]
    s._back()
    assert len(said) == 2 and "answer again after 7.0s" in said[1]
    assert s.result.retries == 3 and s.result.outages == 1
    s._back()  # no outage going on: nothing said
    assert len(said) == 2

    with pytest.raises(KafkaUnavailable) as gave_up:
        while True:
            s._wait_out(lost)
    assert "could not reach a cluster for 10s and gave up" in str(gave_up.value)
    assert gave_up.value.exit_code == ExitCode.UNREACHABLE
    assert sum(waited[3:]) == 10.0  # the second outage got the whole bound, no more


def test_a_deadline_is_never_outwaited(tmp_path: Path) -> None:
    """The catch-up inside cutover is bounded: a retry that would end past its deadline
    is not waited for; the failure is raised as it is."""
    import time as _time

    from connshift.errors import KafkaUnavailable

    s = syncer(PLAIN, tmp_path, "raw")
    s.opts.deadline = _time.monotonic() + 0.1
    s.outages.first_delay = 5.0
    lost = KafkaUnavailable("lost the connection", why="short read")
    with pytest.raises(KafkaUnavailable) as raised:
        s._wait_out(lost)
    assert raised.value is lost


def test_a_destination_behind_its_map_is_waited_for_then_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a replicated destination restarts, a partition's high watermark starts behind
    what it acknowledged: that is waited out like an outage — for 60 s — then refused."""
    from connshift.core.retry import Outages
    from connshift.errors import KafkaUnavailable

    def behind(*_args: object) -> tuple[PartitionMap, int]:
        raise syncmod.DestinationBehind("destination partition t[0] ends at 0, but ...")

    monkeypatch.setattr(syncmod, "reconcile", behind)
    s = syncer(PLAIN, tmp_path, "raw")
    clock = Clock()
    s.outages = Outages(give_up_after=300.0, clock=clock)
    with pytest.raises(KafkaUnavailable) as waited:
        s._reconcile("t", 0, "t", None, (0, 5), (0, 0))
    assert "behind what the copy wrote" in str(waited.value)
    s.outages.failed()  # the loop waits: the outage has begun
    clock.now += syncmod.BEHIND_SECONDS
    with pytest.raises(syncmod.DestinationBehind):
        s._reconcile("t", 0, "t", None, (0, 5), (0, 0))
