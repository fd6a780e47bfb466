"""The charts of the translation pages: readiness over time and the FMEA Pareto chart.

Each chart comes twice, as the coldchain temperature chart does: the data for Plotly (drawn by
`static/translation-charts.js`, no inline script) and an SVG drawn here for readers without
script (inside `<noscript>`). Only presentation attributes are used, so the CSP lets it through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from atmpchain.translation.assess import ParetoBar
from atmpchain.translation.assessment_queries import AssessmentView
from atmpchain.web.pages.coldchain import PlotlyBundle
from atmpchain.web.pages.coldchain import plotly_bundle as _coldchain_plotly

WIDTH = 960
HEIGHT = 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 56, 16, 96
#: Colours with enough contrast on white (WCAG 1.4.11, 3:1 for graphics).
_BLUE, _RED, _GREY = "#1f4e99", "#b42318", "#595959"


def plotly_bundle() -> PlotlyBundle:
    """The installed Plotly bundle (shared with the temperature chart)."""
    return _coldchain_plotly()


def _local(moment: Any, zone: str) -> str:
    return str(moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M"))


def readiness_data(history: Sequence[AssessmentView], zone: str) -> dict[str, Any]:
    """The readiness series for Plotly: the total and each category over time."""
    labels: dict[str, str] = {}
    for a in history:
        for s in a.scores:
            labels.setdefault(s.category, s.label)
    return {
        "kind": "readiness",
        "zone": zone,
        "x": [_local(a.assessed_at, zone) for a in history],
        "total": [float(a.total) for a in history],
        "categories": [
            {
                "label": label,
                "y": [
                    next((s.score for s in a.scores if s.category == key), None) for a in history
                ],
            }
            for key, label in labels.items()
        ],
    }


def _frame(title: str, desc: str, ident: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" data-testid="{ident}">',
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{WIDTH - _LEFT - _RIGHT}" '
        f'height="{HEIGHT - _TOP - _BOTTOM}" fill="#ffffff" stroke="{_GREY}"/>',
    ]


def _y(value: float, top: float = 100.0) -> float:
    return _TOP + (top - value) / top * (HEIGHT - _TOP - _BOTTOM)


def _y_axis(parts: list[str], top: float, label: str, right: bool = False) -> None:
    x = WIDTH - _RIGHT + 6 if right else _LEFT - 6
    anchor = "start" if right else "end"
    for tick in range(0, 5):
        value = top * tick / 4
        parts.append(
            f'<text x="{x}" y="{_y(value, top) + 4:.1f}" font-size="11" text-anchor="{anchor}" '
            f'fill="{_GREY}">{value:g}</text>'
        )
    parts.append(
        f'<text x="{x}" y="{_TOP - 4}" font-size="11" text-anchor="{anchor}" fill="{_GREY}">'
        f"{escape(label)}</text>"
    )


def readiness_svg(history: Sequence[AssessmentView], zone: str) -> Markup:
    """Readiness totals over time as an SVG line, described for screen readers."""
    totals = [float(a.total) for a in history]
    desc = (
        "No assessment yet."
        if not history
        else f"{len(history)} assessment(s); latest total {history[-1].total} of 100."
    )
    parts = _frame("GMP readiness over time (weighted total, 0-100)", desc, "readiness-svg")
    _y_axis(parts, 100.0, "score")
    plot_w = WIDTH - _LEFT - _RIGHT
    step = plot_w / max(len(totals) - 1, 1)
    points = [
        (_LEFT + i * step if len(totals) > 1 else _LEFT + plot_w / 2, _y(t))
        for i, t in enumerate(totals)
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{_BLUE}" stroke-width="2"/>')
    for (x, y), a in zip(points, history, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_BLUE}"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#000000">{a.total}</text>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - _BOTTOM + 16}" font-size="10" text-anchor="middle" '
            f'fill="{_GREY}">{escape(_local(a.assessed_at, zone)[:10])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def pareto_data(bars: Sequence[ParetoBar], threshold: int, title: str) -> dict[str, Any]:
    """The Pareto chart for Plotly: RPN bars, highest first, and the cumulative share."""
    return {
        "kind": "pareto",
        "title": title,
        "labels": [b.label for b in bars],
        "rpn": [b.rpn for b in bars],
        "cumulative": [float(b.cumulative_percent) for b in bars],
        "threshold": threshold,
    }


def pareto_svg(bars: Sequence[ParetoBar], threshold: int, title: str) -> Markup:
    """The Pareto chart as SVG: bars (red above the action threshold) and the cumulative line."""
    desc = (
        "No scored failure mode yet."
        if not bars
        else f"{len(bars)} scored failure mode(s); highest RPN {bars[0].rpn} "
        f"({bars[0].label}); action threshold {threshold}."
    )
    parts = _frame(title, desc, "pareto-svg")
    top = float(max([threshold, *[b.rpn for b in bars]]) * 1.1) if bars else 1000.0
    _y_axis(parts, top, "RPN")
    _y_axis(parts, 100.0, "cumulative %", right=True)
    plot_w = WIDTH - _LEFT - _RIGHT
    slot = plot_w / max(len(bars), 1)
    y_limit = _y(float(threshold), top)
    parts.append(
        f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y_limit:.1f}" y2="{y_limit:.1f}" '
        f'stroke="{_RED}" stroke-dasharray="6 4"/>'
    )
    line: list[str] = []
    for i, b in enumerate(bars):
        x = _LEFT + i * slot
        y = _y(float(b.rpn), top)
        colour = _RED if b.rpn > threshold else _BLUE
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{HEIGHT - _BOTTOM - y:.1f}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#000000">{b.rpn}</text>'
        )
        short = b.label if len(b.label) <= 28 else b.label[:27] + "…"
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - _BOTTOM + 14}" font-size="9" '
            f'text-anchor="end" transform="rotate(-30 {x + slot / 2:.1f} {HEIGHT - _BOTTOM + 14})" '
            f'fill="{_GREY}">{escape(short)}</text>'
        )
        line.append(f"{x + slot / 2:.1f},{_y(float(b.cumulative_percent)):.1f}")
    if line:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#000000" stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
