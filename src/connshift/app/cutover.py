"""``connshift plan``, ``cutover``, ``rollback`` and ``status``: move connectors.

A connector's cutover is a list of step objects (:mod:`connshift.app.steps`), each with
its undo (:data:`connshift.core.plan.UNDO`), run by the one journaling executor: every
step is recorded before and after it runs, a rerun skips what is done and continues,
and ``--dry-run`` runs the read-only preflight and describes the rest. A rollback is
the reverse of the journaled cutover: the undo of every step the attempt started,
newest first. The source connector is always stopped before the destination one is
resumed (a replication slot has one reader), and a rollback stops the destination
connector before it resumes the source one.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connshift.app.context import Migration
from connshift.app.steps import (
    ENDED,
    Executor,
    Learned,
    Op,
    Outcome,
    StepHook,
    StepOutcome,
    ended,
    reverse_of,
)
from connshift.app.sync import PartitionState, SyncDeadlinePassed, SyncOptions, sync
from connshift.core.digest import record_digest
from connshift.core.plan import (
    PLAN_SCHEMA,
    UNDO,
    UNDO_DOES,
    ConnectorPlan,
    Shape,
    Step,
    Strategy,
    Undo,
    describe,
    plan_connector,
)
from connshift.core.redact import redact, references
from connshift.core.spec import Spec, same_connect
from connshift.errors import CheckFailed, ConfigError, KafkaAccessDenied, UsageError
from connshift.io.connect import ConfigValidation, ConnectClient, ConnectorNotFoundError
from connshift.io.journal import Journal

__all__ = [
    "CutoverRefused",
    "CutoverResult",
    "Mover",
    "StepOutcome",
    "plan",
    "plan_json",
    "redact_config",
    "status",
]

Reporter = Callable[[str], None]

#: Kafka Connect versions: offsets read/stop (KIP-875), offsets write, initial_state (KIP-980)
MIN_STOP_AND_READ = (3, 5)
MIN_WRITE_OFFSETS = (3, 6)
MIN_INITIAL_STATE = (3, 7)


class CutoverRefused(CheckFailed):
    """A connector cannot be moved as things stand; nothing was changed."""

    #: the executor undoes the attempt's steps (a refusal after the source was stopped)
    undo_attempt = False


def redact_config(config: Mapping[str, str]) -> dict[str, str]:
    """A config with inline secret values shown as ``***`` (references kept)."""
    return redact(config)


def connect_version(text: str) -> tuple[int, int]:
    """(major, minor) of a Connect version string ((0, 0) when it has none)."""
    parts = re.findall(r"\d+", text)
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 else (0, 0)


# ---------------------------------------------------------------------------- plan


def refuse_one_connect(spec: Spec) -> None:
    """Refuse (exit 2) moving connectors when both sides name one Connect cluster: a
    connector cannot move onto the workers it runs on."""
    if same_connect(spec):
        raise ConfigError(
            f"source.connect.url and destination.connect.url name one Connect cluster "
            f"({spec.destination.connect.url})",  # type: ignore[union-attr]
            why="a connector cannot be moved onto the workers it runs on",
            fix="point destination.connect.url at the destination's workers "
            "(one Connect cluster is for `cutover --repoint-workers`)",
        )


def plan(
    migration: Migration, names: Sequence[str] | None = None, strategy: Strategy = Strategy.RESUME
) -> list[ConnectorPlan]:
    """Plan the cutover of the named connectors (default: every one the spec selects)."""
    spec, src_connect = migration.spec, migration.src_connect
    refuse_one_connect(spec)
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


def plan_json(plans: Sequence[ConnectorPlan], spec_name: str | None = None) -> dict[str, Any]:
    """``plan.json``: the plans, and the name of the spec they were made from."""
    data: dict[str, Any] = {"schema": PLAN_SCHEMA}
    if spec_name is not None:
        data["spec"] = spec_name
    data["connectors"] = [p.to_json(redact_config) for p in plans]
    return data


def check_plan_file(
    data: Mapping[str, Any],
    origin: str,
    spec_name: str,
    plans: Sequence[ConnectorPlan] = (),
) -> None:
    """Refuse (exit 2, before anything runs) a plan file made for another spec: not a plan,
    another spec name, or (given this spec's ``plans``) connectors whose topics this spec
    copies under other names."""
    if data.get("schema") != PLAN_SCHEMA:
        raise UsageError(
            f"{origin} is not a connshift plan",
            why=f"its schema is {data.get('schema')!r}, not {PLAN_SCHEMA}",
            fix="write one with `connshift plan -o plan.json`",
        )
    made_for = data.get("spec")
    if made_for is not None and made_for != spec_name:
        raise UsageError(
            f"{origin} was planned for spec {made_for!r}, but -c names spec {spec_name!r}",
            fix=f"pass the spec the plan was made from, or re-plan with this one "
            f"(`connshift plan -c ... -o {origin}`)",
        )
    planned = {c.get("name"): c for c in data.get("connectors", []) if isinstance(c, Mapping)}
    for p in plans:
        then = planned.get(p.name, {}).get("destination_topics")
        if then is not None and list(then) != list(p.destination_topics):
            raise UsageError(
                f"{origin} plans {p.name} onto {', '.join(then) or 'no topics'}, this spec "
                f"onto {', '.join(p.destination_topics) or 'no topics'}",
                why="the plan was made from another spec (or topics.rename/prefix changed)",
                fix=f"re-plan with this spec (`connshift plan -c ... -o {origin}`)",
                connector=p.name,
            )


# ---------------------------------------------------------------------------- results


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


# ---------------------------------------------------------------------------- the steps


class _Step(Op):
    """A step of one connector's move: the mover that does the work and the plan."""

    def __init__(self, mover: Mover, plan: ConnectorPlan) -> None:
        self.mover = mover
        self.plan = plan

    @property
    def m(self) -> Migration:
        return self.mover.migration


class _CutoverStep(_Step):
    step: ClassVar[Step]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.step.value  # the journal's name is the plan's

    def describe(self) -> str:
        p = self.plan
        return describe(self.step, p.name, p.shape, p.strategy)

    def reverse(self) -> list[Op]:
        return [UNDO_STEPS[u](self.mover, self.plan) for u in UNDO[self.step]]


class _UndoStep(_Step):
    undo: ClassVar[Undo]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.undo.value

    def describe(self) -> str:
        return UNDO_DOES[self.undo]

    def on_destination(self) -> bool:
        """Whether the destination worker has the connector (undo steps skip when not)."""
        return self.m.dst_connect.exists(self.plan.name)


class Preflight(_CutoverStep):
    step = Step.PREFLIGHT
    read_only = True

    def run(self, learned: Learned) -> Outcome:
        created_by_us = Step.CREATE_STOPPED.value in learned
        try:
            detail = self.mover.preflight(self.plan, created_by_us)
        except ConnectorNotFoundError as exc:
            raise CutoverRefused(
                f"connector {self.plan.name} not found on the source Connect cluster",
                fix="check the connector name (`connshift plan` lists them)",
                connector=self.plan.name,
            ) from exc
        # the plan as cut over: a rollback undoes this one, whatever the spec says by then
        return Outcome("done", detail, {"plan": self.plan.to_json(redact_config)})


class StopSource(_CutoverStep):
    step = Step.STOP_SOURCE

    def run(self, learned: Learned) -> Outcome:
        self.m.src_connect.stop(self.plan.name)
        self.mover.wait(self.m.src_connect, self.plan.name, "STOPPED", tasks=False)
        return Outcome("done", "source connector STOPPED", {"stopped_at": time.time()})


class ReadOffsets(_CutoverStep):
    step = Step.READ_OFFSETS

    def run(self, learned: Learned) -> Outcome:
        offsets = self.m.src_connect.get_offsets(self.plan.name)
        if not offsets and self.plan.strategy is Strategy.RESUME:
            self._refuse_nothing_to_resume()
        return Outcome("done", f"{len(offsets)} offset entries", {"offsets": offsets})

    def _refuse_nothing_to_resume(self) -> None:
        """``resume`` of a connector with no offsets on the source (read once it is stopped,
        so every offset it had is flushed) would start it from scratch on the destination (a
        sink from its reset policy): refused, and this attempt undone — the source connector
        resumed — so the operator chooses ``fresh`` or ``snapshot`` knowingly."""
        name = self.plan.name
        refusal = CutoverRefused(
            f"connector {name} has no offsets on the source to resume from",
            why="it never committed any, or they were lost (its offsets topic compacted or "
            "deleted, its sink group deleted); on the destination it would start from scratch",
            fix=f"if that is meant, plan it fresh: `connshift plan {name} --strategy fresh "
            "-o plan.json`, then `connshift cutover --plan plan.json`",
            connector=name,
        )
        refusal.undo_attempt = True  # this refusal only: other failures keep the attempt open
        raise refusal


class CatchUp(_CutoverStep):
    step = Step.CATCH_UP
    #: a catch-up that cannot finish resumes the stopped source connector and ends the attempt
    undo_on_failure = True

    def run(self, learned: Learned) -> Outcome:
        ends = self.mover.catch_up(self.plan)
        return Outcome("done", f"{len(ends)} partition(s) copied to the end", {"ends": ends})


class CreateStopped(_CutoverStep):
    step = Step.CREATE_STOPPED

    def run(self, learned: Learned) -> Outcome:
        dst, name = self.m.dst_connect, self.plan.name
        if not dst.exists(name):
            dst.create(name, self.plan.destination_config, initial_state="STOPPED")
        self.mover.wait(dst, name, "STOPPED", tasks=False)
        return Outcome("done", "created STOPPED on the destination")


class WriteOffsets(_CutoverStep):
    step = Step.WRITE_OFFSETS

    def run(self, learned: Learned) -> Outcome:
        plan = self.plan
        if plan.strategy is not Strategy.RESUME:
            return Outcome("skipped", f"strategy {plan.strategy}: no offsets written")
        offsets = learned.get(Step.READ_OFFSETS.value, {}).get("offsets", [])
        if plan.shape is Shape.SINK:
            written = self.mover.translate_sink_offsets(plan, offsets)
        else:
            written = self.mover.server_keys(plan, offsets, to_destination=True)
        if not written:
            return Outcome("skipped", "the source connector had no offsets")
        message = self.m.dst_connect.alter_offsets(plan.name, written)
        return Outcome(
            "done", message or f"{len(written)} offset entries written", {"written": written}
        )


class Resume(_CutoverStep):
    step = Step.RESUME

    def run(self, learned: Learned) -> Outcome:
        self.m.dst_connect.resume(self.plan.name)
        self.mover.wait(self.m.dst_connect, self.plan.name, "RUNNING")
        return Outcome("done", "destination connector RUNNING", {"running_at": time.time()})


class Verify(_CutoverStep):
    step = Step.VERIFY

    def run(self, learned: Learned) -> Outcome:
        ends = learned.get(Step.CATCH_UP.value, {}).get("ends", {})
        status, detail = self.mover.verify(self.plan, ends)
        return Outcome(status, detail)


CUTOVER_STEPS: tuple[type[_CutoverStep], ...] = (
    Preflight,
    StopSource,
    ReadOffsets,
    CatchUp,
    CreateStopped,
    WriteOffsets,
    Resume,
    Verify,
)


class StopDestination(_UndoStep):
    undo = Undo.STOP_DESTINATION

    def run(self, learned: Learned) -> Outcome:
        if not self.on_destination():
            return Outcome("skipped", "not on the destination")
        dst, name = self.m.dst_connect, self.plan.name
        dst.stop(name)
        self.mover.wait(dst, name, "STOPPED", tasks=False)
        return Outcome("done", "destination connector STOPPED")


class ReadDestinationOffsets(_UndoStep):
    undo = Undo.READ_DESTINATION_OFFSETS
    read_only = True

    def run(self, learned: Learned) -> Outcome:
        if not self.on_destination():
            return Outcome("skipped", "not on the destination", {"offsets": []})
        offsets = self.m.dst_connect.get_offsets(self.plan.name)
        return Outcome("done", f"{len(offsets)} offset entries", {"offsets": offsets})


class CopyBack(_UndoStep):
    undo = Undo.COPY_BACK

    def run(self, learned: Learned) -> Outcome:
        ends = learned.get(Step.CATCH_UP.value, {}).get("ends")
        if self.plan.shape is Shape.SINK or not ends:
            return Outcome("skipped", "nothing produced on the destination")
        moved = self.mover.copy_back(self.plan, ends)
        total = sum(moved.values())
        return Outcome("done", f"{total} record(s) copied back to the source", {"moved": moved})


class WriteSourceOffsets(_UndoStep):
    undo = Undo.WRITE_SOURCE_OFFSETS

    def run(self, learned: Learned) -> Outcome:
        plan = self.plan
        dst_offsets = learned.get(Undo.READ_DESTINATION_OFFSETS.value, {}).get("offsets")
        if dst_offsets is None:  # the attempt never resumed: read what the destination holds
            dst = self.m.dst_connect
            dst_offsets = dst.get_offsets(plan.name) if dst.exists(plan.name) else []
        if plan.shape is Shape.SINK:
            entries = self.mover.reverse_sink_offsets(plan, dst_offsets)
        else:
            entries = self.mover.server_keys(plan, dst_offsets, to_destination=False)
        if not entries:
            return Outcome("skipped", "no positions to write back")
        self.m.src_connect.alter_offsets(plan.name, entries)
        return Outcome(
            "done", f"{len(entries)} offset entries written to the source", {"written": entries}
        )


class DeleteDestination(_UndoStep):
    undo = Undo.DELETE_DESTINATION

    def run(self, learned: Learned) -> Outcome:
        if not self.on_destination():
            return Outcome("skipped", "not on the destination")
        self.m.dst_connect.delete(self.plan.name)
        return Outcome("done", "destination connector deleted")


class ResumeSource(_UndoStep):
    undo = Undo.RESUME_SOURCE

    def run(self, learned: Learned) -> Outcome:
        self.m.src_connect.resume(self.plan.name)
        self.mover.wait(self.m.src_connect, self.plan.name, "RUNNING")
        return Outcome("done", "source connector RUNNING")


class RolledBack(_Step):
    """The last step of a rollback: the attempt is over."""

    name = ENDED

    def describe(self) -> str:
        return "close the attempt: the connector runs on the source again"

    def run(self, learned: Learned) -> Outcome:
        return Outcome("done", "rollback complete")


UNDO_STEPS: dict[Undo, type[_UndoStep]] = {
    cls.undo: cls
    for cls in (
        StopDestination,
        ReadDestinationOffsets,
        CopyBack,
        WriteSourceOffsets,
        DeleteDestination,
        ResumeSource,
    )
}


# ---------------------------------------------------------------------------- the mover


class Mover:
    """Cuts connectors over and rolls them back for one migration, journaled.

    ``blockers`` (connector -> scorecard rows at 0) default to the readiness gate
    computed from the recorded evidence (:func:`connshift.app.score.gate`): a library
    caller is gated like the CLI. ``force`` runs past the gate, journaled.
    """

    def __init__(
        self,
        migration: Migration,
        *,
        dry_run: bool = False,
        report: Reporter | None = None,
        blockers: Mapping[str, list[dict[str, Any]]] | None = None,
        force: bool = False,
        on_step: StepHook | None = None,
    ):
        self.migration = migration
        self.spec = migration.spec
        self.dry_run = dry_run
        self.blockers = blockers
        self.force = force
        self.report: Reporter = report or (lambda _m: None)
        self.timeouts = migration.spec.cutover
        self.executor = Executor(
            migration.journal, dry_run=dry_run, report=self.report, on_step=on_step
        )

    @property
    def journal(self) -> Journal:
        return self.migration.journal

    # ------------------------------------------------------------------ helpers
    def wait(self, client: ConnectClient, name: str, state: str, tasks: bool = True) -> None:
        """Wait (bounded by ``cutover.state_timeout_seconds``) for ``state``."""
        client.wait_for_state(
            name,
            state,
            tasks_state=state if tasks and state == "RUNNING" else None,
            timeout=self.timeouts.state_timeout_seconds,
        )

    def _source_partitions(self, topics: Sequence[str]) -> list[tuple[str, int]]:
        """Every partition of those of ``topics`` the source has (one metadata request)."""
        infos = self.migration.src.topics()
        return [(t, p) for t in topics if t in infos for p in range(infos[t].partitions)]

    def check_versions(self) -> None:
        """Refuse Connect versions without the offsets API or ``initial_state``."""
        src_v = self.migration.src_connect.info().version
        dst_v = self.migration.dst_connect.info().version
        if connect_version(src_v) < MIN_WRITE_OFFSETS:
            raise CutoverRefused(
                f"the source Connect cluster runs {src_v}: it cannot stop a connector or "
                "report/alter its offsets",
                why="the offsets REST API (KIP-875) needs Kafka Connect 3.6 or newer "
                "(reading offsets and stop: 3.5)",
                fix="upgrade the source workers to 3.6+, or move the connectors by hand",
            )
        if connect_version(dst_v) < MIN_INITIAL_STATE:
            raise CutoverRefused(
                f"the destination Connect cluster runs {dst_v}: it cannot create a connector "
                "STOPPED",
                why="initial_state on create (KIP-980) needs Kafka Connect 3.7 or newer",
                fix="upgrade the destination workers to 3.7+",
            )

    # ------------------------------------------------------------------ step work
    def preflight(self, plan: ConnectorPlan, created_by_us: bool) -> str:
        m = self.migration
        self.check_versions()
        status = m.src_connect.status(plan.name)  # ConnectorNotFoundError if missing
        plugins = {p.class_name: p for p in m.dst_connect.plugins()}
        if plan.class_name not in plugins:
            raise CutoverRefused(
                f"plugin {plan.class_name} is missing on the destination Connect worker",
                why=f"connector {plan.name} needs it; the destination has "
                f"{len(plugins)} connector plugins",
                fix="install the plugin on the destination workers' plugin.path and restart them",
                connector=plan.name,
            )
        src_plugins = {p.class_name: p for p in m.src_connect.plugins()}
        notes = []
        sv = src_plugins.get(plan.class_name)
        dv = plugins[plan.class_name]
        if sv is not None and sv.version != dv.version:
            notes.append(f"plugin version drift: {sv.version} -> {dv.version}")
        if m.dst_connect.exists(plan.name) and not created_by_us:
            raise CutoverRefused(
                f"connector {plan.name} already exists on the destination Connect cluster",
                why="connshift did not create it (no journal entry), so it may be running",
                fix="delete it there first if it is a leftover, or move another connector",
                connector=plan.name,
            )
        validation = m.dst_connect.validate_config(
            plan.class_name, {**plan.destination_config, "name": plan.name}
        )
        if not validation.ok:
            raise self._invalid_on_destination(plan, validation)
        tps = self._source_partitions(plan.topics)
        unsynced = sorted({t for t, _ in tps} - {t for t, p in tps if m.maps.get(t, p)})
        if unsynced:
            raise CutoverRefused(
                f"connector {plan.name}'s topics are not being synced: {', '.join(unsynced)}",
                why="its records (and offsets) must be on the destination before it moves",
                fix="run `connshift sync` for these topics first (and keep it running with "
                "--follow during cutovers)",
                connector=plan.name,
            )
        return f"source connector {status.state}; " + ("; ".join(notes) or "checks pass")

    def _invalid_on_destination(
        self, plan: ConnectorPlan, validation: ConfigValidation
    ) -> CutoverRefused:
        """The refusal for a config the destination worker rejects. When the config takes
        values from config providers and the source worker accepts the same config, the
        likely cause is a provider the destination workers lack or cannot resolve (Connect
        leaves such a ``${provider:...}`` reference as it is): the refusal names them."""
        key, errors = next(iter(validation.errors.items()), ("", ()))
        why = f"{key}: {errors[0]}" if errors else f"{validation.error_count} error(s)"
        refs = references(plan.destination_config)
        if refs:
            src_connect = self.migration.src_connect
            on_source = src_connect.validate_config(
                plan.class_name, {**src_connect.connector_config(plan.name), "name": plan.name}
            )
            if on_source.ok:
                named = "; ".join(
                    f"provider `{p}` for {', '.join(keys)}" for p, keys in refs.items()
                )
                return CutoverRefused(
                    f"connector {plan.name}'s config does not validate on the destination "
                    f"worker, though it does on the source: it takes values from config "
                    f"providers ({named})",
                    why=f"the destination worker lacks a provider or cannot resolve a "
                    f"reference ({why})",
                    fix="declare the same config.providers on the destination workers (with "
                    "access to the same secrets), restart them, then rerun; nothing was changed",
                    connector=plan.name,
                )
        return CutoverRefused(
            f"connector {plan.name}'s config does not validate on the destination",
            why=why,
            fix="fix the config (or the destination worker), then rerun",
            connector=plan.name,
        )

    def catch_up(self, plan: ConnectorPlan) -> dict[str, Any]:
        """Copy the connector's topics to their end as of now (its source is stopped), and
        return the ends reached. Bounded by ``cutover.catch_up_timeout_seconds``.

        It reads the shared map store first, which a running ``sync --follow`` keeps
        current: when that already holds every record, nothing else runs. Otherwise an
        in-process ``sync --once`` joins the sync group: it copies the partitions no live
        member holds (the group gives it those, and a dead member's once its session
        expires) and waits, through the mirrored maps, for the ones a live member copies.
        Every wait ends at the deadline; the caller then resumes the source connector.
        With ``cutover.run_sync: false`` it only waits.
        """
        m, timeout = self.migration, self.timeouts.catch_up_timeout_seconds
        deadline = time.monotonic() + timeout
        tps = self._source_partitions(plan.topics)
        targets = m.src.watermarks_of(tps)

        def behind(ends: dict[str, Any]) -> list[tuple[str, int]]:
            m.maps.refresh()
            out = []
            for (topic, p), (low, high) in sorted(targets.items()):
                found = m.maps.get(topic, p)
                if found is None:
                    if high > low:
                        out.append((topic, p))
                    continue
                if found.map.src_next < high:
                    out.append((topic, p))
                    continue
                ends[f"{topic}/{p}"] = {
                    "src_next": found.map.src_next,
                    "dst_next": found.map.dst_next,
                    "dst_topic": found.dst_topic,
                }
            return out

        ends: dict[str, Any] = {}
        left = behind(ends)
        if left and self.timeouts.run_sync:
            topics = sorted({t for t, _ in left})
            # past the deadline: said below, with what is still behind
            with contextlib.suppress(SyncDeadlinePassed):
                options = SyncOptions(
                    topics=[re.escape(t) for t in topics], deadline=deadline, record=False
                )
                sync(m, options)
        while True:
            ends = {}
            left = behind(ends)
            if not left:
                return ends
            if time.monotonic() > deadline:
                raise CutoverRefused(
                    f"sync did not copy {plan.name}'s topics to the end within {timeout:.0f}s",
                    why="still behind: " + ", ".join(f"{t}[{p}]" for t, p in left[:5]),
                    fix="let sync catch up (is `connshift sync --follow` running?) or raise "
                    "cutover.catch_up_timeout_seconds; the source connector was resumed",
                    connector=plan.name,
                )
            time.sleep(0.5)

    def translate_sink_offsets(
        self, plan: ConnectorPlan, offsets: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A sink's source group positions, translated exactly onto its destination topics."""
        out = []
        for entry in offsets:
            part = entry.get("partition", {})
            topic, p = part.get("kafka_topic"), int(part.get("kafka_partition", 0))
            if topic not in plan.topic_map:
                continue  # the group also remembers topics this connector no longer reads
            pos = int(entry.get("offset", {}).get("kafka_offset", 0))
            found = self.migration.maps.get(topic, p, dst_topic=plan.topic_map[topic])
            translated = found.map.position(pos) if found else None
            if found is None or translated is None:
                raise CutoverRefused(
                    f"sink {plan.name}'s position {topic}[{p}]@{pos} is beyond what sync copied",
                    why="the destination connector would skip records",
                    fix="let sync catch up, then rerun the cutover",
                    connector=plan.name,
                )
            out.append(
                {
                    "partition": {"kafka_topic": found.dst_topic, "kafka_partition": p},
                    "offset": {"kafka_offset": translated},
                }
            )
        return out

    def verify(self, plan: ConnectorPlan, ends: dict[str, Any]) -> tuple[str, str]:
        """(status, detail): the first new records follow the last old ones."""
        if plan.shape is Shape.SINK:
            status = self.migration.dst_connect.status(plan.name)
            return "done", f"sink running on the destination ({status.describe()})"
        deadline = time.monotonic() + self.timeouts.verify_timeout_seconds
        checked: list[str] = []
        for key, end in ends.items():
            p = int(key.rpartition("/")[2])
            dst_topic, boundary = end["dst_topic"], int(end["dst_next"])
            new: list[Any] = []
            while time.monotonic() < deadline:
                new = list(
                    self.migration.dst.read(dst_topic, p, boundary, boundary + 50, timeout=10)
                )
                if new:
                    break
                time.sleep(0.5)
            if not new:
                continue
            old = list(
                self.migration.dst.read(dst_topic, p, max(boundary - 200, 0), boundary, timeout=10)
            )
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
                last_old = change_lsn(old[-1].value) if old else None
                first_new = change_lsn(new[0].value)
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
        """Cut each planned connector over (a rerun continues a crashed attempt)."""
        result = CutoverResult(dry_run=self.dry_run)
        if self.blockers is None:
            from connshift.app.score import gate

            self.blockers = gate(self.spec, [p.name for p in plans])
        for p in plans:  # before any connector moves
            self._refuse_already_moved(p.name)
        for p in plans:
            self._cutover_one(p, result)
        return result

    def _refuse_already_moved(self, name: str) -> None:
        """Refuse to cut over again a connector whose latest attempt finished and was not
        rolled back: a new attempt would hide the finished one from ``rollback``."""
        journal = self.journal
        attempt = journal.attempt(name)
        verified = journal.done_steps(name, attempt).get(Step.VERIFY.value) if attempt else None
        if verified is None or ended(journal, name, attempt):
            return
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(verified.at))
        raise CutoverRefused(
            f"connector {name} is already cut over",
            why=f"attempt {attempt} in the journal finished at {when}",
            fix=f"nothing to do; `connshift rollback {name}` undoes it, "
            "`connshift status` shows the journal",
            connector=name,
        )

    def _cutover_one(self, plan: ConnectorPlan, result: CutoverResult) -> None:
        name, journal = plan.name, self.journal
        attempt = journal.attempt(name)
        done = journal.done_steps(name, attempt) if attempt else {}
        if not attempt or Step.VERIFY.value in done or ended(journal, name, attempt):
            attempt += 1
            done = {}
        if not done:  # a rerun continues an attempt the gate already let through
            self._gate(name, attempt, result)
        ops = [cls(self, plan) for cls in CUTOVER_STEPS]
        learned = self.executor.run(name, attempt, "cutover", ops, result.steps, done=done)
        paused_at = learned.get(Step.STOP_SOURCE.value, {}).get("stopped_at")
        running_at = learned.get(Step.RESUME.value, {}).get("running_at")
        if paused_at and running_at and not self.dry_run:
            result.pause_seconds[name] = round(float(running_at) - float(paused_at), 3)

    def _gate(self, name: str, attempt: int, result: CutoverResult) -> None:
        """Refuse a connector the readiness scorecard blocks, unless forced (journaled)."""
        blockers = (self.blockers or {}).get(name) or []
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

    # ------------------------------------------------------------------ rollback
    def journaled_plan(self, name: str) -> ConnectorPlan | None:
        """The plan the connector's latest cutover attempt ran (None: not journaled)."""
        attempt = self.journal.attempt(name)
        for e in self.journal.attempt_entries(name, attempt):
            if e.kind == "cutover" and e.step == Step.PREFLIGHT.value and "plan" in e.data:
                return ConnectorPlan.from_json(e.data["plan"])
        return None

    def rollback(self, names: Sequence[str], *, force: bool = False) -> CutoverResult:
        """Undo each connector's latest cutover: the reverse of its journaled steps."""
        result = CutoverResult(dry_run=self.dry_run)
        for name in names:
            self._rollback_one(name, result, force=force)
        return result

    def _rollback_one(self, name: str, result: CutoverResult, *, force: bool) -> None:
        journal = self.journal
        attempt = journal.attempt(name)
        if not attempt or ended(journal, name, attempt):
            raise CutoverRefused(
                f"connector {name} has no cutover to roll back",
                why="the journal holds no open cutover attempt for it",
                fix="`connshift status` shows the journal",
                connector=name,
            )
        done = journal.done_steps(name, attempt)
        verified = done.get(Step.VERIFY.value)
        window = self.timeouts.rollback_window_hours * 3600
        if verified is not None and time.time() - verified.at > window and not force:
            raise CutoverRefused(
                f"connector {name} was cut over more than "
                f"{self.timeouts.rollback_window_hours:g} h ago: outside the rollback window",
                fix="pass --force to roll back anyway (recorded in the journal)",
                connector=name,
            )
        plan_ = self.journaled_plan(name) or plan(self.migration, [name])[0]
        # every step the attempt started (a crash may have cut one short): undo it
        started = {e.step for e in journal.attempt_entries(name, attempt) if e.kind == "cutover"}
        cut = [cls(self, plan_) for cls in CUTOVER_STEPS if cls.name in started]
        ops = [*reverse_of(cut), RolledBack(self, plan_)]
        rollback_done = journal.done_steps(name, attempt, kind="rollback")
        if not self.dry_run and Undo.COPY_BACK.value not in rollback_done:
            self.refuse_missing_rights("rollback", plan_)
        if force and not self.dry_run:
            journal.record(name, attempt, "rollback", "forced", "done", {"force": True})
        self.executor.run(
            name,
            attempt,
            "rollback",
            ops,
            result.steps,
            done=journal.done_steps(name, attempt, kind="rollback"),
            learned={k: e.data for k, e in done.items()},
        )

    def refuse_missing_rights(self, command: str, plan_: ConnectorPlan) -> None:
        """Refuse, before anything changes, a ``command`` on ``plan_``'s topics that the
        clusters' ACLs say connshift may not finish (a rollback stops the destination
        connector before it copies back to the source: without WRITE there it would stop
        half-way). What the ACLs cannot show (no DescribeAcls) is not refused here."""
        from connshift.app.permissions import check_permissions

        rights = check_permissions(self.migration.spec, commands=[command], topics=plan_.topics)
        if rights.ok:
            return
        first = rights.missing[0]
        side = next(s for s in rights.sides if s.side == first.side)
        raise KafkaAccessDenied(
            f"{command} of {plan_.name} refused before it changed anything: the {first.side} "
            f"cluster's ACLs do not let {side.principal or 'connshift'} {first.operation} "
            f"{first.resource.describe()}"
            + (f" (and {len(rights.missing) - 1} more)" if len(rights.missing) > 1 else ""),
            why=first.via,
            fix="grant it (`connshift check --permissions` prints every kafka-acls line), "
            f"then rerun: {rights.grants()[0]}",
            cluster=first.side,
            connector=plan_.name,
        )

    def copy_back(self, plan: ConnectorPlan, ends: dict[str, Any]) -> dict[str, int]:
        """Append what the destination connector produced to the source topics; extend
        the forward maps so sync will not copy those records back again."""
        m = self.migration
        moved: dict[str, int] = {}
        for key in ends:
            topic, _, part = key.rpartition("/")
            p = int(part)
            found = m.maps.get(topic, p, dst_topic=plan.topic_map.get(topic))
            if found is None:
                continue
            dst_topic, pmap = found.dst_topic, found.map
            _, src_high = m.src.watermarks(topic, p)
            if src_high != pmap.src_next:
                raise CutoverRefused(
                    f"source topic {topic}[{p}] changed since the cutover "
                    f"(end {src_high}, copied up to {pmap.src_next})",
                    why="another producer wrote to it; copying back would interleave",
                    fix="stop that producer; then rerun the rollback",
                    topic=topic,
                )
            delta = list(m.dst.read(dst_topic, p, pmap.dst_next, None, isolation="read_committed"))
            if not delta:
                moved[f"{topic}[{p}]"] = 0
                continue
            with m.src.open_producer({"enable.idempotence": True, "acks": "all"}) as producer:
                for r in delta:
                    headers: Any = r.headers
                    producer.produce(topic, r.value, r.key, p, None, None, r.timestamp, headers)
                producer.flush(60, what=f"could not copy records back to {topic}[{p}]", topic=topic)
            # the source now holds them at [src_high, src_high + n): map them onto the
            # destination records they came from
            for r in delta:
                pmap.append(pmap.src_next, r.offset, 1)
            m.store.replace(topic, p, dst_topic, pmap)
            m.mirror.publish([PartitionState(topic, p, dst_topic, pmap, target=None)])
            moved[f"{topic}[{p}]"] = len(delta)
        m.mirror.close()
        return moved

    def server_keys(
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

    def reverse_sink_offsets(
        self, plan: ConnectorPlan, dst_offsets: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A sink's destination positions, translated back onto the source topics they
        were copied from (through the plan's topic map and sync's exact maps)."""
        out = []
        for entry in dst_offsets:
            part = entry.get("partition", {})
            dst_topic, p = part.get("kafka_topic"), int(part.get("kafka_partition", 0))
            topic = plan.source_topic(str(dst_topic))
            if topic is None:
                continue  # offsets of other topics this group once read on the destination
            pos = int(entry.get("offset", {}).get("kafka_offset", 0))
            # a sync --follow may not have checkpointed the latest copies yet: wait for it
            deadline = time.monotonic() + self.timeouts.catch_up_timeout_seconds
            while True:
                found = self.migration.maps.get(topic, p, dst_topic=str(dst_topic))
                source_pos = found.map.reverse_position(pos) if found else None
                if source_pos is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
                self.migration.maps.refresh()
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


def change_lsn(value: bytes | None) -> int | None:
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


def status(migration: Migration) -> dict[str, Any]:
    """The journal, per connector: latest attempt and its steps."""
    journal = migration.journal
    out = {}
    for name in journal.connectors():
        attempt = journal.attempt(name)
        entries = journal.attempt_entries(name, attempt)
        out[name] = {
            "attempt": attempt,
            "rolled_back": ended(journal, name, attempt),
            "entries": [
                {"kind": e.kind, "step": e.step, "status": e.status, "at": e.at, "error": e.error}
                for e in entries
            ],
        }
    return {"schema": "connshift.status/1", "connectors": out}
