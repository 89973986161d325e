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
from connshift.app.context import Migration
from connshift.app.sandbox import Sandbox, write_sandbox_spec
from connshift.app.seed import seed
from connshift.io.connect import ConnectClient
from connshift.io.evidence import evidence_dir, record_evidence

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
    # one migration context for the whole journey (closed when the demo ends)
    m = Migration(load_spec(spec))
    try:
        return _journey(sandbox, info.to_json(), spec, m, summary, report)
    finally:
        m.close()


def _journey(
    sandbox: Sandbox,
    sandbox_info: dict[str, Any],
    spec: Path,
    m: Migration,
    summary: list[str],
    report: Reporter,
) -> dict[str, Any]:
    summary.extend(_roll_back_previous(m, report))
    summary.extend(_fresh_destination(m, report))
    seeded = seed(sandbox, report=report)
    summary.append(
        f"2. seeded the source estate: {len(seeded.connectors)} connectors RUNNING, "
        f"{len(seeded.topic_records)} topics with records"
    )
    checked = check_spec(spec)
    record_evidence(m.spec, "check", checked.to_json())
    summary.append(
        "3. connshift check: "
        + ", ".join(f"{r.side} {r.service} {'PASS' if r.ok else 'FAIL'}" for r in checked.rows)
    )
    summary.extend(_know_the_estate(m, report))

    spec_model = m.spec
    source, destination = m.src, m.dst
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
    synced = sync(m, SyncOptions())
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
    applied = groups_app.apply(m)
    kinds: dict[str, int] = {}
    for o in applied.offsets:
        kinds[str(o.translation)] = kinds.get(str(o.translation), 0) + 1
    summary.append(
        f"6. groups apply: {len(applied.applied)} groups committed on the destination "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
        + (f"; refused: {', '.join(sorted(applied.refused))}" if applied.refused else "")
    )
    acl_result = acls_app.apply(m)
    summary.append(
        f"7. acls apply: {len(acl_result.source_relevant)} source ACLs cover the migrated "
        f"topics and groups; {len(acl_result.created)} created on the destination"
    )
    report("validating source against destination")
    checked_streams = validate(m, report=report)
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
    summary.extend(_move_connectors(sandbox, m, report))
    checked_again = validate(m, report=report)
    tally = checked_again.to_json()["tally"]
    summary.append(
        f"13. validate after the cutover: {tally['PASS']} PASS, {tally['FAIL']} FAIL "
        "(records the moved connectors wrote on the destination are reported, not compared)"
    )
    from connshift.app.report import write_report
    from connshift.app.score import run_score

    card = run_score(spec_model)
    summary.append(
        "14. score after the move: "
        + ("nothing blocks" if card.ok else f"{len(card.blockers())} row(s) at 0")
        + f" -> {evidence_dir(spec_model.state_dir) / 'score.json'}"
    )
    written = write_report(
        spec_model, config=spec, output=Path(spec_model.state_dir) / "report.html", fmt="html"
    )
    summary.append(f"15. report (self-contained HTML): {written.path}")
    dest_topics = sorted(
        n for n in destination.topics() if n in topic_rows and topic_rows[n]["in_scope"]
    )
    return {
        "schema": "connshift.demo/1",
        "sandbox": sandbox_info,
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


SEEDED = ("shop-cdc", "files-source", "files-sink")


def _move_connectors(sandbox: Sandbox, migration: Migration, report: Reporter) -> list[str]:
    """Cut the seeded connectors over while the live writer runs; roll one back."""
    import json
    import threading
    import time

    from connshift.app import cutover as mover
    from connshift.app.seed import CDC_TOPICS, live

    spec = migration.spec
    lines: list[str] = []
    moved = set(_cut_over(migration))
    todo = [n for n in SEEDED if n not in moved]
    stats: list[Any] = []
    lines.extend(_decide_to_go(sandbox, migration, todo, report))
    writer = threading.Thread(
        target=lambda: stats.append(live(sandbox, rate=30, max_changes=90)), daemon=True
    )
    writer.start()
    # gated by the scorecard, like `connshift cutover`
    m = mover.Mover(migration, report=report)
    result = m.cutover(mover.plan(migration, todo)) if todo else None
    writer.join(60)
    if result is not None:
        pauses = ", ".join(f"{n} {s:.1f}s" for n, s in result.pause_seconds.items())
        lines.append(
            f"10. cutover (live writer running): {', '.join(todo)} moved to the destination "
            f"Connect cluster; pause (source stopped -> destination RUNNING): {pauses}"
        )
    else:
        lines.append("10. cutover: the seeded connectors were already on the destination")
    txids = set(stats[0].txids) if stats else set()
    dst = migration.dst
    deadline = time.monotonic() + 60
    counts: dict[int, int] = {}
    while time.monotonic() < deadline:
        counts = {}
        for topic in CDC_TOPICS:
            for r in dst.read(spec.topics.destination_name(topic), 0, timeout=60):
                if r.value:
                    tx = json.loads(r.value)["source"].get("txId")
                    if tx in txids:
                        counts[tx] = counts.get(tx, 0) + 1
        if len(counts) == len(txids):
            break
        time.sleep(1)
    once = sum(1 for n in counts.values() if n == 1)
    lines.append(
        f"11. {len(txids)} row changes written during the cutover: {once} on the destination "
        f"exactly once, {len(txids) - len(counts)} missing, "
        f"{sum(1 for n in counts.values() if n > 1)} twice"
    )
    lines.extend(_baseline_after(migration, report))
    back = mover.Mover(migration, report=report).rollback(["files-source"])
    copied: Any = next((s.data.get("moved") for s in back.steps if s.step == "copy-back"), {})
    lines.append(
        f"12. rollback files-source: stopped on the destination, {sum((copied or {}).values())} "
        "record(s) it wrote there copied back, resumed on the source at its destination "
        "position"
    )
    return lines


def _decide_to_go(
    sandbox: Sandbox, migration: Migration, todo: list[str], report: Reporter
) -> list[str]:
    """plan, a rehearsal of files-source, then the scorecard the cutover is gated on."""
    import threading
    import time

    from connshift.app import cutover as mover
    from connshift.app.rehearse import rehearse
    from connshift.app.score import run_score

    spec = migration.spec
    lines: list[str] = ["9. decide to go: the evidence the scorecard gates the cutover on"]
    plans = mover.plan(migration, list(SEEDED))
    record_evidence(spec, "plan", mover.plan_json(plans, spec.name))
    lines.append(
        "   plan: "
        + ", ".join(f"{p.name} ({p.shape}, {p.strategy})" for p in plans)
        + f" -> {evidence_dir(spec.state_dir) / 'plan.json'}"
    )
    if "files-source" in todo:
        # new lines in the file while the rehearsal runs, so its verify step sees the
        # destination connector's first records instead of waiting out the window
        stop = threading.Event()
        log = sandbox.files_dir() / "access.log"

        def append() -> None:
            n = 0
            while not stop.wait(0.5):
                n += 1
                with log.open("a") as fh:
                    fh.write(f"demo rehearsal line {time.time():.3f} {n}\n")

        feeder = threading.Thread(target=append, daemon=True)
        feeder.start()
        try:
            rehearsed = rehearse(
                spec, "files-source", target=spec, target_label="sandbox", report=report
            )
        finally:
            stop.set()
            feeder.join(5)
        steps = ", ".join(f"{s.step} {'PASS' if s.ok else 'FAIL'}" for s in rehearsed.steps)
        lines.append(f"   rehearse files-source on the sandbox: {steps}")
    from connshift.app.baseline import run_baseline
    from connshift.app.cost import run_cost
    from connshift.app.decide import run_decide

    report("baseline before the cutover (10 s)")
    before = run_baseline(migration, "before", duration=10, interval=2, report=report)
    sources = ", ".join(f"{k} {v}" for k, v in before.get("metrics_source", {}).items())
    lines.append(
        f"   baseline before: {before['summary']['samples']} samples over 10 s "
        f"(metrics: {sources}) -> {evidence_dir(spec.state_dir) / 'baseline-before.json'}"
    )

    costed = run_cost(spec)
    current = costed["models"]["current"]["total"]
    target = costed["models"]["destination"]["total"]
    lines.append(
        f"   cost: {costed['currency']} {current:,.0f}/month now vs {target:,.0f}/month on the "
        f"destination model ({len(costed['unowned'])} line(s) without an owner)"
    )
    decided = run_decide(spec)
    lines.append(
        f"   decide: {decided.get('title') or 'no path favoured yet'} "
        f"(confidence {decided.get('confidence')})"
    )
    card = run_score(spec)
    rows = [r for r in card.estate] + [r for rs in card.connectors.values() for r in rs]
    counts = {n: sum(1 for r in rows if r.score == n) for n in (2, 1, 0)}
    blocked = ", ".join(f"{b['scope']} {b['row']}" for b in card.blockers()) or "nothing"
    lines.append(
        f"   score: {counts[2]} rows at 2 (tested), {counts[1]} at 1 (documented), "
        f"{counts[0]} at 0; blocks: {blocked}"
        + (f"; pilots: {', '.join(p.connector for p in card.pilots)}" if card.pilots else "")
    )
    return lines


def _baseline_after(migration: Migration, report: Reporter) -> list[str]:
    """The same window after the cutover, compared with the one before."""
    from connshift.app.baseline import compare_baselines, run_baseline

    report("baseline after the cutover (10 s)")
    run_baseline(migration, "after", duration=10, interval=2, report=report)
    compared = compare_baselines(migration, "before", "after")
    found = "; ".join(f"{r['metric']} {r['subject']}: {r['why']}" for r in compared["regressions"])
    return [
        "   baseline after + compare: "
        + ("no regression" if compared["ok"] else f"regressions: {found}")
    ]


def _cut_over(migration: Migration) -> list[str]:
    """Seeded connectors whose latest cutover (in this spec's journal) is not rolled back."""
    from connshift.app.steps import ended

    if not (Path(migration.spec.state_dir) / "journal.db").is_file():
        return []
    journal = migration.journal
    out = []
    for name in SEEDED:
        attempt = journal.attempt(name)
        done = journal.done_steps(name, attempt) if attempt else {}
        if "create-stopped" in done and not ended(journal, name, attempt):
            out.append(name)
    return out


def _roll_back_previous(migration: Migration, report: Reporter) -> list[str]:
    """A previous demo left connectors on the destination: roll them back first, through
    the journal, so this run starts from the source estate again."""
    from connshift.app import cutover as mover

    names = _cut_over(migration)
    if not names:
        return []
    # `sandbox seed` may have reset some already (deleted on the destination, resumed
    # on the source): close those attempts in the journal instead of rolling back
    reset = [n for n in names if not migration.dst_connect.exists(n)]
    if reset:
        _drop_destination_copies(migration, mover.plan(migration, reset), report)
    journal = migration.journal
    for name in reset:
        attempt = journal.attempt(name)
        journal.record(
            name, attempt, "rollback", "rolled-back", "done", {"reason": "sandbox reset"}
        )
    names = [n for n in names if n not in reset]
    if names:
        mover.Mover(migration, report=report).rollback(names, force=True)
    if not names:
        return ["   (a previous demo's cutovers were already reset by `sandbox seed`)"]
    return [f"   (rolled back {', '.join(names)}, left on the destination by a previous demo)"]


def _know_the_estate(migration: Migration, report: Reporter) -> list[str]:
    """inventory, probe (destination) and review, with their artifacts in the state dir."""
    from connshift.app.inventory import inventory
    from connshift.app.probe import probe
    from connshift.app.review import run_review

    spec = migration.spec
    state = evidence_dir(spec.state_dir)
    report("taking the inventory")
    inv = inventory(migration, rate_window=1.0, report=report).to_json()
    report("probing the destination")
    probed = probe(spec, "destination", inventory=inv, report=report).to_json()
    record_evidence(spec, "probe-destination", probed)
    reviewed = run_review(
        migration,
        inventory_file=state / "inventory.json",
        probe_file=state / "probe-destination.json",
    )
    secrets = sum(len(c["inline_secrets"]) for c in inv["connectors"])
    tally = probed["tally"]
    counts = reviewed["counts"]
    return [
        f"   inventory: {len(inv['connectors'])} connectors, {len(inv['topics'])} topics, "
        f"{len(inv['groups'])} groups, {len(inv['acls'])} ACLs, {secrets} inline secret(s) "
        f"(redacted) -> {state / 'inventory.json'}",
        f"   probe of the destination: {tally['PASS']} PASS, {tally['FAIL']} FAIL, "
        f"{tally['SKIP']} SKIP -> {state / 'probe-destination.json'}",
        f"   review: {counts['high']} high, {counts['medium']} medium, {counts['low']} low "
        f"findings -> {state / 'review.json'}",
    ]


def _fresh_destination(migration: Migration, report: Reporter) -> list[str]:
    """A demo with a new state directory (run from another folder, or after tests and
    rehearsals wrote to the sandbox) owns no copy on the destination: drop the in-scope
    destination topics (and their mirrored maps) so its sync starts clean."""
    from connshift.app.maps import state_path
    from connshift.app.sync import drop_destination_copies

    spec = migration.spec
    if state_path(spec).exists():
        return []
    topics = [t for t in migration.src.topics() if spec.topics.selects(t)]
    dropped = drop_destination_copies(migration, topics, report, why="not this demo's copy")
    if not dropped:
        return []
    return [
        f"   (a new state directory: dropped {len(dropped)} destination topic(s) it did not copy)"
    ]


def _drop_destination_copies(migration: Migration, plans: Any, report: Reporter) -> None:
    """After `sandbox seed` reset cut-over connectors (deleted on the destination, resumed
    on the source), their destination topics hold records the source never had: drop
    those copies, their maps and their sync state so this demo's sync copies them afresh."""
    from connshift.app.sync import drop_destination_copies

    topics = [t for plan in plans for t in plan.topics]
    drop_destination_copies(migration, topics, report, why="sandbox reset")
    source_topics = migration.src.topics()
    for topic in topics:
        for p in range(source_topics[topic].partitions):
            migration.store.forget(topic, p)
