"""``connshift decide``: which migration path the measured pressure favours.

Reads the evidence store (inventory, review, probe-destination, baseline-before or
baseline-after, cost), scores the three paths with :mod:`connshift.core.decide` and records
the result as ``decision`` evidence.
"""

from __future__ import annotations

from typing import Any

from connshift.core.decide import Decision, Source, decide
from connshift.core.spec import Spec
from connshift.errors import UsageError
from connshift.io.evidence import EvidenceStore, Warn, try_record_evidence

#: baselines in the order they are read: the estate before the move first
BASELINE_KINDS = ("baseline-before", "baseline-after")


def _source(store: EvidenceStore, kind: str) -> Source | None:
    found = store.load(kind)
    if found is None:
        return None
    return Source(kind=kind, path=f"evidence/{found.path.name}", data=found.data)


def compute_decision(spec: Spec) -> Decision:
    """Decide from the spec's recorded evidence (no evidence is written)."""
    store = EvidenceStore(spec.state_dir, spec_name=spec.name)
    inventory = _source(store, "inventory")
    if inventory is None or not isinstance(inventory.data.get("topics"), list):
        raise UsageError(
            "no inventory evidence to decide from",
            why=f"{store.path('inventory')} is missing or unreadable",
            fix="run `connshift inventory` first (then `connshift review` and `connshift cost`)",
        )
    baseline = next(
        (
            s
            for s in (_source(store, kind) for kind in BASELINE_KINDS)
            if s is not None and isinstance(s.data.get("summary"), dict)
        ),
        None,
    )
    target = spec.readiness.target
    return decide(
        inventory,
        review=_source(store, "review"),
        probe=_source(store, "probe-destination"),
        baseline=baseline,
        cost=_source(store, "cost"),
        declared_target=target.model_dump(mode="json"),
    )


def run_decide(spec: Spec, *, warn: Warn | None = None) -> dict[str, Any]:
    """``connshift decide``: decide and record the result as ``decision`` evidence (an
    unwritable state directory costs the evidence, not the result: one line to ``warn``)."""
    data = compute_decision(spec).to_json()
    try_record_evidence(spec, "decision", data, warn=warn)
    return data
