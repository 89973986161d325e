"""``connshift report``: every piece of evidence rendered into one document.

Pure: :func:`render` takes the evidence (the files' data by kind, or the
:class:`~connshift.core.evidence.EvidenceSet` of them) and a
:class:`~connshift.core.report.views.ReportMeta`, and returns the text of the report —
HTML (one self-contained page), Markdown, or JSON (``connshift.report/1``: all the
evidence and a summary). The shapes of the evidence are read in one place,
:mod:`connshift.core.evidence` (shaped for the page by
:mod:`connshift.core.report.views`); a missing or malformed file costs its section (which
says which command to run), never the report.
"""

from __future__ import annotations

import json
from typing import Any

from connshift.core.evidence import EvidenceSet
from connshift.core.report.html import render_html
from connshift.core.report.markdown import render_markdown
from connshift.core.report.sections import SECTIONS
from connshift.core.report.views import Evidence, ReportMeta, Views, collect, scrub

SCHEMA = "connshift.report/1"
FORMATS = ("html", "json", "md")
EXTENSIONS = {"html": "html", "json": "json", "md": "md"}

__all__ = ["EXTENSIONS", "FORMATS", "SCHEMA", "ReportMeta", "render", "summary"]


def _state(views: Views, section: str) -> str:
    s = next(x for x in SECTIONS if x.id == section)
    if s.evidence_section in views.errors:
        return "error"
    present = {
        "blockers": views.scorecard is not None,
        "scorecard": views.scorecard is not None,
        "pilots": views.scorecard is not None,
        "decision": views.decision is not None,
        "validation": views.validation is not None,
        "rehearsals": bool(views.rehearsals),
        "baseline": bool(views.baselines) or views.compare is not None,
        "sync": views.sync is not None,
        "cost": views.cost is not None,
        "probe": bool(views.probes),
        "review": views.review is not None,
        "inventory": views.inventory is not None,
        "evidence": bool(views.index),
    }
    return "present" if present.get(section) else "missing"


def summary_of(views: Views) -> dict[str, Any]:
    """The headline of the report: verdict, blockers, and one line per section."""
    sc, d, c, val, cmp_ = (
        views.scorecard,
        views.decision,
        views.cost,
        views.validation,
        views.compare,
    )
    return {
        "ready": sc.ok if sc is not None else None,
        "blockers": [b.__dict__ for b in sc.blockers] if sc is not None else None,
        "scores": sc.counts() if sc is not None else None,
        "pilots": [p.connector for p in sc.pilots] if sc is not None else None,
        "decision": {"path": d.path, "confidence": d.confidence} if d is not None else None,
        "validation": {"ok": val.ok, "tally": val.tally} if val is not None else None,
        "rehearsals": {r.connector: r.ok for r in views.rehearsals},
        "baseline": {
            "labels": [b.label for b in views.baselines],
            "compare_ok": cmp_.ok if cmp_ is not None else None,
            "regressions": len(cmp_.regressions) if cmp_ is not None else None,
        },
        "cost": {
            "currency": c.currency,
            "totals": {m.key: m.total for m in c.models},
            "difference": c.difference,
            "unowned": c.unowned,
        }
        if c is not None
        else None,
        "probe": {p.side: {"ok": p.ok, "tally": p.tally} for p in views.probes},
        "review": views.review.counts if views.review is not None else None,
        "sections": {s.id: _state(views, s.id) for s in SECTIONS},
        "errors": dict(views.errors),
    }


def summary(evidence: Evidence, meta: ReportMeta) -> dict[str, Any]:
    """:func:`summary_of` the evidence."""
    return summary_of(collect(evidence, meta))


def render(evidence: Evidence, meta: ReportMeta, fmt: str = "html") -> str:
    """The report of ``evidence`` (kind -> the file's data) in ``fmt`` (html, json, md)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; one of {', '.join(FORMATS)}")
    ev = EvidenceSet.from_json(evidence)
    raw = ev.raw if isinstance(evidence, EvidenceSet) else evidence
    views = collect(ev, meta)
    if fmt == "html":
        return render_html(views)
    if fmt == "md":
        return render_markdown(views)
    doc = {
        "schema": SCHEMA,
        "spec": meta.spec_name,
        "generated_at": meta.generated_at,
        "connshift": meta.version,
        "source": {"kafka": meta.source_kafka, "connect": meta.source_connect},
        "destination": {"kafka": meta.destination_kafka, "connect": meta.destination_connect},
        "evidence_dir": f"{meta.state_href}/evidence",
        "summary": summary_of(views),
        # every file as recorded (free-form payloads, secrets scrubbed)
        "evidence": {k: scrub(raw[k]) for k in sorted(raw)},
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
