"""The report as Markdown: the same sections as the HTML page, tables instead of charts.

Cell text is escaped (``|``, newlines, ``<``/``>``/``&``, backticks) so a value from
evidence cannot break a table or inject HTML into a renderer that allows it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from connshift.core.report import sections as S
from connshift.core.report.views import Baseline, Check, EvidenceRef, Row, Views


def m(value: object) -> str:
    """Escape one inline value."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    for ch in "*_[]":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def code(value: object) -> str:
    text = " ".join(str(value).replace("`", "'").split()).replace("|", "\\|")
    return f"`{text}`" if text else ""


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c or " " for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def score(value: int | None) -> str:
    return {0: "🔴 0", 1: "🟡 1", 2: "🟢 2"}.get(value, "?") if value is not None else "?"


def yes(ok: bool | None, good: str = "ok", bad: str = "FAILED") -> str:
    return "unknown" if ok is None else (good if ok else f"**{bad}**")


def links(refs: Sequence[EvidenceRef]) -> str:
    out = []
    for r in refs:
        note = " (not recorded)" if r.present is False else ""
        out.append(f"[{m(r.path)}{note}]({r.href})" if r.href else code(r.path) + note)
    return ", ".join(out)


def rows_table(rows: Sequence[Row]) -> str:
    return table(
        ["row", "score", "why", "evidence"],
        [
            [f"{m(r.title)} ({code(r.id)})", score(r.score), m(r.why), links(r.evidence)]
            for r in rows
        ],
    )


def checks_table(checks: Sequence[Check]) -> str:
    return table(
        ["status", "check", "subject", "summary"],
        [[c.status, code(c.id), m(c.subject), m(c.summary)] for c in checks],
    )


def sec_blockers(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    if not sc.blockers:
        return "No blockers: no row scores 0.\n"
    lines = [f"**{len(sc.blockers)} row(s) score 0** — `connshift cutover` refuses to run.\n"]
    lines += [f"- **{m(b.scope)}** · {code(b.row)} — {m(b.why)}" for b in sc.blockers]
    return "\n".join(lines) + "\n"


def sec_scorecard(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    counts = sc.counts()
    out = [
        f"Verdict: {yes(sc.ok, 'ready (no row at 0)', 'blocked')} — rows at 0/1/2: "
        f"{counts['0']}/{counts['1']}/{counts['2']}\n",
        "### Estate\n",
        rows_table(sc.estate),
    ]
    if sc.connectors:
        ids = sc.row_ids
        matrix = []
        for name, rows in sc.connectors.items():
            by_id = {r.id: r for r in rows}
            matrix.append([m(name), *[score(by_id[i].score) if i in by_id else "—" for i in ids]])
        out += ["### Per connector\n", table(["connector", *[code(i) for i in ids]], matrix)]
        for name, rows in sc.connectors.items():
            out += [f"#### {m(name)}\n", rows_table(rows)]
    return "\n".join(out)


def sec_pilots(v: Views) -> str | None:
    sc = v.scorecard
    if sc is None:
        return None
    if not sc.pilots:
        return "The scorecard proposes no pilot yet.\n"
    return table(
        ["order", "connector", "shape", "why"],
        [[str(i), m(p.connector), m(p.shape), m(p.why)] for i, p in enumerate(sc.pilots, 1)],
    )


def sec_decision(v: Views) -> str | None:
    d = v.decision
    if d is None:
        return None
    chosen = d.chosen
    out = [
        f"**Chosen path: {m(chosen.title if chosen else d.title or d.path or 'none')}**"
        + (f" (confidence {m(d.confidence)})" if d.confidence else "")
        + "\n"
    ]
    for p in d.paths:
        mark = " — chosen" if p.id == d.path else ""
        out.append(f"### {m(p.title)} ({code(p.id)}){mark}\n")
        if p.fit:
            out.append(f"Fit: {m(p.fit)}\n")
        if p.reasons:
            out.append(
                "Why:\n\n"
                + "\n".join(
                    f"- {f'**{m(r.effect)}**: ' if r.effect else ''}{m(r.text)}"
                    + (f" ({links(r.evidence)})" if r.evidence else "")
                    for r in p.reasons
                )
                + "\n"
            )
        if p.stays_hard:
            out.append("What stays hard:\n\n" + "\n".join(f"- {m(h)}" for h in p.stays_hard) + "\n")
    return "\n".join(out)


def _tally(t: dict[str, int]) -> str:
    return ", ".join(f"{m(k)} {n}" for k, n in t.items())


def sec_validation(v: Views) -> str | None:
    val = v.validation
    if val is None:
        return None
    return (
        f"Result: {yes(val.ok, 'no difference', 'differences found')} — {_tally(val.tally)}\n\n"
        + (checks_table(val.checks) if val.checks else "")
    )


def sec_rehearsals(v: Views) -> str | None:
    if not v.rehearsals:
        return None
    out = []
    for r in v.rehearsals:
        out.append(
            f"### {m(r.connector)}: {yes(r.ok, 'passed', 'failed')} (target {m(r.target or '?')})\n"
        )
        out.append(
            table(
                ["step", "result", "seconds", "summary"],
                [[code(s.step), yes(s.ok), S.num(s.seconds), m(s.summary)] for s in r.steps],
            )
        )
    return "\n".join(out)


def _series_stats(points: Sequence[tuple[float, float]]) -> str:
    if not points:
        return "—"
    ys = [y for _, y in points]
    return f"{S.num(min(ys))} / {S.num(round(sum(ys) / len(ys), 2))} / {S.num(max(ys))}"


def sec_baseline(v: Views) -> str | None:
    if not v.baselines and v.compare is None:
        return None
    out = []
    if v.baselines:
        bls: Sequence[Baseline] = v.baselines
        out.append("Per label, min / mean / max over the samples:\n")
        rows = []
        for b in bls:
            rows.append(
                [m(b.label), "group lag (records)", _series_stats(b.total_lag), str(b.samples)]
            )
            for kind, per_side in (("produce", b.produce_ms), ("fetch", b.fetch_ms)):
                for side, points in sorted(per_side.items()):
                    name = S.series_name(kind, side, "") + " ms"
                    rows.append([m(b.label), m(name), _series_stats(points), str(len(points))])
            for name, points in sorted(b.source_lag_ms.items()):
                rows.append(
                    [
                        m(b.label),
                        m(f"source lag {name} ms"),
                        _series_stats(points),
                        str(len(points)),
                    ]
                )
            rows.append(
                [m(b.label), "tasks failed", _series_stats(b.task_failures), str(b.samples)]
            )
        out.append(table(["label", "series", "min / mean / max", "samples"], rows))
    c = v.compare
    if c is None:
        out.append("No comparison yet — run `connshift baseline compare`.\n")
    else:
        out.append(
            f"### Comparison {m(c.before)} → {m(c.after)}: "
            + yes(c.ok, "no regression", f"{len(c.regressions)} regression(s)")
            + "\n"
        )
        if c.regressions:
            out.append(
                table(
                    ["metric", "subject", "before", "after", "why"],
                    [
                        [code(r.metric), m(r.subject), m(r.before), m(r.after), m(r.why)]
                        for r in c.regressions
                    ],
                )
            )
    return "\n".join(out)


def sec_sync(v: Views) -> str | None:
    s = v.sync
    if s is None:
        return None
    return (
        f"{S.num(s.records)} records in {S.num(s.seconds)} s "
        f"({S.num(s.records_per_second)} records/s)"
        + (f", engine {m(s.engine)}" if s.engine else "")
        + "\n\n"
        + table(
            ["topic", "destination topic", "partitions", "records copied", "records/s"],
            [
                [
                    m(t.topic),
                    m(t.dst_topic),
                    str(t.partitions),
                    S.num(t.records),
                    S.num(t.records_per_second),
                ]
                for t in s.topics
            ],
        )
    )


def sec_cost(v: Views) -> str | None:
    c = v.cost
    if c is None:
        return None
    out = [
        " · ".join(
            f"{m(mod.title)}: **{S.money(mod.total, m(c.currency))}**/month" for mod in c.models
        )
        + " · difference (destination - current): "
        + S.money(c.difference, m(c.currency), sign=True)
        + "\n"
    ]
    if c.unowned:
        out.append(
            "**Unowned lines** (no owner in `readiness.cost.owners`): "
            + ", ".join(code(u) for u in c.unowned)
            + "\n"
        )
    for mod in c.models:
        out.append(f"### {m(mod.title)}\n")
        out.append(
            table(
                ["line", "monthly", "formula", "inputs", "owner"],
                [
                    [
                        f"{m(ln.label)} ({code(ln.id)})",
                        S.money(ln.monthly, m(c.currency)),
                        code(ln.formula),
                        "; ".join(f"{m(k)} = {m(val)}" for k, val in ln.inputs.items()),
                        ("⚑ **unowned**" if not ln.owner else m(ln.owner) + " ⚑")
                        if ln.flagged
                        else m(ln.owner),
                    ]
                    for ln in mod.lines
                ]
                + [["**total**", f"**{S.money(mod.total, m(c.currency))}**", "", "", ""]],
            )
        )
    return "\n".join(out)


def sec_probe(v: Views) -> str | None:
    if not v.probes:
        return None
    out = []
    for p in v.probes:
        out.append(
            f"### {m(p.side)} ({code(p.bootstrap)}): "
            + yes(p.ok, "all checks pass", f"{len(p.failed)} failed")
            + "\n"
        )
        out.append(
            f"Counts: {_tally(p.tally)}"
            + (f" · Kafka {m(p.kafka_version)}" if p.kafka_version else "")
            + "\n"
        )
        if p.failed:
            out.append(checks_table(p.failed))
    return "\n".join(out)


def sec_review(v: Views) -> str | None:
    r = v.review
    if r is None:
        return None
    head = _tally(r.counts) + "\n\n"
    if not r.findings:
        return head + "No findings.\n"
    return head + table(
        ["severity", "finding", "subject", "what", "fix"],
        [[m(f.severity), code(f.id), m(f.subject), m(f.finding), m(f.fix)] for f in r.findings],
    )


def sec_inventory(v: Views) -> str | None:
    inv = v.inventory
    if inv is None:
        return None
    out = [
        table(
            [
                "cluster",
                "brokers",
                "Connect worker",
                "connectors",
                "topics",
                "partitions",
                "on-disk size",
                "records retained",
                "groups",
            ],
            [
                [
                    m(inv.cluster_id),
                    S.num(inv.brokers),
                    m(inv.worker_version),
                    str(len(inv.connectors)),
                    str(inv.topics),
                    str(inv.partitions),
                    S.size(inv.size_bytes),
                    S.num(inv.records_retained),
                    str(len(inv.groups)),
                ]
            ],
        )
    ]
    if inv.connectors:
        out.append(
            table(
                ["connector", "class", "shape", "plugin", "state", "tasks", "topics"],
                [
                    [
                        m(c.name),
                        code(c.cls),
                        m(c.shape),
                        m(c.plugin_version),
                        m(c.state),
                        f"{c.tasks}" + (f" ({c.failed_tasks} FAILED)" if c.failed_tasks else ""),
                        str(c.topics),
                    ]
                    for c in inv.connectors
                ],
            )
        )
    if inv.groups:
        out.append(
            table(
                ["group", "state", "members", "lag (records)"],
                [[m(g.group), m(g.state), S.num(g.members), S.num(g.lag)] for g in inv.groups],
            )
        )
    return "\n".join(out)


def sec_evidence(v: Views) -> str | None:
    if not v.index:
        return None
    return table(
        ["kind", "schema", "recorded", "file"],
        [
            [
                code(i.kind),
                m(i.schema),
                m(i.recorded_at),
                f"[{m(i.kind)}.json]({i.href})" if i.href else "",
            ]
            for i in v.index
        ],
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


def render_markdown(v: Views) -> str:
    meta = v.meta
    out = [
        f"# connshift readiness report — {m(meta.spec_name)}\n",
        table(
            ["", ""],
            [
                ["generated", m(meta.generated_at)],
                ["connshift", m(meta.version)],
                ["source Kafka", code(meta.source_kafka)],
                ["source Connect", code(meta.source_connect)],
                ["destination Kafka", code(meta.destination_kafka)],
                ["destination Connect", code(meta.destination_connect)],
                ["evidence", code(f"{meta.state_href}/evidence/")],
            ],
        ),
    ]
    for section in S.SECTIONS:
        out.append(f"## {section.title}\n")
        error = v.errors.get(section.evidence_section)
        if error:
            out.append(
                f"**The evidence could not be read** ({m(error)}) — "
                f"rerun `{section.command(meta.config)}`.\n"
            )
            continue
        try:
            body = RENDERERS[section.id](v)
        except Exception as exc:  # a view the renderer trips over costs its section only
            out.append(
                f"**This section could not be rendered** ({m(type(exc).__name__)}: {m(exc)}).\n"
            )
            continue
        if body is None:
            out.append(f"_No evidence yet — run `{section.command(meta.config)}`{section.then}._\n")
        else:
            out.append(body)
    return "\n".join(out)
