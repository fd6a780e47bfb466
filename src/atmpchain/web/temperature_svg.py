"""A temperature chart drawn on the server as SVG: the chart without script (issue 10 item 10).

The interactive chart needs JavaScript; this one is the page's fallback inside `<noscript>`.
It draws the allowed range as a band, every excursion as a shaded stretch, each sensor's
readings as a line, and labels the axes in the reader's time zone. Only presentation
attributes are used (no `style`), so the content security policy lets it through.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from atmpchain.coldchain.domain import format_celsius
from atmpchain.coldchain.queries import UnitTemperatures, downsample

WIDTH = 960
HEIGHT = 340
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 56
#: At most this many points of each line: enough for the eye, small enough for the page.
MAX_SVG_POINTS = 800
#: Line colours with enough contrast on white (WCAG 1.4.11, 3:1 for graphics).
_COLOURS = ("#1f4e99", "#6b3fa0", "#006d5b", "#8a4b00")


def temperature_svg(chart: UnitTemperatures, zone: str) -> Markup:
    """The chart as an SVG element, described for screen readers."""
    local = ZoneInfo(zone)
    values = [v for s in chart.series for _, v in s.points]
    low = float(min([chart.low, *values]))
    high = float(max([chart.high, *values]))
    pad = max((high - low) * 0.08, 0.5)
    y_min, y_max = low - pad, high + pad
    t0, t1 = chart.start.timestamp(), chart.end.timestamp()
    span = max(t1 - t0, 1.0)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(moment: datetime) -> float:
        return _LEFT + (min(max(moment.timestamp(), t0), t1) - t0) / span * plot_w

    def y(value: float) -> float:
        return _TOP + (y_max - value) / (y_max - y_min) * plot_h

    title = f"Temperature of {chart.unit_name} ({chart.unit_code})"
    desc = (
        f"Readings from {chart.start.astimezone(local):%Y-%m-%d %H:%M} to "
        f"{chart.end.astimezone(local):%Y-%m-%d %H:%M} {zone}; allowed range "
        f"{format_celsius(chart.low)} to {format_celsius(chart.high)}; "
        f"{len(chart.excursions)} excursion(s) shaded red."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="tsvg-title tsvg-desc" data-testid="temperature-svg">',
        f'<title id="tsvg-title">{escape(title)}</title><desc id="tsvg-desc">{escape(desc)}</desc>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
        'stroke="#595959"/>',
        # The allowed range.
        f'<rect x="{_LEFT}" y="{y(float(chart.high)):.1f}" width="{plot_w}" '
        f'height="{y(float(chart.low)) - y(float(chart.high)):.1f}" fill="#e3f1e6" '
        'data-kind="range"/>',
    ]
    for e in chart.excursions:
        x0, x1 = x(max(e.start, chart.start)), x(min(e.end or chart.end, chart.end))
        parts.append(
            f'<rect x="{x0:.1f}" y="{_TOP}" width="{max(x1 - x0, 2):.1f}" height="{plot_h}" '
            f'fill="#f6c9cc" stroke="#b00020" data-kind="excursion" data-id="{e.id}">'
            f"<title>Excursion #{e.id} ({escape(e.sensor)}): peak {format_celsius(e.peak)}"
            f"{' (ongoing)' if e.end is None else ''}</title></rect>"
        )
    for limit in (chart.low, chart.high):
        parts.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(float(limit)):.1f}" '
            f'y2="{y(float(limit)):.1f}" stroke="#2e7d32" stroke-dasharray="6 4"/>'
            f'<text x="{WIDTH - _RIGHT - 4}" y="{y(float(limit)) - 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="#1b5e20">{format_celsius(limit)}</text>'
        )
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333333">{value:.1f}</text>'
        )
    for i in range(6):
        moment = datetime.fromtimestamp(t0 + span * i / 5, tz=local)
        parts.append(
            f'<text x="{_LEFT + plot_w * i / 5:.1f}" y="{HEIGHT - _BOTTOM + 18}" '
            f'text-anchor="middle" font-size="12" fill="#333333">{moment:%d %b %H:%M}</text>'
        )
    parts.append(
        f'<text x="{_LEFT}" y="{HEIGHT - 8}" font-size="12" fill="#333333">°C · times in '
        f"{escape(zone)}</text>"
    )
    for n, series in enumerate(chart.series):
        colour = _COLOURS[n % len(_COLOURS)]
        # Min and max of each stretch are kept, so no peak is lost by drawing fewer points.
        thinned = downsample(series.points, MAX_SVG_POINTS)
        points = " ".join(f"{x(t):.1f},{y(float(v)):.1f}" for t, v in thinned)
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}" '
                f'data-sensor="{escape(series.sensor)}"/>'
            )
        parts.append(
            f'<text x="{WIDTH - _RIGHT - 160 * (n + 1)}" y="{HEIGHT - 8}" font-size="12" '
            f'fill="{colour}">— {escape(series.sensor)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above
