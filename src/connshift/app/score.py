"""``connshift score``: the readiness scorecard computed from recorded evidence.

Reads ``<state_dir>/evidence/*.json`` (what inventory, probe, review, plan, sync,
validate, acls, baseline, cost and rehearse recorded), the cutover journal and what the
spec declares; hands them to :func:`connshift.core.score.score`; records the result as
``score`` evidence. ``cutover`` calls :func:`gate` before it moves anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connshift.core.evidence import EvidenceSet
from connshift.core.score import Declared, Inputs, JournalFacts, Scorecard, score
from connshift.core.spec import Spec
from connshift.io.evidence import EvidenceStore


def declared(spec: Spec) -> Declared:
    """What the spec declares explicitly (defaults do not count as declarations)."""
    r = spec.readiness
    criteria = frozenset(
        k for k in r.criteria.model_fields_set if getattr(r.criteria, k) not in (None, [])
    )
    return Declared(
        criteria=criteria,
        stop_conditions=len([c for c in r.criteria.stop_conditions if c.strip()]),
        rollback_window="rollback_window_hours" in spec.cutover.model_fields_set,
        worker_boundary=r.target.worker_boundary,
        storage_model=r.target.storage_model,
        network=r.target.network,
        authentication=(authentication(spec.source.kafka), authentication(spec.destination.kafka)),
    )


def authentication(kafka: Any) -> str | None:
    """How a side's Kafka clients prove who they are (None: they do not)."""
    if kafka.sasl is not None:
        return f"{kafka.security_protocol} {kafka.sasl.mechanism}"
    if kafka.tls is not None and kafka.tls.cert_file:
        return "SSL client certificate"
    return None


def journal_facts(state_dir: str | Path) -> dict[str, JournalFacts]:
    """Per connector: a verified cutover, a finished rollback, a forced gate."""
    path = Path(state_dir) / "journal.db"
    if not path.exists():
        return {}
    from connshift.io.journal import Journal

    out: dict[str, JournalFacts] = {}
    with Journal(path) as journal:
        for name in journal.connectors():
            entries = journal.entries(name)
            out[name] = JournalFacts(
                verified=any(
                    e.kind == "cutover" and e.step == "verify" and e.status == "done"
                    for e in entries
                ),
                rolled_back=any(
                    e.kind == "rollback" and e.step == "resume-source" and e.status == "done"
                    for e in entries
                ),
                forced=any(e.kind == "gate" and e.status == "forced" for e in entries),
            )
    return out


def inputs(spec: Spec) -> Inputs:
    """Everything the scorecard of ``spec`` is computed from."""
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    evidence = EvidenceSet.from_json(
        {kind: ev.data for kind, ev in store.all().items() if kind != "score"}
    )
    return Inputs(evidence=evidence, declared=declared(spec), journal=journal_facts(spec.state_dir))


def run_score(spec: Spec, *, record: bool = True) -> Scorecard:
    """Compute the scorecard; record it as ``score`` evidence unless ``record`` is False."""
    card = score(inputs(spec))
    if record:
        EvidenceStore(spec.state_dir, spec_name=spec.name).record("score", card.to_json())
    return card


def gate(spec: Spec, connectors: list[str]) -> dict[str, list[dict[str, Any]]]:
    """What blocks cutting over each of ``connectors`` (empty lists: nothing blocks)."""
    card = run_score(spec, record=False)
    return {name: card.blockers_for(name) for name in connectors}


def gate_workers(spec: Spec, *, force: bool, dry_run: bool) -> None:
    """``cutover --repoint-workers`` moves every connector: refuse it while an estate row is
    at 0, unless forced (then the override is journaled under ``(repoint-workers)``)."""
    blockers = [b for b in run_score(spec, record=False).blockers() if b["scope"] == "estate"]
    if not blockers or dry_run:
        return
    rows = ", ".join(b["row"] for b in blockers)
    if not force:
        from connshift.app.cutover import CutoverRefused

        raise CutoverRefused(
            f"the readiness scorecard blocks repointing the workers: {len(blockers)} estate "
            f"row(s) at 0 ({rows})",
            why=blockers[0]["why"],
            fix="record the missing evidence (`connshift score` shows each row and the "
            "command that fills it), or pass --force (it is recorded in the journal)",
        )
    from connshift.io.journal import Journal

    with Journal(Path(spec.state_dir) / "journal.db") as journal:
        journal.record(REPOINT, 0, "gate", "scorecard", "forced", {"blockers": blockers})


#: the journal's connector name for a forced ``--repoint-workers``
REPOINT = "(repoint-workers)"
