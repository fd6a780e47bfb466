"""A trend chart drawn on the server as SVG: the fallback when Plotly does not run (no script,
a printed page) and the picture the monthly report uses. One location, one sample type; the
alert and action limits as lines; results over a limit marked and labelled by level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from atmpchain.environmental_monitoring.domain import Level

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 40
_COLOURS = {Level.WITHIN: "#2b6cb0", Level.ALERT: "#b7791f", Level.ACTION: "#c53030"}
_MAX_POINTS = 1_000  # a 720-unit-wide chart shows no more distinct points


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One result on the chart."""

    taken_at: datetime
    value: int
    level: Level


def _thin(points: Sequence[ChartPoint]) -> list[ChartPoint]:
    """At most _MAX_POINTS: every exceedance is kept, the within-limit results are sampled evenly
    (an SVG of 10,000 circles helps no reader and hides nothing more)."""
    if len(points) <= _MAX_POINTS:
        return list(points)
    over = [p for p in points if p.level is not Level.WITHIN]
    within = [p for p in points if p.level is Level.WITHIN]
    room = max(_MAX_POINTS - len(over), 1)
    if len(within) > room:
        within = [within[i * len(within) // room] for i in range(room)]
    return sorted(over + within, key=lambda p: p.taken_at)


def trend_svg(
    title: str,
    unit: str,
    points: Sequence[ChartPoint],
    *,
    alert: int | None,
    action: int | None,
    start: datetime,
    end: datetime,
) -> str:
    """The chart as an SVG document (a string), with a title and text alternative."""
    shown = _thin(points)
    top_value = max([p.value for p in shown] + [v for v in (alert, action) if v is not None] + [1])
    top_value = int(top_value * 1.15) + 1
    span = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    origin = start.timestamp()

    def x(moment: datetime) -> float:
        return LEFT + plot_w * min(max((moment.timestamp() - origin) / span, 0.0), 1.0)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top_value)

    over = sum(1 for p in points if p.level is not Level.WITHIN)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="em-chart-title em-chart-desc" class="em-trend-svg">',
        f'<title id="em-chart-title">{escape(title)}</title>',
        f'<desc id="em-chart-desc">{len(points)} results from {start:%Y-%m-%d} to '
        f"{end:%Y-%m-%d} in {escape(unit)}; {over} above a limit; alert limit "
        f"{alert if alert is not None else 'not set'}, action limit "
        f"{action if action is not None else 'not set'}.</desc>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#718096"/>',
        f'<text x="{LEFT}" y="18" font-size="13" font-family="sans-serif">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top_value * i / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end" '
            f'font-family="sans-serif">{value:,.0f}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 10}" font-size="10" font-family="sans-serif">'
        f"{start:%Y-%m-%d}</text>"
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" font-size="10" text-anchor="end" '
        f'font-family="sans-serif">{end:%Y-%m-%d}</text>'
    )
    for limit, name, colour, dash in (
        (alert, "alert", _COLOURS[Level.ALERT], "6 4"),
        (action, "action", _COLOURS[Level.ACTION], "2 0"),
    ):
        if limit is not None:
            parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" '
                f'stroke="{colour}" stroke-dasharray="{dash}" stroke-width="1.5"/>'
                f'<text x="{WIDTH - RIGHT - 4}" y="{y(limit) - 4:.1f}" font-size="10" '
                f'text-anchor="end" fill="{colour}" font-family="sans-serif">{name} {limit:,}'
                "</text>"
            )
    if len(shown) > 1:
        path = " ".join(f"{x(p.taken_at):.1f},{y(p.value):.1f}" for p in shown)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#a0aec0" stroke-width="1"/>')
    for p in shown:
        if p.level is Level.WITHIN:
            # Within limits: a dot; the page's table and the Plotly chart give the values.
            parts.append(
                f'<circle cx="{x(p.taken_at):.1f}" cy="{y(p.value):.1f}" r="2.5" '
                f'fill="{_COLOURS[p.level]}"/>'
            )
            continue
        parts.append(
            f'<circle cx="{x(p.taken_at):.1f}" cy="{y(p.value):.1f}" r="5" '
            f'fill="{_COLOURS[p.level]}"><title>{p.taken_at:%Y-%m-%d %H:%M} UTC: {p.value:,} '
            f"({p.level.value})</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
