"""The server-drawn trend chart: every exceedance is drawn, within-limit results are thinned to
what the chart can show, and the limits are labelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atmpchain.environmental_monitoring.charts import ChartPoint, trend_svg
from atmpchain.environmental_monitoring.domain import Level

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_year_is_thinned_but_every_exceedance_is_drawn() -> None:
    points = [
        ChartPoint(T0 + timedelta(hours=3 * i), 5 if i % 500 else 50, Level.WITHIN)
        for i in range(3000)
    ]
    points = [
        ChartPoint(p.taken_at, p.value, Level.ACTION if p.value == 50 else Level.WITHIN)
        for p in points
    ]
    svg = trend_svg(
        "B1 settle", "CFU/4 h", points, alert=3, action=5, start=T0, end=T0 + timedelta(days=380)
    )
    assert svg.count('r="5"') == 6  # the six action results, each with its own title
    assert svg.count('r="2.5"') == 1000 - 6
    assert "alert 3" in svg and "action 5" in svg
    assert "3000 results" in svg and "6 above a limit" in svg


def test_text_in_the_title_is_escaped() -> None:
    svg = trend_svg("<b>&", "u", [], alert=None, action=None, start=T0, end=T0 + timedelta(days=1))
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    assert "alert limit not set" in svg
