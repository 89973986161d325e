"""dashboards/connshift.json: every panel queries metrics that connshift or the shipped
JMX exporter rules actually export.

connshift's own names come from its metric registries (sync, cutover); the exporter's from
a real scrape of the sandbox's two Connect workers (tests/unit/data/jmx-exporter-connect.prom),
and each must also be a name the rules in jmx-exporter-connect.yaml can produce.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from connshift.io.metrics import cutover_metrics, sync_metrics
from connshift.io.sandbox.services import jmx_exporter_config

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboards" / "connshift.json"
SCRAPE = Path(__file__).parent / "data" / "jmx-exporter-connect.prom"

#: PromQL words that are not metric names
PROMQL = {
    "sum", "min", "max", "avg", "count", "stddev", "topk", "bottomk", "quantile",
    "rate", "irate", "increase", "delta", "deriv", "by", "without", "on", "ignoring",
    "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "histogram_quantile", "max_over_time", "min_over_time", "avg_over_time", "abs",
    "clamp_min", "clamp_max", "label_replace", "time", "vector", "scalar",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    words = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text)
    return {w for w in words if w not in PROMQL and not re.fullmatch(r"\d+[smhdwy]?", w)}


def connshift_names() -> set[str]:
    sync = sync_metrics()
    sync.update({("t", 0): (1, 10, 5, 1)})
    cut = cutover_metrics()
    cut.on_step("c", "cutover", "preflight", "done", 1.0)
    names: set[str] = set()
    for registry in (sync.registry, cut.registry):
        for family in registry.collect():
            names |= {s.name for s in family.samples}
    return names


def exporter_names() -> set[str]:
    families = text_string_to_metric_families(SCRAPE.read_text())
    return {s.name for f in families for s in f.samples}


def rule_patterns() -> list[re.Pattern[str]]:
    rules = yaml.safe_load(Path(jmx_exporter_config()).read_text())["rules"]
    out = []
    for rule in rules:
        name = re.escape(rule["name"].lower())
        out.append(re.compile(re.sub(r"\\\$\d+", "[a-z0-9_]+", name)))
    return out


def panels() -> list[dict[str, Any]]:
    data = json.loads(DASHBOARD.read_text())
    found: list[dict[str, Any]] = []
    stack = list(data["panels"])
    while stack:
        p = stack.pop()
        stack.extend(p.get("panels", []))  # rows
        if p.get("type") != "row":
            found.append(p)
    return found


def test_dashboard_has_the_promised_panels() -> None:
    exprs = " ".join(t["expr"] for p in panels() for t in p["targets"])
    for name in (
        "connshift_sync_records_total",
        "connshift_sync_lag_records",
        "connshift_cutover_step_seconds",
        "kafka_connect_task_error_total_record_errors",
        "debezium_metrics_millisecondsbehindsource",
    ):
        assert name in exprs
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("panel", panels(), ids=lambda p: str(p["title"]))
def test_every_panel_queries_exported_metrics(panel: dict[str, Any]) -> None:
    ours, exporter, rules = connshift_names(), exporter_names(), rule_patterns()
    assert panel["targets"], "a panel without a query"
    for target in panel["targets"]:
        names = metric_names(target["expr"])
        assert names, f"no metric in {target['expr']!r}"
        for name in names:
            if name.startswith("connshift_"):
                assert name in ours, f"connshift does not export {name}"
            else:
                assert name in exporter, f"the JMX exporter scrape has no {name}"
                assert any(r.fullmatch(name) for r in rules), f"no exporter rule makes {name}"


def test_metric_names_parser() -> None:
    expr = 'sum by (topic) (rate(connshift_sync_records_total{topic=~"a.*"}[1m])) > 0'
    assert metric_names(expr) == {"connshift_sync_records_total"}
    assert metric_names("kafka_connect_connector_status == 1") == {"kafka_connect_connector_status"}
