"""Cold chain in the browser: the excursion list with QA's signing form, alarms on the dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.coldchain import conftest as coldchain_fixtures
from tests.integration.coldchain.conftest import Fridge, reading
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Actor, Role
from atmpchain.clock import FixedClock
from atmpchain.coldchain.domain import ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.queries import downsample
from atmpchain.uow import UnitOfWork

fridge = coldchain_fixtures.fridge
device_actor = coldchain_fixtures.device_actor
PASSWORD = "Sterile-Field-2026!"
MINUTE = timedelta(minutes=1)


def _excursion(uow: UnitOfWork, actor: Actor, clock: FixedClock) -> None:
    start = clock.now() + MINUTE
    clock.advance(timedelta(hours=1))
    temps = ["5", "9", "10", "11.5", "10", "6"]
    batch = [reading("F1-T", start + i * 4 * MINUTE, t) for i, t in enumerate(temps)]
    store_readings(uow, actor=actor, source=ReadingSource.MQTT, readings=batch)


def test_qa_signs_an_impact_assessment_on_the_excursion_page(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/excursions")
    assert page.status_code == 200
    assert fridge.product_din in page.text and "pending QA assessment" in page.text
    assert 'data-testid="assess-form"' in page.text
    action = "/coldchain/excursions/1/products/1/assess"
    assert action in page.text
    form = {"impact": "quarantine", "rationale": "peak above 8 °C", "csrf_token": ""}
    form["csrf_token"] = csrf_from(page.text)
    wrong = client.post(action, data={**form, "password": "not-my-password"})
    assert wrong.status_code == 422 and "password" in wrong.text.lower()
    signed = client.post(action, data={**form, "password": PASSWORD})
    assert signed.status_code == 303, signed.text
    after = client.get(signed.headers["location"])
    assert "Impact assessment signed" in after.text
    assert "quarantine" in after.text and "peak above 8 °C" in after.text


def test_the_impact_has_no_default_and_a_missing_choice_is_refused_keeping_the_rationale(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/excursions")
    select = re.search(r'<select id="impact-1-1".*?</select>', page.text, re.S)
    assert select is not None
    # A GMP decision is chosen by the person: the only pre-selected option is the empty one.
    assert re.findall(r'<option value="([^"]*)" selected', select.group(0)) == [""]
    refused = client.post(
        "/coldchain/excursions/1/products/1/assess",
        data={
            "rationale": "checked the log",
            "password": PASSWORD,
            "csrf_token": csrf_from(page.text),
        },
    )
    assert refused.status_code == 422
    assert "<strong>impact</strong>" in refused.text and "choose the impact" in refused.text
    assert "checked the log</textarea>" in refused.text


def test_an_operator_sees_excursions_and_alarms_but_no_signing_form(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "otto", PASSWORD)
    page = client.get("/coldchain/excursions")
    assert page.status_code == 200 and "Excursion #1" in page.text
    assert 'data-testid="assess-form"' not in page.text
    assert (
        client.post(
            "/coldchain/excursions/1/products/1/assess",
            data={"csrf_token": csrf_from(client.get("/account/password").text)},
        ).status_code
        == 403
    )
    dashboard = client.get("/")
    assert 'data-testid="alarms"' in dashboard.text
    assert "F1-T" in dashboard.text and 'href="/coldchain/excursions"' in dashboard.text


def _chart_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert match, "the chart data is in the page"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_the_unit_temperature_chart_shows_readings_limits_and_excursions(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/units/FRIDGE1/temperatures?hours=24")
    assert page.status_code == 200, page.text
    data = _chart_data(page.text)
    assert (data["low"], data["high"]) == (2.0, 8.0)
    assert [s["sensor"] for s in data["series"]] == ["F1-T"]
    assert data["series"][0]["y"] == [5.0, 9.0, 10.0, 11.5, 10.0, 6.0]
    (excursion,) = data["excursions"]
    assert excursion["direction"] == "above" and excursion["peak"] == 11.5
    assert not excursion["ongoing"] and excursion["start"] < excursion["end"]
    # Data, not code: no inline script, our own chart script, Plotly from the package.
    assert 'src="/static/temperature-chart.js' in page.text
    assert 'src="/assets/plotly.min.js?v=' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    summary = page.text[page.text.index('data-testid="temperature-summary"') :]
    assert "11.5" in summary and "6.0" in summary
    assert 'data-testid="excursion-count">1' in page.text
    # A window without readings still renders, and the links lead to the chart.
    assert client.get("/coldchain/units/FRIDGE1/temperatures?hours=0").status_code == 422
    assert client.get("/coldchain/units/NOPE/temperatures").status_code == 404
    assert (
        'href="/coldchain/units/FRIDGE1/temperatures"' in client.get("/coldchain/excursions").text
    )
    assert (
        'href="/coldchain/units/FRIDGE1/temperatures"'
        in client.get("/custody/storage/FRIDGE1").text
    )


def test_the_plotly_asset_is_served_from_the_installed_package(
    client: TestClient, fridge: Fridge
) -> None:
    assert client.get("/assets/plotly.min.js", follow_redirects=False).status_code == 303
    web_login(client, "otto", PASSWORD)
    asset = client.get("/assets/plotly.min.js?v=1")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "max-age=31536000" in asset.headers["cache-control"]
    assert "Plotly" in asset.text[:5000] and len(asset.content) > 1_000_000
    script = client.get("/static/temperature-chart.js")
    assert script.status_code == 200 and "Plotly.newPlot" in script.text


def test_an_operator_sees_the_chart_a_sponsor_may_not_and_an_outsider_is_sent_to_login(
    client: TestClient,
    uow: UnitOfWork,
    fridge: Fridge,
    device_actor: Actor,
    clock: FixedClock,
    make_persona: Callable[..., Persona],
) -> None:
    _excursion(uow, device_actor, clock)
    path = "/coldchain/units/FRIDGE1/temperatures"
    outsider = client.get(path, follow_redirects=False)
    assert outsider.status_code == 303 and outsider.headers["location"].startswith("/login")
    sponsor = make_persona(Role.SPONSOR_GUEST, username="sven")
    web_login(client, "sven", sponsor.password)
    assert client.get(path).status_code == 403
    client.cookies.clear()
    web_login(client, "otto", PASSWORD)
    page = client.get(path)
    assert page.status_code == 200 and len(_chart_data(page.text)["excursions"]) == 1


def test_downsampling_keeps_every_peak() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(start + i * MINUTE, Decimal(5)) for i in range(20_000)]
    points[12_345] = (points[12_345][0], Decimal("11.2"))
    points[777] = (points[777][0], Decimal("-1.5"))
    kept = downsample(points, 5000)
    assert len(kept) <= 5000
    assert Decimal("11.2") in [v for _, v in kept] and Decimal("-1.5") in [v for _, v in kept]
    assert [t for t, _ in kept] == sorted(t for t, _ in kept)
    assert downsample(points[:10], 5000) == tuple(points[:10])


def test_without_script_the_chart_is_an_svg_with_the_range_and_excursions_marked(
    client: TestClient, uow: UnitOfWork, fridge: Fridge, device_actor: Actor, clock: FixedClock
) -> None:
    _excursion(uow, device_actor, clock)
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/units/FRIDGE1/temperatures?hours=24").text
    fallback = re.search(r"<noscript>(.*?)</noscript>", page, re.S)
    assert fallback, "the chart has a fallback for browsers without script"
    svg_text = re.search(r"<svg.*?</svg>", fallback.group(1), re.S)
    assert svg_text
    svg = ElementTree.fromstring(svg_text.group(0))  # noqa: S314 - our own page
    ns = "{http://www.w3.org/2000/svg}"
    (line,) = svg.iter(f"{ns}polyline")
    assert line.get("data-sensor") == "F1-T" and len(line.get("points", "").split()) == 6
    kinds = [r.get("data-kind") for r in svg.iter(f"{ns}rect")]
    assert kinds.count("range") == 1 and kinds.count("excursion") == 1
    assert "peak 11.5 °C" in svg_text.group(0)
    assert svg.get("role") == "img" and svg.find(f"{ns}title") is not None
    assert "#1" in fallback.group(1) and 'data-testid="excursion-table"' in fallback.group(1)
    assert "style=" not in svg_text.group(0)  # the content security policy forbids inline style


def test_the_svg_chart_of_a_unit_without_readings_still_draws_its_range(
    client: TestClient, fridge: Fridge
) -> None:
    web_login(client, "quinn", PASSWORD)
    page = client.get("/coldchain/units/FRIDGE1/temperatures?hours=6").text
    assert 'data-kind="range"' in page and "<polyline" not in page
