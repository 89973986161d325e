"""`connshift report` read back in a real browser: Debian's headless Chromium renders the
page written from the fixture evidence, with the network unreachable, and the test asserts
on the DOM Chromium built and on its network log. A screenshot is kept under
build/test-artifacts/. Needs chromium only (scripts/setup.sh installs it), no Kafka."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from .helpers import run_cli

pytestmark = pytest.mark.chromium

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = ROOT / "tests" / "unit" / "data" / "evidence"
ARTIFACTS = ROOT / "build" / "test-artifacts"
EVIL = "<script>alert('pwned')</script>"

#: keep the browser's own background traffic out of the network log, and route anything
#: that still tries the network (loopback included) to a closed port
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed: run `make setup` (scripts/setup.sh)")
    return found


def browse(chromium: str, tmp: Path, url: str, *extra: str) -> tuple[str, list[dict[str, Any]]]:
    """Open ``url``; returns (stdout, the page's own network requests from the net log)."""
    netlog = tmp / f"netlog-{len(list(tmp.glob('netlog-*')))}.json"
    proc = subprocess.run(
        [
            chromium,
            *QUIET,
            f"--user-data-dir={tmp / 'profile'}",
            f"--log-net-log={netlog}",
            "--virtual-time-budget=3000",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, page_requests(netlog)


def page_requests(netlog: Path) -> list[dict[str, Any]]:
    """Requests a page made (a file:// page's origin is opaque: initiator "null"); the
    browser's own traffic has no initiator or "not an origin"."""
    events = json.loads(netlog.read_text()).get("events", [])
    out = []
    for ev in events:
        params = ev.get("params") or {}
        url = params.get("url") or params.get("original_url")
        initiator = str(params.get("initiator"))
        if url and (initiator == "null" or initiator.startswith("file:")):
            out.append({"url": url, "initiator": initiator})
    return out


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, attr: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if attr in a]


def test_network_log_sees_a_page_that_fetches(chromium: str, tmp_path: Path) -> None:
    """The negative control: the same detector does see a page's remote image."""
    page = tmp_path / "fetches.html"
    page.write_text('<!DOCTYPE html><p>x</p><img src="http://example.invalid/pixel.png">')
    _, requests = browse(chromium, tmp_path, page.as_uri(), "--dump-dom")
    assert any("example.invalid" in r["url"] for r in requests), requests


def test_report_renders_in_chromium_offline(chromium: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(EVIDENCE, state / "evidence")
    spec = tmp_path / "shop.yaml"
    spec.write_text(
        "version: 1\nname: shop\n"
        "source:\n  kafka:\n    bootstrap_servers: 127.0.0.1:19092\n"
        "destination:\n  kafka:\n    bootstrap_servers: 127.0.0.1:29092\n"
        f"state_dir: '{state}'\n"
    )
    out = tmp_path / "site" / "report.html"
    proc = run_cli("report", "-c", str(spec), "-o", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout.replace("\n", "")

    dom_text, requests = browse(chromium, tmp_path, out.as_uri(), "--dump-dom")
    assert requests == [], f"the report made network requests: {requests}"
    dom = Dom()
    dom.feed(dom_text)
    text = " ".join(dom.text)

    # every section rendered, none fell back to "no evidence" or an error
    sections = {a["id"]: a["data-state"] for a in dom.having("data-section")}
    assert sections and set(sections.values()) == {"present"}, sections
    # the scorecard: 12 estate rows, one matrix row per connector (the evil one included)
    score_tables = [a for t, a in dom.tags if t == "table" and a.get("class") == "score-rows"]
    assert len(score_tables) == 1 + 3  # estate + one per connector
    matrix_links = [a["href"] for t, a in dom.tags if t == "a" and "#connector-" in a["href"]]
    assert len(matrix_links) == 3
    # blockers shown, first
    assert [a["data-blocker"] for a in dom.having("data-blocker")] == [
        "observability",
        "dest.cutover",
    ]
    assert next(iter(sections)) == "blockers"
    # charts: inline SVG with drawn series and bars
    assert len([t for t, _ in dom.tags if t == "svg"]) >= 3
    assert len(dom.having("data-series")) >= 6 and len(dom.having("data-bar")) == 3
    # the evil connector name is text: Chromium built no script element from it
    assert not [t for t, _ in dom.tags if t == "script"]
    assert EVIL in text
    # nothing in the page points at the network
    for tag, attrs in dom.tags:
        for name in ("src", "href", "srcset", "action", "data", "poster"):
            value = attrs.get(name) or ""
            assert not re.match(r"^\s*(https?:|//|ftp:|wss?:)", value, re.I), (tag, name, value)

    # a screenshot, kept with the test artifacts
    shot = tmp_path / "report.png"
    browse(chromium, tmp_path, out.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / "report.png"
    shutil.copyfile(shot, kept)
    shutil.copyfile(out, ARTIFACTS / "report.html")
    print(f"\nreport screenshot: {kept}\nreport page: {ARTIFACTS / 'report.html'}")
