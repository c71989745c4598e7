"""Server-rendered SVG charts: no JavaScript, no CDN, readable on a phone."""

from __future__ import annotations

import datetime as dt
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


# Drawn in this order, each line thinner (and the later ones dashed) than the one before: lines
# with equal values lie on top of each other and both stay visible.
STROKES = (("5", "", ".45"), ("2.5", "", "1"), ("2", "6 4", "1"), ("2", "2 3", "1"))


def ticks(peak: int, most: int = 5) -> list[int]:
    """Round axis ticks from 0 (steps of 1, 2 or 5 x 10^n) whose last one reaches ``peak``."""
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            count = -(-max(peak, 1) // step)  # steps needed to reach the peak
            if count < most:
                return [step * i for i in range(count + 1)]
        magnitude *= 10


def line_chart(
    series: dict[str, list[int]], *, end: dt.date, title: str, width: int = 720, height: int = 220
) -> str:
    """Calls per day, one line per series, the last point on ``end``."""
    days = max((len(values) for values in series.values()), default=0)
    left, right, top, bottom = 52, 12, 26, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((max(values, default=0) for values in series.values()), default=0)
    axis = ticks(highest)
    peak = axis[-1]
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for value in axis:
        y = top + plot_h - plot_h * value / peak
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{value:,}</text>'
        )
    if days > 1:
        for index, anchor in ((0, "start"), (days // 2, "middle"), (days - 1, "end")):
            x = left + plot_w * index / (days - 1)
            day = end - dt.timedelta(days=days - 1 - index)
            label = "today (so far)" if index == days - 1 else day.strftime("%b %d")
            parts.append(
                f'<text x="{x:.1f}" y="{height - 8}" class="axis" text-anchor="{anchor}">'
                f"{label}</text>"
            )
    for number, (name, values) in enumerate(series.items()):
        colour = PALETTE[number % len(PALETTE)]
        width, dashes, opacity = STROKES[min(number, len(STROKES) - 1)]
        style = f'stroke="{colour}" stroke-width="{width}" stroke-opacity="{opacity}"'
        style += f' stroke-dasharray="{dashes}"' if dashes else ""
        if days > 1:
            points = " ".join(
                f"{left + plot_w * i / (days - 1):.1f},{top + plot_h - plot_h * v / peak:.1f}"
                for i, v in enumerate(values)
            )
            parts.append(
                f'<polyline points="{points}" fill="none" {style} stroke-linejoin="round">'
                f"<title>{escape(name)}: {sum(values):,} calls</title></polyline>"
            )
        legend_x = left + 8 + number * 130
        parts.append(
            f'<line x1="{legend_x}" x2="{legend_x + 18}" y1="{top + 9}" y2="{top + 9}" {style}/>'
            f'<text x="{legend_x + 22}" y="{top + 13}" class="legend">{escape(name)}</text>'
        )
    if not highest:
        parts.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" class="empty" '
            f'text-anchor="middle">No calls recorded yet</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
