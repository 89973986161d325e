"""One migration's context: the spec and everything a command opens for it.

Like alembic's environment context or pip's per-command session: a command builds one
:class:`Migration` from its spec, passes it down to the verbs it runs, and closes it on
exit. Clients for both clusters and both Connect workers, sync's state store, the cutover
journal, the evidence store and the shared offset-map store are opened on first use and
closed once; library callers get the same clients, journal and evidence as the CLI::

    with Migration(load_spec("connshift.yaml")) as m:
        sync(m, SyncOptions())
        cutover(m, ["shop-cdc"])
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TypeVar

from connshift.app.maps import MAP_TOPIC, MapMirror, MapStore, state_path
from connshift.core.spec import Spec
from connshift.errors import UsageError
from connshift.io.connect import ConnectClient
from connshift.io.evidence import EvidenceStore, Warn, try_record_evidence
from connshift.io.journal import Journal
from connshift.io.kafka import KafkaCluster
from connshift.io.statestore import StateStore


class _Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=_Closable)


class Migration:
    """The spec of one migration and its lazily opened, closed-on-exit resources."""

    def __init__(
        self,
        spec: Spec,
        *,
        src: KafkaCluster | None = None,
        dst: KafkaCluster | None = None,
        src_connect: ConnectClient | None = None,
        dst_connect: ConnectClient | None = None,
        warn: Warn | None = None,
    ) -> None:
        """``spec``'s context; clients passed in are used instead of opening new ones (and
        stay the caller's to close). ``warn`` gets the one line said when evidence cannot
        be recorded (default: stderr)."""
        self.spec = spec
        self.warn = warn
        self._opened: list[Callable[[], None]] = []
        given = {"src": src, "dst": dst, "src_connect": src_connect, "dst_connect": dst_connect}
        for name, client in given.items():
            if client is not None:
                self.__dict__[name] = client  # what the cached property would have opened

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close everything opened, last opened first (idempotent)."""
        while self._opened:
            closer = self._opened.pop()
            with contextlib.suppress(Exception):
                closer()

    def __enter__(self) -> Migration:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _keep(self, thing: T) -> T:
        self._opened.append(thing.close)
        return thing

    # ------------------------------------------------------------------ clusters
    @cached_property
    def src(self) -> KafkaCluster:
        """The source Kafka cluster."""
        return self._keep(KafkaCluster(self.spec.source.kafka.client_config(), name="source"))

    @cached_property
    def dst(self) -> KafkaCluster:
        """The destination Kafka cluster."""
        return self._keep(
            KafkaCluster(self.spec.destination.kafka.client_config(), name="destination")
        )

    def _connect(self, role: str) -> ConnectClient:
        side = getattr(self.spec, role)
        if side.connect is None:
            raise UsageError(
                f"the spec has no {role}.connect",
                why="moving connectors needs both Connect clusters' REST URLs",
                fix=f"add {role}.connect.url to the spec",
            )
        auth = None
        if side.connect.auth is not None:
            auth = (side.connect.auth.username, side.connect.auth.password.get_secret_value())
        return self._keep(ConnectClient(str(side.connect.url), auth=auth, name=role))

    @cached_property
    def src_connect(self) -> ConnectClient:
        """The source Kafka Connect cluster (UsageError when the spec has none)."""
        return self._connect("source")

    @cached_property
    def dst_connect(self) -> ConnectClient:
        """The destination Kafka Connect cluster (UsageError when the spec has none)."""
        return self._connect("destination")

    # ------------------------------------------------------------------ state
    @cached_property
    def store(self) -> StateStore:
        """Sync's checkpointed state (``<state_dir>/sync.db``); one that is not a readable
        database is set aside (said once) and rebuilt from the mirrored maps."""
        store = self._keep(StateStore(state_path(self.spec)))
        if store.set_aside is not None:
            say = self.warn or (lambda line: print(f"warning: {line}", file=sys.stderr))
            say(
                f"{store.path} was not a readable SQLite database; kept it as "
                f"{store.set_aside.name} and started a new one: each partition's map comes "
                f"from the destination's {MAP_TOPIC} topic"
            )
        return store

    @cached_property
    def journal(self) -> Journal:
        """The cutover journal (``<state_dir>/journal.db``)."""
        return self._keep(Journal(Path(self.spec.state_dir) / "journal.db"))

    @cached_property
    def evidence(self) -> EvidenceStore:
        """The evidence store (``<state_dir>/evidence/``)."""
        return EvidenceStore(self.spec.state_dir, spec_name=self.spec.name)

    def record(self, kind: str, data: dict[str, Any]) -> Path | None:
        """Keep ``data`` as the latest ``kind`` evidence (the verbs record their own result,
        so a library caller gets the same evidence as the CLI). A state directory that
        cannot be written costs the evidence, not the result: one line to ``warn``."""
        return try_record_evidence(self.spec, kind, data, warn=self.warn)

    @cached_property
    def mirror(self) -> MapMirror:
        """The offset maps mirrored on the destination (``connshift.offset-maps``)."""
        return self._keep(MapMirror(self.dst))

    @cached_property
    def maps(self) -> MapStore:
        """Every offset map of this migration, read once and shared by the verbs."""
        return MapStore(self.store, self.mirror, self.spec.topics.destination_name)
