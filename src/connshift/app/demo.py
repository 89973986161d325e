"""``connshift demo`` / ``make demo``: the whole journey on the local sandbox.

Each later feature adds its step here; today: start the sandbox, seed the source
estate, check the spec against both sides, and show what a migration would move.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connshift.app.check import check_spec
from connshift.app.config import load_spec
from connshift.app.sandbox import Sandbox, write_sandbox_spec
from connshift.app.seed import seed
from connshift.io.connect import ConnectClient
from connshift.io.kafka import KafkaCluster

Reporter = Callable[[str], None]


def run_demo(
    sandbox: Sandbox,
    *,
    with_tansu: bool = False,
    spec_path: Path = Path("sandbox.yaml"),
    report: Reporter = lambda _m: None,
) -> dict[str, Any]:
    """Run every step that exists; return a JSON-ready account of what happened."""
    summary: list[str] = []
    info = sandbox.up(with_tansu=with_tansu, report=report)
    spec = write_sandbox_spec(sandbox, spec_path)
    summary.append(f"1. sandbox up: {len(info.services)} services healthy under {sandbox.home}")
    summary.append(f"   spec written to {spec}")
    seeded = seed(sandbox, report=report)
    summary.append(
        f"2. seeded the source estate: {len(seeded.connectors)} connectors RUNNING, "
        f"{len(seeded.topic_records)} topics with records"
    )
    checked = check_spec(spec)
    summary.append(
        "3. connshift check: "
        + ", ".join(f"{r.side} {r.service} {'PASS' if r.ok else 'FAIL'}" for r in checked.rows)
    )

    spec_model = load_spec(spec)
    source = KafkaCluster(spec_model.source.kafka.client_config(), name="source")
    destination = KafkaCluster(spec_model.destination.kafka.client_config(), name="destination")
    topics = {n: t for n, t in source.topics().items() if not n.startswith("__")}
    groups = source.groups()
    with ConnectClient(f"http://127.0.0.1:{sandbox.ports['source-connect']}", name="source") as c:
        connectors = {n: c.status(n).state for n in sorted(c.connectors())}
    summary.append("4. the source estate a migration would move:")
    for name, state in connectors.items():
        summary.append(f"   connector {name:<28} {state}")
    topic_rows: dict[str, dict[str, Any]] = {}
    for name, t in sorted(topics.items()):
        if not spec_model.topics.selects(name) and not name.startswith("connect-"):
            continue  # other topics (tests, benchmarks) are not part of the demo's estate
        marks = [source.watermarks(name, p) for p in range(t.partitions)]
        policy = source.topic_configs(name).get("cleanup.policy", "delete")
        in_scope = spec_model.topics.selects(name)
        topic_rows[name] = {
            "partitions": t.partitions,
            "log_start": [lo for lo, _ in marks],
            "high_watermark": [hi for _, hi in marks],
            "cleanup.policy": policy,
            "in_scope": in_scope,
        }
        scope = "in scope" if in_scope else "excluded (Connect internal)"
        summary.append(
            f"   topic {name:<32} {t.partitions} partition(s), offsets "
            + ", ".join(f"{lo}..{hi}" for lo, hi in marks)
            + f", {policy}, {scope}"
        )
    for g in groups:
        offsets = source.group_offsets(g)
        scoped = [tp for tp in offsets if topic_rows.get(tp[0], {}).get("in_scope")]
        if g.startswith("connshift-") or not scoped:
            continue  # connshift's own groups, and groups of topics outside the spec
        summary.append(f"   consumer group {g:<23} {len(scoped)} committed partition(s)")
    from connshift.app import acls as acls_app
    from connshift.app import groups as groups_app
    from connshift.app.sync import SyncOptions, sync
    from connshift.app.validate import validate

    report("syncing the in-scope topics to the destination (exact offsets)")
    synced = sync(spec_model, SyncOptions())
    mapped = [r for r in synced.partitions if not r["contiguous"]]
    summary.append(
        f"5. sync --once: {synced.records:,} records copied in {synced.seconds:.1f}s into "
        f"{len(synced.partitions)} partitions; {len(synced.partitions) - len(mapped)} keep "
        f"identical offsets, {len(mapped)} have an exact offset map"
    )
    for r in mapped:
        summary.append(
            f"   {r['topic']}[{r['partition']}] -> {r['dst_topic']}[{r['partition']}]: "
            f"{r['runs']} runs (source end {r['source_next']}, destination end "
            f"{r['destination_next']})"
        )
    report("translating and applying consumer-group offsets")
    applied = groups_app.apply(spec_model)
    kinds: dict[str, int] = {}
    for o in applied.offsets:
        kinds[str(o.translation)] = kinds.get(str(o.translation), 0) + 1
    summary.append(
        f"6. groups apply: {len(applied.applied)} groups committed on the destination "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
        + (f"; refused: {', '.join(sorted(applied.refused))}" if applied.refused else "")
    )
    acl_result = acls_app.apply(spec_model)
    summary.append(
        f"7. acls apply: {len(acl_result.source_relevant)} source ACLs cover the migrated "
        f"topics and groups; {len(acl_result.created)} created on the destination"
    )
    report("validating source against destination")
    checked_streams = validate(spec_model, report=report)
    tally = checked_streams.to_json()["tally"]
    summary.append(
        f"8. validate: {tally['PASS']} PASS, {tally['FAIL']} FAIL — "
        + (
            "every copied record identical, in order, at its mapped offset; every applied group "
            "resumes at the same record"
            if checked_streams.ok
            else "see `connshift validate`"
        )
    )
    summary.append(
        "next (not built yet): plan, cutover and rollback of the connectors; inventory, probe, "
        "score and report"
    )
    dest_topics = sorted(
        n for n in destination.topics() if n in topic_rows and topic_rows[n]["in_scope"]
    )
    return {
        "schema": "connshift.demo/1",
        "sandbox": info.to_json(),
        "seed": seeded.to_json(),
        "check": checked.to_json(),
        "estate": {"connectors": connectors, "topics": topic_rows, "groups": groups},
        "destination_topics": dest_topics,
        "sync": synced.to_json(),
        "groups": applied.to_json(),
        "acls": acl_result.to_json(),
        "validate": checked_streams.to_json(),
        "summary": summary,
    }
