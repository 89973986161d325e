"""``connshift rehearse``: one connector's whole migration, forwards and back, on a
rehearsal target, recorded as evidence.

The target is a spec whose source Connect cluster runs the connector (the sandbox's spec
by default). The rehearsal works in its own state directory
(``<state_dir>/rehearsals/<connector>``) and copies the connector's topics to the target's
destination under the prefix ``rehearsal-<connector>.``, so it never touches the real
migration's offset maps or destination topics. It runs

    sync → validate → cutover → validate → rollback → validate

stops at the first failing step (a failed cutover is rolled back), removes its destination
copies, and records ``rehearsal-<connector>`` evidence in the *migration's* state directory:
the scorecard lifts the rows it tested to 2.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.app.context import Migration
from connshift.core.plan import ConnectorPlan
from connshift.core.spec import Spec
from connshift.errors import ConfigError, ConnshiftError
from connshift.io.evidence import record_evidence

SCHEMA = "connshift.rehearsal/1"
Reporter = Callable[[str], None]

STEPS = (
    "sync",
    "validate",
    "cutover",
    "validate-after-cutover",
    "rollback",
    "validate-after-rollback",
)


@dataclass
class StepResult:
    step: str
    ok: bool
    seconds: float
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "summary": self.summary,
            "data": self.data,
        }


@dataclass
class Rehearsal:
    connector: str
    target: str
    prefix: str
    state_dir: str
    steps: list[StepResult] = field(default_factory=list)
    cleanup: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        done = {s.step for s in self.steps if s.ok}
        return all(s in done for s in STEPS)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "connector": self.connector,
            "target": self.target,
            "prefix": self.prefix,
            "state_dir": self.state_dir,
            "ok": self.ok,
            "steps": [s.to_json() for s in self.steps],
            "not_run": [s for s in STEPS if s not in {r.step for r in self.steps}],
            "cleanup": self.cleanup,
        }


def rehearsal_prefix(connector: str) -> str:
    """The destination topic prefix of a connector's rehearsal (a valid topic-name part)."""
    return "rehearsal-" + re.sub(r"[^A-Za-z0-9_-]", "-", connector)[:100] + "."


def sandbox_target() -> tuple[Spec, str]:
    """The sandbox's spec, when the sandbox is up (the default rehearsal target)."""
    from connshift.app.sandbox import Sandbox, sandbox_spec_text
    from connshift.core.spec import parse_spec

    sb = Sandbox()
    info = sb.status()
    if not info.healthy:
        down = [s.name for s in info.services if not s.healthy] or ["every service"]
        raise ConfigError(
            "the rehearsal target (the sandbox) is not running",
            why=f"not healthy: {', '.join(down)}",
            fix="start it with `connshift sandbox up`, or pass --target SPEC (a staging spec)",
        )
    import yaml

    text = sandbox_spec_text(sb)
    spec = parse_spec(yaml.safe_load(text), env={}, read_file=lambda _p: "")
    return spec, "sandbox"


def _rehearsal_spec(
    target: Spec, state_dir: Path, prefix: str, topics_of: list[str] | None = None
) -> Spec:
    update: dict[str, Any] = {"prefix": prefix, "rename": {}}
    if topics_of:
        update |= {"include": [re.escape(t) for t in topics_of], "exclude": []}
    topics = target.topics.model_copy(update=update)
    cutover = target.cutover.model_copy(update={"run_sync": True})
    return target.model_copy(
        update={"state_dir": str(state_dir), "topics": topics, "cutover": cutover}
    )


def _drop_copies(migration: Migration, topics: list[str], report: Reporter) -> list[str]:
    """Delete the rehearsal's destination topics and their mirrored maps."""
    from connshift.app.sync import drop_destination_copies

    return drop_destination_copies(migration, topics, report, why="rehearsal copy")


def rehearse(
    spec: Spec,
    connector: str,
    *,
    target: Spec | None = None,
    target_label: str | None = None,
    report: Reporter = lambda _m: None,
) -> Rehearsal:
    """Rehearse ``connector``'s migration on ``target`` (default: the sandbox) and record
    the result as ``rehearsal-<connector>`` evidence of ``spec``."""
    from connshift.app import cutover as mover

    if target is None:
        target, label = sandbox_target()
    else:
        label = target_label or target.name
    prefix = rehearsal_prefix(connector)
    state_dir = Path(spec.state_dir) / "rehearsals" / re.sub(r"[^A-Za-z0-9._-]", "_", connector)
    rspec = _rehearsal_spec(target, state_dir, prefix)
    try:
        with Migration(rspec) as probe_target:
            plans = mover.plan(probe_target, [connector])
    except mover.CutoverRefused as exc:
        raise mover.CutoverRefused(
            f"cannot rehearse {connector}: it is not on the rehearsal target's source Connect "
            f"cluster ({label})",
            why=exc.why,
            fix="create a copy of the connector there (same class and config, a staging "
            "upstream), or pass --target SPEC pointing at where it runs",
            connector=connector,
        ) from exc
    plan = plans[0]
    rspec = _rehearsal_spec(target, state_dir, prefix, plan.topics)
    result = Rehearsal(connector, label, prefix, str(state_dir))
    # every rehearsal starts from nothing: no state, no destination copies
    if state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    with Migration(rspec) as rehearsal:
        _rehearse(rehearsal, plan, result, report)
    record_evidence(spec, f"rehearsal-{connector}", result.to_json())
    return result


def _rehearse(
    rehearsal: Migration, plan: ConnectorPlan, result: Rehearsal, report: Reporter
) -> None:
    """sync, validate, cutover, validate, rollback, validate, clean up — on ``rehearsal``."""
    from connshift.app import cutover as mover
    from connshift.app.sync import SyncOptions, sync
    from connshift.app.validate import validate

    connector, prefix, target = plan.name, result.prefix, rehearsal.spec
    _drop_copies(rehearsal, plan.topics, report)
    topic_filter = [re.escape(t) for t in plan.topics]

    def step(name: str, action: Callable[[], tuple[bool, str, dict[str, Any]]]) -> bool:
        report(f"rehearsal of {connector}: {name}")
        started = time.monotonic()
        try:
            ok, summary, data = action()
        except ConnshiftError as exc:
            ok, summary, data = False, exc.one_line(), {}
        result.steps.append(StepResult(name, ok, time.monotonic() - started, summary, data))
        return ok

    def run_sync() -> tuple[bool, str, dict[str, Any]]:
        if not plan.topics:
            return True, "the connector names no topic: nothing to copy", {}
        res = sync(rehearsal, SyncOptions(topics=topic_filter))
        return (
            True,
            f"copied {res.records} records of {', '.join(plan.topics)} to the prefix {prefix}",
            {"records": res.records, "seconds": round(res.seconds, 2)},
        )

    def run_validate() -> tuple[bool, str, dict[str, Any]]:
        if not plan.topics:
            return True, "no topic to validate", {}
        res = validate(rehearsal, topic_filter)
        data = res.to_json()
        failed = [f"{c['id']} {c['subject']}" for c in data["checks"] if c["status"] == "FAIL"]
        counts = data["tally"]
        if failed:
            return False, f"{len(failed)} check(s) failed: {', '.join(failed[:3])}", data
        return True, f"{counts['PASS']} check(s) passed", data

    def run_cutover() -> tuple[bool, str, dict[str, Any]]:
        # a rehearsal target is not gated: rehearsing is how the gate's rows get filled
        res = mover.Mover(rehearsal, report=report, blockers={}).cutover([plan])
        pause = res.pause_seconds.get(connector)
        verify = next((s for s in res.steps if s.step == "verify"), None)
        summary = (
            f"cut over to {target.destination.connect.url if target.destination.connect else '?'}"
        )
        if pause is not None:
            summary += f", paused {pause:.1f}s"
        if verify is not None:
            summary += f"; verify: {verify.detail}"
        return True, summary, {"pause_seconds": pause}

    def run_rollback() -> tuple[bool, str, dict[str, Any]]:
        res = mover.Mover(rehearsal, report=report).rollback([plan.name], force=True)
        done = [s.step for s in res.steps if s.status == "done"]
        return True, f"rolled back ({len(done)} steps)", {"steps": done}

    ok = step("sync", run_sync) and step("validate", run_validate)
    if ok:
        cut = step("cutover", run_cutover)
        if cut:
            step("validate-after-cutover", run_validate)
        # roll back whether or not the cutover or its validation passed: the rehearsal
        # must leave the connector where it found it
        if (cut or _cutover_started(rehearsal, connector)) and step("rollback", run_rollback):
            step("validate-after-rollback", run_validate)
    try:
        result.cleanup["dropped_topics"] = _drop_copies(rehearsal, plan.topics, report)
    except ConnshiftError as exc:
        result.cleanup["error"] = exc.one_line()


def _cutover_started(migration: Migration, connector: str) -> bool:
    """Did a cutover attempt get past the point where the source connector stopped?"""
    return any(
        e.kind == "cutover" and e.step == "stop-source" and e.status == "done"
        for e in migration.journal.entries(connector)
    )
