"""``connshift validate``: a contract test between the source and its copy.

Per partition, over the range sync has copied: counts, first and last offsets, an
order-sensitive digest over key, value, headers and timestamp, missing records,
duplicates and foreign records, each checked *through the exact offset map*; and,
per consumer group applied on the destination, that its committed offset is the
exact translation and points at the same record on both sides. A stream of
:class:`CheckResult`; any FAIL makes the command exit 1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connshift.app.context import Migration
from connshift.app.groups import Translation, translate
from connshift.app.steps import ended
from connshift.app.sync import select_topics
from connshift.core.checks import CheckResult, Status, tally
from connshift.core.digest import record_digest
from connshift.core.streamdiff import Entry, SideIndex, diff_partition, same_record_at
from connshift.io.kafka import KafkaCluster

Reporter = Callable[[str], None]


def _key_hash(key: bytes | None) -> int:
    if key is None:
        return -1
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _entries(
    cluster: KafkaCluster, topic: str, partition: int, start: int, end: int | None
) -> Iterator[Entry]:
    for rec in cluster.read(topic, partition, start, end, isolation="read_committed", timeout=300):
        yield (
            rec.offset,
            record_digest(rec.key, rec.value, rec.headers, rec.timestamp),
            _key_hash(rec.key),
        )


@dataclass
class ValidateResult:
    """Every check of one validate run."""

    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status is not Status.FAIL for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.validate/1",
            "ok": self.ok,
            "tally": tally(self.checks),
            "checks": [c.to_json() for c in self.checks],
        }


def validate(
    migration: Migration,
    topics: Sequence[str] | None = None,
    *,
    groups: bool = True,
    report: Reporter = lambda _m: None,
    record: bool = True,
) -> ValidateResult:
    """Compare source and destination over what sync copied; check applied groups. The
    result is recorded as ``validate`` evidence (with the ``--topics`` filter)."""
    spec, src, dst = migration.spec, migration.src, migration.dst
    result = ValidateResult()
    moved = cutover_boundaries(migration)
    indexes: dict[tuple[str, int], tuple[SideIndex, SideIndex, str]] = {}
    src_topics = src.topics()
    for topic in select_topics(list(src_topics), spec, topics):
        compacted = "compact" in src.topic_configs(topic).get("cleanup.policy", "delete")
        for part in range(src_topics[topic].partitions):
            subject = f"{topic}[{part}]"
            found = migration.maps.get(topic, part)
            if found is None:
                result.checks.append(
                    CheckResult(
                        "stream.copied",
                        Status.FAIL,
                        subject,
                        "not copied: sync has no offset map for this partition",
                    )
                )
                continue
            dst_topic, pmap = found.dst_topic, found.map
            report(f"comparing {subject} with {dst_topic}[{part}]")
            s_idx = SideIndex.build(_entries(src, topic, part, pmap.src_start, pmap.src_next))
            # a connector cut over writes this topic on the destination now: what it wrote
            # after the copied range is not part of the copy
            boundary = moved.get((topic, part))
            d_idx = SideIndex.build(_entries(dst, dst_topic, part, pmap.dst_start, boundary))
            after = (dst.end_offsets(dst_topic, [part])[part][1] - boundary) if boundary else 0
            indexes[(topic, part)] = (s_idx, d_idx, dst_topic)
            diff = diff_partition(s_idx, d_idx, pmap, compacted=compacted)
            evidence = {
                "destination": f"{dst_topic}[{part}]",
                "copied_source_range": [pmap.src_start, pmap.src_next],
                "destination_range": [pmap.dst_start, pmap.dst_next],
                "offsets_identical": pmap.contiguous,
                "map_runs": len(pmap.runs),
                "compacted": compacted,
                "produced_on_destination_after_cutover": after,
                **diff.evidence(),
            }
            if diff.ok:
                summary = (
                    f"{diff.matched} records identical in order"
                    + (
                        ", same offsets"
                        if pmap.contiguous
                        else f", mapped in {len(pmap.runs)} runs"
                    )
                    + (f"; {diff.superseded} superseded by compaction" if diff.superseded else "")
                )
                result.checks.append(
                    CheckResult("stream.diff", Status.PASS, subject, summary, evidence)
                )
            else:
                summary = (
                    f"{len(diff.missing)} missing, {len(diff.duplicates)} duplicated, "
                    f"{len(diff.mismatched)} different, {len(diff.foreign)} foreign"
                )
                result.checks.append(
                    CheckResult("stream.diff", Status.FAIL, subject, summary, evidence)
                )
    if groups:
        result.checks.extend(_group_checks(migration, indexes))
    if record:
        migration.record("validate", {**result.to_json(), "topics_filter": list(topics or [])})
    return result


def cutover_boundaries(migration: Migration) -> dict[tuple[str, int], int]:
    """(source topic, partition) -> destination offset where a cut-over connector's own
    records begin, for connectors whose latest cutover is not rolled back."""
    if not (Path(migration.spec.state_dir) / "journal.db").is_file():
        return {}
    out: dict[tuple[str, int], int] = {}
    journal = migration.journal
    for name in journal.connectors():
        attempt = journal.attempt(name)
        if ended(journal, name, attempt):  # rolled back: nothing of it stays moved
            continue
        done = journal.done_steps(name, attempt)
        if "resume" not in done or "catch-up" not in done:
            continue
        for key, end in done["catch-up"].data.get("ends", {}).items():
            topic, _, part = key.rpartition("/")
            out[(topic, int(part))] = int(end["dst_next"])
    return out


def _group_checks(
    migration: Migration,
    indexes: dict[tuple[str, int], tuple[SideIndex, SideIndex, str]],
) -> Iterator[CheckResult]:
    dst = migration.dst
    translated = translate(migration)
    dst_groups = set(dst.groups())
    applied: dict[str, dict[tuple[str, int], int]] = {}
    for row in translated.offsets:
        if row.translation is Translation.NOT_MIGRATED or (row.topic, row.partition) not in indexes:
            continue
        subject = f"group {row.group} {row.topic}[{row.partition}]@{row.source_offset}"
        if row.destination_offset is None:
            yield CheckResult(
                "group.translated",
                Status.FAIL,
                subject,
                "committed beyond what sync has copied: not translated",
                {"translation": str(row.translation)},
            )
            continue
        s_idx, d_idx, dst_topic = indexes[(row.topic, row.partition)]
        same = same_record_at(s_idx, d_idx, row.source_offset, row.destination_offset)
        evidence: dict[str, Any] = {
            "translation": str(row.translation),
            "destination": f"{dst_topic}[{row.partition}]@{row.destination_offset}",
            "same_next_record": same,
        }
        if row.group in dst_groups and row.group not in applied:
            applied[row.group] = dst.group_offsets(row.group)
        committed = applied.get(row.group, {}).get((dst_topic, row.partition))
        if committed is None:  # not applied on the destination (for this copy)
            yield CheckResult(
                "group.translated",
                Status.PASS if same is not False else Status.FAIL,
                subject,
                f"translates to {dst_topic}[{row.partition}]@{row.destination_offset} "
                f"({row.translation}); not applied on the destination",
                evidence,
            )
            continue
        evidence["destination_committed"] = committed
        ok = committed == row.destination_offset and same is not False
        yield CheckResult(
            "group.resume",
            Status.PASS if ok else Status.FAIL,
            subject,
            (
                f"resumes at {dst_topic}[{row.partition}]@{committed}: the same record"
                if ok
                else f"destination committed {committed}, exact translation is "
                f"{row.destination_offset}"
            ),
            evidence,
        )
