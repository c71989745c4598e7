"""Server-rendered SVG charts: no JavaScript, no CDN, readable on a phone."""

from __future__ import annotations

import datetime as dt
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return value


def line_chart(
    series: dict[str, list[int]], *, end: dt.date, title: str, width: int = 720, height: int = 220
) -> str:
    """Calls per day, one line per series, the last point on ``end``."""
    days = max((len(values) for values in series.values()), default=0)
    left, right, top, bottom = 52, 12, 26, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((max(values, default=0) for values in series.values()), default=0))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for step in range(5):
        value = peak * step // 4
        y = top + plot_h - plot_h * step / 4
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
        if days > 1:
            points = " ".join(
                f"{left + plot_w * i / (days - 1):.1f},{top + plot_h - plot_h * v / peak:.1f}"
                for i, v in enumerate(values)
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2">'
                f"<title>{escape(name)}: {sum(values):,} calls</title></polyline>"
            )
        legend_x = left + 8 + number * 130
        parts.append(
            f'<rect x="{legend_x}" y="{top + 4}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{top + 13}" class="legend">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
