"""In a real browser, under the strict CSP: a storage unit's temperature chart drawn by Plotly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect
from sqlalchemy import select

from atmpchain.accounts.common import actor_of
from atmpchain.accounts.models import User
from atmpchain.coldchain.domain import Reading, ReadingSource
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_DEVICE, DEMO_PASSWORD
from atmpchain.uow import UnitOfWork

pytestmark = pytest.mark.browser

SENSOR = "LN2A-T1"


@pytest.fixture
def ln2a_readings(live_server: str, tmp_path: Path) -> str:
    """Three hours of LN2A readings every 5 minutes, with 30 minutes above -150 °C."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}", facility_fin="A9999")
    db = Database(settings.database_url)
    uow = UnitOfWork(db, channel="cli", settings=settings)
    try:
        with db.read_session() as session:
            users = {
                u.username: actor_of(u)
                for u in session.execute(select(User).where(User.username.in_(["qa", DEMO_DEVICE])))
                .scalars()
                .all()
            }
        register_sensor(
            uow,
            actor=users["qa"],
            code=SENSOR,
            name="LN2 tank A probe",
            storage_unit="LN2A",
            device=DEMO_DEVICE,
            grace_seconds=300,
        )
        now = datetime.now(UTC).replace(microsecond=0)
        readings = []
        for i in range(36):
            at = now - timedelta(hours=3) + i * timedelta(minutes=5)
            warm = 20 <= i < 26  # 30 minutes out of range, then back
            readings.append(Reading(SENSOR, at, Decimal("-140.5" if warm else "-185.2"), i))
        store_readings(uow, actor=users[DEMO_DEVICE], source=ReadingSource.MQTT, readings=readings)
    finally:
        db.dispose()
    return live_server


def test_the_temperature_chart_renders_under_the_csp(page: Page, ln2a_readings: str) -> None:
    base = ln2a_readings
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico on its own; we have none, which is no problem.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/login")
    page.locator("#username").fill("qa")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()

    page.goto(f"{base}/custody/storage/LN2A")
    page.get_by_role("link", name="Temperature chart").click()
    expect(page).to_have_url(f"{base}/coldchain/units/LN2A/temperatures")
    expect(page.get_by_test_id("excursion-count")).to_contain_text("1")
    expect(page.get_by_test_id("latest-reading")).to_contain_text("-185.2")

    chart = page.get_by_test_id("temperature-chart")
    expect(chart).to_have_class("chart js-plotly-plot")
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".scatterlayer .trace")).to_have_count(1)
    # The two limits (lines) and the excursion (a shaded rectangle) are drawn as shapes.
    expect(chart.locator(".shapelayer path")).to_have_count(3)
    expect(chart.locator(".legendtext").first).to_contain_text(SENSOR)
    # Hovering the latest readings (right end) shows a value: interactive, not a picture.
    plot_area = chart.locator(".nsewdrag").first
    box = plot_area.bounding_box()
    assert box is not None
    plot_area.hover(position={"x": box["width"] - 3, "y": box["height"] / 2})
    expect(chart.locator(".hoverlayer .hovertext").first).to_be_visible()
    assert problems == [], problems


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 900}, {"width": 1024, "height": 768}], ids=str
)
def test_without_javascript_the_chart_is_drawn_by_the_server(
    browser: Browser, ln2a_readings: str, viewport: ViewportSize
) -> None:
    context = browser.new_context(viewport=viewport, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{ln2a_readings}/login")
        page.locator("#username").fill("qa")
        page.locator("#password").fill(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("who")).to_be_visible()
        page.goto(f"{ln2a_readings}/coldchain/units/LN2A/temperatures")
        svg = page.get_by_test_id("temperature-svg")
        expect(svg).to_be_visible()
        expect(svg.locator("polyline")).to_have_count(1)
        expect(svg.locator('rect[data-kind="excursion"]')).to_have_count(1)
        expect(page.get_by_test_id("excursion-table")).to_be_visible()
        box = svg.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"]
    finally:
        context.close()
