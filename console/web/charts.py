"""A small SVG chart drawn by hand: cancellation reasons per event as stacked horizontal bars.

No chart library and no script: the SVG is part of the page, readable without JavaScript,
printable, and allowed by the console's strict Content-Security-Policy (no inline style; the
colours are SVG attributes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from booking.queries.reports import ReasonRow

REASONS = ("cannot_attend", "illness", "mistake", "price", "other")
COLOURS = {  # distinguishable, and readable for the common colour blindnesses
    "cannot_attend": "#3b6fb6",
    "illness": "#e08a2c",
    "mistake": "#6aa84f",
    "price": "#b64b8f",
    "other": "#8c8c8c",
}
WIDTH, LABEL, BAR, GAP, LEGEND = 640, 200, 22, 10, 30


def reasons_chart(
    rows: Sequence[ReasonRow], labels: dict[str, str], gettext: Callable[[str], str]
) -> str:
    """One bar per event, one coloured segment per reason, the count written in the segment."""
    events: dict[int, tuple[str, dict[str, int]]] = {}
    for row in rows:
        _, counts = events.setdefault(row.event_id, (row.event_title, {}))
        reason = row.reason if row.reason in COLOURS else "other"
        counts[reason] = counts.get(reason, 0) + row.count
    if not events:
        return ""
    widest = max(sum(c.values()) for _, c in events.values())
    scale = (WIDTH - LABEL - 10) / widest
    height = LEGEND + len(events) * (BAR + GAP) + GAP
    title = escape(gettext("Cancellation reasons per event"))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{title}" class="chart">',
        f"<title>{title}</title>",
    ]
    x = 0
    for reason in REASONS:  # the legend
        label = escape(labels.get(reason, reason))
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[reason]}"/>')
        parts.append(f'<text x="{x + 16}" y="15" font-size="12">{label}</text>')
        x += 20 + 7 * len(labels.get(reason, reason))
    y = LEGEND
    for event_title, counts in events.values():
        short = event_title if len(event_title) <= 28 else event_title[:27] + "…"
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 16}" font-size="13" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        left = float(LABEL)
        for reason in REASONS:
            n = counts.get(reason, 0)
            if not n:
                continue
            width = n * scale
            tip = escape(f"{labels.get(reason, reason)}: {n}")
            parts.append(
                f'<rect x="{left:.1f}" y="{y}" width="{width:.1f}" height="{BAR}" '
                f'fill="{COLOURS[reason]}"><title>{tip}</title></rect>'
            )
            if width >= 18:
                parts.append(
                    f'<text x="{left + width / 2:.1f}" y="{y + 15}" font-size="11" '
                    f'fill="#fff" text-anchor="middle">{n}</text>'
                )
            left += width
        y += BAR + GAP
    parts.append("</svg>")
    return "".join(parts)
