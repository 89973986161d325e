"""Charts as inline SVG, drawn here: the report page fetches nothing and runs no script.

Two kinds: a line chart (series of ``(x, y)`` points over time) and a horizontal bar
chart. Every label is escaped; an empty chart says so instead of drawing axes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: colour-blind-safe palette (Okabe-Ito)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]
    dashed: bool = False
    #: an index into the palette (default: the series' position)
    colour: int | None = None


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks: list[float] = []
    value = start
    while value < hi + step * 0.5 and len(ticks) < 50:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def fmt_number(value: float) -> str:
    """A short label: 1.2k, 3.4M, 0.25, 12."""
    a = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{value / div:.3g}{suffix}"
    if a == 0 or a >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


def _empty(title: str, width: int, note: str) -> str:
    return (
        f'<svg class="chart empty" role="img" '
        f'width="{width}" height="60" viewBox="0 0 {width} 60" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<text x="10" y="35" class="note">{escape(note)}</text></svg>'
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str = "seconds from start",
    y_label: str = "",
    width: int = 640,
    height: int = 260,
) -> str:
    """Lines over a shared x axis, with a legend; an empty SVG note when no points."""
    drawn = [s for s in series if s.points]
    if not drawn:
        return _empty(title, width, "no samples")
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    xt = nice_ticks(min(xs), max(xs))
    yt = nice_ticks(min(0.0, min(ys)), max(ys))
    left, right, top, bottom = 64, 16, 28, 44 + 18 * ((len(drawn) + 2) // 3)
    pw, ph = width - left - right, height - top - bottom
    if ph < 60:
        height += 60 - ph
        ph = 60

    def px(x: float) -> float:
        return left + (x - xt[0]) / ((xt[-1] - xt[0]) or 1) * pw

    def py(y: float) -> float:
        return top + ph - (y - yt[0]) / ((yt[-1] - yt[0]) or 1) * ph

    out = [
        f'<svg class="chart line" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for y in yt:
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{py(y):.1f}" y2="{py(y):.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{py(y) + 4:.1f}" class="tick" text-anchor="end">'
            f"{escape(fmt_number(y))}</text>"
        )
    for x in xt:
        out.append(
            f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{top + ph}" y2="{top + ph + 4}" '
            f'class="axis"/><text x="{px(x):.1f}" y="{top + ph + 16}" class="tick" '
            f'text-anchor="middle">{escape(fmt_number(x))}</text>'
        )
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" class="axis"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" class="axis"/>'
        f'<text x="{left + pw / 2:.1f}" y="{top + ph + 32}" class="axis-label" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    if y_label:
        out.append(
            f'<text x="14" y="{top + ph / 2:.1f}" class="axis-label" text-anchor="middle" '
            f'transform="rotate(-90 14 {top + ph / 2:.1f})">{escape(y_label)}</text>'
        )
    for i, s in enumerate(drawn):
        colour = PALETTE[(i if s.colour is None else s.colour) % len(PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(s.points))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline data-series="{escape(s.name)}" points="{pts}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        if len(s.points) == 1:
            x, y = s.points[0]
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        lx = left + (i % 3) * (pw / 3)
        ly = top + ph + 50 + 18 * (i // 3)
        out.append(
            f'<line x1="{lx:.1f}" x2="{lx + 22:.1f}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 28:.1f}" y="{ly}" class="legend">{escape(s.name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    title: str, bars: Sequence[tuple[str, float]], *, unit: str = "", width: int = 640
) -> str:
    """One horizontal bar per label, its value written at its end."""
    if not bars:
        return _empty(title, width, "nothing to show")
    label_w = min(240, 12 + 7 * max(len(label) for label, _ in bars))
    top, bar_h, gap = 28, 18, 8
    height = top + len(bars) * (bar_h + gap) + 24
    pw = width - label_w - 90
    hi = max((v for _, v in bars), default=0.0) or 1.0
    out = [
        f'<svg class="chart bar" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * (bar_h + gap)
        w = max(value, 0.0) / hi * pw
        shown = label if len(label) <= 34 else label[:33] + "…"
        out.append(
            f'<g data-bar="{escape(label)}"><title>{escape(label)}: '
            f"{escape(fmt_number(value))} {escape(unit)}</title>"
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" class="tick" text-anchor="end">'
            f"{escape(shown)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h - 5}" class="tick">'
            f"{escape(fmt_number(value))} {escape(unit)}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
