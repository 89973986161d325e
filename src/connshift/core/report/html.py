"""The report as one self-contained HTML page: inline CSS, inline SVG charts, no script,
and a Content-Security-Policy that forbids every fetch — the page opens from a file on a
machine without network and shows everything. Every value from evidence is escaped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from connshift.core.report import sections as S
from connshift.core.report.svg import Series, bar_chart, line_chart
from connshift.core.report.views import (
    Baseline,
    Check,
    EvidenceRef,
    Row,
    Views,
)

#: nothing may be fetched: no script, no font, no image but data: URIs, no frames
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;
--red:#b42318;--redbg:#fde7e5;--amber:#8a5a00;--amberbg:#fff4d6;--green:#146c2e;--greenbg:#e3f6e8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg);margin:0}
header{background:#0d2137;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:22px}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0 0;
font-size:13px}
header dt{color:#b9c7d6}header dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace}
nav{padding:8px 28px;border-bottom:1px solid var(--line);background:var(--soft);font-size:13px}
nav a{margin-right:12px;color:#0b5cad;text-decoration:none}
main{padding:8px 28px 40px;max-width:1280px}
section{margin:22px 0;padding-top:4px}
h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px;margin:0 0 10px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;width:100%}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{background:var(--soft);padding:6px 8px;margin:4px 0;white-space:pre-wrap;word-break:break-word}
.badge{display:inline-block;min-width:2.2em;padding:1px 7px;border-radius:10px;font-weight:600;
font-size:12px;text-align:center;white-space:nowrap}
.s0,.FAIL,.bad,.high{background:var(--redbg);color:var(--red)}
.s1,.SKIP,.warn,.medium{background:var(--amberbg);color:var(--amber)}
.s2,.PASS,.good,.low{background:var(--greenbg);color:var(--green)}
.INFO,.s-unknown,.unknown{background:var(--soft);color:var(--muted)}
.missing{color:var(--muted);font-style:italic;background:var(--soft);padding:8px 12px;
border-left:3px solid var(--line)}
.error{color:var(--red);background:var(--redbg);padding:8px 12px;border-left:3px solid var(--red)}
.blockers{border:2px solid var(--red);background:var(--redbg);padding:10px 16px;border-radius:6px}
.blockers h2{color:var(--red);border-color:#f3b8b2}
.blockers.clear{border-color:#8fd19e;background:var(--greenbg)}
.blockers.clear h2{color:var(--green);border-color:#8fd19e}
.strip{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.strip div{border:1px solid var(--line);border-radius:6px;padding:6px 12px;background:var(--soft)}
.strip b{display:block;font-size:12px;color:var(--muted);font-weight:500}
.path{border:1px solid var(--line);border-radius:6px;padding:8px 14px;margin:8px 0}
.path.chosen{border:2px solid #0b5cad;background:#eef5fc}
.flag{color:var(--red);font-weight:600}
details.ev{display:inline-block;margin:0 6px 2px 0}
details.ev summary{cursor:pointer}
details.ev pre{max-width:520px}
.chart{display:block;margin:8px 0;max-width:100%;height:auto}
.chart .grid{stroke:#eaeef2}.chart .axis{stroke:#8c959f}
.chart .tick,.chart .legend{font-size:11px;fill:#444}
.chart .axis-label{font-size:11px;fill:#57606a}
.chart .chart-title{font-size:13px;font-weight:600;fill:#1b1f24}
.chart .note{font-size:12px;fill:#57606a;font-style:italic}
footer{color:var(--muted);font-size:12px;padding:12px 28px;border-top:1px solid var(--line)}
"""


def e(value: object) -> str:
    """Escape for HTML text and attribute values."""
    return escape(str(value), quote=True)


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, num: Sequence[int] = (), cls: str = ""
) -> str:
    """A table of already-rendered (escaped) cells."""
    head = "".join(
        f"<th{' class=num' if i in num else ''}>{e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in num else ''}>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    klass = f' class="{e(cls)}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def badge(score: int | None) -> str:
    if score in (0, 1, 2):
        return (
            f'<span class="badge s{score}" data-score="{score}">{e(S.SCORE_LABELS[score])}</span>'
        )
    return '<span class="badge s-unknown" data-score="?">? unreadable</span>'


def pill(ok: bool | None, yes: str = "ok", no: str = "failed", unknown: str = "unknown") -> str:
    if ok is None:
        return f'<span class="badge unknown">{e(unknown)}</span>'
    return f'<span class="badge {"good" if ok else "bad"}">{e(yes if ok else no)}</span>'


def status(value: str) -> str:
    return f'<span class="badge {e(value)}">{e(value)}</span>'


def state_badge(state: str) -> str:
    """A connector or task state: RUNNING green, FAILED red, anything else grey."""
    up = state.upper()
    cls = "good" if up == "RUNNING" else "bad" if up == "FAILED" else "unknown"
    return f'<span class="badge {cls}">{e(state or "?")}</span>'


def evidence_links(refs: Sequence[EvidenceRef]) -> str:
    out = []
    for r in refs:
        name = f'<a href="{e(r.href)}">{e(r.path)}</a>' if r.href else f"<code>{e(r.path)}</code>"
        note = ' <span class="flag">(not recorded)</span>' if r.present is False else ""
        out.append(
            f'<details class="ev" data-evidence="{e(r.kind)}"><summary>{name}{note}</summary>'
            f"<pre>{e(r.excerpt)}</pre></details>"
        )
    return "".join(out) or '<span class="missing-ev">—</span>'


def _rows_table(rows: Sequence[Row]) -> str:
    return _table(
        ["row", "score", "why", "evidence"],
        [
            [
                f"<strong>{e(r.title)}</strong><br><code>{e(r.id)}</code>",
                badge(r.score),
                e(r.why),
                evidence_links(r.evidence),
            ]
            for r in rows
        ],
        cls="score-rows",
    )


# ---------------------------------------------------------------------------- sections


def _missing(section: S.Section, meta_config: str) -> str:
    return (
        f'<p class="missing">No evidence yet — run <code>{e(section.command(meta_config))}</code>'
        f"{e(section.then)}.</p>"
    )


def sec_blockers(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    if not sc.blockers:
        return '<p class="ok">No blockers: no row scores 0.</p>'
    items = "".join(
        f'<li data-blocker="{e(b.row)}"><strong>{e(b.scope)}</strong> · <code>{e(b.row)}</code>'
        f" — {e(b.why)}</li>"
        for b in sc.blockers
    )
    return (
        f"<p><strong>{len(sc.blockers)} row(s) score 0</strong>: <code>connshift cutover</code> "
        f"refuses to run until each points at evidence (or <code>--force</code>, recorded in the "
        f"journal).</p><ul>{items}</ul>"
    )


def sec_scorecard(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    counts = sc.counts()
    out = [
        '<div class="strip">'
        f"<div><b>verdict</b>{pill(sc.ok, 'ready: no row at 0', 'blocked')}</div>"
        + "".join(f"<div><b>rows at {k}</b>{badge(int(k))} x {n}</div>" for k, n in counts.items())
        + (f"<div><b>scored</b>{e(sc.recorded_at)}</div>" if sc.recorded_at else "")
        + "</div>",
        "<h3>Estate</h3>",
        _rows_table(sc.estate)
        if sc.estate
        else '<p class="missing">no estate rows in score.json</p>',
    ]
    if sc.connectors:
        ids = sc.row_ids
        matrix = []
        for name, rows in sc.connectors.items():
            by_id = {r.id: r for r in rows}
            cells = [f'<a href="#connector-{e(S.slug(name))}">{e(name)}</a>']
            for rid in ids:
                r = by_id.get(rid)
                cells.append(f'<span title="{e(r.why)}">{badge(r.score)}</span>' if r else "—")
            matrix.append(cells)
        out += ["<h3>Per connector</h3>", _table(["connector", *ids], matrix, cls="score-matrix")]
        for name, rows in sc.connectors.items():
            worst = min((r.score for r in rows if r.score is not None), default=None)
            out.append(
                f'<details class="connector" id="connector-{e(S.slug(name))}"'
                f"{' open' if worst == 0 else ''}><summary><strong>{e(name)}</strong> "
                f"{badge(worst) if worst is not None else ''}</summary>"
                f"{_rows_table(rows)}</details>"
            )
    return "".join(out)


def sec_pilots(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    if not sc.pilots:
        return '<p class="missing">The scorecard proposes no pilot yet.</p>'
    return _table(
        ["order", "connector", "shape", "why"],
        [
            [str(i), f"<strong>{e(p.connector)}</strong>", e(p.shape), e(p.why)]
            for i, p in enumerate(sc.pilots, 1)
        ],
        num=(0,),
        cls="pilots",
    )


def sec_decision(v: Views) -> str | None:
    d = v.decision
    if d is None:
        return None
    chosen = d.chosen
    out = [
        '<div class="strip">'
        "<div><b>chosen path</b>"
        f"<strong>{e(chosen.title if chosen else d.title or d.path or 'none')}</strong></div>"
        + (f"<div><b>confidence</b>{e(d.confidence)}</div>" if d.confidence else "")
        + "</div>"
    ]
    if d.summary:
        out.append(f"<p>{e(d.summary)}</p>")
    if d.thin_evidence:
        out.append(
            '<p class="missing">Thin evidence: ' + "; ".join(e(t) for t in d.thin_evidence) + "</p>"
        )
    for p in d.paths:
        is_chosen = p.id == d.path
        reasons = "".join(
            f"<li>{f'<b>{e(r.effect)}</b>: ' if r.effect else ''}{e(r.text)} "
            f"{evidence_links(r.evidence) if r.evidence else ''}</li>"
            for r in p.reasons
        )
        hard = "".join(f"<li>{e(h)}</li>" for h in p.stays_hard)
        out.append(
            f'<div class="path{" chosen" if is_chosen else ""}" data-path="{e(p.id)}">'
            f"<h3>{'✔ ' if is_chosen else ''}{e(p.title)} <code>{e(p.id)}</code>"
            f"{' — chosen' if is_chosen else ''}</h3>"
            + (f"<p><b>fit:</b> {e(p.fit)}</p>" if p.fit else "")
            + (f"<p><b>why</b></p><ul>{reasons}</ul>" if reasons else "")
            + (f"<p><b>what stays hard</b></p><ul>{hard}</ul>" if hard else "")
            + "</div>"
        )
    return "".join(out)


def _checks_table(checks: Sequence[Check], *, collapse_after: int = 30) -> str:
    def rows(cs: Sequence[Check]) -> list[list[str]]:
        return [
            [status(c.status), f"<code>{e(c.id)}</code>", e(c.subject), e(c.summary)] for c in cs
        ]

    headers = ["status", "check", "subject", "summary"]
    if len(checks) <= collapse_after:
        return _table(headers, rows(checks), cls="checks")
    shown = [c for c in checks if c.status == "FAIL"] or list(checks[:10])
    rest = [c for c in checks if c not in shown]
    return (
        _table(headers, rows(shown), cls="checks")
        + f"<details><summary>{len(rest)} more checks</summary>"
        + _table(headers, rows(rest), cls="checks")
        + "</details>"
    )


def _tally(t: dict[str, int]) -> str:
    return " ".join(f"{status(k)} {n}" for k, n in t.items())


def sec_validation(v: Views) -> str | None:
    val = v.validation
    if val is None:
        return None
    return (
        '<div class="strip"><div><b>result</b>'
        f"{pill(val.ok, 'no difference', 'differences found')}</div>"
        f"<div><b>checks</b>{_tally(val.tally)}</div>"
        + (f"<div><b>recorded</b>{e(val.recorded_at)}</div>" if val.recorded_at else "")
        + "</div>"
        + (
            _checks_table(val.checks)
            if val.checks
            else '<p class="missing">no checks in validate.json</p>'
        )
    )


def sec_rehearsals(v: Views) -> str | None:
    if not v.rehearsals:
        return None
    out = []
    for r in v.rehearsals:
        out.append(
            f'<h3 data-rehearsal="{e(r.connector)}">{e(r.connector)} '
            f"{pill(r.ok, 'passed', 'failed')}"
            f" <small>target {e(r.target or '?')} · {e(r.recorded_at)}</small></h3>"
        )
        out.append(
            _table(
                ["step", "result", "seconds", "summary"],
                [
                    [
                        f"<code>{e(s.step)}</code>",
                        pill(s.ok),
                        e("" if s.seconds is None else f"{s.seconds:.1f}"),
                        e(s.summary),
                    ]
                    for s in r.steps
                ],
                num=(2,),
            )
            if r.steps
            else '<p class="missing">no steps recorded</p>'
        )
    return "".join(out)


def _baseline_charts(bls: Sequence[Baseline]) -> str:
    lag = line_chart(
        "Consumer-group lag over time (records, sum over groups)",
        [Series(b.label, b.total_lag, colour=i) for i, b in enumerate(bls)],
        y_label="records",
    )
    latency = line_chart(
        "Canary produce / fetch latency over time",
        [
            Series(S.series_name(kind, side, b.label), points, dashed=kind == "fetch", colour=i)
            for i, b in enumerate(bls)
            for kind, per_side in (("produce", b.produce_ms), ("fetch", b.fetch_ms))
            for side, points in sorted(per_side.items())
        ],
        y_label="ms",
    )
    charts = [lag, latency]
    if any(b.source_lag_ms for b in bls):
        charts.append(
            line_chart(
                "Source connector lag over time (MilliSecondsBehindSource)",
                [
                    Series(S.series_name("", name, b.label), points, colour=i)
                    for i, b in enumerate(bls)
                    for name, points in sorted(b.source_lag_ms.items())
                ],
                y_label="ms",
            )
        )
    return f'<div class="charts">{"".join(charts)}</div>'


def sec_baseline(v: Views) -> str | None:
    if not v.baselines and v.compare is None:
        return None
    out = []
    if v.baselines:
        out.append(_baseline_charts(v.baselines))
        rows = []
        for b in v.baselines:
            states = ", ".join(f"{k}: {s}" for k, s in sorted(b.last_states.items()))
            failures = max((y for _, y in b.task_failures), default=None)
            summary = "<br>".join(
                [f"{e(k)}: {e(val)}" for k, val in b.summary.items()]
                + [f"max group lag: {e(S.series_max(b.total_lag))}"]
                + [
                    f"{e(S.series_name(kind, side, ''))} max: {e(S.series_max(points))} ms"
                    for kind, per_side in (("produce", b.produce_ms), ("fetch", b.fetch_ms))
                    for side, points in sorted(per_side.items())
                ]
            )
            rows.append(
                [
                    f"<strong>{e(b.label)}</strong>",
                    e(b.started_at),
                    e("" if b.duration_seconds is None else f"{b.duration_seconds:g}"),
                    e(b.samples),
                    e(", ".join(b.groups)),
                    e(states),
                    e("" if failures is None else f"{failures:g}"),
                    summary,
                ]
            )
        out.append(
            _table(
                [
                    "label",
                    "started",
                    "seconds",
                    "samples",
                    "groups",
                    "connectors (last)",
                    "task failures (max)",
                    "summary",
                ],
                rows,
                num=(2, 3, 6),
                cls="baselines",
            )
        )
    else:
        out.append('<p class="missing">No baseline samples recorded (only a comparison).</p>')
    c = v.compare
    if c is None:
        out.append(
            '<p class="missing">No comparison yet — run '
            "<code>connshift baseline compare</code>.</p>"
        )
    else:
        out.append(
            f"<h3>Comparison {e(c.before)} → {e(c.after)} "
            f"{pill(c.ok, 'no regression', f'{len(c.regressions)} regression(s)')}</h3>"
        )
        if c.regressions:
            out.append(
                _table(
                    ["metric", "subject", "before", "after", "why"],
                    [
                        [
                            f"<code>{e(r.metric)}</code>",
                            e(r.subject),
                            e(r.before),
                            e(r.after),
                            e(r.why),
                        ]
                        for r in c.regressions
                    ],
                    cls="regressions",
                )
            )
    return "".join(out)


def sec_sync(v: Views) -> str | None:
    s = v.sync
    if s is None:
        return None
    per_second = s.seconds is not None and s.seconds > 0
    chart = bar_chart(
        "Sync throughput per topic"
        + (" (records/s over the run)" if per_second else " (records copied)"),
        [
            (t.topic, (t.records_per_second or 0.0) if per_second else float(t.records))
            for t in s.topics
        ],
        unit="rec/s" if per_second else "records",
    )
    strip = (
        '<div class="strip">'
        f"<div><b>records</b>{e(S.num(s.records))}</div>"
        f"<div><b>seconds</b>{e(S.num(s.seconds))}</div>"
        f"<div><b>records/s</b>{e(S.num(s.records_per_second))}</div>"
        + (f"<div><b>engine</b>{e(s.engine)}</div>" if s.engine else "")
        + "</div>"
    )
    table = _table(
        ["topic", "destination topic", "partitions", "records copied", "records/s", "offsets"],
        [
            [
                e(t.topic),
                e(t.dst_topic),
                e(t.partitions),
                e(S.num(t.records)),
                e(S.num(t.records_per_second)),
                "equal" if t.contiguous else "mapped (non-contiguous)",
            ]
            for t in s.topics
        ],
        num=(2, 3, 4),
        cls="sync-topics",
    )
    return strip + chart + table


def sec_cost(v: Views) -> str | None:
    c = v.cost
    if c is None:
        return None
    cur, dst = c.model("current"), c.model("destination")
    out = [
        '<div class="strip">'
        + "".join(
            f"<div><b>{e(m.title)} total / month</b>"
            f"<strong>{e(S.money(m.total, c.currency))}</strong></div>"
            for m in c.models
        )
        + "<div><b>difference (destination - current)</b>"
        + f"{e(S.money(c.difference, c.currency, sign=True))}"
        + (f" ({c.percent:+g}%)" if c.percent is not None else "")
        + "</div>"
        + "</div>"
    ]
    if c.unowned:
        out.append(
            '<p class="error unowned"><strong>Unowned lines</strong> (no owner in '
            "<code>readiness.cost.owners</code>): "
            + ", ".join(f"<code>{e(u)}</code>" for u in c.unowned)
            + "</p>"
        )
    if cur is not None and dst is not None:
        ids = list(dict.fromkeys([ln.id for ln in cur.lines] + [ln.id for ln in dst.lines]))
        cl, dl = {ln.id: ln for ln in cur.lines}, {ln.id: ln for ln in dst.lines}
        out.append(
            _table(
                ["line", cur.title, dst.title],
                [
                    [
                        e((cl.get(i) or dl[i]).label),
                        e(S.money(cl[i].monthly, c.currency)) if i in cl else "—",
                        e(S.money(dl[i].monthly, c.currency)) if i in dl else "—",
                    ]
                    for i in ids
                ]
                + [
                    [
                        "<strong>total</strong>",
                        f"<strong>{e(S.money(cur.total, c.currency))}</strong>",
                        f"<strong>{e(S.money(dst.total, c.currency))}</strong>",
                    ]
                ],
                num=(1, 2),
                cls="cost-compare",
            )
        )
    for m in c.models:
        out.append(f"<h3>{e(m.title)}: lines, formulas and inputs</h3>")
        out.append(
            _table(
                ["line", "monthly", "formula", "inputs", "owner"],
                [
                    [
                        f"{e(ln.label)}<br><code>{e(ln.id)}</code>",
                        e(S.money(ln.monthly, c.currency)),
                        f"<code>{e(ln.formula)}</code>",
                        "<br>".join(
                            f"<code>{e(k)}</code> = {e(val)}" for k, val in ln.inputs.items()
                        ),
                        '<span class="flag">⚑ unowned</span>'
                        if ln.flagged and not ln.owner
                        else (e(ln.owner) + (' <span class="flag">⚑</span>' if ln.flagged else "")),
                    ]
                    for ln in m.lines
                ],
                num=(1,),
                cls="cost-lines",
            )
        )
    for m in c.models:
        if m.assumed:
            out.append(
                f"<p><small>{e(m.title)} assumes: "
                + "; ".join(e(a) for a in m.assumed)
                + "</small></p>"
            )
    if c.profile:
        out.append(f"<p><small>pricing profile: <code>{e(c.profile)}</code></small></p>")
    return "".join(out)


def sec_probe(v: Views) -> str | None:
    if not v.probes:
        return None
    out = []
    for p in v.probes:
        out.append(
            f'<h3 data-probe="{e(p.side)}">{e(p.side)} <code>{e(p.bootstrap)}</code> '
            f"{pill(p.ok, 'all checks pass', f'{len(p.failed)} failed')}</h3>"
            f'<div class="strip"><div><b>counts</b>{_tally(p.tally)}</div>'
            + (f"<div><b>Kafka</b>{e(p.kafka_version)}</div>" if p.kafka_version else "")
            + (f"<div><b>recorded</b>{e(p.recorded_at)}</div>" if p.recorded_at else "")
            + "</div>"
        )
        if p.failed:
            out.append(_checks_table(p.failed))
    return "".join(out)


def sec_review(v: Views) -> str | None:
    r = v.review
    if r is None:
        return None
    strip = (
        '<div class="strip">'
        + "".join(
            f'<div><b>{e(k)}</b><span class="badge {e(k)}">{n}</span></div>'
            for k, n in r.counts.items()
        )
        + "</div>"
    )
    if not r.findings:
        return strip + '<p class="ok">No findings.</p>'
    return strip + _table(
        ["severity", "finding", "subject", "what", "fix"],
        [
            [
                f'<span class="badge {e(f.severity)}">{e(f.severity)}</span>',
                f"<code>{e(f.id)}</code>",
                e(f.subject),
                e(f.finding),
                e(f.fix),
            ]
            for f in r.findings
        ],
        cls="findings",
    )


def sec_inventory(v: Views) -> str | None:
    inv = v.inventory
    if inv is None:
        return None
    size = S.size(inv.size_bytes) + (
        f" ({inv.size_unknown} topic(s) not served)" if inv.size_unknown else ""
    )
    facts = [
        ("cluster", inv.cluster_id),
        ("brokers", S.num(inv.brokers)),
        ("Connect worker", inv.worker_version),
        ("connectors", str(len(inv.connectors))),
        ("topics", str(inv.topics)),
        ("partitions", str(inv.partitions)),
        ("on-disk size", size),
        ("records retained (approx.)", S.num(inv.records_retained)),
        ("produce rate", f"{S.num(inv.rate_per_second)} records/s"),
        ("consumer groups", str(len(inv.groups))),
    ]
    out = [
        '<div class="strip">'
        + "".join(f"<div><b>{e(k)}</b>{e(val)}</div>" for k, val in facts)
        + "</div>"
    ]
    if inv.connectors:
        out.append(
            _table(
                ["connector", "class", "shape", "plugin", "state", "tasks", "topics"],
                [
                    [
                        e(c.name),
                        f"<code>{e(c.cls)}</code>",
                        e(c.shape),
                        e(c.plugin_version),
                        state_badge(c.state),
                        e(f"{c.tasks}" + (f" ({c.failed_tasks} FAILED)" if c.failed_tasks else "")),
                        e(c.topics),
                    ]
                    for c in inv.connectors
                ],
                num=(5, 6),
                cls="inv-connectors",
            )
        )
    if inv.groups:
        out.append(
            _table(
                ["group", "state", "members", "lag (records)"],
                [
                    [e(g.group), e(g.state), e(S.num(g.members)), e(S.num(g.lag))]
                    for g in inv.groups
                ],
                num=(2, 3),
                cls="inv-groups",
            )
        )
    return "".join(out)


def sec_evidence(v: Views) -> str | None:
    if not v.index:
        return None
    return _table(
        ["kind", "schema", "recorded", "file", "excerpt"],
        [
            [
                f"<code>{e(i.kind)}</code>",
                e(i.schema),
                e(i.recorded_at),
                f'<a href="{e(i.href)}">{e(i.kind)}.json</a>' if i.href else "",
                f"<details><summary>show</summary><pre>{e(i.excerpt)}</pre></details>",
            ]
            for i in v.index
        ],
        cls="evidence-index",
    )


RENDERERS: dict[str, Callable[[Views], str | None]] = {
    "blockers": sec_blockers,
    "scorecard": sec_scorecard,
    "pilots": sec_pilots,
    "decision": sec_decision,
    "validation": sec_validation,
    "rehearsals": sec_rehearsals,
    "baseline": sec_baseline,
    "sync": sec_sync,
    "cost": sec_cost,
    "probe": sec_probe,
    "review": sec_review,
    "inventory": sec_inventory,
    "evidence": sec_evidence,
}


def render_html(v: Views) -> str:
    """The whole page."""
    m = v.meta
    parts = []
    for section in S.SECTIONS:
        error = v.errors.get(section.evidence_section)
        state = "present"
        if error:
            state = "error"
            body = (
                f'<p class="error">The {e(section.title.lower())} evidence could not be read '
                f"({e(error)}) — rerun <code>{e(section.command(m.config))}</code>.</p>"
            )
        else:
            try:
                rendered = RENDERERS[section.id](v)
            except Exception as exc:  # a view the renderer trips over costs its section only
                rendered, state = None, "error"
                body = (
                    '<p class="error">This section could not be rendered '
                    f"({e(type(exc).__name__)}: {e(exc)}).</p>"
                )
            if rendered is None and state != "error":
                state, body = "missing", _missing(section, m.config)
            elif rendered is not None:
                body = rendered
        cls = ""
        if section.id == "blockers":
            cls = " blockers" + (
                " clear" if v.scorecard is not None and not v.scorecard.blockers else ""
            )
        parts.append(
            f'<section id="{section.id}" class="section{cls}" data-section="{section.id}" '
            f'data-state="{state}"><h2>{e(section.title)}</h2>{body}</section>'
        )
    nav = "".join(f'<a href="#{s.id}">{e(s.title)}</a>' for s in S.SECTIONS)
    header = [
        ("spec", m.spec_name),
        ("generated", m.generated_at),
        ("connshift", m.version),
        ("source Kafka", m.source_kafka),
        ("source Connect", m.source_connect),
        ("destination Kafka", m.destination_kafka),
        ("destination Connect", m.destination_connect),
        ("evidence", f"{m.state_href}/evidence/"),
    ]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(val or '—')}</dd>" for k, val in header)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="connshift report">'
        f"<title>connshift report — {e(m.spec_name)}</title><style>{CSS}</style></head>"
        "<body><header>"
        f"<h1>connshift readiness report — {e(m.spec_name)}</h1><dl>{dl}</dl></header>"
        f"<nav>{nav}</nav><main>{''.join(parts)}</main>"
        f"<footer>Generated by connshift {e(m.version)} from the evidence store at "
        f"<code>{e(m.state_href)}/evidence/</code>. Self-contained: this page fetches nothing."
        "</footer></body></html>\n"
    )
