"""The readiness scorecard: one row per evidence area, each 0, 1 or 2, from artifacts.

A row scores

* **0 — unknown**: nothing recorded speaks to it;
* **1 — documented, not tested**: the spec or an artifact describes it, but no check
  proved it (or the last check found problems: the row says which);
* **2 — tested**: a check ran against a real environment (the rehearsal target counts)
  and passed.

Every row names the evidence files it was computed from. Nothing here is typed in: the
inputs are the recorded results of connshift's own commands (``<state_dir>/evidence``),
the cutover journal and what the spec declares. Any row at 0 blocks: ``score`` exits 1
and ``cutover`` refuses unless forced.

Pure: no I/O. :mod:`connshift.app.score` gathers the inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connshift.core.evidence import (
    Acls,
    BaselineCompare,
    CheckStatus,
    Cost,
    EvidenceSet,
    Finding,
    Inventory,
    InventoryConnector,
    PlannedConnector,
    Probe,
    Reachability,
    Rehearsal,
    Review,
    Validate,
)
from connshift.core.evidence import Plan as PlanEvidence

SCHEMA = "connshift.score/1"

#: (id, title) of the estate rows, in the order they are shown
ROWS: tuple[tuple[str, str], ...] = (
    ("compatibility", "Compatibility inventory"),
    ("offsets", "Offset and resume plan"),
    ("topics", "Topic and retention review"),
    ("security", "Security and network boundary"),
    ("criteria", "Failure and rollback criteria"),
    ("observability", "Observability baseline"),
    ("cost", "Cost"),
    ("dest.kafka", "Destination: Kafka compatibility"),
    ("dest.workers", "Destination: worker boundary"),
    ("dest.storage", "Destination: storage model"),
    ("dest.network", "Destination: network control"),
    ("dest.cutover", "Destination: cutover evidence"),
)
TITLES = dict(ROWS)
#: rows that are also scored per connector
CONNECTOR_ROWS = ("compatibility", "offsets", "topics", "criteria", "dest.workers", "dest.cutover")

#: review findings that say the destination worker cannot run a connector
_PLUGIN_FINDINGS = {
    "connector.plugin-missing",
    "connector.class-missing",
    "connector.plugin-version-drift",
}


def relied_failures(probe: Probe) -> dict[str, list[str]]:
    """Failed probe checks the estate relies on (:meth:`Probe.relied_failures`)."""
    return probe.relied_failures()


def _ev(kind: str) -> str:
    return f"evidence/{kind}.json"


JOURNAL = "journal.db"


@dataclass(frozen=True)
class Row:
    """One scorecard row."""

    id: str
    score: int
    why: str
    evidence: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return TITLES[self.id]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "why": self.why,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Declared:
    """What the spec declares (explicitly) for the rows a document answers."""

    criteria: frozenset[str] = frozenset()
    stop_conditions: int = 0
    rollback_window: bool = False
    worker_boundary: str | None = None
    storage_model: str | None = None
    network: str | None = None
    #: (source, destination): how each side's clients authenticate ("SASL_SSL SCRAM-SHA-512",
    #: "SSL client certificate"); None for a side that does not
    authentication: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class JournalFacts:
    """What the cutover journal says about one connector."""

    verified: bool = False  # a cutover reached `verify` and passed it
    rolled_back: bool = False  # a rollback finished
    forced: bool = False  # a cutover ran with --force past a blocking scorecard


@dataclass(frozen=True)
class Pilot:
    connector: str
    shape: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"connector": self.connector, "shape": self.shape, "why": self.why}


@dataclass
class Scorecard:
    estate: list[Row]
    connectors: dict[str, list[Row]]
    pilots: list[Pilot] = field(default_factory=list)

    def blockers(self) -> list[dict[str, str]]:
        out = [{"scope": "estate", "row": r.id, "why": r.why} for r in self.estate if r.score == 0]
        for name, rows in self.connectors.items():
            out += [{"scope": name, "row": r.id, "why": r.why} for r in rows if r.score == 0]
        return out

    def blockers_for(self, connector: str) -> list[dict[str, str]]:
        """What blocks cutting over ``connector``: estate rows at 0 and its own rows at 0."""
        return [b for b in self.blockers() if b["scope"] in ("estate", connector)]

    @property
    def ok(self) -> bool:
        return not self.blockers()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ok": self.ok,
            "blockers": self.blockers(),
            "estate": {"rows": [r.to_json() for r in self.estate]},
            "connectors": {
                n: {"rows": [r.to_json() for r in rs]} for n, rs in self.connectors.items()
            },
            "pilots": [p.to_json() for p in self.pilots],
        }


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """Everything a scorecard is computed from. ``evidence`` is given as the recorded files
    by kind or as the :class:`~connshift.core.evidence.EvidenceSet` of them; it is parsed
    once, into :attr:`ev` (``evidence`` then holds the files by kind)."""

    evidence: Mapping[str, Mapping[str, Any]] | EvidenceSet
    declared: Declared = Declared()
    journal: Mapping[str, JournalFacts] = field(default_factory=dict)
    #: ``evidence``, typed
    ev: EvidenceSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        typed = EvidenceSet.from_json(self.evidence)
        object.__setattr__(self, "ev", typed)
        object.__setattr__(self, "evidence", typed.raw)

    # a kind recorded with nothing in it reads as not recorded
    @property
    def inventory(self) -> Inventory | None:
        return self.ev.inventory if self.ev.recorded("inventory") else None

    @property
    def plan(self) -> PlanEvidence | None:
        return self.ev.plan if self.ev.recorded("plan") else None

    @property
    def review(self) -> Review | None:
        return self.ev.review if self.ev.recorded("review") else None

    @property
    def probe(self) -> Probe | None:
        """The destination's probe."""
        return self.ev.probe_destination if self.ev.recorded("probe-destination") else None

    @property
    def validate(self) -> Validate | None:
        return self.ev.validate if self.ev.recorded("validate") else None

    @property
    def check(self) -> Reachability | None:
        return self.ev.check if self.ev.recorded("check") else None

    @property
    def acls(self) -> Acls | None:
        return self.ev.acls if self.ev.recorded("acls") else None

    @property
    def compare(self) -> BaselineCompare | None:
        return self.ev.baseline_compare if self.ev.recorded("baseline-compare") else None

    @property
    def cost(self) -> Cost | None:
        return self.ev.cost if self.ev.recorded("cost") else None

    def connectors(self) -> list[str]:
        """The connectors in scope: the plan's, else the inventory's, plus any rehearsed."""
        names: list[str] = []
        if self.plan:
            names = [str(c.name) for c in self.plan.connectors if c.name]
        if not names:
            inv = self.inventory
            names = [str(c.name) for c in (inv.connectors if inv else ()) if c.name]
        for name in self.rehearsals():
            if name not in names:
                names.append(name)
        return names

    def inventory_connector(self, name: str) -> InventoryConnector | None:
        return self.inventory.connector(name) if self.inventory else None

    def plan_of(self, name: str) -> PlannedConnector | None:
        return self.plan.connector(name) if self.plan else None

    def rehearsal(self, name: str) -> Rehearsal | None:
        return self.rehearsals().get(name)

    def rehearsals(self) -> dict[str, Rehearsal]:
        """Rehearsals by connector name (the file name may be a sanitized form of it)."""
        return {r.connector: r for r in self.ev.rehearsals.values()}

    def findings(self, ids: set[str] | None = None, prefix: str = "") -> list[Finding]:
        out = []
        for f in self.review.findings if self.review else ():
            fid = f.id if f.id is not None else ""
            if ids is not None and fid not in ids:
                continue
            if prefix and not fid.startswith(prefix):
                continue
            out.append(f)
        return out


def _step_ok(rehearsal: Rehearsal | None, step: str) -> bool:
    return rehearsal is not None and rehearsal.passed(step)


def _or(value: int | None, default: object) -> object:
    """``value``, or ``default`` when the file does not say."""
    return default if value is None else value


#: a connector's (and a task's) state when it runs
_RUNNING = "RUNNING"


def _names(items: Sequence[Any], limit: int = 4) -> str:
    shown = [str(i) for i in items[:limit]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------- estate rows


def _compatibility(i: Inputs) -> Row:
    if not i.inventory:
        return Row("compatibility", 0, "no inventory recorded: run `connshift inventory`")
    ev: tuple[str, ...] = (_ev("inventory"),)
    probe = i.probe
    if not probe:
        return Row(
            "compatibility",
            1,
            "inventory taken; the destination was never probed: run `connshift probe`",
            ev,
        )
    ev += (_ev("probe-destination"),)
    needed = relied_failures(probe)
    if needed:
        return Row(
            "compatibility",
            1,
            f"the destination fails checks the estate relies on: {_names(sorted(needed))}",
            ev,
        )
    if not i.review:
        return Row(
            "compatibility",
            1,
            "inventory and probe recorded; plugins on the destination worker not reviewed: "
            "run `connshift review`",
            ev,
        )
    ev += (_ev("review"),)
    missing = i.findings(_PLUGIN_FINDINGS)
    if missing:
        subjects = sorted({str(f.subject) for f in missing})
        return Row(
            "compatibility",
            1,
            f"plugins missing or drifting on the destination worker: {_names(subjects)}",
            ev,
        )
    return Row(
        "compatibility",
        2,
        "inventory taken, destination probed: every check the estate relies on passed, "
        "every plugin present at the same version",
        ev,
    )


def _offsets(i: Inputs) -> Row:
    if not i.plan:
        return Row("offsets", 0, "no plan recorded: run `connshift plan`")
    ev: tuple[str, ...] = (_ev("plan"),)
    validate = i.validate
    if not validate:
        return Row(
            "offsets",
            1,
            "plan recorded (offset strategy per connector); offsets never validated: "
            "run `connshift sync` then `connshift validate`",
            ev,
        )
    ev += (_ev("validate"),)
    if not validate.ok:
        failed = [c.id for c in validate.checks if c.failed]
        return Row(
            "offsets",
            1,
            f"the last validate failed ({_names(sorted({str(f) for f in failed}))})",
            ev,
        )
    return Row(
        "offsets",
        2,
        "plan recorded and validate passed: records and group positions match through the "
        "exact offset map",
        ev,
    )


def _topics(i: Inputs) -> Row:
    if not i.review:
        return Row("topics", 0, "no review recorded: run `connshift review`")
    ev = (_ev("review"),)
    high = [f for f in i.findings(prefix="topic.") if f.high]
    if high:
        return Row(
            "topics",
            1,
            f"{len(high)} high topic finding(s) open: "
            f"{_names(sorted({str(f.id) + ' ' + str(f.subject) for f in high}))}",
            ev,
        )
    return Row("topics", 2, "topics reviewed: no high finding on retention, durability or keys", ev)


def _security(i: Inputs) -> Row:
    """2 only from the secured path: both sides reached with their mechanisms, the
    permissions check passed, ACLs diffed (under an authorizer) with none missing, no high
    security finding. An estate without authentication is 1: nothing to carry over."""
    check, acls, review = i.check, i.acls, i.review
    ev = tuple(_ev(k) for k, v in (("check", check), ("acls", acls), ("review", review)) if v)
    if not ev:
        return Row(
            "security",
            0,
            "nothing recorded about access: run `connshift check --permissions`, "
            "`connshift acls diff` and `connshift review`",
        )
    src_auth, dst_auth = i.declared.authentication
    if src_auth is None:
        return Row(
            "security",
            1,
            "the source estate has no authentication (no SASL, no client certificate): "
            "nothing to carry over; no secured path was tested",
            ev,
        )
    gaps: list[str] = []
    if dst_auth is None:
        gaps.append("the destination is reached without authentication")
    if not check:
        gaps.append("clusters not checked (`connshift check --permissions`)")
    elif not check.ok:
        gaps.append("`connshift check` failed (a cluster or worker, or a permission)")
    elif check.permissions_ok is None:
        gaps.append("permissions not checked (`connshift check --permissions`)")
    elif not check.permissions_complete:
        gaps.append("some permissions could not be verified (no DescribeAcls)")
    if not acls:
        gaps.append("ACLs not compared (`connshift acls diff`)")
    else:
        if acls.missing:
            gaps.append(f"{len(acls.missing)} ACL(s) missing on the destination")
        if acls.not_carried:
            gaps.append(
                f"{len(acls.not_carried)} source ACL(s) not carried to the destination "
                "(`connshift acls diff` says why)"
            )
    high = [f for f in i.findings(prefix="security.") if f.high]
    if not review:
        gaps.append("security mapping not reviewed (`connshift review`)")
    elif high:
        gaps.append(f"{len(high)} high security finding(s)")
    if gaps:
        return Row("security", 1, "; ".join(gaps), ev)
    return Row(
        "security",
        2,
        f"both clusters reached on the secured path ({src_auth} / {dst_auth}), every "
        "permission connshift needs verified, every ACL present on the destination, no "
        "high security finding",
        ev,
    )


_CRITERIA_PARTS = {
    "lag threshold (readiness.criteria.max_lag_records or max_lag_seconds)": (
        "max_lag_records",
        "max_lag_seconds",
    ),
    "duplicate check (readiness.criteria.max_duplicates)": ("max_duplicates",),
    "missing-record check (readiness.criteria.max_missing)": ("max_missing",),
}


def _criteria_missing(d: Declared) -> list[str]:
    missing = [what for what, keys in _CRITERIA_PARTS.items() if not d.criteria & set(keys)]
    if d.stop_conditions == 0:
        missing.append("stop conditions (readiness.criteria.stop_conditions)")
    if not d.rollback_window:
        missing.append("rollback window (cutover.rollback_window_hours)")
    return missing


def _rollback_proven(rehearsal: Rehearsal | None) -> bool:
    return _step_ok(rehearsal, "rollback") and _step_ok(rehearsal, "validate-after-rollback")


def _criteria(i: Inputs, connector: str | None = None) -> Row:
    missing = _criteria_missing(i.declared)
    if missing:
        return Row("criteria", 0, "not declared in the spec: " + "; ".join(missing))
    if connector is not None:
        rehearsed = {connector: i.rehearsal(connector)} if i.rehearsal(connector) else {}
    else:
        rehearsed = dict(i.rehearsals())
    proven = sorted(n for n, r in rehearsed.items() if _rollback_proven(r))
    facts = [i.journal.get(connector)] if connector else list(i.journal.values())
    journaled = any(f is not None and f.rolled_back for f in facts)
    if proven:
        return Row(
            "criteria",
            2,
            f"criteria declared; rollback rehearsed and validated for {_names(proven)}",
            tuple(_ev(f"rehearsal-{n}") for n in proven),
        )
    if journaled:
        return Row(
            "criteria",
            2,
            "criteria declared; a rollback ran to its end (journal)",
            (JOURNAL,),
        )
    return Row(
        "criteria",
        1,
        "criteria declared in the spec; rollback never exercised: run `connshift rehearse`",
    )


def _observability(i: Inputs) -> Row:
    before, after, compare = (
        i.ev.recorded("baseline-before"),
        i.ev.recorded("baseline-after"),
        i.compare,
    )
    if not before and not after:
        return Row(
            "observability",
            0,
            "no baseline recorded: run `connshift baseline --label before`",
        )
    ev = tuple(
        _ev(k)
        for k, v in (
            ("baseline-before", before),
            ("baseline-after", after),
            ("baseline-compare", compare),
        )
        if v
    )
    if not compare:
        return Row(
            "observability",
            1,
            "a baseline is recorded but no before/after comparison: run `connshift baseline "
            "--label after` then `connshift baseline compare`",
            ev,
        )
    if not compare.ok:
        what = sorted({f"{r.metric} {r.subject}" for r in compare.regressions})
        return Row("observability", 1, f"baseline compare found regressions: {_names(what)}", ev)
    return Row("observability", 2, "baselines before and after compared: no regression", ev)


def _cost(i: Inputs) -> Row:
    cost = i.cost
    if not cost:
        return Row("cost", 0, "no cost lines recorded: run `connshift cost`")
    ev = (_ev("cost"),)
    unowned = list(cost.recorded_unowned)
    if unowned:
        return Row(
            "cost",
            1,
            f"cost lines computed; {len(unowned)} without an owner in the spec: "
            f"{_names(unowned)} (readiness.cost.owners)",
            ev,
        )
    return Row(
        "cost", 2, "cost lines computed from measured inventory figures, every line owned", ev
    )


def _dest_kafka(i: Inputs) -> Row:
    probe = i.probe
    if not probe:
        return Row("dest.kafka", 0, "the destination was never probed: run `connshift probe`")
    ev = (_ev("probe-destination"),)
    needed = relied_failures(probe)
    passed, failed = probe.count(CheckStatus.PASS), probe.count(CheckStatus.FAIL)
    if needed:
        return Row(
            "dest.kafka",
            1,
            f"probe: {_or(failed, '?')} FAIL, of which the estate relies on "
            f"{_names(sorted(needed))}",
            ev,
        )
    return Row(
        "dest.kafka",
        2,
        f"probe: {_or(passed, '?')} PASS, {_or(failed, 0)} FAIL (none the estate relies on)",
        ev,
    )


def _dest_workers(i: Inputs, connector: str | None = None) -> Row:
    boundary = i.declared.worker_boundary
    if boundary is None:
        return Row(
            "dest.workers",
            0,
            "worker boundary not declared (readiness.target.worker_boundary: self-managed, "
            "managed or staged)",
        )
    ran = _ran_on_destination(i, connector)
    if ran:
        return Row(
            "dest.workers",
            2,
            f"{boundary} workers; {_names(sorted(ran))} ran on the destination worker",
            _ran_evidence(i, ran),
        )
    return Row(
        "dest.workers",
        1,
        f"declared {boundary}; no connector has run on the destination worker yet: "
        "run `connshift rehearse`",
    )


def _ran_evidence(i: Inputs, ran: set[str]) -> tuple[str, ...]:
    """The files showing ``ran`` ran on the destination: each passing rehearsal, and the
    journal when it holds a verified cutover of one of them."""
    ev = tuple(_ev(f"rehearsal-{n}") for n in sorted(ran) if _step_ok(i.rehearsal(n), "cutover"))
    if any((f := i.journal.get(n)) is not None and f.verified for n in ran):
        ev += (JOURNAL,)
    return ev


def _ran_on_destination(i: Inputs, connector: str | None) -> set[str]:
    names = [connector] if connector else i.connectors()
    out = set()
    for n in names:
        facts = i.journal.get(n)
        if _step_ok(i.rehearsal(n), "cutover") or (facts is not None and facts.verified):
            out.add(n)
    return out


def _dest_storage(i: Inputs) -> Row:
    model = i.declared.storage_model
    if model is None:
        return Row(
            "dest.storage",
            0,
            "storage model not declared (readiness.target.storage_model: shared-nothing or "
            "shared-storage)",
        )
    probe = i.probe
    if not probe:
        return Row(
            "dest.storage",
            1,
            f"declared {model}; the destination's storage behaviour (retention, compaction, "
            "log dirs) never probed: run `connshift probe`",
        )
    storage_checks = [c for c in probe.checks if c.id in _STORAGE]
    failed = [str(c.id) for c in storage_checks if c.failed]
    if failed:
        return Row(
            "dest.storage",
            1,
            f"declared {model}; storage checks failed on the destination: {_names(failed)}",
            (_ev("probe-destination"),),
        )
    if not any(c.passed for c in storage_checks):
        return Row(
            "dest.storage",
            1,
            f"declared {model}; the recorded probe passed no storage check (retention, "
            "compaction, log dirs): run `connshift probe`",
            (_ev("probe-destination"),),
        )
    return Row(
        "dest.storage",
        2,
        f"declared {model}; compaction, retention and log-dir checks passed on the destination",
        (_ev("probe-destination"),),
    )


#: probe checks that speak to the storage model
_STORAGE = {
    "compaction.honoured",
    "records.delete",
    "logdirs.describe",
    "configs.describe-alter",
    "message.max-size",
}


def _dest_network(i: Inputs) -> Row:
    network = i.declared.network
    if network is None:
        return Row(
            "dest.network",
            0,
            "network control not declared (readiness.target.network: same-network, peering, "
            "private-link, vpn or public-internet)",
        )
    check = i.check
    if not check:
        return Row(
            "dest.network",
            1,
            f"declared {network}; reachability never checked: run `connshift check`",
        )
    if not check.ok:
        return Row(
            "dest.network",
            1,
            f"declared {network}; `connshift check` could not reach everything",
            (_ev("check"),),
        )
    return Row(
        "dest.network",
        2,
        f"declared {network}; both clusters and workers reached from the migration host",
        (_ev("check"),),
    )


def _dest_cutover(i: Inputs, connector: str | None = None) -> Row:
    names = [connector] if connector else i.connectors()
    planned = [n for n in names if i.plan_of(n)]
    proven = sorted(_ran_on_destination(i, connector) & set(names))
    if proven:
        return Row(
            "dest.cutover",
            2,
            f"cutover verified (no re-read, no gap) for {_names(proven)}",
            _ran_evidence(i, set(proven)),
        )
    if not planned:
        return Row(
            "dest.cutover",
            0,
            "no cutover planned: run `connshift plan`"
            if connector is None
            else f"{connector} is not in the recorded plan: run `connshift plan`",
        )
    return Row(
        "dest.cutover",
        1,
        "cutover planned; never rehearsed: run `connshift rehearse`",
        (_ev("plan"),),
    )


# --------------------------------------------------------------------------- connector rows


def _connector_compatibility(i: Inputs, name: str) -> Row:
    inv = i.inventory_connector(name)
    if inv is None:
        return Row(
            "compatibility",
            0,
            f"{name} is not in the recorded inventory: run `connshift inventory`",
        )
    ev: tuple[str, ...] = (_ev("inventory"),)
    if not i.review:
        return Row(
            "compatibility",
            1,
            f"inventoried ({inv.cls}); its plugin on the destination not reviewed: "
            "run `connshift review`",
            ev,
        )
    ev += (_ev("review"),)
    own = [f for f in i.findings(_PLUGIN_FINDINGS) if f.subject == name]
    if own:
        return Row("compatibility", 1, "; ".join(str(f.finding) for f in own), ev)
    probe = i.probe
    # the probe names who needs a check as "connector <name>" or "topic <name>"
    labels = {name, f"connector {name}"} | {f"topic {t}" for t in inv.topics}
    needed = {
        cid for cid, who in (probe.needed_failures if probe else {}).items() if labels & set(who)
    }
    if not probe:
        return Row("compatibility", 1, "plugin present; destination never probed", ev)
    ev += (_ev("probe-destination"),)
    if needed:
        return Row(
            "compatibility",
            1,
            f"the destination fails checks it needs: {_names(sorted(needed))}",
            ev,
        )
    return Row(
        "compatibility",
        2,
        "plugin present on the destination worker; every check it needs passed",
        ev,
    )


def _connector_offsets(i: Inputs, name: str) -> Row:
    plan = i.plan_of(name)
    if plan is None:
        return Row("offsets", 0, f"{name} is not in the recorded plan: run `connshift plan`")
    ev: tuple[str, ...] = (_ev("plan"),)
    rehearsal = i.rehearsal(name)
    if _step_ok(rehearsal, "validate-after-cutover"):
        return Row(
            "offsets",
            2,
            f"strategy {plan.strategy}; rehearsal validated its topics after cutover",
            (*ev, _ev(f"rehearsal-{name}")),
        )
    facts = i.journal.get(name)
    validate = i.validate
    if facts is not None and facts.verified and validate and validate.ok:
        return Row(
            "offsets",
            2,
            f"strategy {plan.strategy}; cutover verified and validate passed",
            (*ev, JOURNAL, _ev("validate")),
        )
    return Row(
        "offsets",
        1,
        f"strategy {plan.strategy} planned; resume never tested: run `connshift rehearse {name}`",
        ev,
    )


def _connector_topics(i: Inputs, name: str) -> Row:
    if not i.review:
        return Row("topics", 0, "no review recorded: run `connshift review`")
    inv, plan = i.inventory_connector(name), i.plan_of(name)
    topics = set((inv.topics if inv else ()) or (plan.topics if plan else ()))
    high = [f for f in i.findings(prefix="topic.") if f.high and f.subject in topics]
    if high:
        return Row(
            "topics",
            1,
            f"high findings on its topics: "
            f"{_names(sorted({str(f.id) + ' ' + str(f.subject) for f in high}))}",
            (_ev("review"),),
        )
    return Row("topics", 2, "its topics reviewed: no high finding", (_ev("review"),))


# --------------------------------------------------------------------------- pilots


def _shape_tags(i: Inputs, name: str) -> list[str]:
    inv = i.inventory_connector(name) or InventoryConnector(None, None)
    plan = i.plan_of(name)
    tags = [str(inv.shape or (plan.shape if plan else None) or "unknown")]
    topics = {t.name: t for t in (i.inventory.topics if i.inventory else ())}
    own = [topics[t] for t in inv.topics if t in topics]
    rates = [t.rate_per_second or 0.0 for t in topics.values()]
    own_rate = sum(t.rate_per_second or 0.0 for t in own)
    if rates and own_rate > 0 and own_rate >= max(rates) and "source" in tags[0]:
        tags.append("high-throughput source")
    for t in own:
        ms = t.retention_ms
        if ms is None:
            continue
        if ms < 0 or ms >= 7 * 24 * 3_600_000:
            tags.append("long-retention topic")
            break
    if private_endpoints(inv.config):
        tags.append("private-network dependency")
    return tags


#: config keys that name the upstream or downstream system a connector talks to
_ENDPOINT_KEY = re.compile(r"(^|\.)(hostname|host|hosts|url|uri|connection\.url|endpoint)$")
_LOCAL = ("127.", "localhost", "::1", "[::1]")


def private_endpoints(config: Mapping[str, Any]) -> list[str]:
    """Endpoints a connector reaches beyond this machine (a network path to keep)."""
    out = []
    for key, value in config.items():
        if not _ENDPOINT_KEY.search(str(key)) or not isinstance(value, str) or not value:
            continue
        host = re.sub(r"^[a-z+]+://|^jdbc:[a-z]+://", "", value.strip()).split("/")[0]
        host = host.rsplit("@", 1)[-1]
        if host and not host.startswith(_LOCAL) and "${" not in host:
            out.append(f"{key}={host}")
    return out


def _understanding(i: Inputs, name: str, rows: list[Row]) -> tuple[int, str]:
    """How well a connector's upstream, consumers and rollback path are understood."""
    score = sum(r.score for r in rows)
    reasons = [f"rows {score}/{2 * len(rows)}"]
    inv = i.inventory_connector(name) or InventoryConnector(None, None)
    if inv.state == _RUNNING and all(t == _RUNNING for t in inv.task_states):
        score += 1
        reasons.append("running cleanly")
    topics = set(inv.topics)
    readers = [g.group for g in (i.inventory.groups if i.inventory else ()) if g.reads(topics)]
    if readers:
        score += 1
        reasons.append(f"consumers known ({_names(sorted(str(r) for r in readers), 2)})")
    if _rollback_proven(i.rehearsal(name)):
        score += 2
        reasons.append("rollback rehearsed")
    if inv.inline_secrets:
        score -= 1
        reasons.append("inline secrets")
    return score, ", ".join(reasons)


def pilots(i: Inputs, per_connector: Mapping[str, list[Row]]) -> list[Pilot]:
    """First the best-understood connector, then the best one of a different shape."""
    ranked = sorted(
        ((_understanding(i, n, rows), n) for n, rows in per_connector.items()),
        key=lambda item: (-item[0][0], item[1]),
    )
    if not ranked:
        return []
    (_, why), first = ranked[0]
    first_tags = _shape_tags(i, first)
    out = [
        Pilot(
            first,
            ", ".join(first_tags),
            f"best understood: {why}",
        )
    ]
    for (_, why2), name in ranked[1:]:
        tags = _shape_tags(i, name)
        new = [t for t in tags if t not in first_tags]
        if new:
            out.append(
                Pilot(name, ", ".join(tags), f"a different shape ({', '.join(new)}): {why2}")
            )
            break
    return out


# --------------------------------------------------------------------------- entry point


def score(i: Inputs) -> Scorecard:
    """The scorecard for the estate and each connector in scope."""
    estate = [
        _compatibility(i),
        _offsets(i),
        _topics(i),
        _security(i),
        _criteria(i),
        _observability(i),
        _cost(i),
        _dest_kafka(i),
        _dest_workers(i),
        _dest_storage(i),
        _dest_network(i),
        _dest_cutover(i),
    ]
    per: dict[str, list[Row]] = {}
    for name in i.connectors():
        per[name] = [
            _connector_compatibility(i, name),
            _connector_offsets(i, name),
            _connector_topics(i, name),
            _criteria(i, name),
            _dest_workers(i, name),
            _dest_cutover(i, name),
        ]
    return Scorecard(estate=estate, connectors=per, pilots=pilots(i, per))
