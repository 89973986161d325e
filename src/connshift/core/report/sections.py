"""The report's sections, in page order, and the small formatters every format shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCORE_LABELS = {0: "0 unknown", 1: "1 documented", 2: "2 tested"}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    #: the command that records this section's evidence (``{config}`` is the spec)
    run: str
    #: said after the command in the "no evidence yet" line
    then: str = ""
    #: the key of :attr:`Views.errors` this section reads
    evidence: str = ""

    @property
    def evidence_section(self) -> str:
        return self.evidence or self.id

    def command(self, config: str) -> str:
        return self.run.format(config=config)


SECTIONS: tuple[Section, ...] = (
    Section("blockers", "Blockers", "connshift score -c {config}", evidence="scorecard"),
    Section("scorecard", "Readiness scorecard", "connshift score -c {config}"),
    Section("pilots", "Pilots", "connshift score -c {config}", evidence="scorecard"),
    Section("decision", "Decision", "connshift decide -c {config}"),
    Section("validation", "Validation", "connshift validate -c {config}"),
    Section("rehearsals", "Rehearsals", "connshift rehearse -c {config} CONNECTOR"),
    Section(
        "baseline",
        "Observability baseline",
        "connshift baseline -c {config} --label before",
        then=", then again with --label after, and `connshift baseline compare`",
    ),
    Section("sync", "Sync throughput", "connshift sync -c {config}"),
    Section("cost", "Cost", "connshift cost -c {config}"),
    Section("probe", "Destination probe", "connshift probe -c {config}"),
    Section("review", "Review findings", "connshift review -c {config}"),
    Section("inventory", "Inventory", "connshift inventory -c {config}"),
    Section(
        "evidence",
        "Evidence files",
        "connshift inventory -c {config}",
        then=" (or any command that records evidence)",
    ),
)


def slug(name: str) -> str:
    """An id-safe form of a name (for in-page anchors)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "x"


def num(value: float | int | None) -> str:
    """A number for a table cell: thousands separated, ``—`` when unknown."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def money(value: float | None, currency: str, *, sign: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+,.2f}" if sign else f"{value:,.2f}"
    return f"{text} {currency}"


def size(value: int | None) -> str:
    """Bytes in binary units (``—`` when unknown)."""
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{value} B"


def series_name(kind: str, side: str, label: str) -> str:
    """``produce destination before``: the parts that are there."""
    return " ".join(x for x in (kind, side, label) if x)


def series_max(points: list[tuple[float, float]]) -> str:
    return num(max(y for _, y in points)) if points else "—"
