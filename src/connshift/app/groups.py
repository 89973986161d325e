"""``connshift groups translate|apply``: consumer-group offsets, translated exactly.

Every committed offset of every selected source group (Connect sink groups
``connect-<name>`` included) is translated through sync's exact offset map. A
position the copy has not reached is reported, never guessed. ``apply`` commits
the translations on the destination, only for groups with no active member there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connshift.app.context import Migration
from connshift.core.offsetmap import PartitionMap
from connshift.errors import CheckFailed, UsageError


class Translation(StrEnum):
    """How a committed offset was translated."""

    EXACT = "exact"  # a copied record sits at the position
    NEXT_RECORD = "next-record"  # the position is a gap; the next copied record's position
    END = "end"  # at the end of what was copied: the destination end
    BELOW_START = "below-copy-start"  # before the source log start the copy began at
    NOT_COPIED = "not-copied-yet"  # beyond what sync has copied: not translated
    NOT_MIGRATED = "topic-not-migrated"  # the topic is outside the spec / not synced


@dataclass(frozen=True)
class GroupOffset:
    """One committed offset of one group, and its translation."""

    group: str
    topic: str
    partition: int
    source_offset: int
    destination_topic: str | None
    destination_offset: int | None
    translation: Translation

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "translation": str(self.translation)}


@dataclass
class GroupsResult:
    """All translations, and what ``apply`` committed or refused."""

    offsets: list[GroupOffset] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    reverse: bool = False

    @property
    def untranslated(self) -> list[GroupOffset]:
        return [o for o in self.offsets if o.translation is Translation.NOT_COPIED]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "connshift.groups/1",
            "dry_run": self.dry_run,
            "reverse": self.reverse,
            "offsets": [o.to_json() for o in self.offsets],
            "applied": self.applied,
            "refused": self.refused,
        }


def translate_position(pmap: PartitionMap, offset: int) -> tuple[int | None, Translation]:
    """Translate one committed offset (a consumer position) through ``pmap``."""
    if offset > pmap.src_next:
        return None, Translation.NOT_COPIED
    if offset < pmap.src_start:
        return pmap.dst_start, Translation.BELOW_START
    position = pmap.position(offset)
    if pmap.record_offset(offset) is not None:
        return position, Translation.EXACT
    if position == pmap.dst_next:
        return position, Translation.END
    return position, Translation.NEXT_RECORD


def translate(migration: Migration, groups_regex: str | None = None) -> GroupsResult:
    """Translate every committed offset of the selected source groups."""
    spec, src = migration.spec, migration.src
    try:
        pattern = re.compile(groups_regex) if groups_regex else None
    except re.error as exc:
        raise UsageError(f"bad --groups regex {groups_regex!r}", why=str(exc)) from exc
    result = GroupsResult()
    for group in src.groups():
        if group.startswith("connshift-") or (pattern and not pattern.fullmatch(group)):
            continue
        for (topic, part), offset in sorted(src.group_offsets(group).items()):
            if not spec.topics.selects(topic):
                result.offsets.append(
                    GroupOffset(group, topic, part, offset, None, None, Translation.NOT_MIGRATED)
                )
                continue
            found = migration.maps.get(topic, part)
            if found is None:
                result.offsets.append(
                    GroupOffset(group, topic, part, offset, None, None, Translation.NOT_COPIED)
                )
                continue
            dst_topic = found.dst_topic
            dst_offset, how = translate_position(found.map, offset)
            result.offsets.append(
                GroupOffset(group, topic, part, offset, dst_topic, dst_offset, how)
            )
    return result


def translate_back(migration: Migration, groups_regex: str | None = None) -> GroupsResult:
    """The reverse, for a rollback: destination groups' offsets on migrated topics,
    translated back to source positions through the same exact maps. A position on
    records that exist only on the destination is reported, never guessed."""
    spec, src, dst = migration.spec, migration.src, migration.dst
    try:
        pattern = re.compile(groups_regex) if groups_regex else None
    except re.error as exc:
        raise UsageError(f"bad --groups regex {groups_regex!r}", why=str(exc)) from exc
    back = {spec.topics.destination_name(t): t for t in src.topics() if spec.topics.selects(t)}
    result = GroupsResult(reverse=True)
    for group in dst.groups():
        if group.startswith("connshift-") or (pattern and not pattern.fullmatch(group)):
            continue
        for (dst_topic, part), offset in sorted(dst.group_offsets(group).items()):
            topic = back.get(dst_topic)
            found = migration.maps.get(topic, part) if topic else None
            if topic is None or found is None:
                continue  # not a migrated topic: nothing to move back
            position = found.map.reverse_position(offset)
            how = Translation.EXACT if position is not None else Translation.NOT_COPIED
            result.offsets.append(GroupOffset(group, dst_topic, part, offset, topic, position, how))
    return result


def apply(
    migration: Migration,
    groups_regex: str | None = None,
    *,
    dry_run: bool = False,
    reverse: bool = False,
) -> GroupsResult:
    """Commit the translated offsets on the destination (memberless groups only); with
    ``reverse``, commit destination groups' positions back on the source."""
    if reverse:
        result = translate_back(migration, groups_regex)
    else:
        result = translate(migration, groups_regex)
    result.dry_run = dry_run
    # commit where the group goes (back) to
    dst = migration.src if reverse else migration.dst
    by_group: dict[str, list[GroupOffset]] = {}
    for o in result.offsets:
        if o.destination_offset is not None and o.destination_topic is not None:
            by_group.setdefault(o.group, []).append(o)
    not_copied: dict[str, list[GroupOffset]] = {}
    for o in result.untranslated:
        not_copied.setdefault(o.group, []).append(o)
    # a group whose every offset is beyond the copy has no translated row: refused too
    for group in sorted(set(by_group) | set(not_copied)):
        rows = by_group.get(group, [])
        if group in not_copied:
            first = not_copied[group][0]
            side = migration.dst if reverse else migration.src
            result.refused[group] = _not_copied_reason(side, first)
            continue
        state, members = dst.group_state(group)
        if members:
            result.refused[group] = (
                f"it has {members} active member(s) on the "
                f"{'source' if reverse else 'destination'} ({state})"
            )
            continue
        if not dry_run:
            dst.commit_group_offsets(
                group,
                {(o.destination_topic, o.partition): o.destination_offset for o in rows},  # type: ignore[misc]
            )
        result.applied.append(group)
    return result


def _not_copied_reason(side: Any, row: GroupOffset) -> str:
    """Why ``row`` could not be translated: sync has not copied that far yet, or the
    committed offset is past the end of the partition itself (no sync will ever reach it)."""
    where = f"{row.topic}[{row.partition}]@{row.source_offset}"
    _low, high = side.watermarks(row.topic, row.partition)
    if row.source_offset > high:
        return (
            f"{where} is past the end of {row.topic}[{row.partition}] (high watermark {high}): "
            "the committed offset names no record; reset the group there (kafka-consumer-groups "
            "--reset-offsets --to-latest) or leave it out (--groups)"
        )
    return f"{where} is beyond what sync has copied: run sync first"


def raise_if_refused(result: GroupsResult, groups: Sequence[str] | None = None) -> None:
    """One clear error when any group was refused."""
    if result.refused:
        group, why = next(iter(sorted(result.refused.items())))
        more = f" (and {len(result.refused) - 1} more)" if len(result.refused) > 1 else ""
        raise CheckFailed(
            f"group {group} was not applied on the destination{more}",
            why=why,
            fix="stop its consumers on the destination (a group must be empty to set offsets)"
            if "member" in why
            else None  # the reason says what to do
            if "past the end" in why
            else "run `connshift sync` until the copy has passed the committed offsets",
            group=group,
        )
