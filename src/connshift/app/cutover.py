"""``connshift plan``, ``cutover``, ``rollback`` and ``status``: move connectors.

One executor runs a connector's steps (:mod:`connshift.core.plan`) and records
each in the journal before and after it runs; a rerun skips what is done and
continues; ``--dry-run`` walks the same steps, reads what it needs, and changes
nothing. The source connector is always stopped before the destination one is
resumed (a replication slot has one reader), and ``rollback`` stops the destination
connector before it resumes the source one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.app.offsets import load_map
from connshift.app.sync import SyncOptions, clusters, sync
from connshift.core.digest import record_digest
from connshift.core.offsetmap import PartitionMap
from connshift.core.plan import (
    PLAN_SCHEMA,
    ConnectorPlan,
    Shape,
    Step,
    Strategy,
    plan_connector,
)
from connshift.core.redact import redact
from connshift.core.spec import Spec
from connshift.errors import CheckFailed, ConnectError, ConnshiftError, UsageError
from connshift.io.connect import ConnectClient, ConnectorNotFoundError
from connshift.io.journal import Journal

Reporter = Callable[[str], None]
#: called as a step starts (seconds None) and ends: (connector, kind, step, status, seconds)
StepHook = Callable[[str, str, str, str, float | None], None]

#: Kafka Connect versions: offsets read/stop (KIP-875), offsets write, initial_state (KIP-980)
MIN_STOP_AND_READ = (3, 5)
MIN_WRITE_OFFSETS = (3, 6)
MIN_INITIAL_STATE = (3, 7)


class CutoverRefused(CheckFailed):
    """A connector cannot be moved as things stand; nothing was changed."""


def redact_config(config: Mapping[str, str]) -> dict[str, str]:
    """A config with inline secret values shown as ``***`` (references kept)."""
    return redact(config)


def _version(text: str) -> tuple[int, int]:
    parts = re.findall(r"\d+", text)
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 else (0, 0)


def connect_clients(spec: Spec) -> tuple[ConnectClient, ConnectClient]:
    """The source and destination Connect clients of ``spec``."""
    out = []
    for role in ("source", "destination"):
        side = getattr(spec, role)
        if side.connect is None:
            raise UsageError(
                f"the spec has no {role}.connect",
                why="moving connectors needs both Connect clusters' REST URLs",
                fix=f"add {role}.connect.url to the spec",
            )
        auth = None
        if side.connect.auth is not None:
            auth = (side.connect.auth.username, side.connect.auth.password.get_secret_value())
        out.append(ConnectClient(str(side.connect.url), auth=auth, name=role))
    return out[0], out[1]


# ---------------------------------------------------------------------------- plan


def plan(
    spec: Spec, names: Sequence[str] | None = None, strategy: Strategy = Strategy.RESUME
) -> list[ConnectorPlan]:
    """Plan the cutover of the named connectors (default: every one the spec selects)."""
    src_connect, _ = connect_clients(spec)
    with src_connect:
        existing = src_connect.connectors()
        wanted = list(names) if names else [n for n in existing if spec.connectors.selects(n)]
        plugins = {p.class_name: p.type for p in src_connect.plugins()}
        out = []
        for name in wanted:
            if name not in existing:
                raise CutoverRefused(
                    f"connector {name} not found on the source Connect cluster",
                    why=f"it has: {', '.join(sorted(existing)) or 'no connectors'}",
                    fix="check the connector name",
                    connector=name,
                )
            config = src_connect.connector_config(name)
            cls = config.get("connector.class", "")
            ctype = plugins.get(cls) or src_connect.status(name).type or "source"
            topics = src_connect.topics(name)
            out.append(
                plan_connector(
                    name,
                    cls,
                    ctype,
                    config,
                    topics,
                    destination_topic=spec.topics.destination_name,
                    topic_prefix=spec.topics.prefix,
                    strategy=strategy,
                    # client overrides naming a bootstrap follow the data to the destination
                    destination_bootstrap=spec.destination.kafka.bootstrap_servers,
                )
            )
    return out


def plan_json(plans: Sequence[ConnectorPlan]) -> dict[str, Any]:
    return {"schema": PLAN_SCHEMA, "connectors": [p.to_json(redact_config) for p in plans]}


# ---------------------------------------------------------------------------- cutover


@dataclass
class StepOutcome:
    """What one step did (or would do, in a dry run)."""

    connector: str
    step: str
    status: str  # done | skipped | would | failed
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CutoverResult:
    """Every step of every connector, and the cutover pause per connector."""

    steps: list[StepOutcome] = field(default_factory=list)
    pause_seconds: dict[str, float] = field(default_factory=dict)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.cutover/1",
            "dry_run": self.dry_run,
            "steps": [s.to_json() for s in self.steps],
            "pause_seconds": self.pause_seconds,
        }


class Mover:
    """Runs cutover and rollback steps for one spec, journaled."""

    def __init__(
        self,
        spec: Spec,
        *,
        dry_run: bool = False,
        report: Reporter | None = None,
        blockers: Mapping[str, list[dict[str, Any]]] | None = None,
        force: bool = False,
        on_step: StepHook | None = None,
    ):
        self.spec = spec
        self.dry_run = dry_run
        #: connector -> scorecard rows at 0 that block its cutover (see app.score.gate)
        self.blockers = blockers or {}
        self.force = force
        self.report = report or (lambda _m: None)
        self.on_step: StepHook = on_step or (lambda *_a: None)
        self.src, self.dst = clusters(spec)
        self.src_connect, self.dst_connect = connect_clients(spec)
        self.journal = Journal(Path(spec.state_dir) / "journal.db")
        self.timeouts = spec.cutover

    def close(self) -> None:
        self.src_connect.close()
        self.dst_connect.close()
        self.journal.close()

    # ------------------------------------------------------------------ helpers
    def _wait(self, client: ConnectClient, name: str, state: str, tasks: bool = True) -> None:
        client.wait_for_state(
            name,
            state,
            tasks_state=state if tasks and state == "RUNNING" else None,
            timeout=self.timeouts.state_timeout_seconds,
        )

    def _maps(self, plan: ConnectorPlan) -> dict[tuple[str, int], tuple[str, PartitionMap]]:
        out = {}
        for topic in plan.topics:
            for p in range(self.src.topics()[topic].partitions):
                found = load_map(self.spec, topic, p)
                if found is not None:
                    out[(topic, p)] = found
        return out

    def _versions(self) -> None:
        src_v = self.src_connect.info().version
        dst_v = self.dst_connect.info().version
        if _version(src_v) < MIN_WRITE_OFFSETS:
            raise CutoverRefused(
                f"the source Connect cluster runs {src_v}: it cannot stop a connector or "
                "report/alter its offsets",
                why="the offsets REST API (KIP-875) needs Kafka Connect 3.6 or newer "
                "(reading offsets and stop: 3.5)",
                fix="upgrade the source workers to 3.6+, or move the connectors by hand",
            )
        if _version(dst_v) < MIN_INITIAL_STATE:
            raise CutoverRefused(
                f"the destination Connect cluster runs {dst_v}: it cannot create a connector "
                "STOPPED",
                why="initial_state on create (KIP-980) needs Kafka Connect 3.7 or newer",
                fix="upgrade the destination workers to 3.7+",
            )

    # ------------------------------------------------------------------ steps
    def preflight(self, plan: ConnectorPlan, created_by_us: bool) -> str:
        self._versions()
        status = self.src_connect.status(plan.name)  # ConnectorNotFoundError if missing
        plugins = {p.class_name: p for p in self.dst_connect.plugins()}
        if plan.class_name not in plugins:
            raise CutoverRefused(
                f"plugin {plan.class_name} is missing on the destination Connect worker",
                why=f"connector {plan.name} needs it; the destination has "
                f"{len(plugins)} connector plugins",
                fix="install the plugin on the destination workers' plugin.path and restart them",
                connector=plan.name,
            )
        src_plugins = {p.class_name: p for p in self.src_connect.plugins()}
        notes = []
        sv = src_plugins.get(plan.class_name)
        dv = plugins[plan.class_name]
        if sv is not None and sv.version != dv.version:
            notes.append(f"plugin version drift: {sv.version} -> {dv.version}")
        if self.dst_connect.exists(plan.name) and not created_by_us:
            raise CutoverRefused(
                f"connector {plan.name} already exists on the destination Connect cluster",
                why="connshift did not create it (no journal entry), so it may be running",
                fix="delete it there first if it is a leftover, or move another connector",
                connector=plan.name,
            )
        validation = self.dst_connect.validate_config(
            plan.class_name, {**plan.destination_config, "name": plan.name}
        )
        if not validation.ok:
            key, errors = next(iter(validation.errors.items()))
            raise CutoverRefused(
                f"connector {plan.name}'s config does not validate on the destination",
                why=f"{key}: {errors[0]}" if errors else f"{validation.error_count} error(s)",
                fix="fix the config (or the destination worker), then rerun",
                connector=plan.name,
            )
        missing = [t for t in plan.topics if t not in self.src.topics()]
        maps = self._maps(plan)
        unsynced = sorted({t for t in plan.topics if t not in missing} - {t for t, _ in maps})
        if unsynced:
            raise CutoverRefused(
                f"connector {plan.name}'s topics are not being synced: {', '.join(unsynced)}",
                why="its records (and offsets) must be on the destination before it moves",
                fix="run `connshift sync` for these topics first (and keep it running with "
                "--follow during cutovers)",
                connector=plan.name,
            )
        return f"source connector {status.state}; " + ("; ".join(notes) or "checks pass")

    def catch_up(self, plan: ConnectorPlan) -> dict[str, Any]:
        """Sync the connector's topics to their end (bounded); return the ends reached."""
        topics = plan.topics
        deadline = time.monotonic() + self.timeouts.catch_up_timeout_seconds
        ends: dict[str, Any] = {}
        if topics and self.timeouts.run_sync:
            patterns = [re.escape(t) for t in topics]
            sync(self.spec, SyncOptions(topics=patterns))
        while True:
            behind = []
            for topic in topics:
                for p in range(self.src.topics()[topic].partitions):
                    _, high = self.src.watermarks(topic, p)
                    found = load_map(self.spec, topic, p)
                    if found is None or found[1].src_next < high:
                        behind.append(f"{topic}[{p}]")
                    else:
                        ends[f"{topic}/{p}"] = {
                            "src_next": found[1].src_next,
                            "dst_next": found[1].dst_next,
                            "dst_topic": found[0],
                        }
            if not behind:
                return ends
            if time.monotonic() > deadline:
                raise CutoverRefused(
                    f"sync did not copy {plan.name}'s topics to the end within "
                    f"{self.timeouts.catch_up_timeout_seconds:.0f}s",
                    why="still behind: " + ", ".join(behind[:5]),
                    fix="let sync catch up (is `connshift sync --follow` running?) or raise "
                    "cutover.catch_up_timeout_seconds; the source connector was resumed",
                    connector=plan.name,
                )
            time.sleep(0.5)

    def translate_sink_offsets(
        self, plan: ConnectorPlan, offsets: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        out = []
        for entry in offsets:
            part = entry.get("partition", {})
            topic, p = part.get("kafka_topic"), int(part.get("kafka_partition", 0))
            if topic not in plan.topics:
                continue  # the group also remembers topics this connector no longer reads
            pos = int(entry.get("offset", {}).get("kafka_offset", 0))
            found = load_map(self.spec, topic, p)
            translated = found[1].position(pos) if found else None
            if found is None or translated is None:
                raise CutoverRefused(
                    f"sink {plan.name}'s position {topic}[{p}]@{pos} is beyond what sync copied",
                    why="the destination connector would skip records",
                    fix="let sync catch up, then rerun the cutover",
                    connector=plan.name,
                )
            out.append(
                {
                    "partition": {"kafka_topic": found[0], "kafka_partition": p},
                    "offset": {"kafka_offset": translated},
                }
            )
        return out

    def verify(self, plan: ConnectorPlan, ends: dict[str, Any]) -> tuple[str, str]:
        """(status, detail): the first new records follow the last old ones."""
        if plan.shape is Shape.SINK:
            status = self.dst_connect.status(plan.name)
            return "done", f"sink running on the destination ({status.describe()})"
        deadline = time.monotonic() + self.timeouts.verify_timeout_seconds
        checked: list[str] = []
        for key, end in ends.items():
            p = int(key.rpartition("/")[2])
            dst_topic, boundary = end["dst_topic"], int(end["dst_next"])
            new: list[Any] = []
            while time.monotonic() < deadline:
                new = list(self.dst.read(dst_topic, p, boundary, boundary + 50, timeout=10))
                if new:
                    break
                time.sleep(0.5)
            if not new:
                continue
            old = list(self.dst.read(dst_topic, p, max(boundary - 200, 0), boundary, timeout=10))
            old_digests = {record_digest(r.key, r.value, r.headers, r.timestamp) for r in old}
            dup = [
                r.offset
                for r in new
                if record_digest(r.key, r.value, r.headers, r.timestamp) in old_digests
            ]
            if dup:
                raise CheckFailed(
                    f"{plan.name} re-read records after the cutover: {dst_topic}[{p}]@{dup[0]} "
                    "repeats a record from before it",
                    why="the destination connector did not start at the migrated position",
                    fix="`connshift rollback` it and check its offsets",
                    connector=plan.name,
                )
            if plan.shape is Shape.CDC_SOURCE:
                last_old = _lsn(old[-1].value) if old else None
                first_new = _lsn(new[0].value)
                if last_old is not None and first_new is not None and first_new <= last_old:
                    raise CheckFailed(
                        f"{plan.name}'s first new change {dst_topic}[{p}]@{new[0].offset} has "
                        f"LSN {first_new}, not after the last old one ({last_old})",
                        why="the destination connector re-read the database log",
                        fix="`connshift rollback` it and check its offsets",
                        connector=plan.name,
                    )
            checked.append(f"{dst_topic}[{p}]")
        if not checked:
            return "skipped", "no new upstream records within the verify window"
        return "done", "first new records follow the last old ones in " + ", ".join(checked)

    # ------------------------------------------------------------------ cutover
    def cutover(self, plans: Sequence[ConnectorPlan]) -> CutoverResult:
        result = CutoverResult(dry_run=self.dry_run)
        for plan in plans:
            self._cutover_one(plan, result)
        return result

    def _cutover_one(self, plan: ConnectorPlan, result: CutoverResult) -> None:
        name = plan.name
        attempt = self.journal.attempt(name)
        done = self.journal.done_steps(name, attempt) if attempt else {}
        finished = Step.VERIFY.value in done or _rolled_back(self.journal, name, attempt)
        if not attempt or finished:
            attempt += 1
            done = {}
        created_by_us = Step.CREATE_STOPPED.value in done
        paused_at: float | None = None
        if not done:  # a rerun continues an attempt the gate already let through
            self._gate(name, attempt, result)

        def run(
            step: Step, action: Callable[[], tuple[str, str, dict[str, Any]]]
        ) -> dict[str, Any]:
            if step.value in done:
                e = done[step.value]
                result.steps.append(StepOutcome(name, step.value, "skipped", "done before", e.data))
                return e.data
            if self.dry_run:
                data: dict[str, Any] = {}
                status, detail = "would", _dry(step, plan)
                if step is Step.PREFLIGHT:
                    status, detail, data = action()
                    status = "done"
                result.steps.append(StepOutcome(name, step.value, status, detail, data))
                return data
            self.report(f"{name}: {step.value}")
            self.journal.record(name, attempt, "cutover", step.value, "started")
            self.on_step(name, "cutover", step.value, "started", None)
            began = time.monotonic()
            try:
                status, detail, data = action()
            except ConnshiftError as exc:
                self.journal.record(
                    name, attempt, "cutover", step.value, "failed", error=exc.one_line()
                )
                result.steps.append(StepOutcome(name, step.value, "failed", exc.one_line()))
                self.on_step(name, "cutover", step.value, "failed", time.monotonic() - began)
                raise
            self.on_step(name, "cutover", step.value, status, time.monotonic() - began)
            self.journal.record(name, attempt, "cutover", step.value, status, data)
            result.steps.append(StepOutcome(name, step.value, status, detail, data))
            _fault_injection(step.value)
            return data

        def preflight() -> tuple[str, str, dict[str, Any]]:
            try:
                return "done", self.preflight(plan, created_by_us), {}
            except ConnectorNotFoundError as exc:
                raise CutoverRefused(
                    f"connector {name} not found on the source Connect cluster",
                    fix="check the connector name (`connshift plan` lists them)",
                    connector=name,
                ) from exc

        run(Step.PREFLIGHT, preflight)

        def stop() -> tuple[str, str, dict[str, Any]]:
            self.src_connect.stop(name)
            self._wait(self.src_connect, name, "STOPPED", tasks=False)
            return "done", "source connector STOPPED", {"stopped_at": time.time()}

        stop_data = run(Step.STOP_SOURCE, stop)
        paused_at = stop_data.get("stopped_at")

        def read_offsets() -> tuple[str, str, dict[str, Any]]:
            offsets = self.src_connect.get_offsets(name)
            return "done", f"{len(offsets)} offset entries", {"offsets": offsets}

        offsets = run(Step.READ_OFFSETS, read_offsets).get("offsets", [])

        def catch_up() -> tuple[str, str, dict[str, Any]]:
            try:
                ends = self.catch_up(plan)
            except ConnshiftError as exc:
                # undo the stop, and end this attempt: never leave the connector stopped on
                # both sides, and a rerun starts from the beginning
                self.src_connect.resume(name)
                self.journal.record(
                    name, attempt, "rollback", "rolled-back", "done", {"reason": exc.one_line()}
                )
                raise
            return "done", f"{len(ends)} partition(s) copied to the end", {"ends": ends}

        ends = run(Step.CATCH_UP, catch_up).get("ends", {})

        def create() -> tuple[str, str, dict[str, Any]]:
            if not self.dst_connect.exists(name):
                self.dst_connect.create(name, plan.destination_config, initial_state="STOPPED")
            self._wait(self.dst_connect, name, "STOPPED", tasks=False)
            return "done", "created STOPPED on the destination", {}

        run(Step.CREATE_STOPPED, create)

        def write_offsets() -> tuple[str, str, dict[str, Any]]:
            if plan.strategy is not Strategy.RESUME:
                return "skipped", f"strategy {plan.strategy}: no offsets written", {}
            if plan.shape is Shape.SINK:
                written = self.translate_sink_offsets(plan, offsets)
            else:
                written = self._server_keys(plan, offsets, to_destination=True)
            if not written:
                return "skipped", "the source connector had no offsets", {}
            message = self.dst_connect.alter_offsets(name, written)
            return "done", message or f"{len(written)} offset entries written", {"written": written}

        run(Step.WRITE_OFFSETS, write_offsets)

        def resume() -> tuple[str, str, dict[str, Any]]:
            self.dst_connect.resume(name)
            self._wait(self.dst_connect, name, "RUNNING")
            return "done", "destination connector RUNNING", {"running_at": time.time()}

        resumed = run(Step.RESUME, resume)
        if paused_at and resumed.get("running_at") and not self.dry_run:
            result.pause_seconds[name] = round(float(resumed["running_at"]) - float(paused_at), 3)

        def verify() -> tuple[str, str, dict[str, Any]]:
            status, detail = self.verify(plan, ends)
            return status, detail, {}

        run(Step.VERIFY, verify)

    # ------------------------------------------------------------------ rollback
    def _gate(self, name: str, attempt: int, result: CutoverResult) -> None:
        """Refuse a connector the readiness scorecard blocks, unless forced (journaled)."""
        blockers = self.blockers.get(name) or []
        if not blockers:
            return
        rows = ", ".join(
            f"{b['row']}" + ("" if b["scope"] == "estate" else f" ({b['scope']})") for b in blockers
        )
        if self.dry_run:
            detail = f"would be refused: scorecard rows at 0: {rows}"
            if self.force:
                detail = f"--force: would run despite scorecard rows at 0: {rows}"
            result.steps.append(StepOutcome(name, "scorecard", "failed", detail))
            return
        if not self.force:
            raise CutoverRefused(
                f"the readiness scorecard blocks the cutover of {name}: "
                f"{len(blockers)} row(s) at 0 ({rows})",
                why=blockers[0]["why"],
                fix="record the missing evidence (`connshift score` shows each row and the "
                "command that fills it), or pass --force (it is recorded in the journal)",
                connector=name,
            )
        self.journal.record(name, attempt, "gate", "scorecard", "forced", {"blockers": blockers})
        self.report(f"{name}: --force past the scorecard (journaled)")
        result.steps.append(
            StepOutcome(name, "scorecard", "forced", f"--force past rows at 0: {rows}")
        )

    def rollback(self, plans: Sequence[ConnectorPlan], *, force: bool = False) -> CutoverResult:
        result = CutoverResult(dry_run=self.dry_run)
        for plan in plans:
            self._rollback_one(plan, result, force=force)
        return result

    def _rollback_one(self, plan: ConnectorPlan, result: CutoverResult, *, force: bool) -> None:
        name = plan.name
        attempt = self.journal.attempt(name)
        if not attempt or _rolled_back(self.journal, name, attempt):
            raise CutoverRefused(
                f"connector {name} has no cutover to roll back",
                why="the journal holds no open cutover attempt for it",
                fix="`connshift status` shows the journal",
                connector=name,
            )
        done = self.journal.done_steps(name, attempt)
        verified = done.get(Step.VERIFY.value)
        window = self.timeouts.rollback_window_hours * 3600
        if verified is not None and time.time() - verified.at > window and not force:
            raise CutoverRefused(
                f"connector {name} was cut over more than "
                f"{self.timeouts.rollback_window_hours:g} h ago: outside the rollback window",
                fix="pass --force to roll back anyway (recorded in the journal)",
                connector=name,
            )
        ends = done.get(Step.CATCH_UP.value)
        rb_done = {
            e.step: e
            for e in self.journal.attempt_entries(name, attempt)
            if e.kind == "rollback" and e.status in ("done", "skipped")
        }

        def run(step: str, action: Callable[[], tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
            if step in rb_done:
                result.steps.append(StepOutcome(name, step, "skipped", "done before"))
                return rb_done[step].data
            if self.dry_run:
                result.steps.append(StepOutcome(name, step, "would", step.replace("-", " ")))
                return {}
            self.report(f"{name}: rollback {step}")
            self.journal.record(name, attempt, "rollback", step, "started", {"force": force})
            self.on_step(name, "rollback", step, "started", None)
            began = time.monotonic()
            try:
                status, detail, data = action()
            except ConnshiftError as exc:
                self.journal.record(name, attempt, "rollback", step, "failed", error=exc.one_line())
                result.steps.append(StepOutcome(name, step, "failed", exc.one_line()))
                self.on_step(name, "rollback", step, "failed", time.monotonic() - began)
                raise
            self.on_step(name, "rollback", step, status, time.monotonic() - began)
            self.journal.record(name, attempt, "rollback", step, status, data)
            result.steps.append(StepOutcome(name, step, status, detail, data))
            return data

        def stop_destination() -> tuple[str, str, dict[str, Any]]:
            if not self.dst_connect.exists(name):
                return "skipped", "not on the destination", {}
            self.dst_connect.stop(name)
            self._wait(self.dst_connect, name, "STOPPED", tasks=False)
            return "done", "destination connector STOPPED", {}

        run("stop-destination", stop_destination)

        def read_destination() -> tuple[str, str, dict[str, Any]]:
            if not self.dst_connect.exists(name):
                return "skipped", "not on the destination", {"offsets": []}
            offsets = self.dst_connect.get_offsets(name)
            return "done", f"{len(offsets)} offset entries", {"offsets": offsets}

        dst_offsets = run("read-destination-offsets", read_destination).get("offsets", [])

        def copy_back() -> tuple[str, str, dict[str, Any]]:
            if plan.shape is Shape.SINK or ends is None:
                return "skipped", "nothing produced on the destination", {}
            moved = self._copy_back(plan, ends.data.get("ends", {}))
            total = sum(moved.values())
            return "done", f"{total} record(s) copied back to the source", {"moved": moved}

        run("copy-back", copy_back)

        def write_source() -> tuple[str, str, dict[str, Any]]:
            if plan.shape is Shape.SINK:
                entries = self._reverse_sink_offsets(plan, dst_offsets)
            else:
                entries = self._server_keys(plan, dst_offsets, to_destination=False)
            if not entries:
                return "skipped", "no positions to write back", {}
            self.src_connect.alter_offsets(name, entries)
            return (
                "done",
                f"{len(entries)} offset entries written to the source",
                {"written": entries},
            )

        run("write-source-offsets", write_source)

        def delete_destination() -> tuple[str, str, dict[str, Any]]:
            if self.dst_connect.exists(name):
                self.dst_connect.delete(name)
            return "done", "destination connector deleted", {}

        run("delete-destination", delete_destination)

        def resume_source() -> tuple[str, str, dict[str, Any]]:
            self.src_connect.resume(name)
            self._wait(self.src_connect, name, "RUNNING")
            return "done", "source connector RUNNING", {}

        run("resume-source", resume_source)
        run("rolled-back", lambda: ("done", "rollback complete", {}))

    def _copy_back(self, plan: ConnectorPlan, ends: dict[str, Any]) -> dict[str, int]:
        """Append what the destination connector produced to the source topics; extend
        the forward maps so sync will not copy those records back again."""
        from connshift.app.sync import MapMirror, PartitionState, state_path
        from connshift.io.statestore import StateStore

        moved: dict[str, int] = {}
        mirror = MapMirror(self.dst)
        with StateStore(state_path(self.spec)) as store:
            for key in ends:
                topic, _, part = key.rpartition("/")
                p = int(part)
                found = load_map(self.spec, topic, p)
                if found is None:
                    continue
                dst_topic, pmap = found
                _, src_high = self.src.watermarks(topic, p)
                if src_high != pmap.src_next:
                    raise CutoverRefused(
                        f"source topic {topic}[{p}] changed since the cutover "
                        f"(end {src_high}, copied up to {pmap.src_next})",
                        why="another producer wrote to it; copying back would interleave",
                        fix="stop that producer; then rerun the rollback",
                        topic=topic,
                    )
                delta = list(
                    self.dst.read(dst_topic, p, pmap.dst_next, None, isolation="read_committed")
                )
                if not delta:
                    moved[f"{topic}[{p}]"] = 0
                    continue
                producer = self.src.producer({"enable.idempotence": True, "acks": "all"})
                for r in delta:
                    headers: Any = r.headers
                    producer.produce(topic, r.value, r.key, p, None, None, r.timestamp, headers)
                if producer.flush(60):
                    raise ConnectError(f"could not copy records back to {topic}[{p}]")
                # the source now holds them at [src_high, src_high + n): map them onto the
                # destination records they came from
                for r in delta:
                    pmap.append(pmap.src_next, r.offset, 1)
                store.replace(topic, p, dst_topic, pmap)
                mirror.publish([PartitionState(topic, p, dst_topic, pmap, target=None)])
                moved[f"{topic}[{p}]"] = len(delta)
        mirror.close()
        return moved

    def _server_keys(
        self, plan: ConnectorPlan, offsets: list[dict[str, Any]], *, to_destination: bool
    ) -> list[dict[str, Any]]:
        """Debezium keys its offsets by ``{"server": topic.prefix}``. Keep only the entry
        of this connector's own server (a worker remembers the offsets of every earlier
        incarnation of a connector name), and map it across when the destination
        connector's topic.prefix differs (a spec topic prefix)."""
        if plan.shape is not Shape.CDC_SOURCE:
            return offsets
        prefix = self.spec.topics.prefix
        dst_server = str(plan.destination_config.get("topic.prefix", ""))
        src_server = (
            dst_server[len(prefix) :] if prefix and dst_server.startswith(prefix) else dst_server
        )
        have, want = (src_server, dst_server) if to_destination else (dst_server, src_server)
        out = []
        for entry in offsets:
            part = dict(entry.get("partition", {}))
            if "server" in part:
                if part["server"] != have:
                    continue  # an earlier incarnation's position: not this copy's
                part["server"] = want
            out.append({**entry, "partition": part})
        return out

    def _reverse_sink_offsets(
        self, plan: ConnectorPlan, dst_offsets: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        back = {d: s for s, d in zip(plan.topics, plan.destination_topics, strict=False)}
        out = []
        for entry in dst_offsets:
            part = entry.get("partition", {})
            dst_topic, p = part.get("kafka_topic"), int(part.get("kafka_partition", 0))
            if dst_topic not in back:
                continue  # offsets of other topics this group once read on the destination
            pos = int(entry.get("offset", {}).get("kafka_offset", 0))
            topic = back[dst_topic]
            # a sync --follow may not have checkpointed the latest copies yet: wait for it
            deadline = time.monotonic() + self.timeouts.catch_up_timeout_seconds
            while True:
                found = load_map(self.spec, topic, p)
                source_pos = found[1].reverse_position(pos) if found else None
                if source_pos is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if source_pos is None:
                raise CutoverRefused(
                    f"sink {plan.name}'s destination position {dst_topic}[{p}]@{pos} has no "
                    "source equivalent",
                    why="it read records that exist only on the destination",
                    fix="copy those records back first, or roll back with a fresh start",
                    connector=plan.name,
                )
            out.append(
                {
                    "partition": {"kafka_topic": topic, "kafka_partition": p},
                    "offset": {"kafka_offset": source_pos},
                }
            )
        return out


def _fault_injection(step: str) -> None:
    """Tests set CONNSHIFT_CRASH_AFTER_STEP to kill -9 this process right after a step."""
    if os.environ.get("CONNSHIFT_CRASH_AFTER_STEP") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _rolled_back(journal: Journal, name: str, attempt: int) -> bool:
    return any(
        e.kind == "rollback" and e.step == "rolled-back" and e.status == "done"
        for e in journal.attempt_entries(name, attempt)
    )


def _dry(step: Step, plan: ConnectorPlan) -> str:
    from connshift.core.plan import _describe

    return "would " + _describe(step, plan.name, plan.shape, plan.strategy)


def _lsn(value: bytes | None) -> int | None:
    """The PostgreSQL LSN of a Debezium change event (JSON, with or without schemas)."""
    if not value:
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    if isinstance(doc, dict) and "payload" in doc and isinstance(doc["payload"], dict):
        doc = doc["payload"]
    source = doc.get("source") if isinstance(doc, dict) else None
    lsn = source.get("lsn") if isinstance(source, dict) else None
    return int(lsn) if isinstance(lsn, int | str) and str(lsn).isdecimal() else None


# ---------------------------------------------------------------------------- status


def status(spec: Spec) -> dict[str, Any]:
    """The journal, per connector: latest attempt and its steps."""
    with Journal(Path(spec.state_dir) / "journal.db") as journal:
        out = {}
        for name in journal.connectors():
            attempt = journal.attempt(name)
            entries = journal.attempt_entries(name, attempt)
            out[name] = {
                "attempt": attempt,
                "rolled_back": _rolled_back(journal, name, attempt),
                "entries": [
                    {
                        "kind": e.kind,
                        "step": e.step,
                        "status": e.status,
                        "at": e.at,
                        "error": e.error,
                    }
                    for e in entries
                ],
            }
    return {"schema": "connshift.status/1", "connectors": out}
