"""The charts of the experiment and cost pages: a Plotly figure (data and layout, drawn by
`/static/doe-charts.js` without inline script) and the same chart drawn on the server as
SVG inside `<noscript>`, as the temperature chart does (issue 10 item 10). Only presentation
attributes are used in the SVG (no `style`), so the content security policy lets it through.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from atmpchain.translation.costing.domain import Category
from atmpchain.translation.costing.queries import CostModelView
from atmpchain.translation.doe.analysis import Fit
from atmpchain.translation.doe.queries import StudyAnalysis, StudyView

WIDTH, HEIGHT = 720, 320
_L, _R, _T, _B = 72, 16, 32, 52
#: Line and bar colours with at least 3:1 contrast on white (WCAG 1.4.11).
COLOURS = ("#1f4e99", "#b42318", "#006d5b", "#6b3fa0", "#8a4b00", "#005f73", "#7a2048", "#3d5a00")


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart for a page: its id, its accessible label, the Plotly figure and the SVG."""

    id: str
    label: str
    figure: dict[str, Any]
    svg: Markup


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _scale(lo: float, hi: float) -> tuple[float, float]:
    if hi - lo < 1e-12:
        return lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.06
    return lo - pad, hi + pad


def _frame(chart_id: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" data-testid="{chart_id}-svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<rect x="{_L}" y="{_T}" width="{WIDTH - _L - _R}" height="{HEIGHT - _T - _B}" '
        'fill="#ffffff" stroke="#595959"/>',
        f'<text x="{_L}" y="20" font-size="13" fill="#1a1a1a">{escape(title)}</text>',
    ]


def _axis_labels(parts: list[str], x_label: str, y_label: str) -> None:
    parts.append(
        f'<text x="{(WIDTH + _L) / 2:.0f}" y="{HEIGHT - 10}" font-size="12" fill="#1a1a1a" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="14" y="{(HEIGHT - _B + _T) / 2:.0f}" font-size="12" fill="#1a1a1a" '
        f'text-anchor="middle" transform="rotate(-90 14 {(HEIGHT - _B + _T) / 2:.0f})">'
        f"{escape(y_label)}</text>"
    )


@dataclass(frozen=True, slots=True)
class Series:
    """A line (or, with `markers`, a scatter) of a chart."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    markers: bool = False


def lines_chart(
    chart_id: str, title: str, series: Sequence[Series], x_label: str, y_label: str
) -> Chart:
    """Lines (or scatter points) over a numeric x axis."""
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys if y is not None]
    x0, x1 = _scale(min(xs, default=0.0), max(xs, default=1.0))
    y0, y1 = _scale(min(ys, default=0.0), max(ys, default=1.0))
    pw, ph = WIDTH - _L - _R, HEIGHT - _T - _B

    def px(x: float) -> float:
        return _L + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return _T + (y1 - y) / (y1 - y0) * ph

    desc = f"{len(series)} series; {y_label} from {_fmt(y0)} to {_fmt(y1)}."
    parts = _frame(chart_id, title, desc)
    for tick in (y0, (y0 + y1) / 2, y1):
        parts.append(
            f'<text x="{_L - 6}" y="{py(tick) + 4:.1f}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="end">{_fmt(tick)}</text>'
        )
    for tick in (x0, (x0 + x1) / 2, x1):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{HEIGHT - _B + 16}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="middle">{_fmt(tick)}</text>'
        )
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        points = [(px(x), py(y)) for x, y in zip(s.xs, s.ys, strict=True) if y is not None]
        if not s.markers and len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{WIDTH - _R - 4}" y="{_T + 14 + 14 * i}" font-size="11" fill="{colour}" '
            f'text-anchor="end">{escape(s.name)}</text>'
        )
    _axis_labels(parts, x_label, y_label)
    parts.append("</svg>")
    figure = {
        "data": [
            {
                "type": "scatter",
                "mode": "markers" if s.markers else "lines+markers",
                "name": s.name,
                "x": list(s.xs),
                "y": list(s.ys),
            }
            for s in series
        ],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": x_label}},
            "yaxis": {"title": {"text": y_label}},
            "legend": {"orientation": "h"},
            "margin": {"t": 48, "r": 16, "b": 56, "l": 64},
        },
    }
    return Chart(chart_id, title, figure, Markup("".join(parts)))  # noqa: S704 - every text inside is escaped


def heatmap_chart(
    chart_id: str,
    title: str,
    xs: Sequence[float],
    ys: Sequence[float],
    z: Sequence[Sequence[float]],
    x_label: str,
    y_label: str,
) -> Chart:
    """A response surface: predicted values over two factors (contours in the browser, shaded
    cells on the server)."""
    flat = [v for row in z for v in row]
    lo, hi = min(flat), max(flat)
    pw, ph = WIDTH - _L - _R - 90, HEIGHT - _T - _B
    cw, ch = pw / len(xs), ph / len(ys)
    desc = (
        f"Predicted {title} over {x_label} ({_fmt(xs[0])} to {_fmt(xs[-1])}) and {y_label} "
        f"({_fmt(ys[0])} to {_fmt(ys[-1])}); lighter is higher, from {_fmt(lo)} to {_fmt(hi)}."
    )
    parts = _frame(chart_id, title, desc)

    def shade(v: float) -> str:
        # Dark blue (low) to pale yellow (high): monotone in lightness, readable in grey.
        t = 0.0 if hi - lo < 1e-12 else (v - lo) / (hi - lo)
        r, g, b = (
            int(a + (c - a) * t) for a, c in zip((31, 78, 153), (250, 240, 160), strict=True)
        )
        return f"#{r:02x}{g:02x}{b:02x}"

    for j, row in enumerate(z):
        for i, v in enumerate(row):
            parts.append(
                f'<rect x="{_L + i * cw:.1f}" y="{_T + (len(ys) - 1 - j) * ch:.1f}" '
                f'width="{cw + 0.5:.1f}" height="{ch + 0.5:.1f}" fill="{shade(v)}"/>'
            )
    for label, value, y in (("high", hi, _T + 10), ("low", lo, _T + ph - 4)):
        parts.append(
            f'<rect x="{_L + pw + 12}" y="{y - 9}" width="12" height="12" fill="{shade(value)}" '
            'stroke="#595959"/>'
            f'<text x="{_L + pw + 28}" y="{y + 1}" font-size="11" fill="#1a1a1a">{label} '
            f"{_fmt(value)}</text>"
        )
    for tick, x in ((xs[0], _L), (xs[-1], _L + pw)):
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - _B + 16}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="middle">{_fmt(tick)}</text>'
        )
    for tick, y in ((ys[0], _T + ph), (ys[-1], _T + 8)):
        parts.append(
            f'<text x="{_L - 6}" y="{y:.1f}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="end">{_fmt(tick)}</text>'
        )
    _axis_labels(parts, x_label, y_label)
    parts.append("</svg>")
    figure = {
        "data": [
            {
                "type": "contour",
                "x": list(xs),
                "y": list(ys),
                "z": [list(r) for r in z],
                "colorscale": "Viridis",
                "contours": {"showlabels": True},
                # Plotly's colour bar draws its steps with style attributes, which the content
                # security policy refuses; the contour labels carry the values instead.
                "showscale": False,
            }
        ],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": x_label}},
            "yaxis": {"title": {"text": y_label}},
            "margin": {"t": 48, "r": 16, "b": 56, "l": 64},
        },
    }
    return Chart(chart_id, title, figure, Markup("".join(parts)))  # noqa: S704 - every text inside is escaped


@dataclass(frozen=True, slots=True)
class Bar:
    """A horizontal bar made of segments (start, end, colour, name)."""

    label: str
    segments: Sequence[tuple[float, float, str, str]]


def bars_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    x_label: str,
    lines: Sequence[tuple[str, float]] = (),
    figure: dict[str, Any] | None = None,
) -> Chart:
    """Horizontal bars (stacked segments or a low-high span) with labelled vertical lines."""
    values = [v for b in bars for s in b.segments for v in s[:2]] + [v for _, v in lines]
    x0, x1 = _scale(min([0.0, *values]), max(values, default=1.0))
    left = 200
    pw = WIDTH - left - _R
    height = max(HEIGHT, _T + _B + 30 * len(bars))
    row = (height - _T - _B) / max(1, len(bars))

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    desc = "; ".join(
        f"{b.label}: " + ", ".join(f"{s[3]} {_fmt(s[0])} to {_fmt(s[1])}" for s in b.segments)
        for b in bars
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="100%" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'data-testid="{chart_id}-svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">'
        f"{escape(desc)}</desc>",
        f'<text x="{left}" y="20" font-size="13" fill="#1a1a1a">{escape(title)}</text>',
    ]
    for i, b in enumerate(bars):
        y = _T + i * row + row * 0.2
        parts.append(
            f'<text x="{left - 6}" y="{y + row * 0.4:.1f}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="end">{escape(b.label)}</text>'
        )
        for start, end, colour, _ in b.segments:
            a, c = sorted((px(start), px(end)))
            parts.append(
                f'<rect x="{a:.1f}" y="{y:.1f}" width="{max(c - a, 1):.1f}" '
                f'height="{row * 0.6:.1f}" fill="{colour}"/>'
            )
    for i, (label, value) in enumerate(lines):
        x = px(value)
        parts.append(
            f'<line x1="{x:.1f}" y1="{_T}" x2="{x:.1f}" y2="{height - _B}" stroke="#1a1a1a" '
            'stroke-dasharray="4 3"/>'
            f'<text x="{x + 3:.1f}" y="{_T + 10 + 12 * (i % 4)}" font-size="10" '
            f'fill="#1a1a1a">{escape(label)}</text>'
        )
    for tick in (x0, (x0 + x1) / 2, x1):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{height - _B + 16:.0f}" font-size="11" fill="#1a1a1a" '
            f'text-anchor="middle">{_fmt(tick)}</text>'
        )
    parts.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 10:.0f}" font-size="12" fill="#1a1a1a" '
        f'text-anchor="middle">{escape(x_label)}</text></svg>'
    )
    return Chart(chart_id, title, figure or {}, Markup("".join(parts)))  # noqa: S704 - every text inside is escaped


# --- the experiment's charts and data --------------------------------------------------------


def _fit_data(fit: Fit) -> dict[str, Any]:
    return {
        "model": fit.order.value,
        "n": fit.n,
        "residual_df": fit.residual_df,
        "r2": fit.r2,
        "adj_r2": fit.adj_r2,
        "terms": [
            {
                "term": t.label,
                "key": t.key,
                "estimate": t.estimate,
                "std_error": t.std_error,
                "ci_low": t.ci_low,
                "ci_high": t.ci_high,
                "p_value": t.p_value,
            }
            for t in fit.terms
        ],
        "anova": [
            {"source": a.source, "df": a.df, "sum_sq": a.sum_sq, "f": a.f_value, "p": a.p_value}
            for a in fit.anova
        ],
        "residuals": {
            "normality_p": fit.checks.normality_p,
            "durbin_watson": fit.checks.durbin_watson,
            "outliers": list(fit.checks.outliers),
        },
    }


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None


def _clean(data: Any) -> Any:
    """JSON has no NaN: an exact fit's missing intervals become null."""
    if isinstance(data, float):
        return _finite(data)
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_clean(v) for v in data]
    return data


def analysis_data(view: StudyView, analysis: StudyAnalysis) -> dict[str, Any]:
    """The analysis as JSON (API and page)."""
    best = analysis.optimum
    names = [f.factor.name for f in view.factors]
    data: dict[str, Any] = {
        "study_id": view.id,
        "model": analysis.order.value,
        "responses": [
            {
                "response": r.response,
                "problem": r.problem,
                "fit": _fit_data(r.fit) if r.fit else None,
                "main_effects": {
                    name: [{"coded": m.coded, "actual": m.actual, "mean": m.mean} for m in means]
                    for name, means in r.main_effects.items()
                },
                "surface": {
                    "x": r.surface.x_factor,
                    "y": r.surface.y_factor,
                    "xs": list(r.surface.xs),
                    "ys": list(r.surface.ys),
                    "z": [list(row) for row in r.surface.z],
                }
                if r.surface
                else None,
            }
            for r in analysis.responses
        ],
        "optimum": {
            "settings": dict(zip(names, best.actual, strict=True)),
            "predictions": dict(best.predictions),
            "desirability": best.desirability,
            "acceptable_share": best.acceptable_share,
            "proven_ranges": [
                {"factor": p.factor, "low": p.low, "high": p.high, "unit": p.unit}
                for p in best.proven
            ],
        }
        if best
        else None,
        "optimum_problem": analysis.optimum_problem,
    }
    cleaned: dict[str, Any] = _clean(data)
    return cleaned


def study_charts(view: StudyView, analysis: StudyAnalysis) -> dict[str, list[Chart]]:
    """Per response: main effects, interactions, the surface and residuals vs fitted."""
    charts: dict[str, list[Chart]] = {}
    for n, r in enumerate(analysis.responses):
        found: list[Chart] = []
        if r.main_effects:
            found.append(
                lines_chart(
                    f"main-{n}",
                    f"Main effects on {r.response}",
                    [
                        Series(name, [m.coded for m in means], [m.mean for m in means])
                        for name, means in r.main_effects.items()
                    ],
                    "Factor level (coded: -1 low, +1 high)",
                    f"Mean {r.response}",
                )
            )
        for i, (a, b, lines) in enumerate(itertools.islice(r.interactions, 3)):
            found.append(
                lines_chart(
                    f"inter-{n}-{i}",
                    f"Interaction {a} × {b} on {r.response}",
                    [
                        Series(f"{b} {'low' if ln.b_level < 0 else 'high'}", ln.a_levels, ln.means)
                        for ln in lines
                    ],
                    f"{a} (coded)",
                    f"Mean {r.response}",
                )
            )
        if r.surface:
            s = r.surface
            found.append(
                heatmap_chart(
                    f"surface-{n}",
                    f"Predicted {r.response}",
                    s.xs,
                    s.ys,
                    s.z,
                    s.x_factor,
                    s.y_factor,
                )
            )
        if r.fit:
            found.append(
                lines_chart(
                    f"resid-{n}",
                    f"Residuals against fitted values, {r.response}",
                    [Series("Runs", r.fit.checks.fitted, r.fit.checks.residuals, markers=True)],
                    f"Fitted {r.response}",
                    "Residual",
                )
            )
        charts[r.response] = found
    return charts


# --- the cost model's charts -----------------------------------------------------------------

_CATEGORY_COLOURS = dict(zip(Category, itertools.cycle(COLOURS), strict=False))


def cost_charts(view: CostModelView) -> list[Chart]:
    """The scenarios side by side (stacked by category, with the published figures as lines)
    and the tornado of the base scenario."""
    lines = [(f.label, float(f.amount)) for f in view.published]
    bars = []
    for s in view.scenarios:
        start = 0.0
        segments = []
        for line in s.cost.lines:
            end = start + float(line.amount)
            segments.append((start, end, _CATEGORY_COLOURS[line.category], line.category.label))
            start = end
        if s.cost.failed_batch_share:
            end = start + float(s.cost.failed_batch_share)
            segments.append((start, end, "#595959", "Failed-batch share"))
        bars.append(Bar(s.name, segments))
    currency = view.scenarios[0].cost.currency if view.scenarios else "EUR"
    stacked = {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": c.label,
                "y": [s.name for s in view.scenarios],
                "x": [float(s.cost.amount(c)) for s in view.scenarios],
            }
            for c in Category
        ]
        + [
            {
                "type": "bar",
                "orientation": "h",
                "name": "Failed-batch share",
                "y": [s.name for s in view.scenarios],
                "x": [float(s.cost.failed_batch_share) for s in view.scenarios],
            }
        ],
        "layout": {
            "title": {"text": "Cost per released batch, by scenario"},
            "barmode": "stack",
            "xaxis": {"title": {"text": currency}},
            "shapes": [
                {"type": "line", "xref": "x", "x0": v, "x1": v, "yref": "paper", "y0": 0,
                 "y1": 1, "line": {"dash": "dash", "width": 1.5, "color": "#1a1a1a"}}
                for _, v in lines
            ],
            "annotations": [
                {"xref": "x", "x": v, "yref": "paper", "y": 1 - 0.07 * (i % 5),
                 "text": label, "showarrow": False, "xanchor": "left", "font": {"size": 10}}
                for i, (label, v) in enumerate(lines)
            ],
            "legend": {"orientation": "h"},
            "margin": {"t": 48, "r": 16, "b": 56, "l": 160},
        },
    }  # fmt: skip
    charts = [
        bars_chart(
            "cost-scenarios",
            "Cost per released batch, by scenario",
            bars,
            currency,
            lines,
            stacked,
        )
    ]
    if view.tornado and view.scenarios:
        base = float(view.scenarios[0].cost.per_released_batch)
        tornado_bars = [
            Bar(
                b.driver,
                [
                    (base, float(b.low), "#1f4e99", "at -20 %"),
                    (base, float(b.high), "#b42318", "at +20 %"),
                ],
            )
            for b in view.tornado
        ]
        figure = {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": name,
                    "y": [b.driver for b in reversed(view.tornado)],
                    "x": [float(getattr(b, side)) - base for b in reversed(view.tornado)],
                    "base": base,
                }
                for name, side in (("Driver at -20 %", "low"), ("Driver at +20 %", "high"))
            ],
            "layout": {
                "title": {"text": "Sensitivity of the base scenario (tornado)"},
                "barmode": "overlay",
                "xaxis": {"title": {"text": f"{currency} per released batch"}},
                "legend": {"orientation": "h"},
                "margin": {"t": 48, "r": 16, "b": 56, "l": 160},
            },
        }
        charts.append(
            bars_chart(
                "cost-tornado",
                "Sensitivity of the base scenario (tornado)",
                tornado_bars,
                f"{currency} per released batch",
                [("Base", base)],
                figure,
            )
        )
    return charts


def money(value: Decimal) -> str:
    """Money with thousands separators and cents."""
    return f"{value:,.2f}"
