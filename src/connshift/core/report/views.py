"""Accessors: the evidence files read into the typed views the report renders.

This is the one place that knows the shapes of the other commands' evidence
(``score``, ``validate``, ``sync``, ``inventory``, ``probe-*``, ``review``, ``cost``,
``decision``, ``baseline-*``, ``rehearsal-*``). Every accessor is tolerant: a missing
key, a wrong type or a ``null`` reads as "not known", never as an exception — a view is
built from whatever is there, and a kind with no file at all reads as ``None``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from connshift.core.redact import REDACTED, is_inline_secret

Raw = Mapping[str, Any]

# ---------------------------------------------------------------------------- coercions


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: object, default: str = "") -> str:
    """A scalar as text (``default`` for null); containers as compact JSON."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def as_num(value: object) -> float | None:
    """A finite number, or None (booleans and non-numeric text are not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    number = as_num(value)
    return int(number) if number is not None else None


def as_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def envelope(data: Raw) -> dict[str, Any]:
    """The ``evidence`` envelope of a recorded file (kind, recorded_at, spec, connshift)."""
    return as_dict(data.get("evidence"))


def recorded_at(data: Raw | None) -> str:
    return as_str(envelope(data).get("recorded_at")) if data is not None else ""


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


def refs(value: object, evidence: Mapping[str, Raw], meta: ReportMeta) -> tuple[EvidenceRef, ...]:
    """Evidence links from a list of paths (or of ``{"path": ...}``/``{"kind": ...}``)."""
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    out: list[EvidenceRef] = []
    for item in items:
        if isinstance(item, dict):
            path = as_str(item.get("path")) or (
                f"evidence/{as_str(item.get('kind'))}.json" if item.get("kind") else ""
            )
        else:
            path = as_str(item)
        if not path:
            continue
        kind = kind_of(path)
        data = evidence.get(kind)
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


def _row(raw: object, evidence: Mapping[str, Raw], meta: ReportMeta) -> Row | None:
    d = as_dict(raw)
    if not d:
        return None
    score = as_int(d.get("score"))
    rid = as_str(d.get("id"), "?")
    return Row(
        id=rid,
        title=as_str(d.get("title")) or rid,
        score=score if score in (0, 1, 2) else None,
        why=as_str(d.get("why")),
        evidence=refs(d.get("evidence"), evidence, meta),
    )


def _rows(raw: object, evidence: Mapping[str, Raw], meta: ReportMeta) -> list[Row]:
    rows = as_dict(raw).get("rows") if isinstance(raw, dict) else raw
    return [r for r in (_row(x, evidence, meta) for x in as_list(rows)) if r is not None]


def scorecard(evidence: Mapping[str, Raw], meta: ReportMeta) -> Scorecard | None:
    """``score.json`` (connshift.score/1)."""
    data = evidence.get("score")
    if data is None:
        return None
    estate = _rows(data.get("estate"), evidence, meta)
    connectors: dict[str, list[Row]] = {}
    raw_connectors = data.get("connectors")
    if isinstance(raw_connectors, dict):
        for name, value in raw_connectors.items():
            connectors[as_str(name)] = _rows(value, evidence, meta)
    else:  # tolerated: [{"connector": name, "rows": [...]}]
        for item in as_list(raw_connectors):
            d = as_dict(item)
            name = as_str(d.get("connector") or d.get("name"), "?")
            connectors[name] = _rows(d, evidence, meta)
    blockers: list[Blocker] = []
    if isinstance(data.get("blockers"), list):
        for item in as_list(data.get("blockers")):
            d = as_dict(item)
            if d:
                blockers.append(
                    Blocker(
                        as_str(d.get("scope"), "estate"), as_str(d.get("row")), as_str(d.get("why"))
                    )
                )
    else:  # derived when the file does not list them: every row at 0 blocks
        blockers = [Blocker("estate", r.id, r.why) for r in estate if r.score == 0]
        blockers += [
            Blocker(name, r.id, r.why)
            for name, rows in connectors.items()
            for r in rows
            if r.score == 0
        ]
    pilots = []
    for item in as_list(data.get("pilots")):
        d = as_dict(item)
        if d:
            pilots.append(
                Pilot(as_str(d.get("connector"), "?"), as_str(d.get("shape")), as_str(d.get("why")))
            )
    ok = as_bool(data.get("ok"))
    return Scorecard(ok, estate, connectors, blockers, pilots, recorded_at(data))


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    id: str
    status: str
    subject: str
    summary: str


_STATUS_ORDER = {"FAIL": 0, "SKIP": 1, "INFO": 2, "PASS": 3}


def _checks(raw: object) -> list[Check]:
    out = []
    for item in as_list(raw):
        d = as_dict(item)
        if d:
            out.append(
                Check(
                    as_str(d.get("id"), "?"),
                    as_str(d.get("status"), "?").upper(),
                    as_str(d.get("subject")),
                    as_str(d.get("summary")),
                )
            )
    return sorted(out, key=lambda c: _STATUS_ORDER.get(c.status, 1))


def _tally(raw: object, checks: list[Check]) -> dict[str, int]:
    given = as_dict(raw)
    if given:
        return {as_str(k): as_int(v) or 0 for k, v in given.items()}
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


def validation(evidence: Mapping[str, Raw], kind: str = "validate") -> Validation | None:
    """``validate.json`` (connshift.validate/1: ok, tally, checks)."""
    data = evidence.get(kind)
    if data is None:
        return None
    checks = _checks(data.get("checks"))
    return Validation(
        as_bool(data.get("ok")), _tally(data.get("tally"), checks), checks, recorded_at(data)
    )


@dataclass(frozen=True)
class Probe:
    side: str
    bootstrap: str
    kafka_version: str
    ok: bool | None
    tally: dict[str, int]
    failed: list[Check]
    recorded_at: str = ""


def probes(evidence: Mapping[str, Raw]) -> list[Probe]:
    """``probe-destination.json`` / ``probe-source.json`` (connshift.probe/1)."""
    out = []
    for kind in sorted(k for k in evidence if k.startswith("probe-")):
        data = evidence[kind]
        checks = _checks(data.get("checks"))
        out.append(
            Probe(
                side=as_str(data.get("side")) or kind.removeprefix("probe-"),
                bootstrap=as_str(data.get("bootstrap")),
                kafka_version=as_str(data.get("kafka_version")),
                ok=as_bool(data.get("ok")),
                tally=_tally(data.get("tally"), checks),
                failed=[c for c in checks if c.status == "FAIL"],
                recorded_at=recorded_at(data),
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


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def review(evidence: Mapping[str, Raw]) -> Review | None:
    """``review.json`` (connshift.review/1: counts, findings)."""
    data = evidence.get("review")
    if data is None:
        return None
    findings = []
    for item in as_list(data.get("findings")):
        d = as_dict(item)
        if d:
            findings.append(
                Finding(
                    as_str(d.get("id"), "?"),
                    as_str(d.get("severity"), "?").lower(),
                    as_str(d.get("subject")),
                    as_str(d.get("finding")),
                    as_str(d.get("fix")),
                )
            )
    findings.sort(key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))
    counts = {as_str(k): as_int(v) or 0 for k, v in as_dict(data.get("counts")).items()}
    if not counts:
        for f in findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    return Review(counts, findings, recorded_at(data))


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


def _lag(value: object) -> int | None:
    if isinstance(value, dict):
        nums = [as_int(v) for v in value.values()]
        known = [n for n in nums if n is not None]
        return sum(known) if known else (0 if not value else None)
    return as_int(value)


def inventory(evidence: Mapping[str, Raw]) -> Inventory | None:
    """``inventory.json`` (connshift.inventory/1)."""
    data = evidence.get("inventory")
    if data is None:
        return None
    connectors = []
    for item in as_list(data.get("connectors")):
        d = as_dict(item)
        if not d:
            continue
        tasks = [as_dict(t) for t in as_list(d.get("tasks"))]
        connectors.append(
            InvConnector(
                name=as_str(d.get("name"), "?"),
                cls=as_str(d.get("class")),
                shape=as_str(d.get("shape")),
                plugin_version=as_str(d.get("plugin_version")),
                state=as_str(d.get("state")),
                tasks=len(tasks),
                failed_tasks=sum(1 for t in tasks if as_str(t.get("state")).upper() == "FAILED"),
                topics=len(as_list(d.get("topics"))),
            )
        )
    topics = [as_dict(t) for t in as_list(data.get("topics"))]
    sizes = [as_int(t.get("size_bytes")) for t in topics]
    known_sizes = [s for s in sizes if s is not None]
    retained = [as_int(t.get("records_retained_approx")) for t in topics]
    known_retained = [r for r in retained if r is not None]
    rates = [as_num(t.get("rate_per_second")) for t in topics]
    known_rates = [r for r in rates if r is not None]
    groups = []
    for item in as_list(data.get("groups")):
        d = as_dict(item)
        if d:
            members = d.get("members")
            groups.append(
                InvGroup(
                    group=as_str(d.get("group") or d.get("name"), "?"),
                    state=as_str(d.get("state")),
                    members=len(members) if isinstance(members, list) else as_int(members),
                    lag=_lag(d.get("lag")),
                )
            )
    cluster = as_dict(data.get("cluster"))
    brokers = cluster.get("brokers")
    return Inventory(
        cluster_id=as_str(cluster.get("cluster_id")),
        brokers=len(brokers) if isinstance(brokers, list) else as_int(brokers),
        worker_version=as_str(as_dict(data.get("connect_worker")).get("version")),
        connectors=connectors,
        topics=len(topics),
        partitions=sum(as_int(t.get("partitions")) or 0 for t in topics),
        size_bytes=sum(known_sizes) if known_sizes else None,
        size_unknown=len(sizes) - len(known_sizes),
        records_retained=sum(known_retained) if known_retained else None,
        rate_per_second=round(sum(known_rates), 2) if known_rates else None,
        groups=groups,
        taken_at=as_str(data.get("taken_at")),
        recorded_at=recorded_at(data),
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


def sync(evidence: Mapping[str, Raw]) -> Sync | None:
    """``sync.json`` (connshift.sync/1). A topic's rate is the records copied for it in
    the run over the run's seconds (its partitions are copied concurrently)."""
    data = evidence.get("sync")
    if data is None:
        return None
    seconds = as_num(data.get("seconds"))
    per: dict[str, dict[str, Any]] = {}
    for item in as_list(data.get("partitions")):
        d = as_dict(item)
        topic = as_str(d.get("topic"))
        if not topic:
            continue
        copied = as_int(d.get("copied_this_run"))
        if copied is None:
            copied = as_int(d.get("source_next")) or 0
        t = per.setdefault(
            topic,
            {"dst": as_str(d.get("dst_topic")) or topic, "parts": 0, "records": 0, "contig": True},
        )
        t["parts"] += 1
        t["records"] += max(copied, 0)
        t["contig"] = t["contig"] and d.get("contiguous") is not False
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
    records = as_int(data.get("records"))
    rps = as_num(data.get("records_per_second"))
    if rps is None and records is not None and seconds:
        rps = round(records / seconds, 1)
    return Sync(as_str(data.get("engine")), records, seconds, rps, topics, recorded_at(data))


# ---------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class CostLine:
    id: str
    label: str
    monthly: float | None
    formula: str
    inputs: dict[str, str]
    owner: str
    flagged: bool
    reason: str = ""


def _input(value: object) -> str:
    """An input figure: ``{"value", "unit", "source"|"note"}`` as ``12.5 GB (source)``."""
    if not isinstance(value, dict):
        return as_str(value, "null")
    text = f"{as_str(value.get('value'), 'null')} {as_str(value.get('unit'))}".strip()
    where = as_str(value.get("source") or value.get("note"))
    return f"{text} ({where})" if where else text


@dataclass(frozen=True)
class CostModel:
    key: str
    title: str
    lines: list[CostLine]
    total: float | None
    assumed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Cost:
    currency: str
    models: list[CostModel]
    unowned: list[str]
    difference: float | None
    profile: str
    percent: float | None = None
    recorded_at: str = ""

    def model(self, key: str) -> CostModel | None:
        return next((m for m in self.models if m.key == key), None)


def _cost_model(key: str, raw: object) -> CostModel:
    d = as_dict(raw)
    lines = []
    for item in as_list(d.get("lines")):
        ln = as_dict(item)
        if not ln:
            continue
        owner = as_str(ln.get("owner"))
        flagged = as_bool(ln.get("flagged"))
        lines.append(
            CostLine(
                id=as_str(ln.get("id"), "?"),
                label=as_str(ln.get("label")) or as_str(ln.get("id"), "?"),
                monthly=as_num(ln.get("monthly")),
                formula=as_str(ln.get("formula")),
                inputs={as_str(k): _input(v) for k, v in as_dict(ln.get("inputs")).items()},
                owner=owner,
                flagged=flagged if flagged is not None else not owner,
                reason=as_str(ln.get("reason")),
            )
        )
    total = as_num(d.get("total"))
    if total is None and lines and all(ln.monthly is not None for ln in lines):
        total = round(sum(ln.monthly or 0.0 for ln in lines), 2)
    shape = ", ".join(
        as_str(d.get(k)) for k in ("storage_model", "worker_boundary") if as_str(d.get(k))
    )
    title = as_str(d.get("title") or d.get("label")) or (f"{key} ({shape})" if shape else key)
    assumed = [as_str(a) for a in as_list(d.get("assumed"))]
    return CostModel(key, title, lines, total, assumed)


def cost(evidence: Mapping[str, Raw]) -> Cost | None:
    """``cost.json`` (connshift.cost/1: currency, models{current, destination}, unowned,
    difference)."""
    data = evidence.get("cost")
    if data is None:
        return None
    raw_models = as_dict(data.get("models"))
    keys: list[str] = [k for k in ("current", "destination") if k in raw_models]
    keys += [k for k in raw_models if k not in keys]
    models = [_cost_model(k, raw_models[k]) for k in keys]
    unowned_raw = as_list(data.get("unowned"))
    unowned = [as_str(u.get("id") if isinstance(u, dict) else u) for u in unowned_raw]
    if not unowned_raw:
        unowned = sorted({ln.id for m in models for ln in m.lines if ln.flagged})
    difference = as_num(data.get("difference"))
    percent = None
    if isinstance(data.get("difference"), dict):
        difference = as_num(as_dict(data.get("difference")).get("monthly"))
        percent = as_num(as_dict(data.get("difference")).get("percent"))
    if difference is None:
        cur, dst = (
            next((m.total for m in models if m.key == k), None) for k in ("current", "destination")
        )
        if cur is not None and dst is not None:
            difference = round(dst - cur, 2)
    profile = data.get("profile")
    if isinstance(profile, dict):
        name, path = as_str(profile.get("name")), as_str(profile.get("path"))
        profile_text = f"{name} ({path})" if name and path else name or path
    else:
        profile_text = as_str(profile)
    return Cost(
        currency=as_str(data.get("currency"), "USD"),
        models=models,
        unowned=[u for u in unowned if u],
        difference=difference,
        profile=profile_text,
        percent=percent,
        recorded_at=recorded_at(data),
    )


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


def decision(evidence: Mapping[str, Raw], meta: ReportMeta) -> Decision | None:
    """``decision.json`` (connshift.decision/1: path, confidence, paths[...])."""
    data = evidence.get("decision")
    if data is None:
        return None
    paths = []
    for item in as_list(data.get("paths")):
        d = as_dict(item)
        if not d:
            continue
        reasons = []
        for r in as_list(d.get("reasons")):
            if isinstance(r, dict):
                reasons.append(
                    Reason(
                        as_str(r.get("text")),
                        refs(r.get("evidence"), evidence, meta),
                        as_str(r.get("effect")),
                    )
                )
            else:
                reasons.append(Reason(as_str(r), ()))
        paths.append(
            DecisionPath(
                id=as_str(d.get("id"), "?"),
                title=as_str(d.get("title")) or as_str(d.get("id"), "?"),
                fit=as_str(d.get("fit")),
                reasons=reasons,
                stays_hard=[as_str(s) for s in as_list(d.get("stays_hard"))],
            )
        )
    chosen = data.get("path")
    if isinstance(chosen, dict):
        chosen = chosen.get("id")
    return Decision(
        path=as_str(chosen),
        confidence=as_str(data.get("confidence")),
        paths=paths,
        title=as_str(data.get("title")),
        summary=as_str(data.get("summary")),
        thin_evidence=[as_str(t) for t in as_list(data.get("thin_evidence"))],
        recorded_at=recorded_at(data),
    )


# ---------------------------------------------------------------------------- baseline

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class Baseline:
    """One ``baseline-<label>`` window. Per-side series (``produce_ms`` ...) are keyed by
    side (``source``/``destination``; ``""`` when a sample holds a bare number)."""

    label: str
    started_at: str
    duration_seconds: float | None
    #: (t, value) per series; t is seconds from the window's start
    total_lag: Points
    produce_ms: dict[str, Points]
    fetch_ms: dict[str, Points]
    storage_bytes: dict[str, Points]
    source_lag_ms: dict[str, Points]
    task_failures: Points
    samples: int
    groups: list[str]
    last_states: dict[str, str]
    summary: dict[str, str]
    recorded_at: str = ""


def _by_side(value: object) -> dict[str, float]:
    """``{side: n}`` read as is; a bare number as ``{"": n}``."""
    if isinstance(value, dict):
        out = {as_str(k): as_num(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    number = as_num(value)
    return {"": number} if number is not None else {}


def _baseline(kind: str, data: Raw) -> Baseline:
    lag: Points = []
    failures: Points = []
    per_side: dict[str, dict[str, Points]] = {
        k: {} for k in ("produce_ms", "fetch_ms", "storage_bytes", "source_lag_ms")
    }
    groups: dict[str, None] = {}
    states: dict[str, str] = {}
    samples = as_list(data.get("samples"))
    for i, item in enumerate(samples):
        s = as_dict(item)
        t = as_num(s.get("t"))
        t = float(i) if t is None else t
        raw_lag = s.get("group_lag")
        for g in as_dict(raw_lag):
            groups.setdefault(as_str(g), None)
        total = _lag(raw_lag)
        if total is not None:
            lag.append((t, float(total)))
        for key, series in per_side.items():
            for side, value in _by_side(s.get(key)).items():
                series.setdefault(side, []).append((t, value))
        # connector states: {"connectors": {name: {"state", "tasks_failed"}}} (or the
        # flat {"connector_states": {name: state}}, "task_failures": n)
        failed: float | None = as_num(s.get("task_failures"))
        for name, entry in as_dict(s.get("connectors")).items():
            e = as_dict(entry)
            states[as_str(name)] = as_str(e.get("state"))
            n = as_num(e.get("tasks_failed"))
            if n is not None:
                failed = (failed or 0.0) + n
        for name, state in as_dict(s.get("connector_states")).items():
            states[as_str(name)] = as_str(state.get("state") if isinstance(state, dict) else state)
        if failed is not None:
            failures.append((t, failed))
    summary = {
        as_str(k): as_str(v, "null")
        for k, v in as_dict(data.get("summary")).items()
        if not isinstance(v, dict | list)
    }
    return Baseline(
        label=as_str(data.get("label")) or kind.removeprefix("baseline-"),
        started_at=as_str(data.get("started_at")),
        duration_seconds=as_num(data.get("duration_seconds")),
        total_lag=lag,
        produce_ms=per_side["produce_ms"],
        fetch_ms=per_side["fetch_ms"],
        storage_bytes=per_side["storage_bytes"],
        source_lag_ms=per_side["source_lag_ms"],
        task_failures=failures,
        samples=len(samples),
        groups=list(groups),
        last_states=states,
        summary=summary,
        recorded_at=recorded_at(data),
    )


def baselines(evidence: Mapping[str, Raw]) -> list[Baseline]:
    """Every ``baseline-<label>.json`` (connshift.baseline/1), ``before`` and ``after``
    first."""
    kinds = [k for k in evidence if k.startswith("baseline-") and k != "baseline-compare"]
    order = {"baseline-before": 0, "baseline-after": 1}
    return [_baseline(k, evidence[k]) for k in sorted(kinds, key=lambda k: (order.get(k, 2), k))]


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


def baseline_compare(evidence: Mapping[str, Raw]) -> Compare | None:
    """``baseline-compare.json`` (connshift.baseline-compare/1: ok, regressions[...])."""
    data = evidence.get("baseline-compare")
    if data is None:
        return None
    regressions = []
    for item in as_list(data.get("regressions")):
        d = as_dict(item)
        if d:
            regressions.append(
                Regression(
                    as_str(d.get("metric"), "?"),
                    as_str(d.get("subject")),
                    as_str(d.get("before"), "null"),
                    as_str(d.get("after"), "null"),
                    as_str(d.get("why")),
                )
            )
    ok = as_bool(data.get("ok"))
    return Compare(
        ok=ok if ok is not None else not regressions,
        before=as_str(data.get("before"), "before"),
        after=as_str(data.get("after"), "after"),
        regressions=regressions,
        recorded_at=recorded_at(data),
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


def rehearsals(evidence: Mapping[str, Raw]) -> list[Rehearsal]:
    """Every ``rehearsal-<connector>.json`` (connshift.rehearsal/1)."""
    out = []
    for kind in sorted(k for k in evidence if k.startswith("rehearsal-")):
        data = evidence[kind]
        steps = []
        for item in as_list(data.get("steps")):
            d = as_dict(item)
            if d:
                steps.append(
                    Step(
                        as_str(d.get("step") or d.get("id"), "?"),
                        as_bool(d.get("ok")),
                        as_num(d.get("seconds")),
                        as_str(d.get("summary")),
                    )
                )
        out.append(
            Rehearsal(
                connector=as_str(data.get("connector")) or kind.removeprefix("rehearsal-"),
                target=as_str(data.get("target")),
                ok=as_bool(data.get("ok")),
                steps=steps,
                kind=kind,
                recorded_at=recorded_at(data),
            )
        )
    return out


# ---------------------------------------------------------------------------- evidence index


@dataclass(frozen=True)
class IndexEntry:
    kind: str
    schema: str
    recorded_at: str
    href: str | None
    excerpt: str


def index(evidence: Mapping[str, Raw], meta: ReportMeta) -> list[IndexEntry]:
    """Every evidence file: its kind, schema, when it was recorded, a link and an excerpt."""
    return [
        IndexEntry(
            kind=kind,
            schema=as_str(data.get("schema")),
            recorded_at=recorded_at(data),
            href=safe_href(meta.state_href, f"evidence/{kind}.json"),
            excerpt=excerpt(data),
        )
        for kind, data in sorted(evidence.items())
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


def collect(evidence: Mapping[str, Raw], meta: ReportMeta) -> Views:
    """Read every view; an accessor that trips over a malformed file costs its section
    (recorded in ``errors``), never the report."""
    ev = {k: v for k, v in evidence.items() if isinstance(v, Mapping)}
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
