"""connshift report: the pure renderer (core/report) on fixture evidence, malformed and
missing evidence, escaping, self-containment; app/report and the CLI on a state dir."""

from __future__ import annotations

import copy
import itertools
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from connshift.cli import main as cli
from connshift.core.report import SCHEMA, ReportMeta, render, summary
from connshift.core.report import views as V
from connshift.core.report.sections import SECTIONS
from connshift.core.report.svg import Series, bar_chart, line_chart, nice_ticks

DATA = Path(__file__).parent / "data" / "evidence"
EVIL = "<script>alert('pwned')</script>"
META = ReportMeta(
    spec_name="shop",
    generated_at="2026-11-26T10:00:00+00:00",
    version="0.1.0",
    source_kafka="127.0.0.1:19092",
    destination_kafka="127.0.0.1:29092",
    state_href="../.connshift",
    config="shop.yaml",
)


def fixture_evidence() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))}


class Page(HTMLParser):
    """Every tag with its attributes, the text, and the text of each section."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.sections: dict[str, str] = {}
        self._section: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section or "?"] = a.get("data-state") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(self.text)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


# ---------------------------------------------------------------------------- html


def test_html_renders_every_section_from_the_fixture_evidence() -> None:
    page = parse(render(fixture_evidence(), META, "html"))
    assert page.sections == {s.id: "present" for s in SECTIONS}
    text = page.all_text
    # header, from the meta only
    assert "shop" in text and "127.0.0.1:29092" in text and "0.1.0" in text
    # blockers come first, before the scorecard
    ids = [a.get("id") for t, a in page.tags if t == "section"]
    assert ids[0] == "blockers" and ids[1] == "scorecard"
    blockers = [a["data-blocker"] for t, a in page.tags if "data-blocker" in a]
    assert blockers == ["observability", "dest.cutover"]
    # every connector row of the scorecard is there, with its badge
    scores = [a["data-score"] for t, a in page.tags if t == "span" and "data-score" in a]
    assert scores.count("0") >= 2 and "1" in scores and "2" in scores
    for name in ("pg-orders-cdc", "files-sink", EVIL):
        assert name in text
    # charts: group lag, canary latency, source lag over time; one bar per topic
    svgs = [a["class"] for t, a in page.tags if t == "svg"]
    assert svgs.count("chart line") == 3 and svgs.count("chart bar") == 1
    bars = [a["data-bar"] for t, a in page.tags if "data-bar" in a]
    assert bars == ["app.events", "files.lines", "shop.orders"]
    series = [a["data-series"] for t, a in page.tags if "data-series" in a]
    assert {
        "before",
        "after",
        "produce destination before",
        "fetch destination after",
        "pg-orders-cdc after",
    } <= set(series)
    # the chosen path is marked, unowned cost lines are flagged
    chosen = [a["data-path"] for t, a in page.tags if "path chosen" in (a.get("class") or "")]
    assert chosen == ["other-storage-platform"]
    assert "inter_zone_replication" in text and "unowned" in text
    assert "brokers x instance_hour x 730" in text


def test_an_evil_connector_name_renders_as_text_never_as_markup() -> None:
    html = render(fixture_evidence(), META, "html")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    page = parse(html)
    assert not [t for t, _ in page.tags if t in ("script", "iframe", "object", "embed")]
    assert EVIL in page.all_text


def test_the_page_links_to_nothing_on_the_network() -> None:
    html = render(fixture_evidence(), META, "html")
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "data", "xlink:href", "srcset", "poster"):
            value = attrs.get(name)
            if value is None:
                continue
            assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", value, re.I), (tag, name, value)
    assert not [t for t, a in page.tags if t == "link"]
    assert "@import" not in html and "url(" not in html
    csp = [a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    # the URL-shaped evidence paths of the fixture are shown, not linked; so is a path
    # that names no evidence file
    assert "http://evil.example/steal.json" in page.all_text
    assert "javascript:alert(1)" in page.all_text
    assert "connshift.yaml#readiness.criteria" in page.all_text
    assert not [a for t, a in page.tags if t == "a" and "connshift.yaml" in a["href"]]


def test_evidence_links_are_relative_to_the_report_and_carry_an_excerpt() -> None:
    page = parse(render(fixture_evidence(), META, "html"))
    hrefs = [a["href"] for t, a in page.tags if t == "a" and not a["href"].startswith("#")]
    assert "../.connshift/evidence/inventory.json" in hrefs
    assert all(h.startswith("../.connshift/") for h in hrefs)
    assert "schema: connshift.inventory/1" in page.all_text  # an excerpt, embedded


def test_no_evidence_renders_every_section_with_the_command_to_run() -> None:
    html = render({}, META, "html")
    page = parse(html)
    assert set(page.sections.values()) == {"missing"}
    text = page.all_text
    for command in ("score", "decide", "validate", "rehearse", "baseline", "sync", "cost"):
        assert f"connshift {command} -c shop.yaml" in text, command
    assert "No evidence yet" in text
    md = render({}, META, "md")
    assert md.count("No evidence yet") == len(SECTIONS)


def test_one_section_missing_leaves_the_others_whole() -> None:
    ev = fixture_evidence()
    del ev["cost"]
    page = parse(render(ev, META, "html"))
    assert page.sections["cost"] == "missing"
    assert page.sections["decision"] == "present"


WEIRD: list[Any] = [None, "x", 7, -1.5, True, [], {}, [None, 3, "y"], {"a": [1, {"b": None}]}]


def _mutations(data: Any, limit: int = 40) -> list[Any]:
    """Copies of ``data`` with one value (at depth 1 to 3, the first items of each list)
    replaced by something of the wrong shape."""
    out: list[Any] = []

    def walk(node: Any, path: list[Any]) -> None:
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))[:2]
        for key, value in items:
            for w in WEIRD if len(path) < 1 else WEIRD[::3]:
                mutated = copy.deepcopy(data)
                target = mutated
                for p in path:
                    target = target[p]
                target[key] = w
                out.append(mutated)
            if isinstance(value, dict | list) and len(path) < 2:
                walk(value, [*path, key])

    walk(data, [])
    return out[:: max(1, len(out) // limit)]


@pytest.mark.parametrize("kind", sorted(p.stem for p in DATA.glob("*.json")))
def test_malformed_evidence_never_crashes_the_report(kind: str) -> None:
    base = fixture_evidence()
    cases = [*_mutations(base[kind]), {}, {"schema": 1, "evidence": "x"}]
    for i, mutated in enumerate(cases):
        ev = {**base, kind: mutated}
        page = parse(render(ev, META, "html"))
        assert len(page.sections) == len(SECTIONS)
        # the accessors take it in their stride: no section falls back to "could not read"
        assert "error" not in page.sections.values(), mutated
        if i % 4 == 0:
            assert render(ev, META, "md").count("\n## ") == len(SECTIONS)
            assert json.loads(render(ev, META, "json"))["schema"] == SCHEMA
    # a kind whose file is not an object at all is skipped
    assert render({**base, kind: ["not", "an", "object"]}, META, "html")  # type: ignore[dict-item]


def test_an_accessor_that_trips_costs_its_section_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_ev: Any) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(V, "sync", boom)
    page = parse(render(fixture_evidence(), META, "html"))
    assert page.sections["sync"] == "error"
    assert page.sections["scorecard"] == "present"
    assert "could not be read" in page.all_text
    assert summary(fixture_evidence(), META)["sections"]["sync"] == "error"


# ---------------------------------------------------------------------------- accessors


def test_score_blockers_are_derived_from_rows_at_0_when_the_file_lists_none() -> None:
    ev = fixture_evidence()
    del ev["score"]["blockers"]
    sc = V.scorecard(ev, META)
    assert sc is not None
    assert [(b.scope, b.row) for b in sc.blockers] == [
        ("estate", "observability"),
        ("files-sink", "dest.cutover"),
    ]
    assert sc.counts() == {"0": 2, "1": 16, "2": 9}


def test_sync_rate_per_topic_is_records_copied_over_the_run_seconds() -> None:
    ev = fixture_evidence()
    s = V.sync(ev)
    assert s is not None
    parts = ev["sync"]["partitions"]
    for t in s.topics:
        copied = sum(p["copied_this_run"] for p in parts if p["topic"] == t.topic)
        assert t.records == copied
        assert t.records_per_second == round(copied / ev["sync"]["seconds"], 1)
    assert {t.topic: t.contiguous for t in s.topics}["shop.orders"] is False


def test_cost_flags_lines_without_owner_and_computes_missing_totals() -> None:
    ev = fixture_evidence()
    raw = ev["cost"]
    for model in raw["models"].values():
        del model["total"]
        for line in model["lines"]:
            del line["flagged"]
    del raw["difference"], raw["unowned"]
    c = V.cost(ev)
    assert c is not None
    cur, dst = c.model("current"), c.model("destination")
    assert cur is not None and dst is not None
    want_cur = round(sum(ln["monthly"] for ln in raw["models"]["current"]["lines"]), 2)
    want_dst = round(sum(ln["monthly"] for ln in raw["models"]["destination"]["lines"]), 2)
    assert (cur.total, dst.total) == (want_cur, want_dst)
    assert c.difference == round(want_dst - want_cur, 2)
    assert c.unowned == ["inter_zone_replication"]
    line = next(ln for ln in cur.lines if ln.id == "broker_compute")
    assert line.inputs["brokers"] == "3 brokers (inventory)"
    assert cur.title == "current (shared-nothing, self-managed)"


def test_inventory_sums_group_lag_and_known_sizes() -> None:
    inv = V.inventory(fixture_evidence())
    assert inv is not None
    assert {g.group: g.lag for g in inv.groups} == {"billing": 12, "connect-files-sink": 0}
    assert inv.size_bytes == 7340032 + 52428800 and inv.size_unknown == 1
    assert inv.partitions == 10
    assert [c.failed_tasks for c in inv.connectors] == [0, 1, 0]


def test_baseline_series_come_from_the_samples() -> None:
    ev = fixture_evidence()
    before, after = V.baselines(ev)
    assert (before.label, after.label) == ("before", "after")
    samples = ev["baseline-after"]["samples"]
    assert len(after.total_lag) == len(samples)
    assert after.total_lag[3] == (samples[3]["t"], sum(samples[3]["group_lag"].values()))
    assert after.last_states["files-sink"] == "PAUSED"
    # per-side canary series, and failed tasks summed over connectors per sample
    assert [p[1] for p in after.produce_ms["destination"]] == [
        s["produce_ms"]["destination"] for s in samples
    ]
    assert [p[1] for p in after.task_failures] == [
        sum(c["tasks_failed"] for c in s["connectors"].values()) for s in samples
    ]
    assert max(p[1] for p in before.task_failures) == 0
    cmp_ = V.baseline_compare(ev)
    assert cmp_ is not None and cmp_.ok is False and len(cmp_.regressions) == 2


def test_safe_href_links_relative_files_only() -> None:
    assert V.safe_href("../s", "evidence/a b.json") == "../s/evidence/a%20b.json"
    assert V.safe_href(".", "evidence/x.json") == "evidence/x.json"
    for bad in ("http://x/y", "https:x", "javascript:alert(1)", "/etc/passwd", "data:text/html,"):
        assert V.safe_href("../s", bad) is None, bad
    assert V.safe_href("//evil", "x.json") is None


# ---------------------------------------------------------------------------- other formats


def test_markdown_has_the_same_sections_and_escapes_table_cells() -> None:
    ev = fixture_evidence()
    ev["review"]["findings"][0]["finding"] = "a | b\nc"
    md = render(ev, META, "md")
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings == [s.title for s in SECTIONS]
    assert "a \\| b c" in md
    assert "<script" not in md and "&lt;script&gt;" in md
    assert "](http" not in md and "](javascript" not in md


def test_json_combines_all_evidence_with_a_summary() -> None:
    ev = fixture_evidence()
    doc = json.loads(render(ev, META, "json"))
    assert doc["schema"] == SCHEMA == "connshift.report/1"
    assert set(doc["evidence"]) == set(ev)
    s = doc["summary"]
    assert s["ready"] is False and len(s["blockers"]) == 2
    assert s["decision"]["path"] == "other-storage-platform"
    assert s["rehearsals"] == {"files-sink": False, "pg-orders-cdc": True}
    assert s["sections"] == {sec.id: "present" for sec in SECTIONS}


def test_a_secret_left_in_evidence_stays_out_of_every_format() -> None:
    ev = fixture_evidence()
    ev["inventory"]["connectors"][0]["config"]["database.password"] = "s3cr3t-inline"
    ev["cost"]["api_key"] = "s3cr3t-top"
    ev["cost"]["profile"] = {"token": "s3cr3t-small", "path": "p.yaml"}
    for fmt in ("html", "md", "json"):
        out = render(ev, META, fmt)
        assert "s3cr3t" not in out, fmt
    doc = json.loads(render(ev, META, "json"))
    assert doc["evidence"]["inventory"]["connectors"][0]["config"]["database.password"] == "***"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render({}, META, "pdf")


# ---------------------------------------------------------------------------- svg


@pytest.mark.parametrize(("lo", "hi"), [(0, 1), (0, 7), (3, 3), (-5, 1234), (0.001, 0.004)])
def test_nice_ticks_cover_the_range(lo: float, hi: float) -> None:
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def test_charts_escape_labels_and_say_when_empty() -> None:
    svg = line_chart("t<1>", [Series("a&b", [(0, 1), (1, 2)]), Series("empty", [])])
    assert "t&lt;1&gt;" in svg and "a&amp;b" in svg and 'data-series="empty"' not in svg
    assert "no samples" in line_chart("x", [Series("a", [])])
    bar = bar_chart("b", [("<x>", 3.0), ("y", 0.0)])
    assert "&lt;x&gt;" in bar and "<x>" not in bar
    assert "nothing to show" in bar_chart("b", [])


# ---------------------------------------------------------------------------- app + cli

SPEC = """\
version: 1
name: shop
source:
  kafka:
    bootstrap_servers: 127.0.0.1:19092
    security_protocol: SASL_PLAINTEXT
    sasl: {{mechanism: PLAIN, username: alice, password: hunter2-secret}}
  connect:
    url: http://127.0.0.1:18083
    auth: {{username: admin, password: connect-secret}}
destination:
  kafka:
    bootstrap_servers: 127.0.0.1:29092
state_dir: {state}
"""


def _state(tmp_path: Path) -> tuple[Path, Path]:
    state = tmp_path / "state"
    (state / "evidence").mkdir(parents=True)
    for p in DATA.glob("*.json"):
        (state / "evidence" / p.name).write_text(p.read_text())
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC.format(state=state))
    return spec, state


def test_cli_writes_the_report_with_links_that_resolve_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, state = _state(tmp_path)
    out = tmp_path / "site" / "report.html"
    with pytest.raises(SystemExit) as info:
        cli.run(["report", "-c", str(spec), "-o", str(out)])
    assert info.value.code == 0  # blockers are shown, not an exit code
    stdout = capsys.readouterr().out
    assert f"report: {out}" in stdout.replace("\n", "")
    html = out.read_text()
    assert "hunter2-secret" not in html and "connect-secret" not in html
    assert "127.0.0.1:18083" in html
    page = parse(html)
    links = [a["href"] for t, a in page.tags if t == "a" and a["href"].endswith(".json")]
    assert links
    for href in links:
        target = (out.parent / unquote(href)).resolve()
        if target.name in {"plan.json", "acls.json"}:  # cited by the scorecard, not recorded
            continue
        assert target.is_file(), href
        assert target.parent == (state / "evidence").resolve()
    # the report records nothing as evidence
    assert sorted(p.name for p in (state / "evidence").iterdir()) == sorted(
        p.name for p in DATA.glob("*.json")
    )


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_cli_json_output_and_default_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    spec, _ = _state(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.run(["report", "-c", str(spec), "--format", fmt, "--json"])
    assert info.value.code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["format"] == fmt and result["path"] == f"report.{fmt}"
    assert result["summary"]["ready"] is False
    assert (tmp_path / f"report.{fmt}").is_file()


def test_cli_with_an_empty_state_dir_still_writes_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC.format(state=tmp_path / "nothing-here"))
    out = tmp_path / "r.html"
    with pytest.raises(SystemExit) as info:
        cli.run(["report", "-c", str(spec), "-o", str(out)])
    assert info.value.code == 0
    assert "no evidence yet for" in capsys.readouterr().out
    assert set(parse(out.read_text()).sections.values()) == {"missing"}


def test_cli_refuses_an_unknown_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, _ = _state(tmp_path)
    with pytest.raises(SystemExit) as info:
        cli.run(["report", "-c", str(spec), "--format", "pdf"])
    assert info.value.code == 2
    assert "unknown report format" in capsys.readouterr().err
