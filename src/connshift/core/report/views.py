"""The report's views: the typed evidence (:mod:`connshift.core.evidence`) shaped for the
page.

The shapes of the other commands' evidence (``score``, ``validate``, ``sync``,
``inventory``, ``probe-*``, ``review``, ``cost``, ``decision``, ``baseline-*``,
``rehearsal-*``) are read once, by the ``from_json`` of their typed objects; this module
orders, counts and links what they hold (the row's evidence links, the checks sorted
failures first, a group's lag, a topic's rate). Every accessor is tolerant: a missing key,
a wrong type or a ``null`` reads as "not known", never as an exception — a view is built
from whatever is there, and a kind with no file at all reads as ``None``. Only the
evidence index and the excerpts read the files as recorded: they show free-form payloads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from connshift.core import evidence as E
from connshift.core.evidence import (
    Baseline,
    CheckStatus,
    Cost,
    CostLine,
    CostModel,
    EvidenceSet,
    Points,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_num,
    as_str,
    evidence_paths,
)
from connshift.core.redact import REDACTED, is_inline_secret

Raw = Mapping[str, Any]
#: what an accessor reads: the files by kind, or the typed set of them
Evidence = Mapping[str, Raw] | EvidenceSet

__all__ = [
    "Baseline",
    "Cost",
    "CostLine",
    "CostModel",
    "Points",
    "as_bool",
    "as_dict",
    "as_int",
    "as_list",
    "as_num",
    "as_str",
]


def _typed(evidence: Evidence) -> EvidenceSet:
    return EvidenceSet.from_json(evidence)


def recorded_at(data: Raw | None) -> str:
    return E.recorded_at(data) if data is not None else ""


# ---------------------------------------------------------------------------- meta + links


@dataclass(frozen=True)
class ReportMeta:
    """What the header shows, and where the evidence files are seen from the report."""

    spec_name: str
    generated_at: str
    version: str
    source_kafka: str = ""
    source_connect: str = ""
    destination_kafka: str = ""
    destination_connect: str = ""
    #: the spec's state directory relative to the report's directory (posix); evidence
    #: paths in the scorecard (``evidence/inventory.json``) are relative to it
    state_href: str = ".connshift"
    #: how to name the spec in the "run `connshift X -c SPEC`" hints
    config: str = "connshift.yaml"


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def safe_href(base: str, path: str) -> str | None:
    """A relative link to ``path`` (relative to ``base``), or None when ``path`` is not a
    plain relative file path (a URL, an absolute path): the report links to nothing else."""
    path = path.strip()
    if not path or _SCHEME.match(path) or path.startswith(("/", "\\")) or "\\" in path:
        return None
    if any(ord(ch) < 0x20 for ch in path):
        return None
    joined = f"{base.rstrip('/')}/{path}" if base not in ("", ".") else path
    if _SCHEME.match(joined) or joined.startswith("//"):
        return None
    return quote(joined, safe="/._-~#")


def kind_of(path: str) -> str:
    """The evidence kind a path names (``evidence/rehearsal-x.json`` -> ``rehearsal-x``)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".json") else name


def scrub(value: Any) -> Any:
    """``value`` with every secret-looking key's inline value shown as ``***`` (evidence is
    redacted when recorded; the report does not count on it)."""
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and not isinstance(v, dict | list) and is_inline_secret(k, v)
            else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def excerpt(data: Raw | None, limit: int = 360) -> str:
    """A few lines that say what a piece of evidence holds: its scalar fields, and the
    size of its lists and objects (the envelope's ``recorded_at`` first)."""
    if data is None:
        return "(no such evidence recorded)"
    lines: list[str] = []
    when = recorded_at(data)
    if when:
        lines.append(f"recorded_at: {when}")
    for key, value in data.items():
        if key == "evidence":
            continue
        if isinstance(value, list):
            lines.append(f"{key}: [{len(value)} item{'s' if len(value) != 1 else ''}]")
        elif isinstance(value, dict):
            if all(not isinstance(v, dict | list) for v in value.values()) and len(value) <= 6:
                lines.append(f"{key}: {as_str(scrub(value))}")
            else:
                lines.append(f"{key}: {{{len(value)} keys}}")
        elif isinstance(key, str) and is_inline_secret(key, value):
            lines.append(f"{key}: {REDACTED}")
        else:
            lines.append(f"{key}: {as_str(value, 'null')}")
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: a path that names an evidence file, relative to the state directory
_EVIDENCE_PATH = re.compile(r"(?:\./)?evidence/[^/]+\.json")


@dataclass(frozen=True)
class EvidenceRef:
    """One evidence link of a row: the path as written, its link, whether it exists."""

    path: str
    kind: str
    href: str | None
    #: whether the evidence file was recorded (None: the path names no evidence file)
    present: bool | None
    excerpt: str


def refs(value: object, evidence: Evidence, meta: ReportMeta) -> tuple[EvidenceRef, ...]:
    """Evidence links from a list of paths (or of ``{"path": ...}``/``{"kind": ...}``)."""
    return refs_to(evidence_paths(value), evidence, meta)


def refs_to(
    paths: tuple[str, ...], evidence: Evidence, meta: ReportMeta
) -> tuple[EvidenceRef, ...]:
    """Evidence links to ``paths`` (relative to the state directory)."""
    raw = _typed(evidence).raw
    out: list[EvidenceRef] = []
    for path in paths:
        kind = kind_of(path)
        data = raw.get(kind)
        is_evidence = _EVIDENCE_PATH.fullmatch(path.replace("\\", "/")) is not None
        out.append(
            EvidenceRef(
                path=path,
                kind=kind,
                # only evidence files are linked; anything else is shown as written
                href=safe_href(meta.state_href, path) if is_evidence else None,
                present=(data is not None) if is_evidence else None,
                excerpt=excerpt(data, limit=240) if is_evidence else "(not an evidence file)",
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------- score


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    score: int | None  # 0, 1, 2; None when the file says something else
    why: str
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True)
class Blocker:
    scope: str
    row: str
    why: str


@dataclass(frozen=True)
class Pilot:
    connector: str
    shape: str
    why: str


@dataclass(frozen=True)
class Scorecard:
    ok: bool | None
    estate: list[Row]
    connectors: dict[str, list[Row]]
    blockers: list[Blocker]
    pilots: list[Pilot]
    recorded_at: str = ""

    @property
    def row_ids(self) -> list[str]:
        """Every row id of the connector rows, in first-seen order."""
        seen: dict[str, None] = {}
        for rows in self.connectors.values():
            for r in rows:
                seen.setdefault(r.id, None)
        return list(seen)

    def counts(self) -> dict[str, int]:
        out = {"0": 0, "1": 0, "2": 0}
        for r in [*self.estate, *(r for rows in self.connectors.values() for r in rows)]:
            if r.score in (0, 1, 2):
                out[str(r.score)] += 1
        return out


def _rows(rows: tuple[E.ScoreRow, ...], evidence: EvidenceSet, meta: ReportMeta) -> list[Row]:
    return [Row(r.id, r.title, r.score, r.why, refs_to(r.evidence, evidence, meta)) for r in rows]


def scorecard(evidence: Evidence, meta: ReportMeta) -> Scorecard | None:
    """``score.json`` (connshift.score/1)."""
    ev = _typed(evidence)
    sc = ev.score
    if sc is None:
        return None
    estate = _rows(sc.estate, ev, meta)
    connectors = {name: _rows(rows, ev, meta) for name, rows in sc.connectors.items()}
    if sc.blockers is not None:
        blockers = [Blocker(b.scope, b.row, b.why) for b in sc.blockers]
    else:  # derived when the file does not list them: every row at 0 blocks
        blockers = [Blocker("estate", r.id, r.why) for r in estate if r.score == 0]
        blockers += [
            Blocker(name, r.id, r.why)
            for name, rows in connectors.items()
            for r in rows
            if r.score == 0
        ]
    pilots = [Pilot(p.connector, p.shape, p.why) for p in sc.pilots]
    return Scorecard(sc.ok, estate, connectors, blockers, pilots, sc.recorded_at)


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    id: str
    status: str
    subject: str
    summary: str


#: failures first (keyed by text: the view's status is upper-cased, maybe unknown)
_STATUS_ORDER: dict[str, int] = {
    CheckStatus.FAIL.value: 0,
    CheckStatus.SKIP.value: 1,
    CheckStatus.INFO.value: 2,
    CheckStatus.PASS.value: 3,
}


def _checks(checks: tuple[E.Check, ...]) -> list[Check]:
    out = [
        Check(
            c.id if c.id is not None else "?",
            (c.status if c.status is not None else "?").upper(),
            c.subject,
            c.summary,
        )
        for c in checks
    ]
    return sorted(out, key=lambda c: _STATUS_ORDER.get(c.status, 1))


def _tally(given: dict[str, int], checks: list[Check]) -> dict[str, int]:
    if given:
        return dict(given)
    out: dict[str, int] = {}
    for c in checks:
        out[c.status] = out.get(c.status, 0) + 1
    return out


@dataclass(frozen=True)
class Validation:
    ok: bool | None
    tally: dict[str, int]
    checks: list[Check]
    recorded_at: str = ""


def validation(evidence: Evidence) -> Validation | None:
    """``validate.json`` (connshift.validate/1: ok, tally, checks)."""
    v = _typed(evidence).validate
    if v is None:
        return None
    checks = _checks(v.checks)
    return Validation(v.ok, _tally(v.tally, checks), checks, v.recorded_at)


@dataclass(frozen=True)
class Probe:
    side: str
    bootstrap: str
    kafka_version: str
    ok: bool | None
    tally: dict[str, int]
    failed: list[Check]
    recorded_at: str = ""


def probes(evidence: Evidence) -> list[Probe]:
    """``probe-destination.json`` / ``probe-source.json`` (connshift.probe/1)."""
    out = []
    for _kind, p in sorted(_typed(evidence).probes.items()):
        checks = _checks(p.checks)
        out.append(
            Probe(
                side=p.side,
                bootstrap=p.bootstrap,
                kafka_version=p.kafka_version,
                ok=p.ok,
                tally=_tally(p.tally, checks),
                failed=[c for c in checks if c.status == CheckStatus.FAIL],
                recorded_at=p.recorded_at,
            )
        )
    # the destination first: it is the one the decision is about
    return sorted(out, key=lambda p: (p.side != "destination", p.side))


# ---------------------------------------------------------------------------- review


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    subject: str
    finding: str
    fix: str


@dataclass(frozen=True)
class Review:
    counts: dict[str, int]
    findings: list[Finding]
    recorded_at: str = ""


_SEVERITY_ORDER: dict[str, int] = {
    E.Severity.HIGH.value: 0,
    E.Severity.MEDIUM.value: 1,
    E.Severity.LOW.value: 2,
}


def review(evidence: Evidence) -> Review | None:
    """``review.json`` (connshift.review/1: counts, findings)."""
    r = _typed(evidence).review
    if r is None:
        return None
    findings = [
        Finding(
            f.id if f.id is not None else "?",
            (f.severity if f.severity is not None else "?").lower(),
            f.subject or "",
            f.finding or "",
            f.fix,
        )
        for f in r.findings
    ]
    findings.sort(key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))
    counts = dict(r.counts)
    if not counts:
        for f in findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    return Review(counts, findings, r.recorded_at)


# ---------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class InvConnector:
    name: str
    cls: str
    shape: str
    plugin_version: str
    state: str
    tasks: int
    failed_tasks: int
    topics: int


@dataclass(frozen=True)
class InvGroup:
    group: str
    state: str
    members: int | None
    lag: int | None


@dataclass(frozen=True)
class Inventory:
    cluster_id: str
    brokers: int | None
    worker_version: str
    connectors: list[InvConnector]
    topics: int
    partitions: int
    size_bytes: int | None
    size_unknown: int
    records_retained: int | None
    rate_per_second: float | None
    groups: list[InvGroup]
    taken_at: str
    recorded_at: str = ""


def inventory(evidence: Evidence) -> Inventory | None:
    """``inventory.json`` (connshift.inventory/1)."""
    inv = _typed(evidence).inventory
    if inv is None:
        return None
    connectors = [
        InvConnector(
            name=c.name if c.name is not None else "?",
            cls=c.cls or "",
            shape=c.shape or "",
            plugin_version=c.plugin_version,
            state=c.state or "",
            tasks=len(c.task_states),
            failed_tasks=sum(1 for s in c.task_states if (s or "").upper() == "FAILED"),
            topics=len(c.topics),
        )
        for c in inv.connectors
    ]
    sizes = [t.size_bytes for t in inv.topics]
    known_sizes = [s for s in sizes if s is not None]
    known_retained = [t.records_retained for t in inv.topics if t.records_retained is not None]
    known_rates = [t.rate_per_second for t in inv.topics if t.rate_per_second is not None]
    return Inventory(
        cluster_id=inv.cluster_id,
        brokers=inv.brokers,
        worker_version=inv.worker_version,
        connectors=connectors,
        topics=len(inv.topics),
        partitions=sum(t.partitions or 0 for t in inv.topics),
        size_bytes=sum(known_sizes) if known_sizes else None,
        size_unknown=len(sizes) - len(known_sizes),
        records_retained=sum(known_retained) if known_retained else None,
        rate_per_second=round(sum(known_rates), 2) if known_rates else None,
        groups=[InvGroup(g.label, g.state, g.members, g.lag) for g in inv.groups],
        taken_at=inv.taken_at,
        recorded_at=inv.recorded_at,
    )


# ---------------------------------------------------------------------------- sync


@dataclass(frozen=True)
class TopicThroughput:
    topic: str
    dst_topic: str
    partitions: int
    records: int
    records_per_second: float | None
    contiguous: bool


@dataclass(frozen=True)
class Sync:
    engine: str
    records: int | None
    seconds: float | None
    records_per_second: float | None
    topics: list[TopicThroughput]
    recorded_at: str = ""


def sync(evidence: Evidence) -> Sync | None:
    """``sync.json`` (connshift.sync/1). A topic's rate is the records copied for it in
    the run over the run's seconds (its partitions are copied concurrently)."""
    s = _typed(evidence).sync
    if s is None:
        return None
    seconds = s.seconds
    per: dict[str, dict[str, Any]] = {}
    for p in s.partitions:
        t = per.setdefault(p.topic, {"dst": p.dst_topic, "parts": 0, "records": 0, "contig": True})
        t["parts"] += 1
        t["records"] += max(p.copied, 0)
        t["contig"] = t["contig"] and p.contiguous
    topics = [
        TopicThroughput(
            topic=name,
            dst_topic=str(t["dst"]),
            partitions=int(t["parts"]),
            records=int(t["records"]),
            records_per_second=round(t["records"] / seconds, 1) if seconds else None,
            contiguous=bool(t["contig"]),
        )
        for name, t in sorted(per.items())
    ]
    rps = s.records_per_second
    if rps is None and s.records is not None and seconds:
        rps = round(s.records / seconds, 1)
    return Sync(s.engine, s.records, seconds, rps, topics, s.recorded_at)


# ---------------------------------------------------------------------------- cost


def cost(evidence: Evidence) -> Cost | None:
    """``cost.json`` (connshift.cost/1: currency, models{current, destination}, unowned,
    difference)."""
    return _typed(evidence).cost


# ---------------------------------------------------------------------------- decision


@dataclass(frozen=True)
class Reason:
    text: str
    evidence: tuple[EvidenceRef, ...]
    #: for, against, not relieved (empty when the file does not say)
    effect: str = ""


@dataclass(frozen=True)
class DecisionPath:
    id: str
    title: str
    fit: str
    reasons: list[Reason]
    stays_hard: list[str]


@dataclass(frozen=True)
class Decision:
    path: str
    confidence: str
    paths: list[DecisionPath]
    title: str = ""
    summary: str = ""
    thin_evidence: list[str] = field(default_factory=list)
    recorded_at: str = ""

    @property
    def chosen(self) -> DecisionPath | None:
        return next((p for p in self.paths if p.id == self.path), None)


def decision(evidence: Evidence, meta: ReportMeta) -> Decision | None:
    """``decision.json`` (connshift.decision/1: path, confidence, paths[...])."""
    ev = _typed(evidence)
    d = ev.decision
    if d is None:
        return None
    paths = [
        DecisionPath(
            id=p.id,
            title=p.title,
            fit=p.fit,
            reasons=[Reason(r.text, refs_to(r.evidence, ev, meta), r.effect) for r in p.reasons],
            stays_hard=list(p.stays_hard),
        )
        for p in d.paths
    ]
    return Decision(
        path=d.path,
        confidence=d.confidence,
        paths=paths,
        title=d.title,
        summary=d.summary,
        thin_evidence=list(d.thin_evidence),
        recorded_at=d.recorded_at,
    )


# ---------------------------------------------------------------------------- baseline


def baselines(evidence: Evidence) -> list[Baseline]:
    """Every ``baseline-<label>.json`` (connshift.baseline/1), ``before`` and ``after``
    first."""
    found = _typed(evidence).baselines
    order = {"baseline-before": 0, "baseline-after": 1}
    return [found[k] for k in sorted(found, key=lambda k: (order.get(k, 2), k))]


@dataclass(frozen=True)
class Regression:
    metric: str
    subject: str
    before: str
    after: str
    why: str


@dataclass(frozen=True)
class Compare:
    ok: bool | None
    before: str
    after: str
    regressions: list[Regression]
    recorded_at: str = ""


def baseline_compare(evidence: Evidence) -> Compare | None:
    """``baseline-compare.json`` (connshift.baseline-compare/1: ok, regressions[...])."""
    c = _typed(evidence).baseline_compare
    if c is None:
        return None
    regressions = [
        Regression(
            r.metric if r.metric is not None else "?",
            r.subject or "",
            r.before,
            r.after,
            r.why,
        )
        for r in c.regressions
    ]
    return Compare(
        ok=c.ok if c.ok is not None else not regressions,
        before=c.before,
        after=c.after,
        regressions=regressions,
        recorded_at=c.recorded_at,
    )


# ---------------------------------------------------------------------------- rehearsal


@dataclass(frozen=True)
class Step:
    step: str
    ok: bool | None
    seconds: float | None
    summary: str


@dataclass(frozen=True)
class Rehearsal:
    connector: str
    target: str
    ok: bool | None
    steps: list[Step]
    kind: str
    recorded_at: str = ""


def rehearsals(evidence: Evidence) -> list[Rehearsal]:
    """Every ``rehearsal-<connector>.json`` (connshift.rehearsal/1)."""
    return [
        Rehearsal(
            connector=r.connector,
            target=r.target,
            ok=r.ok,
            steps=[Step(s.label, s.ok, s.seconds, s.summary) for s in r.steps],
            kind=kind,
            recorded_at=r.recorded_at,
        )
        for kind, r in sorted(_typed(evidence).rehearsals.items())
    ]


# ---------------------------------------------------------------------------- evidence index


@dataclass(frozen=True)
class IndexEntry:
    kind: str
    schema: str
    recorded_at: str
    href: str | None
    excerpt: str


def index(evidence: Evidence, meta: ReportMeta) -> list[IndexEntry]:
    """Every evidence file: its kind, schema, when it was recorded, a link and an excerpt
    (of the file as recorded: any kind, any payload)."""
    return [
        IndexEntry(
            kind=kind,
            schema=as_str(data.get("schema")),
            recorded_at=recorded_at(data),
            href=safe_href(meta.state_href, f"evidence/{kind}.json"),
            excerpt=excerpt(data),
        )
        for kind, data in sorted(_typed(evidence).raw.items())
    ]


# ---------------------------------------------------------------------------- all together


@dataclass
class Views:
    """Every section's view (None: no evidence) and the sections whose evidence could not
    be read (section -> what went wrong)."""

    meta: ReportMeta
    scorecard: Scorecard | None = None
    validation: Validation | None = None
    rehearsals: list[Rehearsal] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    compare: Compare | None = None
    sync: Sync | None = None
    cost: Cost | None = None
    decision: Decision | None = None
    probes: list[Probe] = field(default_factory=list)
    review: Review | None = None
    inventory: Inventory | None = None
    index: list[IndexEntry] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def collect(evidence: Evidence, meta: ReportMeta) -> Views:
    """Read every view; an accessor that trips over a malformed file costs its section
    (recorded in ``errors``), never the report. The evidence is parsed once (each kind
    the first time a view reads it)."""
    ev = _typed(evidence)
    views = Views(meta=meta)

    def take(section: str, attr: str, fn: Callable[[], object]) -> None:
        try:
            setattr(views, attr, fn())
        except Exception as exc:  # a malformed file must not cost the whole report
            views.errors[section] = f"{type(exc).__name__}: {exc}"

    take("scorecard", "scorecard", lambda: scorecard(ev, meta))
    take("validation", "validation", lambda: validation(ev))
    take("rehearsals", "rehearsals", lambda: rehearsals(ev))
    take("baseline", "baselines", lambda: baselines(ev))
    take("baseline", "compare", lambda: baseline_compare(ev))
    take("sync", "sync", lambda: sync(ev))
    take("cost", "cost", lambda: cost(ev))
    take("decision", "decision", lambda: decision(ev, meta))
    take("probe", "probes", lambda: probes(ev))
    take("review", "review", lambda: review(ev))
    take("inventory", "inventory", lambda: inventory(ev))
    take("evidence", "index", lambda: index(ev, meta))
    return views
