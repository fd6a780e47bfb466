"""In a real browser, keyboard only (gloved hands and a scanner): an operator collects a grade C
session's plates by scanning their labels, and the laboratory reads them; a plate over the
action limit shows its deviation at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from atmpchain.accounts import sessions
from atmpchain.cleanrooms import queries as cleanroom_queries
from atmpchain.cleanrooms import suite
from atmpchain.cleanrooms.sessions import StepAt, record_step_in
from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.demo import DEMO_PASSWORD
from atmpchain.environmental_monitoring import plan
from atmpchain.uow import UnitOfWork

pytestmark = pytest.mark.browser


def _seed_session(tmp_path: Path) -> list[str]:
    """The suite (if the demo has none), a grade C sampling point and an open session's plates,
    written into the live server's database."""
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    db = Database(url)
    try:
        uow = UnitOfWork(db, channel="cli", settings=Settings(database_url=url))
        qa = sessions.login(uow, username="qa", password=DEMO_PASSWORD).actor
        operator = sessions.login(uow, username="operator", password=DEMO_PASSWORD).actor
        with db.read_session() as session:
            installed = cleanroom_queries.room(session, "CR-C1") is not None
        if not installed:
            suite.install_suite(
                uow, actor=qa, password=DEMO_PASSWORD, qualified_on=uow.clock.now().date()
            )
        plan.create_location(
            uow,
            actor=qa,
            code="E2E-C1",
            name="Grade C bench (browser test)",
            room_code="CR-C1",
            sample_types=["active_air", "settle_plate"],
        )
        with uow:
            record_step_in(
                uow,
                actor=operator,
                location="CR-C1",
                step=StepAt("E2E-0001", "S1", "C", "E2E-PATIENT", None, operator.user_id, "Otto"),
                on=uow.clock.now().date(),
            )
            uow.commit()
        with db.read_session() as session:
            session_id = next(
                s.id
                for s in cleanroom_queries.open_sessions(session)
                if s.room_code == "CR-C1" and "E2E-0001" in s.batch_numbers
            )
        planned = plan.plan_session_samples(uow, actor=operator, session_id=session_id)
        # The demo's own EM plan of CR-C1 plans its samples too: this test reads its own two.
        mine = [p for p in planned if p.location_code == "E2E-C1"]
        return [p.code for p in sorted(mine, key=lambda p: p.sample_type.value)]
    finally:
        db.dispose()


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("who")).to_be_visible()


def test_collect_and_read_plates_by_keyboard_only(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    air, settle = _seed_session(tmp_path)
    _login(page, live_server, "operator")
    page.goto(f"{live_server}/em/collect")
    for code in (air, settle):
        # The scan field has the focus on arrival: a scanner types the code and Enter.
        expect(page.locator("#em-code")).to_be_focused()
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("collected")).to_contain_text(f"Sample {code} collected")
    page.keyboard.type(air)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("collect-error")).to_contain_text("already collected")

    page.context.clear_cookies()
    _login(page, live_server, "qc")
    page.goto(f"{live_server}/em/plates")
    expect(page.locator("#plate-code")).to_be_focused()
    page.keyboard.type(air)
    page.keyboard.press("Tab")
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("plate-outcome")).to_contain_text(f"Plate {air} recorded: within")

    expect(page.locator("#plate-code")).to_be_focused()
    page.keyboard.type(settle)
    page.keyboard.press("Tab")
    page.keyboard.type("61")
    page.keyboard.press("Tab")
    page.keyboard.type("Bacillus cereus")
    page.keyboard.press("Enter")
    outcome = page.get_by_test_id("plate-outcome")
    expect(outcome).to_contain_text("action")
    expect(outcome).to_contain_text("DEV-")
    expect(outcome).to_contain_text("organism Bacillus cereus")
